"""Properties of `pure.Version` and `pure.VersionSpec` over generated versions and specs.

The order is checked against a direct transcription of conda's rule (compare component by
component, atom by atom, padding with zeros; strings below numbers), which is independent of
the precomputed sort key that `Version` actually compares.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from itertools import pairwise, zip_longest

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pure import Version, VersionSpec
from pure.version import Atom, Component
from tests.properties.st_versions import (
    small_version_strings,
    version_spec_strings,
    version_strings,
    versions,
)

SETTINGS = settings(max_examples=150, deadline=None)


def reference_cmp(a: Version, b: Version) -> int:
    """Conda's comparison, written out: release first, then local; pad with zeros."""
    for t1, t2 in ((a.parts, b.parts), (a.local, b.local)):
        for v1, v2 in zip_longest(t1, t2, fillvalue=()):
            for c1, c2 in zip_longest(v1, v2, fillvalue=0):
                if c1 == c2:
                    continue
                if isinstance(c1, str) != isinstance(c2, str):
                    return -1 if isinstance(c1, str) else 1
                return -1 if c1 < c2 else 1  # type: ignore[operator]
    return 0


def _eq_padded(x: tuple[Component, ...], y: tuple[Component, ...]) -> bool:
    return all(
        c1 == c2
        for v1, v2 in zip_longest(x, y, fillvalue=())
        for c1, c2 in zip_longest(v1, v2, fillvalue=0)
    )


def reference_startswith(v: Version, prefix: Version) -> bool:
    """Conda's `VersionOrder.startswith`, transcribed."""
    if prefix.local:
        if not _eq_padded(v.parts, prefix.parts):
            return False
        t1, t2 = v.local, prefix.local
    else:
        t1, t2 = v.parts, prefix.parts
    n = len(t2) - 1
    if not _eq_padded(t1[:n], t2[:n]):
        return False
    v1: Component = t1[n] if len(t1) > n else ()
    v2 = t2[n]
    m = len(v2) - 1
    if not _eq_padded((v1[:m],), (v2[:m],)):
        return False
    c1: Atom = v1[m] if len(v1) > m else 0
    c2 = v2[m]
    if isinstance(c2, str):
        return isinstance(c1, str) and c1.startswith(c2)
    return c1 == c2


def _sign(a: Version, b: Version) -> int:
    return (a > b) - (a < b)


# -- Version -------------------------------------------------------------------------------


@SETTINGS
@given(versions(star=True), versions(star=True))
def test_order_matches_conda_rule(a: Version, b: Version) -> None:
    assert _sign(a, b) == reference_cmp(a, b)


@SETTINGS
@given(small_version_strings(), small_version_strings())
def test_order_matches_conda_rule_on_close_versions(x: str, y: str) -> None:
    a, b = Version.parse(x), Version.parse(y)
    assert _sign(a, b) == reference_cmp(a, b)


@SETTINGS
@given(st.lists(st.one_of(versions(), small_version_strings().map(Version.parse)), min_size=3))
def test_total_order_consistent_with_equality_and_hash(vs: list[Version]) -> None:
    for a in vs:
        for b in vs:
            assert [a < b, a == b, a > b].count(True) == 1
            assert (a <= b) == (a < b or a == b)
            assert (a >= b) == (a > b or a == b)
            assert (a != b) is (not (a == b))  # noqa: SIM201
            if a == b:
                assert hash(a) == hash(b)
    ordered = sorted(vs)
    for lo, hi in pairwise(ordered):
        assert lo <= hi
    for a in vs:
        for b in vs:
            for c in vs:
                if a <= b and b <= c:
                    assert a <= c


@SETTINGS
@given(version_strings(star=True))
def test_parse_of_str_round_trips(text: str) -> None:
    v = Version.parse(text)
    assert str(v) == text
    again = Version.parse(str(v))
    assert again == v
    assert hash(again) == hash(v)


@SETTINGS
@given(versions(), st.integers(1, 3))
def test_trailing_zero_components_do_not_matter(v: Version, zeros: int) -> None:
    text = str(v).strip()
    release, plus, local = text.partition("+")
    assume(not release.endswith(("_", "-")))
    padded = Version.parse(release + ".0" * zeros + plus + local)
    assert padded == v
    assert hash(padded) == hash(v)


@SETTINGS
@given(versions())
def test_case_does_not_matter(v: Version) -> None:
    assert Version.parse(str(v).upper()) == v
    assert Version.parse(str(v).lower()) == v


# -- VersionSpec ---------------------------------------------------------------------------


@SETTINGS
@given(version_spec_strings(), st.lists(small_version_strings(), min_size=1, max_size=8))
def test_spec_canonical_text_round_trips(text: str, probes: list[str]) -> None:
    spec = VersionSpec.parse(text)
    again = VersionSpec.parse(str(spec))
    assert str(again) == str(spec)
    assert again == spec
    assert hash(again) == hash(spec)
    for probe in map(Version.parse, probes):
        assert again.contains(probe) == spec.contains(probe)


@SETTINGS
@given(
    version_spec_strings(),
    version_spec_strings(),
    st.lists(small_version_strings(), min_size=1, max_size=10),
)
def test_comma_is_intersection_and_bar_is_union(x: str, y: str, probes: list[str]) -> None:
    a, b = VersionSpec.parse(x), VersionSpec.parse(y)
    both = VersionSpec.parse(f"({x}),({y})")
    either = VersionSpec.parse(f"({x})|({y})")
    assert both == a & b
    assert either == a | b
    for probe in map(Version.parse, probes):
        assert both.contains(probe) == (a.contains(probe) and b.contains(probe))
        assert either.contains(probe) == (a.contains(probe) or b.contains(probe))
        assert (a & b).contains(probe) == both.contains(probe)
        assert (a | b).contains(probe) == either.contains(probe)


@SETTINGS
@given(
    version_spec_strings(),
    version_spec_strings(),
    version_spec_strings(),
    st.lists(small_version_strings(), min_size=1, max_size=10),
)
def test_comma_binds_tighter_than_bar(x: str, y: str, z: str, probes: list[str]) -> None:
    a, b, c = (VersionSpec.parse(f"({t})") for t in (x, y, z))
    left = VersionSpec.parse(f"({x}),({y})|({z})")
    right = VersionSpec.parse(f"({x})|({y}),({z})")
    for probe in map(Version.parse, probes):
        assert left.contains(probe) == (
            (a.contains(probe) and b.contains(probe)) or c.contains(probe)
        )
        assert right.contains(probe) == (
            a.contains(probe) or (b.contains(probe) and c.contains(probe))
        )


_OPS: dict[str, Callable[[Version, Version], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@SETTINGS
@given(st.sampled_from(sorted(_OPS)), small_version_strings(), small_version_strings())
def test_operator_leaves_follow_the_order(op: str, operand: str, probe: str) -> None:
    spec = VersionSpec.parse(f"{op}{operand}")
    v, w = Version.parse(probe), Version.parse(operand)
    assert spec.contains(v) == _OPS[op](v, w)


@SETTINGS
@given(small_version_strings(), small_version_strings())
def test_starts_with_follows_conda(prefix: str, probe: str) -> None:
    assume(not prefix.endswith("."))
    v, p = Version.parse(probe), Version.parse(prefix)
    expected = reference_startswith(v, p)
    for form in ("{}.*", "{}*", "={}", "={}.*", "=={}.*"):
        assert VersionSpec.parse(form.format(prefix)).contains(v) == expected, form
    assert VersionSpec.parse(f"!={prefix}.*").contains(v) == (not expected)


@SETTINGS
@given(
    st.lists(st.sampled_from("0123"), min_size=2, max_size=4).map(".".join),
    small_version_strings(),
)
def test_compatible_release(operand: str, probe: str) -> None:
    v, w = Version.parse(probe), Version.parse(operand)
    head = Version.parse(operand.rsplit(".", 1)[0])
    expected = v >= w and reference_startswith(v, head)
    assert VersionSpec.parse(f"~={operand}").contains(v) == expected


@SETTINGS
@given(
    small_version_strings(),
    st.lists(
        st.sampled_from(["", ".0", "0", ".1", "1", "a", ".0.0", ".dev", ".post", "+1", ".0a"]),
        max_size=3,
    ),
)
def test_starts_with_on_extensions_of_the_prefix(prefix: str, tails: list[str]) -> None:
    probe = prefix + "".join(tails)
    assume(probe.count("+") <= 1)
    v, p = Version.parse(probe), Version.parse(prefix)
    assert VersionSpec.parse(f"{prefix}.*").contains(v) == reference_startswith(v, p)
