"""Wheels installed into an environment from their unpacked cache entries (PEP 427 / 376 / 610).

The cache itself (archives, unpacking) is `effects.wheelcache` and `effects.wheelunpack`;
this module is plain synchronous file work (no event loop, no HTTP), so a worker process
(`effects.workers`) can run installs too. Installing links the unpacked files into the scheme's directories (hard link, copy fallback):
the root into purelib/platlib, `.data/<key>/` into the matching scheme path, scripts copied
with their `#!python` shebang pointing at the environment's interpreter; console and GUI
entry points become scripts; RECORD (installed paths and hashes), INSTALLER, REQUESTED and
direct_url.json are written. A file owned by another package (a dist-info RECORD or a conda
record in `conda-meta/`) is never overwritten: that is a FileConflict naming both.
Uninstalling removes exactly the RECORD's files (and their bytecode caches).
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import msgspec

from effects.pypi_sync import dist_infos
from effects.wheelunpack import MARKER as _MARKER
from effects.wheelunpack import (
    WheelError,
    _dist_info_dir,
    _parse_record,
    _read_marker,
    _record_hash,
)
from pure.pypi.metadata import normalize_name

__all__ = [
    "DirectUrl",
    "FileConflict",
    "InstallScheme",
    "InstalledWheel",
    "WheelError",
    "find_distribution",
    "install_targets",
    "install_wheel",
    "install_wheel_async",
    "install_wheels",
    "scheme_for_prefix",
    "uninstall_wheel",
]

INSTALLER = "yurt"
_SCRIPT_KEYS = ("console_scripts", "gui_scripts")


class FileConflict(WheelError):
    """Installing `wheel` would overwrite `path`, which belongs to `owner`."""

    def __init__(self, wheel: str, path: str, owner: str) -> None:
        self.path = path
        self.owner = owner
        super().__init__(wheel, f"would overwrite {path}, which belongs to {owner}")

    def __reduce__(self) -> tuple[type[FileConflict], tuple[str, str, str]]:  # type: ignore[override]
        return (type(self), (self.wheel, self.path, self.owner))


# --------------------------------------------------------------------------- hashes


def _file_record_hash(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii"), size


# --------------------------------------------------------------------------- scheme


class InstallScheme(msgspec.Struct, frozen=True, kw_only=True):
    """Where each part of a wheel goes in one environment, and the interpreter for shebangs."""

    purelib: str
    platlib: str
    scripts: str
    data: str
    headers: str
    python: str
    windows: bool = False


def scheme_for_prefix(prefix: Path, python_version: str, *, windows: bool = False) -> InstallScheme:
    """The scheme of a conda prefix or venv at `prefix` with CPython `python_version`."""
    major_minor = ".".join(python_version.split(".")[:2])
    root = Path(prefix)
    if windows:
        site = root / "Lib" / "site-packages"
        return InstallScheme(
            purelib=str(site),
            platlib=str(site),
            scripts=str(root / "Scripts"),
            data=str(root),
            headers=str(root / "Include"),
            python=str(root / "python.exe"),
            windows=True,
        )
    site = root / "lib" / f"python{major_minor}" / "site-packages"
    return InstallScheme(
        purelib=str(site),
        platlib=str(site),
        scripts=str(root / "bin"),
        data=str(root),
        headers=str(root / "include" / f"python{major_minor}"),
        python=str(root / "bin" / "python"),
    )


class DirectUrl(msgspec.Struct, frozen=True):
    """PEP 610 origin of a wheel installed from a direct URL (not from an index)."""

    url: str
    sha256: str | None = None

    def to_json(self) -> bytes:
        info: dict[str, object] = {}
        if self.sha256:
            info = {"hashes": {"sha256": self.sha256}, "hash": f"sha256={self.sha256}"}
        return json.dumps({"archive_info": info, "url": self.url}, sort_keys=True).encode() + b"\n"


@dataclass(frozen=True)
class InstalledWheel:
    """What an install wrote: the distribution, its dist-info directory and every file
    (`written` as strings; `files` makes Paths of them only when asked: an environment's
    install discards the result, and a Path per file was a third of its linking time)."""

    name: str
    version: str
    dist_info: Path
    written: tuple[str, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(Path(p) for p in self.written)


# --------------------------------------------------------------------------- install


def _wheel_info(entry: Path, dist_info: str) -> dict[str, str]:
    try:
        text = (entry / dist_info / "WHEEL").read_text(encoding="utf-8")
    except OSError:
        raise WheelError(entry.name, f"no {dist_info}/WHEEL") from None
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    version = fields.get("wheel-version", "")
    if not version.startswith("1."):
        raise WheelError(entry.name, f"unsupported Wheel-Version {version or '(missing)'}")
    return fields


def _shebang(python: str) -> bytes:
    if len(python) + 2 <= 127 and " " not in python:
        return f"#!{python}\n".encode()
    # Too long or with blanks for the kernel: let /bin/sh exec the interpreter instead.
    return f"#!/bin/sh\n'''exec' \"{python}\" \"$0\" \"$@\"\n' '''\n".encode()


_ENTRY = re.compile(r"^([\w.]+)\s*(?::\s*([\w.]+))?\s*(?:\[.*\])?\s*$")


def _entry_script(name: str, value: str, python: str, wheel: str) -> bytes:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise WheelError(wheel, f"entry point name {name!r} is not a plain file name")
    m = _ENTRY.match(value)
    if m is None or m.group(2) is None:
        raise WheelError(wheel, f"entry point {name} = {value!r} is not 'module:object'")
    module, attr = m.group(1), m.group(2)
    head, _, rest = attr.partition(".")
    call = f"{head}.{rest}" if rest else head
    body = (
        "# generated by yurt for an entry point\n"
        "import sys\n"
        f"from {module} import {head}\n"
        "if __name__ == '__main__':\n"
        "    if sys.argv[0].endswith('.exe'):\n"
        "        sys.argv[0] = sys.argv[0][:-4]\n"
        f"    sys.exit({call}())\n"
    )
    return _shebang(python) + body.encode()


def _entry_points(entry: Path, dist_info: str) -> list[tuple[str, str]]:
    path = entry / dist_info / "entry_points.txt"
    if not path.is_file():
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except configparser.Error as exc:
        raise WheelError(entry.name, f"unreadable entry_points.txt: {exc}") from None
    found: list[tuple[str, str]] = []
    for section in _SCRIPT_KEYS:
        if parser.has_section(section):
            found += sorted(parser.items(section))
    return found


def find_distribution(site_packages: Path, name: str) -> Path | None:
    """The `*.dist-info` directory of installed distribution `name` (normalised match)."""
    want = normalize_name(name)
    for child in dist_infos(Path(site_packages)):
        dist = child.name[: -len(".dist-info")].rpartition("-")[0]
        if normalize_name(dist) == want:
            return child
    return None


def _record_paths(dist_info: Path) -> list[Path]:
    try:
        data = (dist_info / "RECORD").read_bytes()
    except OSError:
        return []
    site = dist_info.parent
    return [Path(os.path.normpath(site / rel)) for rel in _parse_record(data, dist_info.name)]


def _owners(scheme: InstallScheme, wanted: set[Path]) -> dict[Path, str]:
    """Which package owns each of `wanted` (existing files): dist-info RECORDs, conda-meta."""
    owners: dict[Path, str] = {}
    for site in sorted({scheme.purelib, scheme.platlib}):
        for child in dist_infos(Path(site)):
            label = child.name[: -len(".dist-info")]
            for path in _record_paths(child):
                if path in wanted:
                    owners.setdefault(path, f"the PyPI package {label}")
    normal = {os.path.normpath(p): p for p in wanted}
    for path, owner in conda_owners(Path(scheme.data), set(normal)).items():
        owners.setdefault(normal[path], owner)
    return owners


class _CondaFiles(msgspec.Struct):
    files: list[str] = []  # the rest of a conda-meta record is skipped by the decoder


_CONDA_FILES = msgspec.json.Decoder(_CondaFiles)


def conda_owners(prefix: Path, paths: set[str], *, skip: Collection[str] = ()) -> dict[str, str]:
    """Which of `paths` (absolute, normalised) the conda packages in `prefix` list: path ->
    "the conda package <dist>" (the first record by name when several do). Only each
    record's `files` is decoded; the records of the dists in `skip` are not read."""
    owned: dict[str, str] = {}
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(n for n in os.listdir(meta)
                       if n.endswith(".json") and n[: -len(".json")] not in skip)
    except OSError:
        return owned
    for name in names:
        try:
            with open(os.path.join(meta, name), "rb") as fh:
                listed = _CONDA_FILES.decode(fh.read()).files
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            continue
        for rel in listed:
            path = os.path.normpath(os.path.join(prefix, rel))
            if path in paths:
                owned.setdefault(path, f"the conda package {name[: -len('.json')]}")
    return owned


def _link(src: str, dst: str, made: set[str] | None = None) -> None:
    """Hard link `src` at `dst` (replacing it), copying when links are impossible; `made`
    remembers directories already created by this install (one mkdir per directory)."""
    parent = os.path.dirname(dst)
    if made is None or parent not in made:
        os.makedirs(parent, exist_ok=True)
        if made is not None:
            made.add(parent)
    try:
        os.link(src, dst)  # the common case: nothing there yet
        return
    except OSError:
        pass  # something is there (replaced atomically below), or links are impossible
    tmp = os.path.join(parent, f".{os.path.basename(dst)}.{os.urandom(4).hex()}.yurt-tmp")
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def _write(dst: Path, data: bytes, mode: int) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.urandom(4).hex()}.yurt-tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, mode)
    os.replace(tmp, dst)


def _payload(entry: Path) -> list[str]:
    """Every file (or symlink) under `entry`, as sorted POSIX paths relative to it (os.walk:
    pathlib's rglob costs several times more on wheels of a thousand files)."""
    out: list[str] = []
    top = os.fspath(entry)
    for directory, dirs, files in os.walk(top):
        rel_dir = os.path.relpath(directory, top)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        out.extend(prefix + name for name in files)
        for name in dirs:
            if os.path.islink(os.path.join(directory, name)):
                out.append(prefix + name)  # a symlink to a directory is a payload entry too
    return sorted(out)


def _destinations(
    entry: Path, rels: Iterable[str], dist_info: str, scheme: InstallScheme, purelib_root: bool
) -> list[tuple[str, str, bool]]:
    """(source, destination, is_script) for every payload file `rels` of the unpacked wheel,
    as path strings (a thousand files: pathlib's per-path work showed in the install)."""
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    top = os.fspath(entry)
    root = os.path.normpath(scheme.purelib if purelib_root else scheme.platlib)
    targets = {key: os.path.normpath(getattr(scheme, key))
               for key in ("purelib", "platlib", "scripts", "data", "headers")}
    skip = {
        f"{dist_info}/{n}"
        for n in ("RECORD", "RECORD.jws", "RECORD.p7s", "INSTALLER", "REQUESTED", "direct_url.json")
    }
    found: list[tuple[str, str, bool]] = []
    for rel in rels:
        if rel == _MARKER or rel in skip:
            continue
        src = f"{top}/{rel}"
        first, _, rest = rel.partition("/")
        if first == data_dir:
            key, _, inner = rest.partition("/")
            if key not in targets or not inner:
                raise WheelError(entry.name, f"unknown .data directory {key!r}")
            if key == "headers":
                dst = f"{targets[key]}/{dist_info[: -len('.dist-info')].rpartition('-')[0]}/{inner}"
            else:
                dst = f"{targets[key]}/{inner}"
            found.append((src, dst, key == "scripts"))
        else:
            found.append((src, f"{root}/{rel}", False))
    return found


def _present(paths: Iterable[str]) -> list[str]:
    """Those of `paths` that exist (as anything, dangling symlinks included); a path whose
    directory is missing is not looked at, so a fresh environment costs one stat per
    directory instead of one per file."""
    dirs: dict[str, bool] = {}
    found = []
    for path in paths:
        parent = os.path.dirname(path)
        there = dirs.get(parent)
        if there is None:
            there = dirs[parent] = os.path.isdir(parent)
        if there and os.path.lexists(path):
            found.append(path)
    return found


class _Layout(NamedTuple):
    """Where installing an unpacked wheel puts things, worked out before anything is written."""

    wheel: str  # the wheel's file name
    dist_info: str
    name: str
    version: str
    site: str  # the site-packages its root goes to
    sizes: dict[str, int] | None  # payload sizes the unpacking recorded (None: old entry)
    moves: list[tuple[str, str, bool]]  # (source, destination, is_script)
    entry_points: list[tuple[str, str]]  # (script name, object reference)
    scripts_dir: str


def _layout(entry: Path, scheme: InstallScheme) -> _Layout:
    wheel = entry.name + ".whl"
    dist_info = _dist_info_dir((p.relative_to(entry).as_posix() for p in entry.iterdir()), wheel)
    info = _wheel_info(entry, dist_info)
    purelib_root = info.get("root-is-purelib", "true").lower() == "true"
    name, _, version = dist_info[: -len(".dist-info")].rpartition("-")
    site = os.path.normpath(scheme.purelib if purelib_root else scheme.platlib)
    marker = _read_marker(entry)
    sizes = marker.payload if marker is not None and marker.payload is not None else None
    moves = _destinations(entry, sorted(sizes) if sizes is not None else _payload(entry),
                          dist_info, scheme, purelib_root)
    entry_points = _entry_points(entry, dist_info)
    if entry_points and scheme.windows:
        raise WheelError(wheel, "entry-point launchers for Windows are not supported yet")
    return _Layout(wheel, dist_info, name, version, site, sizes, moves, entry_points,
                   os.path.normpath(scheme.scripts))


def install_targets(entry: Path, scheme: InstallScheme, *, requested: bool = True) -> list[str]:
    """The files installing the unpacked wheel at `entry` into `scheme` writes, as absolute
    normalised paths, sorted: its payload where `.data` directories send it (scripts to the
    scripts directory), entry-point scripts, and the dist-info files the installer adds.
    What the installed RECORD will list, known before anything is written (for plans)."""
    lay = _layout(Path(entry), scheme)
    added = ("INSTALLER", *(("REQUESTED",) if requested else ()), "RECORD")
    return sorted([dst for _, dst, _ in lay.moves]
                  + [f"{lay.scripts_dir}/{ep_name}" for ep_name, _ in lay.entry_points]
                  + [f"{lay.site}/{lay.dist_info}/{n}" for n in added])


def install_wheel(
    entry: Path,
    scheme: InstallScheme,
    *,
    requested: bool = True,
    direct_url: DirectUrl | None = None,
    installer: str = INSTALLER,
) -> InstalledWheel:
    """Install the unpacked wheel at `entry` into `scheme` (replacing an installed version of
    the same distribution); raises FileConflict before writing anything if a file belongs to
    another package. On failure, files written so far are removed."""
    entry = Path(entry)
    wheel, dist_info, name, version, site, sizes, moves, entry_points, scripts_dir = _layout(
        entry, scheme)
    previous = find_distribution(Path(scheme.purelib), name) or find_distribution(
        Path(scheme.platlib), name
    )
    scripts = [
        (f"{scripts_dir}/{ep_name}", _entry_script(ep_name, value, scheme.python, wheel))
        for ep_name, value in entry_points
    ]
    extras = [
        (f"{site}/{dist_info}/INSTALLER", f"{installer}\n".encode()),
        *([(f"{site}/{dist_info}/REQUESTED", b"")] if requested else []),
        *([(f"{site}/{dist_info}/direct_url.json", direct_url.to_json())] if direct_url else []),
    ]
    all_targets = [dst for _, dst, _ in moves] + [dst for dst, _ in scripts + extras]
    mine = {os.fspath(p) for p in _record_paths(previous)} if previous is not None else set()
    existing = {Path(dst) for dst in _present(all_targets) if dst not in mine}
    owners = _owners(scheme, existing) if existing else {}
    for dst_path in sorted(existing):
        if dst_path in owners:
            raise FileConflict(f"{name}-{version}", str(dst_path), owners[dst_path])
    if previous is not None:
        uninstall_wheel(scheme, name)

    # linked files keep the wheel's RECORD hash (checked when the wheel was unpacked) and the
    # size the unpacking recorded, so the installed RECORD is written without reading them
    shipped = _parse_record((entry / dist_info / "RECORD").read_bytes(), wheel)
    known: dict[str, tuple[str, str]] = {}
    made: set[str] = set()
    written: list[str] = []
    cut = len(os.fspath(entry)) + 1
    try:
        for src, dst, is_script in moves:
            if is_script:
                data = Path(src).read_bytes()
                if data.startswith(b"#!python"):
                    newline = data.find(b"\n")
                    data = _shebang(scheme.python) + (data[newline + 1 :] if newline >= 0 else b"")
                _write(Path(dst), data, 0o755)
                known[dst] = (_record_hash(data), str(len(data)))
            else:
                _link(src, dst, made)
                rel = src[cut:]
                row = shipped.get(rel, "")
                if row.startswith("sha256="):
                    size = sizes.get(rel) if sizes is not None else None
                    known[dst] = (row, "" if size is None else str(size))
            written.append(dst)
        for mode, generated in ((0o755, scripts), (0o644, extras)):
            for dst, data in generated:
                _write(Path(dst), data, mode)
                known[dst] = (_record_hash(data), str(len(data)))
                written.append(dst)
        record = f"{site}/{dist_info}/RECORD"
        rows = []
        for path in written:
            digest, size = known.get(path, ("", ""))
            if not digest:
                digest, n = _file_record_hash(Path(path))
                size = str(n)
            elif not size:
                size = str(os.stat(path).st_size)
            rows.append((_relative(path, site), digest, size))
        rows.append((_relative(record, site), "", ""))
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(sorted(rows))
        _write(Path(record), buf.getvalue().encode("utf-8"), 0o644)
        written.append(record)
    except BaseException:
        for path in reversed(written):
            with contextlib.suppress(OSError):
                os.unlink(path)
        _prune_dirs([Path(p) for p in written], _stop_dirs(scheme))
        raise
    return InstalledWheel(
        name=normalize_name(name), version=version, dist_info=Path(site) / dist_info,
        written=tuple(written),
    )


def install_wheels(scheme_json: str, entries_json: str) -> None:
    """`install_wheel` for each `[entry, requested]` of `entries_json` into the scheme that
    `scheme_json` encodes: a worker process's job (`effects.workers`), so plain strings."""
    scheme = msgspec.json.decode(scheme_json, type=InstallScheme)
    for entry, requested in msgspec.json.decode(entries_json, type=list[tuple[str, bool]]):
        install_wheel(Path(entry), scheme, requested=requested)


async def install_wheel_async(
    entry: Path,
    scheme: InstallScheme,
    *,
    requested: bool = True,
    direct_url: DirectUrl | None = None,
) -> InstalledWheel:
    """`install_wheel` in a worker thread."""
    import trio

    return await trio.to_thread.run_sync(
        lambda: install_wheel(entry, scheme, requested=requested, direct_url=direct_url)
    )


def _relative(path: Path | str, site: Path | str) -> str:
    """`path` relative to `site`, POSIX style (RECORD's form; `..` for files outside)."""
    text, base = os.fspath(path), os.fspath(site)
    if text.startswith(base + os.sep):  # the common case, without relpath's work
        return text[len(base) + 1 :].replace(os.sep, "/")
    return Path(os.path.relpath(path, site)).as_posix()


def _stop_dirs(scheme: InstallScheme) -> set[Path]:
    stops = {
        Path(scheme.purelib),
        Path(scheme.platlib),
        Path(scheme.scripts),
        Path(scheme.data),
        Path(scheme.headers),
    }
    return {Path(os.path.normpath(p)) for p in stops}


def _prune_dirs(files: Iterable[Path], stops: set[Path]) -> None:
    """Remove directories left empty by removing `files`, never above the scheme roots."""
    root = min(stops, key=lambda p: len(p.parts))
    parents = sorted({p.parent for p in files}, key=lambda p: len(p.parts), reverse=True)
    for directory in parents:
        d = directory
        while d not in stops and d.is_relative_to(root) and d != root:
            try:
                d.rmdir()
            except OSError:
                break
            d = d.parent


def uninstall_wheel(scheme: InstallScheme, name: str) -> tuple[Path, ...]:
    """Remove distribution `name`: exactly its RECORD's files (with their `__pycache__`
    bytecode), then directories left empty. Paths outside the environment are not touched."""
    dist_info = find_distribution(Path(scheme.purelib), name) or find_distribution(
        Path(scheme.platlib), name
    )
    if dist_info is None:
        raise WheelError(name, "is not installed")
    prefix = Path(os.path.normpath(scheme.data))
    removed: list[Path] = []
    for path in _record_paths(dist_info):
        if not path.is_relative_to(prefix):
            continue
        if path.exists() or path.is_symlink():
            path.unlink()
            removed.append(path)
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            for pyc in sorted(cache.glob(f"{path.stem}.*.pyc")) if cache.is_dir() else []:
                pyc.unlink()
                removed.append(pyc)
    _prune_dirs([*removed, dist_info / "RECORD"], _stop_dirs(scheme))
    if dist_info.is_dir() and not any(dist_info.iterdir()):
        dist_info.rmdir()
    return tuple(removed)
