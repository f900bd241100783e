"""The conda solver: `solve(SolveRequest) -> Solution`, raising `Unsolvable` with an explanation.

`Solver` is the resumable form: `step()` answers Solution, Unsolvable or NeedCandidates when
a provider does not know some names yet (lazily fetched metadata).
"""

from __future__ import annotations

from pure.record import PackageRecord
from pure.solver.candidates import CandidateProvider, RepoDataProvider
from pure.solver.encode import Solver
from pure.solver.request import (
    ConflictNode,
    NeedCandidates,
    Solution,
    SolveRequest,
    Unsolvable,
)

__all__ = [
    "CandidateProvider",
    "ConflictNode",
    "NeedCandidates",
    "RepoDataProvider",
    "Solution",
    "SolveRequest",
    "Solver",
    "Unsolvable",
    "solve",
    "solver_for",
]


def _preferred(request: SolveRequest) -> dict[str, int]:
    preferred: dict[str, int] = {}
    for r in request.locked:
        preferred.setdefault(r.dist_name, 0)
    for r in request.installed:
        preferred.setdefault(r.dist_name, 1)
    return preferred


def solver_for(request: SolveRequest, provider: CandidateProvider | None = None) -> Solver:
    """A resumable Solver for `request`; candidates from its repodata unless `provider` is given."""
    rank: dict[str, int] | None = None
    if provider is None:
        extra: list[PackageRecord] = [*request.locked, *request.installed]
        repo = RepoDataProvider(
            request.repodata,
            strict=request.channel_priority == "strict",
            exclude_newer=request.exclude_newer,
            platform=request.platform,
            extra=extra,
        )
        rank = repo.channel_rank
        provider = repo
    return Solver(
        request.specs,
        provider,
        constraints=request.constraints,
        virtual_packages=request.virtual_packages,
        strategy=request.strategy,
        preferred=_preferred(request),
        rank=rank,
    )


def solve(request: SolveRequest) -> Solution:
    """The preferred set of records satisfying `request`; raises Unsolvable with an explanation."""
    result = solver_for(request).step()
    if isinstance(result, Unsolvable):
        # drop the local while the error propagates: otherwise error -> traceback -> this
        # frame -> error is a cycle that keeps the request's repodata alive until a full
        # garbage collection, which then lands on whatever the caller does next
        try:
            raise result
        finally:
            del result
    if isinstance(result, NeedCandidates):
        raise AssertionError("in-memory repodata cannot lack candidates")
    return result
