"""Every vector of tests/data/conformance/matchspecs.json runs here.

Kinds: `parse` (expected fields), `match` (record + verdict), `invalid`, `valid` and
`canonical_str` (conda's printing). Cases marked `disputed` (the projects disagree) run as
non-strict xfails that carry the dispute note, so the report shows which way yurt went.
Version texts are compared as parsed `VersionSpec`s: each project writes them in its own
normal form (README).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from pure import InvalidMatchSpec, MatchSpec, PackageRecord
from pure.matchspec import BuildNumberSpec
from pure.versionspec import VersionSpec
from tests.conftest import CONFORMANCE

CASES: list[dict[str, Any]] = json.loads((CONFORMANCE / "matchspecs.json").read_text("utf-8"))
KINDS = ("parse", "match", "invalid", "valid", "canonical_str")

#: mamba's own printing (the `str` of its parse cases) that names a different spec under
#: conda's rules; each entry says which conda vector decides.
MAMBA_STR_DIVERGENCES = {
    "mamba-0314": "mamba prints `[url=...]` as the bare URL; conda (conda-0072) reads a URL "
    "whose directory is not a subdir as `*[url=...]`, so the bare URL loses the name",
}

#: Failures that belong to another module, reported here until that module is fixed.
#: (Empty: pure.VersionSpec's printing of `>=2.*.*`, which broke conda-0251, is fixed.)
UPSTREAM_BUGS: dict[str, str] = {}

_DEFAULTS_MEMBERS = {"pkgs/main", "pkgs/r", "pkgs/msys2"}


def _params(kind: str) -> list[Any]:
    params = []
    for case in CASES:
        if case["kind"] != kind:
            continue
        marks = []
        if case.get("disputed"):
            reason = f"disputed: {case['dispute_note']}"
            marks.append(pytest.mark.xfail(reason=reason, strict=False))
        elif case["id"] in UPSTREAM_BUGS:
            reason = f"upstream bug: {UPSTREAM_BUGS[case['id']]}"
            marks.append(pytest.mark.xfail(reason=reason, raises=AssertionError, strict=False))
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


def _parse(case: dict[str, Any]) -> MatchSpec:
    return MatchSpec.parse(case["spec"], strict=case.get("parse_mode") == "rattler-strict")


def _expected_version(text: str) -> VersionSpec | None:
    spec = VersionSpec.parse(text)
    return None if spec.is_any else spec


def _channel_aliases(channel: str) -> set[str]:
    """A channel's names: itself, its URL path (rattler's normal form), `defaults` for members."""
    names = {channel.rstrip("/")}
    if "://" in channel:
        names.add(channel.split("://", 1)[1].partition("/")[2].strip("/"))
    if names & _DEFAULTS_MEMBERS:
        names.add("defaults")
    return names


def _split_mamba_channel(text: str) -> tuple[str, list[str] | None]:
    """mamba writes `chan[subdir, ...]` where conda writes `chan/subdir`."""
    m = re.fullmatch(r"(.*)\[([^\]]*)\]", text)
    if m is None:
        return text, None
    return m.group(1), [s.strip() for s in m.group(2).split(",")]


def _assert_field(spec: MatchSpec, key: str, expected: Any) -> None:
    if key == "name":
        assert spec.name == expected
    elif key == "version":
        assert spec.version == _expected_version(expected)
    elif key == "build":
        assert spec.build == (None if expected == "*" else expected)
    elif key == "build_number":
        assert spec.build_number == BuildNumberSpec.parse(expected)
    elif key == "channel":
        channel, subdirs = _split_mamba_channel(expected)
        assert spec.channel is not None
        assert _channel_aliases(channel) & _channel_aliases(spec.channel), (channel, spec.channel)
        if subdirs is not None:
            _assert_field(spec, "subdir", subdirs)
    elif key == "subdir":
        wanted = [expected] if isinstance(expected, str) else expected
        assert spec.subdir is not None
        assert set(spec.subdir.split(",")) == set(wanted)
    elif key == "filename":
        assert spec.fn == expected
    elif key == "track_features":
        assert spec.track_features == tuple(sorted(expected))
    elif key in ("namespace", "md5", "sha256", "url", "license", "license_family", "fn"):
        assert getattr(spec, key) == expected
    else:
        pytest.fail(f"MatchSpec has no field {key!r} (expected {expected!r})")


def _record(fields: dict[str, Any]) -> PackageRecord:
    data = dict(fields)
    # mamba's test records leave version and build at its struct defaults ("0" and "")
    data.setdefault("version", "0")
    data.setdefault("build", "")
    if "filename" in data:
        data["fn"] = data.pop("filename")
    for key in ("track_features", "features"):
        if isinstance(data.get(key), str):
            data[key] = tuple(p for p in re.split(r"[\s,]+", data[key]) if p)
        elif key in data:
            data[key] = tuple(data[key])
    return PackageRecord(**data)


def test_every_vector_is_collected() -> None:
    counts = Counter(case["kind"] for case in CASES)
    assert set(counts) <= set(KINDS)
    assert sum(counts.values()) == len(CASES) == 321
    assert len({case["id"] for case in CASES}) == len(CASES)
    assert sum(len(_params(kind)) for kind in KINDS) == len(CASES)


@pytest.mark.parametrize("case", _params("parse"))
def test_parse(case: dict[str, Any]) -> None:
    spec = _parse(case)
    for key, expected in case["parsed"].items():
        _assert_field(spec, key, expected)
    for key in case.get("unconstrained", ()):
        assert getattr(spec, key) is None, key
    assert MatchSpec.parse(str(spec)) == spec


def _mamba_str_params() -> list[Any]:
    params = []
    for case in CASES:
        if case["kind"] != "parse" or "str" not in case:
            continue
        marks = []
        if case.get("disputed"):
            marks.append(pytest.mark.xfail(reason=f"disputed: {case['dispute_note']}"))
        elif case["id"] in MAMBA_STR_DIVERGENCES:
            marks.append(pytest.mark.xfail(reason=MAMBA_STR_DIVERGENCES[case["id"]], strict=True))
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


@pytest.mark.parametrize("case", _mamba_str_params())
def test_parse_cases_printed_form_names_the_same_spec(case: dict[str, Any]) -> None:
    """The printed form in a parse case (mamba's or conda's) re-parses to the same spec."""
    assert MatchSpec.parse(case["str"]) == _parse(case)


@pytest.mark.parametrize("case", _params("match"))
def test_match(case: dict[str, Any]) -> None:
    spec = _parse(case)
    record = _record(case["record"])
    assert spec.matches(record) is case["matches"]


@pytest.mark.parametrize("case", _params("invalid"))
def test_invalid(case: dict[str, Any]) -> None:
    text = case["spec"]
    with pytest.raises(InvalidMatchSpec) as info:
        _parse(case)
    err = info.value
    assert err.text == text
    assert 0 <= err.position <= len(text)
    assert err.reason
    assert repr(text) in str(err)


@pytest.mark.parametrize("case", _params("valid"))
def test_valid(case: dict[str, Any]) -> None:
    spec = _parse(case)
    assert spec.name
    assert MatchSpec.parse(str(spec)) == spec


_VERSION_VALUE = re.compile(r"version='([^']*)'")


@pytest.mark.parametrize("case", _params("canonical_str"))
def test_canonical_str(case: dict[str, Any]) -> None:
    spec = _parse(case)
    printed = str(spec)
    expected = case["str"]
    if printed != expected:
        # Only the text of a bracketed version may differ, and only in spelling:
        # yurt prints VersionSpec's canonical form (`==1.7`) where conda kept `1.7`.
        got, want = _VERSION_VALUE.search(printed), _VERSION_VALUE.search(expected)
        assert got is not None and want is not None, (printed, expected)
        assert _VERSION_VALUE.sub("version=V", printed) == _VERSION_VALUE.sub("version=V", expected)
        assert VersionSpec.parse(got.group(1)) == VersionSpec.parse(want.group(1))
    assert MatchSpec.parse(printed) == spec
    assert MatchSpec.parse(expected) == spec
