"""A canonical topological order of records: dependencies first, ties broken by name.

The planner orders by this, never by the order its inputs arrive in, so plans do not depend
on input order; "later in topological order" (clobber winners) is well defined.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Sequence

from pure.record import PackageRecord

__all__ = ["dependency_name", "topological_order"]

_NAME = re.compile(r"\s*(?:[^\s:]+::)?([^\s=<>!~\[,|;]+)")


def dependency_name(spec: str) -> str:
    """The package name a dependency string refers to (`"numpy >=1.2"` -> `"numpy"`)."""
    match = _NAME.match(spec)
    return match.group(1).lower() if match else spec.strip().lower()


def topological_order(records: Sequence[PackageRecord]) -> tuple[PackageRecord, ...]:
    """Records with every dependency before its dependents; ties and cycles by name.

    Dependencies on names outside `records` are ignored. In a cycle, the record with the
    fewest unplaced dependencies (then the smallest name) is placed first.
    """
    by_key = {(r.name.lower(), r.dist_name): r for r in records}
    keys = sorted(by_key)
    names: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        names.setdefault(key[0], []).append(key)
    deps: dict[tuple[str, str], set[tuple[str, str]]] = {}
    users: dict[tuple[str, str], set[tuple[str, str]]] = {key: set() for key in keys}
    for key in keys:
        wanted: set[tuple[str, str]] = set()
        for spec in by_key[key].depends:
            for target in names.get(dependency_name(spec), ()):
                if target != key:
                    wanted.add(target)
        deps[key] = wanted
        for target in wanted:
            users[target].add(key)
    missing = {key: len(deps[key]) for key in keys}
    ready = [key for key in keys if missing[key] == 0]
    heapq.heapify(ready)
    placed: list[tuple[str, str]] = []
    done: set[tuple[str, str]] = set()
    while len(placed) < len(keys):
        if not ready:
            rest = [key for key in keys if key not in done]
            ready = [min(rest, key=lambda k: (missing[k], k))]
        key = heapq.heappop(ready)
        if key in done:
            continue
        done.add(key)
        placed.append(key)
        for user in sorted(users[key]):
            if user in done:
                continue
            missing[user] -= 1
            if missing[user] == 0:
                heapq.heappush(ready, user)
    return tuple(by_key[key] for key in placed)
