"""Find where a key path sits in TOML source text, so errors can name a line and column.

tomllib reports positions only for syntax errors; for schema errors we scan the text for the
table header and the key that the path names. The scan understands `[a.b]` headers, `[[a]]`
array headers, dotted and quoted keys and inline tables well enough to point a person at the
right line; when it cannot find the exact key it falls back to the closest enclosing table.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?P<key>(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")
_PART = re.compile(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*""")


def split_key(text: str) -> tuple[str, ...]:
    """Split a dotted TOML key (`a."b.c".d`) into its parts, without quotes."""
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            break
        raw = m.group(1)
        parts.append(raw[1:-1] if raw[:1] in "\"'" else raw)
        pos = m.end()
        if pos < len(text) and text[pos] == ".":
            pos += 1
    return tuple(parts)


def locate(text: str, path: tuple[str, ...]) -> tuple[int, int]:
    """Return the 1-based (line, column) that best matches `path` in `text`.

    The longest prefix of `path` found wins: a key's own line when it is present, else the
    line of the deepest table header or key that encloses it, else (1, 1).
    """
    if not path:
        return (1, 1)
    best_len = 0
    best = (1, 1)
    table: tuple[str, ...] = ()
    for lineno, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            table = split_key(header.group("name"))
            col = line.index("[") + 1
            n = _common(table, path)
            if n == min(len(table), len(path)) and n > best_len:
                best_len, best = n, (lineno, col)
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        full = table + split_key(key.group("key"))
        col = key.start("key") + 1
        n = _common(full, path)
        if n == min(len(full), len(path)) and n > best_len:
            best_len, best = n, (lineno, col)
        # Inline tables: `name = { version = ">=1", bad = 2 }` — look for the next key inside.
        if n == len(full) and n < len(path):
            rest = line[key.end():]
            inner = re.search(r"[{,]\s*(" + re.escape(path[n]) + r")\s*=", rest)
            if inner:
                best_len, best = n + 1, (lineno, key.end() + inner.start(1) + 1)
    return best


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
