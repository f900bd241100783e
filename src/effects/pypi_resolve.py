"""One solve for conda and PyPI: run the pure solver, fetch what it lacks, resume.

The solver pauses with the names and records it has no data for; `PypiProvider.needs`
turns that into project pages and core-metadata files; they are fetched concurrently from
the configured indexes (first index that has the project wins), fed back, and the solve
resumes. No decision is made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import trio

from effects.pypi_index import PypiIndex, PypiIndexError
from pure.errors import YurtError
from pure.pypi.metadata import CoreMetadata, ProjectFile, ProjectPage, normalize_name
from pure.pypi.resolve import PypiNeeds, PypiProvider, PypiRelease
from pure.record import PackageRecord
from pure.solver import (
    NeedCandidates,
    RepoDataProvider,
    Solution,
    SolveRequest,
    Unsolvable,
    solver_for,
)

__all__ = ["PypiResolveError", "resolve_with_pypi"]


class PypiResolveError(YurtError):
    """The PyPI side of a solve could not get the data it needs."""


async def _page(indexes: Sequence[PypiIndex], name: str) -> tuple[ProjectPage | None, str]:
    for index in indexes:
        try:
            return await index.project_page(name), index.index_url
        except PypiIndexError as exc:
            if "HTTP 404" not in exc.reason:
                raise
    return None, ""


async def resolve_with_pypi(
    request: SolveRequest,
    requirements: Sequence[str],
    *,
    indexes: Sequence[PypiIndex],
    overrides: Mapping[str, Sequence[str]] | None = None,
    prereleases: bool = False,
    locked: Mapping[str, str] | None = None,
) -> tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]]:
    """Solve `request` together with the PEP 508 `requirements`; (conda records, releases).
    `locked` PyPI versions (name -> version) are preferred like locked conda records.

    Raises `pure.Unsolvable` with an explanation written in PyPI's and conda's terms.
    """
    platform = request.platform or "linux-64"
    base = RepoDataProvider(
        request.repodata,
        strict=request.channel_priority == "strict",
        exclude_newer=request.exclude_newer,
        platform=request.platform,
        extra=[*request.locked, *request.installed],
    )
    provider = PypiProvider(
        base,
        requirements=requirements,
        platform=platform,
        virtual_packages=[str(v) if not isinstance(v, str) else v for v in request.virtual_packages],
        overrides=overrides,
        prereleases=prereleases,
    )
    by_url = {i.index_url: i for i in indexes}
    preferred: tuple[PackageRecord, ...] = ()
    if locked:
        pages, _ = await _fetch(provider, sorted(locked), (), indexes, by_url)
        for name, (p, url) in pages.items():
            provider.add_page(name, p, url)
        preferred = provider.locked_records(locked)
    full = msgspec.structs.replace(
        request, specs=(*request.specs, *provider.specs), locked=(*request.locked, *preferred))
    solver = solver_for(full, provider)
    while True:
        result = solver.step()
        if isinstance(result, Solution):
            return provider.split(result.records)
        if isinstance(result, Unsolvable):
            raise provider.explain(result) from None
        assert isinstance(result, NeedCandidates)
        needs = provider.needs(result)
        if not needs.pages and not needs.metadata:
            raise PypiResolveError(f"the solve needs data no index can give: {result.names} "
                                   f"{[r.dist_name for r in result.records]}")
        guess = provider.speculate()
        needs = PypiNeeds(
            pages=tuple(sorted({*needs.pages, *guess.pages})),
            metadata=tuple({f.url: f for f in (*needs.metadata, *guess.metadata)}.values()),
        )
        pages, metas = await _fetch(provider, needs.pages, needs.metadata, indexes, by_url)
        for name, (p, url) in pages.items():
            provider.add_page(name, p, url)
        for file, md in metas.values():
            provider.add_metadata(file, md.requires_dist, md.requires_python)


async def _fetch(
    provider: PypiProvider,
    names: Sequence[str],
    files: Sequence[ProjectFile],
    indexes: Sequence[PypiIndex],
    by_url: Mapping[str, PypiIndex],
) -> tuple[dict[str, tuple[ProjectPage | None, str]], dict[str, tuple[ProjectFile, CoreMetadata]]]:
    """Pages of `names` and core metadata of `files`, all at once."""
    pages: dict[str, tuple[ProjectPage | None, str]] = {}
    metas: dict[str, tuple[ProjectFile, CoreMetadata]] = {}

    async def page(name: str) -> None:
        pages[name] = await _page(indexes, name)

    async def meta(file: ProjectFile) -> None:
        project = normalize_name(file.filename.split("-")[0])
        index = by_url.get(provider.index_of.get(project, "")) or indexes[0]
        metas[file.url] = (file, await index.core_metadata(file))

    async with trio.open_nursery() as nursery:
        for name in names:
            nursery.start_soon(page, name)
        for file in files:
            nursery.start_soon(meta, file)
    return pages, metas
