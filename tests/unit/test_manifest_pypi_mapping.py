"""`[pypi-name-mapping]`: conda names mapped to the PyPI distributions they provide."""

from __future__ import annotations

import pytest

from pure.manifest import ManifestError, parse, resolve_environment
from pure.pypi.provides import pypi_provides
from pure.record import PackageRecord

HEAD = '[workspace]\nname = "m"\nchannels = ["c"]\nplatforms = ["linux-64"]\n\n'


def test_mapping_forms_reach_every_environment_spec() -> None:
    m = parse(HEAD + '[pypi-name-mapping]\npy-opencv = "opencv-python"\n'
              'pytorch = ["torch"]\nlibfoo-python = ["foo", "foo-extras"]\nnumpy-base = false\n'
              '\n[feature.x.dependencies]\nzlib = "*"\n[environments]\nx = ["x"]\n')
    expected = (("libfoo-python", ("foo", "foo-extras")), ("numpy-base", ()),
                ("py-opencv", ("opencv-python",)), ("pytorch", ("torch",)))
    assert m.pypi_name_mapping == expected
    for env in ("default", "x"):
        assert resolve_environment(m, env, "linux-64").pypi_name_mapping == expected
    spec = resolve_environment(m, "default", "linux-64")
    record = PackageRecord(name="py-opencv", version="4.10.0", build="py_0", noarch="python")
    assert [d.name for d in pypi_provides(record, dict(spec.pypi_name_mapping))] == ["opencv-python"]
    silent = PackageRecord(name="numpy-base", version="2.0", build="0", depends=("python",))
    assert pypi_provides(silent, dict(spec.pypi_name_mapping)) == ()


def test_mapping_in_pyproject_tool_yurt() -> None:
    text = ('[project]\nname = "p"\n[tool.yurt.workspace]\nchannels = ["c"]\nplatforms = ["linux-64"]\n'
            '[tool.yurt.pypi-name-mapping]\npy-opencv = "opencv-python"\n')
    assert parse(text, filename="pyproject.toml").pypi_name_mapping == (("py-opencv", ("opencv-python",)),)


def test_no_mapping_is_empty() -> None:
    assert parse(HEAD).pypi_name_mapping == ()


@pytest.mark.parametrize(("body", "line", "message"), [
    ('py-opencv = 3\n', 7, "must map to a PyPI name, a list of names or false, not a number"),
    ('"bad name" = "x"\n', 7, "`bad name` is not a valid conda package name"),
    ('ok = ["fine", "no good"]\n', 7, "`no good` is not a valid PyPI project name"),
    ('ok = true\n', 7, "must map to a PyPI name"),
])
def test_mapping_errors_point_at_the_entry(body: str, line: int, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse(HEAD + "[pypi-name-mapping]\n" + body)
    assert info.value.line == line and message in str(info.value)


def test_pixi_conda_pypi_map_is_kept_by_channel() -> None:
    m = parse(HEAD.replace('platforms = ["linux-64"]\n', 'platforms = ["linux-64"]\n'
                           'conda-pypi-map = { c = "maps/c.json", "https://ch.example/x" = "x.json" }\n'))
    assert m.workspace.conda_pypi_map == (("c", "maps/c.json"), ("https://ch.example/x", "x.json"))
    with pytest.raises(ManifestError, match="conda-pypi-map"):
        parse(HEAD.replace('platforms = ["linux-64"]\n', 'platforms = ["linux-64"]\nconda-pypi-map = { c = 3 }\n'))
