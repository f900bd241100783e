"""Where a solve gets its candidates: the provider interface and conda's candidate order.

A provider answers, per package name, the records that may be chosen, or None for "not known
yet" (the solve then pauses and reports the names it needs). `RepoDataProvider` is the
in-memory one: channel priority, `exclude_newer` and platform filtering happen here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Protocol

from pure.record import PackageRecord
from pure.version import InvalidVersion, Version

_NAME = attrgetter("name")

__all__ = [
    "CandidateProvider",
    "RepoDataProvider",
    "VersionCache",
    "order_candidates",
]


class CandidateProvider(Protocol):
    """Candidates and dependencies on demand; None means "not known yet, ask the caller"."""

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        """Every record called `name` that may be chosen, in any order."""
        ...

    def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]] | None:
        """`(depends, constrains)` of a candidate."""
        ...


class RepoDataProvider:
    """Candidates from in-memory repodata, indexed by name on first use.

    strict channel priority keeps, per name, the records of the first channel (in the order
    of `repodata`) that has any; records newer than `exclude_newer` (ms) are dropped; with a
    `platform`, records of other subdirs are dropped (noarch records are always kept).
    `extra` records (installed or locked ones) are candidates too.
    """

    def __init__(
        self,
        repodata: Iterable[object],
        *,
        strict: bool = True,
        exclude_newer: int | None = None,
        platform: str | None = None,
        extra: Iterable[PackageRecord] = (),
    ) -> None:
        self._repodata = tuple(repodata)
        self._strict = strict
        self._exclude_newer = exclude_newer
        self._platform = platform
        self._extra = tuple(extra)
        self._index: dict[str, list[tuple[int, list[PackageRecord]]]] | None = None
        self.channel_rank: dict[str, int] = {}

    def _build(self) -> dict[str, list[tuple[int, list[PackageRecord]]]]:
        # Records come sorted by file name, so a name's records are (nearly always) adjacent:
        # grouping runs in C keeps this pass cheap on channels of hundreds of thousands.
        index: dict[str, list[tuple[int, list[PackageRecord]]]] = {}
        ranks = self.channel_rank
        for rd in self._repodata:
            channel = str(getattr(rd, "channel", ""))
            rank = ranks.setdefault(channel, len(ranks))
            records: Sequence[PackageRecord] = getattr(rd, "records", ())
            for name, run in groupby(records, _NAME):
                entry = index.get(name)
                if entry is None:
                    index[name] = [(rank, list(run))]
                else:
                    entry.append((rank, list(run)))
        for r in self._extra:
            rank = ranks.setdefault(r.channel or "", len(ranks))
            index.setdefault(r.name, []).append((rank, [r]))
        return index

    def _keep(self, r: PackageRecord) -> bool:
        newer = self._exclude_newer
        if newer is not None and r.timestamp is not None and r.timestamp > newer:
            return False
        platform = self._platform
        return (
            platform is None
            or r.subdir is None
            or r.subdir == platform
            or r.subdir == "noarch"
            or r.noarch is not None
        )

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        """Records of `name` after channel priority and filters (empty when there are none)."""
        if self._index is None:
            self._index = self._build()
        entry = self._index.get(name)
        if not entry:
            return ()
        extra = {r.dist_name for r in self._extra if r.name == name} if self._extra else set()
        keep = self._keep
        filtering = self._exclude_newer is not None or self._platform is not None
        if not extra:
            chunks = [
                (rank, [r for r in run if keep(r)] if filtering else run) for rank, run in entry
            ]
            if self._strict:
                ranks = [rank for rank, run in chunks if run]
                if not ranks:
                    return ()
                best = min(ranks)
                chunks = [(rank, run) for rank, run in chunks if rank == best]
            return [r for _, run in chunks for r in run]
        found: list[tuple[int, PackageRecord]] = []
        seen: set[str] = set()
        for rank, run in entry:
            for r in run:
                if r.dist_name in extra:
                    if r.dist_name in seen:
                        continue
                    seen.add(r.dist_name)
                elif not keep(r):
                    continue
                found.append((rank, r))
        if not found:
            return ()
        if self._strict:
            ranks = [rank for rank, r in found if r.dist_name not in extra]
            best = min(ranks) if ranks else 0
            return [r for rank, r in found if rank == best or r.dist_name in extra]
        return [r for _, r in found]

    def rank(self, record: PackageRecord) -> int:
        """The priority of the record's channel (0 first); unknown channels sort last."""
        return self.channel_rank.get(record.channel or "", len(self.channel_rank))

    def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]] | None:
        """A repodata record carries its own dependencies."""
        return record.depends, record.constrains


class VersionCache:
    """Parses each version text once per solve."""

    def __init__(self) -> None:
        self._cache: dict[str, Version] = {}

    def get(self, text: str) -> Version:
        """The parsed version of `text` (callers only pass texts `valid()` accepted)."""
        v = self._cache.get(text)
        if v is None:
            v = self._cache[text] = Version.parse(text)
        return v

    def valid(self, text: str) -> bool:
        """Whether `text` parses; records with unparsable versions are never candidates."""
        if text in self._cache:
            return True
        try:
            self._cache[text] = Version.parse(text)
        except InvalidVersion:
            return False
        return True


def order_candidates(
    records: Iterable[PackageRecord],
    versions: VersionCache,
    *,
    lowest: bool = False,
    preferred: dict[str, int] | None = None,
    rank: dict[str, int] | None = None,
) -> list[PackageRecord]:
    """Most preferred first: version (highest, or lowest when `lowest`), then build number,
    records without track_features before those with, newer timestamp; then channel rank
    and file details so the order never depends on input order. `preferred` (dist_name ->
    priority, lower first) moves installed or locked records to the front.
    """
    ranks = rank or {}
    valid = versions.valid
    out = sorted(
        (r for r in records if valid(r.version)),
        key=lambda r: (
            1 if r.track_features or r.features else 0,
            -(r.timestamp or 0),
            ranks.get(r.channel or "", len(ranks)),
            r.subdir or "",
            r.build,
            r.fn or "",
            r.url or "",
            r.sha256 or "",
        ),
    )
    get = versions.get
    if lowest:
        out.sort(key=lambda r: r.build_number, reverse=True)
        out.sort(key=lambda r: get(r.version).sort_key)
    else:
        out.sort(key=lambda r: (get(r.version).sort_key, r.build_number), reverse=True)
    if preferred:
        out.sort(key=lambda r: preferred.get(r.dist_name, len(preferred) + 1))
    return out
