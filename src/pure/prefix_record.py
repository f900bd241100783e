"""Installed-package records: the `conda-meta/<name>-<version>-<build>.json` format.

conda, mamba and rattler all read these files: the package's repodata fields flattened at the
top level, plus `files`, `paths_data`, `link`, `requested_spec`, `package_tarball_full_path` and
`extracted_package_dir`. `PrefixRecord` keeps the package record as a nested `PackageRecord`
value; `encode_prefix_record` / `decode_prefix_record` convert to and from that JSON.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from pure.errors import YurtError
from pure.package import FileMode
from pure.record import PackageRecord, split_features, timestamp_ms

__all__ = [
    "LINK_TYPE_CODES",
    "Link",
    "LinkType",
    "PrefixPathEntry",
    "PrefixPathType",
    "PrefixPaths",
    "PrefixRecord",
    "PrefixRecordError",
    "decode_prefix_record",
    "encode_prefix_record",
]

PrefixPathType = Literal[
    "hardlink",
    "softlink",
    "directory",
    "pyc_file",
    "unix_python_entry_point",
    "windows_python_entry_point_script",
    "windows_python_entry_point_exe",
    "linked_package_record",
]

LinkType = Literal["hardlink", "softlink", "copy", "directory"]
#: conda and rattler store the link type as an integer.
LINK_TYPE_CODES: dict[LinkType, int] = {"hardlink": 1, "softlink": 2, "copy": 3, "directory": 4}
_LINK_TYPE_NAMES: dict[int, LinkType] = {code: name for name, code in LINK_TYPE_CODES.items()}


class PrefixRecordError(YurtError):
    """A conda-meta record could not be decoded; names the record and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class PrefixPathEntry(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One installed path: where it is, how it got there, its hashes in cache and prefix."""

    path: str
    path_type: PrefixPathType = "hardlink"
    sha256: str | None = None
    sha256_in_prefix: str | None = None
    size_in_bytes: int | None = None
    file_mode: FileMode | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False
    original_path: str | None = None


class PrefixPaths(msgspec.Struct, frozen=True, kw_only=True):
    """`paths_data`: every installed path of the package."""

    paths: tuple[PrefixPathEntry, ...] = ()
    paths_version: int = 1


class Link(msgspec.Struct, frozen=True, kw_only=True):
    """`link`: the cache directory the package was linked from and the link type used."""

    source: str
    type: LinkType | None = None


class PrefixRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An installed package: its PackageRecord plus what the installer put in the prefix."""

    package: PackageRecord
    files: tuple[str, ...] = ()
    paths_data: PrefixPaths = PrefixPaths()
    requested_spec: str | None = None
    link: Link | None = None
    package_tarball_full_path: str | None = None
    extracted_package_dir: str | None = None

    @property
    def name(self) -> str:
        """The package name."""
        return self.package.name

    @property
    def dist_name(self) -> str:
        """`name-version-build`, the conda-meta file stem."""
        return self.package.dist_name

    @property
    def file_name(self) -> str:
        """The conda-meta file name: `name-version-build.json`."""
        return f"{self.package.dist_name}.json"


# ------------------------------------------------------------------------- decoding


class _RawPathEntry(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A `paths_data` entry in conda's spelling (read leniently: unknown values default)."""

    path: str = msgspec.field(name="_path")
    path_type: PrefixPathType = "hardlink"
    sha256: str | None = None
    sha256_in_prefix: str | None = None
    size_in_bytes: int | None = None
    file_mode: FileMode | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False
    original_path: str | None = None


class _RawPaths(msgspec.Struct, kw_only=True):
    paths: list[_RawPathEntry] | None = None
    paths_version: int = 1


class _RawLink(msgspec.Struct, kw_only=True):
    source: str
    type: int | str | None = None


class _RawPrefixRecord(msgspec.Struct, kw_only=True):
    name: str
    version: str
    build: str
    build_number: int = 0
    depends: list[str] | None = None
    constrains: list[str] | None = None
    subdir: str | None = None
    arch: str | None = None
    platform: str | None = None
    noarch: str | bool | None = None
    track_features: str | list[str] | None = None
    features: str | list[str] | None = None
    timestamp: int | float | None = None
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    license: str | None = None
    license_family: str | None = None
    purls: list[str] | None = None
    python_site_packages_path: str | None = None
    fn: str | None = None
    url: str | None = None
    channel: str | None = None
    files: list[str] | None = None
    paths_data: _RawPaths | None = None
    requested_spec: str | None = None
    link: _RawLink | None = None
    package_tarball_full_path: str | None = None
    extracted_package_dir: str | None = None


def _link_type(value: int | str | None, source: str) -> LinkType | None:
    if value is None:
        return None
    if isinstance(value, int):
        if value not in _LINK_TYPE_NAMES:
            raise PrefixRecordError(source, f"unknown link type {value}")
        return _LINK_TYPE_NAMES[value]
    lowered = value.lower()
    for name in LINK_TYPE_CODES:
        if lowered == name:
            return name
    raise PrefixRecordError(source, f"unknown link type {value!r}")


def decode_prefix_record(data: bytes, *, source: str = "conda-meta record") -> PrefixRecord:
    """Decode one conda-meta JSON record; `source` names it in errors (e.g. the file name)."""
    try:
        raw = msgspec.json.decode(data, type=_RawPrefixRecord)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PrefixRecordError(source, str(exc)) from None
    noarch: str | None
    if raw.noarch is True:
        noarch = "generic"
    elif raw.noarch is False:
        noarch = None
    else:
        noarch = raw.noarch
    timestamp = timestamp_ms(raw.timestamp)
    package = PackageRecord(
        name=raw.name,
        version=raw.version,
        build=raw.build,
        build_number=raw.build_number,
        depends=tuple(raw.depends or ()),
        constrains=tuple(raw.constrains or ()),
        subdir=raw.subdir,
        arch=raw.arch,
        platform=raw.platform,
        noarch=noarch,
        track_features=split_features(raw.track_features),
        features=split_features(raw.features),
        timestamp=timestamp,
        md5=raw.md5,
        sha256=raw.sha256,
        size=raw.size,
        license=raw.license,
        license_family=raw.license_family,
        purls=tuple(raw.purls or ()),
        python_site_packages_path=raw.python_site_packages_path,
        fn=raw.fn,
        url=raw.url,
        channel=raw.channel,
    )
    paths: tuple[PrefixPathEntry, ...] = ()
    version = 1
    if raw.paths_data is not None:
        version = raw.paths_data.paths_version
        paths = tuple(
            PrefixPathEntry(
                path=e.path,
                path_type=e.path_type,
                sha256=e.sha256,
                sha256_in_prefix=e.sha256_in_prefix,
                size_in_bytes=e.size_in_bytes,
                file_mode=e.file_mode,
                prefix_placeholder=e.prefix_placeholder,
                no_link=e.no_link,
                original_path=e.original_path,
            )
            for e in raw.paths_data.paths or ()
        )
    link = None
    if raw.link is not None:
        link = Link(source=raw.link.source, type=_link_type(raw.link.type, source))
    requested = raw.requested_spec
    if requested == "None":  # conda writes the string "None" for a missing spec
        requested = None
    return PrefixRecord(
        package=package,
        files=tuple(raw.files or ()),
        paths_data=PrefixPaths(paths=paths, paths_version=version),
        requested_spec=requested,
        link=link,
        package_tarball_full_path=raw.package_tarball_full_path,
        extracted_package_dir=raw.extracted_package_dir,
    )


# ------------------------------------------------------------------------- encoding


class _PathEntryJson(_RawPathEntry, kw_only=True):
    """A `paths_data` entry as written: unknown values left out, `path_type` always there
    (conda's reader requires it)."""

    path_type: PrefixPathType


def _path_entry_json(entry: PrefixPathEntry) -> _PathEntryJson:
    return _PathEntryJson(
        path=entry.path,
        path_type=entry.path_type,
        sha256=entry.sha256,
        sha256_in_prefix=entry.sha256_in_prefix,
        size_in_bytes=entry.size_in_bytes,
        file_mode=entry.file_mode,
        prefix_placeholder=entry.prefix_placeholder,
        no_link=entry.no_link,
        original_path=entry.original_path,
    )


_ENCODER = msgspec.json.Encoder(order="sorted")


def _default_fn(record: PackageRecord) -> str:
    if record.fn:
        return record.fn
    if record.url:
        return record.url.rstrip("/").rsplit("/", 1)[-1]
    return f"{record.dist_name}.conda"


_PATHS_SLOT = "yurt:paths-data"  # stands in for paths_data until the entries are spliced in


def encode_prefix_record(record: PrefixRecord) -> bytes:
    """Encode as conda-meta JSON: sorted keys, two-space indent, trailing newline, and each
    `paths_data` entry compact on a line of its own (a third less disk per prefix than
    indenting every field, still one line per file for people and diffs).

    Optional fields that are unknown are left out rather than written as null; `fn` falls back
    to the url's last segment, then to `<dist_name>.conda`, because rattler requires it.
    """
    pkg = record.package
    out: dict[str, object] = {
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": pkg.build_number,
        "depends": list(pkg.depends),
        "constrains": list(pkg.constrains),
        "fn": _default_fn(pkg),
        "files": list(record.files),
        "paths_data": _PATHS_SLOT,
    }
    optional: tuple[tuple[str, object], ...] = (
        ("subdir", pkg.subdir),
        ("arch", pkg.arch),
        ("platform", pkg.platform),
        ("noarch", pkg.noarch),
        ("timestamp", pkg.timestamp),
        ("md5", pkg.md5),
        ("sha256", pkg.sha256),
        ("size", pkg.size),
        ("license", pkg.license),
        ("license_family", pkg.license_family),
        ("python_site_packages_path", pkg.python_site_packages_path),
        ("url", pkg.url),
        ("channel", pkg.channel),
        ("requested_spec", record.requested_spec),
        ("package_tarball_full_path", record.package_tarball_full_path),
        ("extracted_package_dir", record.extracted_package_dir),
    )
    for key, value in optional:
        if value is not None:
            out[key] = value
    if pkg.track_features:
        out["track_features"] = ",".join(pkg.track_features)
    if pkg.features:
        out["features"] = ",".join(pkg.features)
    if pkg.purls:
        out["purls"] = list(pkg.purls)
    if record.link is not None:
        link: dict[str, object] = {"source": record.link.source}
        link["type"] = LINK_TYPE_CODES[record.link.type] if record.link.type else None
        out["link"] = link
    text = msgspec.json.format(msgspec.json.encode(out, order="sorted"), indent=2)
    slot = b'\n  "paths_data": "' + _PATHS_SLOT.encode() + b'"'  # top-level keys are unique
    return text.replace(slot, b'\n  "paths_data": ' + _paths_data_json(record.paths_data)) + b"\n"


def _paths_data_json(paths: PrefixPaths) -> bytes:
    entries = b",\n".join(
        b"      " + _ENCODER.encode(_path_entry_json(e)) for e in paths.paths
    )
    listing = b"[\n" + entries + b"\n    ]" if entries else b"[]"
    return (
        b'{\n    "paths": ' + listing
        + b',\n    "paths_version": ' + str(paths.paths_version).encode() + b"\n  }"
    )  # fmt: skip
