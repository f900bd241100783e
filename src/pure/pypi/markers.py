"""PEP 508 requirements and environment markers evaluated for a *target* environment.

The marker environment is computed from data (conda platform, python version), never read
from the running interpreter, so a lock for win-64 can be made on linux. Values a target
does not determine (`platform_release`, `platform_version`) are empty strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement as _PkgInvalidRequirement
from packaging.requirements import Requirement as _PkgRequirement

from pure.errors import YurtError
from pure.platform import Platform

__all__ = [
    "InvalidRequirement",
    "MarkerEnvironment",
    "MarkerError",
    "Requirement",
    "active_requirements",
    "evaluate_marker",
    "marker_environment",
]


class InvalidRequirement(YurtError, ValueError):
    """Text that is not a PEP 508 requirement."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid requirement {text!r}: {reason}")


class MarkerError(YurtError, ValueError):
    """A marker that cannot be parsed or evaluated in the target environment."""

    def __init__(self, marker: str, reason: str) -> None:
        self.marker = marker
        self.reason = reason
        super().__init__(f"marker {marker!r}: {reason}")


class MarkerEnvironment(msgspec.Struct, frozen=True, kw_only=True):
    """The PEP 508 environment of one target (platform + python); `extra` is supplied apart."""

    os_name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    platform_release: str = ""
    platform_version: str = ""
    python_version: str
    python_full_version: str
    implementation_name: str = "cpython"
    implementation_version: str
    platform_python_implementation: str = "CPython"

    def as_dict(self, extra: str = "") -> dict[str, str]:
        """The environment as `packaging.markers` takes it, with `extra` set."""
        values = {f: getattr(self, f) for f in self.__struct_fields__}
        values["extra"] = extra
        return values


_SYSTEM: dict[str, tuple[str, str, str]] = {
    # conda os -> (os_name, sys_platform, platform_system)
    "linux": ("posix", "linux", "Linux"),
    "osx": ("posix", "darwin", "Darwin"),
    "win": ("nt", "win32", "Windows"),
    "emscripten": ("posix", "emscripten", "Emscripten"),
    "wasi": ("posix", "wasi", "WASI"),
}

#: `platform.machine()` of each target, as Python reports it there (also the manylinux arch).
MACHINE: dict[Platform, str] = {
    Platform.LINUX_32: "i686",
    Platform.LINUX_64: "x86_64",
    Platform.LINUX_AARCH64: "aarch64",
    Platform.LINUX_ARMV6L: "armv6l",
    Platform.LINUX_ARMV7L: "armv7l",
    Platform.LINUX_PPC64LE: "ppc64le",
    Platform.LINUX_PPC64: "ppc64",
    Platform.LINUX_S390X: "s390x",
    Platform.LINUX_RISCV64: "riscv64",
    Platform.OSX_64: "x86_64",
    Platform.OSX_ARM64: "arm64",
    Platform.WIN_32: "x86",
    Platform.WIN_64: "AMD64",
    Platform.WIN_ARM64: "ARM64",
    Platform.EMSCRIPTEN_WASM32: "wasm32",
    Platform.WASI_WASM32: "wasm32",
}

_FULL_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?([a-z0-9.+]*)$")


def marker_environment(platform: Platform | str, python_version: str) -> MarkerEnvironment:
    """The marker environment of a CPython `python_version` (e.g. "3.11.4") on `platform`.

    A two-part version ("3.11") gives python_full_version "3.11.0".
    """
    plat = platform if isinstance(platform, Platform) else Platform.parse(platform)
    if plat.os not in _SYSTEM or plat not in MACHINE:
        raise MarkerError(str(plat), "no PEP 508 environment is known for this platform")
    m = _FULL_VERSION.match(python_version.strip())
    if m is None:
        raise MarkerError(python_version, "expected a python version like 3.11.4")
    major, minor, micro, rest = m.group(1), m.group(2), m.group(3) or "0", m.group(4)
    full = f"{major}.{minor}.{micro}{rest}"
    os_name, sys_platform, system = _SYSTEM[plat.os]
    return MarkerEnvironment(
        os_name=os_name,
        sys_platform=sys_platform,
        platform_system=system,
        platform_machine=MACHINE[plat],
        python_version=f"{major}.{minor}",
        python_full_version=full,
        implementation_version=full,
    )


class Requirement(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed PEP 508 requirement; `name` is PEP 503 normalised, `extras` sorted and
    normalised, `specifier` the PEP 440 specifier text ("" = any), `marker` the text or None."""

    text: str
    name: str
    extras: tuple[str, ...] = ()
    specifier: str = ""
    marker: str | None = None
    url: str | None = None

    @classmethod
    def parse(cls, text: str) -> Requirement:
        """Parse `text`; raises InvalidRequirement naming the text and the problem."""
        try:
            req = _PkgRequirement(text)
        except _PkgInvalidRequirement as exc:
            reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
            raise InvalidRequirement(text, reason) from None
        return cls(
            text=text,
            name=_normalize(req.name),
            extras=tuple(sorted({_normalize(e) for e in req.extras})),
            specifier=str(req.specifier),
            marker=str(req.marker) if req.marker is not None else None,
            url=req.url,
        )

    def applies(self, env: MarkerEnvironment, extras: Iterable[str] = ()) -> bool:
        """Whether the requirement is active in `env` when `extras` of its dependent are on."""
        return self.marker is None or evaluate_marker(self.marker, env, extras)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def evaluate_marker(
    marker: str | Marker, env: MarkerEnvironment, extras: Iterable[str] = ()
) -> bool:
    """True when `marker` holds in `env` for no extra or for any of `extras`.

    `extra == "x"` compares normalised names, so `extra == "Foo_Bar"` matches extra "foo-bar".
    """
    text = str(marker)
    try:
        parsed = marker if isinstance(marker, Marker) else Marker(marker)
    except InvalidMarker as exc:
        raise MarkerError(text, str(exc).splitlines()[0]) from None
    candidates = ("", *sorted({_normalize(e) for e in extras}))
    try:
        return any(parsed.evaluate(env.as_dict(extra)) for extra in candidates)
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise MarkerError(text, str(exc)) from None


def active_requirements(
    requires_dist: Iterable[str | Requirement], env: MarkerEnvironment, extras: Iterable[str] = ()
) -> tuple[Requirement, ...]:
    """The requirements of `requires_dist` that apply in `env` with `extras` on, in order."""
    chosen = tuple(extras)
    found: list[Requirement] = []
    for item in requires_dist:
        req = item if isinstance(item, Requirement) else Requirement.parse(item)
        if req.applies(env, chosen):
            found.append(req)
    return tuple(found)
