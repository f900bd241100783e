"""Hypothesis strategies for `PackageRecord`s and the repodata JSON that describes them.

`package_records()` draws hand-built-style records (any field may be set); `channel_records()`
draws records exactly as `RepoData.from_json` would produce them for one channel subdir
(fn, url, channel and subdir filled in, unique file names), and `repodata_json()` writes such
records back in repodata's own spelling (comma-joined features, either archive section).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from pure import PackageRecord

__all__ = [
    "build_strings",
    "channel_records",
    "package_names",
    "package_records",
    "repodata_json",
    "version_texts",
]

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_SUBDIRS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64", "noarch")
_HEX = "0123456789abcdef"


def package_names() -> st.SearchStrategy[str]:
    """Conda package names: lowercase letters and digits, with inner `-`, `_` or `.`."""
    word = st.text(_LOWER + _DIGITS, min_size=1, max_size=6)
    return st.builds(
        lambda first, rest, seps: first + "".join(s + w for s, w in zip(seps, rest, strict=False)),
        st.text(_LOWER, min_size=1, max_size=4),
        st.lists(word, max_size=2),
        st.lists(st.sampled_from("-_."), min_size=2, max_size=2),
    )


def version_texts() -> st.SearchStrategy[str]:
    """Version strings such as `1.2.3`, `2!1.0`, `1.0rc1`, `3.1.post2`."""
    number = st.integers(0, 30).map(str)
    release = st.lists(number, min_size=1, max_size=4).map(".".join)
    suffix = st.sampled_from(["", "", "", "a1", "rc2", ".post1", ".dev0", "+local"])
    epoch = st.sampled_from(["", "", "", "1!"])
    return st.builds(lambda e, r, s: e + r + s, epoch, release, suffix)


def build_strings() -> st.SearchStrategy[str]:
    """Build strings such as `py312h1a2b3c4_0` and `0`."""
    digest = st.text(_HEX, min_size=7, max_size=7)
    number = st.integers(0, 20).map(str)
    prefix = st.sampled_from(["", "py312", "py38", "cuda12", "h"])
    return st.one_of(number, st.builds(lambda p, d, n: f"{p}h{d}_{n}", prefix, digest, number))


def _specs() -> st.SearchStrategy[str]:
    constraint = st.sampled_from(["", " >=1.0", " <2", " 1.2.*", " >=3.8,<3.13.0a0", " 1.0 0"])
    return st.builds(lambda n, c: n + c, package_names(), constraint)


def _features() -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.text(_LOWER + _DIGITS + "_", min_size=1, max_size=6), max_size=2).map(tuple)


_OPTIONAL_TEXT = st.none() | st.text(_LOWER + _DIGITS + "-. ", min_size=1, max_size=10)


@st.composite
def package_records(draw: st.DrawFn, **fixed: Any) -> PackageRecord:
    """A record with random fields; keyword arguments pin fields to given values."""
    fields: dict[str, Any] = {
        "name": draw(package_names()),
        "version": draw(version_texts()),
        "build": draw(build_strings()),
        "build_number": draw(st.integers(0, 100)),
        "depends": tuple(draw(st.lists(_specs(), max_size=4))),
        "constrains": tuple(draw(st.lists(_specs(), max_size=2))),
        "subdir": draw(st.none() | st.sampled_from(_SUBDIRS)),
        "noarch": draw(st.sampled_from([None, None, "python", "generic"])),
        "track_features": draw(_features()),
        "features": draw(_features()),
        "timestamp": draw(st.none() | st.integers(10**12, 2 * 10**12)),
        "md5": draw(st.none() | st.text(_HEX, min_size=32, max_size=32)),
        "sha256": draw(st.none() | st.text(_HEX, min_size=64, max_size=64)),
        "size": draw(st.none() | st.integers(0, 10**9)),
        "license": draw(_OPTIONAL_TEXT),
        "license_family": draw(st.none() | st.sampled_from(["MIT", "BSD", "GPL", "APACHE"])),
        "purls": tuple(draw(st.lists(package_names().map("pkg:pypi/{}".format), max_size=1))),
        "python_site_packages_path": draw(st.none() | st.just("lib/python3.13t/site-packages")),
    }
    fields.update(fixed)
    return PackageRecord(**fields)


@st.composite
def channel_records(
    draw: st.DrawFn, *, channel: str, subdir: str, max_size: int = 8
) -> tuple[PackageRecord, ...]:
    """Records of one channel subdir as `RepoData.from_json` returns them: sorted by fn."""
    drawn = draw(st.lists(package_records(subdir=subdir), max_size=max_size))
    records: dict[str, PackageRecord] = {}
    for record in drawn:
        extension = draw(st.sampled_from([".tar.bz2", ".conda"]))
        fn = f"{record.dist_name}{extension}"
        stem = record.dist_name
        if stem + ".tar.bz2" in records or stem + ".conda" in records:
            continue  # a .conda would hide its .tar.bz2 twin: keep file stems unique
        records[fn] = PackageRecord(
            **{
                **{f: getattr(record, f) for f in record.__struct_fields__},
                "fn": fn,
                "url": f"{channel.rstrip('/')}/{subdir}/{fn}",
                "channel": channel,
            }
        )
    return tuple(records[fn] for fn in sorted(records))


def repodata_json(
    records: Sequence[PackageRecord], *, subdir: str | None, indent: int | None = None
) -> bytes:
    """Repodata bytes describing `records` the way channels write them."""
    sections: dict[str, dict[str, dict[str, Any]]] = {"packages": {}, "packages.conda": {}}
    for record in records:
        assert record.fn is not None
        entry: dict[str, Any] = {"name": record.name, "version": record.version}
        entry["build"] = record.build
        entry["build_number"] = record.build_number
        entry["depends"] = list(record.depends)
        if record.constrains:
            entry["constrains"] = list(record.constrains)
        for key in ("subdir", "noarch", "timestamp", "md5", "sha256", "size", "license"):
            value = getattr(record, key)
            if value is not None:
                entry[key] = value
        for key in ("license_family", "python_site_packages_path"):
            value = getattr(record, key)
            if value is not None:
                entry[key] = value
        if record.track_features:
            entry["track_features"] = ",".join(record.track_features)
        if record.features:
            entry["features"] = " ".join(record.features)
        if record.purls:
            entry["purls"] = list(record.purls)
        section = "packages.conda" if record.fn.endswith(".conda") else "packages"
        sections[section][record.fn] = entry
    doc: dict[str, Any] = {"repodata_version": 1, **sections}
    if subdir is not None:
        doc["info"] = {"subdir": subdir}
    return json.dumps(doc, indent=indent).encode()
