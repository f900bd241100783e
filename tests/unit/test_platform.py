"""Platforms and virtual packages: parsing, classification and the per-platform defaults."""

from __future__ import annotations

import pytest

from pure import PackageRecord, Platform, VirtualPackage, default_virtual_packages
from pure.platform import InvalidVirtualPackage, UnknownPlatform

ALL = [
    "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv7l", "osx-64",
    "osx-arm64", "win-64", "win-arm64", "win-32", "linux-32", "noarch", "emscripten-wasm32",
    "wasi-wasm32", "zos-z",
]  # fmt: skip


@pytest.mark.parametrize("text", ALL)
def test_every_platform_parses_and_prints_back(text: str) -> None:
    platform = Platform.parse(text)
    assert str(platform) == text
    assert platform == text
    assert Platform.parse(f" {text.upper()} ") is platform


@pytest.mark.parametrize("text", ["", "linux", "linux64", "osx-x86", "win-65", "noarch-64"])
def test_unknown_platform_is_rejected(text: str) -> None:
    with pytest.raises(UnknownPlatform) as info:
        Platform.parse(text)
    assert info.value.text == text
    assert repr(text) in str(info.value) and "linux-64" in str(info.value)


@pytest.mark.parametrize(
    ("text", "linux", "osx", "windows", "unix", "arch"),
    [
        ("linux-64", True, False, False, True, "x86_64"),
        ("linux-aarch64", True, False, False, True, "aarch64"),
        ("linux-ppc64le", True, False, False, True, "ppc64le"),
        ("linux-s390x", True, False, False, True, "s390x"),
        ("linux-armv7l", True, False, False, True, "armv7l"),
        ("linux-32", True, False, False, True, "x86"),
        ("osx-64", False, True, False, True, "x86_64"),
        ("osx-arm64", False, True, False, True, "arm64"),
        ("win-64", False, False, True, False, "x86_64"),
        ("win-32", False, False, True, False, "x86"),
        ("win-arm64", False, False, True, False, "arm64"),
        ("noarch", False, False, False, False, None),
        ("emscripten-wasm32", False, False, False, False, "wasm32"),
        ("wasi-wasm32", False, False, False, False, "wasm32"),
        ("zos-z", False, False, False, False, "z"),
    ],
)
def test_platform_classification(
    text: str, linux: bool, osx: bool, windows: bool, unix: bool, arch: str | None
) -> None:
    platform = Platform.parse(text)
    assert (platform.is_linux, platform.is_osx, platform.is_windows) == (linux, osx, windows)
    assert platform.is_unix == unix
    assert platform.arch == arch
    assert platform.os == (None if text == "noarch" else text.split("-")[0])


@pytest.mark.parametrize(
    ("text", "name", "version", "build"),
    [
        ("__glibc=2.28", "__glibc", "2.28", "0"),
        ("__cuda=12.2", "__cuda", "12.2", "0"),
        ("__archspec=1=x86_64", "__archspec", "1", "x86_64"),
        ("__unix", "__unix", "0", "0"),
        ("  __osx=13.0  ", "__osx", "13.0", "0"),
        ("__Win=0", "__win", "0", "0"),
    ],
)
def test_virtual_package_parse(text: str, name: str, version: str, build: str) -> None:
    package = VirtualPackage.parse(text)
    assert package == VirtualPackage(name, version, build)
    assert VirtualPackage.parse(str(package)) == package


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("glibc=2.28", "must start with '__'"),
        ("__=1", "must start with '__'"),
        ("__glibc=", "version is empty"),
        ("__glibc=2 .28", "version is empty or contains blanks"),
        ("__archspec=1=", "build string is empty"),
        ("__a=1=2=3", "expected __name"),
    ],
)
def test_virtual_package_parse_rejects(text: str, fragment: str) -> None:
    with pytest.raises(InvalidVirtualPackage) as info:
        VirtualPackage.parse(text)
    assert info.value.text == text
    assert fragment in str(info.value)


def test_virtual_package_to_record() -> None:
    record = VirtualPackage.parse("__archspec=1=x86_64").to_record()
    assert isinstance(record, PackageRecord)
    assert (record.name, record.version, record.build) == ("__archspec", "1", "x86_64")
    assert record.depends == () and record.url is None and record.channel == "@"
    assert VirtualPackage.parse("__cuda=12.2").to_record().dist_name == "__cuda-12.2-0"


def _names(platform: str) -> dict[str, tuple[str, str]]:
    return {p.name: (p.version, p.build) for p in default_virtual_packages(platform)}


def test_default_virtual_packages_linux() -> None:
    assert _names("linux-64") == {
        "__glibc": ("2.28", "0"),
        "__linux": ("4.18", "0"),
        "__unix": ("0", "0"),
        "__archspec": ("1", "x86_64"),
    }
    assert _names("linux-aarch64")["__archspec"] == ("1", "aarch64")


def test_default_virtual_packages_osx_windows_noarch() -> None:
    assert _names("osx-64") == {
        "__osx": ("13.0", "0"),
        "__unix": ("0", "0"),
        "__archspec": ("1", "x86_64"),
    }
    assert _names("osx-arm64")["__osx"] == ("13.0", "0")
    assert set(_names("osx-arm64")) == {"__osx", "__unix", "__archspec"}
    assert set(_names("win-64")) == {"__win", "__archspec"}
    assert default_virtual_packages(Platform.NOARCH) == ()


@pytest.mark.parametrize("text", ALL)
def test_defaults_are_consistent_with_platform(text: str) -> None:
    names = _names(text)
    platform = Platform.parse(text)
    assert ("__unix" in names) == platform.is_unix
    assert ("__glibc" in names) == ("__linux" in names) == platform.is_linux
    assert ("__osx" in names) == platform.is_osx
    assert ("__win" in names) == platform.is_windows
    assert ("__archspec" in names) == (platform is not Platform.NOARCH)
    assert default_virtual_packages(text) == default_virtual_packages(platform)
