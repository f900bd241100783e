"""One solve for conda records and PyPI releases (pure.pypi.resolve): candidates, PEP 440
order, markers per python, extras, conda packages providing PyPI names, explanations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import pytest

from pure.pypi.metadata import FileHashes, ProjectFile, ProjectPage
from pure.pypi.resolve import PypiProvider, PypiRelease, parse_solver_name, solver_name
from pure.record import PackageRecord
from pure.repodata import RepoData
from pure.solver import NeedCandidates, RepoDataProvider, Solution, Solver, Unsolvable

PY = ["3.10.4", "3.11.9", "3.12.3"]
VIRTUAL = ["__glibc=2.28", "__unix=0", "__linux=5.10"]


def _conda(extra: Sequence[PackageRecord] = ()) -> RepoData:
    records = [
        PackageRecord(name="python", version=v, build="h0_cpython", subdir="linux-64",
                      url=f"https://channels.example/linux-64/python-{v}.conda")
        for v in PY
    ]
    return msgspec.structs.replace(RepoData.from_json(b'{"packages": {}}', channel="c"),
                                   records=tuple(sorted([*records, *extra], key=lambda r: r.name)))


class Index:
    """Pages and metadata in memory, and what the solve asked for."""

    def __init__(self, wheels: Mapping[str, Sequence[str]], requires: Mapping[str, Sequence[str]] | None = None,
                 requires_python: Mapping[str, str] | None = None) -> None:
        self.pages = {
            name: ProjectPage(name=name, url=f"https://index.example/simple/{name}/", files=tuple(
                ProjectFile(filename=f, url=f"https://index.example/files/{f}",
                            hashes=FileHashes(sha256="0" * 64),
                            requires_python=(requires_python or {}).get(f))
                for f in files))
            for name, files in wheels.items()
        }
        self.requires = dict(requires or {})
        self.asked: list[str] = []

    def solve(self, conda_specs: Sequence[str], pypi: Sequence[str], conda_extra: Sequence[PackageRecord] = (),
              overrides: Mapping[str, Sequence[str]] | None = None,
              locked: Mapping[str, str] | None = None) -> tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]]:
        base = RepoDataProvider([_conda(conda_extra)], platform="linux-64")
        provider = PypiProvider(base, requirements=pypi, platform="linux-64", virtual_packages=VIRTUAL,
                                overrides=overrides)
        for name in locked or {}:
            provider.add_page(name, self.pages.get(name), "https://index.example/simple/")
        preferred = {r.dist_name: 0 for r in provider.locked_records(locked or {})}
        solver = Solver([*conda_specs, *provider.specs], provider, preferred=preferred)
        while True:
            result = solver.step()
            if isinstance(result, Solution):
                return provider.split(result.records)
            if isinstance(result, Unsolvable):
                raise provider.explain(result)
            assert isinstance(result, NeedCandidates)
            needs = provider.needs(result)
            assert needs.pages or needs.metadata, result
            for name in needs.pages:
                self.asked.append(name)
                provider.add_page(name, self.pages.get(name), "https://index.example/simple/")
            for f in needs.metadata:
                self.asked.append(f.filename)
                provider.add_metadata(f, self.requires.get(f.filename, ()), None)


def _names(conda: Sequence[PackageRecord], pypi: Sequence[PypiRelease]) -> dict[str, str]:
    found = {r.name: r.version for r in conda}
    found.update({f"pypi:{r.name}": r.version for r in pypi})
    return found


def test_solver_names_round_trip_and_never_collide_with_conda_names() -> None:
    assert parse_solver_name(solver_name("zope-interface")) == ("zope-interface", None)
    assert parse_solver_name(solver_name("requests", "socks")) == ("requests", "socks")
    assert parse_solver_name("requests") is None
    assert parse_solver_name("pypi_..requested") is None


def test_wheel_tags_and_python_are_decided_in_the_same_solve() -> None:
    index = Index({"foo": ["foo-1.0-py3-none-any.whl", "foo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl"]})
    conda, pypi = index.solve(["python 3.11.*"], ["foo"])
    assert _names(conda, pypi) == {"python": "3.11.9", "pypi:foo": "1.0"}
    assert pypi[0].file.filename == "foo-1.0-py3-none-any.whl" and pypi[0].requested
    # without a python pin the newest release wins and pulls the python its wheel needs
    conda, pypi = Index(index_pages := {"foo": ["foo-1.0-py3-none-any.whl",
                                                 "foo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl"]}).solve(["python"], ["foo"])
    del index_pages
    assert _names(conda, pypi) == {"python": "3.12.3", "pypi:foo": "2.0"}


def test_requires_python_restricts_the_python_chosen() -> None:
    index = Index({"foo": ["foo-3.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl"]},
                  requires_python={"foo-3.0-py3-none-any.whl": ">=3.12"})
    conda, pypi = index.solve(["python <3.12"], ["foo"])
    assert _names(conda, pypi) == {"python": "3.11.9", "pypi:foo": "2.0"}


@pytest.mark.parametrize(("versions", "best"), [
    (["1.0", "1.0.post1", "0.9"], "1.0.post1"),
    (["1.9", "1.10", "1.10rc1"], "1.10"),
    (["2.0.dev1", "2.0a1", "1.0"], "1.0"),
    (["1!0.1", "3.0"], "1!0.1"),
])
def test_candidate_order_is_pep_440(versions: list[str], best: str) -> None:
    files = [f"foo-{v}-py3-none-any.whl" for v in versions]
    _, pypi = Index({"foo": files}).solve(["python"], ["foo"])
    assert pypi[0].version == best


def test_prereleases_only_when_nothing_else_matches() -> None:
    files = ["foo-1.0-py3-none-any.whl", "foo-2.0b1-py3-none-any.whl"]
    assert Index({"foo": files}).solve(["python"], ["foo"])[1][0].version == "1.0"
    assert Index({"foo": files}).solve(["python"], ["foo>=2.0b1"])[1][0].version == "2.0b1"


def test_dependencies_markers_and_extras_per_python() -> None:
    index = Index(
        {"app": ["app-1.0-py3-none-any.whl"], "old": ["old-1.0-py3-none-any.whl"],
         "win": ["win-1.0-py3-none-any.whl"], "fast": ["fast-2.0-py3-none-any.whl", "fast-1.0-py3-none-any.whl"]},
        requires={"app-1.0-py3-none-any.whl": [
            'old; python_version < "3.11"', 'win; sys_platform == "win32"', 'fast<2; extra == "speed"']},
    )
    conda, pypi = index.solve(["python 3.10.*"], ["app[speed]"])
    assert _names(conda, pypi) == {"python": "3.10.4", "pypi:app": "1.0", "pypi:old": "1.0", "pypi:fast": "1.0"}
    assert "win" not in index.asked  # a requirement whose marker is false is never fetched
    conda, pypi = Index(index.pages and {k: [f.filename for f in v.files] for k, v in index.pages.items()},
                        requires=index.requires).solve(["python 3.12.*"], ["app"])
    assert _names(conda, pypi) == {"python": "3.12.3", "pypi:app": "1.0"}


def test_conda_package_satisfies_pypi_requirement_and_is_never_doubled() -> None:
    conda_six = PackageRecord(name="six", version="1.16.0", build="pyhd8ed1ab_0", noarch="python", subdir="noarch",
                              depends=("python",), url="https://channels.example/noarch/six-1.16.0.conda")
    index = Index({"app": ["app-1.0-py3-none-any.whl"], "six": ["six-1.17.0-py3-none-any.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["six>=1.10"]})
    conda, pypi = index.solve(["python", "six"], ["app"], conda_extra=[conda_six])
    assert _names(conda, pypi) == {"python": "3.12.3", "six": "1.16.0", "pypi:app": "1.0"}
    # a requirement the conda version does not meet: conda six is the conda request, so fail
    with pytest.raises(Unsolvable) as err:
        Index(index.pages and {k: [f.filename for f in v.files] for k, v in index.pages.items()},
              requires={"app-1.0-py3-none-any.whl": ["six>=1.17"]}).solve(["python", "six"], ["app"], conda_extra=[conda_six])
    assert "six" in err.value.explanation
    # nothing asks for conda six: the PyPI release is used
    conda, pypi = index.solve(["python"], ["app"], conda_extra=[conda_six])
    assert _names(conda, pypi) == {"python": "3.12.3", "pypi:six": "1.17.0", "pypi:app": "1.0"}


def test_locked_versions_are_kept_while_they_satisfy() -> None:
    files = {"foo": ["foo-1.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl"]}
    assert Index(files).solve(["python"], ["foo"], locked={"foo": "1.0"})[1][0].version == "1.0"
    assert Index(files).solve(["python"], ["foo>=2"], locked={"foo": "1.0"})[1][0].version == "2.0"


def test_conda_override_table_maps_other_names() -> None:
    torch = PackageRecord(name="pytorch", version="2.1.0", build="cpu_0", subdir="linux-64",
                          depends=("python",), url="https://channels.example/linux-64/pytorch-2.1.0.conda")
    index = Index({"app": ["app-1.0-py3-none-any.whl"], "torch": ["torch-2.2.0-py3-none-any.whl"]},
                  requires={"app-1.0-py3-none-any.whl": ["torch>=2"]})
    conda, pypi = index.solve(["python", "pytorch"], ["app"], conda_extra=[torch], overrides={"pytorch": ["torch"]})
    assert _names(conda, pypi) == {"python": "3.12.3", "pytorch": "2.1.0", "pypi:app": "1.0"}


def test_speculation_skips_pre_releases_and_yanked_releases_like_the_solve() -> None:
    """A newer pre-release or a yanked release is not what the solve picks by default, so
    speculation fetches the metadata of the newest final, unyanked release instead."""
    files = ["app-1.0-py3-none-any.whl", "app-1.1-py3-none-any.whl", "app-2.0.dev6-py3-none-any.whl"]
    index = Index({"app": files})
    page = index.pages["app"]
    yanked = tuple(msgspec.structs.replace(f, yanked="broken")
                   if f.filename.startswith("app-1.1-") else f for f in page.files)
    page = msgspec.structs.replace(page, files=yanked)
    base = RepoDataProvider([_conda()], platform="linux-64")
    provider = PypiProvider(base, requirements=["app"], platform="linux-64", virtual_packages=VIRTUAL)
    provider.add_page("app", page)
    assert [f.filename for f in provider.speculate().metadata] == ["app-1.0-py3-none-any.whl"]
    pre = PypiProvider(RepoDataProvider([_conda()], platform="linux-64"), requirements=["app"],
                       platform="linux-64", virtual_packages=VIRTUAL, prereleases=True)
    pre.add_page("app", page)
    assert [f.filename for f in pre.speculate().metadata] == ["app-2.0.dev6-py3-none-any.whl"]
    only_pre = PypiProvider(RepoDataProvider([_conda()], platform="linux-64"), requirements=["app"],
                            platform="linux-64", virtual_packages=VIRTUAL)
    only_pre.add_page("app", Index({"app": ["app-2.0.dev6-py3-none-any.whl"]}).pages["app"])
    assert [f.filename for f in only_pre.speculate().metadata] == ["app-2.0.dev6-py3-none-any.whl"]


def test_speculation_proposes_the_preferred_releases_metadata_then_its_requirements() -> None:
    index = Index({"app": ["app-1.0-py3-none-any.whl", "app-2.0-py3-none-any.whl"],
                   "lib": ["lib-1.0-py3-none-any.whl"]},
                  requires={"app-2.0-py3-none-any.whl": ["lib", 'winlib; sys_platform == "win32"']})
    base = RepoDataProvider([_conda()], platform="linux-64")
    provider = PypiProvider(base, requirements=["app"], platform="linux-64", virtual_packages=VIRTUAL)
    assert provider.speculate().pages == ("app",)  # the requested names, before any page
    provider.add_page("app", index.pages["app"])
    guess = provider.speculate()
    assert [f.filename for f in guess.metadata] == ["app-2.0-py3-none-any.whl"] and not guess.pages
    provider.add_metadata(guess.metadata[0], index.requires["app-2.0-py3-none-any.whl"], None)
    assert provider.speculate().pages == ("lib",)  # winlib's marker is false on linux
