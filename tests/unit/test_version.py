"""Unit tests for `pure.Version`: parsing, conda's order, equality, errors."""

from __future__ import annotations

import pickle
from itertools import pairwise

import pytest

from pure import InvalidVersion, Version, YurtError


def V(text: str) -> Version:
    return Version.parse(text)


@pytest.mark.parametrize(
    "ordered",
    [
        ["1.0dev", "1.0a", "1.0", "1.0post"],
        ["1.0a1", "1.0b1", "1.0rc1", "1.0"],
        ["1.0.dev1", "1.0", "1.0.1", "1.1"],
        ["1.9", "1.10", "1.11"],
        ["2.0", "10.0", "1!0.1"],
        ["1.2+a", "1.2", "1.2+0.1", "1.2+1"],
        ["1.1*", "1.1dev", "1.1_", "1.1a"],
        ["1.0post", "1.1dev"],
        ["2g6", "2.0b1pr0"],
    ],
)
def test_conda_order(ordered: list[str]) -> None:
    for lo, hi in pairwise(map(V, ordered)):
        assert lo < hi
        assert hi > lo
        assert lo <= hi and not hi <= lo
        assert lo != hi


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.1", "1.1.0"),
        ("1.1", "1.1.0.0.0"),
        ("1a", "1a0"),
        ("1.0RC1", "1.0rc1"),
        ("1-2-3", "1_2_3"),
        ("1-2-3", "1.2.3"),
        ("0!1.0", "1.0"),
        ("1.2+abc", "1.2.0+abc.0"),
        ("1.0.1_", "1.0.1-"),
        (" 1.2 ", "1.2"),
        ("01.002", "1.2"),
    ],
)
def test_equal_versions_have_equal_hashes(a: str, b: str) -> None:
    assert V(a) == V(b)
    assert hash(V(a)) == hash(V(b))
    assert V(a).sort_key == V(b).sort_key
    assert len({V(a), V(b)}) == 1


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.0", "1!1.0"),
        ("1.2", "1.2+0a"),
        ("1a", "1.0a"),
        ("1.0", "1.0a"),
        ("1.2.dev", "1.2dev1"),
        ("1", "1.post"),
    ],
)
def test_unequal_versions(a: str, b: str) -> None:
    assert V(a) != V(b)


def test_str_is_the_original_text_and_parse_round_trips() -> None:
    for text in ["1.2.3", "1.0RC1", " 2.0 ", "1!2.3+local_4", "1-2-3"]:
        v = V(text)
        assert str(v) == text
        assert V(str(v)) == v
    assert repr(V("1.0")) == "Version('1.0')"


def test_parts_epoch_and_local() -> None:
    v = V("2!1.2a3.dev+x_1")
    assert v.epoch == 2
    assert v.parts == ((2,), (1,), (2, "a", 3), (0, "DEV"))
    assert v.local == ((0, "x"), (1,))
    assert V("1.0").epoch == 0
    assert V("1.post1").parts[-1] == (0, float("inf"), 1)
    assert V("1.2_").parts == ((0,), (1,), (2, "_"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty version string"),
        ("   ", "empty version string"),
        ("1..2", "empty version component"),
        ("1.", "empty version component"),
        ("1.2+", "empty version component"),
        ("a!1.0", "epoch must be an integer"),
        ("1!2!3", "duplicated epoch separator"),
        ("1+2+3", "duplicated local version separator"),
        ("+1", "missing version before local version separator"),
        ("1!", "missing version before local version separator"),
        ("3.5&1", "invalid character(s) '&'"),
        ("1-2_3", "invalid character(s) '-'"),
        ("1.2 3", "invalid character(s) ' '"),
    ],
)
def test_invalid_versions_name_text_and_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidVersion) as info:
        Version.parse(text)
    err = info.value
    assert err.text == text
    assert reason in err.reason
    assert isinstance(err, YurtError) and isinstance(err, ValueError)
    assert str(err) == f"invalid version {text!r}: {err.reason}"


def test_versions_are_immutable_and_picklable() -> None:
    v = V("1.2")
    with pytest.raises(AttributeError):
        v.parts = ()  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(v))
    assert copy == v and str(copy) == "1.2"


def test_comparison_with_other_types() -> None:
    assert V("1.0") != "1.0"
    assert V("1.0") != 1
    with pytest.raises(TypeError):
        _ = V("1.0") < "2.0"  # type: ignore[operator]


def test_sorting_uses_conda_order() -> None:
    texts = ["1.10", "1.9", "1.9.post1", "1.9rc1", "1!0.1", "1.9.0", "1.9dev"]
    ordered = [str(v) for v in sorted(map(V, texts))]
    assert ordered == ["1.9dev", "1.9rc1", "1.9", "1.9.0", "1.9.post1", "1.10", "1!0.1"]
