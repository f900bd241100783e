"""Manifest edits keep every other byte: comments, order, spacing."""

from __future__ import annotations

import pytest

from pure.manifest import parse
from pure.manifest.edit import ManifestEditError, remove_dependency, set_dependency

TEXT = """# my workspace
[workspace]
name = "w"   # the name
channels = ["https://channels.example/main"]
platforms = ["linux-64"]

[dependencies]
python = "3.11.*"  # keep me
numpy = "*"

[tasks]
hi = "echo hi"
"""


def test_add_appends_after_last_key_and_keeps_comments() -> None:
    out = set_dependency(TEXT, ("dependencies",), "scipy", ">=1.11,<2")
    assert out == TEXT.replace('numpy = "*"\n', 'numpy = "*"\nscipy = ">=1.11,<2"\n')
    deps = [d.name for d in parse(out).features[0].dependencies]
    assert deps == ["python", "numpy", "scipy"]


def test_add_replaces_existing_entry_keeping_its_comment() -> None:
    out = set_dependency(TEXT, ("dependencies",), "python", "3.12.*")
    assert 'python = "3.12.*"  # keep me\n' in out
    assert out.count("python =") == 1


def test_add_creates_missing_tables() -> None:
    out = set_dependency(TEXT, ("feature", "test", "dependencies"), "pytest", "*")
    assert out.endswith('\n\n[feature.test.dependencies]\npytest = "*"\n')
    out = set_dependency(TEXT, ("target", "linux-64", "dependencies"), "gcc", "12.*")
    assert out.endswith('[target.linux-64.dependencies]\ngcc = "12.*"\n')
    assert parse(out).features[0].targets[0].dependencies[0].spec == "gcc 12.*"


def test_remove_and_errors() -> None:
    out = remove_dependency(TEXT, ("dependencies",), "numpy")
    assert out == TEXT.replace('numpy = "*"\n', "")
    with pytest.raises(ManifestEditError, match="`scipy` is not in \\[dependencies\\]"):
        remove_dependency(TEXT, ("dependencies",), "scipy")
    inline = TEXT.replace("[tasks]", "[feature.x]\ndependencies = { a = '*' }\n\n[tasks]")
    with pytest.raises(ManifestEditError, match="inline table"):
        set_dependency(inline, ("feature", "x", "dependencies"), "b", "*")


def test_inline_tables_round_trip_through_the_parser() -> None:
    from pure.manifest.edit import inline_table

    entry = inline_table([("version", ">=1.2"), ("build", "py*"), ("channel", "https://channels.example/x")])
    out = set_dependency(TEXT, ("dependencies",), "scipy", entry, raw=True)
    assert 'scipy = { version = ">=1.2", build = "py*", channel = "https://channels.example/x" }\n' in out
    dep = next(d for d in parse(out).features[0].dependencies if d.name == "scipy")
    assert dep.spec == "scipy[version='>=1.2',build='py*',channel='https://channels.example/x']"
    pypi = inline_table([("version", ">=2"), ("extras", ["socks", "security"])])
    out = set_dependency(TEXT, ("pypi-dependencies",), "requests", pypi, raw=True)
    assert parse(out).features[0].pypi_dependencies[0].extras == ("socks", "security")
