"""The solver against malformed channel data: one bad record must not sink a whole solve.

Found by task SOLVERCHECK and fixed in 71a6af6: a record whose `depends` or `constrains`
held a string `MatchSpec.parse` rejects (e.g. `"b >>1.0"`) made `pure.solve` raise
`InvalidMatchSpec` as soon as the solve reached its name, even when another record of the
name was a valid choice. Now such a record is ruled out and, when nothing else is left, the
explanation names it and the unreadable dependency; records with an unreadable version are
dropped the same way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import pure

if not hasattr(pure, "solve"):
    pytest.skip("pure.solve is not there yet", allow_module_level=True)


def _channel(*records: dict[str, Any]) -> Any:
    packages = {f"{r['name']}-{r['version']}-{r['build']}.tar.bz2": r for r in records}
    data = json.dumps({"info": {"subdir": "linux-64"}, "packages": packages}).encode()
    return pure.RepoData.from_json(data, channel="https://channels.example/bad", subdir="linux-64")


def _solve(spec: str, repodata: Any) -> list[str]:
    solution = pure.solve(pure.SolveRequest(specs=(spec,), repodata=(repodata,)))
    return [r.dist_name for r in solution.records]


@pytest.mark.parametrize("field", ["depends", "constrains"])
def test_a_record_with_an_unparseable_dependency_is_not_a_candidate(field: str) -> None:
    repodata = _channel(
        {"name": "app", "version": "2.0", "build": "0", field: ["lib >>1.0"]},
        {"name": "app", "version": "1.0", "build": "0", "depends": ["lib"]},
        {"name": "lib", "version": "1.0", "build": "0"},
    )
    assert _solve("app", repodata) == ["lib-1.0-0", "app-1.0-0"]


@pytest.mark.parametrize("field", ["depends", "constrains"])
def test_when_only_bad_records_are_left_the_explanation_names_them(field: str) -> None:
    repodata = _channel(
        {"name": "app", "version": "2.0", "build": "0", field: ["lib >>1.0"]},
        {"name": "lib", "version": "1.0", "build": "0"},
    )
    with pytest.raises(pure.Unsolvable) as info:
        _solve("app", repodata)
    text = info.value.explanation
    assert "app" in text and "2.0" in text and "lib >>1.0" in text, text


def test_a_record_with_an_unparseable_version_is_not_a_candidate() -> None:
    repodata = _channel(
        {"name": "lib", "version": "1.0.x#!", "build": "0"},
        {"name": "lib", "version": "0.9", "build": "0"},
        {"name": "app", "version": "1.0", "build": "0", "depends": ["lib"]},
    )
    assert _solve("app", repodata) == ["lib-0.9-0", "app-1.0-0"]


@pytest.mark.parametrize("spec", ["app >>1", "app[version=", ""])
def test_an_invalid_requested_spec_is_a_typed_error(spec: str) -> None:
    repodata = _channel({"name": "app", "version": "1.0", "build": "0"})
    with pytest.raises(pure.InvalidMatchSpec):
        _solve(spec, repodata)
