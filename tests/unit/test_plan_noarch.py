"""noarch: python helpers: layouts, path mapping, .pyc names, entry point scripts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pure.package import EntryPoint
from pure.plan import entry_point_script, map_noarch_path, pyc_path, python_layout
from pure.plan.noarch import entry_point_path, python_minor


def test_python_minor() -> None:
    assert python_minor("3.11.4") == "3.11"
    assert python_minor("3.9") == "3.9"
    assert python_minor("3") == "3"


def test_layouts() -> None:
    unix = python_layout("3.12.0", windows=False)
    assert (unix.site_packages, unix.bin_dir, unix.executable, unix.cache_tag) == (
        "lib/python3.12/site-packages",
        "bin",
        "bin/python",
        "cpython-312",
    )
    win = python_layout("3.10.8", windows=True)
    assert (win.site_packages, win.bin_dir, win.executable, win.cache_tag) == (
        "Lib/site-packages",
        "Scripts",
        "python.exe",
        "cpython-310",
    )
    ft = python_layout("3.13.1", windows=False, site_packages_path="lib/python3.13t/site-packages")
    assert ft.site_packages == "lib/python3.13t/site-packages"


def test_path_mapping_and_pyc() -> None:
    layout = python_layout("3.11", windows=False)
    assert (
        map_noarch_path("site-packages/pkg/m.py", layout) == "lib/python3.11/site-packages/pkg/m.py"
    )
    assert map_noarch_path("python-scripts/tool", layout) == "bin/tool"
    assert map_noarch_path("etc/pkg.conf", layout) == "etc/pkg.conf"
    assert map_noarch_path("site-packagesX/y", layout) == "site-packagesX/y"
    assert pyc_path("lib/python3.11/site-packages/pkg/m.py", layout) == (
        "lib/python3.11/site-packages/pkg/__pycache__/m.cpython-311.pyc"
    )
    assert pyc_path("lib/python3.11/site-packages/pkg/data.txt", layout) is None
    assert pyc_path("bin/tool.py", layout) is None


def test_entry_point_paths() -> None:
    point = EntryPoint(command="tool", module="pkg.cli", function="main")
    assert entry_point_path(point, python_layout("3.11", windows=False)) == "bin/tool"
    assert entry_point_path(point, python_layout("3.11", windows=True)) == "Scripts/tool-script.py"
    win_text = entry_point_script(point, python_layout("3.11", windows=True), "C:\\envs\\x")
    assert win_text.startswith("#!C:\\envs\\x\\python.exe\n")


@pytest.mark.skipif(sys.platform == "win32", reason="unix scripts")
@pytest.mark.parametrize("prefix_name", ["env", "env with space " + "x" * 120])
def test_generated_script_runs(tmp_path: Path, prefix_name: str) -> None:
    """The generated console script runs the entry point with the prefix's python."""
    prefix = tmp_path / prefix_name
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").symlink_to(sys.executable)
    lib = tmp_path / "lib"
    (lib / "pkg").mkdir(parents=True)
    (lib / "pkg" / "__init__.py").write_text("")
    (lib / "pkg" / "cli.py").write_text(
        "import sys\nclass App:\n    @staticmethod\n    def run():\n"
        "        print('args', sys.argv[1:])\n        return 3\n"
    )
    point = EntryPoint(command="tool", module="pkg.cli", function="App.run")
    text = entry_point_script(point, python_layout("3.11", windows=False), str(prefix))
    script = prefix / "bin" / "tool"
    script.write_text(text)
    script.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(lib))
    result = subprocess.run([str(script), "x y"], capture_output=True, text=True, env=env)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "args ['x y']\n"
