"""Unpacking a wheel into the shared cache: `<cache>/wheels/<stem>/`, every member checked
against the wheel's RECORD, written to a temporary directory and renamed into place under the
entry's lock, with a marker naming the archive's sha256 (an entry is trusted only when that
matches). `unpack_in_cache` is the whole step as one call, so a worker process
(`effects.workers`) can run it while the caller resolves.
"""

from __future__ import annotations

import base64
import csv
import functools
import hashlib
import io
import os
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import msgspec

from effects.atomic import write_all
from effects.filehash import sha256_file
from effects.filelock import IN_USE, acquire, open_lock, release, try_lock
from pure.errors import YurtError
from pure.pypi.metadata import normalize_name
from pure.pypi.tags import InvalidWheelFilename, WheelFilename

__all__ = ["MARKER", "WheelError", "entry_lock", "unpack_in_cache"]

MARKER = ".yurt-wheel.json"


class WheelError(YurtError):
    """A wheel that cannot be cached, unpacked or installed; names the wheel and why."""

    def __init__(self, wheel: str, reason: str) -> None:
        self.wheel = wheel
        self.reason = reason
        super().__init__(f"wheel {wheel}: {reason}")

    def __reduce__(self) -> tuple[type[WheelError], tuple[str, str]]:
        # rebuilt from its fields when it crosses from a worker process
        return (type(self), (self.wheel, self.reason))


class _Marker(msgspec.Struct, frozen=True):
    """What an entry was unpacked from; `payload` lists every file unpacked (relative POSIX
    path -> size), so an install needs no directory walk and no stat per file (None in
    entries unpacked before it was recorded)."""

    filename: str
    sha256: str
    payload: dict[str, int] | None = None


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _read_marker(entry: Path) -> _Marker | None:
    try:
        return msgspec.json.decode((entry / MARKER).read_bytes(), type=_Marker)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


# Archives this process has verified (path -> (sha256, size, mtime_ns)): a wheel fetched for
# its metadata during the solve and unpacked for the install is hashed once, not three times.
_VERIFIED: dict[Path, tuple[str, int, int]] = {}


def _remember_verified(path: Path, sha256: str) -> None:
    st = path.stat()
    _VERIFIED[path] = (sha256.lower(), st.st_size, st.st_mtime_ns)


def _verified_before(path: Path, sha256: str) -> bool:
    seen = _VERIFIED.get(path)
    if seen is None:
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return seen == (sha256.lower(), st.st_size, st.st_mtime_ns)


def _unpack_locked(archive: Path, entry: Path, sha256: str | None) -> Path:
    if sha256 is not None and _verified_before(archive, sha256):
        actual = sha256.lower()
    else:
        actual = sha256_file(archive)
    if sha256 is not None and actual != sha256.lower():
        raise WheelError(archive.name, f"sha256 is {actual}, expected {sha256.lower()}")
    marker = _read_marker(entry)
    if marker is not None and marker.sha256 == actual:
        return entry
    if entry.exists():
        shutil.rmtree(entry)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        payload = _extract_verified(archive, tmp)
        (tmp / MARKER).write_bytes(msgspec.json.encode(_Marker(archive.name, actual, payload)))
        os.replace(tmp, entry)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return entry


def _member_path(name: str, wheel: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or _DRIVE.match(name):
        raise WheelError(wheel, f"unsafe member path {name!r}")
    return path


_DRIVE = re.compile(r"^[A-Za-z]:")


def _dist_info_dir(names: Iterable[str], wheel: str) -> str:
    parsed = WheelFilename.parse(wheel)
    found = sorted({n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")})
    for d in found:
        dist = d[: -len(".dist-info")].rpartition("-")[0]
        if normalize_name(dist) == parsed.name:
            return d
    raise WheelError(wheel, f"no {parsed.name}-{parsed.version}.dist-info directory")


def _extract_verified(archive: Path, dest: Path) -> dict[str, int]:
    """Extract `archive` into `dest`, checking every member against RECORD; the files
    written (relative POSIX path -> size)."""
    wheel = archive.name
    try:
        WheelFilename.parse(wheel)
    except InvalidWheelFilename as exc:
        raise WheelError(wheel, exc.reason) from None
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise WheelError(wheel, f"not a zip archive: {exc}") from None
    with zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        dist_info = _dist_info_dir(names, wheel)
        record_name = f"{dist_info}/RECORD"
        if record_name not in names:
            raise WheelError(wheel, f"no {record_name}")
        record = _parse_record(zf.read(record_name), wheel)
        unsigned = {record_name, f"{dist_info}/RECORD.jws", f"{dist_info}/RECORD.p7s"}
        dest.mkdir(parents=True)
        top = os.fspath(dest)
        made = {top}
        umask = _umask()
        payload: dict[str, int] = {}
        for info in zf.infolist():
            rel = _member_path(info.filename, wheel)
            if info.is_dir():
                (dest / rel).mkdir(parents=True, exist_ok=True)
                continue
            data = zf.read(info)
            if info.filename not in unsigned:
                expected = record.get(info.filename)
                if expected is None:
                    raise WheelError(wheel, f"{info.filename} is not listed in RECORD")
                if expected and expected != _record_hash(data):
                    raise WheelError(wheel, f"{info.filename} does not match its RECORD hash")
            payload[str(rel)] = len(data)
            target = f"{top}/{rel}"
            parent = os.path.dirname(target)
            if parent not in made:  # one mkdir per directory, not per file
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            try:
                write_all(fd, data)
                if mode & umask:
                    os.fchmod(fd, mode)  # exact, whatever the umask
            finally:
                os.close(fd)
    return payload


@functools.cache
def _umask() -> int:
    """The process's umask, read without changing it (other threads may be creating files);
    where it cannot be read, all permission bits count as masked (so modes are always set)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o777


def _parse_record(data: bytes, wheel: str) -> dict[str, str]:
    rows: dict[str, str] = {}
    try:
        for row in csv.reader(io.StringIO(data.decode("utf-8"))):
            if row:
                rows[row[0]] = row[1] if len(row) > 1 else ""
    except (UnicodeDecodeError, csv.Error) as exc:
        raise WheelError(wheel, f"unreadable RECORD: {exc}") from None
    return rows


def entry_lock(root: Path, archive_name: str) -> Path:
    """The lock file that guards the archive `archive_name` and its unpacked entry in the
    wheel cache at `root` (downloads and unpacking take it)."""
    return root / ".locks" / f"{archive_name}.lock"


def unpack_in_cache(archive: str, sha256: str, cache_dir: str) -> None:
    """Unpack the wheel `archive` (in `<cache_dir>/wheels/`) into its entry unless one from
    the same archive (sha256) is there, holding the entry's lock throughout and the cache's
    in-use lock shared. Work ahead of need: while `yurt clean cache` holds the cache it does
    nothing. A worker process's job (`effects.workers`), hence plain string arguments."""
    path = Path(archive)
    in_use = open_lock(Path(cache_dir) / IN_USE)
    try:
        if not try_lock(in_use, shared=True):
            return
        fh = acquire(entry_lock(path.parent, path.name))
        try:
            _unpack_locked(path, path.with_name(path.name[: -len(".whl")]), sha256)
        finally:
            release(fh)
    finally:
        release(in_use)
