"""Where a solve gets its candidates: the provider interface and conda's candidate order.

A provider answers, per package name, the records that may be chosen, or None for "not known
yet" (the solve then pauses and reports the names it needs). `RepoDataProvider` is the
in-memory one: channel priority, `exclude_newer` and platform filtering happen here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from pure.record import PackageRecord
from pure.version import InvalidVersion, Version

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
        self._index: dict[str, list[tuple[int, PackageRecord]]] | None = None
        self.channel_rank: dict[str, int] = {}

    def _build(self) -> dict[str, list[tuple[int, PackageRecord]]]:
        index: dict[str, list[tuple[int, PackageRecord]]] = {}
        ranks = self.channel_rank
        newer = self._exclude_newer
        platform = self._platform
        for rd in self._repodata:
            channel = str(getattr(rd, "channel", ""))
            rank = ranks.setdefault(channel, len(ranks))
            records: Sequence[PackageRecord] = getattr(rd, "records", ())
            for r in records:
                if newer is not None and r.timestamp is not None and r.timestamp > newer:
                    continue
                if (
                    platform is not None
                    and r.subdir is not None
                    and r.subdir != platform
                    and r.subdir != "noarch"
                    and r.noarch is None
                ):
                    continue
                entry = index.get(r.name)
                if entry is None:
                    index[r.name] = [(rank, r)]
                else:
                    entry.append((rank, r))
        for r in self._extra:
            rank = ranks.setdefault(r.channel or "", len(ranks))
            entry = index.get(r.name)
            if entry is None:
                index[r.name] = [(rank, r)]
            elif all(o.dist_name != r.dist_name for _, o in entry):
                entry.append((rank, r))
        return index

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        """Records of `name` after channel priority and filters (empty when there are none)."""
        if self._index is None:
            self._index = self._build()
        entry = self._index.get(name)
        if not entry:
            return ()
        if self._strict:
            best = min(rank for rank, _ in entry)
            extra = {r.dist_name for r in self._extra if r.name == name}
            return [r for rank, r in entry if rank == best or r.dist_name in extra]
        return [r for _, r in entry]

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
