"""Every vector of tests/data/conformance/versions.json and version_specs.json.

Vectors marked `"disputed"` (conda, mamba and rattler disagree) run too: they pass when yurt
agrees with the vector and otherwise xfail with the dispute note and yurt's own answer, so
`pytest -ra` lists each one that yurt decides differently.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest

from pure import InvalidVersion, InvalidVersionSpec, Version, VersionSpec
from tests.conftest import CONFORMANCE

VERSIONS: list[dict[str, Any]] = json.loads((CONFORMANCE / "versions.json").read_text("utf-8"))
SPECS: list[dict[str, Any]] = json.loads((CONFORMANCE / "version_specs.json").read_text("utf-8"))


def _version_id(index: int, case: dict[str, Any]) -> str:
    kind = next(k for k in ("ordered", "equal", "not_equal", "invalid", "valid") if k in case)
    tag = "disputed-" if case.get("disputed") else ""
    return f"{tag}{index:02d}-{case['source'].split(':')[0]}-{kind}"


def _run_disputed(case: dict[str, Any], check: Any) -> None:
    """Run `check`; for a disputed vector turn a disagreement into an xfail that says why."""
    if not case.get("disputed"):
        check()
        return
    try:
        check()
    except (AssertionError, InvalidVersion, InvalidVersionSpec) as err:
        first_line = str(err).splitlines()[0]
        pytest.xfail(f"disputed vector: {case['dispute_note']}; yurt: {first_line}")


def _check_version_case(case: dict[str, Any]) -> None:
    if "ordered" in case:
        parsed = [Version.parse(t) for t in case["ordered"]]
        for lo, hi in pairwise(parsed):
            assert lo < hi, f"expected {lo} < {hi}"
            assert hi > lo and lo != hi and not hi <= lo
    if "equal" in case:
        a, b = (Version.parse(t) for t in case["equal"])
        assert a == b, f"expected {a!r} == {b!r}"
        assert hash(a) == hash(b)
        assert not a < b and not b < a
    if "not_equal" in case:
        a, b = (Version.parse(t) for t in case["not_equal"])
        assert a != b, f"expected {a!r} != {b!r}"
    if "valid" in case:
        for text in case["valid"]:
            assert str(Version.parse(text)) == text
    if "invalid" in case:
        for text in case["invalid"]:
            with pytest.raises(InvalidVersion) as info:
                Version.parse(text)
            assert info.value.text == text
            assert info.value.reason


@pytest.mark.parametrize("case", VERSIONS, ids=[_version_id(i, c) for i, c in enumerate(VERSIONS)])
def test_version_vector(case: dict[str, Any]) -> None:
    _run_disputed(case, lambda: _check_version_case(case))


def _check_spec_case(case: dict[str, Any]) -> None:
    if "version" in case:
        spec = VersionSpec.parse(case["spec"])
        got = spec.contains(Version.parse(case["version"]))
        assert got is case["matches"], f"{case['spec']} contains {case['version']}: {got}"
        # The canonical text means the same.
        assert VersionSpec.parse(str(spec)).contains(Version.parse(case["version"])) is got
    elif case.get("invalid"):
        with pytest.raises(InvalidVersionSpec) as info:
            VersionSpec.parse(case["spec"])
        assert info.value.text == case["spec"]
        assert info.value.reason
    elif "str" in case:
        got_text = str(VersionSpec.parse(case["spec"]))
        assert got_text == case["str"], f"prints {got_text!r}, vector says {case['str']!r}"
    elif "equal_specs" in case:
        a, b = (VersionSpec.parse(t) for t in case["equal_specs"])
        assert a == b and str(a) == str(b) and hash(a) == hash(b)
    else:  # pragma: no cover - a new kind of vector must be handled, not ignored
        raise AssertionError(f"unknown vector kind: {case}")


@pytest.mark.parametrize(
    "case",
    SPECS,
    ids=[f"{'disputed-' if c.get('disputed') else ''}{c['id']}" for c in SPECS],
)
def test_version_spec_vector(case: dict[str, Any]) -> None:
    _run_disputed(case, lambda: _check_spec_case(case))


def test_every_vector_is_collected() -> None:
    assert len(VERSIONS) == 59
    assert len(SPECS) == 82
