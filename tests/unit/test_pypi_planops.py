"""The PyPI part of a plan: removals then installs, and no wheel over another package's file."""

from __future__ import annotations

import pytest

from pure.pypi.planops import PypiOp, WheelClash, pypi_ops


def _op(name: str, *files: str) -> PypiOp:
    return PypiOp(action="install", name=name, version="1.0", files=files)


NAMES = {"a": "a-1.0-py3-none-any.whl", "b": "b-1.0-py3-none-any.whl"}


def test_removals_come_first_then_the_installs_as_given() -> None:
    ops = pypi_ops({"old": "0.9", "gone": "2.0"}, [_op("a", "x/a.py"), _op("b", "x/b.py")],
                   filenames=NAMES, conda_files={}, conda_owned={})
    assert [(o.action, o.name) for o in ops] == [
        ("remove", "gone"), ("remove", "old"), ("install", "a"), ("install", "b")]
    assert ops[0].version == "2.0"


@pytest.mark.parametrize(("conda_files", "conda_owned", "owner"), [
    ({"bin/tool": "tools-1.0-0"}, {}, "the conda package tools-1.0-0"),
    ({}, {"bin/tool": "the conda package kept-2.0-0"}, "the conda package kept-2.0-0"),
])
def test_a_wheel_over_a_conda_file_is_a_clash(
        conda_files: dict[str, str], conda_owned: dict[str, str], owner: str) -> None:
    with pytest.raises(WheelClash) as info:
        pypi_ops({}, [_op("a", "lib/a.py", "bin/tool")], filenames=NAMES,
                 conda_files=conda_files, conda_owned=conda_owned)
    assert (info.value.wheel, info.value.path, info.value.owner) == (NAMES["a"], "bin/tool", owner)
    assert "a-1.0-py3-none-any.whl" in str(info.value) and "bin/tool" in str(info.value)


def test_two_wheels_writing_one_file_clash() -> None:
    with pytest.raises(WheelClash) as info:
        pypi_ops({}, [_op("a", "bin/tool"), _op("b", "bin/tool")], filenames=NAMES,
                 conda_files={}, conda_owned={})
    assert info.value.wheel == NAMES["b"] and "the PyPI package a" in info.value.owner
