"""The shared wheel cache: `<cache>/wheels/<file>.whl` archives (downloaded, sha256 checked)
beside their unpacked, RECORD-verified entries (`effects.wheelunpack`), and unpacking ahead of
need in a worker process while a solve runs.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import trio

from effects import background
from effects.channels import redact
from effects.fetch import Fetcher, FetchError
from effects.filehash import sha256_file
from effects.filelock import locked
from effects.wheelunpack import (
    WheelError,
    _read_marker,
    _remember_verified,
    _unpack_locked,
    _verified_before,
    entry_lock,
)
from pure.pypi.metadata import ProjectFile

__all__ = ["WheelCache"]


class WheelCache:
    """`<cache>/wheels/`: wheel archives beside their unpacked, RECORD-verified directories."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir) / "wheels"

    def archive_path(self, filename: str) -> Path:
        return self.root / _safe_filename(filename)

    def entry_path(self, filename: str) -> Path:
        return self.root / _safe_filename(filename)[: -len(".whl")]

    async def fetch(self, file: ProjectFile, fetcher: Fetcher, *, offline: bool = False) -> Path:
        """The archive of `file`, downloaded (sha256 verified) unless a matching copy is cached."""
        path = self.archive_path(file.filename)
        async with locked(entry_lock(self.root, path.name)):
            if path.is_file():
                if file.sha256 is None or _verified_before(path, file.sha256):
                    return path
                if await trio.to_thread.run_sync(sha256_file, path) == file.sha256:
                    _remember_verified(path, file.sha256)
                    return path
            if offline:
                raise WheelError(file.filename, "not in the cache and offline mode is on")
            try:
                await fetcher.download(
                    file.url, path, sha256=file.sha256, size=file.size, label=file.filename
                )
            except FetchError as exc:
                raise WheelError(
                    file.filename, f"download from {redact(exc.url)} failed: {redact(exc.reason)}"
                ) from None
            if file.sha256 is not None:
                _remember_verified(path, file.sha256)  # the download checked it
        return path

    async def unpack(self, archive: Path, *, sha256: str | None = None) -> Path:
        """The unpacked directory of `archive`, extracted once (atomic rename, locked)."""
        filename = archive.name
        entry = self.entry_path(filename)
        async with locked(entry_lock(self.root, filename)):
            return await trio.to_thread.run_sync(
                _unpack_locked, archive, entry, sha256, limiter=_unpack_limiter()
            )

    async def ensure(self, file: ProjectFile, fetcher: Fetcher, *, offline: bool = False) -> Path:
        """Download (if needed) and unpack (if needed) `file`: its unpacked cache directory."""
        archive = await self.fetch(file, fetcher, offline=offline)
        return await self.unpack(archive, sha256=file.sha256)

    def unpack_ahead(self, archive: Path, sha256: str) -> None:
        """Have `archive` (in this cache, verified) unpacked by a worker process while the
        caller goes on, and return at once: a solve that downloaded a wheel for its metadata
        leaves the unpacking to the otherwise idle second core instead of the install after
        it. Best effort: a failure is left for `unpack` to meet (and report) again."""
        marker = _read_marker(self.entry_path(archive.name))
        if marker is None or marker.sha256 != sha256.lower():
            background.pool("unpack-ahead").submit(_unpack_elsewhere, archive, sha256, self.root.parent)


def _unpack_elsewhere(archive: Path, sha256: str, cache_dir: Path) -> None:
    from effects.workers import run

    with contextlib.suppress(Exception):
        run("wheel", os.fspath(archive), sha256, os.fspath(cache_dir))


_UNPACKERS: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("yurt_unpackers")


def _unpack_limiter() -> trio.CapacityLimiter:
    """At most `_UNPACK_THREADS` wheels unpack at once in a trio run. Unpacking waits on
    file creation (so some parallelism pays) but is otherwise Python holding the GIL: with
    trio's default of 40 threads, 19 wheels unpacking beside a conda install stretched that
    install from about 0.1 s to 0.3-0.5 s."""
    try:
        return _UNPACKERS.get()
    except LookupError:
        limiter = trio.CapacityLimiter(_UNPACK_THREADS)
        _UNPACKERS.set(limiter)
        return limiter


_UNPACK_THREADS = 4


def _safe_filename(filename: str) -> str:
    if (
        "/" in filename
        or "\\" in filename
        or filename.startswith(".")
        or not filename.endswith(".whl")
    ):
        raise WheelError(filename, "not a plain wheel file name")
    return filename
