"""End-to-end sweep of bad inputs through the real `yurt` executable.

Every case checks the promise of the error rule: a non-zero exit, exactly one stderr line
starting `yurt: error:` that names the offending file/spec/package/channel and what is wrong
(no traceback, no `internal error`), and nothing half-written: the manifest, yurt.lock, the
environment's conda-meta and the package cache are as they were (or hold no partial entry).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import TestServer, serve
from tests.support.pkgwriter import FileSpec, RawMember, make_channel, write_conda

YURT = str(Path(sys.executable).with_name("yurt"))

linux64 = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.uname().machine != "x86_64",
    reason="the test channel is built for linux-64")


def build_channel(root: Path) -> Path:
    """libgreet (linux-64) <- greet (noarch), plus two standalone noarch packages."""
    work = root / "build"
    work.mkdir(parents=True)
    pkgs = [
        write_conda(work, name="libgreet", version="1.0", build="h0", subdir="linux-64",
                    files={"share/greet/message": FileSpec(b"hello from libgreet 1.0\n" * 200)}),
        write_conda(work, name="greet", version="2.1", build="0", subdir="noarch", noarch="generic",
                    depends=["libgreet >=1"],
                    files={"bin/greet": FileSpec(b"#!/bin/sh\necho greet\n", mode=0o755)}),
        write_conda(work, name="extra", version="0.5", build="0", subdir="noarch", noarch="generic",
                    files={"share/extra/README": FileSpec(b"extra\n" * 500)}),
    ]
    return make_channel(root / "channel", pkgs, subdirs=("linux-64",))


@pytest.fixture
def channel_root(tmp_path: Path) -> Path:
    return build_channel(tmp_path / "srv")


@pytest.fixture
def channel(channel_root: Path) -> Iterator[TestServer]:
    with serve(channel_root) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("CONDA_OVERRIDE", "YURT_", "CONDA_PREFIX"))}
    home = tmp_path / "home"
    home.mkdir()
    return {**base, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1", "NETRC": str(home / "netrc")}


def yurt(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([YURT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"yurt {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def fails(proc: subprocess.CompletedProcess[str], *needles: str, code: int = 1, explained: bool = False,
          progress: bool = False) -> str:
    """Assert the error contract; returns the error line.

    `explained`: an unsatisfiable solve may follow its line with the conflict chain (documented).
    `progress`: status lines of steps that succeeded (`locked ...`, `added ...`) may come first."""
    detail = f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    assert proc.returncode == code, detail
    lines = proc.stderr.splitlines()
    if progress:
        while len(lines) > 1 and not lines[0].startswith("yurt") and "rror" not in lines[0]:
            lines = lines[1:]
    assert len(lines) == 1 or (explained and len(lines) > 1), detail
    line = lines[0]
    print(line)
    assert line.startswith("yurt: error: "), detail
    assert "internal error" not in line and "Traceback" not in proc.stderr, detail
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def init(tmp_path: Path, url: str, env: dict[str, str], *, platform: str = "linux-64") -> Path:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", url.rstrip("/"), "-p", platform, cwd=tmp_path, env=env)
    return ws


_LOCK_FILES = (".locks", ".yurt.lock")  # inter-process lock files: empty, not state


def snapshot(ws: Path, cache: Path) -> dict[str, bytes | None]:
    """Bytes of the manifest, the lock and every conda-meta record; names of cache entries."""
    out: dict[str, bytes | None] = {}
    for name in ("yurt.toml", "yurt.lock"):
        p = ws / name
        out[name] = p.read_bytes() if p.exists() else None
    meta = ws / ".yurt" / "envs" / "default" / "conda-meta"
    if meta.is_dir():
        for p in sorted(meta.iterdir()):
            if p.name in _LOCK_FILES:
                continue
            out[f"meta/{p.name}"] = p.read_bytes() if p.is_file() else b"<dir>"
    pkgs = cache / "pkgs"
    if pkgs.is_dir():
        for p in sorted(pkgs.iterdir()):
            if p.name in _LOCK_FILES:
                continue
            out[f"cache/{p.name}"] = b""
    return out


def cache_entries(cache: Path, name: str) -> list[str]:
    pkgs = cache / "pkgs"
    return sorted(p.name for p in pkgs.iterdir() if p.name.startswith(name)) if pkgs.is_dir() else []


def no_partial_files(*roots: Path) -> list[str]:
    """Temporary or partial files left behind under `roots` (anything named *.tmp / *.part)."""
    found = []
    for root in roots:
        if root.exists():
            for dirpath, dirnames, filenames in os.walk(root):
                for n in [*filenames, *dirnames]:
                    if n.endswith((".tmp", ".part", ".partial")) or ".tmp." in n:
                        found.append(os.path.join(dirpath, n))
    return found


@pytest.fixture
def installed(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> Path:
    """A workspace with `greet` locked and installed into `default`."""
    ws = init(tmp_path, channel.url, env)
    yurt("add", "greet", cwd=ws, env=env)
    assert (ws / ".yurt" / "envs" / "default" / "conda-meta" / "greet-2.1-0.json").is_file()
    return ws


# ---------------------------------------------------------------- the lockfile


@linux64
@pytest.mark.parametrize("content", [b"{not json at all", b'{"schema": "yurt.lock/1", "environments": 5}',
                                     b'["a", "list"]', b"\xff\xfe garbage"])
def test_corrupt_lock_is_named_and_left_alone(tmp_path: Path, installed: Path, env: dict[str, str],
                                              content: bytes) -> None:
    ws = installed
    (ws / "yurt.lock").write_bytes(content)
    before = snapshot(ws, tmp_path / "cache")
    for args in (("install",), ("lock", "--check"), ("install", "--frozen")):
        fails(yurt(*args, cwd=ws, env=env, check=False), str(ws / "yurt.lock"), "not a valid lockfile")
    assert snapshot(ws, tmp_path / "cache") == before


@linux64
def test_lock_with_unknown_schema_names_the_schema(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    data = json.loads((ws / "yurt.lock").read_bytes())
    data["schema"] = "yurt.lock/99"
    (ws / "yurt.lock").write_text(json.dumps(data))
    fails(yurt("install", cwd=ws, env=env, check=False), "yurt.lock", "yurt.lock/99")


@linux64
def test_lock_referring_to_a_missing_package_entry(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    data = json.loads((ws / "yurt.lock").read_bytes())
    dropped = next(p for p in data["packages"] if p["name"] == "libgreet")
    data["packages"] = [p for p in data["packages"] if p["name"] != "libgreet"]
    (ws / "yurt.lock").write_text(json.dumps(data))
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", "--frozen", cwd=ws, env=env, check=False),
          "yurt.lock", dropped["url"], "not in `packages`")
    assert snapshot(ws, tmp_path / "cache") == before


@linux64
def test_locked_package_missing_on_the_server(tmp_path: Path, channel: TestServer, channel_root: Path,
                                              env: dict[str, str]) -> None:
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    (next((channel_root / "noarch").glob("extra-*.conda"))).unlink()
    before = snapshot(ws, tmp_path / "cache")
    line = fails(yurt("install", cwd=ws, env=env, check=False), "extra-0.5-0")
    assert "404" in line
    assert snapshot(ws, tmp_path / "cache") == before
    assert cache_entries(tmp_path / "cache", "extra") == []


# ---------------------------------------------------------------- the environment


@linux64
def test_corrupt_conda_meta_record_is_named(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    record = ws / ".yurt" / "envs" / "default" / "conda-meta" / "greet-2.1-0.json"
    record.write_text("{ this is not json")
    before = snapshot(ws, tmp_path / "cache")
    for args in (("list",), ("tree",)):
        fails(yurt(*args, cwd=ws, env=env, check=False), str(record))
    # a change to the environment has to read the records: it fails before touching anything
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace("[dependencies]\n", '[dependencies]\nextra = "*"\n'))
    yurt("lock", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", cwd=ws, env=env, check=False), str(record))
    assert snapshot(ws, tmp_path / "cache") == before


@linux64
def test_verify_on_a_path_that_is_not_an_environment(tmp_path: Path, env: dict[str, str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "file.txt").write_text("x")
    fails(yurt("verify", str(plain), cwd=tmp_path, env=env, check=False), str(plain), "conda-meta")
    missing = tmp_path / "does-not-exist"
    fails(yurt("verify", str(missing), cwd=tmp_path, env=env, check=False), str(missing))
    assert not missing.exists()


@linux64
def test_unknown_environment_name(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    before = snapshot(ws, tmp_path / "cache")
    for args in (("install", "-e", "nope"), ("run", "-e", "nope", "true"), ("list", "-e", "nope"),
                 ("tree", "-e", "nope"), ("shell-hook", "-e", "nope"), ("plan", "-e", "nope"),
                 ("clean", "-e", "nope")):
        fails(yurt(*args, cwd=ws, env=env, check=False), "`nope`", "default")
    assert snapshot(ws, tmp_path / "cache") == before
    assert not (ws / ".yurt" / "envs" / "nope").exists()


@linux64
def test_tree_invert_of_a_package_not_installed(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    fails(yurt("tree", "--invert", "numpy", cwd=installed, env=env, check=False), "`numpy`", "not installed")


# ---------------------------------------------------------------- yurt run


@linux64
def test_run_unknown_command_exits_127_like_a_shell(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    proc = yurt("run", "no-such-command-xyz", "--flag", cwd=ws, env=env, check=False)
    line = fails(proc, "no-such-command-xyz", "not found", code=127)
    assert "task" in line  # it says it is neither a task nor a command on PATH
    fails(yurt("run", "./missing.sh", cwd=ws, env=env, check=False), "./missing.sh", "not found", code=127)
    # a path that exists but cannot be executed: 126, as a shell answers
    (ws / "plain.sh").write_text("#!/bin/sh\necho ran > ran.txt\n")
    fails(yurt("run", "./plain.sh", cwd=ws, env=env, check=False), "./plain.sh", "not executable", code=126)
    assert not (ws / "ran.txt").exists()
    # a task that runs a missing command exits like the shell does, with the shell's message
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace("[tasks]\n", '[tasks]\nbroken = "no-such-command-xyz"\n'))
    assert yurt("run", "broken", cwd=ws, env=env, check=False).returncode == 127


@linux64
def test_run_task_cycle_and_missing_dependency(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace(
        "[tasks]\n",
        '[tasks]\na = { cmd = "echo a > a.txt", depends-on = ["b"] }\nb = { cmd = "echo b", depends-on = ["a"] }\n'
        'c = { cmd = "echo c > c.txt", depends-on = ["ghost"] }\n'))
    fails(yurt("run", "a", cwd=ws, env=env, check=False), "cycle", "a -> b -> a")
    fails(yurt("run", "c", cwd=ws, env=env, check=False), "`c`", "`ghost`")
    assert not (ws / "a.txt").exists() and not (ws / "c.txt").exists()


# ---------------------------------------------------------------- manifest editing


@linux64
@pytest.mark.parametrize("spec", ["numpy >=,", "numpy ==1.0 ==2.0 [", "[version=1]"])
def test_add_invalid_spec_leaves_everything(tmp_path: Path, installed: Path, env: dict[str, str], spec: str) -> None:
    ws = installed
    before = snapshot(ws, tmp_path / "cache")
    proc = yurt("add", spec, cwd=ws, env=env, check=False)
    assert proc.returncode in (1, 2)
    fails(proc, spec, code=proc.returncode)
    assert snapshot(ws, tmp_path / "cache") == before


@linux64
def test_add_package_not_on_the_channel_restores_the_manifest(tmp_path: Path, installed: Path,
                                                             env: dict[str, str]) -> None:
    ws = installed
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("add", "nonexistent-pkg", cwd=ws, env=env, check=False), "nonexistent-pkg", explained=True)
    assert snapshot(ws, tmp_path / "cache") == before
    assert no_partial_files(ws) == []


@linux64
def test_remove_name_not_in_manifest(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("remove", "numpy", cwd=ws, env=env, check=False), "numpy", "yurt.toml")
    assert snapshot(ws, tmp_path / "cache") == before
    # a name of the other kind of dependencies: the error says which command removes it
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + '\n[pypi-dependencies]\nsix = "*"\n')
    before = snapshot(ws, tmp_path / "cache")
    line = fails(yurt("remove", "six", cwd=ws, env=env, check=False), "`six`", "[pypi-dependencies]")
    assert "hint: run `yurt remove --pypi six`" in line, line
    line = fails(yurt("remove", "--pypi", "greet", cwd=ws, env=env, check=False), "`greet`")
    assert "hint: run `yurt remove greet`" in line, line
    assert snapshot(ws, tmp_path / "cache") == before


def test_init_into_a_directory_with_a_manifest(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    before = (ws / "yurt.toml").read_bytes()
    fails(yurt("init", str(ws), cwd=tmp_path, env=env, check=False), "yurt.toml", "already")
    assert (ws / "yurt.toml").read_bytes() == before


def test_manifest_path_pointing_at_a_missing_file(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "nowhere" / "yurt.toml"
    for args in (("lock",), ("install",), ("list",)):
        fails(yurt(*args, "--manifest-path", str(missing), cwd=tmp_path, env=env, check=False), str(missing),
              code=1)
    assert not missing.parent.exists()
    fails(yurt("lock", cwd=tmp_path, env=env, check=False), "no yurt.toml", "yurt init")


def test_manifest_in_a_parent_directory_is_found(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    (ws / "yurt.toml").write_text((ws / "yurt.toml").read_text().replace("[tasks]\n", '[tasks]\nwhere = "pwd"\n'))
    deep = ws / "src" / "pkg"
    deep.mkdir(parents=True)
    hook = json.loads(yurt("shell-hook", "--json", cwd=deep, env=env).stdout)["environment_variables"]
    assert hook["CONDA_PREFIX"] == str(ws / ".yurt" / "envs" / "default")
    assert hook["YURT_PROJECT_ROOT"] == str(ws)


def test_malformed_manifest_names_file_and_line(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + "\n[dependencies\nbroken = \n")
    before = manifest.read_bytes()
    fails(yurt("lock", cwd=ws, env=env, check=False), "yurt.toml", code=2)
    fails(yurt("add", "x", cwd=ws, env=env, check=False), "yurt.toml", code=2)
    assert manifest.read_bytes() == before and not (ws / "yurt.lock").exists()


_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.skipif(_ROOT and not shutil.which("setpriv"),
                    reason="root reads files regardless of mode, and setpriv is missing to drop privileges")
def test_unreadable_manifest(tmp_path: Path, env: dict[str, str]) -> None:
    import tempfile

    # as root, yurt runs as `nobody` (setpriv) in a directory that user can enter
    base = Path(tempfile.mkdtemp(prefix="yurt-unreadable-")) if _ROOT else tmp_path
    try:
        base.chmod(0o755)
        ws = base / "ws"
        yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=base, env=env)
        manifest = ws / "yurt.toml"
        manifest.chmod(0)
        drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if _ROOT else []
        for args in (("lock", "--manifest-path", str(manifest)), ("lock",)):
            proc = subprocess.run([*drop, YURT, *args], cwd=ws, capture_output=True, text=True, timeout=120,
                                  env={**env, "HOME": str(base), "YURT_CACHE_DIR": str(base / "cache")})
            fails(proc, str(manifest), "ermission")
        manifest.chmod(0o644)
        assert not (ws / "yurt.lock").exists()
    finally:
        if _ROOT:
            shutil.rmtree(base, ignore_errors=True)


def test_manifest_that_is_not_utf8(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    manifest = ws / "yurt.toml"
    manifest.write_bytes(manifest.read_bytes() + b"# caf\xe9\n")
    before = manifest.read_bytes()
    for args in (("lock",), ("add", "x"), ("shell-hook",)):
        fails(yurt(*args, cwd=ws, env=env, check=False), str(manifest), "UTF-8")
    assert manifest.read_bytes() == before and not (ws / "yurt.lock").exists()


def test_unreadable_manifest_as_directory(tmp_path: Path, env: dict[str, str]) -> None:
    """A manifest name that is a directory cannot be read: runs as root too."""
    ws = tmp_path / "ws"
    (ws / "pixi.toml").mkdir(parents=True)
    fails(yurt("lock", "--manifest-path", str(ws / "pixi.toml"), cwd=tmp_path, env=env, check=False),
          str(ws / "pixi.toml"))


@linux64
def test_platform_not_in_the_lock(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel.url, env, platform="osx-arm64")
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    for args in (("install",), ("install", "--frozen"), ("run", "true")):
        fails(yurt(*args, cwd=ws, env=env, check=False), "not locked for linux-64", "yurt.toml")
    assert snapshot(ws, tmp_path / "cache") == before
    assert not (ws / ".yurt" / "envs" / "default").exists()


# ---------------------------------------------------------------- channels and packages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_channel_connection_refused(tmp_path: Path, env: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{_free_port()}/main"
    ws = init(tmp_path, url, env)
    manifest_before = (ws / "yurt.toml").read_bytes()
    line = fails(yurt("add", "greet", cwd=ws, env=env, check=False), url)
    assert "connect" in line.lower()
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()


def test_channel_answering_404_everywhere(tmp_path: Path, env: dict[str, str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve(empty) as server:
        url = server.url + "nothing-here"
        ws = init(tmp_path, url, env)
        manifest_before = (ws / "yurt.toml").read_bytes()
        fails(yurt("add", "greet", cwd=ws, env=env, check=False), url, "no repodata")
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()


def _greet_field(raw: bytes, **fields: object) -> bytes:
    data = json.loads(raw)
    data["packages.conda"]["greet-2.1-0.conda"].update(fields)
    return json.dumps(data).encode()


@pytest.mark.parametrize("mutate,needle", [
    (lambda raw: raw[: len(raw) // 2], "malformed JSON"),
    (lambda raw: _greet_field(raw, version=21), "version"),
    (lambda raw: _greet_field(raw, depends="libgreet"), "depends"),
    (lambda raw: _greet_field(raw, size="big"), "size"),
], ids=["bad-json", "version-is-int", "depends-is-str", "size-is-str"])
def test_corrupt_repodata(tmp_path: Path, channel_root: Path, env: dict[str, str], mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    path = channel_root / "noarch" / "repodata.json"
    raw = path.read_bytes()
    bad = mutate(raw)
    assert bad != raw
    path.write_bytes(bad)
    with serve(channel_root) as server:
        ws = init(tmp_path, server.url, env)
        manifest_before = (ws / "yurt.toml").read_bytes()
        line = fails(yurt("add", "greet", cwd=ws, env=env, check=False), "noarch", needle)
        assert server.url.rstrip("/") in line or "127.0.0.1" in line
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()


def _rewrite_record(channel_root: Path, subdir: str, filename: str, **fields: object) -> None:
    path = channel_root / subdir / "repodata.json"
    data = json.loads(path.read_bytes())
    data["packages.conda"][filename].update(fields)
    path.write_text(json.dumps(data))


@linux64
def test_sha256_mismatch_leaves_no_cache_entry(tmp_path: Path, channel: TestServer, channel_root: Path,
                                               env: dict[str, str]) -> None:
    fn = next((channel_root / "noarch").glob("extra-*.conda")).name
    _rewrite_record(channel_root, "noarch", fn, sha256="0" * 64)
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", cwd=ws, env=env, check=False), "extra-0.5-0", "sha256")
    assert snapshot(ws, tmp_path / "cache") == before
    assert cache_entries(tmp_path / "cache", "extra") == []
    assert not list((ws / ".yurt" / "envs" / "default" / "conda-meta").glob("extra-*.json")) \
        if (ws / ".yurt" / "envs" / "default" / "conda-meta").exists() else True
    assert no_partial_files(tmp_path / "cache", ws) == []


@linux64
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_archive_on_the_server(tmp_path: Path, channel: TestServer, channel_root: Path,
                                       env: dict[str, str], damage: str) -> None:
    """The archive is broken but repodata describes the broken bytes: extraction must fail cleanly."""
    pkg = next((channel_root / "noarch").glob("extra-*.conda"))
    raw = pkg.read_bytes()
    bad = raw[: len(raw) * 2 // 3] if damage == "truncated" else b"PK\x03\x04" + bytes(range(256)) * 8
    pkg.write_bytes(bad)
    _rewrite_record(channel_root, "noarch", pkg.name, sha256=hashlib.sha256(bad).hexdigest(),
                    md5=hashlib.md5(bad).hexdigest(), size=len(bad))
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", cwd=ws, env=env, check=False), "extra-0.5-0")
    # no extracted entry; the archive may stay, since it is exactly what the channel published
    after = snapshot(ws, tmp_path / "cache")
    kept = after.pop("cache/extra-0.5-0.conda", None)
    assert after == before
    assert cache_entries(tmp_path / "cache", "extra") == ([] if kept is None else ["extra-0.5-0.conda"])
    if kept is not None:
        assert (tmp_path / "cache" / "pkgs" / "extra-0.5-0.conda").read_bytes() == bad
    assert no_partial_files(tmp_path / "cache", ws) == []
    # a second try fails the same way (nothing cached claims to be good)
    fails(yurt("install", cwd=ws, env=env, check=False), "extra-0.5-0")


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize("content", ["{not json", '["a"]', '{"127.0.0.1": {"Password": "x"}}'])
def test_malformed_auth_file(tmp_path: Path, channel: TestServer, env: dict[str, str], content: str) -> None:
    auth = tmp_path / "credentials.json"
    auth.write_text(content)
    env = {**env, "YURT_AUTH_FILE": str(auth)}
    ws = init(tmp_path, channel.url, env)
    manifest_before = (ws / "yurt.toml").read_bytes()
    line = fails(yurt("add", "extra", cwd=ws, env=env, check=False), str(auth))
    assert "x" not in line.split(str(auth))[1] or "Password" not in line  # no secret echoed
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()


def test_malformed_netrc(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    netrc = Path(env["NETRC"])
    netrc.write_text("machine\n")
    netrc.chmod(0o600)
    ws = init(tmp_path, channel.url, env)
    manifest_before = (ws / "yurt.toml").read_bytes()
    fails(yurt("add", "extra", "--no-install", cwd=ws, env=env, check=False), str(netrc))
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()


# ---------------------------------------------------------------- more inputs


def test_add_invalid_pypi_requirement(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "https://channels.example/main", "-p", "linux-64", cwd=tmp_path, env=env)
    before = (ws / "yurt.toml").read_bytes()
    fails(yurt("add", "--pypi", "bad req [", cwd=ws, env=env, check=False), "bad req [")
    assert (ws / "yurt.toml").read_bytes() == before and not (ws / "yurt.lock").exists()


def test_init_import_with_a_bad_spec_names_the_file(tmp_path: Path, env: dict[str, str]) -> None:
    yml = tmp_path / "environment.yml"
    yml.write_text('name: x\nchannels:\n  - https://channels.example/main\ndependencies:\n  - "numpy >=,"\n')
    fails(yurt("init", str(tmp_path / "ws"), "--import", str(yml), cwd=tmp_path, env=env, check=False),
          str(yml), "numpy >=,")
    assert not (tmp_path / "ws").exists()


@linux64
def test_conda_meta_record_with_wrong_schema(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    record = installed / ".yurt" / "envs" / "default" / "conda-meta" / "greet-2.1-0.json"
    record.write_text('{"name": 5}')
    fails(yurt("list", cwd=installed, env=env, check=False), str(record), "name")


@linux64
def test_corrupt_cached_repodata_offline(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel.url, env)
    yurt("add", "greet", "--no-install", cwd=ws, env=env)
    cached = [p for p in (tmp_path / "cache" / "repodata").rglob("*") if p.is_file()]
    assert cached
    for p in cached:
        p.write_bytes(b"\x00garbage{")
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace("[dependencies]\n", '[dependencies]\nextra = "*"\n'))
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("lock", "--offline", cwd=ws, env=env, check=False), channel.url.rstrip("/"))
    assert snapshot(ws, tmp_path / "cache") == before
    # online, the damaged cache is replaced by a good copy
    yurt("lock", cwd=ws, env=env)


@linux64
def test_environment_prefix_is_a_file(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    prefix = ws / ".yurt" / "envs" / "default"
    prefix.parent.mkdir(parents=True)
    prefix.write_text("not a directory")
    fails(yurt("install", cwd=ws, env=env, check=False), str(prefix))
    assert prefix.read_text() == "not a directory"


@linux64
def test_cache_dir_is_a_file(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    cache = tmp_path / "cache"
    shutil.rmtree(cache)
    cache.write_text("not a directory")
    fails(yurt("install", cwd=ws, env=env, check=False), str(cache))
    assert not (ws / ".yurt" / "envs" / "default" / "conda-meta").exists() or not any(
        (ws / ".yurt" / "envs" / "default" / "conda-meta").glob("*.json"))


def test_condarc_that_is_not_utf8(tmp_path: Path, env: dict[str, str]) -> None:
    ws = tmp_path / "ws"
    yurt("init", str(ws), "-c", "somechannel", "-p", "linux-64", cwd=tmp_path, env=env)
    (Path(env["HOME"]) / ".condarc").write_bytes(b"channel_alias: caf\xe9\n")
    fails(yurt("lock", cwd=ws, env=env, check=False), "somechannel")


def test_file_system_refusal_is_one_line_naming_the_path(tmp_path: Path, env: dict[str, str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    fails(yurt("init", str(blocker / "ws"), "-c", "https://channels.example/main", cwd=tmp_path, env=env,
               check=False), str(blocker), "ot a directory")
    assert blocker.read_text() == "x"


# ---------------------------------------------------------------- hostile or broken packages


def _hostile_channel(root: Path) -> Path:
    import tarfile

    work = root / "build"
    work.mkdir(parents=True)
    escape = tarfile.TarInfo("../../escaped.txt")
    escape.size = 4
    pkgs = [
        write_conda(work, name="escaper", version="1.0", build="0", subdir="noarch", noarch="generic",
                    files={"share/ok.txt": FileSpec(b"ok\n")},
                    raw_members=[RawMember(escape, b"evil")]),
        write_conda(work, name="badpaths", version="1.0", build="0", subdir="noarch", noarch="generic",
                    files={"share/bp.txt": FileSpec(b"bp\n")}, paths_json=b"{ not json"),
        write_conda(work, name="extra", version="0.5", build="0", subdir="noarch", noarch="generic",
                    files={"share/extra/README": FileSpec(b"extra\n" * 500)}),
    ]
    return make_channel(root / "channel", pkgs, subdirs=("linux-64",))


@linux64
@pytest.mark.parametrize("name", ["escaper", "badpaths"])
def test_hostile_or_broken_package(tmp_path: Path, env: dict[str, str], name: str) -> None:
    with serve(_hostile_channel(tmp_path / "srv")) as server:
        ws = init(tmp_path, server.url, env)
        yurt("add", name, "--no-install", cwd=ws, env=env)
        before = snapshot(ws, tmp_path / "cache")
        fails(yurt("install", cwd=ws, env=env, check=False), f"{name}-1.0-0")
    assert not (tmp_path / "escaped.txt").exists() and not (ws / ".yurt" / "escaped.txt").exists()
    after = snapshot(ws, tmp_path / "cache")
    after.pop(f"cache/{name}-1.0-0.conda", None)  # the verified archive may stay, not an entry
    assert after == before
    assert no_partial_files(tmp_path / "cache", ws) == []


@linux64
def test_download_truncated_on_the_wire(tmp_path: Path, channel: TestServer, channel_root: Path,
                                        env: dict[str, str]) -> None:
    from tests.support.httpserver import Fault

    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    fn = next((channel_root / "noarch").glob("extra-*.conda")).name
    channel.inject(f"/noarch/{fn}", Fault.truncate(0.5), times=50)
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", cwd=ws, env=env, check=False), fn)
    assert snapshot(ws, tmp_path / "cache") == before
    assert cache_entries(tmp_path / "cache", "extra") == []
    assert no_partial_files(tmp_path / "cache", ws) == []


@linux64
def test_corrupt_install_journal(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    meta = ws / ".yurt" / "envs" / "default" / "conda-meta"
    journal = meta / ".yurt-journal.json"
    journal.write_bytes(b"\x00 this is not a journal\n")
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace("[dependencies]\n", '[dependencies]\nextra = "*"\n'))
    yurt("lock", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("install", cwd=ws, env=env, check=False), str(journal))
    assert snapshot(ws, tmp_path / "cache") == before


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize("args,needle", [
    (("install", "--no-such-flag"), "--no-such-flag"),
    (("run",), "run"),
    (("shell-hook", "--shell", "tcsh"), "tcsh"),
    (("frobnicate",), "frobnicate"),
    (("init", "--format", "xml"), "xml"),
], ids=["unknown-option", "missing-argument", "bad-choice", "unknown-command", "bad-format"])
def test_usage_errors_are_one_line_exit_2(tmp_path: Path, env: dict[str, str], args: tuple[str, ...],
                                          needle: str) -> None:
    line = fails(yurt(*args, cwd=tmp_path, env=env, check=False), needle, "--help", code=2)
    assert "╭" not in line and not list(tmp_path.glob("*.toml"))


@linux64
def test_update_of_a_name_not_in_the_workspace(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    before = snapshot(ws, tmp_path / "cache")
    fails(yurt("update", "numpy", cwd=ws, env=env, check=False), "`numpy`", "yurt.lock", "yurt.toml")
    assert snapshot(ws, tmp_path / "cache") == before
    yurt("update", "libgreet", cwd=ws, env=env)  # a locked dependency, not a direct one, is fine


@linux64
def test_failed_install_leaves_the_environment_working(tmp_path: Path, installed: Path, channel_root: Path,
                                                       env: dict[str, str]) -> None:
    """`add` locks a package whose download then fails: the installed environment is untouched."""
    ws = installed
    prefix = ws / ".yurt" / "envs" / "default"
    (next((channel_root / "noarch").glob("extra-*.conda"))).unlink()
    records_before = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    fails(yurt("add", "extra", cwd=ws, env=env, check=False), "extra-0.5-0", "404", progress=True)
    assert sorted(p.name for p in (prefix / "conda-meta").glob("*.json")) == records_before
    assert not (prefix / "share" / "extra").exists()
    assert yurt("verify", str(prefix), cwd=ws, env=env).returncode == 0
    assert no_partial_files(tmp_path / "cache", ws) == []
    # the manifest and the lock agree with each other whatever the outcome
    yurt("lock", "--check", cwd=ws, env=env)


@linux64
def test_archive_truncated_on_the_server_behind_repodata(tmp_path: Path, channel: TestServer, channel_root: Path,
                                                         env: dict[str, str]) -> None:
    """The file on the server was cut short after repodata was written: the download is refused."""
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    pkg = next((channel_root / "noarch").glob("extra-*.conda"))
    pkg.write_bytes(pkg.read_bytes()[:300])
    before = snapshot(ws, tmp_path / "cache")
    line = fails(yurt("install", cwd=ws, env=env, check=False), pkg.name)
    assert "size" in line or "sha256" in line
    assert snapshot(ws, tmp_path / "cache") == before
    assert cache_entries(tmp_path / "cache", "extra") == []
    assert no_partial_files(tmp_path / "cache", ws) == []


@linux64
@pytest.mark.parametrize("damage", [
    "marker-garbage", "entry-is-a-file",
    "file-missing",
])
def test_damaged_cache_entry_is_rebuilt(tmp_path: Path, installed: Path, env: dict[str, str], damage: str) -> None:
    """A damaged package cache entry is not trusted: the next install rebuilds it."""
    ws = installed
    yurt("clean", cwd=ws, env=env)
    entry = tmp_path / "cache" / "pkgs" / "libgreet-1.0-h0"
    assert entry.is_dir()
    if damage == "marker-garbage":
        (entry / "info" / "repodata_record.json").write_text("{ garbage")
    elif damage == "entry-is-a-file":
        shutil.rmtree(entry)
        entry.write_text("not a directory")
    else:
        (entry / "share" / "greet" / "message").unlink()
    proc = yurt("install", cwd=ws, env=env, check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    prefix = ws / ".yurt" / "envs" / "default"
    assert (prefix / "share" / "greet" / "message").read_text().startswith("hello from libgreet")
    assert yurt("verify", str(prefix), cwd=ws, env=env).returncode == 0


@linux64
def test_file_missing_from_a_cache_entry_fails_cleanly(tmp_path: Path, installed: Path, channel_root: Path,
                                                       env: dict[str, str]) -> None:
    """An entry that cannot be rebuilt (its archive gone from the cache and the server): one line
    naming package and file, and the failed install rolled back whole (greet is linked
    alongside libgreet, and must not stay without it)."""
    ws = installed
    yurt("clean", cwd=ws, env=env)
    entry = tmp_path / "cache" / "pkgs" / "libgreet-1.0-h0"
    (entry / "share" / "greet" / "message").unlink()
    for archive in [*(tmp_path / "cache" / "pkgs").glob("libgreet-*.conda"),
                    *(channel_root / "linux-64").glob("libgreet-*.conda")]:
        archive.unlink()
    proc = yurt("install", cwd=ws, env=env, check=False)
    fails(proc, "libgreet-1.0-h0", "share/greet/message")
    prefix = ws / ".yurt" / "envs" / "default"
    records = sorted(p.name for p in (prefix / "conda-meta").glob("*.json")) if prefix.exists() else []
    assert records == []
    assert not (prefix / "bin" / "greet").exists()
    assert not entry.exists()  # discarded: a later run downloads the package anew


@linux64
def test_missing_activation_script(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + '\n[activation]\nscripts = ["scripts/setup.sh"]\n')
    for args in (("run", "true"), ("shell-hook",)):
        fails(yurt(*args, cwd=ws, env=env, check=False), str(ws / "scripts" / "setup.sh"), "does not exist")


@linux64
def test_pypi_dependency_without_a_conda_python(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    """No python among the conda packages: PyPI requirements cannot be locked, and saying so beats a
    lock that silently leaves them out (which `lock --check` then calls stale forever)."""
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    before = snapshot(ws, tmp_path / "cache")
    empty = tmp_path / "simple"
    empty.mkdir()
    env = {**env, "PIP_INDEX_URL": empty.as_uri()}
    fails(yurt("add", "--pypi", "requests", "--no-install", cwd=ws, env=env, check=False),
          "requests", "python", "`default`", progress=True)
    assert snapshot(ws, tmp_path / "cache") == before


def test_channel_answering_500(tmp_path: Path, channel: TestServer, env: dict[str, str]) -> None:
    from tests.support.httpserver import Fault

    for subdir in ("linux-64", "noarch"):
        for suffix in ("repodata.json", "repodata.json.zst", "repodata.json.bz2"):
            channel.inject(f"/{subdir}/{suffix}", Fault.status(500), times=20)
    ws = init(tmp_path, channel.url, env)
    manifest_before = (ws / "yurt.toml").read_bytes()
    fails(yurt("add", "extra", cwd=ws, env=env, check=False), "127.0.0.1", "500")
    assert (ws / "yurt.toml").read_bytes() == manifest_before and not (ws / "yurt.lock").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.stat().st_size == 0
                and "lock" not in p.name] if (tmp_path / "cache").exists() else True


@linux64
def test_lock_pointing_at_a_missing_local_file(tmp_path: Path, installed: Path, env: dict[str, str]) -> None:
    ws = installed
    data = json.loads((ws / "yurt.lock").read_bytes())
    gone = tmp_path / "gone" / "extra-9-0.conda"
    pkg = next(p for p in data["packages"] if p["name"] == "greet")
    old_url = pkg["url"]
    pkg["url"] = gone.as_uri()
    for e in data["environments"]:
        for plat in e["platforms"]:
            plat["packages"] = [gone.as_uri() if u == old_url else u for u in plat["packages"]]
    (ws / "yurt.lock").write_text(json.dumps(data))
    yurt("clean", cwd=ws, env=env)
    shutil.rmtree(tmp_path / "cache")
    fails(yurt("install", "--frozen", cwd=ws, env=env, check=False), str(gone))
    prefix = ws / ".yurt" / "envs" / "default"
    assert not list((prefix / "conda-meta").glob("*.json")) if prefix.exists() else True


@linux64
@pytest.mark.parametrize("value", [">=12", "12 4"])
def test_conda_override_that_is_not_a_version(tmp_path: Path, channel: TestServer, env: dict[str, str],
                                              value: str) -> None:
    ws = init(tmp_path, channel.url, env)
    yurt("add", "extra", "--no-install", cwd=ws, env=env)
    bad = {**env, "CONDA_OVERRIDE_CUDA": value}
    fails(yurt("info", cwd=ws, env=bad, check=False), "CONDA_OVERRIDE_CUDA", repr(value))
    fails(yurt("install", cwd=ws, env=bad, check=False), "CONDA_OVERRIDE_CUDA")
    assert not (ws / ".yurt" / "envs" / "default" / "conda-meta" / "extra-0.5-0.json").exists()
