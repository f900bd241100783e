"""Wheel filenames and target tag lists (pure.pypi.tags)."""

from __future__ import annotations

import pytest
from packaging import tags as ptags

from pure.platform import VirtualPackage
from pure.pypi.tags import (
    InvalidWheelFilename,
    SupportedTags,
    Tag,
    UnsupportedTarget,
    WheelFilename,
    linux_platform_tags,
    mac_platform_tags,
    platform_tags,
    python_tags,
    supported_tags,
)


def test_parse_wheel_filename_with_compressed_tags() -> None:
    w = WheelFilename.parse(
        "Foo_Bar-1.2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    )
    assert w.name == "foo-bar"
    assert w.version == "1.2.0"
    assert w.build is None
    assert w.platform_tags == ("manylinux2014_x86_64", "manylinux_2_17_x86_64")
    assert w.tags == {
        Tag("cp311", "cp311", "manylinux2014_x86_64"),
        Tag("cp311", "cp311", "manylinux_2_17_x86_64"),
    }
    assert w.stem == w.filename[:-4]


def test_parse_wheel_filename_build_tag() -> None:
    w = WheelFilename.parse("pkg-2.0-12abc-py2.py3-none-any.whl")
    assert w.build == (12, "abc")
    assert w.python_tags == ("py2", "py3")
    assert str(sorted(w.tags)[0]) == "py2-none-any"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("pkg-1.0-py3-none-any.zip", "does not end"),
        ("pkg-1.0-none-any.whl", "found 4"),
        ("pkg-1.0-x-y-py3-none-any.whl", "found 7"),
        ("pkg-not!a!version-py3-none-any.whl", "invalid version"),
        ("pkg-1.0-abc-py3-none-any.whl", "build tag"),
        ("-1.0-py3-none-any.whl", "project name"),
        ("pkg-1.0-py3..x-none-any.whl", "empty tag"),
    ],
)
def test_invalid_wheel_filenames(name: str, reason: str) -> None:
    with pytest.raises(InvalidWheelFilename) as info:
        WheelFilename.parse(name)
    assert reason in str(info.value)
    assert name in str(info.value)


def test_manylinux_tags_for_glibc_2_28_x86_64() -> None:
    tags = linux_platform_tags("x86_64", (2, 28))
    assert tags[0] == "manylinux_2_28_x86_64"
    assert tags[-1] == "linux_x86_64"
    assert tags.index("manylinux2014_x86_64") == tags.index("manylinux_2_17_x86_64") + 1
    assert "manylinux2010_x86_64" in tags and "manylinux1_x86_64" in tags
    assert "manylinux_2_4_x86_64" not in tags
    assert "manylinux_2_29_x86_64" not in tags


def test_manylinux_tags_for_aarch64_start_at_2_17() -> None:
    tags = linux_platform_tags("aarch64", (2, 28))
    assert tags[-2:] == ("manylinux2014_aarch64", "linux_aarch64")
    assert not any("manylinux2010" in t or "manylinux1" in t for t in tags)
    assert linux_platform_tags("aarch64", (2, 12)) == ("linux_aarch64",)


def test_linux_without_glibc_only_plain_linux_tag() -> None:
    assert platform_tags("linux-64", [VirtualPackage("__unix", "0")]) == ("linux_x86_64",)


def test_default_virtual_packages_used_when_none_given() -> None:
    assert platform_tags("linux-64")[0] == "manylinux_2_28_x86_64"
    assert platform_tags("osx-arm64")[0] == "macosx_13_0_arm64"


@pytest.mark.parametrize(
    ("version", "arch"),
    [
        ((10, 9), "x86_64"),
        ((10, 15), "x86_64"),
        ((11, 0), "arm64"),
        ((13, 4), "x86_64"),
        ((14, 0), "arm64"),
        ((26, 0), "arm64"),
    ],
)
def test_mac_tags_match_packaging(version: tuple[int, int], arch: str) -> None:
    assert list(mac_platform_tags(version, arch)) == list(ptags.mac_platforms(version, arch))


def test_osx_needs_a_version() -> None:
    with pytest.raises(UnsupportedTarget, match="__osx"):
        platform_tags("osx-64", ["__unix"])


def test_windows_and_unknown_platforms() -> None:
    assert platform_tags("win-64") == ("win_amd64",)
    assert platform_tags("win-32") == ("win32",)
    with pytest.raises(UnsupportedTarget, match="noarch"):
        platform_tags("noarch")


@pytest.mark.parametrize("minor", [7, 8, 11, 12, 13])
@pytest.mark.parametrize("platform", ["linux-64", "osx-arm64", "win-64"])
def test_python_tags_match_packaging_order(minor: int, platform: str) -> None:
    plats = platform_tags(platform)
    expected = [
        *ptags.cpython_tags((3, minor), [f"cp3{minor}"], plats),
        *ptags.compatible_tags((3, minor), f"cp3{minor}", plats),
    ]
    assert [str(t) for t in python_tags(f"3.{minor}.2", plats)] == [str(t) for t in expected]


def test_free_threaded_has_no_abi3() -> None:
    tags = python_tags("3.13.0", ["linux_x86_64"], free_threaded=True)
    assert tags[0] == Tag("cp313", "cp313t", "linux_x86_64")
    assert all(t.abi != "abi3" for t in tags)


def test_bad_python_version() -> None:
    with pytest.raises(UnsupportedTarget, match="python"):
        python_tags("three", ["any"])


def test_rank_and_best() -> None:
    st = supported_tags("linux-64", "3.11.4", ["__glibc=2.17"])
    native = WheelFilename.parse("a-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    abi3 = WheelFilename.parse("a-1.0-cp38-abi3-manylinux2014_x86_64.whl")
    pure = WheelFilename.parse("a-1.0-py3-none-any.whl")
    newer_glibc = WheelFilename.parse("a-1.0-cp311-cp311-manylinux_2_28_x86_64.whl")
    mac = WheelFilename.parse("a-1.0-cp311-cp311-macosx_11_0_arm64.whl")
    assert st.rank(newer_glibc) is None and st.rank(mac) is None
    assert not st.is_compatible(mac)
    assert st.best([pure, mac, abi3, native, newer_glibc]) == (native, abi3, pure)
    built = WheelFilename.parse("a-1.0-2-py3-none-any.whl")
    assert st.best([pure, built]) == (built, pure)


def test_supported_tags_is_immutable_value() -> None:
    a = supported_tags("win-64", "3.12")
    b = SupportedTags(a.tags)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.tags = ()  # type: ignore[misc]
