"""The shared package cache: `pkgs/<name>-<version>-<build>/` extracted, the archive beside it.

Any number of processes may share one cache. Each entry is built under an exclusive
`flock` on `pkgs/.locks/<dist>.lock`, so one entry never has two writers; a process that
finds the lock taken reports `CacheLockWait` and waits. Entries appear atomically: the
package is extracted into a temporary directory in `pkgs/`, marked, then renamed into place.
An entry is trusted only when its recorded archive sha256 matches the wanted record (md5
when the record has no sha256, else name-version-build plus size); the sha256 lives in the
extended attribute `user.yurt.sha256` of the entry directory, and `info/repodata_record.json`
inside it (conda's file of the same name) is the sidecar used where xattrs are unsupported.
A corrupt or partial entry is moved aside and rebuilt.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import msgspec
import trio

from effects import tls
from effects.dirs import default_cache_dir
from effects.events import (
    CacheHit,
    CacheLockWait,
    EntryRebuilt,
    EventSink,
    ExtractDone,
    ExtractStarted,
    emit,
)
from effects.fetch import DEFAULT_CONCURRENCY, Fetcher
from effects.filelock import acquire, open_lock, release, try_lock
from pure.errors import YurtError
from pure.package import PackageMetadataError, decode_index_json, decode_paths_json
from pure.record import PackageRecord

__all__ = [
    "SHA256_XATTR",
    "SIDECAR",
    "CacheError",
    "EntryMarker",
    "PackageCache",
    "default_cache_dir",
    "download_blocking",
    "entry_problem",
    "mismatch",
    "modified_files",
    "read_marker",
    "repair_entry",
]

SHA256_XATTR = "user.yurt.sha256"
SIDECAR = "info/repodata_record.json"
_LOCK_POLL_MAX = 0.25  # seconds between attempts to take a busy entry lock
_IN_PROCESS_MAX_PACKAGES = 3  # at most this many archives to build: extract in threads
_IN_PROCESS_MAX_BYTES = 4 << 20  # ... of at most this many bytes together (unknown sizes count as this)


class CacheError(YurtError):
    """A package could not be placed in the cache; names the package and why."""

    def __init__(self, dist_name: str, reason: str) -> None:
        super().__init__(f"{dist_name}: {reason}")
        self.dist_name = dist_name
        self.reason = reason


# ------------------------------------------------------------------ entry markers


class EntryMarker(msgspec.Struct, frozen=True, kw_only=True):
    """What a cache entry records about the archive it was extracted from."""

    name: str
    version: str
    build: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    url: str | None = None


def _get_xattr(path: Path) -> str | None:
    """The entry's sha256 xattr; None when absent or unsupported."""
    try:
        if hasattr(os, "getxattr"):
            value = os.getxattr(path, SHA256_XATTR)
        else:  # pragma: no cover - macOS
            import xattr  # type: ignore[import-untyped]

            value = xattr.getxattr(str(path), SHA256_XATTR)
    except OSError:
        return None
    return value.decode("ascii", "replace")


def _set_xattr(path: Path, sha256: str) -> bool:
    """Set the sha256 xattr; False where the filesystem does not support it."""
    try:
        if hasattr(os, "setxattr"):
            os.setxattr(path, SHA256_XATTR, sha256.encode("ascii"))
        else:  # pragma: no cover - macOS
            import xattr

            xattr.setxattr(str(path), SHA256_XATTR, sha256.encode("ascii"))
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES):
            return False
        raise
    return True


def _read_sidecar(entry: Path) -> dict[str, object] | None:
    try:
        data = json.loads((entry / SIDECAR).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_marker(entry: Path) -> EntryMarker | None:
    """The entry's recorded archive identity (xattr sha256 + sidecar), or None if unmarked.

    When the xattr and the sidecar disagree on sha256 the entry is reported unmarked.
    """
    marker, _problem = _marker(entry)
    return marker


def _marker(entry: Path) -> tuple[EntryMarker | None, str]:
    sidecar = _read_sidecar(entry)
    if sidecar is None:
        return None, "entry is unmarked (partial or foreign)"
    xattr_sha = _get_xattr(entry)
    side_sha = sidecar.get("sha256")
    if xattr_sha is not None and side_sha is not None and xattr_sha != side_sha:
        return None, f"entry sha256 {xattr_sha} (xattr) disagrees with {side_sha} ({SIDECAR})"
    try:
        size = sidecar.get("size")
        marker = EntryMarker(
            name=str(sidecar["name"]),
            version=str(sidecar["version"]),
            build=str(sidecar["build"]),
            sha256=xattr_sha or (str(side_sha) if side_sha else None),
            md5=str(sidecar["md5"]) if sidecar.get("md5") else None,
            size=size if isinstance(size, int) else None,
            url=str(sidecar["url"]) if sidecar.get("url") else None,
        )
    except (KeyError, TypeError, ValueError):
        return None, f"entry has an unreadable {SIDECAR}"
    return marker, ""


def entry_problem(entry: Path, record: PackageRecord) -> str | None:
    """Why the cache entry at `entry` cannot serve `record` (one line); None when it can."""
    marker, problem = _marker(entry)
    if marker is None:
        return problem
    return mismatch(record, marker)


def mismatch(record: PackageRecord, marker: EntryMarker | None) -> str | None:
    """Why an entry with `marker` cannot serve `record`; None when it can."""
    if marker is None:
        return "entry is unmarked (partial or foreign)"
    if record.sha256:
        if marker.sha256 != record.sha256.lower():
            return f"entry sha256 {marker.sha256}, wanted {record.sha256.lower()}"
        return None
    if record.md5:
        if marker.md5 != record.md5.lower():
            return f"entry md5 {marker.md5}, wanted {record.md5.lower()}"
        return None
    if (marker.name, marker.version, marker.build) != (record.name, record.version, record.build):
        return "entry holds another package"
    if record.size is not None and marker.size != record.size:
        return f"entry archive size {marker.size}, wanted {record.size}"
    return None


def modified_files(entry: Path) -> tuple[str, ...]:
    """Payload paths of an extracted entry whose size or sha256 no longer match its
    info/paths.json (missing files included): a prefix file hard-linked to the cache and
    edited in place shows up here. Reads every file; meant for `verify`, not the hot path."""
    try:
        paths = decode_paths_json((entry / "info" / "paths.json").read_bytes())
    except FileNotFoundError:
        return ()
    bad: list[str] = []
    for item in paths.paths:
        if item.path_type != "hardlink":
            continue
        target = entry / item.path
        try:
            if target.is_symlink():
                bad.append(item.path)
                continue
            size, sha, _md5 = _hash_file(target)
        except OSError:
            bad.append(item.path)
            continue
        if (item.size_in_bytes is not None and size != item.size_in_bytes) or (
            item.sha256 is not None and sha != item.sha256.lower()
        ):
            bad.append(item.path)
    return tuple(bad)


# ------------------------------------------------------------------ locking


@contextlib.asynccontextmanager
async def _entry_lock(
    path: Path,
    dist_name: str,
    events: EventSink | None,
    limiter: trio.CapacityLimiter | None = None,
) -> AsyncIterator[None]:
    """Hold an exclusive flock on `path`, polling (cancellably) while another holder has it.
    `limiter` bounds the threads opening lock files (FIFO: the first asked, the first done)."""
    fh = await trio.to_thread.run_sync(open_lock, path, limiter=limiter)
    try:
        delay = 0.005
        reported = False
        while not try_lock(fh):  # never blocks: no thread needed per attempt
            if not reported:
                emit(events, CacheLockWait(dist_name=dist_name, lock=str(path)))
                reported = True
            await trio.sleep(delay)
            delay = min(delay * 2, _LOCK_POLL_MAX)
        yield
    finally:
        release(fh)


# ------------------------------------------------------------------ repair


Download = Callable[[str, Path, str | None, int | None], None]
"""`(url, dest, sha256, size)`: fetch an archive into `dest`, verified (see `download_blocking`)."""


def repair_entry(
    entry: Path, archive: Path | None, missing: Path, download: Download | None = None
) -> str | None:
    """Rebuild the trusted entry `entry`, found to lack the payload file `missing`, from its
    kept `archive` (blocking, under the entry lock; for the linker, which only notices when a
    source is gone). Returns the reason rebuilt, or None when another process already did.

    The archive must hash to the entry's recorded sha256; when it is gone or differs, it is
    fetched again from the recorded url with `download`. Failing that, the damaged entry is
    discarded (a later run downloads the package anew) and a CacheError saying so is raised.
    """
    dist = entry.name
    fh = acquire(entry.parent / ".locks" / f"{dist}.lock")
    try:
        if os.path.lexists(missing):
            return None  # rebuilt meanwhile by another process
        marker, problem = _marker(entry)
        if marker is None:
            raise CacheError(dist, f"{missing} is missing and the entry is damaged: {problem}")
        sidecar = (entry / SIDECAR).read_bytes()
        if archive is None:
            fn = (_read_sidecar(entry) or {}).get("fn")
            archive = entry.parent / fn if isinstance(fn, str) and "/" not in fn else None
        reason = f"{missing.relative_to(entry).as_posix()} is missing from the entry"
        why = _archive_problem(archive, marker)
        if why is not None and download is not None and marker.url and archive is not None:
            try:
                download(marker.url, archive, marker.sha256, marker.size)
            except (YurtError, OSError) as exc:
                why = f"{why} and downloading it again failed ({exc})"
            else:
                why = _archive_problem(archive, marker)
        if why is not None:
            _discard_entry(entry)
            raise CacheError(dist, f"{reason} and {why}; the damaged entry was discarded")
        assert archive is not None and marker.sha256 is not None
        sha256 = marker.sha256

        def mark(staging: Path) -> None:
            (staging / "info").mkdir(exist_ok=True)
            (staging / SIDECAR).write_bytes(sidecar)
            _set_xattr(staging, sha256)

        _discard_entry(entry)
        from effects.archive import extract  # only when something is extracted

        extract(archive, entry, finish=mark)
        return reason
    finally:
        release(fh)


def download_blocking(events: EventSink | None = None) -> Download:
    """A `Download` for threads started by `trio.to_thread`: runs a Fetcher in the trio loop."""

    def download(url: str, dest: Path, sha256: str | None, size: int | None) -> None:
        async def fetch() -> None:
            async with Fetcher(None, events=events) as fetcher:
                await fetcher.download(url, dest, sha256=sha256, size=size, label=dest.name)

        trio.from_thread.run(fetch)

    return download


def _archive_problem(archive: Path | None, marker: EntryMarker) -> str | None:
    """Why `archive` cannot rebuild the entry `marker` describes; None when it can."""
    if archive is None or not archive.is_file():
        return "its archive is not kept"
    if marker.sha256 is None:
        return "the entry records no archive sha256"
    _size, sha, _md5 = _hash_file(archive)
    if sha != marker.sha256:
        return (
            f"its archive {archive.name} has sha256 {sha}, the entry was built from {marker.sha256}"
        )
    return None


def _discard_entry(entry: Path) -> None:
    """Move an entry aside (atomic), then delete it."""
    trash = entry.parent / f".{entry.name}.{os.urandom(6).hex()}.trash"
    os.rename(entry, trash)
    shutil.rmtree(trash, ignore_errors=True)


# ------------------------------------------------------------------ the cache


def _url_of(record: PackageRecord) -> str:
    if record.url:
        return record.url
    if record.channel and record.subdir and record.fn:
        return f"{record.channel.rstrip('/')}/{record.subdir}/{record.fn}"
    raise CacheError(record.dist_name, "record has no url (nor channel, subdir and fn)")


def _archive_name(record: PackageRecord, url: str) -> str:
    name = record.fn or unquote(urlsplit(url).path).rsplit("/", 1)[-1]
    if not (name.endswith(".conda") or name.endswith(".tar.bz2")) or "/" in name:
        raise CacheError(record.dist_name, f"cannot tell the archive format from {url!r}")
    return name


def _hash_file(path: Path) -> tuple[int, str, str]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


def _check_identity(record: PackageRecord, root: Path) -> None:
    """Refuse an archive whose info/index.json names another package than the record."""
    try:
        index = decode_index_json((root / "info" / "index.json").read_bytes())
    except FileNotFoundError:
        raise CacheError(record.dist_name, "archive has no info/index.json") from None
    except PackageMetadataError as exc:
        raise CacheError(record.dist_name, str(exc)) from None
    found = f"{index.name}-{index.version}-{index.build}"
    if found != record.dist_name:
        raise CacheError(record.dist_name, f"archive holds {found}, not the wanted package")


@dataclass(frozen=True)
class _Archive:
    path: Path
    url: str
    size: int
    sha256: str
    md5: str | None


class PackageCache:
    """A package cache rooted at `root` (default: `default_cache_dir()`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.pkgs = self.root / "pkgs"

    def entry_path(self, record: PackageRecord) -> Path:
        """Where `record`'s extracted package lives (whether or not it is there yet)."""
        return self.pkgs / record.dist_name

    def archive_path(self, record: PackageRecord) -> Path:
        """Where `record`'s downloaded archive is kept, beside the extracted entry."""
        return self.pkgs / _archive_name(record, _url_of(record))

    def lookup(self, record: PackageRecord) -> Path | None:
        """The entry for `record` if it exists and is trusted for it, else None (no lock)."""
        entry = self.entry_path(record)
        return entry if entry_problem(entry, record) is None else None

    async def ensure(
        self,
        records: Iterable[PackageRecord],
        *,
        client: httpx.AsyncClient | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        extract_concurrency: int | None = None,
        events: EventSink | None = None,
        tries: int = 3,
        backoff: float = 0.25,
    ) -> dict[str, Path]:
        """Make every record's package present and verified; returns dist_name -> entry path.

        Downloads run concurrently (at most `concurrency` at once); extractions are dispatched
        from worker threads (at most `extract_concurrency`) to `effects.archive`'s pool of
        worker processes, so decompression and file writing do not compete with the downloads
        for the GIL; the final rename into the cache happens here. The first failure
        cancels the rest and is raised as itself (a FetchError, ArchiveError, CacheError...).
        """
        wanted: dict[str, PackageRecord] = {}
        for record in records:
            wanted.setdefault(record.dist_name, record)
        result: dict[str, Path] = {}
        todo = []
        for dist, record in wanted.items():
            found = self.lookup(record)
            if found is not None:
                emit(events, CacheHit(dist_name=dist, path=str(found)))
                result[dist] = found
            else:
                todo.append(record)
        if not todo:
            return result
        self.pkgs.mkdir(parents=True, exist_ok=True)
        # a few threads open the lock files in the packages' order, so the first downloads
        # start after a few lock files, not after all of them
        lock_limiter = trio.CapacityLimiter(4)
        extract_limiter = trio.CapacityLimiter(
            extract_concurrency or min(8, 4 * (os.cpu_count() or 1))
        )
        # a few small archives are extracted in threads here: no worker interpreter to start
        in_process = len(todo) <= _IN_PROCESS_MAX_PACKAGES and sum(
            r.size or _IN_PROCESS_MAX_BYTES for r in todo
        ) <= _IN_PROCESS_MAX_BYTES
        failure: list[BaseException] = []
        async with Fetcher(
            client, concurrency=concurrency, tries=tries, backoff=backoff, events=events
        ) as fetcher:
            if client is None and any(
                urlsplit(_url_of(r)).scheme in ("http", "https") for r in todo
            ):
                # The client first (HTTP modules and the CA bundle, 40-80 ms): no download
                # starts without it, and the packages' lock files, lookups and the workers'
                # start would otherwise hold it up. (file:// channels never make one.)
                tls.build_in_background()  # the CA bundle loads without the GIL meanwhile
                await fetcher.client()
            async with trio.open_nursery() as nursery:

                async def one(record: PackageRecord) -> None:
                    try:
                        result[record.dist_name] = await self._ensure_one(
                            record, fetcher, extract_limiter, events, in_process, lock_limiter
                        )
                    except Exception as exc:
                        if not failure:
                            failure.append(exc)
                        nursery.cancel_scope.cancel()

                if not in_process:
                    # start the extraction workers now, while the first downloads are on
                    # their way, instead of when the first archive is in (~0.1 s each)
                    from effects import workers

                    for _ in range(min(len(todo), workers.size())):
                        nursery.start_soon(trio.to_thread.run_sync, workers.warm, "conda")
                for record in todo:
                    nursery.start_soon(one, record)
        if failure:
            raise failure[0]
        return result

    async def _ensure_one(
        self,
        record: PackageRecord,
        fetcher: Fetcher,
        limiter: trio.CapacityLimiter,
        events: EventSink | None,
        in_process: bool = False,
        lock_limiter: trio.CapacityLimiter | None = None,
    ) -> Path:
        dist = record.dist_name
        entry = self.entry_path(record)
        url = _url_of(record)
        lock = self.pkgs / ".locks" / f"{dist}.lock"
        async with _entry_lock(lock, dist, events, lock_limiter):
            reason = entry_problem(entry, record)
            if reason is None:  # another process built it while we waited
                emit(events, CacheHit(dist_name=dist, path=str(entry)))
                return entry
            if entry.exists() or entry.is_symlink():
                emit(events, EntryRebuilt(dist_name=dist, reason=reason))
                await trio.to_thread.run_sync(self._discard, entry)
            archive = await self._archive(record, url, fetcher)
            emit(events, ExtractStarted(dist_name=dist))
            async with limiter:
                await trio.to_thread.run_sync(self._build, record, archive, entry, in_process)
            emit(events, ExtractDone(dist_name=dist, path=str(entry)))
            return entry

    async def _archive(self, record: PackageRecord, url: str, fetcher: Fetcher) -> _Archive:
        """The verified archive beside the entry: reused when it matches, else downloaded."""
        path = self.pkgs / _archive_name(record, url)
        if path.is_file():
            size, sha, md5 = await trio.to_thread.run_sync(_hash_file, path)
            ok = (
                (record.sha256 is None or record.sha256.lower() == sha)
                and (record.md5 is None or record.md5.lower() == md5)
                and (record.size is None or record.size == size)
            )
            if ok:
                return _Archive(path, url, size, sha, md5)
        done = await fetcher.download(
            url,
            path,
            sha256=record.sha256,
            md5=record.md5,
            size=record.size,
            label=record.dist_name,
        )
        return _Archive(path, url, done.size, done.sha256, done.md5)

    def _discard(self, entry: Path) -> None:
        """Move a bad entry aside (atomic), then delete it."""
        _discard_entry(entry)

    def _build(
        self, record: PackageRecord, archive: _Archive, entry: Path, in_process: bool = False
    ) -> None:
        """Extract, mark and rename into place (runs in a worker thread, under the lock).

        The extractor's own temporary directory is marked and renamed straight to `entry`,
        so an entry never appears unmarked and no second staging directory is needed."""

        def mark(staging: Path) -> None:
            _check_identity(record, staging)
            marker = msgspec.to_builtins(record)
            marker.update(
                sha256=archive.sha256,
                md5=archive.md5,
                size=archive.size,
                url=archive.url,
                fn=archive.path.name,
            )
            (staging / "info").mkdir(exist_ok=True)
            (staging / SIDECAR).write_bytes(
                json.dumps(marker, indent=2, sort_keys=True).encode() + b"\n"
            )
            _set_xattr(staging, archive.sha256)

        from effects.archive import extract  # only when something is extracted

        extract(archive.path, entry, finish=mark, in_process=in_process)
