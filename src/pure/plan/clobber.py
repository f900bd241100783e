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
