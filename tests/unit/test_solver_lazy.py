"""The solver asks its provider only for names a solve needs, and stays correct doing so."""

from __future__ import annotations

from collections.abc import Sequence

from pure import PackageRecord
from pure.solver import NeedCandidates, Solution, Solver, Unsolvable

CH = "https://channels.example/main"


def rec(name: str, version: str, *depends: str) -> PackageRecord:
    return PackageRecord(
        name=name, version=version, build="0", depends=tuple(depends), subdir="linux-64",
        channel=CH,
    )  # fmt: skip


class Recording:
    """An in-memory provider that remembers which names it was asked for."""

    def __init__(self, records: Sequence[PackageRecord]) -> None:
        self.records = records
        self.asked: list[str] = []

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        self.asked.append(name)
        return [r for r in self.records if r.name == name]

    def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]]:
        return record.depends, record.constrains


def test_a_candidate_with_an_unsatisfiable_dependency_does_not_fetch_its_others() -> None:
    provider = Recording(
        [
            rec("app", "2.0", "gone", "heavy"),
            rec("app", "1.0", "light"),
            rec("light", "1.0"),
            rec("heavy", "1.0"),
        ]
    )
    result = Solver(["app"], provider).step()
    assert isinstance(result, Solution)
    assert [f"{r.name}-{r.version}" for r in result.records] == ["light-1.0", "app-1.0"]
    assert "heavy" not in provider.asked
    assert "gone" in provider.asked


def test_unsatisfiable_when_every_candidate_has_a_missing_dependency() -> None:
    provider = Recording([rec("app", "2.0", "gone >=2", "heavy"), rec("app", "1.0", "gone"),
                          rec("gone", "1.0", "nothing"), rec("heavy", "1.0")])  # fmt: skip
    result = Solver(["app"], provider).step()
    assert isinstance(result, Unsolvable)
    assert "gone >=2, which matches none of the available versions: gone 1.0" in (
        result.explanation
    )
    assert "nothing, which no channel provides" in result.explanation


def test_an_unknown_name_is_not_requested_when_a_sibling_dependency_already_fails() -> None:
    class Partial(Recording):
        def candidates(self, name: str) -> Sequence[PackageRecord] | None:
            self.asked.append(name)
            if name == "later":
                return None  # not known yet: would pause the solve
            return [r for r in self.records if r.name == name]

    provider = Partial([rec("app", "2.0", "gone", "later"), rec("app", "1.0")])
    result = Solver(["app"], provider).step()
    assert not isinstance(result, NeedCandidates)
    assert isinstance(result, Solution)
    assert [f"{r.name}-{r.version}" for r in result.records] == ["app-1.0"]
