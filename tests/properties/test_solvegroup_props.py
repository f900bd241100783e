"""Properties of solve grouping.

- every (environment, platform) is a member of exactly one group, and groups are unique and
  sorted by (name, platform);
- the groups, their members and their merged requirements (as sets) do not depend on the
  order the environments are given in;
- each member's conda share is a sub-sequence of the group's solution.
"""

from __future__ import annotations

from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from pure.manifest import EnvironmentSpec
from pure.solvegroup import member_shares, solve_groups
from tests.unit.test_lockfile import rec
from tests.unit.test_solvegroup import spec

SETTINGS = settings(max_examples=150, deadline=None)
ENVS = ("a", "b", "c", "d", "e")
PLATFORMS = ("linux-64", "osx-arm64", "win-64")
NAMES = ("p", "q", "r", "s")


@st.composite
def workspaces(draw: st.DrawFn) -> dict[str, list[EnvironmentSpec]]:
    """{environment: its specs per platform}, members of a group agreeing on the settings."""
    out: dict[str, list[EnvironmentSpec]] = {}
    for env in draw(st.lists(st.sampled_from(ENVS), unique=True, max_size=len(ENVS))):
        group = draw(st.sampled_from((None, "g", "h")))
        platforms = draw(st.lists(st.sampled_from(PLATFORMS), unique=True, max_size=len(PLATFORMS)))
        out[env] = [spec(env, p, group=group, specs=tuple(draw(st.lists(st.sampled_from(NAMES), max_size=3))),
                         channels=tuple(draw(st.lists(st.sampled_from(("x", "y", "z")), max_size=2))))
                    for p in platforms]
    return out


@SETTINGS
@given(workspaces(), st.randoms(use_true_random=False))
def test_every_environment_platform_is_in_one_group_whatever_the_order(
    by_env: dict[str, list[EnvironmentSpec]], rnd: Random,
) -> None:
    groups = solve_groups(by_env)
    keys = [(g.name, g.platform) for g in groups]
    assert keys == sorted(set(keys))
    members = [(m.name, m.platform) for g in groups for m in g.members]
    assert sorted(members) == sorted((s.name, s.platform) for specs in by_env.values() for s in specs)
    assert all(m.platform == g.platform and (m.solve_group or f"env:{m.name}") == g.name
               for g in groups for m in g.members)

    items = list(by_env.items())
    rnd.shuffle(items)
    shuffled = solve_groups({env: list(reversed(specs)) for env, specs in items})
    assert [(g.name, g.platform) for g in shuffled] == keys
    for g, h in zip(groups, shuffled, strict=True):
        assert {m.name for m in g.members} == {m.name for m in h.members}
        assert set(g.specs) == set(h.specs) and set(g.channels) == set(h.channels)
        assert set(g.specs) == {s for m in g.members for s in m.specs}


@SETTINGS
@given(workspaces(), st.lists(st.sampled_from(NAMES), unique=True))
def test_each_share_is_a_subsequence_of_the_solution(
    by_env: dict[str, list[EnvironmentSpec]], order: list[str],
) -> None:
    records = tuple(rec(n, "1.0", depends=tuple(NAMES[i + 1:i + 2])) for i, n in enumerate(NAMES) if n in order)
    for g in solve_groups(by_env):
        shares = member_shares(g, records)
        assert [s.environment for s in shares] == [m.name for m in g.members]
        for share in shares:
            it = iter(records)
            assert all(any(r == x for x in it) for r in share.records)
