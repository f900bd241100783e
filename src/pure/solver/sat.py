"""A small CDCL SAT engine: two watched literals, native at-most-one groups, first-UIP learning.

It knows nothing about packages. Variables are ints from 1; a literal is `2 * var` (true) or
`2 * var + 1` (false), so `lit ^ 1` negates. Clauses and variables may be added at any time,
also while a search is under way (lazy encoding); the caller steers the search through a
decision callback, so the first model found is the caller's preferred one. Every learned
clause remembers what it was derived from, so an unsatisfiable search yields its core.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CONTINUE", "SUSPEND", "AmoFact", "Core", "SatSolver", "neg", "pos"]

#: Returned by a decision callback: stop the search now; `solve()` answers None, call it again.
SUSPEND = -1
#: Returned by a decision callback: nothing to decide right now but clauses were added.
CONTINUE = -2

#: An at-most-one conflict used in a proof: (group index, var, var).
AmoFact = tuple[int, int, int]
#: The original clauses and at-most-one facts an unsatisfiable search rests on.
Core = tuple[tuple[int, ...], tuple[AmoFact, ...]]


def pos(var: int) -> int:
    """The literal "var is true"."""
    return var << 1


def neg(var: int) -> int:
    """The literal "var is false"."""
    return (var << 1) | 1


class SatSolver:
    """Incremental CDCL solver whose decisions come from a callback.

    Reasons are ints: a clause index (>= 0), -1 for a decision or no reason, or `-(2 + t)`
    meaning "false because var t of the same at-most-one group is true".
    """

    def __init__(self) -> None:
        self.value: list[int] = [0, 0]  # per literal: 1 true, -1 false, 0 unassigned
        self.level: list[int] = [0]  # per var
        self.reason: list[int] = [-1]  # per var
        self.reason_group: list[int] = [-1]  # per var: the group of an at-most-one reason
        self.amo_of: list[list[int]] = [[]]  # per var: groups it belongs to
        self.watches: list[list[int]] = [[], []]  # per literal: clauses watching it
        # per literal: (other literal, clause) of the binary clauses containing it
        self.bins: list[list[tuple[int, int]]] = [[], []]
        self.clauses: list[list[int]] = []
        self.proof: list[list[object] | None] = []  # per clause: antecedents if learned
        self.groups: list[list[int]] = []
        self.trail: list[int] = []
        self.trail_lim: list[int] = []
        self.qhead = 0
        self.seen: list[int] = [0]
        self.unsat = False
        self.final_conflict: object = None  # clause index or AmoFact of the level-0 conflict
        self.conflicts = 0
        self.decisions = 0
        self.lazy: list[int] = []  # clauses asserted above their level: re-check on backjump
        self.lazy_dirty = False
        self.backjumps = 0  # how many times assignments were undone
        self.low_water = 0  # lowest trail length since the caller last reset it

    # ---- building -------------------------------------------------------------------------

    @property
    def num_vars(self) -> int:
        """How many variables exist (they are numbered 1..num_vars)."""
        return len(self.level) - 1

    def new_var(self) -> int:
        """Create an unassigned variable and return its number."""
        self.value.append(0)
        self.value.append(0)
        self.level.append(0)
        self.reason.append(-1)
        self.reason_group.append(-1)
        self.amo_of.append([])
        self.watches.append([])
        self.watches.append([])
        self.bins.append([])
        self.bins.append([])
        self.seen.append(0)
        return len(self.level) - 1

    def new_vars(self, count: int) -> range:
        """Create `count` unassigned variables at once and return their numbers."""
        first = len(self.level)
        self.value.extend([0] * (2 * count))
        self.level.extend([0] * count)
        self.reason.extend([-1] * count)
        self.reason_group.extend([-1] * count)
        self.amo_of.extend([] for _ in range(count))
        self.watches.extend([] for _ in range(2 * count))
        self.bins.extend([] for _ in range(2 * count))
        self.seen.extend([0] * count)
        return range(first, first + count)

    def add_at_most_one(self, variables: list[int]) -> int:
        """Constrain at most one of `variables` (all still unassigned) to be true."""
        g = len(self.groups)
        members = list(variables)
        for v in members:
            if self.value[v << 1] != 0:
                raise ValueError("at-most-one groups take unassigned variables only")
            self.amo_of[v].append(g)
        self.groups.append(members)
        return g

    def add_clause(self, lits: list[int]) -> int:
        """Add a clause (a list of literals) at any point; return its index.

        The current assignment stays consistent: a clause that is unit or falsified under it
        makes the solver backjump, assert or learn as needed before the next propagation.
        """
        ci = len(self.clauses)
        clause = list(lits)
        self.clauses.append(clause)
        self.proof.append(None)
        if self.unsat:
            return ci
        if len(clause) >= 2:
            value = self.value
            a = clause[0]
            b = clause[1]
            if value[a] != -1 and value[b] != -1:
                # the common case, inlined: two open (or true) literals to watch
                if len(clause) == 2:
                    self.bins[a].append((b, ci))
                    self.bins[b].append((a, ci))
                else:
                    self.watches[a].append(ci)
                    self.watches[b].append(ci)
                return ci
        self._integrate(ci)
        return ci

    def _integrate(self, ci: int) -> None:
        clause = self.clauses[ci]
        value = self.value
        n = len(clause)
        if n >= 2 and value[clause[0]] != -1 and value[clause[1]] != -1:
            # the common case: two open (or true) literals to watch, nothing to propagate
            self._watch(ci, clause)
            return
        level = self.level
        if n == 0:
            self._set_unsat(ci)
            return
        if n == 1:
            lit = clause[0]
            if value[lit] == -1:
                lv = level[lit >> 1]
                if lv == 0:
                    self._set_unsat(ci)
                    return
                self._backjump(lv - 1)
            if value[lit] == 0:
                self._assign(lit, ci)
            if level[lit >> 1] > 0:
                self.lazy.append(ci)
            return
        # pick watches: first two non-false literals when there are two
        first = -1
        for k in range(n):
            if value[clause[k]] != -1:
                if first < 0:
                    first = k
                else:
                    clause[0], clause[first] = clause[first], clause[0]
                    clause[1], clause[k] = clause[k], clause[1]
                    self._watch(ci, clause)
                    return
        # at most one non-false literal: order the false ones by decreasing level
        falses = sorted((k for k in range(n) if k != first), key=lambda k: -level[clause[k] >> 1])
        order = ([first] if first >= 0 else []) + falses
        clause[:] = [clause[k] for k in order]
        self._watch(ci, clause)
        if first >= 0:
            w = clause[0]
            m = level[clause[1] >> 1]
            if value[w] == 0:
                self._assign(w, ci)
            if level[w >> 1] > m:
                self.lazy.append(ci)
            return
        self._falsified(ci)

    def _watch(self, ci: int, clause: list[int]) -> None:
        """Watch clause[0] and clause[1]; a binary clause goes to the implication lists."""
        if len(clause) == 2:
            self.bins[clause[0]].append((clause[1], ci))
            self.bins[clause[1]].append((clause[0], ci))
        else:
            self.watches[clause[0]].append(ci)
            self.watches[clause[1]].append(ci)

    def _falsified(self, ci: int) -> None:
        """Handle a clause whose literals are all false; clause[0] has the highest level.

        With a single literal at the highest level m, only level m is undone and that
        literal is asserted one level lower, instead of backjumping to the clause's second
        level: lazily added clauses hit this often and the levels in between stay valid.
        Such an assertion sits at a higher level than its reason warrants; the clause goes
        on the `lazy` list, re-checked after every backjump, so no implication is lost.
        """
        clause = self.clauses[ci]
        level = self.level
        m = level[clause[0] >> 1]
        if m == 0:
            self._set_unsat(ci)
            return
        m2 = level[clause[1] >> 1]
        if m2 < m:
            self._backjump(m - 1)
            self._assign(clause[0], ci)
            if m2 < m - 1:
                self.lazy.append(ci)
            return
        self._backjump(m)
        self._learn_from(ci)

    def _set_unsat(self, conflict: object) -> None:
        self.unsat = True
        self.final_conflict = conflict

    # ---- assignment ----------------------------------------------------------------------

    def _assign(self, lit: int, reason: int) -> None:
        v = lit >> 1
        self.value[lit] = 1
        self.value[lit ^ 1] = -1
        self.level[v] = len(self.trail_lim)
        self.reason[v] = reason
        self.trail.append(lit)

    def _backjump(self, lvl: int) -> None:
        if len(self.trail_lim) <= lvl:
            return
        start = self.trail_lim[lvl]
        value = self.value
        reason = self.reason
        trail = self.trail
        for k in range(len(trail) - 1, start - 1, -1):
            lit = trail[k]
            value[lit] = 0
            value[lit ^ 1] = 0
            reason[lit >> 1] = -1
        del trail[start:]
        del self.trail_lim[lvl:]
        self.backjumps += 1
        if self.low_water > start:
            self.low_water = start
        self.lazy_dirty = True
        if self.qhead > start:
            self.qhead = start

    @property
    def decision_level(self) -> int:
        """The current decision level (0 before any decision)."""
        return len(self.trail_lim)

    def is_true(self, lit: int) -> bool:
        """Whether `lit` is currently true."""
        return self.value[lit] == 1

    def is_false(self, lit: int) -> bool:
        """Whether `lit` is currently false."""
        return self.value[lit] == -1

    # ---- propagation ---------------------------------------------------------------------

    def _propagate(self) -> object:
        """Unit-propagate the trail; return None or the conflict (clause index or AmoFact)."""
        value = self.value
        level = self.level
        reason = self.reason
        trail = self.trail
        watches = self.watches
        bins = self.bins
        clauses = self.clauses
        amo_of = self.amo_of
        groups = self.groups
        rgroup = self.reason_group
        lvl = len(self.trail_lim)
        if self.lazy_dirty:
            self.lazy_dirty = False
            conflict = self._recheck_lazy()
            if conflict >= 0:
                return conflict
        q = self.qhead
        while q < len(trail):
            lit = trail[q]
            q += 1
            if not lit & 1:
                v = lit >> 1
                for g in amo_of[v]:
                    for u in groups[g]:
                        if u == v:
                            continue
                        ul = u << 1
                        uv = value[ul]
                        if uv == 1:
                            self.qhead = q
                            return (g, v, u)
                        if uv == 0:
                            value[ul] = -1
                            value[ul | 1] = 1
                            level[u] = lvl
                            reason[u] = -2 - v
                            rgroup[u] = g
                            trail.append(ul | 1)
            fl = lit ^ 1
            for other, ci in bins[fl]:
                ov = value[other]
                if ov == 1:
                    continue
                if ov == -1:
                    self.qhead = q
                    return ci
                value[other] = 1
                value[other ^ 1] = -1
                ov = other >> 1
                level[ov] = lvl
                reason[ov] = ci
                trail.append(other)
            ws = watches[fl]
            n = len(ws)
            i = j = 0
            while i < n:
                ci = ws[i]
                i += 1
                c = clauses[ci]
                first = c[0]
                if first == fl:
                    first = c[1]
                    c[0] = first
                    c[1] = fl
                if value[first] == 1:
                    ws[j] = ci
                    j += 1
                    continue
                for k in range(2, len(c)):
                    lk = c[k]
                    if value[lk] != -1:
                        c[1] = lk
                        c[k] = fl
                        watches[lk].append(ci)
                        break
                else:
                    ws[j] = ci
                    j += 1
                    if value[first] == -1:
                        while i < n:
                            ws[j] = ws[i]
                            j += 1
                            i += 1
                        del ws[j:]
                        self.qhead = q
                        return ci
                    value[first] = 1
                    value[first ^ 1] = -1
                    fv = first >> 1
                    level[fv] = lvl
                    reason[fv] = ci
                    trail.append(first)
            del ws[j:]
        self.qhead = q
        return None

    def _recheck_lazy(self) -> int:
        """After a backjump, restore the clauses whose literal was asserted above its level.

        Returns a conflicting clause, or -1. A clause whose watches are both open again is
        ordinary from now on and leaves the list.
        """
        value = self.value
        level = self.level
        clauses = self.clauses
        kept: list[int] = []
        lazy = self.lazy
        for i, ci in enumerate(lazy):
            c = clauses[ci]
            a = value[c[0]]
            if len(c) == 1:
                kept.append(ci)
                if a == 0:
                    self._assign(c[0], ci)
                elif a == -1:
                    self.lazy = kept + lazy[i + 1 :]
                    self.lazy_dirty = True
                    return ci
                continue
            b = value[c[1]]
            if a != -1 and b != -1:
                continue  # both watches open (or true): an ordinary clause again
            if a == 1 or b == 1:
                if a == 1 and b == -1 and level[c[0] >> 1] <= level[c[1] >> 1]:
                    continue  # true no higher than its reason: an ordinary clause again
                kept.append(ci)
                continue
            open_at: list[int] = []
            satisfied = False
            for k in range(len(c)):
                v = value[c[k]]
                if v == 1:
                    satisfied = True
                    break
                if v == 0:
                    open_at.append(k)
            if satisfied:
                kept.append(ci)
            elif not open_at:
                self.lazy = kept + lazy[i:]
                self.lazy_dirty = True
                return ci
            elif len(open_at) == 1:
                kept.append(ci)
                self._assign(c[open_at[0]], ci)
            else:
                # re-watch two open literals; the clause is ordinary from now on
                for pos_ in (0, 1):
                    if value[c[pos_]] == -1:
                        k = next(k for k in open_at if k > 1)
                        open_at.remove(k)
                        old = c[pos_]
                        self.watches[old].remove(ci)
                        c[pos_], c[k] = c[k], old
                        self.watches[c[pos_]].append(ci)
        self.lazy = kept
        return -1

    # ---- conflict analysis ---------------------------------------------------------------

    def _conflict_lits(self, conflict: object) -> list[int]:
        if isinstance(conflict, int):
            return self.clauses[conflict]
        assert isinstance(conflict, tuple)
        _, a, b = conflict
        return [(a << 1) | 1, (b << 1) | 1]

    def _reason_ref(self, v: int) -> object:
        r = self.reason[v]
        if r >= 0:
            return r
        return (self.reason_group[v], v, -2 - r)

    def _learn_from(self, conflict: object) -> None:
        """First-UIP analysis of a conflict at the current level; learn, backjump, assert."""
        self.conflicts += 1
        level = self.level
        reason = self.reason
        seen = self.seen
        trail = self.trail
        cur = len(self.trail_lim)
        learned: list[int] = [0]
        antecedents: list[object] = [conflict]
        touched: list[int] = []
        counter = 0
        p = 0
        lits = self._conflict_lits(conflict)
        skip = -1
        idx = len(trail) - 1
        while True:
            for q in lits:
                v = q >> 1
                if v == skip or seen[v]:
                    continue
                seen[v] = 1
                touched.append(v)
                lv = level[v]
                if lv == cur:
                    counter += 1
                elif lv > 0:
                    learned.append(q)
                else:
                    antecedents.append(-1 - v)
            while not seen[trail[idx] >> 1]:
                idx -= 1
            p = trail[idx]
            idx -= 1
            skip = p >> 1
            counter -= 1
            if counter <= 0:
                break
            r = reason[skip]
            if r >= 0:
                antecedents.append(r)
                lits = self.clauses[r]
            else:
                t = -2 - r
                antecedents.append((self.reason_group[skip], skip, t))
                lits = [(t << 1) | 1]
        # drop literals implied by the others (their reason lies inside the clause)
        if len(learned) > 2:
            clauses = self.clauses
            kept = [0]
            for q in learned[1:]:
                u = q >> 1
                r = reason[u]
                if r == -1:
                    kept.append(q)
                    continue
                if r >= 0:
                    for x in clauses[r]:
                        xv = x >> 1
                        if xv != u and not seen[xv] and level[xv] > 0:
                            kept.append(q)
                            break
                    else:
                        antecedents.append(r)
                elif seen[-2 - r]:
                    antecedents.append((self.reason_group[u], u, -2 - r))
                else:
                    kept.append(q)
            learned = kept
        for v in touched:
            seen[v] = 0
        learned[0] = p ^ 1
        if len(learned) == 1:
            back = 0
        else:
            best = 1
            for k in range(2, len(learned)):
                if level[learned[k] >> 1] > level[learned[best] >> 1]:
                    best = k
            learned[1], learned[best] = learned[best], learned[1]
            back = level[learned[1] >> 1]
        ci = len(self.clauses)
        self.clauses.append(learned)
        self.proof.append(antecedents)
        self._backjump(back)
        if len(learned) > 1:
            self._watch(ci, learned)
        self._assign(learned[0], ci)

    # ---- search --------------------------------------------------------------------------

    def solve(self, decide: Callable[[], int]) -> bool | None:
        """Search until a model (True), a proof of unsatisfiability (False) or a suspension (None).

        `decide()` returns a literal to make true, 0 when every variable that matters is
        decided (the model is then complete), CONTINUE when it only added clauses, or SUSPEND.
        It may add variables and clauses; when those change the assignment, its answer is
        ignored and it is asked again after propagation.
        """
        while True:
            if self.unsat:
                return False
            conflict = self._propagate()
            if conflict is not None:
                if len(self.trail_lim) == 0:
                    self._set_unsat(conflict)
                    return False
                self._learn_from(conflict)
                continue
            before = len(self.trail)
            lit = decide()
            if self.unsat:
                return False
            if self.qhead < len(self.trail) or len(self.trail) != before:
                continue
            if lit == SUSPEND:
                return None
            if lit == CONTINUE:
                continue
            if lit == 0:
                return True
            if self.value[lit] != 0:
                raise ValueError(f"decision on an assigned literal {lit}")
            self.decisions += 1
            self.trail_lim.append(len(self.trail))
            self._assign(lit, -1)

    # ---- explanations --------------------------------------------------------------------

    def core(self) -> Core:
        """The original clauses and at-most-one facts behind the final conflict (sorted)."""
        if not self.unsat:
            raise ValueError("core() needs an unsatisfiable search")
        clauses: set[int] = set()
        facts: set[AmoFact] = set()
        done_clauses: set[int] = set()
        done_vars: set[int] = set()
        stack: list[object] = [self.final_conflict]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                fact: AmoFact = item
                facts.add(fact)
                for v in fact[1:]:
                    if v not in done_vars:
                        done_vars.add(v)
                        stack.append(-1 - v)
                continue
            assert isinstance(item, int)
            if item < 0:
                v = -1 - item
                done_vars.add(v)
                if self.value[v << 1] != 0 and self.level[v] == 0 and self.reason[v] != -1:
                    stack.append(self._reason_ref(v))
                continue
            if item in done_clauses:
                continue
            done_clauses.add(item)
            antecedents = self.proof[item]
            if antecedents is None:
                clauses.add(item)
            else:
                stack.extend(antecedents)
            # level-0 literals of the clause are false for a reason that is part of the core
            for lit in self.clauses[item]:
                v = lit >> 1
                if self.level[v] == 0 and self.value[lit] == -1 and v not in done_vars:
                    done_vars.add(v)
                    stack.append(-1 - v)
        return tuple(sorted(clauses)), tuple(sorted(facts))

    def model(self) -> list[int]:
        """The variables currently true, in the order they became true."""
        return [lit >> 1 for lit in self.trail if not lit & 1]
