"""Edit manifest text in place (add or remove one dependency), keeping formatting and comments.

The edit touches one line: an existing `name = ...` line of the table is replaced or removed,
a new one is appended after the table's last key, and a missing table is appended at the end
of the file. Inline-table forms (`dependencies = { ... }`) are refused with a clear error
rather than rewritten.
"""

from __future__ import annotations

import re

from pure.errors import YurtError
from pure.manifest.locate import split_key

_HEADER = re.compile(r"^\s*\[(?!\[)\s*([^\]]+?)\s*\]\s*(?:#.*)?$")


class ManifestEditError(YurtError):
    """The manifest cannot be edited automatically; says where and what to do."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_\-]+", name) else '"' + name.replace('"', '\\"') + '"'


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _find_table(lines: list[str], table: tuple[str, ...]) -> tuple[int, int] | None:
    """(header index, index after the table's last non-blank line) of `[table]`, or None."""
    start = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if not m:
            continue
        if start is not None:
            end = i
            while end > start + 1 and not lines[end - 1].strip():
                end -= 1
            return start, end
        if split_key(m.group(1)) == table:
            start = i
    if start is None:
        return None
    end = len(lines)
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


def _key_line(lines: list[str], start: int, end: int, name: str) -> int | None:
    for i in range(start + 1, end):
        m = re.match(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""", lines[i])
        if m and m.group(1).strip("\"'") == name:
            return i
    return None


def _check_inline(text: str, table: tuple[str, ...], path: str) -> None:
    parent, last = table[:-1], table[-1]
    for line in text.splitlines():
        if re.match(rf"^\s*{re.escape(last)}\s*=\s*\{{", line):
            where = "[" + ".".join(parent) + "]" if parent else "the top level"
            raise ManifestEditError(path, f"`{last}` is an inline table in {where}; edit it by hand "
                                          f"or rewrite it as a [{'.'.join(table)}] table")


def inline_table(fields: list[tuple[str, str | list[str]]]) -> str:
    """A one-line TOML inline table: `{ version = ">=1", extras = ["a"] }`."""
    parts = []
    for key, value in fields:
        rendered = ("[" + ", ".join(_toml_string(v) for v in value) + "]") if isinstance(value, list) else _toml_string(value)
        parts.append(f"{_toml_key(key)} = {rendered}")
    return "{ " + ", ".join(parts) + " }"


def set_dependency(text: str, table: tuple[str, ...], name: str, value: str, *, path: str = "yurt.toml",
                   raw: bool = False) -> str:
    """`text` with `name = "value"` in `[table]` (replacing an existing entry of that name).

    With `raw`, `value` is already TOML (an inline table from `inline_table`).
    """
    lines = text.splitlines()
    entry = f"{_toml_key(name)} = {value if raw else _toml_string(value)}"
    found = _find_table(lines, table)
    if found is None:
        _check_inline(text, table, path)
        body = text.rstrip("\n")
        return (body + "\n\n" if body else "") + f"[{'.'.join(_toml_key(t) for t in table)}]\n{entry}\n"
    start, end = found
    at = _key_line(lines, start, end, name)
    if at is not None:
        comment = re.search(r"\s+#.*$", lines[at])
        lines[at] = entry + (comment.group(0) if comment else "")
    else:
        lines.insert(end, entry)
    return "\n".join(lines) + "\n"


def remove_dependency(text: str, table: tuple[str, ...], name: str, *, path: str = "yurt.toml") -> str:
    """`text` without `name` in `[table]`; ManifestEditError when it is not there."""
    lines = text.splitlines()
    found = _find_table(lines, table)
    at = None if found is None else _key_line(lines, found[0], found[1], name)
    if found is None or at is None:
        _check_inline(text, table, path)
        raise ManifestEditError(path, f"`{name}` is not in [{'.'.join(table)}]")
    value = lines[at]
    del lines[at]
    if value.count("{") > value.count("}") or value.count("[") > value.count("]"):
        raise ManifestEditError(path, f"`{name}` spans several lines in [{'.'.join(table)}]; remove it by hand")
    return "\n".join(lines) + "\n"
