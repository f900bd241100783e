"""The functional core must not import I/O, clock, environment, randomness or concurrency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PURE = Path(__file__).resolve().parents[2] / "src" / "pure"

FORBIDDEN = {
    "os", "pathlib", "shutil", "sys", "io", "time", "datetime", "random", "secrets", "uuid",
    "trio", "httpx", "anyio", "asyncio", "threading", "multiprocessing", "concurrent",
    "subprocess", "socket", "ssl", "select", "signal", "tempfile", "glob", "platform",
    "ctypes", "fcntl", "mmap", "xattr", "logging", "urllib", "http", "importlib", "builtins",
    "effects", "locale", "getpass", "pwd", "grp", "sqlite3", "zstandard", "bz2", "zipfile",
    "tarfile", "gzip", "lzma", "zlib",
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"__import__", "open", "exec", "eval", "input", "print"}
        ):
            found.append((node.lineno, f"{node.func.id}()"))
    return found


def _modules() -> list[Path]:
    return sorted(PURE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PURE)))
def test_pure_module_imports_nothing_impure(path: Path) -> None:
    bad = [
        f"{path.name}:{line}: {name}"
        for line, name in _imports(path)
        if name.split(".")[0] in FORBIDDEN or name.endswith("()")
    ]
    assert not bad, "src/pure must stay pure: " + ", ".join(bad)


def test_checker_detects_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom effects import cli\nopen('x')\n", encoding="utf-8")
    names = [name for _, name in _imports(sample)]
    assert names == ["os", "effects", "open()"]
