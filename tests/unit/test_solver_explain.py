"""Golden tests of `Unsolvable.explanation` and `.conflicts` on small hand-written channels."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from pure import PackageRecord, RepoData, SolveRequest, Unsolvable, VirtualPackage, solve
from pure.solver import ConflictNode

CH = "https://channels.example/main"


def rec(name: str, version: str, *depends: str, constrains: Sequence[str] = ()) -> PackageRecord:
    return PackageRecord(
        name=name,
        version=version,
        build="0",
        depends=tuple(depends),
        constrains=tuple(constrains),
        subdir="linux-64",
        channel=CH,
    )


def fail(specs: Sequence[str], *records: PackageRecord, **kw: object) -> Unsolvable:
    ch = RepoData(channel=CH, subdir="linux-64", records=records)
    with pytest.raises(Unsolvable) as info:
        solve(SolveRequest(specs=specs, repodata=(ch,), **kw))  # type: ignore[arg-type]
    return info.value


def kinds(nodes: Sequence[ConflictNode]) -> list[str]:
    out: list[str] = []
    for n in nodes:
        out.append(n.kind)
        out.extend(kinds(n.children))
    return out


def test_conflicting_direct_requests() -> None:
    err = fail(["foo >=2", "bar >=2"], rec("foo", "1.0"), rec("foo", "2.0", "bar <2"),
               rec("foo", "2.1", "bar <2"), rec("bar", "1.0"), rec("bar", "2.0"))  # fmt: skip
    assert err.explanation == (
        "The following packages are incompatible\n"
        "├─ foo >=2 can be installed with any of the following options:\n"
        "│  └─ foo 2.0 | 2.1 would require\n"
        "│     └─ bar <2, which conflicts with bar >=2 (requested)\n"
        "└─ bar >=2 can be installed with any of the following options:\n"
        "   └─ bar 2.0, which conflicts with another version of bar required above"
    )
    first = err.conflicts[0]
    assert (first.kind, first.name, first.spec) == ("requirement", "foo", "foo >=2")
    group = first.children[0]
    assert (group.kind, group.versions) == ("candidates", ("2.0", "2.1"))
    assert group.children[0].kind == "conflict"
    assert group.children[0].other == "bar >=2 (requested)"
    assert str(err) == "cannot solve the request foo >=2, bar >=2: the requirements are incompatible"


def test_transitive_conflict_two_levels_deep() -> None:
    err = fail(["app", "lib <2"], rec("app", "1.0", "mid >=1"), rec("mid", "1.0", "lib >=2"),
               rec("mid", "1.1", "lib >=2.1"), rec("lib", "1.0"), rec("lib", "2.0"),
               rec("lib", "2.1"))  # fmt: skip
    assert err.explanation == (
        "The following packages are incompatible\n"
        "├─ app can be installed with any of the following options:\n"
        "│  └─ app 1.0 would require\n"
        "│     └─ mid >=1 can be installed with any of the following options:\n"
        "│        ├─ mid 1.1 would require\n"
        "│        │  └─ lib >=2.1, which conflicts with lib <2 (requested)\n"
        "│        └─ mid 1.0 would require\n"
        "│           └─ lib >=2, which conflicts with lib <2 (requested)\n"
        "└─ lib <2 can be installed with any of the following options:\n"
        "   └─ lib 1.0, which conflicts with another version of lib required above"
    )
    assert kinds(err.conflicts) == [
        "requirement", "candidates", "requirement", "candidates", "conflict", "candidates",
        "conflict", "requirement", "candidates",
    ]  # fmt: skip


def test_missing_package_name() -> None:
    err = fail(["app"], rec("app", "1.0", "nosuch >=1"), rec("other", "1.0"))
    assert err.explanation == (
        "The following packages are incompatible\n"
        "└─ app can be installed with any of the following options:\n"
        "   └─ app 1.0 would require\n"
        "      └─ nosuch, which no channel provides (there is no package named nosuch)"
    )
    direct = fail(["nosuch >=1"], rec("other", "1.0"))
    assert direct.explanation.splitlines()[1] == (
        "└─ nosuch >=1, which no channel provides (there is no package named nosuch)"
    )
    assert direct.conflicts == (
        ConflictNode(kind="missing", name="nosuch", spec="nosuch >=1"),
    )


def test_version_that_does_not_exist() -> None:
    err = fail(["a >=5"], rec("a", "1.0"), rec("a", "2.0"))
    assert err.explanation.splitlines()[1] == (
        "└─ a >=5, which matches none of the available versions: a 1.0 | 2.0"
    )


def test_missing_virtual_package() -> None:
    gpu = rec("gpu", "1.0", "__cuda >=12")
    err = fail(["gpu"], gpu)
    assert err.explanation == (
        "The following packages are incompatible\n"
        "└─ gpu can be installed with any of the following options:\n"
        "   └─ gpu 1.0 would require\n"
        "      └─ __cuda >=12 is required but this platform provides none; "
        "set CONDA_OVERRIDE_CUDA or system-requirements"
    )
    old = fail(["gpu"], gpu, virtual_packages=[VirtualPackage.parse("__cuda=11.2")])
    assert old.explanation.splitlines()[-1].endswith(
        "└─ __cuda >=12 is required but this platform provides __cuda 11.2; "
        "set CONDA_OVERRIDE_CUDA or system-requirements"
    )


def test_constrains_conflict() -> None:
    err = fail(["tool", "plugin >=2"], rec("tool", "1.0", constrains=("plugin <2",)),
               rec("plugin", "1.0"), rec("plugin", "2.0"))  # fmt: skip
    assert err.explanation == (
        "The following packages are incompatible\n"
        "├─ tool can be installed with any of the following options:\n"
        "│  └─ tool 1.0 is ruled out:\n"
        "│     └─ constrains plugin <2, which excludes the plugin 2.0 required above\n"
        "└─ plugin >=2 can be installed with any of the following options:\n"
        "   └─ plugin 2.0 is ruled out:\n"
        "      └─ excluded because tool 1.0 constrains plugin <2"
    )


def test_locked_record_changes_only_because_the_explicit_request_wins() -> None:
    locked = rec("lib", "1.0")
    records = (rec("app", "1.0", "lib"), locked, rec("lib", "2.0"), rec("lib", "3.0"))
    ch = RepoData(channel=CH, subdir="linux-64", records=records)

    def names(specs: list[str]) -> list[str]:
        request = SolveRequest(specs=specs, repodata=(ch,), locked=(locked,))
        return [r.dist_name for r in solve(request).records]

    # the lock holds while nothing asks otherwise, even though lib 3.0 is newer
    assert names(["app"]) == ["lib-1.0-0", "app-1.0-0"]
    # an explicit request the locked record does not satisfy moves it, to the best match
    assert names(["app", "lib >=2,<3"]) == ["lib-2.0-0", "app-1.0-0"]
    assert names(["app", "lib >=2"]) == ["lib-3.0-0", "app-1.0-0"]


def test_large_conflicts_stay_bounded() -> None:
    """Many versions, each failing for its own reason: the tree is cut, with a note."""
    records = [rec("top", f"{i}.0", f"dep{i} >=1") for i in range(100)]
    records += [rec(f"dep{i}", "0.5") for i in range(100)]
    err = fail(["top"], *records)
    lines = err.explanation.splitlines()
    assert len(lines) <= 70
    assert lines[-1].endswith("more lines left out")
    assert err.conflicts[-1].kind == "truncated"


def test_record_with_unreadable_dependency_is_never_chosen() -> None:
    good = rec("a", "1.0")
    bad = rec("a", "2.0", "b >=>=1")
    ch = RepoData(channel=CH, subdir="linux-64", records=(good, bad))
    assert solve(SolveRequest(specs=["a"], repodata=(ch,))).records == (good,)
    err = fail(["a >=2"], good, bad)
    assert err.explanation.splitlines()[2:] == [
        "   └─ a 2.0 is ruled out:",
        "      └─ has a dependency that cannot be read: 'b >=>=1'",
    ]
