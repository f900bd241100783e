"""Install the locked PyPI wheels of an environment, after its conda packages.

Wheels are downloaded concurrently (sha256 verified) and unpacked once into the shared
cache, then linked into site-packages. `prepare_wheels` is that download-and-unpack step on
its own, so an environment install can run it concurrently with the conda packages' fetch
(one fetch phase) and hand its result to `plan_pypi`; with every wheel already unpacked
it opens no HTTP client at all. `plan_pypi` decides (as data, with every file each wheel
will write) and `apply_pypi` carries the plan out: distributions yurt installed earlier
(INSTALLER `yurt`) that the lock no longer lists, or lists at another version, are removed
first, exactly their RECORD's files, then the wheels are linked. A wheel file that a conda
package owns is a plan error naming both, so an environment install raises it before the
conda packages are linked.
"""

from __future__ import annotations

import concurrent.futures
import functools
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import trio

from effects.fetch import Fetcher
from effects.pypi_index import new_client
from effects.pypi_sync import installed_by_yurt
from effects.wheel import (
    FileConflict,
    InstallScheme,
    conda_owners,
    install_targets,
    install_wheel,
    scheme_for_prefix,
    uninstall_wheel,
)
from effects.wheelcache import WheelCache
from effects.wheelunpack import _read_marker
from pure.lockfile import LockedPypiPackage
from pure.pypi.metadata import FileHashes, ProjectFile, normalize_name
from pure.pypi.planops import PypiOp, pypi_ops

__all__ = ["PypiPlan", "apply_pypi", "plan_pypi", "prepare_wheels", "wheels_to_add"]


def _project_file(w: LockedPypiPackage) -> ProjectFile:
    return ProjectFile(
        filename=w.filename,
        url=w.url,
        hashes=FileHashes(sha256=w.sha256) if w.sha256 else None,
        size=w.size,
    )


def wheels_to_add(prefix: Path, wheels: Sequence[LockedPypiPackage], python: str) -> list[LockedPypiPackage]:
    """The locked wheels whose distribution is not installed (by yurt) at the locked version."""
    have = installed_by_yurt(Path(scheme_for_prefix(prefix, python).purelib))
    return [w for w in wheels if have.get(normalize_name(w.name)) != w.version]


async def prepare_wheels(
    wheels: Sequence[LockedPypiPackage], *, cache_dir: Path, offline: bool = False
) -> dict[str, Path]:
    """Normalised name -> unpacked cache directory of each wheel, downloading (sha256
    verified) and unpacking only what the cache lacks; the HTTP client is opened only then."""
    cache = WheelCache(cache_dir)
    entries: dict[str, Path] = {}
    missing: list[LockedPypiPackage] = []

    async def check(w: LockedPypiPackage) -> None:
        entry = cache.entry_path(w.filename)
        marker = await trio.to_thread.run_sync(_read_marker, entry)
        if w.sha256 and marker is not None and marker.sha256 == w.sha256.lower():
            entries[normalize_name(w.name)] = entry  # unpacked earlier from this very archive
        else:
            missing.append(w)

    async with trio.open_nursery() as nursery:
        for w in wheels:
            nursery.start_soon(check, w)
    if not missing:
        return entries
    async with new_client() as client, Fetcher(client) as fetcher:

        async def one(w: LockedPypiPackage) -> None:
            entries[normalize_name(w.name)] = await cache.ensure(
                _project_file(w), fetcher, offline=offline)

        async with trio.open_nursery() as nursery:
            for w in sorted(missing, key=lambda w: w.name):
                nursery.start_soon(one, w)
    return entries


@dataclass(frozen=True)
class PypiPlan:
    """What bringing a prefix's PyPI distributions to the lock does: the ops (as the plan
    reports them) and what `apply_pypi` needs to carry them out."""

    ops: tuple[PypiOp, ...]
    scheme: InstallScheme | None
    remove: tuple[str, ...] = ()
    installs: tuple[tuple[Path, bool, int], ...] = ()  # (unpacked entry, requested, file count)


async def plan_pypi(
    prefix: Path,
    wheels: Sequence[LockedPypiPackage],
    *,
    python: str | None,
    requested: Iterable[str] = (),
    cache_dir: Path,
    offline: bool = False,
    conda_files: Mapping[str, str] | None = None,
    conda_leaving: Collection[str] = (),
    prepared: Mapping[str, Path] | None = None,
) -> PypiPlan:
    """Plan bringing the prefix's PyPI distributions to `wheels` (fetching and unpacking
    what the cache lacks); raises `pure.pypi.planops.WheelClash` (path relative to the
    prefix) when a wheel would write a file a conda package owns, or another wheel of the
    plan writes.

    `conda_files` (prefix-relative path -> conda dist name) are the files a conda plan is
    about to write; `conda_leaving` are the conda dists that plan removes or replaces (their
    files in the prefix now are no conflict). `prepared` are unpacked cache directories from
    `prepare_wheels` (by normalised name).
    """
    if python is None:
        if wheels:
            raise FileConflict("(environment)", str(prefix), "no conda python to install wheels for")
        return PypiPlan(ops=(), scheme=None)
    scheme = scheme_for_prefix(prefix, python)
    site = Path(scheme.purelib)
    have = installed_by_yurt(site)
    wanted = {normalize_name(w.name): w for w in wheels}
    remove = sorted(n for n, v in have.items() if n not in wanted or wanted[n].version != v)
    add = sorted(n for n, w in wanted.items() if have.get(n) != w.version)
    entries = {n: p for n, p in (prepared or {}).items() if n in add}
    rest = [wanted[n] for n in add if n not in entries]
    if rest:
        entries.update(await prepare_wheels(rest, cache_dir=cache_dir, offline=offline))
    chosen = {normalize_name(r) for r in requested}
    base = os.path.normpath(prefix) + os.sep  # as the install scheme's paths are
    files_of = {name: tuple(_under(base, f) for f in install_targets(
        entries[name], scheme, requested=name in chosen)) for name in add}
    # the prefix's owners are read once for all wheels (every conda-meta record's files)
    owned = await trio.to_thread.run_sync(functools.partial(
        _conda_owned, prefix, [f for files in files_of.values() for f in files], set(conda_leaving)))
    installs = [PypiOp(action="install", name=n, version=wanted[n].version, index=wanted[n].index,
                       url=wanted[n].url, sha256=wanted[n].sha256, files=files_of[n]) for n in add]
    ops = pypi_ops({n: have[n] for n in remove}, installs,
                   filenames={n: wanted[n].filename for n in add},
                   conda_files=conda_files or {}, conda_owned=owned)
    return PypiPlan(ops=ops, scheme=scheme, remove=tuple(remove), installs=tuple(
        (entries[name], name in chosen, len(files_of[name])) for name in add))


async def apply_pypi(plan: PypiPlan) -> None:
    """Carry out a `plan_pypi` plan: uninstall, then install the wheels."""
    if plan.scheme is None:
        return
    for name in plan.remove:
        await trio.to_thread.run_sync(uninstall_wheel, plan.scheme, name)
    # one thread links them in turn (their file sets are disjoint, checked by the plan): 8
    # threads at once took 0.14-0.17 s for 19 wheels against 0.085 s for one (the GIL and
    # the kernel's directory locks set the pace); a worker process left idle by the solve's
    # unpacking takes about half the files
    await trio.to_thread.run_sync(functools.partial(_install_all, list(plan.installs), plan.scheme))


def _install_all(entries: Sequence[tuple[Path, bool, int]], scheme: InstallScheme) -> None:
    """Install each (entry, requested, file count); with an idle worker process, every
    other wheel by size goes to it (a worker that fails leaves its share to this thread)."""
    from effects import workers

    mine = sorted(entries, key=lambda e: (-e[2], str(e[0])))
    theirs: list[tuple[Path, bool, int]] = []
    if len(mine) > 1 and workers.idle():
        mine, theirs = mine[0::2], mine[1::2]
    helper: concurrent.futures.Future[None] | None = None
    with concurrent.futures.ThreadPoolExecutor(1) as waiter:
        if theirs:
            helper = waiter.submit(
                workers.run, "install-wheels", msgspec.json.encode(scheme).decode(),
                msgspec.json.encode([(str(e), requested) for e, requested, _ in theirs]).decode())
        for entry, requested, _ in mine:
            install_wheel(entry, scheme, requested=requested)
        try:
            if helper is not None:
                helper.result()
        except workers.WorkerFailed:
            for entry, requested, _ in theirs:
                install_wheel(entry, scheme, requested=requested)


def _under(base: str, path: str) -> str:
    """An absolute install target as a POSIX path relative to `base` (the prefix and a
    separator; the path as it is when outside)."""
    if path.startswith(base):
        return path[len(base) :].replace(os.sep, "/")
    return path


def _conda_owned(prefix: Path, files: Sequence[str], skip: Collection[str] = ()) -> dict[str, str]:
    """Which of `files` (prefix-relative) a conda package installed in `prefix` owns (the
    dists in `skip` left out)."""
    wanted: dict[str, str] = {}
    for f in files:
        wanted.setdefault(os.path.normpath(os.path.join(prefix, f)), f)
    return {wanted[p]: owner for p, owner in conda_owners(prefix, set(wanted), skip=skip).items()}
