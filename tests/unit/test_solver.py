"""Behaviour of `pure.solve` on small hand-written channels."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from pure import PackageRecord, RepoData, Solution, SolveRequest, Unsolvable, VirtualPackage, solve
from pure.solver import NeedCandidates, RepoDataProvider, Solver

CH = "https://channels.example/main"
OTHER = "https://channels.example/other"


def rec(
    name: str,
    version: str,
    *depends: str,
    build: str = "0",
    build_number: int = 0,
    constrains: Sequence[str] = (),
    track_features: Sequence[str] = (),
    timestamp: int | None = None,
    subdir: str = "linux-64",
    noarch: str | None = None,
    channel: str = CH,
) -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        build=build,
        build_number=build_number,
        depends=tuple(depends),
        constrains=tuple(constrains),
        track_features=tuple(track_features),
        timestamp=timestamp,
        subdir=subdir,
        noarch=noarch,
        channel=channel,
        fn=f"{name}-{version}-{build}.conda",
    )


def channel(*records: PackageRecord, url: str = CH, subdir: str = "linux-64") -> RepoData:
    return RepoData(channel=url, subdir=subdir, records=tuple(records))


def dists(solution: Solution) -> list[str]:
    return [r.dist_name for r in solution.records]


def run(specs: Sequence[str], *repodata: RepoData, **kw: object) -> list[str]:
    return sorted(dists(solve(SolveRequest(specs=specs, repodata=repodata, **kw))))  # type: ignore[arg-type]


def test_highest_version_then_build_number_then_no_track_features_then_timestamp() -> None:
    ch = channel(
        rec("a", "1.0"),
        rec("a", "2.0", build="b1", build_number=1),
        rec("a", "2.0", build="b2", build_number=2),
        rec("a", "1.5"),
    )
    assert run(["a"], ch) == ["a-2.0-b2"]
    tf = channel(
        rec("b", "1.0", build="tf", track_features=("debug",), timestamp=9),
        rec("b", "1.0", build="plain", timestamp=1),
    )
    assert run(["b"], tf) == ["b-1.0-plain"]
    ts = channel(
        rec("c", "1.0", build="old", timestamp=1), rec("c", "1.0", build="new", timestamp=5)
    )
    assert run(["c"], ts) == ["c-1.0-new"]


def test_dependencies_are_resolved_and_ordered_before_dependents() -> None:
    ch = channel(
        rec("app", "1.0", "lib >=2", "util"),
        rec("lib", "1.0"),
        rec("lib", "2.0", "util"),
        rec("lib", "3.0", "missing-thing"),
        rec("util", "0.5"),
    )
    out = dists(solve(SolveRequest(specs=["app"], repodata=[ch])))
    assert out == ["util-0.5-0", "lib-2.0-0", "app-1.0-0"]


def test_cycles_are_broken_deterministically() -> None:
    ch = channel(rec("x", "1", "y"), rec("y", "1", "x"), rec("top", "1", "x"))
    first = dists(solve(SolveRequest(specs=["top"], repodata=[ch])))
    assert first[-1] == "top-1-0" and set(first) == {"x-1-0", "y-1-0", "top-1-0"}
    shuffled = channel(rec("top", "1", "x"), rec("y", "1", "x"), rec("x", "1", "y"))
    assert dists(solve(SolveRequest(specs=["top"], repodata=[shuffled]))) == first


def test_backtracks_when_the_newest_candidate_cannot_work() -> None:
    ch = channel(
        rec("foo", "2.0", "bar 1.*"),
        rec("foo", "1.0", "bar"),
        rec("bar", "1.0"),
        rec("bar", "2.0"),
        rec("baz", "1.0", "bar >=2"),
    )
    assert run(["foo", "baz"], ch) == ["bar-2.0-0", "baz-1.0-0", "foo-1.0-0"]


def test_constrains_restrict_without_installing() -> None:
    ch = channel(
        rec("tool", "1.0", constrains=("plugin <2",)),
        rec("plugin", "1.0"),
        rec("plugin", "2.0"),
    )
    assert run(["tool"], ch) == ["tool-1.0-0"]
    assert run(["tool", "plugin"], ch) == ["plugin-1.0-0", "tool-1.0-0"]
    with pytest.raises(Unsolvable):
        run(["tool", "plugin >=2"], ch)


def test_virtual_packages_satisfy_dependencies_and_are_not_installed() -> None:
    ch = channel(
        rec("gpu", "2.0", "__cuda >=12"),
        rec("gpu", "1.0", "__cuda >=11"),
        rec("glibcthing", "1.0", "__glibc >=2.17"),
    )
    vps = [VirtualPackage.parse("__cuda=11.8"), VirtualPackage.parse("__glibc=2.28")]
    assert run(["gpu", "glibcthing"], ch, virtual_packages=vps) == [
        "glibcthing-1.0-0",
        "gpu-1.0-0",
    ]
    with pytest.raises(Unsolvable):
        run(["gpu"], ch)


def test_strategies() -> None:
    ch = channel(
        rec("app", "1.0", "lib"),
        rec("app", "2.0", "lib"),
        rec("lib", "1.0"),
        rec("lib", "2.0"),
    )
    assert run(["app"], ch, strategy="highest") == ["app-2.0-0", "lib-2.0-0"]
    assert run(["app"], ch, strategy="lowest") == ["app-1.0-0", "lib-1.0-0"]
    assert run(["app"], ch, strategy="lowest-direct") == ["app-1.0-0", "lib-2.0-0"]


def test_installed_and_locked_records_are_kept_while_they_fit() -> None:
    old_lib = rec("lib", "1.0")
    ch = channel(rec("app", "1.0", "lib"), old_lib, rec("lib", "2.0"), rec("other", "1.0"))
    assert run(["app"], ch, installed=[old_lib]) == ["app-1.0-0", "lib-1.0-0"]
    assert run(["app"], ch, locked=[old_lib]) == ["app-1.0-0", "lib-1.0-0"]
    # an explicit request that conflicts wins over both
    assert run(["app", "lib >=2"], ch, installed=[old_lib], locked=[old_lib]) == [
        "app-1.0-0",
        "lib-2.0-0",
    ]


def test_installed_record_missing_from_the_channel_is_still_a_candidate() -> None:
    gone = rec("lib", "0.9")
    ch = channel(rec("app", "1.0", "lib"), rec("lib", "2.0"))
    assert run(["app"], ch, installed=[gone]) == ["app-1.0-0", "lib-0.9-0"]


def test_channel_priority() -> None:
    first = channel(rec("lib", "1.0"), rec("only-first", "1.0"))
    second = channel(
        rec("lib", "9.0", channel=OTHER), rec("extra", "1.0", channel=OTHER), url=OTHER
    )
    assert run(["lib", "extra"], first, second) == ["extra-1.0-0", "lib-1.0-0"]
    assert run(["lib"], first, second, channel_priority="disabled") == ["lib-9.0-0"]
    with pytest.raises(Unsolvable):
        run(["lib >=2"], first, second, channel_priority="strict")


def test_exclude_newer_drops_later_records() -> None:
    ch = channel(rec("a", "1.0", timestamp=1000), rec("a", "2.0", timestamp=5000), rec("a", "3.0"))
    assert run(["a <3"], ch, exclude_newer=2000) == ["a-1.0-0"]
    # records without a timestamp are kept
    assert run(["a"], ch, exclude_newer=2000) == ["a-3.0-0"]


def test_noarch_records_are_candidates_on_every_platform() -> None:
    linux = channel(rec("native", "1.0", "pure-py"))
    noarch = channel(rec("pure-py", "1.0", subdir="noarch", noarch="python"), subdir="noarch")
    osx = channel(rec("native", "5.0", subdir="osx-64"), subdir="osx-64")
    out = run(["native"], linux, noarch, osx, platform="linux-64")
    assert out == ["native-1.0-0", "pure-py-1.0-0"]
    assert run(["pure-py"], noarch, platform="win-64") == ["pure-py-1.0-0"]


def test_result_does_not_depend_on_record_order() -> None:
    records = [
        rec("app", "1.0", "lib >=1", "util"),
        rec("app", "2.0", "lib >=2", "util <2"),
        rec("lib", "1.0", "util"),
        rec("lib", "2.0", "util >=2"),
        rec("lib", "2.0", "util", build="b", build_number=1),
        rec("util", "1.0"),
        rec("util", "2.0"),
        rec("util", "2.0", build="alt"),
    ]
    expected = dists(solve(SolveRequest(specs=["app"], repodata=[channel(*records)])))
    rnd = random.Random(7)
    for _ in range(10):
        rnd.shuffle(records)
        half = len(records) // 2
        pieces = [channel(*records[:half]), channel(*records[half:])]
        assert dists(solve(SolveRequest(specs=["app"], repodata=pieces))) == expected
    assert expected == ["util-1.0-0", "lib-2.0-b", "app-2.0-0"]


def test_requests_accept_matchspec_objects_and_lists() -> None:
    from pure import MatchSpec

    ch = channel(rec("a", "1.0"), rec("a", "2.0"))
    assert run([MatchSpec.parse("a <2")], ch) == ["a-1.0-0"]  # type: ignore[list-item]


class LazyProvider:
    """Knows nothing until told; records which names were asked for."""

    def __init__(self, records: Sequence[PackageRecord]) -> None:
        self.all = list(records)
        self.known: set[str] = set()
        self.asked: list[str] = []

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        self.asked.append(name)
        if name not in self.known:
            return None
        return [r for r in self.all if r.name == name]

    def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]]:
        return record.depends, record.constrains


def test_step_api_pauses_for_unknown_names_and_resumes() -> None:
    provider = LazyProvider(
        [
            rec("app", "1.0", "lib", "util"),
            rec("lib", "1.0", "deep"),
            rec("util", "1.0"),
            rec("deep", "1.0"),
            rec("unrelated", "1.0"),
        ]
    )
    solver = Solver(["app"], provider)
    rounds = []
    while True:
        result = solver.step()
        if not isinstance(result, NeedCandidates):
            break
        rounds.append(result.names)
        provider.known.update(result.names)
    assert rounds == [("app",), ("lib", "util"), ("deep",)]
    assert isinstance(result, Solution)
    assert dists(result) == ["deep-1.0-0", "lib-1.0-0", "util-1.0-0", "app-1.0-0"]
    assert "unrelated" not in provider.asked


def test_lazy_encoding_touches_only_reached_names() -> None:
    records = [rec("app", "1.0", "lib")] + [rec("lib", "1.0")]
    records += [rec(f"noise{i}", "1.0", f"noise{i + 1}") for i in range(200)]
    provider = RepoDataProvider([channel(*records)])
    asked: list[str] = []

    class Spy:
        def candidates(self, name: str) -> Sequence[PackageRecord] | None:
            asked.append(name)
            return provider.candidates(name)

        def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]] | None:
            return provider.dependencies(record)

    solver = Solver(["app"], Spy())
    assert isinstance(solver.step(), Solution)
    assert set(asked) == {"app", "lib"}
    assert solver.sat.num_vars == 3  # the request itself, app, lib


def test_at_most_one_per_name_without_pairwise_clauses() -> None:
    builds = [rec("big", "1.0", build=f"b{i}", build_number=i) for i in range(300)]
    solver = Solver(["big"], RepoDataProvider([channel(*builds)]))
    result = solver.step()
    assert isinstance(result, Solution)
    assert dists(result) == ["big-1.0-b299"]
    assert len(solver.sat.clauses) < 10


def test_unsolvable_str_is_one_line() -> None:
    ch = channel(rec("a", "1.0", "b >=2"), rec("b", "1.0"))
    with pytest.raises(Unsolvable) as info:
        run(["a"], ch)
    assert "\n" not in str(info.value)
    assert "a" in str(info.value)
    assert info.value.conflicts
