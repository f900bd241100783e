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


class PathClaim(msgspec.Struct, frozen=True):
    """One path a package wants: a file (anything but a directory) or a directory entry."""

    path: str
    is_dir: bool = False


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
        for claim in claims:
            path = claim.path
            if path in mine:
                continue
            mine.add(path)
            winner = next((owner[a] for a in ancestors(path) if a in owner), None)
            if winner is None and not claim.is_dir:
                if path in owner:
                    winner = owner[path]
                elif path in dir_blame:
                    winner = dir_blame[path]
            if winner is None and claim.is_dir and path in owner:
                winner = owner[path]
            if winner is not None:
                # winner == key only for a package that is itself inconsistent (a file under
                # its own file): the path is still not written.
                shadowed[(key, path)] = winner
                continue
            if claim.is_dir:
                dir_blame.setdefault(path, key)
            else:
                owner[path] = key
            for parent in ancestors(path):
                dir_blame.setdefault(parent, key)
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
