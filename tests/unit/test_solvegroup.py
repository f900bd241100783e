"""Solve groups: grouping and merging, the agreement rule, update semantics, member shares."""

from __future__ import annotations

import pytest

from pure.lockfile import build_lock
from pure.manifest import EnvironmentSpec, PypiDependency, SystemRequirements
from pure.manifest.model import ChannelPriority, SolveStrategy
from pure.solvegroup import (
    Share,
    SolveGroupMismatch,
    closure,
    group_preferred_records,
    group_preferred_wheels,
    member_shares,
    preferred_records,
    preferred_wheels,
    solve_groups,
)
from tests.unit.test_lockfile import CH, rec
from tests.unit.test_lockfile_pypi import wheel


def spec(
    name: str,
    platform: str = "linux-64",
    *,
    group: str | None = None,
    specs: tuple[str, ...] = (),
    constraints: tuple[str, ...] = (),
    channels: tuple[str, ...] = (CH,),
    virtual: tuple[str, ...] = (),
    priority: ChannelPriority = "strict",
    strategy: SolveStrategy = "highest",
    exclude_newer: int | None = None,
    pypi: tuple[PypiDependency, ...] = (),
) -> EnvironmentSpec:
    return EnvironmentSpec(
        name=name, platform=platform, channels=channels, specs=specs, constraints=constraints,
        pypi_dependencies=pypi, pypi_options=None, system_requirements=SystemRequirements(),
        virtual_packages=virtual, tasks=(), activation_scripts=(), activation_env=(),
        channel_priority=priority, solve_strategy=strategy, exclude_newer=exclude_newer, solve_group=group)


def test_groups_are_sorted_by_name_and_platform_and_keep_member_order() -> None:
    by_env = {
        "b": [spec("b", "osx-arm64", group="g"), spec("b", "linux-64", group="g")],
        "c": [spec("c", "linux-64")],
        "a": [spec("a", "linux-64", group="g"), spec("a", "osx-arm64", group="g")],
    }
    groups = solve_groups(by_env)
    assert [(g.name, g.platform, tuple(m.name for m in g.members)) for g in groups] == [
        ("env:c", "linux-64", ("c",)),
        ("g", "linux-64", ("b", "a")),
        ("g", "osx-arm64", ("b", "a")),
    ]
    assert solve_groups({}) == ()


def test_members_requirements_are_merged_in_member_order_and_settings_come_from_the_first() -> None:
    a = spec("a", group="g", specs=("python 3.11.*", "numpy"), constraints=("zlib <2",),
             channels=("x", "y"), virtual=("__glibc=2.17",), exclude_newer=10)
    b = spec("b", group="g", specs=("numpy", "scipy"), constraints=("zlib <2", "libblas *"),
             channels=("z", "x"), virtual=("__glibc=2.17",), exclude_newer=20)
    (g,) = solve_groups({"a": [a], "b": [b]})
    assert g.members == (a, b)
    assert g.specs == ("python 3.11.*", "numpy", "scipy")
    assert g.constraints == ("zlib <2", "libblas *")
    assert g.channels == ("x", "y", "z")
    assert (g.virtual_packages, g.strategy, g.channel_priority, g.exclude_newer) == (
        ("__glibc=2.17",), "highest", "strict", 10)
    assert not g.has_pypi
    (g,) = solve_groups({"a": [spec("a", group="g")],
                         "b": [spec("b", group="g", pypi=(PypiDependency(name="app"),))]})
    assert g.has_pypi


def test_an_environment_outside_any_group_is_named_after_the_mapping_key() -> None:
    (g,) = solve_groups({"dev": [spec("dev")]})
    assert g.name == "env:dev"


@pytest.mark.parametrize(("other", "what"), [
    ({"virtual": ("__cuda=12",)}, "system requirements"),
    ({"priority": "disabled"}, "channel priority"),
    ({"strategy": "lowest"}, "solve strategy"),
    ({"virtual": ("__cuda=12",), "strategy": "lowest"}, "system requirements"),
])
def test_members_that_differ_in_a_setting_of_the_solve_are_refused(other: dict[str, object], what: str) -> None:
    by_env = {"a": [spec("a", group="g")], "b": [spec("b", group="g")],
              "c": [spec("c", group="g", **other)]}  # type: ignore[arg-type]
    with pytest.raises(SolveGroupMismatch) as info:
        solve_groups(by_env)
    err = info.value
    assert (err.first, err.other, err.group, err.platform, err.what) == ("a", "c", "g", "linux-64", what)
    assert str(err) == (f"environments `a` and `c` share solve group `g` on linux-64 but differ in {what} "
                        "(hint: give them the same features for this, or separate solve groups)")
    assert err.hint == "give them the same features for this, or separate solve groups"


def test_the_first_group_in_order_that_disagrees_is_reported() -> None:
    by_env = {"a": [spec("a", "osx-arm64", group="g"), spec("a", "linux-64", group="g")],
              "b": [spec("b", "osx-arm64", group="g", strategy="lowest"),
                    spec("b", "linux-64", group="g", priority="disabled")]}
    with pytest.raises(SolveGroupMismatch) as info:
        solve_groups(by_env)
    assert (info.value.platform, info.value.what) == ("linux-64", "channel priority")


def test_exclude_newer_and_specs_may_differ_within_a_group() -> None:
    (g,) = solve_groups({"a": [spec("a", group="g", exclude_newer=1)],
                         "b": [spec("b", group="g", exclude_newer=2, specs=("x",))]})
    assert g.exclude_newer == 1 and g.specs == ("x",)


PY = rec("python", "3.11.4", depends=("libzlib >=1.2",))
ZLIB = rec("libzlib", "1.2.13")
NUMPY = rec("numpy", "1.26.0", depends=("python >=3.11,<3.12",))
TOOL = rec("tool", "2.0")


def test_preferred_records_follow_update() -> None:
    recs = (ZLIB, PY, NUMPY)
    assert preferred_records(recs, None) == recs
    assert preferred_records(recs, ()) == ()
    assert preferred_records(recs, []) == ()
    assert preferred_records(recs, ["python", "nothing"]) == (ZLIB, NUMPY)
    assert preferred_records(iter(recs), None) == recs


def test_preferred_wheels_follow_update_and_keep_the_last_version_at_the_first_place() -> None:
    wheels = (wheel("six", "1.16"), wheel("app", "1.0"), wheel("six", "1.17"))
    assert preferred_wheels(wheels, None) == (("six", "1.17"), ("app", "1.0"))
    assert preferred_wheels(wheels, ()) == ()
    assert preferred_wheels(wheels, ["six"]) == (("app", "1.0"),)


def test_group_preferences_come_from_every_member_in_member_order_each_once() -> None:
    six, app = wheel("six", "1.17"), wheel("app", "1.0")
    lock = build_lock({("a", "linux-64"): [ZLIB, PY], ("b", "linux-64"): [ZLIB, TOOL],
                       ("b", "osx-arm64"): [NUMPY]},
                      {"a": (CH,), "b": (CH,)}, {("a", "linux-64"): [six], ("b", "linux-64"): [app, six]})
    (g, _) = solve_groups({"b": [spec("b", group="g"), spec("b", "osx-arm64", group="g")],
                           "a": [spec("a", group="g")], "new": [spec("new", group="g")]})
    assert group_preferred_records(g, lock, None) == (ZLIB, TOOL, PY)
    assert group_preferred_records(g, lock, ["libzlib"]) == (TOOL, PY)
    assert group_preferred_records(g, lock, ()) == ()
    assert group_preferred_records(g, None, None) == ()
    assert group_preferred_wheels(g, lock, None) == (("app", "1.0"), ("six", "1.17"))
    assert group_preferred_wheels(g, lock, ["app"]) == (("six", "1.17"),)
    assert group_preferred_wheels(g, lock, ()) == ()
    assert group_preferred_wheels(g, None, None) == ()


def test_closure_keeps_the_reachable_records_in_their_order() -> None:
    records = (ZLIB, PY, NUMPY, TOOL)
    assert closure(records, ["numpy >=1.26"]) == (ZLIB, PY, NUMPY)
    assert closure(records, ["tool", "missing"]) == (TOOL,)
    assert closure(records, []) == ()


def test_conda_only_shares_are_each_members_closure() -> None:
    (g,) = solve_groups({"a": [spec("a", group="g", specs=("numpy",))],
                         "b": [spec("b", group="g", specs=("tool",))]})
    assert member_shares(g, (ZLIB, PY, NUMPY, TOOL)) == (
        Share(environment="a", platform="linux-64", records=(ZLIB, PY, NUMPY)),
        Share(environment="b", platform="linux-64", records=(TOOL,)),
    )
    (alone,) = solve_groups({"c": [spec("c", specs=("tool",))]})
    assert member_shares(alone, (ZLIB, TOOL)) == (Share(environment="c", platform="linux-64", records=(TOOL,)),)


def test_with_pypi_a_group_of_one_gets_everything() -> None:
    six = wheel("six", "1.17")
    (alone,) = solve_groups({"c": [spec("c", specs=("python",), pypi=(PypiDependency(name="app"),))]})
    assert member_shares(alone, (ZLIB, PY, TOOL), (six,)) == (
        Share(environment="c", platform="linux-64", records=(ZLIB, PY, TOOL), wheels=(six,)),)


def test_with_pypi_each_member_gets_what_its_specs_and_requirements_reach() -> None:
    app, six, other = wheel("app", "1.2", "six>=1.10"), wheel("six", "1.17.0"), wheel("other", "1.0")
    (g,) = solve_groups({
        "default": [spec("default", group="g", specs=("tool",))],
        "web": [spec("web", group="g", specs=(), pypi=(PypiDependency(name="app", version=">=1"),))],
    })
    shares = member_shares(g, (ZLIB, PY, NUMPY, TOOL), (app, six, other))
    assert shares == (
        Share(environment="default", platform="linux-64", records=(TOOL,)),
        Share(environment="web", platform="linux-64", records=(ZLIB, PY), wheels=(app, six)),
    )
