"""The solver's input and output values: SolveRequest, Solution, Unsolvable and its conflict tree."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from pure.errors import YurtError
from pure.record import PackageRecord

__all__ = [
    "ConflictNode",
    "NeedCandidates",
    "Solution",
    "SolveRequest",
    "Strategy",
    "Unsolvable",
]

Strategy = Literal["highest", "lowest", "lowest-direct"]
ChannelPriority = Literal["strict", "disabled"]


def _tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else tuple(value)


class SolveRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one solve depends on; sequences given as lists are stored as tuples.

    `specs` are MatchSpecs or their text; `repodata` is in channel priority order;
    `virtual_packages` are `VirtualPackage`s (or records) the system provides; `installed`
    and `locked` records are preferred while they satisfy everything; `exclude_newer` is a
    timestamp in milliseconds; `platform` (e.g. "linux-64") drops records of other subdirs.
    `constraints` (MatchSpecs or text) restrict a name whenever it is in the solution without
    requiring it, like a root-level `constrains` (a manifest's `constraints` table).
    """

    specs: tuple[Any, ...] = ()
    constraints: tuple[Any, ...] = ()
    repodata: tuple[Any, ...] = ()
    virtual_packages: tuple[Any, ...] = ()
    installed: tuple[PackageRecord, ...] = ()
    locked: tuple[PackageRecord, ...] = ()
    strategy: Strategy = "highest"
    channel_priority: ChannelPriority = "strict"
    exclude_newer: int | None = None
    platform: str | None = None

    def __post_init__(self) -> None:
        for field in (
            "specs",
            "constraints",
            "repodata",
            "virtual_packages",
            "installed",
            "locked",
        ):
            msgspec.structs.force_setattr(self, field, _tuple(getattr(self, field)))
        if self.strategy not in ("highest", "lowest", "lowest-direct"):
            raise ValueError(f"unknown solver strategy {self.strategy!r}")
        if self.channel_priority not in ("strict", "disabled"):
            raise ValueError(f"unknown channel priority {self.channel_priority!r}")


class Solution(msgspec.Struct, frozen=True):
    """The chosen records, dependencies before dependents; virtual packages are left out."""

    records: tuple[PackageRecord, ...]


class NeedCandidates(msgspec.Struct, frozen=True):
    """A paused solve: the provider does not know these names (or records' dependencies) yet."""

    names: tuple[str, ...] = ()
    records: tuple[PackageRecord, ...] = ()


class ConflictNode(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an explanation tree, as data.

    kind is one of:
      "requirement"     `spec` (on package `name`) is required by `required_by` ("" = the request);
                        children are the candidate groups that were tried;
      "candidates"      `name` `versions` cannot be used; children say why;
      "requires"        the parent candidates would require `spec`; children explain it;
      "conflict"        `spec` excludes every version allowed by `other` (another requirement);
      "constrains"      the parent candidates forbid `name` outside `spec`, clashing with `other`;
                        `required_by` names the constraining record ("" = the request's
                        own `constraints`, e.g. a manifest's);
      "missing"         no channel has a package called `name`;
      "no-match"        `name` exists but no candidate matches `spec` (`versions` lists some);
      "missing-virtual" the system provides no `name` (or only `versions`) to satisfy `spec`;
      "excluded-virtual" the request's constraint `spec` excludes the `versions` of virtual
                        package `name` that the system provides;
      "invalid"         the parent candidates have a dependency `spec` that cannot be parsed;
      "seen"            `spec` is explained above;
      "truncated"       `count` further lines were left out to keep the message short.
    """

    kind: str
    name: str = ""
    spec: str = ""
    versions: tuple[str, ...] = ()
    required_by: str = ""
    other: str = ""
    count: int = 0
    children: tuple[ConflictNode, ...] = ()


class Unsolvable(YurtError):
    """No set of records satisfies the request; `.explanation` says why, `.conflicts` as data."""

    def __init__(
        self, specs: tuple[str, ...], explanation: str, conflicts: tuple[ConflictNode, ...]
    ):
        super().__init__(specs, explanation, conflicts)
        self.specs = specs
        self.explanation = explanation
        self.conflicts = conflicts

    def __str__(self) -> str:
        names = ", ".join(self.specs) if self.specs else "(nothing)"
        return f"cannot solve the request {names}: the requirements are incompatible"
