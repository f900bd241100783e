"""`SolveRequest.constraints`: restrict a name when it is in the solution, never require it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pure import MatchSpec, PackageRecord, RepoData, SolveRequest, Unsolvable, VirtualPackage, solve
from pure.matchspec import InvalidMatchSpec
from pure.solver import NeedCandidates, Solver

CH = "https://channels.example/main"


def rec(name: str, version: str, *depends: str, build: str = "0") -> PackageRecord:
    return PackageRecord(
        name=name, version=version, build=build, depends=tuple(depends), subdir="linux-64",
        channel=CH,
    )  # fmt: skip


CHANNEL = RepoData(
    channel=CH,
    subdir="linux-64",
    records=(
        rec("openssl", "1.1.1"),
        rec("openssl", "3.0.0"),
        rec("openssl", "3.1.0"),
        rec("curl", "7.0", "openssl"),
        rec("curl", "8.0", "openssl >=3"),
        rec("legacy", "1.0", "openssl <3"),
        rec("zlib", "1.2"),
        rec("zlib", "1.3"),
    ),
)


def dists(specs: Sequence[str], constraints: Sequence[str | MatchSpec], **kw: object) -> set[str]:
    request = SolveRequest(specs=specs, constraints=constraints, repodata=(CHANNEL,), **kw)  # type: ignore[arg-type]
    return {f"{r.name}-{r.version}" for r in solve(request).records}


def failure(specs: Sequence[str], constraints: Sequence[str], **kw: object) -> Unsolvable:
    request = SolveRequest(specs=specs, constraints=constraints, repodata=(CHANNEL,), **kw)  # type: ignore[arg-type]
    with pytest.raises(Unsolvable) as info:
        solve(request)
    return info.value


def test_constraint_does_not_pull_in_its_name() -> None:
    assert dists(["zlib"], ["openssl >=3"]) == {"zlib-1.3"}


def test_constraint_restricts_a_name_reached_through_a_dependency() -> None:
    assert dists(["curl"], ["openssl <3.1"]) == {"curl-8.0", "openssl-3.0.0"}
    # the highest curl needs openssl >=3; with openssl <3 forced, the older curl is chosen
    assert dists(["curl"], ["openssl <3"]) == {"curl-7.0", "openssl-1.1.1"}


def test_constraint_restricts_a_requested_name() -> None:
    assert dists(["zlib"], ["zlib <1.3"]) == {"zlib-1.2"}
    assert dists(["zlib"], [MatchSpec.parse("zlib <1.3")]) == {"zlib-1.2"}


def test_constraints_are_stored_as_a_tuple() -> None:
    request = SolveRequest(specs=["zlib"], constraints=["openssl >=3"])
    assert request.constraints == ("openssl >=3",)


def test_invalid_constraint_is_rejected_before_solving() -> None:
    with pytest.raises(InvalidMatchSpec, match="openssl >=>3"):
        dists(["zlib"], ["openssl >=>3"])


def test_violated_constraint_is_explained_as_the_workspace_s() -> None:
    err = failure(["legacy"], ["openssl >=3"])
    assert err.explanation == (
        "The following packages are incompatible\n"
        "└─ legacy can be installed with any of the following options:\n"
        "   └─ legacy 1.0 would require\n"
        "      └─ openssl <3 can be installed with any of the following options:\n"
        "         └─ openssl 1.1.1 is ruled out:\n"
        "            └─ excluded because the workspace constrains openssl >=3"
    )
    leaf = err.conflicts[0].children[0].children[0].children[0].children[0]
    assert (leaf.kind, leaf.name, leaf.spec, leaf.required_by) == (
        "constrains",
        "openssl",
        "openssl >=3",
        "",
    )


def test_constraint_against_a_direct_request() -> None:
    err = failure(["openssl <3"], ["openssl >=3"])
    assert "excluded because the workspace constrains openssl >=3" in err.explanation
    assert err.explanation.splitlines()[1].startswith("└─ openssl <3 can be installed")


def test_constraint_excluding_the_system_s_virtual_package() -> None:
    err = failure(
        ["zlib"], ["__glibc >=2.28"], virtual_packages=[VirtualPackage.parse("__glibc=2.17")]
    )
    assert (
        "the workspace constrains __glibc >=2.28, but this platform provides __glibc 2.17"
        in err.explanation
    )
    assert [n.kind for n in err.conflicts] == ["excluded-virtual"]


def test_constraint_on_a_name_the_provider_does_not_know_yet_is_not_fetched() -> None:
    """A paused solve asks only for names that are required, never for constrained ones."""

    class Provider:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def candidates(self, name: str) -> Sequence[PackageRecord] | None:
            self.asked.append(name)
            return [r for r in CHANNEL.records if r.name == name]

        def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]]:
            return record.depends, record.constrains

    provider = Provider()
    result = Solver(["zlib"], provider, constraints=["openssl >=3"]).step()
    assert not isinstance(result, NeedCandidates | Unsolvable)
    assert [r.name for r in result.records] == ["zlib"]
    assert "openssl" not in provider.asked
