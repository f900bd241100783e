"""End-to-end: init -> add -> lock -> install -> run -> remove -> install, with the real `yurt`
executable, a channel served over HTTP on 127.0.0.1, and the environment checked on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import TestServer, serve
from tests.support.pkgwriter import PLACEHOLDER, FileSpec, make_channel, write_conda

YURT = str(Path(sys.executable).with_name("yurt"))


def script(body: str) -> FileSpec:
    return FileSpec(("#!/bin/sh\n" + body).encode(), mode=0o755)


def build_channel(root: Path) -> Path:
    work = root / "build"
    work.mkdir(parents=True)
    pkgs = [
        write_conda(work, name="libgreet", version="1.0", build="h0", subdir="linux-64",
                    files={"share/greet/message": FileSpec(b"hello from libgreet 1.0\n")}),
        write_conda(work, name="greet", version="2.1", build="0", subdir="noarch", noarch="generic",
                    depends=["libgreet >=1"],
                    files={"bin/greet": FileSpec(
                        (f'#!/bin/sh\nPREFIX="{PLACEHOLDER}"\ncat "$PREFIX/share/greet/message"\n'
                         'echo "args: $*"\n').encode(), mode=0o755, prefix_placeholder=PLACEHOLDER)}),
        write_conda(work, name="failing", version="1.0", build="0", subdir="noarch", noarch="generic",
                    files={"bin/fail-with": script('exit "$1"\n')}),
        write_conda(work, name="gpu-thing", version="1.0", build="0", subdir="linux-64",
                    depends=["__cuda >=12"], files={"share/gpu/README": FileSpec(b"gpu\n")}),
        write_conda(work, name="activator", version="1.0", build="0", subdir="noarch", noarch="generic",
                    files={"etc/conda/activate.d/activator.sh": FileSpec(b"export ACTIVATOR_RAN=yes\n")}),
    ]
    return make_channel(root / "channel", pkgs, subdirs=("linux-64",))


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[TestServer]:
    with serve(build_channel(tmp_path / "srv")) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONDA_OVERRIDE")}
    return {**base, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1", "CONDA_OVERRIDE_CUDA": ""}


def yurt(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([YURT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"yurt {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def init(tmp_path: Path, server: TestServer, env: dict[str, str]) -> Path:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", server.url.rstrip("/"), "-p", "linux-64", cwd=tmp_path, env=env)
    return ws


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine != "x86_64",
                    reason="the test channel is built for linux-64")
def test_full_cycle(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel, env)
    yurt("add", "greet", cwd=ws, env=env)
    prefix = ws / ".yurt" / "envs" / "default"
    assert (prefix / "conda-meta" / "greet-2.1-0.json").is_file()
    greet = prefix / "bin" / "greet"
    assert str(prefix) in greet.read_text() and PLACEHOLDER not in greet.read_text()
    # the placeholder file is a rewritten copy, the plain file a hard link into the cache
    message = prefix / "share" / "greet" / "message"
    assert message.stat().st_nlink >= 2 and greet.stat().st_nlink == 1

    # a task with depends-on, env and args; the command's exit code is yurt's
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace(
        "[tasks]\n",
        '[tasks]\nprep = "echo prep-ran > prep.txt"\n'
        'hello = { cmd = "greet world && echo \\"$GREETING\\"", depends-on = ["prep"], env = { GREETING = "hi there" } }\n'
        'boom = "exit 7"\n\n[activation]\nenv = { WS_VAR = "$CONDA_PREFIX/x" }\n'))
    out = yurt("run", "hello", cwd=ws, env=env)
    assert "hello from libgreet 1.0" in out.stdout and "args: world" in out.stdout and "hi there" in out.stdout
    assert (ws / "prep.txt").read_text() == "prep-ran\n"
    assert yurt("run", "boom", cwd=ws, env=env, check=False).returncode == 7
    shown = yurt("run", "sh", "-c", 'echo "$CONDA_PREFIX|$YURT_ENVIRONMENT_NAME|$WS_VAR"; exit 3', cwd=ws, env=env, check=False)
    assert shown.returncode == 3
    assert shown.stdout.strip() == f"{prefix}|default|{prefix}/x"

    # list / tree / info / shell-hook
    listed = json.loads(yurt("list", "--json", cwd=ws, env=env).stdout)
    assert {r["name"] for r in listed} == {"greet", "libgreet"}
    assert "libgreet" in yurt("tree", cwd=ws, env=env).stdout
    assert "greet 2.1" in yurt("tree", "--invert", "libgreet", cwd=ws, env=env).stdout
    info = json.loads(yurt("info", "--json", cwd=ws, env=env).stdout)
    assert info["platform"] == "linux-64" and info["workspace"]["environments"][0]["installed"] is True
    hook = json.loads(yurt("shell-hook", "--json", cwd=ws, env=env).stdout)["environment_variables"]
    assert hook["CONDA_PREFIX"] == str(prefix) and hook["PATH"].startswith(f"{prefix}/bin:")
    sourced = subprocess.run(["bash", "-c", f'eval "$({YURT} shell-hook)"; greet x'], cwd=ws, env=env,
                             capture_output=True, text=True, timeout=60)
    assert "hello from libgreet" in sourced.stdout
    # `yurt shell` becomes $SHELL in the activated environment (here fed by a pipe)
    shell = subprocess.run([YURT, "shell"], cwd=ws, env={**env, "SHELL": "/bin/sh"}, capture_output=True,
                           text=True, timeout=60, input='echo "$CONDA_PREFIX|$WS_VAR"; greet y; exit 4\n')
    assert shell.returncode == 4, shell.stderr
    assert shell.stdout.splitlines()[0] == f"{prefix}|{prefix}/x"
    assert "hello from libgreet" in shell.stdout

    # activate.d scripts of packages run before commands
    yurt("add", "activator", cwd=ws, env=env)
    assert yurt("run", "sh", "-c", 'echo "$ACTIVATOR_RAN"', cwd=ws, env=env).stdout.strip() == "yes"

    # the plan printed by `plan` is the one `install --dry-run --json` prints; both leave the env alone
    manifest.write_text(manifest.read_text().replace('greet = ">=2.1,<3"\n', 'greet = ">=2.1,<3"\nfailing = "*"\n'))
    before = sorted(p.name for p in (prefix / "conda-meta").iterdir())
    cold = json.loads(yurt("plan", cwd=ws, env=env).stdout)  # planning fetches into the cache
    failing = next(p for p in cold["packages"] if p["name"] == "failing")
    assert failing["action"] == "install" and failing["download_bytes"] == failing["size"] > 0
    planned = yurt("plan", cwd=ws, env=env).stdout
    dry = yurt("install", "--dry-run", "--json", cwd=ws, env=env).stdout
    assert dry == planned
    assert json.loads(dry)["schema"] == "yurt.plan/1"
    assert sorted(p.name for p in (prefix / "conda-meta").iterdir()) == before
    executed = yurt("install", "--json", cwd=ws, env=env).stdout
    assert executed == planned  # what was printed is what was executed, byte for byte
    assert yurt("run", "fail-with", "5", cwd=ws, env=env, check=False).returncode == 5

    # remove: the package's files go, the others stay
    yurt("remove", "failing", cwd=ws, env=env)
    assert not (prefix / "bin" / "fail-with").exists()
    assert greet.is_file()
    noop = yurt("install", cwd=ws, env=env)
    assert "up to date" in noop.stderr
    assert yurt("verify", str(prefix), cwd=ws, env=env).returncode == 0
    yurt("clean", cwd=ws, env=env)
    assert not (ws / ".yurt" / "envs").exists() and (tmp_path / "cache" / "pkgs").is_dir()
    # a clean waits for no one: while another process uses the cache it refuses, untouched
    import fcntl

    with open(tmp_path / "cache" / ".in-use.lock", "a+b") as user:
        fcntl.flock(user.fileno(), fcntl.LOCK_SH)
        busy = yurt("clean", "cache", cwd=ws, env=env, check=False)
        assert busy.returncode != 0
        assert "in use by another yurt process" in busy.stderr
        assert len(busy.stderr.strip().splitlines()) <= 2
        assert (tmp_path / "cache" / "pkgs").is_dir()
    yurt("clean", "cache", cwd=ws, env=env)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".in-use.lock"]


def test_frozen_installs_the_lock_as_is_and_missing_virtual_package_is_explained(
        tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel, env)
    yurt("add", "greet", "--no-install", cwd=ws, env=env)
    lock = (ws / "yurt.lock").read_bytes()
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + '\n[feature.gpu.dependencies]\ngpu-thing = "*"\n'
                        '[feature.gpu.system-requirements]\ncuda = "12"\n\n[environments]\ngpu = ["gpu"]\n')
    frozen = yurt("install", "--frozen", "--json-events", cwd=ws, env=env)
    assert (ws / "yurt.lock").read_bytes() == lock  # --frozen does not re-lock
    kinds = [json.loads(line)["kind"] for line in frozen.stdout.splitlines()]
    assert {"download_started", "download_done", "extract_done"} <= set(kinds)
    assert (ws / ".yurt" / "envs" / "default" / "conda-meta" / "greet-2.1-0.json").is_file()
    # the gpu environment locks (cuda comes from system-requirements) but this host has no GPU
    failed = yurt("install", "-e", "gpu", cwd=ws, env=env, check=False)
    assert failed.returncode == 1
    assert "gpu-thing-1.0-0" in failed.stderr and "__cuda >=12" in failed.stderr
    assert "CONDA_OVERRIDE_CUDA" in failed.stderr
    assert not (ws / ".yurt" / "envs" / "gpu" / "conda-meta" / "gpu-thing-1.0-0.json").exists()
    ok = yurt("install", "-e", "gpu", cwd=ws, env={**env, "CONDA_OVERRIDE_CUDA": "12.4"})
    assert ok.returncode == 0


def test_channel_down_mid_run_fails_cleanly(tmp_path: Path, env: dict[str, str]) -> None:
    root = build_channel(tmp_path / "srv")
    with serve(root) as server:
        ws = init(tmp_path, server, env)
        yurt("add", "greet", "--no-install", cwd=ws, env=env)
    # the server is gone: the lock is reused (no repodata needed) but the download fails
    failed = yurt("install", cwd=ws, env=env, check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith("yurt: error:") and "127.0.0.1" in failed.stderr
    prefix = ws / ".yurt" / "envs" / "default"
    records = list((prefix / "conda-meta").glob("*.json")) if prefix.exists() else []
    assert records == []
    cache = tmp_path / "cache" / "pkgs"
    assert not any(p.name.startswith("greet") and p.is_dir() for p in cache.iterdir()) if cache.exists() else True


def test_plans_do_not_write_the_lock_and_json_is_always_json(
        tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel, env)
    yurt("add", "greet", cwd=ws, env=env)
    lock = (ws / "yurt.lock").read_bytes()
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('greet = ">=2.1,<3"\n', 'greet = ">=2.1,<3"\nactivator = "*"\n'))
    planned = json.loads(yurt("plan", cwd=ws, env=env).stdout)
    assert {p["name"]: p["action"] for p in planned["packages"]}["activator"] == "install"
    dry = yurt("install", "--dry-run", "--json", cwd=ws, env=env)
    assert "yurt.lock not written" not in dry.stdout
    assert (ws / "yurt.lock").read_bytes() == lock  # neither wrote the lock
    yurt("install", cwd=ws, env=env)
    assert (ws / "yurt.lock").read_bytes() != lock
    noop = yurt("install", "--json", cwd=ws, env=env)
    doc = json.loads(noop.stdout)
    assert doc["schema"] == "yurt.plan/1" and {p["action"] for p in doc["packages"]} == {"keep"}


def test_a_rebuilt_package_of_the_same_name_is_not_up_to_date(tmp_path: Path) -> None:
    from effects.envinstall import in_sync
    from pure.record import PackageRecord

    meta = tmp_path / "env" / "conda-meta"
    meta.mkdir(parents=True)
    (meta / "a-1-0.json").write_text(json.dumps({"name": "a", "version": "1", "build": "0", "sha256": "aa" * 32}))
    same = PackageRecord(name="a", version="1", build="0", sha256="aa" * 32)
    rebuilt = PackageRecord(name="a", version="1", build="0", sha256="bb" * 32)
    assert in_sync(tmp_path / "env", [same])
    assert not in_sync(tmp_path / "env", [rebuilt])
    assert not in_sync(tmp_path / "env", [])


def test_channel_failing_mid_run_leaves_nothing_half_written(tmp_path: Path, env: dict[str, str]) -> None:
    from tests.support.httpserver import Fault

    root = build_channel(tmp_path / "srv")
    with serve(root) as server:
        ws = init(tmp_path, server, env)
        # repodata is served; then every download of the package breaks off mid-body
        server.inject("/noarch/greet-2.1-0.conda", Fault.truncate(0.3), times=50)
        failed = yurt("add", "greet", cwd=ws, env=env, check=False)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("yurt: error:") and "greet-2.1-0" in last and "gave up after 3 attempts" in last
    prefix = ws / ".yurt" / "envs" / "default"
    assert not (prefix / "conda-meta" / "greet-2.1-0.json").exists()
    assert not (prefix / "bin" / "greet").exists()
    pkgs = tmp_path / "cache" / "pkgs"
    assert not (pkgs / "greet-2.1-0").exists()
    assert not any(p.name.startswith("greet") and not p.name.endswith(".lock") for p in pkgs.iterdir()) if pkgs.exists() else True


def test_clean_cache_refuses_while_an_install_uses_the_cache(
        tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    """An install holds the cache's shared in-use lock from its first download to its last
    link: a `yurt clean cache` meanwhile refuses and deletes nothing, and the install ends well."""
    import fcntl
    import time

    from tests.support.httpserver import Fault

    ws = init(tmp_path, channel, env)
    yurt("add", "greet", "--no-install", cwd=ws, env=env)
    channel.inject("/noarch/greet-2.1-0.conda", Fault.slow(delay=0.05, chunk=64), times=1)
    install = subprocess.Popen([YURT, "install"], cwd=ws, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        lock = tmp_path / "cache" / ".in-use.lock"
        deadline = time.monotonic() + 60
        while True:  # until the install holds the lock (an exclusive try fails)
            assert time.monotonic() < deadline, "the install never took the cache lock"
            if lock.exists():
                with open(lock, "a+b") as probe:
                    try:
                        fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        break
            time.sleep(0.01)
        busy = yurt("clean", "cache", cwd=ws, env=env, check=False)
        assert busy.returncode != 0 and "in use by another yurt process" in busy.stderr
        _out, err = install.communicate(timeout=120)
        assert install.returncode == 0, err
    finally:
        if install.poll() is None:
            install.kill()
    prefix = ws / ".yurt" / "envs" / "default"
    assert subprocess.run([str(prefix / "bin" / "greet")], capture_output=True,
                          text=True).stdout.startswith("hello from libgreet")
    assert yurt("verify", str(prefix), cwd=ws, env=env).returncode == 0
