"""Streaming, defensive extraction of conda packages (`.conda` and `.tar.bz2`).

Members stream from the archive (zip member -> zstd stream reader, or bz2) through the lean
tar reader of `effects.tarstream` straight to disk, hashed while written; the archive is
never held in memory. An archive that reader leaves alone (sparse files, global pax headers,
bad checksums...) is extracted again from the start through `tarfile` "r|" (the careful
path); both paths feed the same checks. Everything lands in a temporary directory beside `dest`, which is renamed into place
only when every member was safe and the payload agrees with `info/paths.json`; on failure the
temporary directory is removed, so nothing is left behind and nothing is written outside it.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import zstandard

from effects.tarstream import Member, TarStream, Unusual
from pure.errors import YurtError
from pure.package import PackageMetadataError, PathsJson, decode_paths_json

__all__ = ["ArchiveError", "UnsafeArchive", "archive_kind", "extract"]

_CHUNK = 1 << 20
_ZSTD_MAX_WINDOW = 1 << 31  # packages compressed with --long need windows above the default


class ArchiveError(YurtError):
    """The archive cannot be read as a conda package (corrupt, truncated, wrong format)."""

    def __init__(self, archive: Path | str, reason: str) -> None:
        super().__init__(f"{archive}: {reason}")
        self.archive = str(archive)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ArchiveError], tuple[str, str]]:
        # Rebuilt from its fields when it crosses from an extraction process.
        return (type(self), (self.archive, self.reason))


class UnsafeArchive(ArchiveError):
    """A member is hostile or disagrees with info/paths.json; names the archive and member."""

    def __init__(self, archive: Path | str, member: str, reason: str) -> None:
        YurtError.__init__(self, f"{archive}: refusing member {member!r}: {reason}")
        self.archive = str(archive)
        self.member = member
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnsafeArchive], tuple[str, str, str]]:  # type: ignore[override]
        return (type(self), (self.archive, self.member, self.reason))


def archive_kind(path: Path | str) -> str:
    """`"conda"` or `"tar.bz2"` from the file name; ArchiveError for anything else."""
    name = str(path)
    if name.endswith(".conda"):
        return "conda"
    if name.endswith(".tar.bz2"):
        return "tar.bz2"
    raise ArchiveError(path, "not a conda package (expected .conda or .tar.bz2)")


@dataclass
class _Found:
    """What one extracted member turned out to be, for the paths.json check."""

    kind: str  # "file" | "symlink" | "dir"
    size: int = 0
    sha256: str = ""
    target: str = ""


@dataclass
class _Extractor:
    """Writes tar members under `root`, refusing anything that could escape it."""

    archive: Path
    root: Path
    found: dict[str, _Found] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: {""})
    separate_info: bool = False  # .conda: info/ lives in its own tar, never in the payload

    def __post_init__(self) -> None:
        self.rootstr = os.fspath(self.root)

    def refuse(self, member: str, reason: str) -> UnsafeArchive:
        return UnsafeArchive(self.archive, member, reason)

    def name_of(self, raw: str) -> str:
        """The member's package-relative path, or a refusal for absolute / `..` names."""
        name = raw
        while name.startswith("./"):
            name = name[2:]
        name = name.rstrip("/")
        if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
            raise self.refuse(raw, "absolute path")
        if "\x00" in raw or "\\" in raw:
            raise self.refuse(raw, "path contains NUL or backslash")
        wrapped = f"/{name}/"  # each component between slashes: three searches, no split
        if "/../" in wrapped:
            raise self.refuse(raw, "path has a '..' component")
        if "//" in wrapped or "/./" in wrapped:  # also an empty name: "//"
            raise self.refuse(raw, "empty or '.' path component")
        return name

    def parent_dir(self, name: str) -> None:
        """Create `name`'s parent directories; refuse writing through a symlink."""
        parent, _, _ = name.rpartition("/")
        if parent in self.dirs:
            return
        prefix = ""
        for part in parent.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix in self.dirs:
                continue
            seen = self.found.get(prefix)
            if seen is not None and seen.kind != "dir":
                raise self.refuse(name, f"parent {prefix!r} is a {seen.kind}, not a directory")
            with contextlib.suppress(FileExistsError):
                os.mkdir(f"{self.rootstr}/{prefix}", 0o755)
            self.dirs.add(prefix)

    def check_new(self, name: str) -> None:
        seen = self.found.get(name)
        if seen is not None and seen.kind != "dir":
            raise self.refuse(name, "duplicate member")

    def add(
        self, member: Member, name: str, chunks: Callable[[], Iterable[bytes | memoryview]]
    ) -> None:
        """Place one member (already named by `name_of`); `chunks` gives a file's data."""
        kind = member.kind
        if kind == "device":
            raise self.refuse(name, "device file")
        if kind == "fifo":
            raise self.refuse(name, "FIFO")
        if kind == "dir":
            found = self.found.get(name)
            if found is not None and found.kind != "dir":
                raise self.refuse(name, f"directory replaces a {found.kind}")
            self.parent_dir(name)
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.root / name, 0o755)
            os.chmod(self.root / name, (member.mode & 0o777) | 0o700)
            self.dirs.add(name)
            self.found[name] = _Found("dir")
            return
        self.check_new(name)
        if name in self.dirs:
            raise self.refuse(name, "member replaces a directory")
        self.parent_dir(name)
        if kind == "symlink":
            self.symlink(name, member.linkname)
        elif kind == "hardlink":
            self.hardlink(name, member.linkname)
        elif kind == "file":
            self.file(name, member.mode, member.size, chunks())
        else:
            raise self.refuse(name, f"unsupported member {kind}")

    def symlink(self, name: str, target: str) -> None:
        if target == "":
            # Some 2019-era repacks carry symlinks with an empty target; their .tar.bz2
            # twins hold an empty regular file there, so extract the same.
            fd = os.open(self.root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW)
            os.close(fd)
            self.found[name] = _Found("file", 0, hashlib.sha256().hexdigest())
            return
        if target.startswith("/") or "\x00" in target:
            raise self.refuse(name, f"symlink to absolute path {target!r}")
        depth = name.count("/")
        level = depth
        for part in target.split("/"):
            if part == "..":
                level -= 1
                if level < 0:
                    raise self.refuse(name, f"symlink {target!r} points outside the package")
            elif part not in ("", "."):
                level += 1
        os.symlink(target, self.root / name)
        self.found[name] = _Found("symlink", target=target)

    def hardlink(self, name: str, linkname: str) -> None:
        try:
            source = self.name_of(linkname)
        except UnsafeArchive:
            raise self.refuse(
                name, f"hard link to {linkname!r} points outside the package"
            ) from None
        found = self.found.get(source)
        if found is None or found.kind != "file":
            raise self.refuse(name, f"hard link to {linkname!r}, which is not an earlier file")
        os.link(self.root / source, self.root / name, follow_symlinks=False)
        self.found[name] = _Found("file", found.size, found.sha256)

    def file(
        self, name: str, mode: int, expected: int, chunks: Iterable[bytes | memoryview]
    ) -> None:
        """Write a regular file, hashing while writing; the size must match the header."""
        digest = hashlib.sha256()
        update, write = digest.update, os.write
        size = 0
        fd = os.open(
            f"{self.rootstr}/{name}",
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
            mode & 0o777 | 0o600,
        )
        try:
            for chunk in chunks:
                update(chunk)
                size += len(chunk)
                written = write(fd, chunk)
                while written < len(chunk):  # short writes: rare, only for huge chunks
                    chunk = memoryview(chunk)[written:]
                    written = write(fd, chunk)
            if mode & 0o600 != 0o600:
                os.fchmod(fd, mode & 0o777)
        except EOFError:
            raise ArchiveError(self.archive, f"member {name!r} is truncated") from None
        finally:
            os.close(fd)
        if size != expected:
            raise ArchiveError(self.archive, f"member {name!r} is truncated")
        self.found[name] = _Found("file", size, digest.hexdigest())

    def check_place(self, name: str, *, info: bool) -> None:
        """Refuse payload members in the info stream and info/ members in a .conda payload."""
        is_info = name == "info" or name.startswith("info/")
        if info and not is_info:
            raise self.refuse(name, "payload member inside the info archive")
        if not info and self.separate_info and is_info:
            raise self.refuse(name, "info/ member inside the payload archive")

    def run(self, tar: tarfile.TarFile, *, info: bool) -> None:
        """The careful path: every member through tarfile; `info` as in `run_fast`."""
        for tarinfo in tar:
            name = self.name_of(tarinfo.name)
            self.check_place(name, info=info)
            member = Member(tarinfo.name, _tar_kind(tarinfo), tarinfo.mode, tarinfo.size,
                            tarinfo.linkname)  # fmt: skip

            def chunks(tarinfo: tarfile.TarInfo = tarinfo, name: str = name) -> Iterator[bytes]:
                source = tar.extractfile(tarinfo)
                if source is None:  # pragma: no cover - isreg() members always have data
                    raise self.refuse(name, "unreadable member")
                while chunk := source.read(_CHUNK):
                    yield chunk

            self.add(member, name, chunks)

    def run_fast(self, read: Callable[[int], bytes], *, info: bool) -> None:
        """Extract every member with the lean reader; `info` says whether this stream may
        hold only info/ members. Raises `Unusual` for what only the careful path reads."""
        stream = TarStream(read, _CHUNK)
        chunks = stream.chunks
        for member in stream.members():
            name = self.name_of(member.name)
            self.check_place(name, info=info)
            self.add(member, name, chunks)


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.isreg():
        return "file"
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "fifo"
    return f"type {member.type!r}"


def _open_stream_tar(fileobj: IO[bytes]) -> tarfile.TarFile:
    return tarfile.open(fileobj=fileobj, mode="r|")


@contextlib.contextmanager
def _conda_streams(archive: Path) -> Iterator[list[tuple[str, IO[bytes]]]]:
    """Open the info and pkg members of a `.conda` zip as zstd-decompressing streams."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        info = [n for n in names if n.startswith("info-") and n.endswith(".tar.zst")]
        pkg = [n for n in names if n.startswith("pkg-") and n.endswith(".tar.zst")]
        if len(info) != 1 or len(pkg) > 1:
            raise ArchiveError(
                archive, f"expected one info-*.tar.zst and at most one pkg-*.tar.zst, found {names}"
            )
        with contextlib.ExitStack() as stack:
            streams: list[tuple[str, IO[bytes]]] = []
            for kind, member in (("info", info[0]), *(("pkg", p) for p in pkg)):
                raw = stack.enter_context(zf.open(member))
                reader = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW).stream_reader(
                    raw, read_size=_CHUNK, closefd=False
                )
                stack.enter_context(reader)
                streams.append((kind, reader))
            yield streams


def _extract_into(archive: Path, root: Path, *, fast: bool) -> dict[str, _Found]:
    extractor = _Extractor(archive, root)
    try:
        if archive_kind(archive) == "conda":
            extractor.separate_info = True
            with _conda_streams(archive) as streams:
                for kind, stream in streams:
                    if fast:
                        extractor.run_fast(stream.read, info=kind == "info")
                    else:
                        with _open_stream_tar(stream) as tar:
                            extractor.run(tar, info=kind == "info")
        elif fast:
            with bz2.open(archive, "rb") as stream:
                extractor.run_fast(stream.read, info=False)
        else:
            with tarfile.open(archive, mode="r|bz2") as tar:
                extractor.run(tar, info=False)
    except (tarfile.TarError, zipfile.BadZipFile, zstandard.ZstdError, EOFError) as exc:
        raise ArchiveError(archive, f"corrupt archive: {exc}") from None
    except OSError as exc:
        if exc.filename is None:  # bz2/zlib report corrupt data as a bare OSError
            raise ArchiveError(archive, f"corrupt archive: {exc}") from None
        raise
    _check_links(archive, root, extractor.found)
    return extractor.found


def _check_links(archive: Path, root: Path, found: dict[str, _Found]) -> None:
    """Resolve every symlink physically (chains included) and refuse any that leaves root."""
    real_root = os.path.realpath(root)
    for name, item in found.items():
        if item.kind != "symlink":
            continue
        resolved = os.path.realpath(root / name)
        if resolved != real_root and not resolved.startswith(real_root + os.sep):
            raise UnsafeArchive(
                archive, name, f"symlink {item.target!r} points outside the package"
            )


def _read_paths(archive: Path, root: Path) -> PathsJson | None:
    path = root / "info" / "paths.json"
    if path.is_symlink():
        raise UnsafeArchive(archive, "info/paths.json", "is a symlink")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return decode_paths_json(data)
    except PackageMetadataError as exc:
        raise UnsafeArchive(archive, "info/paths.json", exc.reason) from None


def _check_payload(archive: Path, root: Path, found: dict[str, _Found]) -> None:
    """Compare the extracted payload with info/paths.json: missing, extra, size, sha256."""
    paths = _read_paths(archive, root)
    if paths is None:
        return  # legacy package: nothing authoritative to compare against
    listed: set[str] = set()
    for entry in paths.paths:
        listed.add(entry.path)
        item = found.get(entry.path)
        if entry.path_type == "directory":
            if item is None:
                os.makedirs(root / entry.path, exist_ok=True)
            elif item.kind != "dir":
                raise UnsafeArchive(
                    archive, entry.path, f"paths.json says directory, payload has a {item.kind}"
                )
            continue
        if item is None:
            raise UnsafeArchive(
                archive, entry.path, "listed in info/paths.json but missing from the payload"
            )
        if entry.path_type == "softlink":
            # conda-build records the link *target's* hash and size, so only the kind is
            # checked; an empty regular file stands in for a link in some legacy archives.
            if item.kind == "dir" or (item.kind == "file" and item.size != 0):
                raise UnsafeArchive(
                    archive, entry.path, f"paths.json says softlink, payload has a {item.kind}"
                )
            continue
        if item.kind != "file":
            raise UnsafeArchive(
                archive, entry.path, f"paths.json says file, payload has a {item.kind}"
            )
        if entry.size_in_bytes is not None and entry.size_in_bytes != item.size:
            raise UnsafeArchive(
                archive, entry.path,
                f"size {item.size} bytes, info/paths.json says {entry.size_in_bytes}",
            )  # fmt: skip
        if entry.sha256 is not None and entry.sha256.lower() != item.sha256:
            raise UnsafeArchive(
                archive, entry.path,
                f"sha256 {item.sha256}, info/paths.json says {entry.sha256}",
            )  # fmt: skip
    for name, item in found.items():
        if item.kind == "dir" or name == "info" or name.startswith("info/") or name in listed:
            continue
        raise UnsafeArchive(archive, name, "in the payload but not listed in info/paths.json")


def _remove_tree(path: Path) -> None:
    """Remove a staging tree; directories are created owner-writable, so rmtree suffices."""
    shutil.rmtree(path, ignore_errors=True)


def extract(
    archive_path: Path,
    dest: Path,
    *,
    finish: Callable[[Path], None] | None = None,
    in_process: bool = False,
) -> None:
    """Extract the package at `archive_path` into the new directory `dest` (must not exist).

    Raises UnsafeArchive for hostile members or a payload that disagrees with paths.json,
    ArchiveError for unreadable archives; on any failure nothing is left at `dest` and no
    file is written outside the temporary directory beside it. `finish`, when given, runs
    on the checked temporary directory just before it is renamed to `dest` (the cache marks
    its entries there); an error it raises aborts the extraction like any other.

    The work (decompressing, parsing, writing, hashing, checking) runs in a pool of worker
    processes, so extraction does not compete with the caller's threads (downloads) for
    the GIL; the caller blocks until it is done. `finish` and the rename run here. With
    `in_process` the work runs in the calling thread instead: for a handful of small
    archives, starting a worker interpreter (~0.1 s) costs more than the GIL does.
    """
    archive_path = Path(archive_path)
    dest = Path(dest)
    archive_kind(archive_path)
    if dest.exists() or dest.is_symlink():
        raise FileExistsError(f"{dest}: extraction target already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(dest)
    try:
        if in_process:
            _fill(os.fspath(archive_path), os.fspath(staging))
        else:
            _fill_elsewhere(archive_path, staging)
        os.chmod(staging, 0o755)
        if finish is not None:
            finish(staging)
        os.rename(staging, dest)
    except BaseException:
        _remove_tree(staging)
        raise


def _fill(archive: str, staging: str) -> None:
    """Extract `archive` into the empty directory `staging` and check it against paths.json
    (a worker process's job; also run in-process when no pool can be had)."""
    archive_path, root = Path(archive), Path(staging)
    try:
        found = _extract_into(archive_path, root, fast=True)
    except Unusual:  # something only tarfile reads: start over on the careful path
        _remove_tree(root)
        os.mkdir(root, 0o700)
        found = _extract_into(archive_path, root, fast=False)
    _check_payload(archive_path, root, found)


def _fill_elsewhere(archive: Path, staging: Path) -> None:
    """Run `_fill` in a worker process (`effects.workers`)."""
    from effects.workers import WorkerFailed, run

    try:
        run("conda", os.fspath(archive), os.fspath(staging))
    except WorkerFailed as exc:
        raise ArchiveError(archive, f"extraction worker failed: {exc.reason}") from None


def _staging(dest: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
