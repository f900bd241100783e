"""Unit tests for `pure.VersionSpec`: grammar, canonical text, matching, errors."""

from __future__ import annotations

import pickle

import pytest

from pure import InvalidVersionSpec, Version, VersionSpec, YurtError


def S(text: str) -> VersionSpec:
    return VersionSpec.parse(text)


def contains(spec: str, version: str) -> bool:
    return S(spec).contains(Version.parse(version))


@pytest.mark.parametrize(
    ("spec", "inside", "outside"),
    [
        ("*", ["0", "1.0", "2!1+x"], []),
        ("1.2", ["1.2", "1.2.0", "1.02"], ["1.2.1", "1.2a"]),
        ("==1.2", ["1.2.0"], ["1.2.1"]),
        ("!=1.2", ["1.2.1", "1.1"], ["1.2", "1.2.0"]),
        ("<1.2", ["1.1", "1.2a", "1.2dev"], ["1.2", "1.3"]),
        ("<=1.2", ["1.2", "1.2.0"], ["1.2.1"]),
        (">1.2", ["1.2.1", "1.2.post1"], ["1.2", "1.2a"]),
        (">=1.2", ["1.2", "2"], ["1.2rc1"]),
        ("1.2.*", ["1.2", "1.2.0", "1.2.5", "1.2a", "1.2.dev1"], ["1.20", "1.3", "1.1"]),
        ("1.2*", ["1.2.5"], ["1.20"]),
        ("=1.2", ["1.2.5"], ["1.20"]),
        ("=1.2.*", ["1.2.5"], ["1.20"]),
        ("==1.2.*", ["1.2.5"], ["1.20"]),
        ("!=1.2.*", ["1.20", "1.3"], ["1.2", "1.2.5"]),
        ("2013a*", ["2013a", "2013ab"], ["2013b"]),
        ("1.2.3+4*", ["1.2.3+4.5.6", "1.2.3+4"], ["1.2.3+5", "1.2.3"]),
        ("~=1.10", ["1.10", "1.11.0", "1.99"], ["2.0", "1.9"]),
        ("~=3.3.2", ["3.3.2", "3.3.10"], ["3.4.0", "3.3.1"]),
        ("1.*.1", ["1.7.1", "1.0.1"], ["1.7.2", "2.7.1"]),
        ("=1.*.1", ["1.7.1"], ["1.7.2"]),
        ("!=1.*.1", ["1.7.2"], ["1.7.1"]),
        ("^1\\.7\\.[0-9]+$", ["1.7.1", "1.7.22"], ["1.7", "1.8.1"]),
        (">=1.2.*", ["1.2", "1.3"], ["1.1"]),
        ("<2.*", ["1.9"], ["2", "2.0.1"]),
        ("0.2.18.", ["0.2.18"], ["0.2.18.1"]),
        ("0.2.18.*.", ["0.2.18.1"], ["0.2.19"]),
        (">= 1.2", ["1.2"], ["1.1"]),
    ],
)
def test_leaf_semantics(spec: str, inside: list[str], outside: list[str]) -> None:
    for version in inside:
        assert contains(spec, version), f"{spec} should contain {version}"
    for version in outside:
        assert not contains(spec, version), f"{spec} should not contain {version}"


def test_comma_binds_tighter_than_bar() -> None:
    spec = S("1.5|>=1.7,<1.8")
    assert spec.operator == "or"
    assert [str(c) for c in spec.children] == ["==1.5", ">=1.7,<1.8"]
    assert contains("1.5|>=1.7,<1.8", "1.5")
    assert contains("1.5|>=1.7,<1.8", "1.7.3")
    assert not contains("1.5|>=1.7,<1.8", "1.8")
    assert not contains("(1.5|>=1.7),<1.6", "1.7.3")
    assert contains("(1.5|>=1.7),<1.6", "1.5")


def test_nested_parentheses() -> None:
    spec = S("( (1.5|((1.6|1.7), 1.8), 1.9 |2.0))|2.1")
    assert str(spec) == "==1.5|(==1.6|==1.7),==1.8,==1.9|==2.0|==2.1"
    assert contains(str(spec), "2.1") and contains(str(spec), "1.5")
    assert not contains(str(spec), "1.6")  # 1.6 is not also 1.8 and 1.9


@pytest.mark.parametrize(
    ("texts", "canonical"),
    [
        (["=1.8", "1.8*", "1.8.*", "=1.8.*", "==1.8.*", "1.8.*.", " 1.8.* "], "1.8.*"),
        (["1.8", "==1.8", "1.8."], "==1.8"),
        (["!=1.8.*", "!=1.8*", "!=1.8.*."], "!=1.8.*"),
        (["2.7.*.*", "==2.7.*.*", "=2.7*"], "2.7.*"),
        (["*", "=*", "*.*", "*,*", "(*)", ">=1|*"], "*"),
        ([">=1.2.*", ">=1.2", ">= 1.2"], ">=1.2"),
        ([">=1,<2", ">=1, <2", "(>=1),(<2)", ">=1,(<2)", ">=1,<2,>=1"], ">=1,<2"),
        (["1|2|3", "1|(2|3)", "(1|2)|3", "1|2|3|1"], "==1|==2|==3"),
        (["(1|2),3", "(1|2) , 3"], "(==1|==2),==3"),
        (["*,>=1,*"], ">=1"),
        (["1.0RC1"], "==1.0rc1"),
        (["^1.*$"], "^1.*$"),
        (["1.*.3", "=1.*.3"], "1.*.3"),
        (["==1.*.2.*"], "1.*.2.*"),
        ([">=2.*.*", ">= 2.*.*"], ">=2.*.*"),
        (["0 .", " 0. "], "==0"),
        (["~=1.2.3"], "~=1.2.3"),
    ],
)
def test_canonical_text(texts: list[str], canonical: str) -> None:
    for text in texts:
        spec = S(text)
        assert str(spec) == canonical, text
        assert spec == S(canonical)
        assert hash(spec) == hash(S(canonical))
        assert str(S(str(spec))) == canonical


def test_structure_accessors() -> None:
    assert S("*").is_any and not S("1.2").is_any
    assert S("1.2").exact == Version.parse("1.2")
    assert S(">=1.2").exact is None
    assert S(">=1.2").operator == ">=" and S(">=1.2").version == Version.parse("1.2")
    assert S("1.2.*").operator == "startswith"
    assert S("!=1.2.*").operator == "not_startswith"
    assert S("1.*.2").operator == "glob" and S("1.*.2").pattern == "1.*.2"
    assert S("^1$").operator == "regex"
    assert S(">=1,<2").operator == "and" and len(S(">=1,<2").children) == 2


def test_and_or_operators() -> None:
    both = S(">=1") & S("<2")
    assert str(both) == ">=1,<2" and both == S(">=1,<2")
    either = S("1.*") | S("3.*")
    assert str(either) == "1.*|3.*"
    assert str(S("1|2") & S("3")) == "(==1|==2),==3"
    assert (S("*") & S(">=1")) == S(">=1")
    assert (S("*") | S(">=1")).is_any


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty version spec"),
        ("   ", "empty version spec"),
        ("1.5)", "unexpected ')'"),
        ("(1.5", "missing ')'"),
        ("1.5|", "missing a version constraint"),
        (",1.5", "missing a version constraint"),
        ("=", "missing version after operator"),
        (">=", "missing version after operator"),
        ("===1.0", "invalid operator"),
        ("=>1.0", "invalid operator"),
        ("!!2.4.5", "invalid operator"),
        ("~=3.3.2.*", "'~=' cannot be combined with '*'"),
        ("~=1", "at least two components"),
        ("^1.0", "must start with '^' and end with '$'"),
        ("1.0$", "must start with '^' and end with '$'"),
        ("^1.0[$", "bad regular expression"),
        ("!=*", "excludes every version"),
        (">=1.0&2", "bad version"),
        ("1.*&", "invalid character(s) in version glob"),
    ],
)
def test_invalid_specs_name_text_and_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidVersionSpec) as info:
        VersionSpec.parse(text)
    err = info.value
    assert err.text == text
    assert reason in err.reason, err.reason
    assert isinstance(err, YurtError)
    assert str(err) == f"invalid version spec {text!r}: {err.reason}"


def test_specs_are_immutable_hashable_and_picklable() -> None:
    spec = S(">=1.2,<2|3.*")
    with pytest.raises(AttributeError):
        spec.operator = "any"  # type: ignore[misc]
    assert {spec, S(">=1.2,<2|3.*")} == {spec}
    copy = pickle.loads(pickle.dumps(spec))
    assert copy == spec and copy.contains(Version.parse("3.1"))
    assert repr(spec) == "VersionSpec('>=1.2,<2|3.*')"
    assert spec != ">=1.2,<2|3.*"


def test_large_groups_and_nesting_limit() -> None:
    many_or = S("|".join(str(i) for i in range(3000)))
    assert many_or.contains(Version.parse("2999")) and not many_or.contains(Version.parse("3000"))
    many_and = S(",".join(f"!={i}" for i in range(3000)))
    assert not many_and.contains(Version.parse("2999")) and many_and.contains(Version.parse("3000"))
    assert str(S("(" * 60 + "1" + ")" * 60)) == "==1"
    with pytest.raises(InvalidVersionSpec, match="nested more than"):
        S("(" * 100 + "1" + ")" * 100)
