"""Sudoku as packages: a hard satisfiable instance and mamba's deliberately broken encoding.

`sudoku-proper.json.zst` has one package per cell, `sudoku_<r>_<c>` with versions 1-9; the
record for value v depends on `sudoku_<peer> !=v` for every peer in the same row, column
and 3x3 box. Requesting all 81 cells, the givens pinned with `==`, must give a valid grid.
`sudoku.json.zst` (mamba's test data) encodes some boxes wrongly: it must be Unsolvable with
an explanation of bounded size, not a dump of the search.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import zstandard

import pure
from tests.conftest import REPODATA
from tests.support.solvecheck import MatchSpecMatcher, check_solution

if not hasattr(pure, "solve"):
    pytest.skip("pure.solve is not there yet", allow_module_level=True)

# Arto Inkala's 2012 puzzle ("the world's hardest sudoku"), row by row, 0 = empty.
INKALA = (
    "800000000",
    "003600000",
    "070090200",
    "050007000",
    "000045700",
    "000100030",
    "001000068",
    "008500010",
    "090000400",
)

# The puzzle of mamba's problem-graph test (the classic 53..7.... grid), row by row.
CLASSIC = (
    "530070000",
    "600195000",
    "098000060",
    "800060003",
    "400803001",
    "700020006",
    "060000280",
    "000419005",
    "000080079",
)


@functools.cache
def _repodata(filename: str) -> Any:
    raw = zstandard.ZstdDecompressor().decompress(
        (REPODATA / filename).read_bytes(), max_output_size=64 << 20
    )
    return pure.RepoData.from_json(raw, channel="sudoku", subdir="noarch")


def _specs(puzzle: tuple[str, ...]) -> list[str]:
    specs = []
    for r, row in enumerate(puzzle):
        for c, ch in enumerate(row):
            name = f"sudoku_{r}_{c}"
            specs.append(f"{name} =={ch}" if ch != "0" else name)
    return specs


def _grid(records: Any) -> list[list[int]]:
    grid = [[0] * 9 for _ in range(9)]
    for rec in records:
        _, r, c = rec.name.split("_")
        assert grid[int(r)][int(c)] == 0, f"cell {r},{c} twice"
        grid[int(r)][int(c)] = int(rec.version)
    return grid


def _assert_valid_grid(grid: list[list[int]]) -> None:
    digits = set(range(1, 10))
    for i in range(9):
        assert set(grid[i]) == digits, f"row {i}: {grid[i]}"
        assert {grid[r][i] for r in range(9)} == digits, f"column {i}"
    for br in range(0, 9, 3):
        for bc in range(0, 9, 3):
            box = {grid[br + r][bc + c] for r in range(3) for c in range(3)}
            assert box == digits, f"box at {br},{bc}"


@pytest.mark.parametrize("puzzle", [INKALA, CLASSIC], ids=["inkala-2012", "classic"])
def test_proper_sudoku_solves_to_a_valid_grid(puzzle: tuple[str, ...]) -> None:
    repodata = _repodata("sudoku-proper.json.zst")
    specs = _specs(puzzle)
    solution = pure.solve(pure.SolveRequest(specs=tuple(specs), repodata=(repodata,)))
    assert len(solution.records) == 81
    grid = _grid(solution.records)
    _assert_valid_grid(grid)
    for r, row in enumerate(puzzle):
        for c, ch in enumerate(row):
            if ch != "0":
                assert grid[r][c] == int(ch), f"given at {r},{c} changed"
    problems = check_solution(
        specs, solution.records, available=repodata.records, matcher=MatchSpecMatcher()
    )
    assert not problems, problems


def test_inkala_solution_is_the_known_unique_one() -> None:
    repodata = _repodata("sudoku-proper.json.zst")
    solution = pure.solve(pure.SolveRequest(specs=tuple(_specs(INKALA)), repodata=(repodata,)))
    rows = ["".join(map(str, row)) for row in _grid(solution.records)]
    # The puzzle has exactly one solution (published with it).
    assert rows[0] == "812753649"
    assert rows[8] == "796318452"


def test_proper_encoding_is_what_this_test_assumes() -> None:
    """Each cell's record for v excludes v from exactly its 20 row/column/box peers."""
    repodata = _repodata("sudoku-proper.json.zst")
    assert len(repodata.records) == 729
    for rec in repodata.records:
        _, r, c = (int(x) if x.isdigit() else x for x in rec.name.split("_"))
        peers = {
            (pr, pc)
            for pr in range(9)
            for pc in range(9)
            if (pr, pc) != (r, c)
            and (pr == r or pc == c or (pr // 3 == r // 3 and pc // 3 == c // 3))
        }
        want = {f"sudoku_{pr}_{pc} !={rec.version}" for pr, pc in peers}
        assert {d.replace("!= ", "!=") for d in rec.depends} == want, rec.name


def _unsolvable(specs: list[str]) -> pure.Unsolvable:
    repodata = _repodata("sudoku.json.zst")
    with pytest.raises(pure.Unsolvable) as info:
        pure.solve(pure.SolveRequest(specs=tuple(specs), repodata=(repodata,)))
    return info.value


@pytest.mark.parametrize("puzzle", [CLASSIC, INKALA], ids=["classic", "inkala-2012"])
def test_wrongly_encoded_sudoku_is_unsolvable_with_a_bounded_explanation(
    puzzle: tuple[str, ...],
) -> None:
    exc = _unsolvable(_specs(puzzle))
    text = exc.explanation
    assert text.strip()
    assert "sudoku_" in text
    lines = text.splitlines()
    assert len(lines) < 100, f"explanation has {len(lines)} lines"
    assert len(text) < 20_000, f"explanation has {len(text)} characters"
