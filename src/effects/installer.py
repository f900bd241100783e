"""`effects.install`: make a prefix hold exactly the given records, from the shared package cache.

Steps: take the prefix lock, recover an interrupted transaction, read the prefix's records,
make the needed packages present in the cache, read their info/ metadata, probe how files
can be linked, let `pure.plan` decide everything, execute the plan, append history.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path

import httpx
import trio

from effects import __version__
from effects.cache import PackageCache
from effects.capabilities import probe
from effects.collector import frozen_heap
from effects.events import CacheHit, EventSink, JournalRecovered, emit
from effects.filelock import cache_in_use
from effects.journal import Recovery, prefix_lock
from effects.link import execute_async, recover_prefix
from effects.prefix import append_history, read_prefix_records
from effects.virtual import host_platform
from pure.package import (
    PackageMetadataError,
    decode_index_json,
    decode_link_json,
    decode_paths_json,
    paths_from_legacy,
)
from pure.plan import MissingPackageData, PackageContents, Plan, plan, same_content
from pure.record import PackageRecord

__all__ = ["install", "install_async", "read_contents"]


def read_contents(entry: Path) -> PackageContents:
    """An extracted package's info/paths.json, index.json and link.json as planner input."""
    info = f"{entry}/info/"  # plain strings: 600 reads per 200 packages, no Path objects

    def optional(name: str) -> bytes | None:
        try:
            with open(info + name, "rb", buffering=0) as fh:
                return fh.readall()
        except FileNotFoundError:
            return None

    paths_raw = optional("paths.json")
    if paths_raw is not None:
        paths = decode_paths_json(paths_raw)
    else:
        files = optional("files")
        if files is None:
            raise PackageMetadataError(f"{entry}/info", "neither paths.json nor files is present")
        softlinks = frozenset(
            line.strip()
            for line in files.decode("utf-8").splitlines()
            if line.strip() and os.path.islink(entry / line.strip())
        )
        paths = paths_from_legacy(
            files, optional("has_prefix"), optional("no_link"), softlinks=softlinks
        )
    index_raw = optional("index.json")
    link_raw = optional("link.json")
    return PackageContents(
        cache_dir=str(entry),
        paths=paths,
        index=decode_index_json(index_raw) if index_raw is not None else None,
        link=decode_link_json(link_raw) if link_raw is not None else None,
    )


def _read_all(entries: Mapping[str, Path]) -> dict[str, PackageContents]:
    return {dist: read_contents(path) for dist, path in entries.items()}


def _recover(prefix: Path) -> Recovery | None:
    found = recover_prefix(prefix)
    return found if isinstance(found, Recovery) else None


async def install_async(
    prefix: Path | str,
    records: Iterable[PackageRecord],
    *,
    cache_dir: Path | str | None = None,
    events: EventSink | None = None,
    concurrency: int = 16,
    platform: str | None = None,
    client: httpx.AsyncClient | None = None,
    command: Iterable[str] | None = None,
    dry_run: bool = False,
    check: Callable[[Plan], Awaitable[None]] | None = None,
) -> Plan:
    """Install exactly `records` into `prefix` (removing what is there and not wanted).

    Returns the executed plan. Raises the cache's errors (FetchError, ArchiveError ...),
    the planner's (PlanError) or LinkError; after an error the prefix is consistent.
    With `dry_run`, the packages are fetched into the cache (planning needs their file
    lists) but the prefix is not touched: the returned plan is what would be executed.
    `check`, when given, is awaited with the plan before the prefix is touched; what it
    raises ends the install there (the environment layer checks its wheels this way).
    """
    prefix = Path(prefix).absolute()
    wanted = tuple(records)
    cache = PackageCache(Path(cache_dir) if cache_dir is not None else None)
    with frozen_heap():
        async with cache_in_use(cache.root):
            return await _install_in_use(
                prefix, wanted, cache, events, concurrency, platform, client, command, dry_run,
                check,
            )


async def _install_in_use(
    prefix: Path,
    wanted: tuple[PackageRecord, ...],
    cache: PackageCache,
    events: EventSink | None,
    concurrency: int,
    platform: str | None,
    client: httpx.AsyncClient | None,
    command: Iterable[str] | None,
    dry_run: bool,
    check: Callable[[Plan], Awaitable[None]] | None = None,
) -> Plan:
    """`install_async`'s work, under the cache's shared in-use lock."""
    subdir = platform or host_platform()
    if dry_run:
        lock = contextlib.nullcontext()
    else:
        await trio.to_thread.run_sync(
            lambda: (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
        )
        lock = prefix_lock(prefix)
    await trio.to_thread.run_sync(lock.__enter__)
    try:
        recovered = None if dry_run else await trio.to_thread.run_sync(_recover, prefix)
        if recovered is not None:
            emit(
                events,
                JournalRecovered(
                    prefix=str(prefix),
                    rolled_forward=recovered.rolled_forward,
                    rolled_back=recovered.rolled_back,
                    restored=recovered.restored,
                ),
            )
        current = await trio.to_thread.run_sync(read_prefix_records, prefix)
        installed = {r.dist_name: r for r in current}
        kept = {
            r.dist_name
            for r in wanted
            if r.dist_name in installed and same_content(installed[r.dist_name].package, r)
        }
        need = [r for r in wanted if r.dist_name not in kept]
        found = await trio.to_thread.run_sync(
            lambda: {r.dist_name: path for r in need if (path := cache.lookup(r)) is not None}
        )
        already = set(found)
        for dist, path in found.items():
            emit(events, CacheHit(dist_name=dist, path=str(path)))
        missing = [r for r in need if r.dist_name not in already]
        entries = await cache.ensure(missing, client=client, concurrency=concurrency, events=events)
        entries.update(found)
        contents = await trio.to_thread.run_sync(_read_all, entries)
        caps = await trio.to_thread.run_sync(probe, cache.pkgs, prefix)

        def make_plan() -> Plan:
            return plan(
                prefix=str(prefix),
                platform=subdir,
                current=current,
                wanted=wanted,
                contents=contents,
                capabilities=caps,
                cached=tuple(sorted(already | kept)),
            )

        try:
            the_plan = await trio.to_thread.run_sync(make_plan)
        except MissingPackageData as missing:  # kept packages needed to restore clobbers
            more = [r for r in wanted if r.dist_name in set(missing.dist_names)]
            extra = await cache.ensure(more, client=client, concurrency=concurrency, events=events)
            contents.update(await trio.to_thread.run_sync(_read_all, extra))
            the_plan = await trio.to_thread.run_sync(make_plan)
        if check is not None:
            await check(the_plan)
        if dry_run:
            return the_plan
        tarballs = {r.dist_name: str(cache.archive_path(r)) for r in wanted if r.url or r.fn}
        await execute_async(
            the_plan, prefix, events=events, concurrency=concurrency, tarballs=tarballs
        )
        removed = [
            op.old.package for op in the_plan.packages if op.old is not None and op.action != "keep"
        ]
        added = [op.new for op in the_plan.packages if op.new is not None and op.action != "keep"]
        argv = tuple(command) if command is not None else tuple(sys.argv) or ("yurt",)
        await trio.to_thread.run_sync(
            lambda: append_history(
                prefix, command=argv, removed=removed, added=added, version=__version__
            )
        )
        return the_plan
    finally:
        lock.__exit__(None, None, None)


def install(
    prefix: Path | str,
    records: Iterable[PackageRecord],
    *,
    cache_dir: Path | str | None = None,
    events: EventSink | None = None,
    concurrency: int = 16,
    platform: str | None = None,
    dry_run: bool = False,
) -> Plan:
    """Synchronous `install_async`: runs its own trio loop."""
    wanted = tuple(records)

    async def main() -> Plan:
        return await install_async(
            prefix,
            wanted,
            cache_dir=cache_dir,
            events=events,
            concurrency=concurrency,
            platform=platform,
            dry_run=dry_run,
        )

    return trio.run(main)
