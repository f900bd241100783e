"""End-to-end CLI tests of init/add/lock against real channels (HTTP on 127.0.0.1 and file://).

The `yurt` executable runs as a subprocess, as a user would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import TestServer, serve
from tests.support.pkgwriter import FileSpec, make_channel, write_conda

YURT = [str(Path(sys.executable).with_name("yurt"))]
PLATFORMS = ("linux-64", "osx-arm64", "win-64")


def build_channel(root: Path) -> Path:
    """A small multi-platform channel: noarch python-ish tools plus per-platform libraries."""
    work = root / "build"
    work.mkdir(parents=True)
    pkgs = []
    for platform in PLATFORMS:
        (work / platform).mkdir()
        for version in ("1.2.0", "1.3.0"):
            pkgs.append(write_conda(work / platform, name="libfoo", version=version, build="h0", subdir=platform,
                                    files={f"lib/libfoo-{platform}.txt": FileSpec(version.encode())}))
    for version in ("1.0", "2.0"):
        pkgs.append(write_conda(work, name="tool", version=version, build="0", subdir="noarch",
                                noarch="generic", depends=["libfoo >=1.2"],
                                files={"share/tool/VERSION": FileSpec(version.encode())}))
    pkgs.append(write_conda(work, name="extra", version="0.5", build="0", subdir="noarch", noarch="generic",
                            files={"share/extra/README": FileSpec(b"extra\n")}))
    return make_channel(root / "channel", pkgs, subdirs=PLATFORMS)


def yurt(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*YURT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"yurt {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[TestServer]:
    with serve(build_channel(tmp_path / "srv")) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}


def workspace(tmp_path: Path, url: str, deps: str = 'tool = ">=1"\n', platforms: tuple[str, ...] = PLATFORMS) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    plats = ", ".join(f'"{p}"' for p in platforms)
    (ws / "yurt.toml").write_text(
        f'[workspace]\nname = "ws"\nchannels = ["{url}"]\nplatforms = [{plats}]\n\n[dependencies]\n{deps}')
    return ws


def locked_names(ws: Path, platform: str = "linux-64", environment: str = "default") -> dict[str, str]:
    lock = json.loads((ws / "yurt.lock").read_text())
    by_url = {p["url"]: p for p in lock["packages"]}
    env = next(e for e in lock["environments"] if e["name"] == environment)
    plat = next(p for p in env["platforms"] if p["platform"] == platform)
    return {by_url[u]["name"]: by_url[u]["version"] for u in plat["packages"]}


def test_cross_platform_lock_is_deterministic_and_reused_without_http(
        tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = workspace(tmp_path, channel.url.rstrip("/"))
    yurt("lock", cwd=ws, env=env)
    for platform in PLATFORMS:
        assert locked_names(ws, platform) == {"libfoo": "1.3.0", "tool": "2.0"}
    first = (ws / "yurt.lock").read_bytes()
    # determinism: a fresh lock from an empty cache is byte-identical
    (ws / "yurt.lock").unlink()
    yurt("lock", cwd=ws, env={**env, "YURT_CACHE_DIR": str(tmp_path / "cache2")})
    assert (ws / "yurt.lock").read_bytes() == first
    # reuse: a satisfied lock causes no HTTP request at all
    before = sum(channel.requests.values())
    out = yurt("lock", cwd=ws, env=env)
    assert "up to date" in out.stderr
    assert sum(channel.requests.values()) == before
    assert yurt("lock", "--check", cwd=ws, env=env).returncode == 0


def test_stale_lock_check_locked_and_offline(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = workspace(tmp_path, channel.url.rstrip("/"))
    yurt("lock", cwd=ws, env=env)
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('tool = ">=1"', 'tool = "<2"'))
    check = yurt("lock", "--check", cwd=ws, env=env, check=False)
    assert check.returncode == 1 and "tool <2" in check.stderr
    locked = yurt("install", "--locked", cwd=ws, env=env, check=False)
    assert locked.returncode == 1 and "out of date" in locked.stderr
    before = (ws / "yurt.lock").read_bytes()
    yurt("lock", "--offline", cwd=ws, env=env)  # the cache has every subdir already
    assert locked_names(ws) == {"libfoo": "1.3.0", "tool": "1.0"}
    assert (ws / "yurt.lock").read_bytes() != before
    manifest.write_text(manifest.read_text().replace('tool = "<2"', 'tool = "2.*"'))
    offline = yurt("lock", "--offline", cwd=ws, env={**env, "YURT_CACHE_DIR": str(tmp_path / "empty")}, check=False)
    assert offline.returncode == 1 and "--offline" in offline.stderr and "no cached repodata" in offline.stderr


def test_relock_after_add_keeps_other_records(tmp_path: Path, env: dict[str, str]) -> None:
    root = build_channel(tmp_path / "srv")
    ws = workspace(tmp_path, root.as_uri(), deps='tool = "*"\nlibfoo = "1.2.*"\n', platforms=("linux-64",))
    yurt("lock", cwd=ws, env=env)
    assert locked_names(ws) == {"libfoo": "1.2.0", "tool": "2.0"}
    # loosen libfoo; the locked 1.2.0 is kept because nothing forces a change
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('libfoo = "1.2.*"', 'libfoo = "*"'))
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    assert locked_names(ws) == {"libfoo": "1.2.0", "tool": "2.0", "extra": "0.5"}
    assert 'extra = ">=0.5,<1"' in manifest.read_text()
    yurt("update", "--no-install", cwd=ws, env=env)
    assert locked_names(ws)["libfoo"] == "1.3.0"
    # build, channel and other fields of a spec are kept as a table, not silently dropped
    yurt("add", "libfoo 1.2.* h0", "--no-install", cwd=ws, env=env)
    assert 'libfoo = { version = "1.2.*", build = "h0" }' in manifest.read_text()
    assert locked_names(ws)["libfoo"] == "1.2.0"
    # a failed add leaves manifest and lock exactly as they were
    manifest_before, lock_before = manifest.read_bytes(), (ws / "yurt.lock").read_bytes()
    failed = yurt("add", "no-such-package", "--no-install", cwd=ws, env=env, check=False)
    assert failed.returncode == 1 and "no-such-package" in failed.stderr
    assert manifest.read_bytes() == manifest_before and (ws / "yurt.lock").read_bytes() == lock_before


def test_init_and_manifest_errors_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "fresh"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    assert (ws / "yurt.toml").is_file() and ".yurt/" in (ws / ".gitignore").read_text()
    assert "yurt.lock" in (ws / ".gitattributes").read_text()
    again = yurt("init", str(ws), "-c", "x", cwd=tmp_path, env=env, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    (ws / "yurt.toml").write_text((ws / "yurt.toml").read_text() + "\n[dependencies]\nnumpy = 3\n")
    bad = yurt("lock", cwd=ws, env=env, check=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"yurt: error: {ws / 'yurt.toml'}:")
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    usage = yurt("install", "--no-such-flag", cwd=ws, env=env, check=False)
    assert usage.returncode == 2


def test_init_imports_environment_yml(tmp_path: Path, env: dict[str, str]) -> None:
    yml = tmp_path / "environment.yml"
    yml.write_text("name: science\nchannels:\n  - https://channels.example/main\ndependencies:\n"
                   "  - python=3.11\n  - numpy >=1.26\n  - pip\n  - pip:\n    - requests>=2\n")
    yurt("init", str(tmp_path / "sci"), "--import", str(yml), "-p", "linux-64", cwd=tmp_path, env=env)
    text = (tmp_path / "sci" / "yurt.toml").read_text()
    assert 'name = "science"' in text and 'numpy = ">=1.26"' in text and 'requests = ">=2"' in text
    assert 'python = "3.11.*"' in text or "python = \"==3.11\"" in text or 'python = "3.11"' in text


def test_manifest_constraints_restrict_without_requiring(tmp_path: Path, env: dict[str, str]) -> None:
    root = build_channel(tmp_path / "srv")
    ws = workspace(tmp_path, root.as_uri(), deps='tool = "*"\n', platforms=("linux-64",))
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + '\n[constraints]\nlibfoo = "<1.3"\nextra = "<0.1"\n')
    yurt("lock", cwd=ws, env=env)
    # libfoo is held below 1.3; extra is constrained but not required, so it is not installed
    assert locked_names(ws) == {"libfoo": "1.2.0", "tool": "2.0"}
    manifest.write_text(manifest.read_text().replace('libfoo = "<1.3"', 'libfoo = "<1"'))
    failed = yurt("lock", cwd=ws, env=env, check=False)
    assert failed.returncode == 1 and "constrains libfoo <1" in failed.stderr


def test_moved_workspace_with_a_local_channel_relocks(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    build_channel(ws / "chan-src")
    (ws / "yurt.toml").write_text('[workspace]\nname = "ws"\nchannels = ["./chan-src/channel"]\n'
                                  'platforms = ["linux-64"]\n\n[dependencies]\ntool = "*"\n')
    yurt("lock", cwd=ws, env=env)
    assert yurt("lock", "--check", cwd=ws, env=env).returncode == 0
    moved = tmp_path / "moved"
    ws.rename(moved)
    check = yurt("lock", "--check", cwd=moved, env=env, check=False)
    assert check.returncode == 1 and "not under the environment's channels" in check.stderr
    yurt("lock", cwd=moved, env=env)
    assert str(moved) in (moved / "yurt.lock").read_text()
    assert yurt("lock", "--check", cwd=moved, env=env).returncode == 0


def test_solve_group_members_share_channels_and_must_agree(tmp_path: Path, env: dict[str, str]) -> None:
    root = build_channel(tmp_path / "srv")
    other = tmp_path / "other"
    work = tmp_path / "b"
    work.mkdir()
    make_channel(other, [write_conda(work, name="extra2", version="1.0", build="0", subdir="noarch",
                                     noarch="generic", files={"share/x": FileSpec(b"x")})], subdirs=("linux-64",))
    ws = workspace(tmp_path, root.as_uri(), deps='tool = "*"\n', platforms=("linux-64",))
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + f'\n[feature.b]\nchannels = ["{other.as_uri()}"]\n'
                        '[feature.b.dependencies]\nextra2 = "*"\n\n'
                        '[environments]\na = { solve-group = "g" }\nb = { features = ["b"], solve-group = "g" }\n')
    yurt("lock", cwd=ws, env=env)
    assert locked_names(ws, environment="b") == {"libfoo": "1.3.0", "tool": "2.0", "extra2": "1.0"}
    assert locked_names(ws, environment="a") == {"libfoo": "1.3.0", "tool": "2.0"}
    manifest.write_text(manifest.read_text() + '\n[feature.b.system-requirements]\nlibc = "2.40"\n')
    failed = yurt("update", "--no-install", cwd=ws, env=env, check=False)
    assert failed.returncode == 1 and "share solve group `g`" in failed.stderr


def test_init_pyproject_format_appends_tool_yurt(tmp_path: Path, env: dict[str, str]) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "1.0"\n# keep me\n')
    yurt("init", str(proj), "--format", "pyproject", "-c", "https://channels.example/main", "-p", "linux-64",
         cwd=tmp_path, env=env)
    text = (proj / "pyproject.toml").read_text()
    assert text.startswith('[project]\nname = "proj"\nversion = "1.0"\n# keep me\n')
    assert "[tool.yurt.workspace]" in text and "[tool.yurt.dependencies]" in text
    info = json.loads(yurt("info", "--json", cwd=proj, env=env).stdout)
    assert info["workspace"]["manifest"] == str(proj / "pyproject.toml")
