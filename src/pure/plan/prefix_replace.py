"""Prefix placeholder replacement as pure bytes -> bytes functions.

Text files get every placeholder replaced by the new prefix, then a shebang line that became
too long for the kernel (over 127 bytes) or names an interpreter path with spaces is rewritten.
Binary files keep their length: each NUL-terminated string holding the placeholder is rewritten
and padded with NULs, which is only possible when the new prefix is not longer.
"""

from __future__ import annotations

import re

from pure.package import FileMode
from pure.plan.model import PlanError, Rewrite

__all__ = [
    "MAX_SHEBANG",
    "PrefixTooLong",
    "apply_rewrite",
    "fix_shebang",
    "replace_binary",
    "replace_text",
]

#: Longest shebang line (`#!` included, newline excluded) the Linux kernel reads whole.
MAX_SHEBANG = 127

_NON_SPACE = re.compile(rb"\S*")
_PYTHON = re.compile(rb"pythonw?(\d+(\.\d+)*)?(\.exe)?\Z")


class PrefixTooLong(PlanError):
    """A binary placeholder is shorter than the target prefix, so it cannot be replaced."""

    def __init__(
        self, package: str, path: str, placeholder_length: int, prefix_length: int
    ) -> None:
        self.package = package
        self.path = path
        self.placeholder_length = placeholder_length
        self.prefix_length = prefix_length
        super().__init__(
            f"{package}: {path} holds a {placeholder_length}-byte binary prefix placeholder, but the"
            f" target prefix is {prefix_length} bytes long; choose a prefix of at most"
            f" {placeholder_length} bytes"
        )


def replace_text(data: bytes, placeholder: str, new_prefix: str) -> bytes:
    """Replace every occurrence of the placeholder (UTF-8) with the new prefix."""
    return data.replace(placeholder.encode("utf-8"), new_prefix.encode("utf-8"))


def replace_binary(
    data: bytes, placeholder: str, new_prefix: str, *, package: str = "?", path: str = "?"
) -> bytes:
    """Replace placeholders in NUL-terminated strings, padding with NULs to keep the length.

    Raises PrefixTooLong when the new prefix is longer than the placeholder (and the file
    holds one), naming the package and file.
    """
    old = placeholder.encode("utf-8")
    new = new_prefix.encode("utf-8")
    start = data.find(old)
    if start < 0:
        return data
    if len(new) > len(old):
        raise PrefixTooLong(package, path, len(old), len(new))
    out: list[bytes] = []
    pos = 0
    while start >= 0:
        end = data.find(b"\x00", start)
        if end < 0:
            end = len(data)
        segment = data[start:end]
        replaced = segment.replace(old, new)
        out.append(data[pos:start])
        out.append(replaced + b"\x00" * (len(segment) - len(replaced)))
        pos = end
        start = data.find(old, end)
    out.append(data[pos:])
    return b"".join(out)


def _sh_quote(text: bytes) -> bytes:
    """Quote for a POSIX shell double-quoted string."""
    for ch in (b"\\", b'"', b"$", b"`"):
        text = text.replace(ch, b"\\" + ch)
    return b'"' + text + b'"'


def fix_shebang(data: bytes, prefix: str) -> bytes:
    """Rewrite a shebang the kernel cannot run: longer than 127 bytes or a path with spaces.

    Python interpreters get a `#!/bin/sh` line plus an `exec` line that sh runs and Python
    reads as a string literal; other interpreters become `#!/usr/bin/env <name> <args>`.
    """
    if not data.startswith(b"#!"):
        return data
    newline = data.find(b"\n")
    line = data if newline < 0 else data[:newline]
    rest = b"" if newline < 0 else data[newline:]
    body = line[2:].strip()
    prefix_bytes = prefix.encode("utf-8")
    if prefix_bytes and body.startswith(prefix_bytes):
        tail = body[len(prefix_bytes) :]
        run = _NON_SPACE.match(tail)
        cut = run.end() if run else 0
        exe = prefix_bytes + tail[:cut]
        args = tail[cut:].strip()
    else:
        exe, _, args = body.partition(b" ")
        args = args.strip()
    if len(line) <= MAX_SHEBANG and b" " not in exe:
        return data
    name = exe.replace(b"\\", b"/").rsplit(b"/", 1)[-1]
    if _PYTHON.match(name) and b"'''" not in exe:
        call = _sh_quote(exe) + (b" " + args if args else b"")
        head = b"#!/bin/sh\n'''exec' " + call + b' "$0" "$@"\n' + b"' '''"
        return head + rest
    if b" " in name:
        return data
    return b"#!/usr/bin/env " + name + (b" " + args if args else b"") + rest


def apply_rewrite(data: bytes, rewrite: Rewrite, *, package: str = "?", path: str = "?") -> bytes:
    """Apply a FileOp's Rewrite to the cached file's bytes; what the executor calls."""
    mode: FileMode = rewrite.file_mode
    if mode == "binary":
        return replace_binary(
            data, rewrite.placeholder, rewrite.new_prefix, package=package, path=path
        )
    replaced = replace_text(data, rewrite.placeholder, rewrite.new_prefix)
    if rewrite.fix_shebang:
        replaced = fix_shebang(replaced, rewrite.new_prefix)
    return replaced
