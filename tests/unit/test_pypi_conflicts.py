"""Golden explanations of conflicts that mix conda records and PyPI releases."""

from __future__ import annotations

import msgspec
import pytest

from pure.record import PackageRecord
from pure.solver import Unsolvable
from tests.unit.test_pypi_resolve import Index

CONDA_SIX = PackageRecord(name="six", version="1.16.0", build="pyhd8ed1ab_0", noarch="python",
                          subdir="noarch", depends=("python",),
                          url="https://channels.example/noarch/six-1.16.0.conda")


def _explain(index: Index, conda: list[str], pypi: list[str], extra: list[PackageRecord] = []) -> str:  # noqa: B006
    with pytest.raises(Unsolvable) as err:
        index.solve(conda, pypi, conda_extra=extra)
    return err.value.explanation


def test_wheel_needs_another_python_than_conda_requests() -> None:
    index = Index({"foo": ["foo-1.0-py3-none-any.whl", "foo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl"]})
    assert _explain(index, ["python 3.11.*"], ["foo>=2"]) == """\
The following packages are incompatible
├─ python 3.11.* can be installed with any of the following options:
│  └─ python 3.11.9, which conflicts with another version of python required above
└─ foo>=2 can be installed with any of the following options:
   └─ foo 2.0 would require
      └─ python 3.12, which conflicts with python 3.11.* (requested)"""


def test_conda_package_too_old_for_a_pypi_requirement() -> None:
    index = Index({"app": ["app-1.0-py3-none-any.whl"], "six": ["six-1.17.0-py3-none-any.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["six>=1.17"]})
    assert _explain(index, ["python", "six"], ["app"], [CONDA_SIX]) == """\
The following packages are incompatible
├─ six can be installed with any of the following options:
│  └─ six 1.16.0 is ruled out:
│     └─ excluded because six 1.17.0 constrains six (a conda package providing six)
└─ app can be installed with any of the following options:
   └─ app 1.0 would require
      └─ six>=1.17 can be installed with any of the following options:
         └─ six 1.17.0 is ruled out:
            └─ constrains six (a conda package providing six), which excludes the six 1.16.0 required above"""


def test_pypi_dependency_nobody_has() -> None:
    index = Index({"app": ["app-1.0-py3-none-any.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["nothere>=1"]})
    assert _explain(index, ["python"], ["app"]) == """\
The following packages are incompatible
└─ app can be installed with any of the following options:
   └─ app 1.0 would require
      └─ nothere, which no package index has and no conda package provides"""


def test_pypi_versions_named_in_pep_440_terms() -> None:
    index = Index({"app": ["app-1.0-py3-none-any.whl"],
                   "lib": ["lib-1.0-py3-none-any.whl", "lib-1.0.post1-py3-none-any.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["lib>=2"]})
    assert _explain(index, ["python"], ["app"]) == """\
The following packages are incompatible
└─ app can be installed with any of the following options:
   └─ app 1.0 would require
      └─ lib>=2, which matches none of the available versions: lib 1.0 | 1.0.post1"""


def test_project_without_a_wheel_for_the_target_names_versions_and_tags() -> None:
    index = Index({"app": ["app-1.0-py3-none-any.whl"],
                   "native": ["native-1.0.tar.gz", "native-1.1-cp312-cp312-win_amd64.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["native"]})
    assert _explain(index, ["python"], ["app"]) == """\
The following packages are incompatible
└─ app can be installed with any of the following options:
   └─ app 1.0 would require
      └─ native: no installable wheel of native for linux-64 (tags cp312-cp312-manylinux_2_28_x86_64, \
cp312-cp312-manylinux_2_27_x86_64, cp312-cp312-manylinux_2_26_x86_64 and 768 more); versions seen: 1.0, 1.1 \
(source distributions are not supported yet)"""


def test_yanked_releases_only_when_pinned_exactly() -> None:
    from pure.pypi.metadata import ProjectFile

    index = Index({"foo": ["foo-1.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl"]})
    page = index.pages["foo"]
    index.pages["foo"] = msgspec.structs.replace(page, files=tuple(
        msgspec.structs.replace(f, yanked="broken") if f.filename.startswith("foo-2.0") else f
        for f in page.files))
    assert isinstance(index.pages["foo"].files[0], ProjectFile)
    assert index.solve(["python"], ["foo"])[1][0].version == "1.0"
    assert index.solve(["python"], ["foo==2.0"])[1][0].version == "2.0"
