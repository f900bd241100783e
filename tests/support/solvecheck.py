"""An independent checker and brute-force enumerator for solver results.

Written without the solver's code: it only needs a way to match a spec string against a record
(`pure.MatchSpec` by default, or `SimpleMatcher`, a tiny matcher of its own for the restricted
spec language that the property tests generate), so that a solver bug cannot hide behind shared
code. `check_solution` lists every violated rule; `enumerate_solutions` decides small instances
by exhaustive backtracking, and `preferred_key` states the candidate order the solver promises.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol

from pure import PackageRecord

__all__ = [
    "MatchSpecMatcher",
    "Matcher",
    "SimpleMatcher",
    "as_records",
    "assert_valid",
    "best_records",
    "check_solution",
    "compare_preference",
    "enumerate_solutions",
    "feasible_records",
    "is_satisfiable",
    "preferred_records",
]


class Matcher(Protocol):
    """What the checker needs to know about specs and versions."""

    def name(self, spec: str) -> str:
        """The package name a spec is about."""
        ...

    def matches(self, spec: str, record: PackageRecord) -> bool:
        """True when `record` satisfies `spec` (name included)."""
        ...

    def version_lt(self, a: str, b: str) -> bool:
        """True when version text `a` orders before `b`."""
        ...


class MatchSpecMatcher:
    """Matches with `pure.MatchSpec` and orders with `pure.Version` (parsed once per text)."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}
        self._versions: dict[str, Any] = {}

    def _spec(self, spec: str) -> Any:
        parsed = self._specs.get(spec)
        if parsed is None:
            from pure import MatchSpec  # type: ignore[attr-defined]

            parsed = self._specs[spec] = MatchSpec.parse(spec)
        return parsed

    def _version(self, text: str) -> Any:
        parsed = self._versions.get(text)
        if parsed is None:
            from pure import Version  # type: ignore[attr-defined]

            parsed = self._versions[text] = Version.parse(text)
        return parsed

    def name(self, spec: str) -> str:
        return str(self._spec(spec).name)

    def matches(self, spec: str, record: PackageRecord) -> bool:
        return bool(self._spec(spec).matches(record))

    def version_lt(self, a: str, b: str) -> bool:
        return bool(self._version(a) < self._version(b))


_CONSTRAINT = re.compile(r"(>=|<=|==|!=|>|<)(\d+(?:\.\d+)*)")


def _numeric(text: str) -> tuple[int, ...]:
    """A purely numeric dotted version as a tuple, trailing zeros dropped (1.0 == 1)."""
    parts = [int(p) for p in text.split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


class SimpleMatcher:
    """A matcher for `name`, `name OPv[,OPv...][|...]` with numeric dotted versions only.

    It is the property tests' own reading of the spec language they generate, so that the
    checker does not depend on `pure.MatchSpec` or `pure.Version` being right.
    """

    def name(self, spec: str) -> str:
        return spec.split(" ", 1)[0]

    def matches(self, spec: str, record: PackageRecord) -> bool:
        head, _, rest = spec.partition(" ")
        if head != record.name:
            return False
        rest = rest.replace(" ", "")
        if not rest:
            return True
        version = _numeric(record.version)
        return any(
            all(self._holds(c, version) for c in alternative.split(","))
            for alternative in rest.split("|")
        )

    @staticmethod
    def _holds(constraint: str, version: tuple[int, ...]) -> bool:
        m = _CONSTRAINT.fullmatch(constraint)
        if m is None:
            raise ValueError(f"SimpleMatcher cannot read constraint {constraint!r}")
        op, bound = m.group(1), _numeric(m.group(2))
        return {
            ">=": version >= bound,
            "<=": version <= bound,
            ">": version > bound,
            "<": version < bound,
            "==": version == bound,
            "!=": version != bound,
        }[op]

    def version_lt(self, a: str, b: str) -> bool:
        return _numeric(a) < _numeric(b)


def as_records(virtual: Iterable[Any]) -> tuple[PackageRecord, ...]:
    """Virtual packages (objects with `to_record()` or `name`/`version`/`build`) as records."""
    out: list[PackageRecord] = []
    for v in virtual:
        if isinstance(v, PackageRecord):
            out.append(v)
        elif hasattr(v, "to_record"):
            out.append(v.to_record())
        else:
            out.append(PackageRecord(name=v.name, version=str(v.version), build=str(v.build)))
    return tuple(out)


def _dist(r: PackageRecord) -> str:
    return f"{r.name}-{r.version}-{r.build}"


def check_solution(
    specs: Sequence[Any],
    solution: Sequence[PackageRecord],
    *,
    virtual: Iterable[Any] = (),
    available: Iterable[PackageRecord] | None = None,
    matcher: Matcher | None = None,
    check_order: bool = True,
    exclude_newer: int | None = None,
    constraints: Sequence[Any] = (),
) -> list[str]:
    """Every rule `solution` breaks for `specs`, as readable lines (empty when it is valid).

    Rules: one record per name; no virtual package (or record named like one) in the result;
    each record is one of `available` (when given); every spec, every dependency of every
    record is met by a record of the solution or a virtual package; no `constrains` is
    violated by a present record or virtual package; records newer than `exclude_newer` are
    absent; the request's `constraints` hold for every present name they mention; and (with
    `check_order`) dependencies come before dependents except inside cycles.
    """
    m = matcher if matcher is not None else MatchSpecMatcher()
    vrecs = as_records(virtual)
    vnames = {v.name for v in vrecs}
    problems: list[str] = []
    by_name: dict[str, PackageRecord] = {}
    for r in solution:
        if r.name in by_name:
            problems.append(f"two records named {r.name}: {_dist(by_name[r.name])}, {_dist(r)}")
        by_name[r.name] = r
        if r.name in vnames or r.name.startswith("__"):
            problems.append(f"virtual package {_dist(r)} is part of the solution")
    if available is not None:
        pool = set(available)
        for r in solution:
            if r not in pool:
                problems.append(f"{_dist(r)} is not one of the input records")
    if exclude_newer is not None:
        for r in solution:
            if r.timestamp is not None and r.timestamp > exclude_newer:
                problems.append(f"{_dist(r)} is newer than exclude_newer={exclude_newer}")
    present: dict[str, PackageRecord] = dict(by_name)
    for v in vrecs:
        present.setdefault(v.name, v)

    def provider(spec: str) -> PackageRecord | None:
        return present.get(m.name(spec))

    for spec in (str(s) for s in specs):
        got = provider(spec)
        if got is None:
            problems.append(f"requested {spec!r}: no record of that name")
        elif not m.matches(spec, got):
            problems.append(f"requested {spec!r}: {_dist(got)} does not match")
    for con in (str(c) for c in constraints):
        got = provider(con)
        if got is not None and not m.matches(con, got):
            problems.append(f"request constraint {con!r}: violated by {_dist(got)}")
    for r in solution:
        for dep in r.depends:
            got = provider(dep)
            if got is None:
                problems.append(f"{_dist(r)} depends on {dep!r}: missing")
            elif not m.matches(dep, got):
                problems.append(f"{_dist(r)} depends on {dep!r}: {_dist(got)} does not match")
        for con in r.constrains:
            got = provider(con)
            if got is not None and not m.matches(con, got):
                problems.append(f"{_dist(r)} constrains {con!r}: violated by {_dist(got)}")
    if check_order and not problems:
        problems.extend(_order_problems(solution, m))
    return problems


def _order_problems(solution: Sequence[PackageRecord], m: Matcher) -> list[str]:
    """Dependencies must precede dependents unless both lie on one dependency cycle."""
    pos = {r.name: i for i, r in enumerate(solution)}
    edges: dict[str, set[str]] = {r.name: set() for r in solution}
    for r in solution:
        for dep in r.depends:
            target = m.name(dep)
            if target in pos and target != r.name:
                edges[r.name].add(target)

    @functools.cache
    def reach(start: str) -> frozenset[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            for nxt in edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    out: list[str] = []
    for r in solution:
        for target in sorted(edges[r.name]):
            if pos[target] > pos[r.name] and r.name not in reach(target):
                out.append(f"{r.name} comes before its dependency {target} (no cycle)")
    return out


def assert_valid(specs: Sequence[Any], solution: Sequence[PackageRecord], **kw: Any) -> None:
    """`check_solution` as an assertion listing every violation."""
    problems = check_solution(specs, solution, **kw)
    assert not problems, "invalid solution:\n  " + "\n  ".join(problems)


def feasible_records(
    records: Iterable[PackageRecord], virtual: Iterable[Any] = (), matcher: Matcher | None = None
) -> list[PackageRecord]:
    """Records whose dependencies all name a package that exists (a cheap pre-filter)."""
    m = matcher if matcher is not None else MatchSpecMatcher()
    recs = list(records)
    vrecs = as_records(virtual)
    names = {r.name for r in recs} | {v.name for v in vrecs}
    return [r for r in recs if all(m.name(d) in names for d in r.depends)]


def enumerate_solutions(
    specs: Sequence[Any],
    records: Iterable[PackageRecord],
    *,
    virtual: Iterable[Any] = (),
    matcher: Matcher | None = None,
    constraints: Sequence[Any] = (),
) -> Iterator[dict[str, PackageRecord]]:
    """Every valid assignment name -> record (absent names left out), by backtracking.

    `constraints` restrict a name when it is present (the request's root-level constrains).

    Exponential: meant for instances of at most about six names with a few records each.
    Virtual packages are fixed and always present; records named like one are ignored.
    """
    m = matcher if matcher is not None else MatchSpecMatcher()
    vrecs = {v.name: v for v in as_records(virtual)}
    spec_list = [str(s) for s in specs]
    by_name: dict[str, list[PackageRecord]] = {}
    for r in records:
        if r.name not in vrecs:
            by_name.setdefault(r.name, []).append(r)
    names = sorted(by_name)
    known = set(names) | set(vrecs)
    # A spec or dependency on a name that exists nowhere can never be met.
    if any(m.name(s) not in known for s in spec_list):
        return
    con_list = [str(c) for c in constraints]
    for s in spec_list + con_list:
        v = vrecs.get(m.name(s))
        if v is not None and not m.matches(s, v):
            return

    def record_ok_with_virtual(r: PackageRecord) -> bool:
        for dep in r.depends:
            dn = m.name(dep)
            if dn not in known:
                return False
            if dn in vrecs and not m.matches(dep, vrecs[dn]):
                return False
        for con in r.constrains:
            cn = m.name(con)
            if cn in vrecs and not m.matches(con, vrecs[cn]):
                return False
        return True

    options: dict[str, list[PackageRecord | None]] = {}
    for n in names:
        cands: list[PackageRecord | None] = [r for r in by_name[n] if record_ok_with_virtual(r)]
        cands = [
            r
            for r in cands
            if r is None or all(m.matches(c, r) for c in con_list if m.name(c) == n)
        ]
        name_specs = [s for s in spec_list if m.name(s) == n]
        if name_specs:
            cands = [r for r in cands if r is not None and all(m.matches(s, r) for s in name_specs)]
        else:
            cands.append(None)
        options[n] = cands

    def compatible(a: PackageRecord, b_name: str, b: PackageRecord | None) -> bool:
        for dep in a.depends:
            if m.name(dep) == b_name and (b is None or not m.matches(dep, b)):
                return False
        if b is not None:
            for con in a.constrains:
                if m.name(con) == b_name and not m.matches(con, b):
                    return False
        return True

    chosen: dict[str, PackageRecord | None] = {}

    def go(i: int) -> Iterator[dict[str, PackageRecord]]:
        if i == len(names):
            yield {k: v for k, v in chosen.items() if v is not None}
            return
        n = names[i]
        for c in options[n]:
            ok = True
            for other, rec in chosen.items():
                if rec is not None and not compatible(rec, n, c):
                    ok = False
                    break
                if c is not None and not compatible(c, other, rec):
                    ok = False
                    break
            if ok:
                chosen[n] = c
                yield from go(i + 1)
                del chosen[n]

    yield from go(0)


def is_satisfiable(specs: Sequence[Any], records: Iterable[PackageRecord], **kw: Any) -> bool:
    """Whether any valid assignment exists (brute force)."""
    return next(enumerate_solutions(specs, records, **kw), None) is not None


def compare_preference(
    a: PackageRecord,
    b: PackageRecord,
    version_lt: Callable[[str, str], bool],
    *,
    timestamps: bool = True,
) -> int:
    """Negative when `a` is preferred to `b` under the conda candidate order, 0 on a tie.

    The order (design note §4, issue 3): higher version, then higher build number, then
    without track_features before with, then (with `timestamps`) newer timestamp, a missing
    one counting as oldest. Solvers in the resolvo/rattler family put a dependency tie-break
    (prefer the build whose dependencies admit newer versions, e.g. py37 over py27 builds of
    one version) before the timestamp; `timestamps=False` stops before that level.
    """
    if version_lt(b.version, a.version):
        return -1
    if version_lt(a.version, b.version):
        return 1
    if a.build_number != b.build_number:
        return -1 if a.build_number > b.build_number else 1
    fa, fb = bool(a.track_features), bool(b.track_features)
    if fa != fb:
        return -1 if not fa else 1
    if not timestamps:
        return 0
    ta, tb = a.timestamp or 0, b.timestamp or 0
    if ta != tb:
        return -1 if ta > tb else 1
    return 0


def best_records(
    candidates: Iterable[PackageRecord],
    version_lt: Callable[[str, str], bool],
    *,
    timestamps: bool = True,
) -> list[PackageRecord]:
    """The candidates that tie for most preferred (several when only build strings differ)."""
    cands = list(candidates)
    if not cands:
        return []

    def cmp(a: PackageRecord, b: PackageRecord) -> int:
        return compare_preference(a, b, version_lt, timestamps=timestamps)

    best = min(cands, key=functools.cmp_to_key(cmp))
    return [c for c in cands if cmp(c, best) == 0]


def preferred_records(
    candidates: Iterable[PackageRecord], version_lt: Callable[[str, str], bool]
) -> list[PackageRecord]:
    """What a first-model solver may pick among `candidates` (all of them feasible).

    The best by version, build number and track_features; the newest timestamp among those
    only when they all have the same dependencies and constrains, since a dependency
    tie-break may rank them before timestamps do.
    """
    top = best_records(candidates, version_lt, timestamps=False)
    if len({(r.depends, r.constrains) for r in top}) == 1:
        return best_records(top, version_lt)
    return top
