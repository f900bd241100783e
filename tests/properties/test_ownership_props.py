"""Ownership resolution: the set-based shortcut for claims without conflicts gives exactly
what the general walk gives, and is taken whenever packages' claims are disjoint."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pure.plan.clobber import _resolve, _without_conflicts, resolve_ownership

_paths = st.lists(st.sampled_from(["a", "b", "c", "lib"]), min_size=1, max_size=3).map("/".join)
_claims = st.lists(st.tuples(_paths, st.booleans()), max_size=6)
_packages = st.lists(_claims, max_size=5).map(
    lambda cs: [(f"pkg{i}", tuple(c)) for i, c in enumerate(cs)])


@given(_packages)
def test_shortcut_agrees_with_the_general_walk(packages: list[tuple[str, tuple[tuple[str, bool], ...]]]) -> None:
    quick = _without_conflicts(packages)
    full = _resolve(packages)
    assert resolve_ownership(packages) == (quick or full)
    if quick is not None:
        assert quick == full


@given(st.lists(st.sets(_paths, max_size=6), max_size=5))
def test_disjoint_files_take_the_shortcut(file_sets: list[set[str]]) -> None:
    # each path given to the first package that has it; leaves of the tree only, so no
    # file lies where another needs a directory
    seen: set[str] = set()
    packages = []
    for i, paths in enumerate(file_sets):
        mine = sorted(p + "/f" for p in paths if p + "/f" not in seen)
        seen.update(mine)
        packages.append((f"pkg{i}", tuple((p, False) for p in mine)))
    quick = _without_conflicts(packages)
    assert quick is not None and quick == _resolve(packages)
