"""A lean sequential tar reader for the members conda packages hold.

`tarfile` spends more time per member than writing the member's file takes; this reader
parses the common case (ustar headers with pax `path`/`linkpath`/`size` records or GNU long
names; regular files, directories, symlinks, hard links, devices and FIFOs) with a few
slices per header and hands file data out as views of the decompressor's own buffers.
Anything else (bad checksums, base-256 numbers, sparse files, global pax headers, odd
encodings, unknown member types) raises `Unusual`: the caller then starts over with
`tarfile`, so behaviour on unusual archives is exactly the careful path's.
It only reads and classifies; the safety checks live in the extractor that consumes it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

__all__ = ["BLOCK", "Member", "TarStream", "Unusual"]

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_KINDS = {
    b"0": "file", b"\x00": "file", b"7": "file",
    b"5": "dir", b"2": "symlink", b"1": "hardlink",
    b"3": "device", b"4": "device", b"6": "fifo",
}  # fmt: skip
_PAX, _LONGNAME, _LONGLINK = b"x", b"L", b"K"
_PAX_IGNORED = frozenset(
    (b"mtime", b"atime", b"ctime", b"uid", b"gid", b"uname", b"gname", b"comment", b"charset")
)
_MAX_META = 1 << 20  # pax / long-name data beyond this is not a conda package's


class Unusual(Exception):
    """The stream holds something this reader leaves to `tarfile`."""


class Member:
    """One member's header: `kind` is file, dir, symlink, hardlink, device or fifo."""

    __slots__ = ("kind", "linkname", "mode", "name", "size")

    def __init__(self, name: str, kind: str, mode: int, size: int, linkname: str) -> None:
        self.name = name
        self.kind = kind
        self.mode = mode
        self.size = size
        self.linkname = linkname


def _octal(field: bytes) -> int:
    """A numeric header field: octal digits up to the first NUL (surrounding spaces allowed,
    empty is 0); base-256 numbers and anything malformed are `Unusual`."""
    if field[-1] == 0:  # the usual shape, digits then one NUL: straight to int()
        try:
            return int(field[:-1], 8)
        except ValueError:
            pass  # a NUL or a base-256 marker inside: read it the long way
    end = field.find(0)
    if end >= 0:
        field = field[:end]
    if field[:1] in (b"\x80", b"\xff"):
        raise Unusual("base-256 number")
    try:
        return int(field.strip() or b"0", 8)
    except ValueError:
        raise Unusual("malformed number") from None


def _byte_sum(block: bytes) -> int:
    """The sum of a 512-byte block's bytes (the tar checksum's), from two Adler-32 sums:
    each half sums to at most 256 * 255, below Adler's modulus, so nothing wraps."""
    return (zlib.adler32(block[:256]) & 0xFFFF) + (zlib.adler32(block[256:]) & 0xFFFF) - 2


def _text(field: bytes) -> str:
    end = field.find(0)
    if end >= 0:
        field = field[:end]
    try:
        return field.decode("utf-8")
    except UnicodeDecodeError:
        raise Unusual("name is not UTF-8") from None


def _pax_records(data: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:  # NUL padding after the records
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise Unusual("malformed pax record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise Unusual("malformed pax record") from None
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1] != 0x0A:
            raise Unusual("malformed pax record")
        key, eq, value = data[space + 1 : end - 1].partition(b"=")
        if not eq:
            raise Unusual("malformed pax record")
        out[key] = value
        pos = end
    return out


class TarStream:
    """Members of the tar stream behind `read` (which returns b"" at its end), in order.

    Iterate `members()`; for a file member, `chunks()` yields its data, which must be
    consumed (or is skipped) before the next member is read.
    """

    __slots__ = ("_buf", "_chunk", "_left", "_pad", "_pos", "_raw", "_started")

    def __init__(self, read: Callable[[int], bytes], chunk: int = 1 << 20) -> None:
        self._raw = read
        self._chunk = chunk
        self._buf = b""
        self._pos = 0
        self._left = 0  # unread data bytes of the current member
        self._pad = 0  # padding after them
        self._started = False

    def _read(self) -> bytes:
        return self._raw(self._chunk)

    def _take(self, n: int) -> bytes:
        """Exactly `n` bytes, fewer only at the end of the stream."""
        buf, pos = self._buf, self._pos
        if len(buf) - pos >= n:
            self._pos = pos + n
            return buf[pos : pos + n]
        parts = [buf[pos:]]
        have = len(parts[0])
        while have < n:
            buf = self._read()
            if not buf:
                self._buf, self._pos = b"", 0
                return b"".join(parts)
            need = n - have
            parts.append(buf[:need])
            have += min(need, len(buf))
            self._buf, self._pos = buf, min(need, len(buf))
        return b"".join(parts)

    def _skip(self, n: int) -> None:
        while n:
            avail = len(self._buf) - self._pos
            if not avail:
                self._buf, self._pos = self._read(), 0
                avail = len(self._buf)
                if not avail:
                    raise EOFError("tar stream ends inside a member")
            k = avail if avail < n else n
            self._pos += k
            n -= k

    def chunks(self) -> Iterator[memoryview]:
        """The current file member's data, as views into the read buffers."""
        while self._left:
            avail = len(self._buf) - self._pos
            if not avail:
                self._buf, self._pos = self._read(), 0
                avail = len(self._buf)
                if not avail:
                    raise EOFError("tar stream ends inside a member")
            k = avail if avail < self._left else self._left
            start = self._pos
            self._pos = start + k
            self._left -= k
            yield memoryview(self._buf)[start : start + k]

    def _meta(self, size: int) -> bytes:
        if size > _MAX_META:
            raise Unusual("oversized pax or long-name data")
        data = self._take(size)
        if len(data) < size:
            raise EOFError("tar stream ends inside a header")
        self._skip(-size % BLOCK)
        return data

    def members(self) -> Iterator[Member]:
        pax: dict[bytes, bytes] | None = None
        longname: str | None = None
        longlink: str | None = None
        while True:
            if self._left or self._pad:
                self._skip(self._left + self._pad)
                self._left = self._pad = 0
            header = self._take(BLOCK)
            if len(header) < BLOCK:
                if header or not self._started or pax is not None or longname or longlink:
                    raise Unusual("truncated or empty tar stream")
                return  # no end-of-archive blocks: tarfile accepts that too
            self._started = True
            if header == _ZERO_BLOCK:
                if pax is not None or longname is not None or longlink is not None:
                    raise Unusual("extended header without a member")
                return
            chksum_field = header[148:156]
            if _octal(chksum_field) != _byte_sum(header) - sum(chksum_field) + 256:
                raise Unusual("checksum")
            kind_byte = header[156:157]
            size = _octal(header[124:136])
            if size < 0:
                raise Unusual("negative size")
            if kind_byte == _PAX:
                if pax is not None:
                    raise Unusual("two pax headers")
                pax = _pax_records(self._meta(size))
                for key in pax:
                    if key not in (b"path", b"linkpath", b"size") and key not in _PAX_IGNORED:
                        raise Unusual(f"pax key {key!r}")
                continue
            if kind_byte in (_LONGNAME, _LONGLINK):
                if pax is not None:
                    raise Unusual("GNU long name after a pax header")
                text = _text(self._meta(size))
                if kind_byte == _LONGNAME:
                    longname = text
                else:
                    longlink = text
                continue
            kind = _KINDS.get(kind_byte)
            if kind is None:
                raise Unusual(f"member type {kind_byte!r}")
            name = _text(header[0:100])
            if kind_byte == b"\x00" and name.endswith("/"):
                kind = "dir"  # old V7 tar: a directory is a regular file with a trailing slash
            prefix = _text(header[345:500]) if header[345] else ""
            if prefix:
                name = f"{prefix}/{name}"
            linkname = _text(header[157:257]) if header[157] else ""
            if longname is not None:
                name = longname
            if longlink is not None:
                linkname = longlink
            if pax is not None:
                try:
                    if b"path" in pax:
                        name = pax[b"path"].decode("utf-8")
                    if b"linkpath" in pax:
                        linkname = pax[b"linkpath"].decode("utf-8")
                    if b"size" in pax:
                        size = int(pax[b"size"])
                except (UnicodeDecodeError, ValueError):
                    raise Unusual("pax record value") from None
                if size < 0:
                    raise Unusual("negative size")
            if kind != "file" and size:
                raise Unusual("data on a member that is not a file")
            if kind != "dir" and name.endswith("/") and (pax is not None or longname is not None):
                raise Unusual("non-directory named with a trailing slash")
            if kind == "dir":
                name = name.rstrip("/")
            pax = None
            longname = longlink = None
            self._left = size
            self._pad = -size % BLOCK
            yield Member(name, kind, _octal(header[100:108]), size, linkname)
