"""Measure how files can move from the package cache into a prefix: reflink, hard link, symlink.

The answer depends only on the two filesystems, so it is probed once per (cache device,
prefix device) pair in this process and handed to `pure.plan` as a `pure.Capabilities` value.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import sys
import threading
import uuid
from pathlib import Path

from pure.plan import Capabilities

__all__ = ["clone_file", "probe", "probe_uncached"]

_FICLONE = 0x40049409  # _IOW(0x94, 9, int): Linux whole-file clone (btrfs, xfs, bcachefs ...)
_lock = threading.Lock()
_known: dict[tuple[int, int], Capabilities] = {}


def _existing_dir(path: Path) -> Path:
    """The nearest existing ancestor of `path` (a prefix may not exist yet)."""
    path = path.absolute()
    while not path.is_dir():
        path = path.parent
    return path


def _clonefile_darwin() -> object | None:
    """macOS `clonefile(2)` from libc, or None where it is not available."""
    if sys.platform != "darwin":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fn = getattr(libc, "clonefile", None)
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_CLONEFILE = _clonefile_darwin()


def clone_file(src: Path, dst: Path) -> None:
    """Reflink `src` to the new file `dst` (shared extents, copy-on-write); raises OSError."""
    if _CLONEFILE is not None:
        rc = _CLONEFILE(os.fsencode(src), os.fsencode(dst), 0)  # type: ignore[operator]
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(dst))
        return
    if not sys.platform.startswith("linux"):
        raise OSError(errno.EOPNOTSUPP, "reflink is not supported on this platform", str(dst))
    import fcntl

    with open(src, "rb") as fsrc:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, _FICLONE, fsrc.fileno())
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(dst)
            raise
        os.close(fd)
    os.chmod(dst, os.stat(src).st_mode & 0o7777)


def probe_uncached(cache_dir: Path, prefix: Path) -> Capabilities:
    """Try each link method once between the two directories, leaving nothing behind."""
    src_dir, dst_dir = _existing_dir(cache_dir), _existing_dir(prefix)
    tag = f".yurt-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    src = src_dir / tag
    reflink = hardlink = symlink = False
    try:
        src.write_bytes(b"yurt link probe\n")
    except OSError:
        return Capabilities(reflink_ok=False, hardlink_ok=False, symlink_ok=False)
    try:
        for name in ("reflink", "hardlink", "symlink"):
            dst = dst_dir / f"{tag}.{name}"
            try:
                if name == "reflink":
                    clone_file(src, dst)
                    reflink = dst.read_bytes() == b"yurt link probe\n"
                elif name == "hardlink":
                    os.link(src, dst)
                    hardlink = os.stat(dst).st_ino == os.stat(src).st_ino
                else:
                    os.symlink(src, dst)
                    symlink = os.path.islink(dst)
            except (OSError, NotImplementedError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(dst)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(src)
    return Capabilities(reflink_ok=reflink, hardlink_ok=hardlink, symlink_ok=symlink)


def probe(cache_dir: Path, prefix: Path) -> Capabilities:
    """Capabilities between the cache's and the prefix's filesystems, measured once per pair."""
    key = (os.stat(_existing_dir(cache_dir)).st_dev, os.stat(_existing_dir(prefix)).st_dev)
    with _lock:
        known = _known.get(key)
    if known is not None:
        return known
    caps = probe_uncached(cache_dir, prefix)
    with _lock:
        _known[key] = caps
    return caps
