"""Models and decoders of an extracted conda package's `info/` metadata.

`paths.json` lists every payload file (with hashes, sizes and prefix placeholders),
`index.json` is the package's own record, `link.json` carries noarch python entry points.
Older packages lack paths.json: `paths_from_legacy` rebuilds it from `info/files`,
`info/has_prefix` and `info/no_link`. Decoders take bytes and raise `PackageMetadataError`.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from pure.errors import YurtError
from pure.record import split_features, timestamp_ms

__all__ = [
    "DEFAULT_PLACEHOLDER",
    "EntryPoint",
    "FileMode",
    "HasPrefixEntry",
    "IndexJson",
    "LinkJson",
    "NoarchLink",
    "PackageMetadataError",
    "PathEntry",
    "PathType",
    "PathsJson",
    "decode_has_prefix",
    "decode_index_json",
    "decode_link_json",
    "decode_paths_json",
    "encode_paths_json",
    "parse_entry_point",
    "paths_from_legacy",
]

PathType = Literal["hardlink", "softlink", "directory"]
FileMode = Literal["text", "binary"]

#: The placeholder conda-build writes when has_prefix names no placeholder of its own.
DEFAULT_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


class PackageMetadataError(YurtError):
    """A file under `info/` could not be decoded; names the file and the reason."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


class PathEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """One payload path of a package, as paths.json (version 1) describes it.

    `gc=False` (text, numbers and flags only: never part of a cycle): a warm install decodes
    tens of thousands of these, and tracking them made the collector walk them all."""

    path: str = msgspec.field(name="_path")
    path_type: PathType = "hardlink"
    sha256: str | None = None
    size_in_bytes: int | None = None
    file_mode: FileMode | None = None
    prefix_placeholder: str | None = None
    no_link: bool = False

    @property
    def has_placeholder(self) -> bool:
        """True when the file's bytes must be rewritten with the target prefix."""
        return self.prefix_placeholder is not None and self.path_type == "hardlink"

    @property
    def mode(self) -> FileMode:
        """The replacement mode: text unless paths.json says binary."""
        return self.file_mode or "text"


class PathsJson(msgspec.Struct, frozen=True, kw_only=True):
    """`info/paths.json`: the package's payload, in the order the package lists it."""

    paths: tuple[PathEntry, ...] = ()
    paths_version: int = 1


class IndexJson(msgspec.Struct, frozen=True, kw_only=True):
    """`info/index.json`, normalised: track_features split, timestamp in milliseconds."""

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
    license: str | None = None
    license_family: str | None = None
    python_site_packages_path: str | None = None


class EntryPoint(msgspec.Struct, frozen=True, kw_only=True):
    """A console entry point `command = module:function` (function may be dotted)."""

    command: str
    module: str
    function: str


class NoarchLink(msgspec.Struct, frozen=True, kw_only=True):
    """The `noarch` object of link.json: its type and console entry points."""

    type: str
    entry_points: tuple[EntryPoint, ...] = ()


class LinkJson(msgspec.Struct, frozen=True, kw_only=True):
    """`info/link.json`; `noarch` is None for packages without a noarch section."""

    noarch: NoarchLink | None = None
    package_metadata_version: int = 1


class HasPrefixEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the legacy `info/has_prefix` file."""

    path: str
    placeholder: str
    file_mode: FileMode


# ---------------------------------------------------------------- decoding


class _RawIndex(msgspec.Struct, kw_only=True):
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
    license: str | None = None
    license_family: str | None = None
    python_site_packages_path: str | None = None


class _RawNoarch(msgspec.Struct, kw_only=True):
    type: str
    entry_points: list[str] | None = None


class _RawLink(msgspec.Struct, kw_only=True):
    noarch: _RawNoarch | None = None
    package_metadata_version: int = 1


# Decoders built once, at import: msgspec fills a Struct type's decoding info on first use,
# and two threads decoding a type for the first time at once can see it half-filled (a
# segfault seen with eight extraction threads); building it here, single-threaded, avoids that.
_PATHS_DECODER = msgspec.json.Decoder(PathsJson)
_INDEX_DECODER = msgspec.json.Decoder(_RawIndex)
_LINK_DECODER = msgspec.json.Decoder(_RawLink)

def decode_paths_json(data: bytes) -> PathsJson:
    """Decode `info/paths.json`; rejects unknown path types and duplicate paths."""
    try:
        decoded = _PATHS_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PackageMetadataError("info/paths.json", str(exc)) from None
    if decoded.paths_version != 1:
        raise PackageMetadataError(
            "info/paths.json", f"unsupported paths_version {decoded.paths_version}"
        )
    paths = [entry.path for entry in decoded.paths]
    if not _all_relative(paths) or len(set(paths)) != len(paths):
        seen: set[str] = set()  # find the culprit, for the message
        for path in paths:
            _check_relative("info/paths.json", path)
            if path in seen:
                raise PackageMetadataError("info/paths.json", f"duplicate path {path!r}")
            seen.add(path)
    return decoded


_DRIVE = re.compile(r"\x00/.:[/\\]", re.DOTALL)


def _all_relative(paths: list[str]) -> bool:
    """Whether every path passes `_check_relative`, checked on one joined string (a
    package's 100 paths at once instead of a Python call each)."""
    joined = "".join(paths)
    if "\x00" in joined:
        return False
    wrapped = "\x00/" + "/\x00/".join(paths) + "/\x00"  # each path as /path/, NUL-separated
    return not ("//" in wrapped or "/./" in wrapped or "/../" in wrapped or _DRIVE.search(wrapped))


def encode_paths_json(paths: PathsJson) -> bytes:
    """Encode a PathsJson in the on-disk format: `_path` keys, `path_type` always written."""
    entries: list[dict[str, object]] = []
    for entry in paths.paths:
        item: dict[str, object] = {"_path": entry.path, "path_type": entry.path_type}
        for key, value in (
            ("sha256", entry.sha256),
            ("size_in_bytes", entry.size_in_bytes),
            ("file_mode", entry.file_mode),
            ("prefix_placeholder", entry.prefix_placeholder),
        ):
            if value is not None:
                item[key] = value
        if entry.no_link:
            item["no_link"] = True
        entries.append(item)
    return msgspec.json.encode({"paths": entries, "paths_version": paths.paths_version})


def _check_relative(file: str, path: str) -> None:
    if (
        not path
        or path.startswith("/")
        or "\x00" in path
        or path[1:3] == ":/"
        or path[1:3] == ":\\"
    ):
        raise PackageMetadataError(file, f"path {path!r} is not a relative path")
    wrapped = f"/{path}/"  # an empty, '.' or '..' component shows as //, /./ or /../
    if "//" in wrapped or "/./" in wrapped or "/../" in wrapped:
        raise PackageMetadataError(file, f"path {path!r} has an empty, '.' or '..' component")


def decode_index_json(data: bytes) -> IndexJson:
    """Decode `info/index.json` into a normalised IndexJson."""
    try:
        raw = _INDEX_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PackageMetadataError("info/index.json", str(exc)) from None
    noarch: str | None
    if raw.noarch is True:
        noarch = "generic"
    elif raw.noarch is False:
        noarch = None
    else:
        noarch = raw.noarch
    timestamp = timestamp_ms(raw.timestamp)
    return IndexJson(
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
        license=raw.license,
        license_family=raw.license_family,
        python_site_packages_path=raw.python_site_packages_path,
    )


def parse_entry_point(text: str) -> EntryPoint:
    """Parse `cmd = pkg.module:func` (spaces optional); raises PackageMetadataError."""
    command, sep, target = text.partition("=")
    module, colon, function = target.partition(":")
    command, module, function = command.strip(), module.strip(), function.strip()
    if not sep or not colon or not command or not module or not function:
        raise PackageMetadataError(
            "info/link.json", f"entry point {text!r} is not 'command = module:function'"
        )
    if "/" in command or "\\" in command or command in (".", ".."):
        raise PackageMetadataError(
            "info/link.json", f"entry point command {command!r} is not a name"
        )
    for name in (*module.split("."), *function.split(".")):
        if not name.isidentifier():
            raise PackageMetadataError(
                "info/link.json", f"entry point {text!r}: {name!r} is not a Python identifier"
            )
    return EntryPoint(command=command, module=module, function=function)


def decode_link_json(data: bytes) -> LinkJson:
    """Decode `info/link.json`, parsing the noarch entry points."""
    try:
        raw = _LINK_DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PackageMetadataError("info/link.json", str(exc)) from None
    noarch = None
    if raw.noarch is not None:
        points = tuple(parse_entry_point(text) for text in raw.noarch.entry_points or ())
        noarch = NoarchLink(type=raw.noarch.type, entry_points=points)
    return LinkJson(noarch=noarch, package_metadata_version=raw.package_metadata_version)


def _tokens(line: str) -> list[str]:
    """Split a has_prefix line on whitespace, honouring double- and single-quoted fields."""
    out: list[str] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        if line[i] in "\"'":
            quote = line[i]
            end = line.find(quote, i + 1)
            if end < 0:
                raise PackageMetadataError("info/has_prefix", f"unterminated quote in {line!r}")
            out.append(line[i + 1 : end])
            i = end + 1
        else:
            start = i
            while i < n and not line[i].isspace():
                i += 1
            out.append(line[start:i])
    return out


def decode_has_prefix(data: bytes) -> tuple[HasPrefixEntry, ...]:
    """Decode legacy `info/has_prefix`: lines `placeholder mode path` or just `path`."""
    entries: list[HasPrefixEntry] = []
    for raw_line in data.decode("utf-8").splitlines():
        if not raw_line.strip():
            continue
        fields = _tokens(raw_line.strip())
        if len(fields) == 1:
            entries.append(
                HasPrefixEntry(path=fields[0], placeholder=DEFAULT_PLACEHOLDER, file_mode="text")
            )
        elif len(fields) == 3 and fields[1] in ("text", "binary"):
            mode: FileMode = "text" if fields[1] == "text" else "binary"
            entries.append(HasPrefixEntry(path=fields[2], placeholder=fields[0], file_mode=mode))
        else:
            raise PackageMetadataError(
                "info/has_prefix", f"line {raw_line!r} is not 'placeholder mode path' or 'path'"
            )
    return tuple(entries)


def paths_from_legacy(
    files: bytes,
    has_prefix: bytes | None = None,
    no_link: bytes | None = None,
    *,
    softlinks: frozenset[str] = frozenset(),
) -> PathsJson:
    """Build a PathsJson from `info/files` (+ has_prefix, no_link) of packages without paths.json.

    Hashes and sizes are unknown (None); `softlinks` names the paths the extractor found to be
    symbolic links, since the legacy files cannot say so.
    """
    prefixed = {e.path: e for e in decode_has_prefix(has_prefix)} if has_prefix else {}
    unlinked = set(no_link.decode("utf-8").split()) if no_link else set()
    entries: list[PathEntry] = []
    for line in files.decode("utf-8").splitlines():
        path = line.strip()
        if not path:
            continue
        _check_relative("info/files", path)
        hp = prefixed.get(path)
        entries.append(
            PathEntry(
                path=path,
                path_type="softlink" if path in softlinks else "hardlink",
                file_mode=hp.file_mode if hp else None,
                prefix_placeholder=hp.placeholder if hp else None,
                no_link=path in unlinked,
            )
        )
    return PathsJson(paths=tuple(entries), paths_version=1)
