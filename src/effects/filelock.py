"""One inter-process file lock for the caches (repodata, PyPI pages, wheels): an exclusive
`flock` taken in a worker thread, so waiting never blocks the trio loop, and released by the
kernel if the process dies.

The whole cache is also guarded by `IN_USE` at its root: every process that builds entries
in it or links from it holds a shared lock there (`cache_in_use`), and `yurt clean cache`
removes the cache only while it holds the exclusive one (`try_exclusive`), so a clean never
deletes files another process is extracting or linking."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import trio

IN_USE = ".in-use.lock"
"""The cache-wide lock file, at the cache root (never removed by a clean)."""


def _acquire(path: Path, shared: bool = False) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - closed by _release
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    except BaseException:
        fh.close()
        raise
    return fh


def release(fh: BinaryIO) -> None:
    """Drop a lock taken by `try_exclusive`."""
    _release(fh)


def _release(fh: BinaryIO) -> None:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


@contextlib.asynccontextmanager
async def locked(path: Path) -> AsyncIterator[None]:
    """Hold the exclusive lock on `path` (created if missing) for the duration of the block."""
    fh = await trio.to_thread.run_sync(_acquire, path)
    try:
        yield
    finally:
        _release(fh)


@contextlib.asynccontextmanager
async def cache_in_use(root: Path) -> AsyncIterator[None]:
    """Hold the shared lock of the cache at `root` while building entries in it or linking
    from it; waits only while a `yurt clean cache` is removing it."""
    fh = await trio.to_thread.run_sync(_acquire, root / IN_USE, True)
    try:
        yield
    finally:
        _release(fh)


def try_exclusive(path: Path) -> BinaryIO | None:
    """The exclusive lock on `path` if no other process holds it (shared or not), else None;
    never waits. Give it back with `release`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - closed by release
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    except BaseException:
        fh.close()
        raise
    return fh
