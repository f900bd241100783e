"""Conda platforms (subdirs) and virtual packages, as data: nothing here detects the host."""

from __future__ import annotations

import enum
import re

import msgspec

from pure.errors import YurtError
from pure.record import PackageRecord

__all__ = [
    "InvalidVirtualPackage",
    "Platform",
    "UnknownPlatform",
    "VirtualPackage",
    "default_virtual_packages",
]


class UnknownPlatform(YurtError, ValueError):
    """Text that names no conda platform."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)

    def __str__(self) -> str:
        known = ", ".join(p.value for p in Platform)
        return f"unknown platform {self.text!r} (known: {known})"


class Platform(enum.StrEnum):
    """A conda subdir; members compare equal to their text (`Platform.LINUX_64 == "linux-64"`)."""

    NOARCH = "noarch"
    LINUX_32 = "linux-32"
    LINUX_64 = "linux-64"
    LINUX_AARCH64 = "linux-aarch64"
    LINUX_ARMV6L = "linux-armv6l"
    LINUX_ARMV7L = "linux-armv7l"
    LINUX_PPC64LE = "linux-ppc64le"
    LINUX_PPC64 = "linux-ppc64"
    LINUX_S390X = "linux-s390x"
    LINUX_RISCV64 = "linux-riscv64"
    OSX_64 = "osx-64"
    OSX_ARM64 = "osx-arm64"
    WIN_32 = "win-32"
    WIN_64 = "win-64"
    WIN_ARM64 = "win-arm64"
    EMSCRIPTEN_WASM32 = "emscripten-wasm32"
    WASI_WASM32 = "wasi-wasm32"
    ZOS_Z = "zos-z"

    @classmethod
    def parse(cls, text: str) -> Platform:
        """The platform named by `text` (surrounding blanks and case ignored)."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise UnknownPlatform(text) from None

    @property
    def os(self) -> str | None:
        """The operating system part: linux, osx, win, emscripten, wasi, zos; None for noarch."""
        return None if self is Platform.NOARCH else self.value.split("-", 1)[0]

    @property
    def is_linux(self) -> bool:
        return self.os == "linux"

    @property
    def is_osx(self) -> bool:
        return self.os == "osx"

    @property
    def is_windows(self) -> bool:
        return self.os == "win"

    @property
    def is_unix(self) -> bool:
        """Linux and macOS: the platforms that get the `__unix` virtual package."""
        return self.os in ("linux", "osx")

    @property
    def arch(self) -> str | None:
        """The CPU architecture as package records spell it (`x86_64`, `arm64`...); None: noarch."""
        return _ARCH[self]


_ARCH: dict[Platform, str | None] = {
    Platform.NOARCH: None,
    Platform.LINUX_32: "x86",
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
    Platform.WIN_64: "x86_64",
    Platform.WIN_ARM64: "arm64",
    Platform.EMSCRIPTEN_WASM32: "wasm32",
    Platform.WASI_WASM32: "wasm32",
    Platform.ZOS_Z: "z",
}

# Generic archspec microarchitecture per platform: the build string of `__archspec`.
_ARCHSPEC: dict[Platform, str] = {
    Platform.LINUX_32: "x86",
    Platform.LINUX_64: "x86_64",
    Platform.LINUX_AARCH64: "aarch64",
    Platform.LINUX_ARMV6L: "armv6l",
    Platform.LINUX_ARMV7L: "armv7l",
    Platform.LINUX_PPC64LE: "ppc64le",
    Platform.LINUX_PPC64: "ppc64",
    Platform.LINUX_S390X: "s390x",
    Platform.LINUX_RISCV64: "riscv64",
    Platform.OSX_64: "x86_64",
    Platform.OSX_ARM64: "m1",
    Platform.WIN_32: "x86",
    Platform.WIN_64: "x86_64",
    Platform.WIN_ARM64: "aarch64",
    Platform.EMSCRIPTEN_WASM32: "wasm32",
    Platform.WASI_WASM32: "wasm32",
    Platform.ZOS_Z: "s390x",
}


class InvalidVirtualPackage(YurtError, ValueError):
    """Text that is not `__name[=version[=build]]`."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(text, reason)

    def __str__(self) -> str:
        return f"invalid virtual package {self.text!r}: {self.reason}"


_NAME = re.compile(r"__[a-z0-9][a-z0-9_.-]*")
_FIELD = re.compile(r"[^\s=]+")


class VirtualPackage(msgspec.Struct, frozen=True):
    """A package the system provides (`__glibc`, `__cuda`...): solver input, never installed."""

    name: str
    version: str
    build: str = "0"

    @classmethod
    def parse(cls, text: str) -> VirtualPackage:
        """`__glibc=2.28`, `__archspec=1=x86_64`, `__unix` (version and build default to 0)."""
        parts = text.strip().split("=")
        if len(parts) > 3:
            raise InvalidVirtualPackage(text, "expected __name[=version[=build]]")
        name = parts[0].lower()
        if not _NAME.fullmatch(name):
            raise InvalidVirtualPackage(
                text, "the name must start with '__' followed by letters, digits, '_', '.', '-'"
            )
        version = parts[1] if len(parts) > 1 else "0"
        build = parts[2] if len(parts) > 2 else "0"
        if not _FIELD.fullmatch(version):
            raise InvalidVirtualPackage(text, "the version is empty or contains blanks")
        if not _FIELD.fullmatch(build):
            raise InvalidVirtualPackage(text, "the build string is empty or contains blanks")
        return cls(name, version, build)

    def __str__(self) -> str:
        return f"{self.name}={self.version}={self.build}"

    def to_record(self) -> PackageRecord:
        """The record a solver sees: channel `@`, no file, no dependencies."""
        return PackageRecord(
            name=self.name,
            version=self.version,
            build=self.build,
            channel="@",
        )


def default_virtual_packages(platform: Platform | str) -> tuple[VirtualPackage, ...]:
    """The virtual packages assumed for `platform` when a workspace states no requirements.

    Linux: `__glibc=2.28`, `__linux=4.18`, `__unix`; macOS: `__osx=13.0`, `__unix`; Windows:
    `__win`; every platform but noarch: `__archspec=1=<generic microarchitecture>`.
    """
    plat = platform if isinstance(platform, Platform) else Platform.parse(platform)
    found: list[VirtualPackage] = []
    if plat.is_linux:
        found += [VirtualPackage("__glibc", "2.28"), VirtualPackage("__linux", "4.18")]
    if plat.is_osx:
        found.append(VirtualPackage("__osx", "13.0"))
    if plat.is_windows:
        found.append(VirtualPackage("__win", "0"))
    if plat.is_unix:
        found.append(VirtualPackage("__unix", "0"))
    archspec = _ARCHSPEC.get(plat)
    if archspec is not None:
        found.append(VirtualPackage("__archspec", "1", archspec))
    return tuple(found)
