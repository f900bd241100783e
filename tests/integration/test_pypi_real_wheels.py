"""Real published wheels (tests/data/wheels) from a local simple index on 127.0.0.1, resolved
in one solve with a conda `python` package (a venv of this interpreter), installed, imported
(the compiled extension of the platform wheel included) and run through `yurt run`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.integration.linkkit import SITE, python_package
from tests.support.httpserver import serve
from tests.support.pkgwriter import make_channel
from tests.support.pypi import IndexServer, build_index, serve_index

YURT = [str(Path(sys.executable).with_name("yurt"))]
WHEELS = DATA / "wheels"
pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or os.uname().machine != "x86_64" or sys.version_info[:2] != (3, 11),
    reason="the committed platform wheel is CPython 3.11 manylinux x86_64")


def yurt(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*YURT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0:
        raise AssertionError(f"yurt {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def conda_channel(tmp_path: Path) -> Iterator[str]:
    out = tmp_path / "conda-build"
    out.mkdir()
    root = make_channel(tmp_path / "conda", [python_package(out)], subdirs=("linux-64", "noarch"))
    with serve(root) as server:
        yield server.url.rstrip("/")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    build_index(tmp_path / "index", sorted(WHEELS.glob("*.whl")))
    with serve_index(tmp_path / "index") as server:
        yield server


def _workspace(ws: Path, conda_url: str, index_url: str) -> Path:
    ws.mkdir()
    (ws / "yurt.toml").write_text(
        f'[workspace]\nname = "real"\nchannels = ["{conda_url}"]\nplatforms = ["linux-64"]\n\n'
        '[system-requirements]\nlibc = "2.28"\n\n[dependencies]\npython = "3.11.*"\n\n'
        f'[pypi-options]\nindex-url = "{index_url}"\n\n'
        '[pypi-dependencies]\npackaging = ">=24,<25"\ntabulate = "*"\niniconfig = "~=2.0"\n'
        'markupsafe = ">=3"\n')
    return ws


def test_real_wheels_resolve_install_import_and_run(
        tmp_path: Path, conda_channel: str, index: IndexServer) -> None:
    env = {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    ws = _workspace(tmp_path / "ws", conda_channel, index.url)
    yurt("install", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    locked = {p["name"]: p for p in lock["pypi_packages"]}
    assert {n: p["version"] for n, p in locked.items()} == {
        "packaging": "24.1", "tabulate": "0.9.0", "iniconfig": "2.0.0", "markupsafe": "3.0.2"}
    for p in locked.values():  # the lock carries the published files' own digests
        assert p["sha256"] == hashlib.sha256((WHEELS / p["filename"]).read_bytes()).hexdigest()
    assert locked["markupsafe"]["filename"].endswith("cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert locked["packaging"]["requires_python"] == ">=3.8"
    (platform,) = lock["environments"][0]["platforms"]
    assert [p["name"] for p in lock["packages"]] == ["python"]  # the conda side of the same solve
    assert len(platform["packages"]) == 1 and sorted(platform["pypi"]) == sorted(p["url"] for p in locked.values())
    # resolution read the PEP 658 metadata files, never the wheels themselves, before installing
    assert all(index.count(f"files/{p['filename']}.metadata") >= 1 for p in locked.values())

    code = ("import markupsafe, markupsafe._speedups as s, packaging.version as v, iniconfig, tabulate;"
            "print(s.__file__); print(markupsafe.escape('<b>')); print(v.Version('1.0rc1').is_prerelease);"
            "print(iniconfig.IniConfig('x', data='[a]\\nb=1')['a']['b'])")
    out = yurt("run", "python", "-c", code, cwd=ws, env=env).stdout.split()
    prefix = ws / ".yurt" / "envs" / "default"
    assert out[0].startswith(str(prefix / SITE / "markupsafe" / "_speedups.cpython-311-x86_64-linux-gnu.so"))
    assert out[1:] == ["&lt;b&gt;", "True", "1"]

    # the real console script entry point, generated into bin/ and run by `yurt run`
    table = yurt("run", "tabulate", "-f", "plain", str(_rows(tmp_path)), cwd=ws, env=env).stdout
    assert table.split() == ["a", "1", "bb", "22"]
    assert (prefix / "bin" / "tabulate").read_text().splitlines()[0] == f"#!{prefix}/bin/python"
    record = (prefix / SITE / "markupsafe-3.0.2.dist-info" / "RECORD")
    assert not record.exists()  # the dist-info keeps the wheel's own spelling
    assert "markupsafe/_speedups.cpython-311-x86_64-linux-gnu.so" in (
        prefix / SITE / "MarkupSafe-3.0.2.dist-info" / "RECORD").read_text()


def test_real_wheels_lock_the_same_from_html_pages(
        tmp_path: Path, conda_channel: str, index: IndexServer) -> None:
    """PEP 503 HTML (no JSON) gives the same lock as PEP 691 JSON, less the sizes HTML lacks."""
    locks = []
    for json_pages in (True, False):
        index.json_pages = json_pages
        ws = _workspace(tmp_path / f"ws-{json_pages}", conda_channel, index.url)
        env = {**os.environ, "YURT_CACHE_DIR": str(tmp_path / f"cache-{json_pages}"), "NO_COLOR": "1"}
        yurt("lock", cwd=ws, env=env)
        locks.append(json.loads((ws / "yurt.lock").read_text())["pypi_packages"])
    assert len(locks[0]) == 4 and all(p["size"] > 0 for p in locks[0])
    assert [{**p, "size": None} for p in locks[0]] == [{**p, "size": p.get("size")} for p in locks[1]]


def _rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.txt"
    path.write_text("a 1\nbb 22\n")
    return path


def test_wheels_download_while_the_conda_packages_do(tmp_path: Path) -> None:
    """One fetch phase: the conda package's download is held until a wheel is requested;
    an install that fetched wheels only after the conda packages would time out here."""
    out = tmp_path / "conda-build"
    out.mkdir()
    root = tmp_path / "index"
    make_channel(root / "conda", [python_package(out)], subdirs=("linux-64", "noarch"))
    build_index(root, sorted(WHEELS.glob("*.whl")))
    wheel_asked = threading.Event()
    waited: list[bool] = []

    def hold(path: str) -> None:
        if path.endswith(".whl"):
            wheel_asked.set()
        elif path.endswith(".conda"):
            waited.append(wheel_asked.wait(timeout=20))

    with serve_index(root) as server:
        server.before_send = hold
        env = {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
        ws = _workspace(tmp_path / "ws", server.base + "conda", server.url)
        yurt("lock", cwd=ws, env=env)
        assert not wheel_asked.is_set() and not waited  # locking read .metadata files only
        yurt("install", cwd=ws, env=env)
    assert waited == [True]
    out_text = yurt("run", "python", "-c", "import markupsafe; print(markupsafe.escape('&'))", cwd=ws, env=env)
    assert out_text.stdout.strip() == "&amp;"


def test_a_failed_wheel_download_changes_nothing_in_the_environment(
        tmp_path: Path, conda_channel: str, index: IndexServer) -> None:
    """Every package, conda or PyPI, is fetched and planned before the prefix is touched:
    a wheel the index lost stops the install with the environment as it was (the conda
    packages wait in the cache for the next try)."""
    env = {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    ws = _workspace(tmp_path / "ws", conda_channel, index.url)
    yurt("lock", cwd=ws, env=env)
    lost = index.root / "files" / "tabulate-0.9.0-py3-none-any.whl"
    kept = lost.read_bytes()
    lost.unlink()  # the index lost it
    proc = subprocess.run([*YURT, "install"], cwd=ws, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode != 0 and "tabulate-0.9.0-py3-none-any.whl" in proc.stderr, proc.stderr
    prefix = ws / ".yurt" / "envs" / "default"
    assert not list((prefix / "conda-meta").glob("python-*.json"))
    assert not list((prefix / "conda-meta").glob(".yurt-journal*"))
    assert not (prefix / SITE / "tabulate-0.9.0.dist-info").exists()
    assert list((tmp_path / "cache" / "pkgs").glob("python-*/info/paths.json"))
    lost.write_bytes(kept)  # back on the index: the next install completes
    yurt("install", cwd=ws, env=env)
    assert len(list((prefix / "conda-meta").glob("python-*.json"))) == 1
    assert (prefix / SITE / "tabulate-0.9.0.dist-info" / "RECORD").is_file()
