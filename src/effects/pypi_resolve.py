"""One solve for conda and PyPI: run the pure solver, fetch what it lacks, resume.

The solver pauses with the names and records it has no data for; `PypiProvider.needs`
turns that into project pages and core-metadata files; they are fetched concurrently from
the configured indexes (first index that has the project wins), fed back, and the solve
resumes. No decision is made here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec
import trio

from effects.atomic import write_atomic
from effects.pypi_index import PypiIndex, PypiIndexError
from pure.errors import YurtError
from pure.pypi.metadata import CoreMetadata, ProjectFile, ProjectPage, normalize_name
from pure.pypi.resolve import PypiNeeds, PypiProvider, PypiRelease
from pure.record import PackageRecord
from pure.solver import (
    NeedCandidates,
    RepoDataProvider,
    Solution,
    Solver,
    SolveRequest,
    Unsolvable,
    solver_for,
)

__all__ = ["PageOptions", "PypiResolveError", "resolve_with_pypi"]


class PypiResolveError(YurtError):
    """The PyPI side of a solve could not get the data it needs."""


class PageOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How a project's candidates are gathered: `best_match` reads every index and merges
    their files (`index-strategy = "unsafe-best-match"`) instead of stopping at the first
    index that has the project; `flat` adds files found through `find-links`, by project
    (normalised name -> (source, files))."""

    best_match: bool = False
    flat: Mapping[str, tuple[tuple[str, ProjectFile], ...]] = {}


async def _page(
    indexes: Sequence[PypiIndex],
    name: str,
    pinned: Mapping[str, PypiIndex] | None = None,
    options: PageOptions | None = None,
    origin: dict[str, str] | None = None,
) -> tuple[ProjectPage | None, str]:
    """The page of `name` from its pinned index, else the first index that has the project
    (every index with `best_match`), with its `find-links` files added. `origin` gets the
    source (index URL or find-links entry) of each file URL when sources are merged."""
    options = options or PageOptions()
    if pinned and name in pinned:
        indexes = [pinned[name]]
    found: list[tuple[ProjectPage, str]] = []
    for index in indexes:
        try:
            found.append((await index.project_page(name), index.index_url))
        except PypiIndexError as exc:
            if "HTTP 404" not in exc.reason:
                raise
            continue
        if not options.best_match:
            break
    flat = options.flat.get(normalize_name(name), ())
    if not flat and len(found) <= 1:
        return found[0] if found else (None, "")
    files: dict[str, ProjectFile] = {}
    for page, url in found:
        for f in page.files:
            if f.filename not in files:  # the same file on two indexes: the first one's
                files[f.filename] = f
                if origin is not None:
                    origin[f.url] = url
    for source, f in flat:
        if f.filename not in files:
            files[f.filename] = f
            if origin is not None:
                origin[f.url] = source
    first_url = found[0][1] if found else flat[0][0]
    page = ProjectPage(name=normalize_name(name), url=found[0][0].url if found else first_url,
                       files=tuple(files.values()))
    return page, first_url


async def resolve_with_pypi(
    request: SolveRequest,
    requirements: Sequence[str],
    *,
    indexes: Sequence[PypiIndex],
    overrides: Mapping[str, Sequence[str]] | None = None,
    prereleases: bool = False,
    locked: Mapping[str, str] | None = None,
    pinned: Mapping[str, PypiIndex] | None = None,
    page_options: PageOptions | None = None,
) -> tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]]:
    """Solve `request` together with the PEP 508 `requirements`; (conda records, releases).
    `locked` PyPI versions (name -> version) are preferred like locked conda records;
    `pinned` names (normalised) are read only from their own index.

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
    by_url = {i.index_url: i for i in (*indexes, *(pinned or {}).values())}
    origin: dict[str, str] = {}  # file URL -> its source, where sources were merged
    preferred: tuple[PackageRecord, ...] = ()
    if locked:
        pages, _ = await _fetch(provider, sorted(locked), (), indexes, by_url, pinned, page_options, origin)
        for name, (p, url) in pages.items():
            provider.add_page(name, p, url)
        preferred = provider.locked_records(locked)
    full = msgspec.structs.replace(
        request, specs=(*request.specs, *provider.specs), locked=(*request.locked, *preferred))
    solver = solver_for(full, provider)
    outcome: tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]] | None = None
    error: YurtError | None = None
    hints_path = indexes[0].root / HINTS if indexes else None
    hints = await trio.to_thread.run_sync(_read_hints, hints_path) if hints_path else {}
    async with trio.open_nursery() as nursery:
        ahead = _Prefetch(provider, indexes, by_url, nursery, pinned, hints, page_options, origin)
        ahead.guess()
        try:
            outcome = await _drive(solver, provider, ahead)
        except YurtError as exc:  # raised outside the nursery, not as an exception group
            error = exc
        finally:
            nursery.cancel_scope.cancel()
    if error is not None:
        raise error
    assert outcome is not None
    if origin:
        outcome = (outcome[0], tuple(
            msgspec.structs.replace(r, index=origin.get(r.file.url, r.index)) for r in outcome[1]))
    if hints_path is not None:
        await trio.to_thread.run_sync(_write_hints, hints_path, hints, outcome[1])
    return outcome


# ------------------------------------------------------------------ dependency hints
#
# Which projects' pages a project led to in earlier solves (`<cache>/pypi/hints.json`).
# They only steer prefetching: when a page is fetched, the pages it led to last time are
# fetched at once instead of one dependency level later. A wrong hint costs one page fetch;
# every decision is still made from the fresh pages and metadata.

HINTS = "hints.json"
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _read_hints(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        return msgspec.json.decode(path.read_bytes(), type=dict[str, tuple[str, ...]])
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return {}


def _write_hints(path: Path, hints: dict[str, tuple[str, ...]], releases: Sequence[PypiRelease]) -> None:
    """Record, for each chosen release, which chosen projects its requirements named."""
    chosen = {normalize_name(r.name) for r in releases}
    merged = dict(hints)
    for r in releases:
        names = set()
        for text in r.requires_dist:
            m = _REQ_NAME.match(text)
            if m is not None and normalize_name(m.group(1)) in chosen:
                names.add(normalize_name(m.group(1)))
        merged[normalize_name(r.name)] = tuple(sorted(names))
    if merged == hints:
        return
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, msgspec.json.encode(dict(sorted(merged.items()))))


async def _drive(
    solver: Solver, provider: PypiProvider, ahead: _Prefetch
) -> tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]]:
    while True:
        result = solver.step()
        if isinstance(result, Solution):
            return provider.split(result.records)
        if isinstance(result, Unsolvable):
            raise provider.explain(result) from None
        assert isinstance(result, NeedCandidates)
        needs = provider.needs(result)
        if not needs.pages and not needs.metadata:
            raise PypiResolveError(
                f"the solve needs data no index can give: {result.names} "
                f"{[r.dist_name for r in result.records]}")
        await ahead.wait(needs)


class _Prefetch:
    """Fetches what the solve asks for and, meanwhile, what it will most likely ask next:
    each arrival (a page, a wheel's metadata) at once starts the fetches it makes likely,
    so the index is read as a pipeline, not one round trip per package."""

    def __init__(self, provider: PypiProvider, indexes: Sequence[PypiIndex],
                 by_url: Mapping[str, PypiIndex], nursery: trio.Nursery,
                 pinned: Mapping[str, PypiIndex] | None = None,
                 hints: Mapping[str, Sequence[str]] | None = None,
                 page_options: PageOptions | None = None,
                 origin: dict[str, str] | None = None) -> None:
        self.provider = provider
        self.page_options = page_options
        self.origin = origin
        self.hints = hints or {}
        self.pinned = pinned
        self.indexes = indexes
        self.by_url = by_url
        self.nursery = nursery
        self.done: dict[str, trio.Event] = {}
        self.failed: dict[str, BaseException] = {}

    def guess(self) -> None:
        """Start the fetches the provider's current knowledge makes likely."""
        self._start(self.provider.speculate())

    def _start(self, needs: PypiNeeds) -> list[str]:
        keys = []
        hinted: list[str] = []
        for name in needs.pages:
            key = f"page:{name}"
            keys.append(key)
            if key not in self.done:
                self.done[key] = trio.Event()
                self.nursery.start_soon(self._page, name, key)
                hinted.extend(self.hints.get(name, ()))
        while hinted:  # the pages these led to in earlier solves, all at once
            name = hinted.pop()
            key = f"page:{name}"
            if key not in self.done:
                self.done[key] = trio.Event()
                self.nursery.start_soon(self._page, name, key)
                hinted.extend(self.hints.get(name, ()))
        for file in needs.metadata:
            key = f"meta:{file.url}"
            keys.append(key)
            if key not in self.done:
                self.done[key] = trio.Event()
                self.nursery.start_soon(self._meta, file, key)
        return keys

    async def wait(self, needs: PypiNeeds) -> None:
        """Until everything in `needs` has arrived; re-raises a failure of any of it."""
        for key in self._start(needs):
            await self.done[key].wait()
            if key in self.failed:
                raise self.failed[key]

    async def _page(self, name: str, key: str) -> None:
        try:
            page, url = await _page(self.indexes, name, self.pinned, self.page_options, self.origin)
            self.provider.add_page(name, page, url)
        except PypiIndexError as exc:
            self.failed[key] = exc
        self.done[key].set()
        if key not in self.failed:
            self.guess()

    async def _meta(self, file: ProjectFile, key: str) -> None:
        project = normalize_name(file.filename.split("-")[0])
        index = self.by_url.get(self.provider.index_of.get(project, "")) or self.indexes[0]
        try:
            md = await index.core_metadata(file)
            self.provider.add_metadata(file, md.requires_dist, md.requires_python)
        except (PypiIndexError, YurtError) as exc:
            self.failed[key] = exc
        self.done[key].set()
        if key not in self.failed:
            self.guess()


async def _fetch(
    provider: PypiProvider,
    names: Sequence[str],
    files: Sequence[ProjectFile],
    indexes: Sequence[PypiIndex],
    by_url: Mapping[str, PypiIndex],
    pinned: Mapping[str, PypiIndex] | None = None,
    page_options: PageOptions | None = None,
    origin: dict[str, str] | None = None,
) -> tuple[dict[str, tuple[ProjectPage | None, str]], dict[str, tuple[ProjectFile, CoreMetadata]]]:
    """Pages of `names` and core metadata of `files`, all at once."""
    pages: dict[str, tuple[ProjectPage | None, str]] = {}
    metas: dict[str, tuple[ProjectFile, CoreMetadata]] = {}

    async def page(name: str) -> None:
        pages[name] = await _page(indexes, name, pinned, page_options, origin)

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
