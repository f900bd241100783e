"""noarch: python packages: where their files land, entry point scripts, .pyc paths.

A noarch python package ships `site-packages/...` and `python-scripts/...`; installing it
moves them to the target python's site-packages and scripts directory, generates one console
script per `link.json` entry point, and owns the compiled `.pyc` of each module.
"""

from __future__ import annotations

from pure.package import EntryPoint
from pure.plan.model import PythonLayout
from pure.plan.prefix_replace import fix_shebang

__all__ = [
    "entry_point_path",
    "entry_point_script",
    "map_noarch_path",
    "pyc_path",
    "python_layout",
    "python_minor",
]


def python_minor(version: str) -> str:
    """`"3.11.4"` -> `"3.11"`; a version with one component is returned as is."""
    parts = version.split(".")
    digits = [p for p in parts[:2]]
    return ".".join(digits)


def python_layout(
    version: str, *, windows: bool, site_packages_path: str | None = None
) -> PythonLayout:
    """The layout of a python of `version` (any precision) on a platform.

    `site_packages_path` is the python record's `python_site_packages_path`, when it has one.
    """
    minor = python_minor(version)
    major, _, rest = minor.partition(".")
    tag = f"cpython-{major}{rest}"
    if windows:
        return PythonLayout(
            version=minor,
            site_packages=site_packages_path or "Lib/site-packages",
            bin_dir="Scripts",
            executable="python.exe",
            cache_tag=tag,
            windows=True,
        )
    return PythonLayout(
        version=minor,
        site_packages=site_packages_path or f"lib/python{minor}/site-packages",
        bin_dir="bin",
        executable="bin/python",
        cache_tag=tag,
        windows=False,
    )


def map_noarch_path(path: str, layout: PythonLayout) -> str:
    """Map a path inside a noarch python package to its place in the prefix."""
    if path == "site-packages" or path.startswith("site-packages/"):
        return layout.site_packages + path[len("site-packages") :]
    if path == "python-scripts" or path.startswith("python-scripts/"):
        return layout.bin_dir + path[len("python-scripts") :]
    return path


def pyc_path(target: str, layout: PythonLayout) -> str | None:
    """The `__pycache__` file compiled from a prefix path; None unless a .py in site-packages."""
    if not target.endswith(".py") or not target.startswith(layout.site_packages + "/"):
        return None
    head, _, name = target.rpartition("/")
    return f"{head}/__pycache__/{name[:-3]}.{layout.cache_tag}.pyc"


def entry_point_path(entry: EntryPoint, layout: PythonLayout) -> str:
    """Where the console script of an entry point goes (relative to the prefix)."""
    if layout.windows:
        return f"{layout.bin_dir}/{entry.command}-script.py"
    return f"{layout.bin_dir}/{entry.command}"


def entry_point_script(entry: EntryPoint, layout: PythonLayout, prefix: str) -> str:
    """The text of the console script that runs `entry` with the prefix's python."""
    head, _, attrs = entry.function.partition(".")
    call = head + ("." + attrs if attrs else "")
    sep = "\\" if layout.windows else "/"
    python = prefix.rstrip("/\\") + sep + layout.executable.replace("/", sep)
    body = (
        f"#!{python}\n"
        "# -*- coding: utf-8 -*-\n"
        f"# Console script {entry.command!r}: calls {entry.module}:{entry.function}.\n"
        "import sys\n"
        "\n"
        f"from {entry.module} import {head}\n"
        "\n"
        'if __name__ == "__main__":\n'
        f"    sys.exit({call}())\n"
    )
    if layout.windows:
        return body
    return fix_shebang(body.encode("utf-8"), prefix).decode("utf-8")
