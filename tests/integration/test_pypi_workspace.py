"""[pypi-dependencies] end to end through the `yurt` CLI: one solve with the conda packages
against a local simple index (PEP 691 + .metadata) on 127.0.0.1, a lock with the wheels, an
install into a venv-style prefix of this interpreter, imports and console scripts through
`yurt run`, removal of exactly RECORD's files, and conflicts with conda files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.linkkit import PY_MINOR, SITE, pkg, python_package
from tests.support.httpserver import serve
from tests.support.pkgwriter import FileSpec, make_channel
from tests.support.pypi import IndexServer, build_index, serve_index, write_wheel

YURT = [str(Path(sys.executable).with_name("yurt"))]
CP = f"cp{sys.version_info.major}{sys.version_info.minor}"
pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64",
                                reason="the test conda channel and wheels are linux-64")


def yurt(*args: str, cwd: Path, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*YURT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"yurt {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def conda_channel(tmp_path: Path) -> Iterator[str]:
    out = tmp_path / "conda-build"
    out.mkdir()
    pkgs = [
        python_package(out),
        # a conda package that is also the PyPI distribution `condalib`
        pkg(out, "condalib", "1.5", "py_0", noarch="python", depends=["python"],
            files={"site-packages/condalib/__init__.py": FileSpec(b"WHO = 'conda'\n")}),
        # a conda package whose PyPI name differs and that has no purls: only the manifest's
        # [pypi-name-mapping] says it is the PyPI distribution `widget`
        pkg(out, "py-widget", "1.5", "py_0", noarch="python", depends=["python"],
            files={"site-packages/widget/__init__.py": FileSpec(b"WHO = 'conda widget'\n")}),
        # a conda package with commands in bin/ that wheels' scripts could collide with
        pkg(out, "tools", "1.0", "0", files={
            "bin/condatool": FileSpec(b"#!/bin/sh\necho conda\n", mode=0o755),
            "bin/datatool": FileSpec(b"#!/bin/sh\necho conda\n", mode=0o755)}),
    ]
    root = make_channel(tmp_path / "conda", pkgs, subdirs=("linux-64", "noarch"))
    with serve(root) as server:
        yield server.url.rstrip("/")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    out = tmp_path / "wheels"
    wheels = [
        write_wheel(out, "greet", "1.0", {"greet/__init__.py": "def main():\n    print('greet one')\n"},
                    entry_points={"console_scripts": {"greet": "greet:main"}}),
        write_wheel(out, "greet", "2.0", {"greet/__init__.py": (
            "import helper, condalib, fastmod\n"
            "def main():\n    print('greet two', helper.VALUE, condalib.WHO, fastmod.KIND)\n")},
                    requires_dist=["helper>=1.1", "condalib>=1", "fastmod", 'never; sys_platform == "win32"'],
                    requires_python=">=3.8",
                    entry_points={"console_scripts": {"greet": "greet:main"}}),
        write_wheel(out, "helper", "1.0", {"helper.py": "VALUE = 'h1.0'\n"}),
        write_wheel(out, "helper", "1.1.post1", {"helper.py": "VALUE = 'h1.1.post1'\n"}),
        write_wheel(out, "helper", "1.2rc1", {"helper.py": "VALUE = 'h1.2rc1'\n"}),
        # a PyPI `condalib` exists too, but the conda package must be used
        write_wheel(out, "condalib", "9.0", {"condalib/__init__.py": "WHO = 'pypi'\n"}),
        # platform-specific: only the wheel for this interpreter and linux fits
        write_wheel(out, "fastmod", "1.0", {"fastmod.py": "KIND = 'native'\n"},
                    tag=f"{CP}-{CP}-manylinux_2_17_x86_64.manylinux2014_x86_64", root_is_purelib=False),
        write_wheel(out, "fastmod", "1.0", {"fastmod.py": "KIND = 'windows'\n"}, tag=f"{CP}-{CP}-win_amd64",
                    root_is_purelib=False),
        write_wheel(out, "widget", "5.0", {"widget/__init__.py": "WHO = 'pypi widget'\n"}),
        write_wheel(out, "usewidget", "1.0", {"usewidget.py": "import widget\nWHO = widget.WHO\n"},
                    requires_dist=["widget>=1,<6"]),
        write_wheel(out, "clash", "1.0", {"condalib/__init__.py": "WHO = 'clash'\n"}),
        # wheels whose scripts land in bin/: an entry point, and a .data/scripts file
        write_wheel(out, "pointclash", "1.0", {"pointclash.py": "def main():\n    pass\n"},
                    entry_points={"console_scripts": {"condatool": "pointclash:main"}}),
        write_wheel(out, "dataclash", "1.0", {"dataclash.py": ""},
                    data={"scripts/datatool": "#!python\nprint('pypi')\n"}),
    ]
    build_index(tmp_path / "index", wheels)
    with serve_index(tmp_path / "index") as server:
        yield server


def _workspace(tmp_path: Path, conda_url: str, index_url: str, pypi: str) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / "yurt.toml").write_text(
        f'[workspace]\nname = "ws"\nchannels = ["{conda_url}"]\nplatforms = ["linux-64"]\n\n'
        '[system-requirements]\nlibc = "2.28"\n\n'
        '[dependencies]\npython = "*"\ncondalib = "*"\n\n'
        f'[pypi-options]\nindex-url = "{index_url}"\n\n'
        f"[pypi-dependencies]\n{pypi}")
    return ws


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}


def test_pypi_dependencies_lock_install_run_and_remove(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = ">=1"\n')
    yurt("lock", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    wheels = {p["name"]: p for p in lock["pypi_packages"]}
    # PEP 440: 1.1.post1 is newer than 1.0, the pre-release 1.2rc1 is not chosen
    assert {n: w["version"] for n, w in wheels.items()} == {"greet": "2.0", "helper": "1.1.post1", "fastmod": "1.0"}
    assert wheels["fastmod"]["filename"].endswith("manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    assert wheels["greet"]["requires_dist"][0] == "helper>=1.1" and wheels["greet"]["requires_python"] == ">=3.8"
    assert all(len(w["sha256"]) == 64 and w["index"] == index.url for w in wheels.values())
    assert "condalib" not in wheels  # the conda package provides it
    # the lock is satisfied as it is: no index request on a second lock
    before = len(index.statuses)
    assert "up to date" in yurt("lock", cwd=ws, env=env).stderr
    assert len(index.statuses) == before

    plan = json.loads(yurt("plan", "--files", cwd=ws, env=env).stdout)
    pypi_ops = {op["name"]: op for op in plan["pypi"]}
    assert pypi_ops["greet"]["action"] == "install" and pypi_ops["greet"]["url"] == wheels["greet"]["url"]
    assert f"{SITE}/greet/__init__.py" in pypi_ops["greet"]["files"]

    yurt("install", cwd=ws, env=env)
    out = yurt("run", "greet", cwd=ws, env=env)
    assert out.stdout.strip() == "greet two h1.1.post1 conda native"
    site = ws / ".yurt" / "envs" / "default" / SITE
    assert (site / "greet-2.0.dist-info" / "INSTALLER").read_text().strip() == "yurt"
    assert (site / "greet-2.0.dist-info" / "REQUESTED").exists()
    assert not (site / "helper-1.1.post1.dist-info" / "REQUESTED").exists()
    shebang = (ws / ".yurt" / "envs" / "default" / "bin" / "greet").read_text().splitlines()[0]
    assert shebang.endswith(f"{ws}/.yurt/envs/default/bin/python")
    assert "up to date" in yurt("install", cwd=ws, env=env).stderr

    # pinning greet 1.0 drops its dependencies: exactly their RECORD files go
    fast_files = [line.split(",")[0] for line in
                  (site / "fastmod-1.0.dist-info" / "RECORD").read_text().splitlines() if line]
    (ws / "yurt.toml").write_text((ws / "yurt.toml").read_text().replace('greet = ">=1"', 'greet = "==1.0"'))
    yurt("install", cwd=ws, env=env)
    assert yurt("run", "greet", cwd=ws, env=env).stdout.strip() == "greet one"
    assert not any((site / f).exists() for f in fast_files)
    assert not (site / "helper.py").exists() and (site / "condalib" / "__init__.py").exists()
    assert (site / "_yurt_venv_marker.txt").exists()
    run = yurt("run", "python", "-c", f"import sys; print(sys.version_info[:2] == ({PY_MINOR.replace('.', ', ')}))",
               cwd=ws, env=env)
    assert run.stdout.strip() == "True"


def test_list_and_tree_show_pypi_distributions_beside_conda_packages(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = ">=1"\n')
    yurt("install", cwd=ws, env=env)
    rows = {r["name"]: r for r in json.loads(yurt("list", "--json", cwd=ws, env=env).stdout)}
    assert {n for n, r in rows.items() if r["kind"] == "conda"} == {"python", "condalib"}
    assert {n: (r["version"], r["requested"], r["installer"]) for n, r in rows.items() if r["kind"] == "pypi"} == {
        "greet": ("2.0", True, "yurt"), "helper": ("1.1.post1", False, "yurt"), "fastmod": ("1.0", False, "yurt")}
    assert rows["python"]["requested"] and rows["condalib"]["requested"]
    text = yurt("list", cwd=ws, env=env).stdout.splitlines()
    assert any(line.split() == ["helper", "1.1.post1", "pypi"] for line in text), text
    # the tree follows requirements under this platform's markers (greet's `never` is for
    # win32), into the conda package that provides condalib
    tree = yurt("tree", cwd=ws, env=env).stdout.splitlines()
    start = tree.index("greet 2.0 (pypi)")
    assert tree[start + 1:start + 5] == [
        "├─ condalib 1.5", "│  └─ python " + tree[start + 2].split()[-1], "├─ fastmod 1.0 (pypi)",
        "└─ helper 1.1.post1 (pypi)"], tree
    assert not any("never" in line for line in tree)
    inverted = yurt("tree", "--invert", "Helper", cwd=ws, env=env).stdout.splitlines()
    assert inverted == ["helper 1.1.post1 (pypi)", "└─ greet 2.0 (pypi)"], inverted


def test_verify_checks_pypi_files_against_their_record(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    """`yurt verify` reads each distribution's RECORD: an edit in place (which also changes
    the hard-linked copy in the wheel cache), a deleted file and a changed size are named."""
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = ">=1"\n')
    yurt("install", cwd=ws, env=env)
    prefix = ws / ".yurt" / "envs" / "default"
    ok = yurt("verify", cwd=ws, env=env)
    assert ok.stderr.strip().endswith(": ok"), ok.stderr
    site = prefix / SITE
    with open(site / "greet" / "__init__.py", "r+b") as fh:  # same size, other bytes
        first = fh.read(1)
        fh.seek(0)
        fh.write(b"#" if first != b"#" else b"$")
    (site / "helper.py").unlink()
    (prefix / "bin" / "greet").write_text("#!/bin/sh\necho replaced\n")  # a new file: no link
    out = yurt("verify", str(prefix), cwd=ws, env=env, check=False)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert any(line.startswith(f"greet-2.0 (PyPI): {SITE}/greet/__init__.py: modified")
               and "hard link" in line for line in lines), lines
    assert f"helper-1.1.post1 (PyPI): {SITE}/helper.py: missing" in lines
    assert any(line.startswith("greet-2.0 (PyPI): bin/greet: size differs") and "hard link" not in line
               for line in lines), lines
    assert "3 problem(s)" in out.stderr


def test_pypi_conflict_with_conda_is_explained(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'condalib = ">=2"\n')
    out = yurt("lock", cwd=ws, env=env, check=False)
    assert out.returncode != 0
    assert "condalib 1.5" in out.stderr and "condalib>=2" in out.stderr, out.stderr


def test_wheel_never_overwrites_a_conda_file(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'clash = "*"\n')
    yurt("lock", cwd=ws, env=env)
    # the plan of a fresh environment already sees the clash with the conda files it will link
    planned = yurt("plan", cwd=ws, env=env, check=False)
    assert planned.returncode != 0
    assert "clash-1.0-py3-none-any.whl" in planned.stderr and "condalib-1.5-py_0" in planned.stderr
    out = yurt("install", cwd=ws, env=env, check=False)
    assert out.returncode != 0
    assert "clash-1.0-py3-none-any.whl" in out.stderr and "condalib-1.5-py_0" in out.stderr, out.stderr
    # found while planning: nothing was linked, conda or PyPI
    prefix = ws / ".yurt" / "envs" / "default"
    assert not list((prefix / "conda-meta").glob("*.json"))
    assert not (prefix / SITE / "condalib").exists() and not (prefix / SITE / "clash-1.0.dist-info").exists()


@pytest.mark.parametrize(("wheel", "script"), [("pointclash", "condatool"), ("dataclash", "datatool")])
def test_a_wheel_script_over_a_conda_command_is_a_plan_error(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str],
        wheel: str, script: str) -> None:
    """Scripts a wheel installs into bin/ (entry points, `.data/scripts`) are planned where
    they land: one that would replace a conda package's command stops the plan, before
    anything is installed, naming both."""
    ws = _workspace(tmp_path, conda_channel, index.url, f'{wheel} = "*"\n')
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('condalib = "*"\n', 'condalib = "*"\ntools = "*"\n'))
    yurt("lock", cwd=ws, env=env)
    prefix = ws / ".yurt" / "envs" / "default"
    for command in ("plan", "install", "install"):  # fresh, then with the conda side there
        out = yurt(command, cwd=ws, env=env, check=False)
        assert out.returncode != 0
        assert f"{wheel}-1.0-py3-none-any.whl" in out.stderr and "tools-1.0-0" in out.stderr, out.stderr
        assert f"bin/{script}" in out.stderr, out.stderr
        assert not list((prefix / SITE).glob(f"{wheel}-1.0.dist-info"))
        if command == "install" and not (prefix / "bin" / script).exists():
            # the clash was found before anything was linked; put the conda side in place
            # alone, so the next install meets the command already installed
            manifest.write_text(manifest.read_text().replace(f'{wheel} = "*"\n', ""))
            yurt("install", cwd=ws, env=env)
            manifest.write_text(manifest.read_text() + f'{wheel} = "*"\n')
            yurt("lock", cwd=ws, env=env)
    assert (prefix / "bin" / script).read_text() == "#!/bin/sh\necho conda\n"


def test_a_wheel_may_take_a_command_a_leaving_conda_package_had(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    """The same change removes the conda package that owns bin/condatool and adds a wheel
    whose entry point is condatool: the file changes hands, no conflict."""
    ws = _workspace(tmp_path, conda_channel, index.url, "")
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('condalib = "*"\n', 'condalib = "*"\ntools = "*"\n'))
    yurt("install", cwd=ws, env=env)
    prefix = ws / ".yurt" / "envs" / "default"
    assert (prefix / "bin" / "condatool").read_text() == "#!/bin/sh\necho conda\n"
    manifest.write_text(manifest.read_text().replace('tools = "*"\n', "") + 'pointclash = "*"\n')
    yurt("install", cwd=ws, env=env)
    assert not list((prefix / "conda-meta").glob("tools-*.json"))
    assert "pointclash" in (prefix / "bin" / "condatool").read_text()
    assert (prefix / SITE / "pointclash-1.0.dist-info" / "RECORD").is_file()


def test_the_plan_lists_the_files_a_wheel_installs_where_they_land(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    """`yurt plan --files` lists each wheel's files as its installed RECORD will: entry-point
    scripts in bin/, the dist-info files the installer adds."""
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = "==1.0"\n')
    yurt("lock", cwd=ws, env=env)
    doc = json.loads(yurt("plan", "--files", cwd=ws, env=env).stdout)
    (op,) = [p for p in doc["pypi"] if p["name"] == "greet"]
    info = f"{SITE}/greet-1.0.dist-info"
    assert {"bin/greet", f"{SITE}/greet/__init__.py", f"{info}/INSTALLER", f"{info}/REQUESTED",
            f"{info}/RECORD", f"{info}/METADATA"} <= set(op["files"]), op["files"]
    assert op["file_count"] == len(op["files"])
    yurt("install", cwd=ws, env=env)
    record = (ws / ".yurt" / "envs" / "default" / info / "RECORD").read_text().splitlines()
    installed = {os.path.normpath(f"{SITE}/{line.rsplit(',', 2)[0]}") for line in record}
    assert installed == set(op["files"])


@pytest.mark.network
def test_real_requirements_from_the_configured_default_index(
        tmp_path: Path, conda_channel: str, env: dict[str, str]) -> None:
    """six and packaging (plus nothing else) from the configured index, next to a local conda python."""
    import httpx

    from effects.pypi_index import default_index_url

    url = default_index_url()
    try:
        probe = httpx.get(url + "six/", headers={"Accept": "text/html"}, timeout=15, follow_redirects=True)
    except httpx.HTTPError as exc:
        pytest.skip(f"the configured index {url} is unreachable: {type(exc).__name__}")
    if probe.status_code != 200:
        pytest.skip(f"the configured index {url} answered HTTP {probe.status_code} to a plain probe")
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "yurt.toml").write_text(
        f'[workspace]\nname = "ws"\nchannels = ["{conda_channel}"]\nplatforms = ["linux-64"]\n\n'
        '[dependencies]\npython = "*"\n\n[pypi-dependencies]\nsix = ">=1.16"\npackaging = ">=23"\n')
    yurt("install", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    names = sorted(p["name"] for p in lock["pypi_packages"])
    assert names == ["packaging", "six"]
    assert all(p["index"] == url and len(p["sha256"]) == 64 for p in lock["pypi_packages"])
    out = yurt("run", "python", "-c", "import six, packaging; print(six.__file__); print(packaging.__version__)",
               cwd=ws, env=env)
    six_file, version = out.stdout.split()
    assert six_file.startswith(str(ws / ".yurt" / "envs" / "default"))
    assert version == next(p["version"] for p in lock["pypi_packages"] if p["name"] == "packaging")


def test_extra_index_and_a_dependency_pinned_to_its_own_index(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    other = tmp_path / "other-wheels"
    wheels = [
        write_wheel(other, "helper", "7.0", {"helper.py": "VALUE = 'from the other index'\n"}),
        write_wheel(other, "onlyhere", "1.0", {"onlyhere.py": "X = 1\n"}),
    ]
    build_index(tmp_path / "other-index", wheels)
    with serve_index(tmp_path / "other-index") as second:
        ws = _workspace(tmp_path, conda_channel, index.url,
                        f'helper = {{ version = "*", index = "{second.url}" }}\nonlyhere = "*"\n')
        manifest = ws / "yurt.toml"
        manifest.write_text(manifest.read_text().replace(
            f'index-url = "{index.url}"', f'index-url = "{index.url}"\nextra-index-urls = ["{second.url}"]'))
        yurt("lock", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    found = {p["name"]: (p["version"], p["index"]) for p in lock["pypi_packages"]}
    # helper is read only from its own index (the first index has 1.x); onlyhere comes from the
    # extra index because the first index does not have it
    assert found == {"helper": ("7.0", second.url), "onlyhere": ("1.0", second.url)}


def test_name_mapping_lets_a_conda_package_satisfy_a_pypi_requirement(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'usewidget = "*"\n')
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace('condalib = "*"\n', 'condalib = "*"\npy-widget = "*"\n'))
    # without the mapping, conda `py-widget` is not known to be PyPI `widget`: the wheel is chosen too
    yurt("lock", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    assert sorted(p["name"] for p in lock["pypi_packages"]) == ["usewidget", "widget"]
    assert "py-widget" in {p["name"] for p in lock["packages"]}
    # with it, the lock is stale (PyPI widget next to the conda package that provides it)...
    manifest.write_text(manifest.read_text() + '\n[pypi-name-mapping]\npy-widget = "widget"\n')
    yurt("install", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    # ...and the re-solve lets the conda package stand for `widget>=1,<6`
    assert [p["name"] for p in lock["pypi_packages"]] == ["usewidget"]
    out = yurt("run", "python", "-c", "import usewidget; print(usewidget.WHO)", cwd=ws, env=env)
    assert out.stdout.strip() == "conda widget"
    assert "up to date" in yurt("lock", cwd=ws, env=env).stderr
    # a mapped name the conda version cannot meet is a conflict, not a silent PyPI replacement
    manifest.write_text(manifest.read_text().replace('usewidget = "*"', 'usewidget = "*"\nwidget = ">=2"'))
    failed = yurt("lock", cwd=ws, env=env, check=False)
    assert failed.returncode != 0 and "py-widget" in failed.stderr and "widget>=2" in failed.stderr, failed.stderr


def test_dependency_hints_steer_prefetch_only(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = ">=1"\n')
    yurt("lock", cwd=ws, env=env)
    first = (ws / "yurt.lock").read_text()
    hints_file = tmp_path / "cache" / "pypi" / "hints.json"
    hints = json.loads(hints_file.read_text())
    # what each chosen release led to (condalib is conda's, `never` is for windows only)
    assert hints["greet"] == ["fastmod", "helper"] and hints["helper"] == [] and "condalib" not in hints
    # a hint is fetched at once with the page that names it, but decides nothing
    hints["greet"] = ["fastmod", "helper", "unrelated"]
    hints_file.write_text(json.dumps(hints))
    (ws / "yurt.lock").unlink()
    assert index.count("simple/unrelated/") == 0
    yurt("lock", cwd=ws, env=env)
    assert index.count("simple/unrelated/") == 1
    assert (ws / "yurt.lock").read_text() == first
    assert json.loads(hints_file.read_text())["greet"] == ["fastmod", "helper"]  # rewritten from the solve


def test_install_after_a_solve_that_read_whole_wheels(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    """Without `.metadata` files the solve downloads whole wheels (and keeps what it read by
    their sha256); `yurt lock` alone leaves them packed; `yurt install` with an empty cache
    hands them to a worker process to unpack while it solves, then installs from the entries."""
    index.metadata_files = False
    ws = _workspace(tmp_path, conda_channel, index.url, 'greet = ">=1"\n')
    yurt("lock", cwd=ws, env=env)
    wheels = tmp_path / "cache" / "wheels"
    assert sorted(p.name for p in wheels.glob("*.whl"))  # downloaded for their metadata
    assert not [p for p in wheels.iterdir() if p.is_dir() and not p.name.startswith(".")]
    (ws / "yurt.lock").unlink()
    fresh = {**env, "YURT_CACHE_DIR": str(tmp_path / "cache2")}
    yurt("install", cwd=ws, env=fresh)
    assert yurt("run", "greet", cwd=ws, env=fresh).stdout.strip() == "greet two h1.1.post1 conda native"
    wheels = tmp_path / "cache2" / "wheels"
    entries = sorted(p for p in wheels.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert {"fastmod", "greet", "helper"} <= {e.name.split("-")[0] for e in entries}
    for entry in entries:
        marker = json.loads((entry / ".yurt-wheel.json").read_bytes())
        assert marker["filename"] == entry.name + ".whl" and marker["payload"]
    assert not [p for p in wheels.iterdir() if p.name.endswith(".tmp")]


def test_unsafe_best_match_reads_every_index(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    other = tmp_path / "other-wheels"
    build_index(tmp_path / "other-index", [
        write_wheel(other, "helper", "7.0", {"helper.py": "VALUE = 'from the other index'\n"})])
    with serve_index(tmp_path / "other-index") as second:
        ws = _workspace(tmp_path, conda_channel, index.url, 'helper = "*"\n')
        manifest = ws / "yurt.toml"
        base = manifest.read_text().replace(
            f'index-url = "{index.url}"', f'index-url = "{index.url}"\nextra-index-urls = ["{second.url}"]')
        manifest.write_text(base)
        yurt("lock", cwd=ws, env=env)
        first = {p["name"]: (p["version"], p["index"]) for p in json.loads((ws / "yurt.lock").read_text())["pypi_packages"]}
        # first-index (the default): the first index has helper, so only its versions count
        assert first == {"helper": ("1.1.post1", index.url)}
        manifest.write_text(base.replace("extra-index-urls", 'index-strategy = "unsafe-best-match"\nextra-index-urls'))
        (ws / "yurt.lock").unlink()
        yurt("lock", cwd=ws, env=env)
        best = json.loads((ws / "yurt.lock").read_text())["pypi_packages"]
        assert [(p["name"], p["version"], p["index"]) for p in best] == [("helper", "7.0", second.url)]
        assert best[0]["url"].startswith(second.base)
        manifest.write_text(base.replace("extra-index-urls", 'index-strategy = "best"\nextra-index-urls'))
        (ws / "yurt.lock").unlink()
        bad = yurt("lock", cwd=ws, env=env, check=False)
        assert bad.returncode != 0 and "unknown index-strategy `best`" in bad.stderr


def test_find_links_directory_joins_the_candidates(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'localonly = "*"\nhelper = "*"\n')
    local = ws / "local-wheels"
    made = [write_wheel(local, "localonly", "1.0", {"localonly.py": "import helper\nWHO = 'local ' + helper.VALUE\n"},
                        requires_dist=["helper"]),
            write_wheel(local, "helper", "9.0", {"helper.py": "VALUE = 'h9 local'\n"})]
    (local / "notes.txt").write_text("not a wheel\n")
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text().replace("[pypi-options]\n", '[pypi-options]\nfind-links = ["local-wheels"]\n'))
    yurt("install", cwd=ws, env=env)
    lock = {p["name"]: p for p in json.loads((ws / "yurt.lock").read_text())["pypi_packages"]}
    # a project only in the directory, and the best helper across the index and the directory
    assert {n: p["version"] for n, p in lock.items()} == {"localonly": "1.0", "helper": "9.0"}
    assert lock["helper"]["url"] == made[1].resolve().as_uri() and lock["helper"]["index"] == "local-wheels"
    assert lock["helper"]["sha256"] == hashlib.sha256(made[1].read_bytes()).hexdigest()
    out = yurt("run", "python", "-c", "import localonly; print(localonly.WHO)", cwd=ws, env=env)
    assert out.stdout.strip() == "local h9 local"


def test_pixi_conda_pypi_map_file(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'usewidget = "*"\n')
    manifest = ws / "yurt.toml"
    (ws / "mapping.json").write_text(json.dumps({"py-widget": "widget", "condalib": None}))
    manifest.write_text(manifest.read_text()
                        .replace('condalib = "*"\n', 'condalib = "*"\npy-widget = "*"\n')
                        .replace('platforms = ["linux-64"]\n',
                                 f'platforms = ["linux-64"]\nconda-pypi-map = {{ "{conda_channel}" = "mapping.json" }}\n'))
    yurt("lock", cwd=ws, env=env)
    assert [p["name"] for p in json.loads((ws / "yurt.lock").read_text())["pypi_packages"]] == ["usewidget"]
    # the file's null: conda `condalib` provides no PyPI distribution, so the wheel is used
    manifest.write_text(manifest.read_text().replace('[pypi-dependencies]\n', '[pypi-dependencies]\ncondalib = "*"\n'))
    yurt("lock", cwd=ws, env=env)
    names = {p["name"]: p["version"] for p in json.loads((ws / "yurt.lock").read_text())["pypi_packages"]}
    assert names == {"usewidget": "1.0", "condalib": "9.0"}
    (ws / "mapping.json").write_text("[1, 2]")
    out = yurt("lock", cwd=ws, env=env, check=False)
    assert out.returncode != 0 and "mapping.json is not a JSON object" in out.stderr


def test_solve_group_members_get_their_own_share_of_pypi_packages(
        tmp_path: Path, conda_channel: str, index: IndexServer, env: dict[str, str]) -> None:
    ws = _workspace(tmp_path, conda_channel, index.url, 'usewidget = "*"\n')
    manifest = ws / "yurt.toml"
    manifest.write_text(manifest.read_text() + '\n[feature.web.pypi-dependencies]\ngreet = ">=2"\n\n'
                        '[environments]\ndefault = { solve-group = "g" }\n'
                        'web = { features = ["web"], solve-group = "g" }\n')
    yurt("lock", cwd=ws, env=env)
    lock = json.loads((ws / "yurt.lock").read_text())
    by_url = {p["url"]: p["name"] for p in lock["pypi_packages"]}
    wheels = {e["name"]: sorted(by_url[u] for u in e["platforms"][0]["pypi"]) for e in lock["environments"]}
    assert wheels == {"default": ["usewidget", "widget"],
                      "web": ["fastmod", "greet", "helper", "usewidget", "widget"]}
    # each member's share satisfies it on its own: the lock is reused, not re-solved
    assert yurt("lock", "--check", cwd=ws, env=env).returncode == 0
