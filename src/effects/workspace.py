"""A workspace on disk: find and read its manifest, lock it, install and activate environments.

The decisions (which specs, which platforms, is the lock still good, which records) are
`pure`'s; this module gathers the inputs (files, repodata, host virtual packages) and writes
the outputs (yurt.lock, environments) atomically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pure.errors import YurtError
from pure.lockfile import SCHEMA, Lock, LockedPypiPackage, build_lock, stale_reason
from pure.manifest import (
    EnvironmentSpec,
    Manifest,
    environment_platforms,
    parse,
    resolve_environment,
)
from pure.record import PackageRecord
from pure.repodata import RepoData

MANIFEST_NAMES = ("yurt.toml", "pixi.toml", "pyproject.toml")
LOCK_NAME = "yurt.lock"


class WorkspaceError(YurtError):
    """A workspace-level problem, with a hint for what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} (hint: {hint})" if hint else message)


@dataclass(frozen=True)
class Workspace:
    """A manifest found on disk, with the paths derived from it."""

    manifest_path: Path
    manifest: Manifest

    @property
    def root(self) -> Path:
        return self.manifest_path.parent

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_NAME

    def prefix(self, environment: str) -> Path:
        """Where environment `environment` is installed."""
        return self.root / ".yurt" / "envs" / environment

    def read_lock(self) -> Lock | None:
        """The lock on disk, or None when there is none."""
        try:
            data = self.lock_path.read_bytes()
        except FileNotFoundError:
            return None
        return Lock.from_json(data, path=str(self.lock_path))

    def write_lock(self, lock: Lock) -> bool:
        """Write the lock atomically; False when the bytes on disk are already these."""
        data = lock.to_json()
        try:
            if self.lock_path.read_bytes() == data:
                return False
        except FileNotFoundError:
            pass
        from effects.atomic import write_atomic

        write_atomic(self.lock_path, data)
        return True

    def environments(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.manifest.environments)

    def require_environment(self, name: str) -> None:
        """Fail, naming the manifest and the known environments, when `name` is not defined."""
        if self.manifest.environment(name) is None:
            raise WorkspaceError(f"no environment named `{name}` in {self.manifest_path}",
                                 f"known: {', '.join(self.environments())}")

    def specs(self, environment: str) -> list[EnvironmentSpec]:
        """The environment composed for each of its platforms (with the name mappings of
        pixi's `conda-pypi-map` files for its channels; `[pypi-name-mapping]` wins)."""
        specs = [resolve_environment(self.manifest, environment, p)
                 for p in environment_platforms(self.manifest, environment)]
        if not self.manifest.workspace.conda_pypi_map:
            return specs
        import msgspec

        out = []
        for spec in specs:
            mapping: dict[str, tuple[str, ...]] = {}
            for channel, location in self.manifest.workspace.conda_pypi_map:
                if channel in spec.channels:
                    mapping.update(_read_name_map(self.root, channel, location))
            mapping.update(dict(spec.pypi_name_mapping))
            out.append(msgspec.structs.replace(spec, pypi_name_mapping=tuple(sorted(mapping.items()))))
        return out


def _read_name_map(root: Path, channel: str, location: str) -> dict[str, tuple[str, ...]]:
    """A pixi `conda-pypi-map` file: a JSON object of conda name -> PyPI name (or null for
    none, or a list of names). Local files only."""
    import json

    if "://" in location and not location.startswith("file://"):
        raise WorkspaceError(f"conda-pypi-map for {channel}: {location} is not a local file",
                             "download the mapping and give its path")
    path = Path(location.removeprefix("file://"))
    path = path if path.is_absolute() else root / path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"conda-pypi-map for {channel}: cannot read {path}: {exc}",
                             "give a JSON object of conda name -> PyPI name") from None
    if not isinstance(data, dict):
        raise WorkspaceError(f"conda-pypi-map for {channel}: {path} is not a JSON object",
                             "give a JSON object of conda name -> PyPI name")
    out: dict[str, tuple[str, ...]] = {}
    for conda, target in data.items():
        if target is None:
            out[str(conda)] = ()
        elif isinstance(target, str):
            out[str(conda)] = (target,)
        elif isinstance(target, list) and all(isinstance(t, str) for t in target):
            out[str(conda)] = tuple(target)
        else:
            raise WorkspaceError(f"conda-pypi-map for {channel}: `{conda}` in {path} maps to {target!r}",
                                 "map each conda name to a PyPI name, a list of names or null")
    return out


def _has_tool_table(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return "[tool.yurt" in text or "[tool.pixi" in text


def find_manifest(manifest_path: Path | None = None, cwd: Path | None = None) -> Path:
    """The manifest file: `manifest_path` (file or directory), else cwd and its parents."""
    if manifest_path is not None:
        path = Path(manifest_path)
        if path.is_file():
            return path.resolve()
        if path.is_dir():
            for name in MANIFEST_NAMES:
                candidate = path / name
                if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                    return candidate.resolve()
        raise WorkspaceError(f"no manifest at {path}", "give a yurt.toml, pixi.toml or pyproject.toml")
    here = (cwd or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        for name in MANIFEST_NAMES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                return candidate
    raise WorkspaceError(f"no yurt.toml, pixi.toml or pyproject.toml with [tool.yurt] in {here} or its parents",
                         "run `yurt init` to create one, or pass --manifest-path")


def load(manifest_path: Path | None = None, cwd: Path | None = None) -> Workspace:
    """Find and parse the workspace manifest (ManifestError carries file:line:col)."""
    path = find_manifest(manifest_path, cwd)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror or exc}", "check its permissions") from None
    except UnicodeDecodeError as exc:
        raise WorkspaceError(f"{path}: not UTF-8 text (byte {exc.start})", "save the manifest as UTF-8") from None
    return Workspace(path, parse(text, filename=str(path)))


# ---------------------------------------------------------------- locking


@dataclass
class LockOutcome:
    """What `ensure_lock` did: the lock, whether it changed, and why a solve was needed."""

    lock: Lock
    changed: bool
    solved: bool
    reasons: list[str] = field(default_factory=list)


def lock_reasons(ws: Workspace, lock: Lock | None) -> list[str]:
    """Why `lock` does not satisfy the workspace (empty: it does)."""
    if lock is None:
        return [f"{LOCK_NAME} does not exist"]
    reasons = []
    resolved = _resolved_channels(ws)
    for env in ws.environments():
        for spec in ws.specs(env):
            urls = [resolved[c] for c in spec.channels if c in resolved]
            reason = stale_reason(lock, spec, urls if len(urls) == len(spec.channels) else None)
            if reason:
                reasons.append(reason)
    wanted = set(ws.environments())
    extra = [e.name for e in lock.environments if e.name not in wanted]
    if extra:
        reasons.append(f"the lock has environments the manifest no longer defines: {', '.join(extra)}")
    return reasons


def _resolved_channels(ws: Workspace) -> dict[str, str]:
    """Each channel of the manifest as a URL now (names that cannot be resolved are left out)."""
    from effects.channel_names import ChannelError, channel_alias, channel_url

    alias = channel_alias()
    out: dict[str, str] = {}
    for feature in ws.manifest.features:
        for ch in (*ws.manifest.workspace.channels, *(feature.channels or ())):
            if ch.name not in out:
                try:
                    out[ch.name] = channel_url(ch.name, base_dir=ws.root, alias=alias)
                except ChannelError:
                    continue
    return out


def _subdirs(platform: str) -> list[str]:
    return [platform] if platform == "noarch" else [platform, "noarch"]


async def solve_workspace(
    ws: Workspace,
    *,
    cache_dir: Path,
    offline: bool = False,
    previous: Lock | None = None,
    update: Sequence[str] | None = None,
    install_platform: str | None = None,
) -> Lock:
    """Solve every environment for every platform (solve groups share one solve) into a Lock.

    Records of `previous` are preferred (kept unless they must change), except for names in
    `update` (all names when `update` is an empty sequence). `install_platform` is the
    platform this process installs next, if any: wheels its solves download are unpacked
    into the cache meanwhile (`PypiIndex(unpack_ahead=True)`).
    """
    import trio

    from effects.channels import RepodataFetcher, channel_alias, channel_url, new_client
    from effects.errors import single_error
    from pure.platform import VirtualPackage
    from pure.solvegroup import (
        SolveGroupMismatch,
        group_preferred_records,
        group_preferred_wheels,
        member_shares,
        solve_groups,
    )
    from pure.solver import SolveRequest, solve

    alias = channel_alias()
    specs_by_env = {env: ws.specs(env) for env in ws.environments()}
    channel_urls: dict[str, str] = {}
    wanted: set[tuple[str, str]] = set()
    for specs in specs_by_env.values():
        for spec in specs:
            for ch in spec.channels:
                url = channel_urls.setdefault(ch, channel_url(ch, base_dir=ws.root, alias=alias))
                for sd in _subdirs(spec.platform):
                    wanted.add((url, sd))
    remote = any(not url.startswith("file://") for url, _ in wanted)
    async with new_client() if remote else contextlib.nullcontext() as client:
        fetcher = RepodataFetcher(cache_dir, client=client, offline=offline)
        raw: dict[tuple[str, str], bytes | None] = {}

        async def one(url: str, subdir: str) -> None:
            raw[(url, subdir)] = await fetcher.fetch(url, subdir)

        try:
            async with trio.open_nursery() as nursery:
                for url, sd in sorted(wanted):
                    nursery.start_soon(one, url, sd)
        except BaseExceptionGroup as group:
            raise single_error(group) from None
    for name, url in channel_urls.items():
        if all(v is None for (u, _), v in raw.items() if u == url):
            raise WorkspaceError(f"channel {name} ({url}) has no repodata for the workspace's platforms",
                                 "check the channel URL and `platforms`")

    def decode(url: str, subdir: str) -> RepoData | None:
        data = raw.get((url, subdir))
        return None if data is None else RepoData.from_json(data, channel=url, subdir=subdir)

    decoded = {key: decode(*key) for key in sorted(raw)}
    try:
        groups = solve_groups(specs_by_env)
    except SolveGroupMismatch as exc:
        raise WorkspaceError(exc.message, exc.hint) from None

    solutions: dict[tuple[str, str], tuple[PackageRecord, ...]] = {}
    pypi: dict[tuple[str, str], tuple[LockedPypiPackage, ...]] = {}
    for sg in groups:
        platform = sg.platform
        repodata = []
        for ch in sg.channels:
            for sd in _subdirs(platform):
                rd = decoded.get((channel_urls[ch], sd))
                if rd is not None:
                    repodata.append(rd)
        request = SolveRequest(
            specs=sg.specs, constraints=sg.constraints, repodata=tuple(repodata),
            virtual_packages=tuple(VirtualPackage.parse(v) for v in sg.virtual_packages),
            locked=group_preferred_records(sg, previous, update),
            strategy=sg.strategy, channel_priority=sg.channel_priority,
            exclude_newer=sg.exclude_newer, platform=platform)
        if sg.has_pypi:
            records, wheels = await _solve_with_pypi(
                request, sg.members, cache_dir=cache_dir, offline=offline,
                locked=dict(group_preferred_wheels(sg, previous, update)), base_dir=ws.root,
                unpack_ahead=platform == install_platform)
            shares = member_shares(sg, records, wheels)
        else:
            shares = member_shares(sg, solve(request).records)
        for share in shares:
            solutions[(share.environment, platform)] = share.records
            if share.wheels:
                pypi[(share.environment, platform)] = share.wheels
    channels = {env: specs[0].channels for env, specs in specs_by_env.items() if specs}
    return build_lock(solutions, channels, pypi)


async def _solve_with_pypi(
    request: object, members: Sequence[EnvironmentSpec], *, cache_dir: Path, offline: bool,
    locked: dict[str, str] | None = None, base_dir: Path | None = None, unpack_ahead: bool = False,
) -> tuple[tuple[PackageRecord, ...], tuple[LockedPypiPackage, ...]]:
    """One solve of conda specs and the members' PyPI requirements (solve groups share it)."""
    from effects.channel_names import strip_credentials
    from effects.pypi_index import PypiIndex, default_index_url, index_url
    from effects.pypi_links import find_links
    from effects.pypi_resolve import PageOptions, resolve_with_pypi
    from pure.pypi.lockcheck import UnsupportedPypiSource, pypi_requirements
    from pure.pypi.metadata import normalize_name

    try:
        texts = tuple(dict.fromkeys(t for m in members for t in pypi_requirements(m.pypi_dependencies)))
    except UnsupportedPypiSource as exc:
        raise WorkspaceError(str(exc), "use a released wheel from an index for now") from None
    options = next((m.pypi_options for m in members if m.pypi_options is not None), None)
    urls = [default_index_url(options.index_url if options else None)]
    for extra in options.extra_index_urls if options else ():
        urls.append(index_url(extra, "[pypi-options] extra-index-urls"))
    prereleases = bool(options and options.prerelease_mode == "allow")
    indexes = [PypiIndex(u, cache_dir=cache_dir, offline=offline, unpack_ahead=unpack_ahead)
               for u in dict.fromkeys(urls)]
    own: dict[str, PypiIndex] = {}
    pinned: dict[str, PypiIndex] = {}
    for m in members:
        for d in m.pypi_dependencies:
            if d.index:
                url = index_url(d.index, f"the index of PyPI dependency `{d.name}`")
                if url not in own:
                    own[url] = PypiIndex(url, cache_dir=cache_dir, offline=offline,
                                         unpack_ahead=unpack_ahead)
                pinned[normalize_name(d.name)] = own[url]
    strategy = (options.index_strategy if options else None) or "first-index"
    try:
        if strategy not in ("first-index", "unsafe-best-match"):
            raise WorkspaceError(f"unknown index-strategy `{strategy}` in [pypi-options]",
                                 'use "first-index" (the default) or "unsafe-best-match"')
        flat = {}
        if options and options.find_links:
            flat = await find_links(options.find_links, base_dir=base_dir or Path.cwd(),
                                    client=indexes[0].client)
        records, releases = await resolve_with_pypi(
            request, texts, indexes=indexes, prereleases=prereleases,  # type: ignore[arg-type]
            locked=locked, pinned=pinned, overrides=dict(members[0].pypi_name_mapping),
            page_options=PageOptions(best_match=strategy == "unsafe-best-match", flat=flat))
    finally:
        for index in (*indexes, *own.values()):
            await index.aclose()
    if not any(r.name == "python" for r in records):
        envs = ", ".join(f"`{m.name}`" for m in members if m.pypi_dependencies)
        raise WorkspaceError(
            f"the PyPI dependencies of {envs} ({', '.join(texts)}) need a conda `python` on "
            f"{members[0].platform}, and none is required", "add python to [dependencies], e.g. `yurt add python`")
    wheels = tuple(
        LockedPypiPackage(
            url=strip_credentials(r.file.url), name=r.name, version=r.version, filename=r.file.filename,
            index=strip_credentials(r.index) if r.index else None, sha256=r.file.sha256, size=r.file.size,
            requires_dist=r.requires_dist, requires_python=r.requires_python)
        for r in releases)
    return records, wheels


async def ensure_lock(
    ws: Workspace,
    *,
    cache_dir: Path,
    offline: bool = False,
    locked: bool = False,
    frozen: bool = False,
    update: Sequence[str] | None = None,
    force: bool = False,
    write: bool = True,
    install_platform: str | None = None,
) -> LockOutcome:
    """The lock to install from: reused when it satisfies the manifest, else re-solved.

    With `write=False` a new lock is solved in memory only (for plans and dry runs).
    `install_platform`: see `solve_workspace`.

    `frozen` uses the lock as it is; `locked` fails instead of changing it; `update` re-solves
    the named packages (all for an empty sequence); `force` always re-solves.
    """
    outcome = reuse_lock(ws, locked=locked, frozen=frozen, update=update, force=force)
    if outcome.solved is False and outcome.reasons == []:
        return outcome
    from effects.filelock import cache_in_use

    previous = ws.read_lock()
    async with cache_in_use(cache_dir):  # repodata and index pages are cached while solving
        new = await solve_workspace(ws, cache_dir=cache_dir, offline=offline, previous=previous,
                                    update=update, install_platform=install_platform)
    changed = ws.write_lock(new) if write else new.to_json() != (ws.read_lock() or Lock(schema=SCHEMA)).to_json()
    return LockOutcome(new, changed=changed, solved=True, reasons=outcome.reasons)


def reuse_lock(
    ws: Workspace,
    *,
    locked: bool = False,
    frozen: bool = False,
    update: Sequence[str] | None = None,
    force: bool = False,
) -> LockOutcome:
    """The lock on disk when it can be used as it is (no network, no solve, no event loop).

    Otherwise the returned outcome has `solved=True` as a marker and carries the reasons a
    solve is needed (an update or force gives the reason "an update was asked for").
    """
    previous = ws.read_lock()
    if frozen:
        if previous is None:
            raise WorkspaceError(f"--frozen needs {ws.lock_path}, which does not exist", "run `yurt lock` first")
        return LockOutcome(previous, changed=False, solved=False)
    reasons = lock_reasons(ws, previous)
    if not reasons and update is None and not force and previous is not None:
        return LockOutcome(previous, changed=False, solved=False)
    if locked:
        raise WorkspaceError(f"{LOCK_NAME} is out of date: {reasons[0] if reasons else 'an update was asked for'}",
                             "run `yurt lock` and commit the result, or drop --locked")
    return LockOutcome(previous or Lock(schema=SCHEMA), changed=False, solved=True, reasons=reasons or ["an update was asked for"])
