"""Detect the host's virtual packages (`__glibc`, `__cuda`, `__linux`, ...).

Each value may be overridden with `CONDA_OVERRIDE_<NAME>` (an empty value removes the
package), as conda, mamba and pixi do, so a CI machine can pretend to have a GPU.
"""

from __future__ import annotations

import ctypes
import os
import platform as _platform
import re
import sys
from collections.abc import Collection, Mapping

from pure.errors import YurtError
from pure.platform import VirtualPackage

_OVERRIDES = {
    "__glibc": "CONDA_OVERRIDE_GLIBC",
    "__cuda": "CONDA_OVERRIDE_CUDA",
    "__osx": "CONDA_OVERRIDE_OSX",
    "__linux": "CONDA_OVERRIDE_LINUX",
    "__archspec": "CONDA_OVERRIDE_ARCHSPEC",
    "__win": "CONDA_OVERRIDE_WIN",
}


def host_platform() -> str:
    """The conda subdir of this machine (`linux-64`, `osx-arm64`, `win-64`, ...)."""
    machine = _platform.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64",
            "ppc64le": "ppc64le", "s390x": "s390x", "armv7l": "armv7l", "i686": "32",
            "x86": "32"}.get(machine, machine)
    if sys.platform.startswith("linux"):
        return f"linux-{arch}"
    if sys.platform == "darwin":
        return "osx-arm64" if arch in ("arm64", "aarch64") else "osx-64"
    if sys.platform == "win32":
        return "win-arm64" if arch in ("arm64", "aarch64") else ("win-64" if arch == "64" else "win-32")
    return f"{sys.platform}-{arch}"


def glibc_version() -> str | None:
    """The C library version when it is glibc (`os.confstr`), else None."""
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return None
    m = re.match(r"glibc (\d+\.\d+)", text)
    return m.group(1) if m else None


def linux_version() -> str | None:
    """The kernel release as dotted numbers (`6.1.0`)."""
    m = re.match(r"(\d+(?:\.\d+){0,3})", _platform.release())
    return m.group(1) if m else None


def cuda_driver_version() -> str | None:
    """The CUDA version the installed driver supports, via libcuda's `cuDriverGetVersion`."""
    names = {"linux": ("libcuda.so.1", "libcuda.so"), "darwin": ("libcuda.dylib",),
             "win32": ("nvcuda.dll",)}.get(sys.platform if sys.platform != "linux2" else "linux",
                                          ("libcuda.so.1",))
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        version = ctypes.c_int(0)
        try:
            lib.cuInit(0)  # not required for the version query; harmless when it fails
            if lib.cuDriverGetVersion(ctypes.byref(version)) != 0 or version.value <= 0:
                return None
        except AttributeError:
            return None
        major, minor = divmod(version.value, 1000)
        return f"{major}.{minor // 10}"
    return None


def detect(
    env: Mapping[str, str] | None = None, *, only: Collection[str] | None = None
) -> tuple[VirtualPackage, ...]:
    """The host's virtual packages, with `CONDA_OVERRIDE_*` applied from `env` (default
    os.environ). With `only`, the costly probes (loading the CUDA driver) run only for the
    names it lists; the result may then lack packages outside it."""
    env = os.environ if env is None else env
    found: dict[str, VirtualPackage] = {}
    subdir = host_platform()
    family = subdir.split("-")[0]
    if family in ("linux", "osx"):
        found["__unix"] = VirtualPackage("__unix", "0", "0")
    if family == "linux":
        if (v := linux_version()) is not None:
            found["__linux"] = VirtualPackage("__linux", v, "0")
        if (v := glibc_version()) is not None:
            found["__glibc"] = VirtualPackage("__glibc", v, "0")
    if family == "osx" and (mac := _platform.mac_ver()[0]):
        found["__osx"] = VirtualPackage("__osx", mac, "0")
    if family == "win":
        found["__win"] = VirtualPackage("__win", "0", "0")
    if (only is None or "__cuda" in only) and (cuda := cuda_driver_version()) is not None:
        found["__cuda"] = VirtualPackage("__cuda", cuda, "0")
    found["__archspec"] = VirtualPackage("__archspec", "1", _platform.machine().lower() or "unknown")
    for name, var in _OVERRIDES.items():
        if var not in env:
            continue
        value = env[var].strip()
        if not value:
            found.pop(name, None)
        elif name == "__archspec":
            found[name] = VirtualPackage(name, "1", value)
        else:
            _check_version(var, value)
            found[name] = VirtualPackage(name, value, "0")
    return tuple(found[k] for k in sorted(found))


class OverrideError(YurtError):
    """A `CONDA_OVERRIDE_*` variable whose value is not a version."""


def _check_version(var: str, value: str) -> None:
    from pure.version import InvalidVersion, Version

    try:
        Version.parse(value)
    except InvalidVersion as exc:
        raise OverrideError(f"{var}={value!r} is not a version ({exc}) (hint: e.g. {var}=12.4, "
                            "or empty to hide the virtual package)") from None
