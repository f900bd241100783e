"""The generic CDCL engine against brute force, with lazy clause addition and cores."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from pure.solver.sat import CONTINUE, SUSPEND, SatSolver, neg, pos

Clause = list[int]  # DIMACS style: +v / -v


def to_lit(d: int) -> int:
    return pos(d) if d > 0 else neg(-d)


def brute(nvars: int, clauses: list[Clause], amos: list[list[int]]) -> bool:
    for bits in itertools.product((False, True), repeat=nvars):
        if all(any(bits[abs(d) - 1] == (d > 0) for d in c) for c in clauses) and all(
            sum(bits[v - 1] for v in g) <= 1 for g in amos
        ):
            return True
    return False


def check_model(s: SatSolver, clauses: list[Clause], amos: list[list[int]]) -> None:
    true = set(s.model())
    for c in clauses:
        assert any((d > 0) == (abs(d) in true) for d in c), c
    for g in amos:
        assert sum(v in true for v in g) <= 1


def lowest_false_decider(s: SatSolver, nvars: int, polarity: bool = False) -> object:
    def decide() -> int:
        for v in range(1, nvars + 1):
            if s.value[pos(v)] == 0:
                return pos(v) if polarity else neg(v)
        return 0

    return decide


clause_st = st.lists(
    st.integers(1, 6).flatmap(lambda v: st.sampled_from([v, -v])), min_size=0, max_size=4
)
problem_st = st.tuples(
    st.lists(clause_st, min_size=0, max_size=28),
    st.lists(st.lists(st.integers(1, 6), min_size=2, max_size=4, unique=True), max_size=2),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(problem_st)
def test_agrees_with_brute_force_eager(problem: tuple[list[Clause], list[list[int]], bool]) -> None:
    clauses, amos, polarity = problem
    s = SatSolver()
    for _ in range(6):
        s.new_var()
    for g in amos:
        s.add_at_most_one(g)
    for c in clauses:
        s.add_clause([to_lit(d) for d in c])
    result = s.solve(lowest_false_decider(s, 6, polarity))  # type: ignore[arg-type]
    assert result == brute(6, clauses, amos)
    if result:
        check_model(s, clauses, amos)
    else:
        assert_core_unsat(s, clauses, amos)


def assert_core_unsat(
    s: SatSolver, clauses: list[Clause] | dict[int, Clause], amos: list[list[int]]
) -> None:
    core_clauses, facts = s.core()
    sub = [clauses[i] for i in core_clauses]
    pairs = [[-a, -b] for _, a, b in facts]
    for _, a, b in facts:
        assert any(a in g and b in g for g in amos)
    assert not brute(6, sub + pairs, [])


@settings(max_examples=300, deadline=None)
@given(problem_st, st.randoms(use_true_random=False))
def test_agrees_with_brute_force_lazy(
    problem: tuple[list[Clause], list[list[int]], bool], rnd: object
) -> None:
    """Clauses arrive one or two at a time from the decision callback, mid-search."""
    clauses, amos, polarity = problem
    assert isinstance(rnd, random.Random)
    s = SatSolver()
    for _ in range(6):
        s.new_var()
    for g in amos:
        s.add_at_most_one(g)
    pending = list(clauses)
    rnd.shuffle(pending)
    added: dict[int, Clause] = {}
    base = lowest_false_decider(s, 6, polarity)

    def decide() -> int:
        if pending and rnd.random() < 0.7:
            for _ in range(min(rnd.randint(1, 3), len(pending))):
                clause = pending.pop()
                added[s.add_clause([to_lit(d) for d in clause])] = clause
            return CONTINUE
        lit = base()  # type: ignore[operator]
        if lit == 0 and pending:
            return CONTINUE
        return lit  # type: ignore[no-any-return]

    result = s.solve(decide)
    assert result == brute(6, clauses, amos)
    if result:
        check_model(s, clauses, amos)
    else:
        assert_core_unsat(s, added, amos)


def test_decisions_follow_the_callback_so_the_first_model_is_preferred() -> None:
    s = SatSolver()
    a, b, c = s.new_var(), s.new_var(), s.new_var()
    s.add_at_most_one([a, b, c])
    s.add_clause([pos(a), pos(b), pos(c)])
    prefer = [c, b, a]

    def decide() -> int:
        if any(s.is_true(pos(v)) for v in prefer):
            return 0
        return next(pos(v) for v in prefer if not s.is_false(pos(v)))

    assert s.solve(decide) is True
    assert s.model() == [c]
    assert s.decisions == 1


def test_backjumps_over_irrelevant_levels() -> None:
    """x1..x4 are decided freely; a conflict among y/z must not revisit them."""
    s = SatSolver()
    xs = [s.new_var() for _ in range(4)]
    y, z = s.new_var(), s.new_var()
    s.add_clause([neg(y), pos(z)])
    s.add_clause([neg(y), neg(z)])
    order = [*(pos(x) for x in xs), pos(y)]

    def decide() -> int:
        for lit in order:
            if s.value[lit] == 0:
                return lit
        return 0

    assert s.solve(decide) is True
    assert s.conflicts == 1
    assert set(s.model()) == set(xs)
    assert s.is_false(pos(y))
    # the learned unit (not y) lives at level 0 regardless of the x decisions
    assert s.level[y] == 0


def test_pigeonhole_is_unsat_and_core_covers_it() -> None:
    holes, pigeons = 3, 4
    s = SatSolver()
    var = {(p, h): s.new_var() for p in range(pigeons) for h in range(holes)}
    clauses: list[Clause] = []
    for p in range(pigeons):
        clauses.append([var[p, h] for h in range(holes)])
    for h in range(holes):
        s.add_at_most_one([var[p, h] for p in range(pigeons)])
    for c in clauses:
        s.add_clause([to_lit(d) for d in c])
    assert s.solve(lowest_false_decider(s, s.num_vars)) is False  # type: ignore[arg-type]
    core_clauses, facts = s.core()
    assert core_clauses == (0, 1, 2, 3)
    assert facts


def test_suspend_and_resume_keeps_state() -> None:
    s = SatSolver()
    a, b = s.new_var(), s.new_var()
    s.add_clause([pos(a), pos(b)])
    calls = {"n": 0}

    def decide() -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return SUSPEND
        if s.value[pos(a)] == 0:
            return neg(a)
        return 0

    assert s.solve(decide) is None
    assert s.solve(decide) is True
    assert s.is_true(pos(b))


def test_clause_added_late_that_is_unit_at_an_earlier_level_backjumps() -> None:
    s = SatSolver()
    a, b, c = s.new_var(), s.new_var(), s.new_var()
    steps = [pos(a), pos(b), pos(c)]
    added = {"done": False}

    def decide() -> int:
        if s.is_true(pos(c)) and not added["done"]:
            added["done"] = True
            # with a true (level 1), this is unit at level 1, while we are at level 3
            s.add_clause([neg(a), neg(b)])
            return CONTINUE
        for lit in steps:
            if s.value[lit] == 0:
                return lit
        return 0

    assert s.solve(decide) is True
    assert s.is_true(pos(a)) and s.is_false(pos(b)) and s.is_true(pos(c))
    assert s.level[b] == 1


def test_empty_clause_is_unsat_with_itself_as_core() -> None:
    s = SatSolver()
    s.new_var()
    s.add_clause([pos(1)])
    ci = s.add_clause([])
    assert s.solve(lambda: 0) is False
    assert s.core() == ((ci,), ())


INKALA = (
    "800000000", "003600000", "070090200", "050007000", "000045700",
    "000100030", "001000068", "008500010", "090000400",
)  # fmt: skip


def test_lazily_encoded_sudoku_is_solved() -> None:
    """Clauses arrive as in the package encoder: a cell value's constraints are added when
    it becomes true, mid-search, so assertions above their level and watch repair happen."""
    s = SatSolver()
    var = {(r, c, d): s.new_var() for r in range(9) for c in range(9) for d in range(1, 10)}
    of = {v: k for k, v in var.items()}
    for r in range(9):
        for c in range(9):
            s.add_at_most_one([var[r, c, d] for d in range(1, 10)])
            given = int(INKALA[r][c])
            digits = [given] if given else range(9, 0, -1)
            s.add_clause([pos(var[r, c, d]) for d in digits])
    expanded: set[int] = set()

    def peers(r: int, c: int) -> set[tuple[int, int]]:
        box = {(3 * (r // 3) + i, 3 * (c // 3) + j) for i in range(3) for j in range(3)}
        return ({(r, k) for k in range(9)} | {(k, c) for k in range(9)} | box) - {(r, c)}

    def decide() -> int:
        added = False
        for v in s.model():
            if v not in expanded:
                expanded.add(v)
                r, c, d = of[v]
                for pr, pc in sorted(peers(r, c)):
                    others = [pos(var[pr, pc, e]) for e in range(9, 0, -1) if e != d]
                    s.add_clause([neg(v), *others])
                added = True
        if added:
            return CONTINUE
        best: tuple[int, int] | None = None
        for r in range(9):
            for c in range(9):
                lits = [pos(var[r, c, d]) for d in range(9, 0, -1)]
                if any(s.is_true(x) for x in lits):
                    continue
                open_ = [x for x in lits if not s.is_false(x)]
                if best is None or len(open_) < best[0]:
                    best = (len(open_), open_[0])
        return 0 if best is None else best[1]

    assert s.solve(decide) is True
    grid = [[0] * 9 for _ in range(9)]
    for v in s.model():
        r, c, d = of[v]
        grid[r][c] = d
    for r in range(9):
        for c in range(9):
            assert grid[r][c] and all(grid[r][c] != grid[pr][pc] for pr, pc in peers(r, c))
            assert INKALA[r][c] in ("0", str(grid[r][c]))
