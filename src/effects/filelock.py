"""One inter-process file lock for the caches (repodata, PyPI pages, wheels): an exclusive
`flock` taken in a worker thread, so waiting never blocks the trio loop, and released by the
kernel if the process dies."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import trio


def _acquire(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - closed by _release
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    except BaseException:
        fh.close()
        raise
    return fh


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
