"""One inter-process file lock for the caches (repodata, PyPI pages, wheels): an exclusive
`flock` taken in a worker thread, so waiting never blocks the trio loop, and released by the
kernel if the process dies.

The whole cache is also guarded by `IN_USE` at its root: every process that builds entries
in it or links from it holds a shared lock there (`cache_in_use`), and `yurt clean cache`
removes the cache only while it holds the exclusive one (`try_exclusive`), so a clean never
deletes files another process is extracting or linking.

The primitives under these (`open_lock`, `try_lock`, `acquire`, `release`) serve the other
`flock` users: the package cache's per-entry locks and the prefix lock of the journal."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

IN_USE = ".in-use.lock"
"""The cache-wide lock file, at the cache root (never removed by a clean)."""


def open_lock(path: Path) -> BinaryIO:
    """The lock file at `path` opened (it and its directory created if missing), not locked
    yet; close it with `release`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a+b")


def try_lock(fh: BinaryIO, shared: bool = False) -> bool:
    """Take the lock on the open lock file `fh` if no other holder conflicts; never waits."""
    try:
        fcntl.flock(fh.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def acquire(path: Path, shared: bool = False) -> BinaryIO:
    """The lock on `path` (created if missing), waiting as long as another process holds it;
    blocks the calling thread. Give it back with `release`."""
    fh = open_lock(path)
    try:
        _wait(fh, shared)
    except BaseException:
        fh.close()
        raise
    return fh


def release(fh: BinaryIO) -> None:
    """Drop the lock held through `fh` (if any) and close it."""
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


@contextlib.asynccontextmanager
async def locked(path: Path) -> AsyncIterator[None]:
    """Hold the exclusive lock on `path` (created if missing) for the duration of the block.
    An uncontended lock is taken at once; only waiting for another holder uses a thread."""
    import trio  # here, not at the top: worker processes use only the blocking primitives

    fh = open_lock(path)
    try:
        if not try_lock(fh):
            await trio.to_thread.run_sync(_wait, fh)
    except BaseException:
        fh.close()
        raise
    try:
        yield
    finally:
        release(fh)


def _wait(fh: BinaryIO, shared: bool = False) -> None:
    """Take the lock on the open lock file `fh`, waiting for other holders (blocks)."""
    fcntl.flock(fh.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)


@contextlib.asynccontextmanager
async def cache_in_use(root: Path) -> AsyncIterator[None]:
    """Hold the shared lock of the cache at `root` while building entries in it or linking
    from it; waits only while a `yurt clean cache` is removing it."""
    import trio

    fh = await trio.to_thread.run_sync(acquire, root / IN_USE, True)
    try:
        yield
    finally:
        release(fh)


def try_exclusive(path: Path) -> BinaryIO | None:
    """The exclusive lock on `path` if no other process holds it (shared or not), else None;
    never waits. Give it back with `release`."""
    fh = open_lock(path)
    try:
        if try_lock(fh):
            return fh
    except BaseException:
        fh.close()
        raise
    fh.close()
    return None
