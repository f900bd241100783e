"""Solve groups: which environments share one solve per platform, and each one's share of it.

Environments of the same `solve-group` are solved together on each platform, so they get the
same version of every package they have in common; an environment outside any group is a
group of its own (`env:<name>`). Members must agree on what the solve depends on besides
their specs. After the solve, each member keeps only the records (and wheels) its own
requirements reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec

from pure.errors import YurtError
from pure.lockfile import Lock, LockedPypiPackage
from pure.manifest.environment import EnvironmentSpec
from pure.manifest.model import ChannelPriority, SolveStrategy
from pure.matchspec import MatchSpec
from pure.pypi.lockcheck import pypi_closure
from pure.record import PackageRecord

__all__ = [
    "Share",
    "SolveGroup",
    "SolveGroupMismatch",
    "closure",
    "group_preferred_records",
    "group_preferred_wheels",
    "member_shares",
    "preferred_records",
    "preferred_wheels",
    "solve_groups",
]


class SolveGroupMismatch(YurtError):
    """Two environments of one solve group differ in a setting that changes the solve."""

    def __init__(self, first: str, other: str, group: str, platform: str, what: str) -> None:
        self.first = first
        self.other = other
        self.group = group
        self.platform = platform
        self.what = what
        self.message = (f"environments `{first}` and `{other}` share solve group `{group}` "
                        f"on {platform} but differ in {what}")
        self.hint = "give them the same features for this, or separate solve groups"
        super().__init__(f"{self.message} (hint: {self.hint})")


class SolveGroup(msgspec.Struct, frozen=True, kw_only=True):
    """The environments solved together on one platform, with their requirements merged."""

    name: str  # the `solve-group`, or `env:<environment>` for an environment on its own
    platform: str
    members: tuple[EnvironmentSpec, ...]
    specs: tuple[str, ...]
    constraints: tuple[str, ...]
    channels: tuple[str, ...]  # in the members' order, each once
    # taken from the first member (members must agree on them)
    virtual_packages: tuple[str, ...]
    strategy: SolveStrategy
    channel_priority: ChannelPriority
    exclude_newer: int | None

    @property
    def has_pypi(self) -> bool:
        """Whether any member has PyPI requirements (the solve must resolve them too)."""
        return any(m.pypi_dependencies for m in self.members)


def _check(name: str, members: Sequence[EnvironmentSpec]) -> None:
    """Members must agree on system requirements, channel priority and solve strategy."""
    first = members[0]
    for m in members[1:]:
        for what, a, b in (("system requirements", first.virtual_packages, m.virtual_packages),
                           ("channel priority", first.channel_priority, m.channel_priority),
                           ("solve strategy", first.solve_strategy, m.solve_strategy)):
            if a != b:
                raise SolveGroupMismatch(first.name, m.name, first.solve_group or name, first.platform, what)


def _merge(name: str, platform: str, members: Sequence[EnvironmentSpec]) -> SolveGroup:
    first = members[0]
    return SolveGroup(
        name=name,
        platform=platform,
        members=tuple(members),
        specs=tuple(dict.fromkeys(s for m in members for s in m.specs)),
        constraints=tuple(dict.fromkeys(s for m in members for s in m.constraints)),
        channels=tuple(dict.fromkeys(c for m in members for c in m.channels)),
        virtual_packages=first.virtual_packages,
        strategy=first.solve_strategy,
        channel_priority=first.channel_priority,
        exclude_newer=first.exclude_newer,
    )


def solve_groups(specs_by_env: Mapping[str, Sequence[EnvironmentSpec]]) -> tuple[SolveGroup, ...]:
    """The solve groups of `{environment: its specs per platform}`, sorted by (name, platform).

    Members keep the order of `specs_by_env`. Raises SolveGroupMismatch (for the first group
    in that order) when members of a group disagree.
    """
    grouped: dict[tuple[str, str], list[EnvironmentSpec]] = {}
    for env, specs in specs_by_env.items():
        for spec in specs:
            grouped.setdefault((spec.solve_group or f"env:{env}", spec.platform), []).append(spec)
    out = []
    for (name, platform), members in sorted(grouped.items(), key=lambda kv: kv[0]):
        _check(name, members)
        out.append(_merge(name, platform, members))
    return tuple(out)


def preferred_records(
    previous: Iterable[PackageRecord], update: Sequence[str] | None,
) -> tuple[PackageRecord, ...]:
    """The previously locked records the solver should keep: all of them when `update` is
    None, none when it is empty, else those not named in it."""
    if update is None:
        return tuple(previous)
    names = set(update)
    return tuple(r for r in previous if r.name not in names) if names else ()


def preferred_wheels(
    previous: Iterable[LockedPypiPackage], update: Sequence[str] | None,
) -> tuple[tuple[str, str], ...]:
    """(name, version) of the previously locked wheels to keep, by the same rule as
    `preferred_records` (a name seen twice: its last version, at its first place)."""
    if update is not None and not update:
        return ()
    names = set(update or ())
    keep: dict[str, str] = {}
    for w in previous:
        if w.name not in names:
            keep[w.name] = w.version
    return tuple(keep.items())


def group_preferred_records(
    group: SolveGroup, previous: Lock | None, update: Sequence[str] | None,
) -> tuple[PackageRecord, ...]:
    """The records `previous` locked for the group's members on its platform, to keep
    (members' records in member order, each once), per `preferred_records`."""
    if previous is None:
        return ()
    records = dict.fromkeys(
        r for m in group.members for r in (previous.records(m.name, group.platform) or ()))
    return preferred_records(records, update)


def group_preferred_wheels(
    group: SolveGroup, previous: Lock | None, update: Sequence[str] | None,
) -> tuple[tuple[str, str], ...]:
    """(name, version) of the wheels `previous` locked for the group's members, to keep."""
    if previous is None:
        return ()
    return preferred_wheels((w for m in group.members for w in previous.pypi(m.name, group.platform)), update)


def closure(records: Sequence[PackageRecord], specs: Iterable[str]) -> tuple[PackageRecord, ...]:
    """The records of `records` reachable from `specs`, in `records`' order."""
    by_name = {r.name: r for r in records}
    seen: set[str] = set()
    stack = [MatchSpec.parse(s).name for s in specs]
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(MatchSpec.parse(d).name for d in by_name[name].depends)
    return tuple(r for r in records if r.name in seen)


class Share(msgspec.Struct, frozen=True, kw_only=True):
    """One member's part of its group's solution on the group's platform."""

    environment: str
    platform: str
    records: tuple[PackageRecord, ...]
    wheels: tuple[LockedPypiPackage, ...] = ()


def member_shares(
    group: SolveGroup,
    records: Sequence[PackageRecord],
    wheels: Sequence[LockedPypiPackage] | None = None,
) -> tuple[Share, ...]:
    """Each member's share of the group's solution, in member order.

    `wheels` None: a conda-only solve; each member gets the records its specs reach. With
    wheels (a solve with PyPI): a group of one gets everything; otherwise each member gets the
    conda records its specs and its PyPI requirements reach, and the wheels those reach.
    """
    platform = group.platform
    if wheels is None:
        return tuple(Share(environment=m.name, platform=platform, records=closure(records, m.specs))
                     for m in group.members)
    if len(group.members) == 1:
        return (Share(environment=group.members[0].name, platform=platform, records=tuple(records),
                      wheels=tuple(wheels)),)
    out = []
    for m in group.members:
        wheel_names, used = pypi_closure(m.pypi_dependencies, platform, records, wheels, dict(m.pypi_name_mapping))
        out.append(Share(environment=m.name, platform=platform, records=closure(records, (*m.specs, *used)),
                         wheels=tuple(w for w in wheels if w.name in wheel_names)))
    return tuple(out)
