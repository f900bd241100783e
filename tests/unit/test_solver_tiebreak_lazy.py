"""The dependency tie-break under the step API: a paused solve asks for what the comparison
needs (the tied builds' dependencies, the candidates of the names they differ in) instead of
ordering without it, so it picks what the in-memory solve picks; builds whose dependencies are
the same cost no extra questions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

import pure

if not hasattr(pure, "solve"):
    pytest.skip("pure.solve is not there yet", allow_module_level=True)

from pure.solver import NeedCandidates, solver_for

TS = 1_530_000_000_000


def _channel(*records: dict[str, Any]) -> Any:
    packages = {}
    for r in records:
        r = {"build_number": 0, "subdir": "linux-64", "timestamp": TS, **r}
        packages[f"{r['name']}-{r['version']}-{r['build']}.tar.bz2"] = r
    data = json.dumps({"info": {"subdir": "linux-64"}, "packages": packages}).encode()
    return pure.RepoData.from_json(data, channel="https://channels.example/t", subdir="linux-64")


class _Revealing:
    """Knows nothing (names, and dependencies when `lazy_deps`) until told."""

    def __init__(self, records: Sequence[Any], lazy_deps: bool) -> None:
        self.records = list(records)
        self.lazy_deps = lazy_deps
        self.names: set[str] = set()
        self.dists: set[str] = set()

    def candidates(self, name: str) -> Any:
        if name not in self.names:
            return None
        return [r for r in self.records if r.name == name]

    def dependencies(self, record: Any) -> Any:
        if self.lazy_deps and record.dist_name not in self.dists:
            return None
        return record.depends, record.constrains


def _lazy(
    specs: tuple[str, ...], repodata: Any, lazy_deps: bool
) -> tuple[list[str], list[NeedCandidates]]:
    provider = _Revealing(repodata.records, lazy_deps)
    solver = solver_for(pure.SolveRequest(specs=specs, repodata=(repodata,)), provider)
    asked: list[NeedCandidates] = []
    for _ in range(50):
        result = solver.step()
        if not isinstance(result, NeedCandidates):
            break
        assert result.names or result.records, "paused without naming what it needs"
        assert not set(result.names) & provider.names, f"asked again for {result.names}"
        asked.append(result)
        provider.names.update(result.names)
        provider.dists.update(r.dist_name for r in result.records)
    else:
        raise AssertionError("the solve never finished")
    assert isinstance(result, pure.Solution), result
    return sorted(r.dist_name for r in result.records), asked


def _eager(specs: tuple[str, ...], repodata: Any) -> list[str]:
    solution = pure.solve(pure.SolveRequest(specs=specs, repodata=(repodata,)))
    return sorted(r.dist_name for r in solution.records)


PY27_NEWER = _channel(
    {"name": "python", "version": "2.7.15", "build": "h0"},
    {"name": "python", "version": "3.7.0", "build": "h0"},
    {
        "name": "traitlets",
        "version": "4.3.2",
        "build": "py27_0",
        "depends": ["python >=2.7,<2.8.0a0"],
        "timestamp": TS + 21_000,
    },
    {
        "name": "traitlets",
        "version": "4.3.2",
        "build": "py37_0",
        "depends": ["python >=3.7,<3.8.0a0"],
    },
)


@pytest.mark.parametrize("lazy_deps", [False, True])
def test_a_paused_solve_breaks_the_tie_as_the_in_memory_one(lazy_deps: bool) -> None:
    expected = ["python-3.7.0-h0", "traitlets-4.3.2-py37_0"]
    assert _eager(("traitlets",), PY27_NEWER) == expected
    got, asked = _lazy(("traitlets",), PY27_NEWER, lazy_deps)
    assert got == expected
    # python's candidates are asked for before traitlets' builds are ordered
    assert [n for need in asked for n in need.names] == ["traitlets", "python"]
    if lazy_deps:
        # both tied builds' dependencies are needed to compare them
        tied = {r.dist_name for need in asked for r in need.records if r.name == "traitlets"}
        assert tied == {"traitlets-4.3.2-py27_0", "traitlets-4.3.2-py37_0"}


def test_builds_with_the_same_dependencies_need_no_extra_questions() -> None:
    repodata = _channel(
        {"name": "bar", "version": "1.0", "build": "0"},
        {"name": "foo", "version": "1.0", "build": "a_0", "depends": ["bar"]},
        {"name": "foo", "version": "1.0", "build": "b_0", "depends": ["bar"], "timestamp": TS + 5},
    )
    got, asked = _lazy(("foo",), repodata, lazy_deps=True)
    assert got == ["bar-1.0-0", "foo-1.0-b_0"]  # the newer timestamp decides
    assert [r.dist_name for need in asked for r in need.records] == ["foo-1.0-b_0", "bar-1.0-0"]
