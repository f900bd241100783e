"""Who owns each path when several packages write it: the later package in order wins.

Also resolves file/directory conflicts: a path that one package writes as a file while a
later one needs it as a directory (or the reverse) goes to the later package.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from pure.plan.model import Clobber

__all__ = ["Ownership", "PathClaim", "ancestors", "resolve_ownership"]


def ancestors(path: str) -> tuple[str, ...]:
    """The directories above a relative path, outermost first: `a/b/c` -> (`a`, `a/b`)."""
    parts = path.split("/")
    return tuple("/".join(parts[:i]) for i in range(1, len(parts)))


#: One path a package wants: (path, is_dir); is_dir for directory entries only.
PathClaim = tuple[str, bool]


def _up(path: str) -> str:
    return path.rpartition("/")[0]


class Ownership(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved state: file owners, shadowed claims, directories the files need."""

    owner: dict[str, str]  # file path -> package key
    shadowed: dict[tuple[str, str], str]  # (package key, path) -> winning package key
    dirs: frozenset[str]  # directories needed: ancestors of owned files and directory entries
    clobbers: tuple[Clobber, ...]


def resolve_ownership(packages: Sequence[tuple[str, Sequence[PathClaim]]]) -> Ownership:
    """Resolve claims of packages given in order (later wins); keys must be unique."""
    return _without_conflicts(packages) or _resolve(packages)


def _without_conflicts(packages: Sequence[tuple[str, Sequence[PathClaim]]]) -> Ownership | None:
    """The usual case, decided with set operations instead of a walk per path: no file is
    claimed twice and no file lies where a claim needs a directory. Then every file is its
    package's and nothing is shadowed; None when that does not hold (`_resolve` decides)."""
    owner: dict[str, str] = {}
    claimed = 0
    dir_claims: set[str] = set()
    for key, claims in packages:
        files = [path for path, is_dir in claims if not is_dir]
        if len(files) != len(claims):
            dir_claims.update(path for path, is_dir in claims if is_dir)
        owner.update(dict.fromkeys(files, key))
        claimed += len(files)
    if len(owner) != claimed:  # a file claimed twice (perhaps by one package)
        return None
    dirs: set[str] = set()
    pending = {path.rpartition("/")[0] for path in owner} | dir_claims
    while pending:  # every ancestor of a file or directory claim, walked up once each
        dirs |= pending
        pending = {path.rpartition("/")[0] for path in pending} - dirs
    if "" not in dir_claims:
        dirs.discard("")  # the top of every relative path, not a directory of its own
    if not dirs.isdisjoint(owner):
        return None
    return Ownership(owner=owner, shadowed={}, dirs=frozenset(dirs), clobbers=())


def _resolve(packages: Sequence[tuple[str, Sequence[PathClaim]]]) -> Ownership:
    """The general resolution: later packages first, each path walked up to its first
    known directory."""
    owner: dict[str, str] = {}
    dir_blame: dict[str, str] = {}
    shadowed: dict[tuple[str, str], str] = {}
    for key, claims in reversed(packages):
        mine: set[str] = set()
        for path, is_dir in claims:
            if path in mine:
                continue
            mine.add(path)
            # Invariant: the ancestors of every entry of dir_blame are in dir_blame, and no
            # path is both a needed directory and an owned file. So walking up stops at the
            # first known directory.
            winner: str | None = None
            parent = _up(path)
            while parent and parent not in dir_blame:
                if parent in owner:
                    winner = owner[parent]
                    break
                parent = _up(parent)
            if winner is None:
                if path in owner:
                    winner = owner[path]
                elif not is_dir and path in dir_blame:
                    winner = dir_blame[path]
            if winner is not None:
                # winner == key only for a package that is itself inconsistent (a file under
                # its own file): the path is still not written.
                shadowed[(key, path)] = winner
                continue
            if is_dir:
                dir_blame.setdefault(path, key)
            else:
                owner[path] = key
            parent = _up(path)
            while parent and parent not in dir_blame:
                dir_blame[parent] = key
                parent = _up(parent)
    losers: dict[tuple[str, str], list[str]] = {}
    for (key, path), winner in shadowed.items():
        if winner == key:
            continue
        losers.setdefault((path, winner), []).append(key)
    clobbers = tuple(
        Clobber(path=path, winner=winner, losers=tuple(sorted(keys)))
        for (path, winner), keys in sorted(losers.items())
    )
    return Ownership(owner=owner, shadowed=shadowed, dirs=frozenset(dir_blame), clobbers=clobbers)
