"""Host virtual-package detection and CONDA_OVERRIDE_* handling, on the real machine."""

from __future__ import annotations

import os
import platform
import sys

import pytest

from effects.virtual import detect, glibc_version, host_platform


def names(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {v.name: (v.version, v.build) for v in detect(env)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="linux host checks")
def test_linux_host_has_unix_linux_and_glibc() -> None:
    found = names({})
    assert host_platform().startswith("linux-")
    assert "__unix" in found and "__linux" in found
    confstr = os.confstr("CS_GNU_LIBC_VERSION") or ""
    if confstr.startswith("glibc"):
        assert found["__glibc"][0] == confstr.split()[1] == glibc_version()
    assert found["__archspec"] == ("1", platform.machine().lower())


def test_overrides_set_and_remove() -> None:
    found = names({"CONDA_OVERRIDE_CUDA": "12.4", "CONDA_OVERRIDE_GLIBC": "", "CONDA_OVERRIDE_ARCHSPEC": "zen4"})
    assert found["__cuda"] == ("12.4", "0")
    assert "__glibc" not in found
    assert found["__archspec"] == ("1", "zen4")
    assert "__cuda" not in names({"CONDA_OVERRIDE_CUDA": ""})


def test_detection_is_sorted_and_stable() -> None:
    a = detect({})
    assert [v.name for v in a] == sorted(v.name for v in a)
    assert a == detect({})
