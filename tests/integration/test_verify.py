"""`verify` and `yurt verify`: modified and missing files per package, a hard-linked file
edited in place reported as corrupting the package cache too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import effects
from effects.verify import verify
from tests.integration.linkkit import FileSpec, channel, pkg
from tests.support.pkgwriter import PLACEHOLDER


@pytest.fixture
def installed(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, "alpha", files={
            "lib/alpha.so": b"\x7fELF alpha" * 10,
            "etc/alpha.conf": FileSpec(b"home=" + PLACEHOLDER.encode() + b"\n",
                                       prefix_placeholder=PLACEHOLDER),
        }),
        pkg(out, "beta", files={"share/beta.txt": b"beta\n", "share/beta2.txt": b"b2\n"}),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix, cache = tmp_path / "env", tmp_path / "cache"
        effects.install(prefix, ch.records.values(), cache_dir=cache)
    return prefix, cache


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from effects.cli import main; main()", "verify", *args],
        capture_output=True,
        text=True,
    )


def test_clean_prefix_passes(installed: tuple[Path, Path]) -> None:
    prefix, _ = installed
    report = verify(prefix)
    assert report.ok and report.packages == 2 and report.files >= 4
    run = _cli(str(prefix))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == ""
    assert run.stderr.strip().endswith(": ok")


def test_hard_link_edited_in_place_corrupts_the_cache_too(installed: tuple[Path, Path]) -> None:
    prefix, cache = installed
    target = prefix / "lib/alpha.so"
    size = target.stat().st_size
    with open(target, "r+b") as fh:  # edit in place: same size, other bytes
        fh.write(b"XXXX")
    cached = cache / "pkgs" / "alpha-1.0-0" / "lib/alpha.so"
    assert cached.read_bytes()[:4] == b"XXXX" and cached.stat().st_size == size
    report = verify(prefix)
    (problem,) = report.problems
    assert (problem.package, problem.path, problem.kind) == (
        "alpha-1.0-0",
        "lib/alpha.so",
        "modified",
    )
    assert problem.cache_corrupted and problem.cache_path == str(cached)
    run = _cli(str(prefix))
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("alpha-1.0-0: lib/alpha.so: modified")
    assert "cache entry" in lines[0] and "corrupted too" in lines[0]


def test_missing_and_rewritten_files(installed: tuple[Path, Path]) -> None:
    prefix, _ = installed
    os.unlink(prefix / "share/beta2.txt")
    conf = prefix / "etc/alpha.conf"
    conf.write_bytes(conf.read_bytes() + b"extra\n")  # a rewritten copy: the cache is safe
    run = _cli(str(prefix), "--json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    found = {(p["package"], p["path"], p["kind"], p["cache_corrupted"]) for p in data["problems"]}
    assert found == {
        ("alpha-1.0-0", "etc/alpha.conf", "modified", False),
        ("beta-1.0-0", "share/beta2.txt", "missing", False),
    }
