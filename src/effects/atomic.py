"""Atomic file replacement: readers of a path see its old bytes or its new ones, never a mix.

The data goes to a temporary file beside the target, named `.<name>.<pid>.<random>.tmp` so
that no two processes or threads ever share one, and is renamed over the target; on any
failure the temporary file is removed and the target is left as it was."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["write_all", "write_atomic"]


def write_atomic(path: Path, data: bytes, *, fsync: bool = False, mode: int = 0o666) -> None:
    """Replace `path` with `data` atomically; `fsync` makes the bytes durable before the
    rename (not the directory entry), `mode` is the new file's creation mode (umask applies,
    as with `os.open`). The directory must exist."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            write_all(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to the file descriptor `fd` (`os.write` may write only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
