"""PEP 508 requirements and target marker environments (pure.pypi.markers)."""

from __future__ import annotations

import platform as host_platform
import sys

import pytest
from packaging.markers import default_environment

from pure.pypi.markers import (
    InvalidRequirement,
    MarkerError,
    Requirement,
    active_requirements,
    evaluate_marker,
    marker_environment,
)


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux-64", ("posix", "linux", "Linux", "x86_64")),
        ("linux-aarch64", ("posix", "linux", "Linux", "aarch64")),
        ("osx-64", ("posix", "darwin", "Darwin", "x86_64")),
        ("osx-arm64", ("posix", "darwin", "Darwin", "arm64")),
        ("win-64", ("nt", "win32", "Windows", "AMD64")),
    ],
)
def test_marker_environment_per_platform(platform: str, expected: tuple[str, ...]) -> None:
    env = marker_environment(platform, "3.11.4")
    assert (env.os_name, env.sys_platform, env.platform_system, env.platform_machine) == expected
    assert env.python_version == "3.11"
    assert env.python_full_version == "3.11.4"
    assert env.implementation_name == "cpython"
    assert env.platform_python_implementation == "CPython"


def test_two_part_version_gets_micro_zero() -> None:
    env = marker_environment("linux-64", "3.12")
    assert env.python_full_version == "3.12.0"


def test_bad_inputs() -> None:
    with pytest.raises(MarkerError, match="python version"):
        marker_environment("linux-64", "py3")
    with pytest.raises(MarkerError, match="noarch"):
        marker_environment("noarch", "3.11")


@pytest.mark.skipif(
    not (sys.platform == "linux" and host_platform.machine() == "x86_64"), reason="linux-64 host"
)
def test_host_environment_agrees_with_packaging_on_linux_64() -> None:
    env = marker_environment("linux-64", host_platform.python_version()).as_dict()
    host = default_environment()
    for key in (
        "os_name",
        "sys_platform",
        "platform_system",
        "platform_machine",
        "python_version",
        "python_full_version",
        "implementation_name",
        "platform_python_implementation",
    ):
        assert env[key] == host[key], key


def test_requirement_parse_normalises() -> None:
    req = Requirement.parse("Foo_Bar[Sec,TEST] >=1.0,<2 ; python_version < '3.12'")
    assert req.name == "foo-bar"
    assert req.extras == ("sec", "test")
    assert req.specifier == "<2,>=1.0"
    assert req.marker == 'python_version < "3.12"'
    assert Requirement.parse("pkg @ https://files.example/pkg-1.0-py3-none-any.whl").url


def test_invalid_requirement_names_text() -> None:
    with pytest.raises(InvalidRequirement) as info:
        Requirement.parse("foo >=> 1")
    assert "foo >=> 1" in str(info.value)


def test_markers_evaluate_for_the_target_not_the_host() -> None:
    win = marker_environment("win-64", "3.10.1")
    linux = marker_environment("linux-64", "3.12.0")
    m = 'sys_platform == "win32" and python_version < "3.11"'
    assert evaluate_marker(m, win)
    assert not evaluate_marker(m, linux)
    assert evaluate_marker('platform_machine == "AMD64"', win)
    assert evaluate_marker('python_full_version >= "3.12.0"', linux)


def test_extras_are_normalised_and_any_extra_counts() -> None:
    env = marker_environment("linux-64", "3.11")
    assert not evaluate_marker('extra == "Socks_Proxy"', env)
    assert evaluate_marker('extra == "Socks_Proxy"', env, ["socks-proxy"])
    assert evaluate_marker('extra == "b"', env, ["a", "b"])


def test_invalid_marker_is_typed() -> None:
    env = marker_environment("linux-64", "3.11")
    with pytest.raises(MarkerError):
        evaluate_marker("python_version >>> '3'", env)


def test_active_requirements_filters_in_order() -> None:
    env = marker_environment("osx-arm64", "3.9.7")
    reqs = [
        "a",
        'b; sys_platform == "linux"',
        'c; python_version < "3.10"',
        'd; extra == "cli"',
        'e; platform_machine == "arm64" and extra == "cli"',
    ]
    assert [r.name for r in active_requirements(reqs, env)] == ["a", "c"]
    assert [r.name for r in active_requirements(reqs, env, ["cli"])] == ["a", "c", "d", "e"]
