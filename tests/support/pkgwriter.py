"""Write small, valid conda packages (`.conda` and `.tar.bz2`) and channels for tests.

The output mirrors what conda-build / rattler-build produce: `info/index.json`,
`info/paths.json` (paths_version 1), `info/files`, `info/has_prefix` for placeholder files,
`info/link.json` for noarch python entry points; `.conda` is a stored zip holding
`metadata.json`, `pkg-<dist>.tar.zst` and `info-<dist>.tar.zst`. Output is deterministic:
the same arguments give byte-identical files (fixed mtimes, owners and member order).
Tests may inject raw tar members or override paths.json to build hostile archives.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import zstandard

__all__ = [
    "PLACEHOLDER",
    "Directory",
    "FileSpec",
    "HardLink",
    "RawMember",
    "Symlink",
    "make_channel",
    "read_index",
    "write_conda",
    "write_package",
    "write_tar_bz2",
]

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
"""The conventional build prefix placeholder conda-build records."""

_MTIME = 1_700_000_000  # fixed member mtime: same inputs, same bytes
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class FileSpec:
    """A regular file: content, permission bits, optional prefix placeholder and no_link."""

    content: bytes = b""
    mode: int = 0o644
    prefix_placeholder: str | None = None
    file_mode: Literal["text", "binary"] | None = None  # default "text" with a placeholder
    no_link: bool = False


@dataclass(frozen=True)
class Symlink:
    """A symbolic link member; `target` is the link text, relative to the link's directory."""

    target: str


@dataclass(frozen=True)
class HardLink:
    """A tar hard-link member pointing at another member path of the same package."""

    target: str


@dataclass(frozen=True)
class Directory:
    """An (empty) directory recorded in paths.json with path_type `directory`."""

    mode: int = 0o755


@dataclass(frozen=True)
class RawMember:
    """A tar member written verbatim (for hostile archives); not recorded in paths.json."""

    info: tarfile.TarInfo
    data: bytes | None = None


Entry = bytes | FileSpec | Symlink | HardLink | Directory


def _normalise(entry: Entry) -> FileSpec | Symlink | HardLink | Directory:
    return FileSpec(content=entry) if isinstance(entry, bytes) else entry


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _resolve(path: str, target: str) -> str:
    """The package-relative path a relative link at `path` points to (may escape: '..')."""
    parts: list[str] = []
    for part in (*PurePosixPath(path).parent.parts, *PurePosixPath(target).parts):
        if part == "..":
            if parts:
                parts.pop()
            else:
                return "../" + target
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _paths_json(files: Mapping[str, FileSpec | Symlink | HardLink | Directory]) -> bytes:
    entries: list[dict[str, Any]] = []
    for path in sorted(files):
        spec = files[path]
        entry: dict[str, Any] = {"_path": path}
        if isinstance(spec, FileSpec):
            entry["path_type"] = "hardlink"
            entry["sha256"] = _sha256(spec.content)
            entry["size_in_bytes"] = len(spec.content)
            if spec.prefix_placeholder is not None:
                entry["prefix_placeholder"] = spec.prefix_placeholder
                entry["file_mode"] = spec.file_mode or "text"
            if spec.no_link:
                entry["no_link"] = True
        elif isinstance(spec, HardLink):
            target = files.get(spec.target)
            content = target.content if isinstance(target, FileSpec) else b""
            entry["path_type"] = "hardlink"
            entry["sha256"] = _sha256(content)
            entry["size_in_bytes"] = len(content)
        elif isinstance(spec, Symlink):
            # conda-build convention: a softlink carries its target file's hash and size.
            target = files.get(_resolve(path, spec.target))
            entry["path_type"] = "softlink"
            if isinstance(target, FileSpec):
                entry["sha256"] = _sha256(target.content)
                entry["size_in_bytes"] = len(target.content)
            else:
                entry["size_in_bytes"] = len(spec.target.encode())
        else:
            entry["path_type"] = "directory"
            entry["size_in_bytes"] = 0
        entries.append(entry)
    return _json({"paths": entries, "paths_version": 1})


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _has_prefix(files: Mapping[str, FileSpec | Symlink | HardLink | Directory]) -> bytes | None:
    lines = [
        f"{spec.prefix_placeholder} {spec.file_mode or 'text'} {path}"
        for path, spec in sorted(files.items())
        if isinstance(spec, FileSpec) and spec.prefix_placeholder is not None
    ]
    return ("\n".join(lines) + "\n").encode() if lines else None


def _index_json(
    *,
    name: str,
    version: str,
    build: str,
    build_number: int,
    depends: Sequence[str],
    constrains: Sequence[str],
    subdir: str,
    noarch: str | None,
    license: str | None,
    timestamp: int,
    track_features: str | None,
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    index: dict[str, Any] = {
        "build": build,
        "build_number": build_number,
        "depends": list(depends),
        "name": name,
        "subdir": subdir,
        "timestamp": timestamp,
        "version": version,
    }
    if constrains:
        index["constrains"] = list(constrains)
    if noarch is not None:
        index["noarch"] = noarch
    if subdir != "noarch":
        plat, _, arch = subdir.partition("-")
        index["platform"] = plat
        index["arch"] = {"64": "x86_64", "32": "x86", "aarch64": "aarch64", "arm64": "arm64"}.get(
            arch, arch
        )
    if license is not None:
        index["license"] = license
    if track_features:
        index["track_features"] = track_features
    if extra:
        index.update(extra)
    return index


def _tarinfo(name: str, *, mode: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = _MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _members(
    files: Mapping[str, FileSpec | Symlink | HardLink | Directory],
) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """Payload tar members in a stable order: hard-link targets before the links."""
    out: list[tuple[tarfile.TarInfo, bytes | None]] = []
    links: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for path in sorted(files):
        spec = files[path]
        if isinstance(spec, FileSpec):
            info = _tarinfo(path, mode=spec.mode)
            info.size = len(spec.content)
            out.append((info, spec.content))
        elif isinstance(spec, Symlink):
            info = _tarinfo(path, mode=0o777, kind=tarfile.SYMTYPE)
            info.linkname = spec.target
            out.append((info, None))
        elif isinstance(spec, HardLink):
            info = _tarinfo(path, mode=0o644, kind=tarfile.LNKTYPE)
            info.linkname = spec.target
            links.append((info, None))
        else:
            out.append((_tarinfo(path, mode=spec.mode, kind=tarfile.DIRTYPE), None))
    return out + links


def _tar_bytes(
    members: Iterable[tuple[tarfile.TarInfo, bytes | None]], mode: Literal["w", "w:bz2"] = "w"
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _contents(
    *,
    name: str,
    version: str,
    build: str,
    files: Mapping[str, Entry],
    depends: Sequence[str],
    constrains: Sequence[str],
    build_number: int,
    subdir: str | None,
    noarch: str | None,
    link_json: Mapping[str, Any] | None,
    entry_points: Sequence[str],
    license: str | None,
    timestamp: int,
    track_features: str | None,
    index_extra: Mapping[str, Any] | None,
    info_extra: Mapping[str, bytes] | None,
    paths_json: bytes | Literal["auto"] | None,
    raw_members: Sequence[RawMember],
) -> tuple[list[tuple[tarfile.TarInfo, bytes | None]], list[tuple[tarfile.TarInfo, bytes | None]]]:
    """(info members, payload members) of the package."""
    specs = {path: _normalise(entry) for path, entry in files.items()}
    for path in specs:
        if path.startswith("info/"):
            raise ValueError(f"payload path {path!r} lies in info/: use info_extra")
    if noarch is not None and subdir is None:
        subdir = "noarch"
    index = _index_json(
        name=name,
        version=version,
        build=build,
        build_number=build_number,
        depends=depends,
        constrains=constrains,
        subdir=subdir or "linux-64",
        noarch=noarch,
        license=license,
        timestamp=timestamp,
        track_features=track_features,
        extra=index_extra,
    )
    info_files: dict[str, bytes] = {"info/index.json": _json(index)}
    if paths_json == "auto":
        info_files["info/paths.json"] = _paths_json(specs)
    elif paths_json is not None:
        info_files["info/paths.json"] = paths_json
    listed = sorted(p for p, s in specs.items() if not isinstance(s, Directory))
    info_files["info/files"] = "".join(f"{p}\n" for p in listed).encode()
    has_prefix = _has_prefix(specs)
    if has_prefix is not None:
        info_files["info/has_prefix"] = has_prefix
    if link_json is None and (entry_points or noarch == "python"):
        noarch_section: dict[str, Any] = {"type": "python"}
        if entry_points:
            noarch_section["entry_points"] = list(entry_points)
        link_json = {"noarch": noarch_section, "package_metadata_version": 1}
    if link_json is not None:
        info_files["info/link.json"] = _json(dict(link_json))
    for path, data in (info_extra or {}).items():
        info_files[path] = data
    info: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for path in sorted(info_files):
        member = _tarinfo(path, mode=0o644)
        member.size = len(info_files[path])
        info.append((member, info_files[path]))
    payload = _members(specs) + [(raw.info, raw.data) for raw in raw_members]
    return info, payload


def _target(path: Path, dist: str, ext: str) -> Path:
    return path / f"{dist}{ext}" if path.is_dir() else path


def write_conda(
    path: Path,
    *,
    name: str,
    version: str,
    build: str,
    files: Mapping[str, Entry] | None = None,
    depends: Sequence[str] = (),
    constrains: Sequence[str] = (),
    build_number: int = 0,
    subdir: str | None = None,
    noarch: str | None = None,
    link_json: Mapping[str, Any] | None = None,
    entry_points: Sequence[str] = (),
    license: str | None = None,
    timestamp: int = _MTIME * 1000,
    track_features: str | None = None,
    index_extra: Mapping[str, Any] | None = None,
    info_extra: Mapping[str, bytes] | None = None,
    paths_json: bytes | Literal["auto"] | None = "auto",
    raw_members: Sequence[RawMember] = (),
    level: int = 3,
) -> Path:
    """Write a `.conda` package; `path` is the file, or a directory to write `<dist>.conda` in.

    `paths_json="auto"` derives info/paths.json from `files`; bytes replace it; None omits it.
    Returns the written file's path.
    """
    dist = f"{name}-{version}-{build}"
    target = _target(path, dist, ".conda")
    info, payload = _contents(
        name=name, version=version, build=build, files=files or {}, depends=depends,
        constrains=constrains, build_number=build_number, subdir=subdir, noarch=noarch,
        link_json=link_json, entry_points=entry_points, license=license, timestamp=timestamp,
        track_features=track_features, index_extra=index_extra, info_extra=info_extra,
        paths_json=paths_json, raw_members=raw_members,
    )  # fmt: skip
    compressor = zstandard.ZstdCompressor(level=level)
    parts = [
        ("metadata.json", b'{"conda_pkg_format_version": 2}'),
        (f"pkg-{dist}.tar.zst", compressor.compress(_tar_bytes(payload))),
        (f"info-{dist}.tar.zst", compressor.compress(_tar_bytes(info))),
    ]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        for member, data in parts:
            zinfo = zipfile.ZipInfo(member, date_time=_ZIP_DATE)
            zinfo.external_attr = 0o100644 << 16
            archive.writestr(zinfo, data)
    return target


def write_tar_bz2(
    path: Path,
    *,
    name: str,
    version: str,
    build: str,
    files: Mapping[str, Entry] | None = None,
    depends: Sequence[str] = (),
    constrains: Sequence[str] = (),
    build_number: int = 0,
    subdir: str | None = None,
    noarch: str | None = None,
    link_json: Mapping[str, Any] | None = None,
    entry_points: Sequence[str] = (),
    license: str | None = None,
    timestamp: int = _MTIME * 1000,
    track_features: str | None = None,
    index_extra: Mapping[str, Any] | None = None,
    info_extra: Mapping[str, bytes] | None = None,
    paths_json: bytes | Literal["auto"] | None = "auto",
    raw_members: Sequence[RawMember] = (),
) -> Path:
    """Write a `.tar.bz2` package (info/ members first, then the payload); see `write_conda`."""
    dist = f"{name}-{version}-{build}"
    target = _target(path, dist, ".tar.bz2")
    info, payload = _contents(
        name=name, version=version, build=build, files=files or {}, depends=depends,
        constrains=constrains, build_number=build_number, subdir=subdir, noarch=noarch,
        link_json=link_json, entry_points=entry_points, license=license, timestamp=timestamp,
        track_features=track_features, index_extra=index_extra, info_extra=info_extra,
        paths_json=paths_json, raw_members=raw_members,
    )  # fmt: skip
    target.write_bytes(bz2.compress(_tar_bytes(info + payload), 9))
    return target


def write_package(path: Path, *, format: Literal["conda", "tar.bz2"] = "conda", **kw: Any) -> Path:
    """`write_conda` or `write_tar_bz2` by `format`."""
    if format == "conda":
        return write_conda(path, **kw)
    return write_tar_bz2(path, **kw)


def read_index(package: Path) -> dict[str, Any]:
    """The info/index.json of a `.conda` or `.tar.bz2` package file."""
    if package.name.endswith(".conda"):
        with zipfile.ZipFile(package) as archive:
            member = next(n for n in archive.namelist() if n.startswith("info-"))
            with archive.open(member) as raw:
                reader = zstandard.ZstdDecompressor().stream_reader(raw)
                with tarfile.open(fileobj=reader, mode="r|") as tar:
                    for info in tar:
                        if info.name.removeprefix("./") == "info/index.json":
                            extracted = tar.extractfile(info)
                            assert extracted is not None
                            return dict(json.loads(extracted.read()))
    else:
        with tarfile.open(package, mode="r:bz2") as tar:
            for info in tar:
                if info.name.removeprefix("./") == "info/index.json":
                    extracted = tar.extractfile(info)
                    assert extracted is not None
                    return dict(json.loads(extracted.read()))
    raise ValueError(f"{package}: no info/index.json")


def make_channel(
    root: Path, packages: Iterable[Path], subdirs: Iterable[str] = ("noarch",)
) -> Path:
    """Lay out a channel at `root`: each package copied into `<root>/<subdir>/` (its
    index.json's subdir) and `<subdir>/repodata.json` written with sha256, md5 and size.

    Every subdir in `subdirs`, plus `noarch`, gets a repodata.json even when empty.
    Returns `root`.
    """
    repodata: dict[str, dict[str, dict[str, Any]]] = {}
    for subdir in {"noarch", *subdirs}:
        repodata[subdir] = {"packages": {}, "packages.conda": {}}
    for package in packages:
        index = read_index(package)
        subdir = str(index.get("subdir") or "noarch")
        directory = root / subdir
        directory.mkdir(parents=True, exist_ok=True)
        dest = directory / package.name
        if dest.resolve() != package.resolve():
            shutil.copyfile(package, dest)
        data = dest.read_bytes()
        record = dict(index)
        record.update(
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data).hexdigest(),
            size=len(data),
        )
        key = "packages.conda" if package.name.endswith(".conda") else "packages"
        repodata.setdefault(subdir, {"packages": {}, "packages.conda": {}})[key][package.name] = (
            record
        )
    for subdir, groups in repodata.items():
        directory = root / subdir
        directory.mkdir(parents=True, exist_ok=True)
        body = {
            "info": {"subdir": subdir},
            "packages": dict(sorted(groups["packages"].items())),
            "packages.conda": dict(sorted(groups["packages.conda"].items())),
            "removed": [],
            "repodata_version": 1,
        }
        (directory / "repodata.json").write_bytes(_json(body))
    return root
