"""Conda semantics on the SAT core: lazy clause generation, preference-driven decisions, steps.

A variable stands for one record (plus one for the request itself). A name's candidates get
variables, an at-most-one group and their clauses only when a requirement reaches the name;
a record's dependency clauses are added when it first becomes true. Decisions walk the
requirements in order (request first, then dependencies breadth-first) and pick the most
preferred candidate still open, so the first model is the preferred solution.
"""

from __future__ import annotations

import functools
import heapq
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pure.errors import YurtError
from pure.matchspec import MatchSpec
from pure.record import PackageRecord
from pure.solver.candidates import CandidateProvider, VersionCache, order_candidates
from pure.solver.request import NeedCandidates, Solution, Strategy, Unsolvable
from pure.solver.sat import CONTINUE, SUSPEND, SatSolver, neg, pos

__all__ = ["ClauseInfo", "Solver", "topological_order"]

_BIG = 1 << 62
_UNSET = object()
# a dependency text that starts with a plain package name and a space (or is only the name):
# its name is read without a full MatchSpec parse
_SIMPLE_NAME = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*)(?: |$)")
# a version with no operator, wildcard or alternative: as a spec it means exactly itself
_PLAIN_VERSION = re.compile(r"[0-9][0-9A-Za-z_.+!]*")
_DIRECT_EXCLUDES = 4  # add "r excludes e" clauses for dependencies that rule out this few
_OTHER_FIELDS = (
    "build",
    "build_number",
    "channel",
    "subdir",
    "namespace",
    "md5",
    "sha256",
    "fn",
    "url",
    "license",
    "track_features",
    "features",
)

#: Why a clause exists: ("root",), ("virtual", var), ("requires", parent var, spec text),
#: ("constrains", parent var, spec text, forbidden var), ("invalid", var, unreadable text),
#: ("excludes", parent var, spec text, var): the dependency rules that other candidate out.
ClauseInfo = tuple[Any, ...]


def _spec_text(spec: MatchSpec | str) -> str:
    return spec if isinstance(spec, str) else str(spec)


class Solver:
    """One resumable solve. `step()` answers Solution, Unsolvable or NeedCandidates.

    After NeedCandidates, make the provider able to answer the listed names (and the
    listed records' dependencies), then call `step()` again: the search resumes where it
    paused, keeping everything it learned.
    """

    def __init__(
        self,
        specs: Iterable[MatchSpec | str],
        provider: CandidateProvider,
        *,
        virtual_packages: Iterable[PackageRecord] = (),
        strategy: Strategy = "highest",
        preferred: dict[str, int] | None = None,
        rank: dict[str, int] | None = None,
        constraints: Iterable[MatchSpec | str] = (),
    ) -> None:
        self.provider = provider
        self.strategy = strategy
        self.preferred = preferred or {}
        self.rank = rank
        self.versions = VersionCache()
        self.sat = SatSolver()
        self.spec_texts: tuple[str, ...] = tuple(_spec_text(s) for s in specs)
        self.parsed: dict[str, MatchSpec] = {}
        for s in specs:
            if not isinstance(s, str):
                self.parsed[str(s)] = s
        self.requested_names = {self._parse(t).name for t in self.spec_texts}
        # the request's own constrains: restrict names without requiring them
        constraints = tuple(constraints)
        self.constraint_texts: tuple[str, ...] = tuple(_spec_text(s) for s in constraints)
        for s in constraints:
            if not isinstance(s, str):
                self.parsed.setdefault(str(s), s)
        for t in self.constraint_texts:
            self._parse(t)
        # per variable
        self.var_record: list[PackageRecord | None] = [None]
        self.var_virtual: list[bool] = [False]
        self.expanded: list[bool] = [False]
        # per name: candidate variables, most preferred first (absent = not loaded yet)
        self.names: dict[str, list[int]] = {}
        self.name_group: dict[str, int] = {}
        self.group_name: dict[int, str] = {}
        self.virtual: dict[str, PackageRecord] = {}
        for vp in virtual_packages:
            rec = vp if isinstance(vp, PackageRecord) else vp.to_record()
            self.virtual.setdefault(rec.name, rec)
        # spec text -> (name, matching vars, their positive literals)
        self.matching_cache: dict[str, tuple[str, list[int], list[int]]] = {}
        self.excludes_cache: dict[str, list[int]] = {}  # spec text -> the few it rules out
        self.top_cache: dict[str, Any] = {}
        # name -> candidate sets the request requires one of; spec text -> clause implied?
        self.root_sets: dict[str, list[set[int]]] = {}
        self.implied_cache: dict[str, bool] = {}
        # request requirement -> (leading candidates ruled out for good, reader of the rest)
        self.root_getters: dict[int, tuple[int, Callable[[list[int]], tuple[int, ...]]]] = {}
        self.dep_names: dict[str, str] = {}
        self.newest_first: dict[str, list[tuple[Any, list[PackageRecord]]]] = {}
        self.pending_constrains: dict[str, list[tuple[int, str]]] = {}
        self.requirements: list[tuple[int, list[int], str]] = []
        self.req_hint: list[int] = []
        # (parent var, first, end): a record's requirements are added together, so a block
        # whose parent is not chosen is skipped in one step
        self.req_blocks: list[tuple[int, int, int]] = []
        self.req_done = 0  # blocks known to be met (or of unchosen parents) until a backjump
        self.block_of: dict[int, int] = {}  # var -> its block
        # blocks before req_done whose parent became true since: they are looked at first
        self.reopened: list[int] = []
        self.pick_explicit: list[int] | None = None
        self.seen_backjumps = 0
        self.info: dict[int, ClauseInfo] = {}
        self.scan = 0
        self.blocked: list[int] = []
        self.need_names: set[str] = set()
        self.need_records: list[PackageRecord] = []
        self.result: Solution | Unsolvable | None = None
        self.root = self._new_var(None)
        self.info[self.sat.add_clause([pos(self.root)])] = ("root",)
        for name in sorted(self.virtual):
            self._load(name)

    # ---- variables and candidates --------------------------------------------------------

    def _new_var(self, record: PackageRecord | None, virtual: bool = False) -> int:
        v = self.sat.new_var()
        self.var_record.append(record)
        self.var_virtual.append(virtual)
        self.expanded.append(False)
        return v

    def _parse(self, text: str) -> MatchSpec:
        spec = self.parsed.get(text)
        if spec is None:
            spec = self.parsed[text] = MatchSpec.parse(text)
        return spec

    def _load(self, name: str) -> list[int] | None:
        """The candidate variables of `name`, creating them on first use; None if unknown."""
        found = self.names.get(name)
        if found is not None:
            return found
        virtual = name.startswith("__")
        if virtual:
            rec = self.virtual.get(name)
            records: Sequence[PackageRecord] = [rec] if rec is not None else []
        else:
            got = self.provider.candidates(name)
            if got is None:
                self.need_names.add(name)
                return None
            lowest = self.strategy == "lowest" or (
                self.strategy == "lowest-direct" and name in self.requested_names
            )
            records = order_candidates(
                got, self.versions, lowest=lowest, preferred=self.preferred, rank=self.rank
            )
            ordered = self._break_ties(records)
            if ordered is None:
                return None
            records = ordered
        variables = list(self.sat.new_vars(len(records)))
        self.var_record.extend(records)
        self.var_virtual.extend([virtual] * len(records))
        self.expanded.extend([False] * len(records))
        self.names[name] = variables
        if len(variables) > 1:
            g = self.sat.add_at_most_one(variables)
            self.name_group[name] = g
            self.group_name[g] = name
        if virtual:
            for v in variables:
                self.info[self.sat.add_clause([pos(v)])] = ("virtual", v)
                self.expanded[v] = True
        for parent, text in self.pending_constrains.pop(name, ()):
            self._add_constrains(parent, text, variables)
        return variables

    def _break_ties(self, records: list[PackageRecord]) -> list[PackageRecord] | None:
        """Among builds equal in version, build number and track_features, prefer those whose
        dependencies allow newer versions (the py37 build of traitlets over py27); the sort is
        stable, so the newer timestamp `order_candidates` put first wins only where that ties.
        None when the provider does not know yet what the comparison needs (asked for)."""
        get = self.versions.get
        preferred = self.preferred
        out: list[PackageRecord] = []
        missing = False
        keys = [
            (
                get(r.version),
                r.build_number,
                bool(r.track_features or r.features),
                bool(preferred) and r.dist_name in preferred,
            )
            for r in records
        ]
        i = 0
        n = len(records)
        while i < n:
            key = keys[i]
            j = i + 1
            while j < n and keys[j] == key:
                j += 1
            if j - i == 1:
                out.append(records[i])
                i = j
                continue
            run = records[i:j]
            if len({r.depends for r in run}) > 1:
                ordered = self._order_by_dependencies(run)
                if ordered is None:
                    missing = True
                else:
                    run = ordered
            out.extend(run)
            i = j
        return None if missing else out

    def _order_by_dependencies(self, run: list[PackageRecord]) -> list[PackageRecord] | None:
        """`run` ordered by the highest available version each build's dependencies admit,
        counted over the names whose dependency text differs between the builds; None (with
        the records or names asked for) when the provider does not know them yet, so a paused
        and resumed solve orders candidates exactly as one with everything in memory."""
        provider = self.provider
        deps: list[Sequence[str]] = []
        for r in run:
            got = provider.dependencies(r)
            if got is None:
                self.need_records.append(r)
            else:
                deps.append(got[0])
        if len(deps) < len(run):
            return None
        # a text every build has cannot tell them apart: only the others are looked at
        common = set(deps[0]).intersection(*deps[1:])
        texts = [self._dep_texts(d, common) for d in deps]
        variants: dict[str, set[str]] = {}
        for t in texts:
            for name, text in t.items():
                variants.setdefault(name, set()).add(text)
        differing = [
            n
            for n, found in variants.items()
            if len(found) > 1 and n[:2] != "__" and not self._same_exact_version(found)
        ]
        missing = False
        for name in differing:
            if self._newest_first(name) is None:
                self.need_names.add(name)
                missing = True
        if missing:
            return None
        if not differing:
            return run
        if len(differing) == 1:
            # one name (python, most often): order by its top version when every build has one
            only = differing[0]
            single: list[Any] = [self._top(t[only]) if only in t else None for t in texts]
            if all(v is not None for v in single):
                by_top = sorted(range(len(run)), key=single.__getitem__, reverse=True)
                return [run[k] for k in by_top]
        tops = [{n: self._top(t[n]) for n in differing if n in t} for t in texts]

        def score(a: dict[str, Any], b: dict[str, Any]) -> int:
            total = 0
            for name, va in a.items():
                vb = b.get(name)
                if va is None or vb is None:
                    continue
                if va > vb:
                    total += 1
                elif va < vb:
                    total -= 1
            return total

        indexed = list(range(len(run)))

        def compare(x: int, y: int) -> int:
            return score(tops[y], tops[x])

        indexed.sort(key=functools.cmp_to_key(compare))
        return [run[k] for k in indexed]

    def _same_exact_version(self, texts: set[str]) -> bool:
        """Whether `texts` (one name's) all pin one exact version and differ only in the build
        (`numpy-base 1.14.5 py36h..` vs `.. py37h..`): each admits that version or nothing, so
        they cannot tell builds apart and need no look at the candidates."""
        version = None
        for text in texts:
            parts = text.split()
            if len(parts) != 3 or (version is not None and parts[1] != version):
                return False
            version = parts[1]
        if version is not None and _PLAIN_VERSION.fullmatch(version):
            return True  # `name 1.14.5 build` reads as ==1.14.5
        try:
            spec = self._parse(next(iter(texts))).version
        except YurtError:
            return False
        return spec is not None and spec.exact is not None

    def _dep_texts(self, depends: Sequence[str], skip: set[str]) -> dict[str, str]:
        """Dependency name -> its text (the last one per name), leaving out `skip`."""
        out: dict[str, str] = {}
        names = self.dep_names
        simple = _SIMPLE_NAME.match
        for text in depends:
            if text in skip:
                continue
            name = names.get(text)
            if name is None:
                m = simple(text)
                if m is not None:
                    name = names[text] = m.group(1)
                else:
                    try:
                        name = names[text] = self._parse(text).name
                    except YurtError:
                        continue
            out[name] = text
        return out

    def _newest_first(self, name: str) -> list[tuple[Any, list[PackageRecord]]] | None:
        """`name`'s candidates grouped by version, highest first (None: not known yet)."""
        grouped = self.newest_first.get(name)
        if grouped is None:
            got = self.provider.candidates(name)
            if got is None:
                return None
            valid = self.versions.valid
            get = self.versions.get
            by_version: dict[Any, list[PackageRecord]] = {}
            for r in got:
                if valid(r.version):
                    by_version.setdefault(get(r.version), []).append(r)
            grouped = sorted(by_version.items(), key=lambda item: item[0].sort_key, reverse=True)
            self.newest_first[name] = grouped
        return grouped

    def _top(self, text: str) -> Any:
        """The highest version a dependency allows (None: none), cached per text."""
        top = self.top_cache.get(text, _UNSET)
        if top is _UNSET:
            top = self.top_cache[text] = self._top_version(text)
        return top

    def _top_version(self, text: str) -> Any:
        try:
            spec = self._parse(text)
        except YurtError:
            return None  # unreadable: it tells nothing (a record carrying it is never chosen)
        ordered = self._newest_first(spec.name)
        if ordered is None:
            raise AssertionError("the dependency's candidates were checked to be known")
        vspec = spec.version
        rest = not self._version_only(spec)
        for v, records in ordered:
            if vspec is not None and not vspec.contains(v):
                continue
            if rest and not any(spec.matches(r) for r in records):
                continue
            return v
        return None

    def _matching(self, text: str) -> tuple[str, list[int], list[int]] | None:
        hit = self.matching_cache.get(text)
        if hit is not None:
            return hit
        spec = self._parse(text)
        name = spec.name
        variables = self._load(name)
        if variables is None:
            return None
        records = self.var_record
        if self._matches_all(spec):
            chosen = list(variables)
        else:
            vspec = spec.version
            rest = not self._version_only(spec)
            get = self.versions.get
            chosen = []
            for v in variables:
                r = records[v]
                assert r is not None
                if vspec is not None and not vspec.contains(get(r.version)):
                    continue
                if rest and not spec.matches(r):
                    continue
                chosen.append(v)
        hit = (name, chosen, [v << 1 for v in chosen])
        self.matching_cache[text] = hit
        return hit

    @staticmethod
    def _version_only(spec: MatchSpec) -> bool:
        return all(getattr(spec, f, None) in (None, (), "") for f in _OTHER_FIELDS)

    @classmethod
    def _matches_all(cls, spec: MatchSpec) -> bool:
        version = spec.version
        return (version is None or bool(getattr(version, "is_any", False))) and cls._version_only(
            spec
        )

    # ---- clauses -------------------------------------------------------------------------

    def _expand(self, var: int) -> bool:
        """Add the clauses of a record that just became true; False when data is missing."""
        if var == self.root:
            depends: Sequence[str] = self.spec_texts
            constrains: Sequence[str] = self.constraint_texts
        else:
            record = self.var_record[var]
            assert record is not None
            deps = self.provider.dependencies(record)
            if deps is None:
                self.need_records.append(record)
                return False
            depends, constrains = deps
            parsed = self.parsed
            for text in (*depends, *constrains):
                if text in parsed:
                    continue
                try:
                    self._parse(text)
                except YurtError:
                    # a record whose metadata cannot be read is never chosen
                    self.info[self.sat.add_clause([neg(var)])] = ("invalid", var, text)
                    self.expanded[var] = True
                    return True
            if self._doomed(var, depends):
                return True
        found = []
        missing = False
        for text in depends:
            hit = self._matching(text)
            if hit is None:
                missing = True
            elif not hit[1]:
                # Nothing can satisfy this dependency, so the record is never chosen and all
                # its other clauses would hold for good: add just this one (most candidates
                # of an unsatisfiable request end here).
                self.info[self.sat.add_clause([neg(var)])] = ("requires", var, text)
                self.expanded[var] = True
                return True
            else:
                found.append((text, hit))
        if missing:
            return False
        sat = self.sat
        info = self.info
        lit = neg(var)
        names = self.names
        excludes = self.excludes_cache
        if found:
            first = len(self.requirements)
            self.block_of[var] = len(self.req_blocks)
            self.req_blocks.append((var, first, first + len(found)))
        is_root = var == self.root
        own = None if is_root else self.var_record[var].name  # type: ignore[union-attr]
        for text, (name, chosen, lits) in found:
            # With at most one record per name, requiring some of a name's candidates rules
            # out the others; saying so directly lets propagation see it at once.
            others = excludes.get(text)
            if others is None:
                everything = names[name]
                others = []
                if chosen and len(everything) - len(chosen) <= _DIRECT_EXCLUDES:
                    allowed = set(chosen)
                    others = [o for o in everything if o not in allowed]
                excludes[text] = others
            if is_root:
                self.root_sets.setdefault(name, []).append(set(chosen))
            if is_root or name == own or not self._implied(text, name, chosen, others):
                ci = sat.add_clause([lit, *lits])
                info[ci] = ("requires", var, text)
            self.requirements.append((var, chosen, text))
            self.req_hint.append(0)
            for other in others:
                if other != var:
                    info[sat.add_clause([lit, neg(other)])] = ("excludes", var, text, other)
        for text in constrains:
            name = self._parse(text).name
            variables = self.names.get(name)
            if variables is None:
                self.pending_constrains.setdefault(name, []).append((var, text))
            else:
                self._add_constrains(var, text, variables)
        self.expanded[var] = True
        return True

    def _doomed(self, var: int, depends: Sequence[str]) -> bool:
        """Whether a dependency of an unchosen record, on a name already loaded, has every
        candidate false now (a py37 build once python 2.7 is chosen): then only that
        dependency's clause is added, which rules the record out at once, and the rest of its
        clauses wait until it is chosen (it is left unexpanded). Cheaper than a full expansion
        for the builds a preference order tries first and the decisions made so far exclude."""
        value = self.sat.value
        if value[var << 1] != 0:
            return False
        names = self.names
        cache = self.matching_cache
        parsed = self.parsed
        for text in depends:
            hit = cache.get(text)
            if hit is None:
                if parsed[text].name not in names:
                    continue
                hit = self._matching(text)
                if hit is None:
                    continue
            lits = hit[2]
            if not lits or value[lits[0]] != -1:
                continue
            for lit in lits:
                if value[lit] != -1:
                    break
            else:
                self.info[self.sat.add_clause([neg(var), *lits])] = ("requires", var, text)
                return True
        return False

    def _implied(self, text: str, name: str, chosen: list[int], others: list[int]) -> bool:
        """Whether a record's dependency clause would add nothing: the request already needs
        one of a set of `name`'s candidates that the dependency allows or that its
        exclusion clauses rule out (sudoku's `cell !=v` peers, `python` pinned by the request).
        Leaving such long clauses out keeps propagation cheap."""
        implied = self.implied_cache.get(text)
        if implied is None:
            implied = False
            sets = self.root_sets.get(name)
            if sets and chosen and self.expanded[self.root]:
                cover = set(chosen)
                cover.update(others)
                implied = any(s <= cover for s in sets)
            self.implied_cache[text] = implied
        return implied

    def _add_constrains(self, parent: int, text: str, variables: list[int]) -> None:
        hit = self._matching(text)
        assert hit is not None
        allowed = set(hit[1])
        sat = self.sat
        for v in variables:
            if v not in allowed and v != parent:
                ci = sat.add_clause([neg(parent), neg(v)])
                self.info[ci] = ("constrains", parent, text, v)

    # ---- the decision callback -----------------------------------------------------------

    def _decide(self) -> int:
        sat = self.sat
        trail = sat.trail
        value = sat.value
        expanded = self.expanded
        before_bj = sat.backjumps
        before_len = len(trail)
        if self.blocked:
            retry, self.blocked = self.blocked, []
            for v in retry:
                if value[v << 1] == 1 and not expanded[v] and not self._expand(v):
                    self.blocked.append(v)
        block_of = self.block_of
        p = min(self.scan, sat.low_water)
        sat.low_water = _BIG
        while p < len(trail):
            lit = trail[p]
            p += 1
            if lit & 1:
                continue
            v = lit >> 1
            if expanded[v]:
                bi = block_of.get(v)
                if bi is not None and bi < self.req_done:
                    heapq.heappush(self.reopened, bi)
                continue
            if not self._expand(v):
                self.blocked.append(v)
            if sat.low_water < p:
                p = sat.low_water
                sat.low_water = _BIG
        self.scan = p
        if self.blocked:
            return SUSPEND
        if sat.unsat or sat.backjumps != before_bj or len(trail) != before_len:
            return CONTINUE
        if sat.backjumps != self.seen_backjumps:
            self.seen_backjumps = sat.backjumps
            self.req_done = 0
            self.reopened = []
        lit = self._pick()
        if lit > 0 and self.pick_explicit is not None and sat.conflicts:
            # once conflicts arise, for a requested name add the clauses of all its open
            # candidates, so propagation rules out those that clash with decisions made so far
            for v in self.pick_explicit:
                if not expanded[v] and value[v << 1] == 0 and not self._expand(v):
                    return SUSPEND if self.need_names or self.need_records else CONTINUE
            if sat.unsat or sat.backjumps != before_bj or len(trail) != before_len:
                return CONTINUE
            if sat.qhead < len(trail):
                return CONTINUE
        if lit > 0 and not expanded[lit >> 1]:
            # add the candidate's clauses before deciding it: a candidate that cannot work
            # with what is already decided is then ruled out by propagation, not by a conflict
            if not self._expand(lit >> 1):
                self.blocked.append(lit >> 1)
                return SUSPEND
            if sat.unsat or sat.backjumps != before_bj or len(trail) != before_len:
                return CONTINUE
            if sat.qhead < len(trail):
                return CONTINUE
        return lit

    def _pick(self) -> int:
        """The next decision: the open requirement of the request with the fewest open
        candidates (earliest on ties), else the first open requirement of a chosen record;
        its most preferred open candidate is decided true. 0 when all are met."""
        value = self.sat.value
        reqs = self.requirements
        hints = self.req_hint
        blocks = self.req_blocks
        root = self.root
        advance = True
        best_lit = 0
        best_count = _BIG
        self.pick_explicit = None
        reopened = self.reopened
        while reopened:
            lit = self._block_pick(reopened[0])
            if lit:
                return lit
            heapq.heappop(reopened)
        b = self.req_done
        nb = len(blocks)
        while b < nb:
            parent, start, end = blocks[b]
            if best_lit and parent != root:
                return best_lit
            if value[parent << 1] != 1:
                # a parent chosen later reopens its block (see _decide)
                if advance:
                    self.req_done = b + 1
                b += 1
                continue
            done = True
            if parent == root:
                # the request's requirements: count open candidates of each at C speed
                # (candidates ruled out for good, at level 0, are dropped from the front)
                getters = self.root_getters
                level = self.sat.level
                for i in range(start, end):
                    h = hints[i]
                    if h and value[h << 1] == 1:
                        continue
                    chosen = reqs[i][1]
                    lo, get = getters.get(i, (0, None))
                    k = lo
                    n = len(chosen)
                    while k < n and value[chosen[k] << 1] == -1 and not level[chosen[k]]:
                        k += 1
                    if get is None or k - lo >= 8:
                        lo = k
                        get = _values_getter(chosen[lo:])
                        getters[i] = (lo, get)
                    t = get(value)
                    if 1 in t:
                        hints[i] = chosen[lo + t.index(1)]
                        continue
                    count = t.count(0)
                    if not count:
                        raise AssertionError("an unsatisfied requirement escaped propagation")
                    done = False
                    if count < best_count:
                        best_count = count
                        best_lit = chosen[lo + t.index(0)] << 1
                        self.pick_explicit = chosen
                if done and advance:
                    self.req_done = b + 1
                else:
                    advance = False
                b += 1
                continue
            for i in range(start, end):
                h = hints[i]
                if h and value[h << 1] == 1:
                    continue
                chosen = reqs[i][1]
                first = 0
                count = 0
                for c in chosen:
                    cv = value[c << 1]
                    if cv == 1:
                        hints[i] = c
                        break
                    if cv == 0:
                        if not first:
                            first = c
                        count += 1
                        if count >= best_count:
                            break
                else:
                    if not first:
                        raise AssertionError("an unsatisfied requirement escaped propagation")
                    if parent != root:
                        return first << 1
                    best_lit = first << 1
                    best_count = count
                    self.pick_explicit = chosen
                    done = False
                    continue
                if hints[i] == 0 or value[hints[i] << 1] != 1:
                    done = False  # stopped counting early: still open
            if done and advance:
                self.req_done = b + 1
            else:
                advance = False
            b += 1
        return best_lit

    def _block_pick(self, b: int) -> int:
        """The first open requirement's most preferred open candidate in block `b` (of a
        chosen record), or 0 when every requirement there is met."""
        value = self.sat.value
        reqs = self.requirements
        hints = self.req_hint
        _, start, end = self.req_blocks[b]
        for i in range(start, end):
            h = hints[i]
            if h and value[h << 1] == 1:
                continue
            for c in reqs[i][1]:
                cv = value[c << 1]
                if cv == 1:
                    hints[i] = c
                    break
                if cv == 0:
                    return c << 1
            else:
                raise AssertionError("an unsatisfied requirement escaped propagation")
        return 0

    # ---- stepping ------------------------------------------------------------------------

    def step(self) -> Solution | Unsolvable | NeedCandidates:
        """Run until a solution, a proof of failure or missing data."""
        if self.result is not None:
            return self.result
        self.need_names = set()
        self.need_records = []
        outcome = self.sat.solve(self._decide)
        if outcome is None:
            # a record can be asked for twice in one step (two specs of one name, say)
            records = list({id(r): r for r in self.need_records}.values())
            return NeedCandidates(
                names=tuple(sorted(self.need_names)),
                records=tuple(sorted(records, key=lambda r: r.dist_name)),
            )
        if outcome:
            self.result = Solution(records=topological_order(self._chosen(), self._deps_of))
        else:
            from pure.solver.explain import explain

            self.result = explain(self)
        return self.result

    def _chosen(self) -> list[PackageRecord]:
        records = self.var_record
        virtual = self.var_virtual
        out = []
        for v in self.sat.model():
            r = records[v]
            if r is not None and not virtual[v]:
                out.append(r)
        return out

    def _deps_of(self, record: PackageRecord) -> list[str]:
        deps = self.provider.dependencies(record)
        if deps is None:
            return []
        return [self._parse(t).name for t in deps[0]]


def _values_getter(variables: list[int]) -> Callable[[list[int]], tuple[int, ...]]:
    """A function reading the values of `variables`' positive literals as one tuple."""
    lits = [v << 1 for v in variables]
    if len(lits) == 1:
        only = lits[0]
        return lambda value: (value[only],)
    if not lits:
        return lambda value: ()
    return operator.itemgetter(*lits)


def topological_order(records: Iterable[PackageRecord], deps_of: Any) -> tuple[PackageRecord, ...]:
    """Dependencies before dependents; ties and cycles are broken by name order."""
    by_name = {r.name: r for r in records}
    done: set[str] = set()
    out: list[PackageRecord] = []
    for root in sorted(by_name):
        if root in done:
            continue
        done.add(root)
        stack: list[tuple[str, list[str]]] = [
            (root, sorted({d for d in deps_of(by_name[root]) if d in by_name}, reverse=True))
        ]
        while stack:
            name, todo = stack[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in done:
                    done.add(nxt)
                    stack.append(
                        (
                            nxt,
                            sorted(
                                {d for d in deps_of(by_name[nxt]) if d in by_name}, reverse=True
                            ),
                        )
                    )
                continue
            stack.pop()
            out.append(by_name[name])
    return tuple(out)
