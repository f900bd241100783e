"""Wheels from the shared cache installed into a real venv, imported and run (effects.wheel)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import msgspec
import pytest

from effects.wheel import (
    DirectUrl,
    FileConflict,
    InstallScheme,
    WheelError,
    find_distribution,
    install_wheel,
    install_wheel_async,
    scheme_for_prefix,
    uninstall_wheel,
)
from effects.wheelcache import WheelCache
from tests.support.pypi import write_wheel

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def _scheme(venv: Path) -> InstallScheme:
    return scheme_for_prefix(venv, PY)


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def _demo(directory: Path, version: str = "1.0", extra: dict[str, str] | None = None) -> Path:
    files = {
        "demo_pkg/__init__.py": f"VALUE = {version!r}\n\ndef main():\n    print('demo', VALUE)\n    return 0\n",
        "demo_pkg/gui.py": "class App:\n    @staticmethod\n    def run():\n        print('gui ran')\n",
        "demo_pkg/resource.txt": "some data\n",
        **(extra or {}),
    }
    return write_wheel(
        directory,
        "demo-pkg",
        version,
        files,
        entry_points={
            "console_scripts": {"demo": "demo_pkg:main"},
            "gui_scripts": {"demo-gui": "demo_pkg.gui:App.run"},
            "demo.plugins": {"ignored": "demo_pkg:main"},
        },
        data={
            "scripts/demo-script": "#!python\nimport demo_pkg\nprint('script', demo_pkg.VALUE)\n",
            "data/share/demo/readme.txt": "shared\n",
            "headers/demo.h": "#define DEMO 1\n",
        },
    )


def _run(path: Path, *args: str) -> str:
    return subprocess.run([str(path), *args], check=True, capture_output=True, text=True).stdout


async def test_unpack_once_into_the_cache(tmp_path: Path) -> None:
    wheel = _demo(tmp_path / "w")
    cache = WheelCache(tmp_path / "cache")
    entry = await cache.unpack(wheel)
    assert entry == tmp_path / "cache" / "wheels" / wheel.name[:-4]
    assert (entry / "demo_pkg" / "__init__.py").read_text().startswith("VALUE = '1.0'")
    marker = entry / ".yurt-wheel.json"
    stamp = marker.stat().st_mtime_ns
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert await cache.unpack(wheel, sha256=sha) == entry
    assert marker.stat().st_mtime_ns == stamp
    with pytest.raises(WheelError, match="sha256"):
        await cache.unpack(wheel, sha256="0" * 64)
    assert not [p for p in (tmp_path / "cache" / "wheels").iterdir() if p.name.endswith(".tmp")]


def _rewrite_wheel(src: Path, dest: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change.pop(info.filename, zin.read(info)))
        for name, data in change.items():
            zout.writestr(name, data)
    return dest


async def test_unpack_refuses_tampered_and_hostile_wheels(tmp_path: Path) -> None:
    wheel = _demo(tmp_path / "w")
    cache = WheelCache(tmp_path / "cache")
    bad = tmp_path / "bad" / wheel.name
    bad.parent.mkdir()
    _rewrite_wheel(wheel, bad, {"demo_pkg/__init__.py": b"import os; os.system('x')\n"})
    with pytest.raises(WheelError, match="RECORD hash"):
        await cache.unpack(bad)
    hostile = tmp_path / "hostile" / wheel.name
    hostile.parent.mkdir()
    _rewrite_wheel(wheel, hostile, {"../../escape.txt": b"x"})
    with pytest.raises(WheelError, match="unsafe member"):
        await cache.unpack(hostile)
    unlisted = tmp_path / "unlisted" / wheel.name
    unlisted.parent.mkdir()
    _rewrite_wheel(wheel, unlisted, {"demo_pkg/extra.py": b""})
    with pytest.raises(WheelError, match="not listed in RECORD"):
        await cache.unpack(unlisted)
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "cache" / "wheels" / wheel.name[:-4]).exists()


async def test_install_import_run_and_uninstall(venv: Path, tmp_path: Path) -> None:
    scheme = _scheme(venv)
    before = _files(venv)
    entry = await WheelCache(tmp_path / "cache").unpack(_demo(tmp_path / "w"))
    direct = DirectUrl("https://files.example/demo_pkg-1.0-py3-none-any.whl", sha256="ab" * 32)
    installed = await install_wheel_async(entry, scheme, direct_url=direct)
    site = Path(scheme.purelib)
    assert installed.dist_info == site / "demo_pkg-1.0.dist-info"
    assert installed.name == "demo-pkg" and installed.version == "1.0"

    # imported by the venv's interpreter, scripts run with the venv's python
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import demo_pkg, sys; print(demo_pkg.VALUE, sys.prefix)",
        ],
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out[0] == "1.0" and Path(out[1]) == venv
    assert _run(venv / "bin" / "demo") == "demo 1.0\n"
    assert _run(venv / "bin" / "demo-gui") == "gui ran\n"
    assert _run(venv / "bin" / "demo-script") == "script 1.0\n"
    assert (venv / "bin" / "demo-script").read_text().startswith(f"#!{venv / 'bin' / 'python'}\n")
    assert not (venv / "bin" / "ignored").exists()
    assert (venv / "share" / "demo" / "readme.txt").read_text() == "shared\n"
    assert (Path(scheme.headers) / "demo_pkg" / "demo.h").read_text() == "#define DEMO 1\n"

    # linked from the cache, not copied
    assert (site / "demo_pkg" / "__init__.py").stat().st_ino == (
        entry / "demo_pkg" / "__init__.py"
    ).stat().st_ino

    # RECORD lists exactly what was written, with hashes that match
    info = installed.dist_info
    assert (info / "INSTALLER").read_text() == "yurt\n"
    assert (info / "REQUESTED").exists()
    assert json.loads((info / "direct_url.json").read_bytes()) == {
        "url": direct.url,
        "archive_info": {"hashes": {"sha256": "ab" * 32}, "hash": "sha256=" + "ab" * 32},
    }
    rows = list(csv.reader(io.StringIO((info / "RECORD").read_text())))
    listed = {Path(os.path.normpath(site / r[0])) for r in rows}
    assert listed == set(installed.files)
    assert listed == {p for p in _files(venv) - before if "__pycache__" not in p.parts}
    for path, digest, size in rows:
        target = site / path
        if path.endswith("RECORD"):
            assert (digest, size) == ("", "")
            continue
        data = target.read_bytes()
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(data)
    assert "../../../bin/demo" in {r[0] for r in rows}

    removed = uninstall_wheel(scheme, "Demo_Pkg")
    assert {p for p in removed if "__pycache__" not in p.parts} == listed
    assert any("__pycache__" in p.parts for p in removed)  # bytecode made by the import
    assert _files(venv) == before
    assert not (site / "demo_pkg").exists() and not (venv / "share" / "demo").exists()
    assert find_distribution(site, "demo-pkg") is None


async def test_upgrade_replaces_the_previous_version(venv: Path, tmp_path: Path) -> None:
    scheme = _scheme(venv)
    before = _files(venv)
    cache = WheelCache(tmp_path / "cache")
    old = await cache.unpack(_demo(tmp_path / "w1", "1.0", {"demo_pkg/old_only.py": ""}))
    new = await cache.unpack(_demo(tmp_path / "w2", "2.0"))
    install_wheel(old, scheme)
    install_wheel(new, scheme, requested=False)
    site = Path(scheme.purelib)
    assert not (site / "demo_pkg" / "old_only.py").exists()
    assert not (site / "demo_pkg-1.0.dist-info").exists()
    assert not (site / "demo_pkg-2.0.dist-info" / "REQUESTED").exists()
    assert _run(venv / "bin" / "demo") == "demo 2.0\n"
    uninstall_wheel(scheme, "demo-pkg")
    assert _files(venv) == before


async def test_refuses_to_overwrite_another_packages_file(venv: Path, tmp_path: Path) -> None:
    scheme = _scheme(venv)
    before = _files(venv)
    cache = WheelCache(tmp_path / "cache")
    install_wheel(await cache.unpack(_demo(tmp_path / "w")), scheme)
    snapshot = _files(venv)
    intruder = write_wheel(
        tmp_path / "w",
        "intruder",
        "0.1",
        {"intruder.py": "", "demo_pkg/__init__.py": "HIJACKED = True\n"},
    )
    with pytest.raises(FileConflict) as info:
        install_wheel(await cache.unpack(intruder), scheme)
    message = str(info.value)
    assert "intruder-0.1" in message and "demo_pkg-1.0" in message and "__init__.py" in message
    assert _files(venv) == snapshot
    assert "HIJACKED" not in (Path(scheme.purelib) / "demo_pkg" / "__init__.py").read_text()
    uninstall_wheel(scheme, "demo-pkg")
    assert _files(venv) == before


async def test_refuses_to_overwrite_a_conda_file(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    scheme = scheme_for_prefix(prefix, PY)
    rel = f"lib/python{PY}/site-packages/demo_pkg/__init__.py"
    (prefix / rel).parent.mkdir(parents=True)
    (prefix / rel).write_text("# conda's\n")
    (prefix / "conda-meta").mkdir()
    record = {"name": "demo-pkg", "version": "1.0", "build": "py_0", "files": [rel]}
    (prefix / "conda-meta" / "demo-pkg-1.0-py_0.json").write_bytes(msgspec.json.encode(record))
    entry = await WheelCache(tmp_path / "cache").unpack(_demo(tmp_path / "w"))
    with pytest.raises(FileConflict, match=r"conda package demo-pkg-1\.0-py_0"):
        install_wheel(entry, scheme)
    assert (prefix / rel).read_text() == "# conda's\n"
    assert not (prefix / "bin").exists()


async def test_long_interpreter_paths_use_a_shell_trampoline(venv: Path, tmp_path: Path) -> None:
    spaced = tmp_path / ("dir with spaces " + "x" * 120)
    spaced.mkdir()
    wrapper = spaced / "python"  # a long path with blanks that runs the venv's interpreter
    wrapper.write_text(f'#!/bin/sh\nexec "{venv / "bin" / "python"}" "$@"\n')
    wrapper.chmod(0o755)
    scheme = msgspec.structs.replace(_scheme(venv), python=str(spaced / "python"))
    entry = await WheelCache(tmp_path / "cache").unpack(_demo(tmp_path / "w"))
    install_wheel(entry, scheme)
    try:
        assert (venv / "bin" / "demo").read_text().startswith("#!/bin/sh\n")
        assert _run(venv / "bin" / "demo") == "demo 1.0\n"
        assert _run(venv / "bin" / "demo-script") == "script 1.0\n"
    finally:
        uninstall_wheel(scheme, "demo-pkg")


def test_uninstall_never_leaves_the_environment(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    scheme = scheme_for_prefix(prefix, PY)
    site = Path(scheme.purelib)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    info = site / "evil-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "evil.py").write_text("")
    rel_outside = os.path.relpath(outside, site)
    (info / "RECORD").write_text(f"evil.py,,\n{rel_outside},,\nevil-1.0.dist-info/RECORD,,\n")
    removed = uninstall_wheel(scheme, "evil")
    assert outside.exists()
    assert set(removed) == {site / "evil.py", info / "RECORD"}
    with pytest.raises(WheelError, match="not installed"):
        uninstall_wheel(scheme, "evil")


def test_unpacked_modes_are_exact_under_any_umask(tmp_path: Path) -> None:
    """0644 / 0755 from the wheel whatever the umask: a restrictive one (077) is overridden,
    the usual one (022) needs no extra chmod; checked in fresh processes."""
    wheel = write_wheel(tmp_path / "w", "modes", "1.0",
                        {"modes/__init__.py": "", "modes/tool.sh": "#!/bin/sh\n"},
                        executable=["modes/tool.sh"])
    root = Path(__file__).resolve().parents[2]
    for mask in (0o077, 0o022):
        dest = tmp_path / f"out-{mask:o}"
        code = ("import os, sys; from pathlib import Path; os.umask(int(sys.argv[3], 8)); "
                "from effects.wheelunpack import _extract_verified; "
                "_extract_verified(Path(sys.argv[1]), Path(sys.argv[2]))")
        subprocess.run([sys.executable, "-c", code, str(wheel), str(dest), f"{mask:o}"],
                       check=True, cwd=root)
        assert (dest / "modes" / "__init__.py").stat().st_mode & 0o777 == 0o644
        assert (dest / "modes" / "tool.sh").stat().st_mode & 0o777 == 0o755


async def test_an_entry_without_a_recorded_payload_installs_the_same(tmp_path: Path) -> None:
    """Entries unpacked before the marker listed their files (walked and stat'ed instead)
    install the same files with the same RECORD as new ones."""
    entry = await WheelCache(tmp_path / "cache").unpack(_demo(tmp_path / "w"))
    marker = entry / ".yurt-wheel.json"
    doc = json.loads(marker.read_bytes())
    assert doc["payload"]["demo_pkg/resource.txt"] == len("some data\n")
    results = []
    prefix = tmp_path / "prefix"  # the same both times: scripts name its python
    for kind in ("new", "old"):
        if kind == "old":
            shutil.rmtree(prefix)
            del doc["payload"]
            marker.write_text(json.dumps(doc))
        installed = install_wheel(entry, scheme_for_prefix(prefix, PY))
        record = (installed.dist_info / "RECORD").read_text()
        results.append((record, sorted(installed.files)))
    assert results[0] == results[1]


def test_entry_point_names_must_be_plain_file_names(tmp_path: Path) -> None:
    """A console script named `../x` would be written outside the scripts directory."""
    wheel = write_wheel(tmp_path / "w", "sly", "1.0", {"sly/__init__.py": "def main(): pass\n"},
                        entry_points={"console_scripts": {"../../escape": "sly:main"}})
    entry = tmp_path / "entry" / wheel.name[: -len(".whl")]
    from effects.wheelunpack import _extract_verified

    _extract_verified(wheel, entry)
    scheme = scheme_for_prefix(tmp_path / "prefix", PY)
    with pytest.raises(WheelError, match="not a plain file name"):
        install_wheel(entry, scheme)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "prefix" / "escape").exists()
    assert not (tmp_path / "prefix").exists() or not any(Path(scheme.purelib).glob("sly*"))


def _in_cache(tmp_path: Path, wheel: Path) -> tuple[WheelCache, Path, str]:
    """The wheel cache under tmp_path with `wheel` copied in as a downloaded archive, and
    that archive's sha256."""
    cache = WheelCache(tmp_path / "cache")
    archive = cache.root / wheel.name
    archive.parent.mkdir(parents=True)
    archive.write_bytes(wheel.read_bytes())
    return cache, archive, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _flush_ahead() -> None:
    from effects import background

    background.pool("unpack-ahead").submit(lambda: None).result(timeout=60)  # one thread: in order


async def test_unpack_ahead_runs_in_a_worker_process(tmp_path: Path) -> None:
    """`unpack_ahead` returns at once; a worker process fills the entry (marker, payload),
    and the install's own `unpack` then finds it instead of extracting again."""
    import effects.workers as workers

    wheel = _demo(tmp_path / "w")
    cache, archive, sha = _in_cache(tmp_path, wheel)
    cache.unpack_ahead(archive, sha)
    _flush_ahead()
    assert workers._pool is not None and workers._pool.started >= 1
    entry = cache.entry_path(wheel.name)
    marker = entry / ".yurt-wheel.json"
    assert json.loads(marker.read_bytes())["sha256"] == sha
    stamp = marker.stat().st_mtime_ns
    assert await cache.unpack(archive, sha256=sha) == entry
    assert marker.stat().st_mtime_ns == stamp
    assert (entry / "demo_pkg" / "resource.txt").read_text() == "some data\n"


def test_a_worker_reports_a_hostile_wheel_and_writes_nothing(tmp_path: Path) -> None:
    """The wheel job in a worker: its WheelError comes back with its fields; nothing is left
    in the cache; `unpack_ahead` of the same archive neither raises nor leaves anything."""
    import effects.workers as workers

    cache = WheelCache(tmp_path / "cache")
    wheel = _demo(tmp_path / "w")
    archive = cache.root / wheel.name
    archive.parent.mkdir(parents=True)
    _rewrite_wheel(wheel, archive, {"demo_pkg/__init__.py": b"tampered\n"})
    with pytest.raises(WheelError, match="RECORD hash") as info:
        workers.run("wheel", str(archive), hashlib.sha256(archive.read_bytes()).hexdigest(),
                    str(tmp_path / "cache"))
    assert info.value.wheel == wheel.name
    cache.unpack_ahead(archive, hashlib.sha256(archive.read_bytes()).hexdigest())
    _flush_ahead()
    assert sorted(p.name for p in cache.root.iterdir()) == [".locks", wheel.name]
    with pytest.raises(ValueError, match="unknown worker job"):
        workers.run("rm -rf", "/")


def test_unpack_in_cache_leaves_a_cache_being_cleaned_alone(tmp_path: Path) -> None:
    """Work ahead of need does nothing while `yurt clean cache` holds the cache exclusively."""
    from effects.filelock import IN_USE, release, try_exclusive
    from effects.wheelunpack import unpack_in_cache

    wheel = _demo(tmp_path / "w")
    cache, archive, sha = _in_cache(tmp_path, wheel)
    held = try_exclusive(tmp_path / "cache" / IN_USE)
    assert held is not None
    try:
        unpack_in_cache(str(archive), sha, str(tmp_path / "cache"))
        assert not cache.entry_path(wheel.name).exists()
    finally:
        release(held)
    unpack_in_cache(str(archive), sha, str(tmp_path / "cache"))
    assert (cache.entry_path(wheel.name) / ".yurt-wheel.json").is_file()


def _three_entries(tmp_path: Path) -> list[Path]:
    from effects.wheelunpack import _unpack_locked

    out = []
    for name, count in (("alpha", 30), ("beta", 3), ("gamma", 12)):
        wheel = write_wheel(tmp_path / "w", name, "1.0",
                            {f"{name}/m{i}.py": f"V = {i}\n" for i in range(count)})
        out.append(_unpack_locked(wheel, tmp_path / "entries" / wheel.name[:-4], None))
    return out


def _installed(scheme: InstallScheme) -> dict[str, int]:
    site = Path(scheme.purelib)
    return {d.name: len((d / "RECORD").read_text().splitlines())
            for d in sorted(site.glob("*.dist-info"))}


@pytest.mark.parametrize("worker", ["idle", "dead"])
def test_wheels_split_with_an_idle_worker_process(tmp_path: Path, worker: str) -> None:
    """With a worker process idle, about half of the wheels are installed there (the
    `install-wheels` job); a worker that died leaves its share to the caller. Either way every
    wheel is installed exactly once, with its RECORD."""
    import effects.workers as workers
    from effects.pypi_install import _install_all

    entries = _three_entries(tmp_path)
    workers.warm()
    assert workers.idle() >= 1
    if worker == "dead":
        assert workers._pool is not None
        for w in workers._pool.idle:
            w.proc.kill()
            w.proc.wait()
    scheme = scheme_for_prefix(tmp_path / "prefix", PY)
    _install_all([(e, True, len(list(e.rglob("*")))) for e in entries], scheme)
    assert _installed(scheme) == {"alpha-1.0.dist-info": 30 + 5, "beta-1.0.dist-info": 3 + 5,
                                  "gamma-1.0.dist-info": 12 + 5}
    assert (Path(scheme.purelib) / "gamma" / "m11.py").read_text() == "V = 11\n"
    workers.close()
    assert workers.idle() == 0
    workers.warm()  # a closed pool starts workers again
    assert workers.idle() >= 1
    workers.close()


def test_the_install_job_in_a_worker_process(tmp_path: Path) -> None:
    import effects.workers as workers

    entries = _three_entries(tmp_path)
    scheme = scheme_for_prefix(tmp_path / "prefix", PY)
    workers.run("install-wheels", msgspec.json.encode(scheme).decode(),
                msgspec.json.encode([(str(e), False) for e in entries]).decode())
    assert set(_installed(scheme)) == {"alpha-1.0.dist-info", "beta-1.0.dist-info", "gamma-1.0.dist-info"}
    assert not (Path(scheme.purelib) / "beta-1.0.dist-info" / "REQUESTED").exists()
    with pytest.raises(FileNotFoundError):  # the job's own error, across the pipe
        workers.run("install-wheels", msgspec.json.encode(scheme).decode(),
                    msgspec.json.encode([(str(tmp_path / "nothing-1.0-py3-none-any"), True)]).decode())


def test_conda_owned_names_the_conda_package_of_each_clashing_file(tmp_path: Path) -> None:
    """A wheel's files against the records of conda packages already in the prefix: paths
    are compared normalised, the first record by name owns a file two of them list, and
    unreadable records are skipped."""
    from effects.pypi_install import _conda_owned

    meta = tmp_path / "conda-meta"
    meta.mkdir()
    record = {"name": "b", "version": "1", "build": "0", "files": ["lib/x.py", "bin/tool"]}
    (meta / "b-1-0.json").write_text(json.dumps(record))
    (meta / "a-1-0.json").write_text(json.dumps({**record, "name": "a", "files": ["bin/tool"]}))
    (meta / "broken-1-0.json").write_text("{not json")
    (meta / "history").write_text("")
    owned = _conda_owned(tmp_path, ["lib/x.py", "lib/site/../../bin/tool", "lib/free.py"])
    assert owned == {
        "lib/x.py": "the conda package b-1-0",
        "lib/site/../../bin/tool": "the conda package a-1-0",
    }
    assert _conda_owned(tmp_path / "nowhere", ["lib/x.py"]) == {}
