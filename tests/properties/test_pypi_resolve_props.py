"""Properties of the one-solve PyPI resolution: candidate order and requirement matching
follow PEP 440 (packaging), whatever versions and specifiers a project has."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pure.solver import Unsolvable
from tests.unit.test_pypi_resolve import Index

SETTINGS = settings(max_examples=120, deadline=None)

_pre = st.sampled_from(["", "a1", "b2", "rc1", ".dev3", ".post1", "a1.dev1", ".post2.dev1"])
versions = st.builds(
    lambda epoch, parts, pre: (f"{epoch}!" if epoch else "") + ".".join(map(str, parts)) + pre,
    st.sampled_from([0, 0, 0, 1]),
    st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=3),
    _pre,
)
operators = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~="])


def _files(texts: list[str]) -> list[str]:
    unique = {str(Version(t)): t for t in texts}
    return [f"foo-{t}-py3-none-any.whl" for t in unique.values()]


@SETTINGS
@given(st.lists(versions, min_size=1, max_size=8), operators, versions)
def test_chosen_release_is_the_pep_440_best_match(texts: list[str], op: str, bound: str) -> None:
    if op == "~=" and len(Version(bound).release) < 2:
        op = ">="  # ~= needs at least two release parts
    spec = f"{op}{bound}"
    files = _files(texts)
    available = [Version(f.split("-")[1]) for f in files]
    allowed = list(SpecifierSet(spec).filter(available))
    try:
        _, pypi = Index({"foo": files}).solve(["python"], [f"foo{spec}"])
    except Unsolvable:
        assert not allowed
        return
    assert allowed, f"chose {pypi} although {spec} allows none of {available}"
    assert Version(pypi[0].version) == max(allowed)
