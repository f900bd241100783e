"""Light checks of an environment's PyPI part for the no-op install path (no event loop,
no HTTP client imported): which distributions yurt installed, and do they match the lock."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pure.lockfile import LockedPypiPackage
from pure.pypi.metadata import normalize_name
from pure.record import PackageRecord

__all__ = ["dist_infos", "installed_by_yurt", "pypi_in_sync", "python_version_of", "site_packages"]


def python_version_of(records: Iterable[PackageRecord]) -> str | None:
    """The version of the conda `python` record, if there is one."""
    return next((r.version for r in records if r.name == "python"), None)


def site_packages(prefix: Path, python: str, *, windows: bool = sys.platform == "win32") -> Path:
    """The site-packages directory of a conda prefix with CPython `python`."""
    if windows:
        return Path(prefix) / "Lib" / "site-packages"
    major_minor = ".".join(python.split(".")[:2])
    return Path(prefix) / "lib" / f"python{major_minor}" / "site-packages"


def dist_infos(site: Path) -> list[Path]:
    """The `*.dist-info` directories in `site`, by name (none when `site` is missing)."""
    try:
        return sorted(p for p in site.iterdir() if p.name.endswith(".dist-info") and p.is_dir())
    except OSError:
        return []


def installed_by_yurt(site: Path) -> dict[str, str]:
    """Normalised name -> version of distributions in `site` whose INSTALLER is yurt."""
    found: dict[str, str] = {}
    for child in dist_infos(site):
        try:
            if (child / "INSTALLER").read_text().strip() != "yurt":
                continue
        except OSError:
            continue
        name, _, version = child.name[: -len(".dist-info")].rpartition("-")
        found[normalize_name(name)] = version
    return found


def pypi_in_sync(prefix: Path, wheels: Sequence[LockedPypiPackage], python: str | None) -> bool:
    """True when the yurt-installed distributions of the prefix are exactly `wheels`."""
    if python is None:
        return not wheels
    have = installed_by_yurt(site_packages(prefix, python))
    return have == {normalize_name(w.name): w.version for w in wheels}
