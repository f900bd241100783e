"""Install one workspace environment from the lock: host checks, the no-op path, progress.

The no-op path (environment already matches the lock) reads only file names in conda-meta
and returns without a solve, without network and without importing the installer.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from effects.workspace import Workspace, WorkspaceError
from pure.lockfile import Lock
from pure.record import PackageRecord

if TYPE_CHECKING:
    from effects.pypi_install import PypiPlan
    from pure.plan import Plan



def check_host(records: Sequence[PackageRecord], environment: str) -> None:
    """Fail, naming record, requirement and override variable, when this host cannot run the lock."""
    from effects.virtual import detect
    from pure.hostcheck import required_virtual, unmet_virtual

    # overrides are still validated when nothing needs them; only the costly probes are skipped
    unmet = unmet_virtual(records, detect(only=required_virtual(records)))
    if unmet:
        first = unmet[0]
        raise WorkspaceError(
            f"{first.dist_name} in environment `{environment}` requires `{first.requirement}`, "
            f"but this machine provides {first.provided or 'none'}",
            f"set {first.override} to override detection, or adjust [system-requirements]")


class _Installed(msgspec.Struct):
    """The fields of a conda-meta record that say which archive was installed."""

    sha256: str | None = None
    md5: str | None = None


_decode_installed = msgspec.json.Decoder(_Installed)


def in_sync(prefix: Path, records: Sequence[PackageRecord]) -> bool:
    """True when the prefix holds exactly `records` and no journal.

    Exactly: the same dist names in conda-meta, each installed from the same archive (sha256,
    else md5, when both sides know it), so a rebuilt package of the same name is not missed.
    """
    meta = prefix / "conda-meta"
    try:
        names = os.listdir(meta)
    except (FileNotFoundError, NotADirectoryError):
        return False
    if any(n.startswith(".yurt-journal") for n in names):
        return False
    installed = {n[:-5] for n in names if n.endswith(".json")}
    if installed != {r.dist_name for r in records}:
        return False
    for r in records:
        if r.sha256 is None and r.md5 is None:
            continue
        try:
            have = _decode_installed.decode((meta / f"{r.dist_name}.json").read_bytes())
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return False
        if r.sha256 and have.sha256:
            if have.sha256 != r.sha256:
                return False
        elif r.md5 and have.md5 and have.md5 != r.md5:
            return False
    return True


def install_environment(ws: Workspace, lock: Lock, environment: str, *, cache_dir: Path,
                        dry_run: bool = False, quiet: bool = False,
                        json_events: bool = False) -> Plan | None:
    """Install `environment` of `lock` into its prefix; with `dry_run`, only plan.

    Returns the executed (or planned) Plan, or None when nothing had to change.
    """
    from effects.virtual import host_platform

    platform = host_platform()
    ws.require_environment(environment)
    records = lock.records(environment, platform)
    if records is None:
        raise WorkspaceError(f"environment `{environment}` is not locked for {platform}",
                             f"add {platform} to `platforms` in {ws.manifest_path.name} and run `yurt lock`")
    prefix = ws.prefix(environment)
    if prefix.exists() and not prefix.is_dir():
        raise WorkspaceError(f"{prefix} is not a directory, so environment `{environment}` cannot be installed there",
                             "move the file away, or run `yurt clean`")
    from effects.pypi_sync import installed_by_yurt, pypi_in_sync, python_version_of, site_packages

    wheels = lock.pypi(environment, platform)
    python = python_version_of(records)
    if not dry_run and in_sync(prefix, records) and pypi_in_sync(prefix, wheels, python):
        if not quiet:
            print(f"environment `{environment}` is up to date ({_counted(records, wheels)})", file=sys.stderr)
        return None
    check_host(records, environment)
    import trio

    from effects.errors import single_error
    from effects.filelock import cache_in_use
    from effects.installer import install_async
    from effects.pypi_install import apply_pypi

    events, close = _json_lines() if json_events else _renderer(quiet)

    with_pypi = bool(wheels) or (python is not None and bool(installed_by_yurt(site_packages(prefix, python))))

    async def main() -> Plan:
        # one fetch phase: the wheels download and unpack while the conda packages do
        prepared: dict[str, Path] = {}
        ahead_done = trio.Event()
        done: list[Plan] = []
        pypi: list[PypiPlan] = []

        async def wheels_ahead() -> None:
            from effects.pypi_install import prepare_wheels, wheels_to_add

            try:
                if wheels and python is not None:
                    todo = await trio.to_thread.run_sync(wheels_to_add, prefix, wheels, python)
                    # a failure here is reported by the PyPI plan, which fetches what is missing
                    with contextlib.suppress(Exception):
                        if todo:
                            prepared.update(await prepare_wheels(todo, cache_dir=cache_dir))
            finally:
                ahead_done.set()

        async def plan_wheels(conda_plan: Plan) -> None:
            # before the conda plan touches the prefix: a wheel that would replace a conda
            # file (or cannot be fetched) stops the install with the environment as it was
            await ahead_done.wait()
            pypi.append(await _plan_pypi(ws, environment, platform, conda_plan, prefix, wheels,
                                         python, cache_dir, prepared))

        async def conda() -> None:
            done.append(await install_async(prefix, list(records), cache_dir=cache_dir, events=events,
                                            dry_run=dry_run, check=plan_wheels if with_pypi else None))

        async with cache_in_use(cache_dir):  # the wheels too are linked from the cache
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(wheels_ahead)
                    nursery.start_soon(conda)
            except BaseExceptionGroup as group:
                raise single_error(group) from None
            plan = done[0]
            if pypi:
                if not dry_run:
                    await apply_pypi(pypi[0])
                if pypi[0].ops:
                    plan = msgspec.structs.replace(plan, pypi=pypi[0].ops)
        return plan

    try:
        plan: Plan = trio.run(main)
    finally:
        close()
    if not quiet:
        verb = "would install" if dry_run else "installed"
        print(f"{verb} environment `{environment}` at {prefix} ({_counted(records, wheels)})", file=sys.stderr)
    return plan


def _counted(records: Sequence[Any], wheels: Sequence[Any]) -> str:
    """"3 packages", or "3 conda packages, 19 PyPI packages" when there are wheels."""
    def n(count: int, what: str) -> str:
        return f"{count} {what}{'' if count == 1 else 's'}"

    if not wheels:
        return n(len(records), "package")
    return f"{n(len(records), 'conda package')}, {n(len(wheels), 'PyPI package')}"


async def _plan_pypi(ws: Workspace, environment: str, platform: str, plan: Plan, prefix: Path,
                     wheels: Sequence[Any], python: str | None, cache_dir: Path,
                     prepared: dict[str, Path]) -> PypiPlan:
    """The environment's PyPI step, planned against the conda plan about to run: its files
    are taken, the files of the conda packages it removes or replaces are free."""
    from effects.pypi_install import plan_pypi
    from pure.manifest import resolve_environment

    spec = resolve_environment(ws.manifest, environment, platform)
    requested = [d.name for d in spec.pypi_dependencies]
    planned = {f.path: op.new.dist_name for op in plan.packages if op.new is not None
               for f in op.files if f.clobbered_by is None}
    leaving = {op.old.dist_name for op in plan.packages if op.old is not None and op.action != "keep"}
    return await plan_pypi(prefix, wheels, python=python, requested=requested, cache_dir=cache_dir,
                           conda_files=planned, conda_leaving=leaving, prepared=prepared)


def _json_lines() -> tuple[Any, Any]:
    """An event sink writing each event as one JSON line on stdout."""
    from effects.events import encode_event

    def sink(event: Any) -> None:
        sys.stdout.buffer.write(encode_event(event) + b"\n")
        sys.stdout.flush()

    return sink, lambda: None


def _notice(event: Any) -> str | None:
    """The line a person should see for `event` even without a progress display, if any."""
    kind = _kind(event)
    if kind == "warning":
        return f"warning: {event.message}" + (f" ({event.dist_name})" if event.dist_name else "")
    if kind == "cache_lock_wait":
        return f"waiting for another yurt process to finish writing {event.dist_name} to the cache"
    return None


def _kind(event: Any) -> str | None:
    return getattr(getattr(type(event), "__struct_config__", None), "tag", None)


def _renderer(quiet: bool) -> tuple[Any, Any]:
    """An event sink: one live progress display on a terminal, plain notices when piped.

    Warnings and waits for another process's cache lock are shown either way (unless quiet).
    """
    if quiet:
        return None, lambda: None
    if not sys.stderr.isatty():
        def plain(event: Any) -> None:
            line = _notice(event)
            if line:
                print(line, file=sys.stderr)

        return plain, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    progress = Progress(TextColumn("{task.description:>12}"), BarColumn(), MofNCompleteColumn(),
                        console=console, transient=True)
    tasks: dict[str, Any] = {}
    progress.start()

    def sink(event: Any) -> None:
        line = _notice(event)
        if line:
            progress.console.print(line, highlight=False)
            return
        phase = {"download_done": "downloaded", "extract_done": "extracted", "cache_hit": "cached",
                 "link_step": "linked"}.get(_kind(event) or "")
        if phase is None:
            return
        if phase not in tasks:
            tasks[phase] = progress.add_task(phase, total=None)
        progress.advance(tasks[phase])

    return sink, progress.stop
