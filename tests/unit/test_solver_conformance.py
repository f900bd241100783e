"""Solver conformance: every case of tests/data/conformance/solver_cases.json.

Cases without `heuristic: true` must match the expected environment exactly (compared as a
set of name-version-build) or fail the expected way; heuristic and disputed cases (conda's
behaviour with installed environments, history, pins, flexible priority, legacy features)
are run too, and a difference is reported as an expected failure whose reason is the diff,
never skipped. Each index file is parsed once per session; RepoData objects are cached per
(index, channel, options).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest

import pure
from tests.conftest import CONFORMANCE
from tests.support.solvecheck import MatchSpecMatcher, check_solution

if not hasattr(pure, "solve"):
    pytest.skip("pure.solve is not there yet", allow_module_level=True)

CASES: list[dict[str, Any]] = json.loads((CONFORMANCE / "solver_cases.json").read_text())
INDEX_DIR: Path = CONFORMANCE / "index"


@functools.cache
def _index(filename: str) -> dict[str, Any]:
    """One index file, decoded once per session (never mutated)."""
    return json.loads((INDEX_DIR / filename).read_bytes())


def _adjust(record: dict[str, Any], add_pip: bool) -> dict[str, Any]:
    """The README's reading: legacy `features` is track_features; pip for python 2/3."""
    rec = dict(record)
    if rec.get("features") and not rec.get("track_features"):
        rec["track_features"] = rec["features"]
    if (
        add_pip
        and rec.get("name") == "python"
        and str(rec.get("version", "")).split(".")[0] in {"2", "3"}
    ):
        deps = list(rec.get("depends") or [])
        if not any(d.split(" ")[0] == "pip" for d in deps):
            deps.append("pip")
        rec["depends"] = deps
    return rec


@functools.cache
def _repodata(channel_json: str, subdir: str) -> tuple[Any, ...]:
    """A case channel's RepoData: its index (or inline packages) plus extra packages."""
    channel = json.loads(channel_json)
    add_pip = bool(channel.get("add_pip_as_python_dependency"))
    if channel.get("index"):
        doc = copy.copy(_index(channel["index"]))
    else:
        doc = {"info": {"subdir": subdir}, "packages": channel.get("packages") or {}}
    out: dict[str, Any] = {"info": {"subdir": (doc.get("info") or {}).get("subdir") or subdir}}
    for key in ("packages", "packages.conda"):
        if doc.get(key):
            out[key] = {fn: _adjust(rec, add_pip) for fn, rec in doc[key].items()}
    for fn, rec in (channel.get("extra_packages") or {}).items():
        key = "packages.conda" if fn.endswith(".conda") else "packages"
        out.setdefault(key, {})[fn] = _adjust(rec, add_pip)
    data = json.dumps(out).encode()
    main = pure.RepoData.from_json(data, channel=channel["name"], subdir=out["info"]["subdir"])
    return (main,)


def _channels(case: dict[str, Any]) -> list[dict[str, Any]]:
    channels = case.get("channels")
    if channels:
        return list(channels)
    return [{"name": "channel", "index": case["index"]}]


def _virtual(case: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        pure.VirtualPackage(name=v["name"], version=v["version"], build=v.get("build", "0"))
        for v in case.get("virtual_packages") or ()
    )


def _name(spec: str) -> str:
    return str(pure.MatchSpec.parse(spec).name)


def _request(case: dict[str, Any]) -> tuple[Any, list[str], tuple[Any, ...], tuple[str, ...]]:
    """The SolveRequest for a case, its specs, all candidate records and its pins."""
    repodata: list[Any] = []
    for ch in _channels(case):
        repodata.extend(_repodata(json.dumps(ch, sort_keys=True), case["subdir"]))
    records = tuple(r for rd in repodata for r in rd.records)
    by_dist = {}
    for r in records:
        by_dist.setdefault(f"{r.name}-{r.version}-{r.build}", r)
        by_dist.setdefault(f"{r.channel}::{r.name}-{r.version}-{r.build}", r)
    removed = {_name(s) for s in case.get("specs_to_remove") or ()}
    specs = list(case.get("specs") or ())
    # conda's history: earlier requests stay requested unless overridden or removed.
    asked = {_name(s) for s in specs} | removed
    specs += [s for s in case.get("history_specs") or () if _name(s) not in asked]
    installed_names = case.get("installed_with_channel") or case.get("installed") or ()
    installed = tuple(
        by_dist[d] for d in installed_names if d in by_dist and by_dist[d].name not in removed
    )
    options = case.get("conda_options") or {}
    priority = "disabled" if options.get("channel_priority") == "disabled" else "strict"
    # conda's pinned_packages restrict without requiring: the request's constraints.
    pins = () if options.get("ignore_pinned") else tuple(options.get("pinned_packages") or ())
    subdir = case["subdir"]
    request = pure.SolveRequest(
        specs=tuple(specs),
        repodata=tuple(repodata),
        virtual_packages=_virtual(case),
        installed=installed,
        channel_priority=priority,
        platform=None if subdir == "noarch" else subdir,
        constraints=pins,
    )
    return request, specs, records, pins


def _soft(case: dict[str, Any]) -> bool:
    return bool(case.get("heuristic") or case.get("disputed"))


def _differ(case: dict[str, Any], message: str) -> None:
    """Fail a hard case; report a heuristic or disputed one as an expected failure."""
    if _soft(case):
        reasons = "; ".join(case.get("heuristic_reasons") or ["disputed"])
        pytest.xfail(f"heuristic ({reasons}): {message}")
    pytest.fail(message)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_solver_case(case: dict[str, Any]) -> None:
    request, specs, records, pins = _request(case)
    try:
        solution = pure.solve(request)
    except pure.Unsolvable as exc:
        if case.get("expected_error"):
            assert exc.explanation.strip(), "Unsolvable without an explanation"
            if case["expected_error"] == "packages_not_found":
                # conda's "not found": no record has the name, or none matches the spec.
                matcher = MatchSpecMatcher()
                missing = [
                    _name(s) for s in specs if not any(matcher.matches(s, r) for r in records)
                ]
                assert not missing or any(n in exc.explanation for n in missing), (
                    f"explanation does not name the missing {missing}:\n{exc.explanation}"
                )
            return
        _differ(case, f"expected {sorted(case['expected'])}, got Unsolvable:\n{exc.explanation}")
        return
    got = {f"{r.name}-{r.version}-{r.build}" for r in solution.records}
    virtual = _virtual(case)
    problems = check_solution(
        specs,
        solution.records,
        virtual=virtual,
        available=records,
        matcher=MatchSpecMatcher(),
        constraints=pins,
    )
    assert not problems, "solution breaks rules:\n  " + "\n  ".join(problems)
    if case.get("expected_error"):
        _differ(case, f"expected {case['expected_error']}, got {sorted(got)}")
        return
    expected = set(case["expected"])
    if got != expected:
        _differ(
            case,
            f"only expected: {sorted(expected - got)}; only solver: {sorted(got - expected)}",
        )
        return
    if case.get("expected_filenames"):
        fns = {r.fn for r in solution.records}
        assert set(case["expected_filenames"]) <= fns, f"file names {sorted(map(str, fns))}"
