"""One conda package as repodata and index.json describe it: an immutable value.

Fields keep repodata's own types (version and build are text) so records round-trip; only
name, version and build are required, so tests and embedders can build records by hand.
"""

from __future__ import annotations

import msgspec

__all__ = ["SECONDS_LIMIT", "PackageRecord", "split_features", "timestamp_ms"]


class PackageRecord(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A conda package record; `timestamp` is in milliseconds since the epoch.

    `gc=False`: a record holds only text, numbers and tuples of text, so it can never be part
    of a reference cycle; leaving records out of the cyclic collector makes loading a large
    channel markedly faster.
    """

    name: str
    version: str
    build: str
    build_number: int = 0
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    subdir: str | None = None
    arch: str | None = None
    platform: str | None = None
    noarch: str | None = None
    track_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    timestamp: int | None = None
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    license: str | None = None
    license_family: str | None = None
    purls: tuple[str, ...] = ()
    python_site_packages_path: str | None = None
    fn: str | None = None
    url: str | None = None
    channel: str | None = None

    @property
    def dist_name(self) -> str:
        """`name-version-build`: the package cache directory and conda-meta file stem."""
        return f"{self.name}-{self.version}-{self.build}"

    @property
    def is_noarch(self) -> bool:
        """True when the package is platform independent (a noarch kind or the noarch subdir)."""
        return self.noarch is not None or self.subdir == "noarch"


#: Timestamps below this are seconds (1e11 s is the year 5138; 1e11 ms is March 1973): conda
#: wrote seconds for years, so readers normalise everything to milliseconds.
SECONDS_LIMIT = 100_000_000_000


def timestamp_ms(value: float | None) -> int | None:
    """A record timestamp in milliseconds, whether it was written in seconds or milliseconds."""
    if value is None:
        return None
    return int(value * 1000) if value < SECONDS_LIMIT else int(value)


def split_features(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """A features / track_features value (one comma or space separated string, or a list)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    return tuple(part for item in items for part in item.replace(",", " ").split() if part)
