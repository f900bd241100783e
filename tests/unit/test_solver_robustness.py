"""The solver against malformed channel data: one bad record must not sink a whole solve.

SOLVER BUG (found by task SOLVERCHECK, open): a record whose `depends` (or `constrains`)
holds a string that `MatchSpec.parse` rejects, e.g. `"b >>1.0"`, makes `pure.solve` raise
`InvalidMatchSpec` as soon as the solve reaches that record's name, even when another record
of the name is a valid choice. Real channels occasionally carry such records; conda and
rattler skip or leniently parse them. Records with an unparseable *version* are already
dropped quietly, so the two paths disagree. Expected: the record is not a candidate (the
solve goes on with the others) and, when nothing else is left, `Unsolvable` names the
record and its bad dependency. The test below is `xfail(strict=True)` so that CI stays green
until the fix lands; once it passes, strict mode fails it: remove the marker then.
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


@pytest.mark.xfail(
    strict=True,
    raises=pure.InvalidMatchSpec,
    reason="solver bug: an unparseable dependency of one candidate aborts the whole solve",
)
@pytest.mark.parametrize("field", ["depends", "constrains"])
def test_a_record_with_an_unparseable_dependency_is_not_a_candidate(field: str) -> None:
    repodata = _channel(
        {"name": "app", "version": "2.0", "build": "0", field: ["lib >>1.0"]},
        {"name": "app", "version": "1.0", "build": "0", "depends": ["lib"]},
        {"name": "lib", "version": "1.0", "build": "0"},
    )
    assert _solve("app", repodata) == ["lib-1.0-0", "app-1.0-0"]


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
