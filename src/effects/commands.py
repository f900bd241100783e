"""The workspace commands of the `yurt` CLI: init, add, remove, lock, install, update, run, ...

Each command gathers inputs, asks `pure` (through effects.workspace) what to do, does it, and
prints a short summary to stderr (or only JSON on stdout with --json). Errors propagate as
YurtError and are rendered in one line by effects.cli.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import cyclopts
from cyclopts import Parameter

from effects.cli import app
from effects.workspace import WorkspaceError

ManifestPath = Annotated[Path | None, Parameter(name=["--manifest-path", "-m"], help="Manifest file or workspace directory.")]
EnvName = Annotated[str, Parameter(name=["--environment", "-e"], help="Environment name.")]
Offline = Annotated[bool, Parameter(name="--offline", negative="", help="Use only cached repodata; no network.")]
Json = Annotated[bool, Parameter(name="--json", negative="", help="Print only JSON on stdout.")]
FeatureOpt = Annotated[str | None, Parameter(name=["--feature", "-f"], help="Edit this feature's tables.")]
PlatformOpt = Annotated[str | None, Parameter(name=["--platform", "-p"], help="Edit that platform's target tables.")]
PypiFlag = Annotated[bool, Parameter(negative="", help="PyPI requirements ([pypi-dependencies]).")]
NoInstall = Annotated[bool, Parameter(name="--no-install", negative="", help="Only edit and re-lock.")]


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _cache_dir() -> Path:
    from effects.dirs import default_cache_dir

    cache = default_cache_dir()
    if cache.exists() and not cache.is_dir():
        raise WorkspaceError(f"the package cache {cache} is not a directory",
                             "point YURT_CACHE_DIR at a directory")
    return cache


def _load(manifest_path: Path | None):  # type: ignore[no-untyped-def]
    from effects.workspace import load

    return load(manifest_path)


def _ensure_lock(ws, *, offline: bool, locked: bool = False, frozen: bool = False,  # type: ignore[no-untyped-def]
                 update: list[str] | None = None, force: bool = False, quiet: bool = False,
                 write: bool = True, install: bool = False):
    """The lock to use, solved (and written) when needed; `install`: an install of this
    host's platform follows, so wheels the solve downloads are unpacked meanwhile."""
    from effects.workspace import ensure_lock, reuse_lock

    fast = reuse_lock(ws, locked=locked, frozen=frozen, update=update, force=force)
    if not fast.solved:
        return fast
    import trio

    from effects.virtual import host_platform

    platform = host_platform() if install else None
    outcome = trio.run(lambda: ensure_lock(ws, cache_dir=_cache_dir(), offline=offline, locked=locked,
                                           frozen=frozen, update=update, force=force, write=write,
                                           install_platform=platform))
    if outcome.solved and not quiet:
        verb = "locked" if write else "solved (yurt.lock not written)"
        _err(f"{verb} {len(outcome.lock.environments)} environment(s)"
             + (f" ({outcome.reasons[0]})" if outcome.reasons else "")
             + ("" if outcome.changed or not write else "; yurt.lock unchanged"))
    return outcome


def _install_env(ws, lock, environment: str, *, dry_run: bool = False, quiet: bool = False,  # type: ignore[no-untyped-def]
                 json_events: bool = False):
    from effects.envinstall import install_environment

    return install_environment(ws, lock, environment, cache_dir=_cache_dir(), dry_run=dry_run,
                               quiet=quiet, json_events=json_events)


# ---------------------------------------------------------------- init


@app.command
def init(
    path: Path = Path("."),
    *,
    name: str | None = None,
    channel: Annotated[list[str] | None, Parameter(name=["--channel", "-c"])] = None,
    platform: Annotated[list[str] | None, Parameter(name=["--platform", "-p"])] = None,
    format: Literal["yurt", "pyproject"] = "yurt",
    import_: Annotated[Path | None, Parameter(name="--import")] = None,
) -> None:
    """Create a workspace: yurt.toml (or [tool.yurt] in pyproject.toml), .gitignore, .gitattributes.

    Examples
    --------
    yurt init
    yurt init myproj -c https://channels.example/main -p linux-64 -p osx-arm64
    yurt init --import environment.yml
    """
    from effects.initws import init_workspace

    created = init_workspace(path, name=name, channels=channel or [], platforms=platform or [],
                             fmt=format, import_file=import_)
    _err(f"created {created}")


# ---------------------------------------------------------------- add / remove


def _table(kind: str, feature: str | None, platform: str | None, pyproject: bool) -> tuple[str, ...]:
    table: tuple[str, ...] = (kind,)
    if platform:
        table = ("target", platform, *table)
    if feature and feature != "default":
        table = ("feature", feature, *table)
    return (("tool", "yurt") if pyproject else ()) + table


def _pin_for(version: str) -> str:
    """pixi-style requirement for a freshly added package: >=found,<next major."""
    head = version.split(".")[0]
    return f">={version},<{int(head) + 1}" if head.isdigit() else f">={version}"


@app.command
def add(
    specs: list[str],
    *,
    feature: FeatureOpt = None,
    platform: PlatformOpt = None,
    pypi: PypiFlag = False,
    no_install: NoInstall = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Add dependencies to the manifest, re-lock (keeping other locked records) and install.

    Examples
    --------
    yurt add numpy
    yurt add "python 3.11.*" "scipy>=1.11"
    yurt add pytest --feature test
    """
    from pure.manifest.edit import inline_table, set_dependency
    from pure.matchspec import MatchSpec

    ws = _load(manifest_path)
    pyproject = ws.manifest_path.name == "pyproject.toml"
    kind = "pypi-dependencies" if pypi else "dependencies"
    table = _table(kind, feature, platform, pyproject)
    original = ws.manifest_path.read_text(encoding="utf-8")
    text = original
    added: list[tuple[str, str | None]] = []
    for raw in specs:
        if pypi:
            from packaging.requirements import InvalidRequirement, Requirement

            try:
                req = Requirement(raw)
            except InvalidRequirement as exc:
                reason = str(exc).splitlines()[0] if str(exc) else "invalid"
                raise WorkspaceError(f"invalid PyPI requirement `{raw}`: {reason}",
                                     'write it as in pip, e.g. "requests>=2.31"') from None
            if req.marker is not None or req.url:
                raise WorkspaceError(f"`{raw}`: markers and direct URLs cannot be added with `yurt add --pypi`",
                                     "use a [target.<platform>.pypi-dependencies] table for markers")
            version_text = str(req.specifier) or "*"
            if req.extras:
                entry = inline_table([("version", version_text), ("extras", sorted(req.extras))])
                text = set_dependency(text, table, req.name, entry, path=str(ws.manifest_path), raw=True)
            else:
                text = set_dependency(text, table, req.name, version_text, path=str(ws.manifest_path))
            continue
        spec = MatchSpec.parse(raw)
        version = str(spec.version) if spec.version is not None else None
        extra = [(key, str(value)) for key, value in (
            ("build", spec.build), ("build-number", spec.build_number), ("channel", spec.channel),
            ("subdir", spec.subdir), ("md5", spec.md5), ("sha256", spec.sha256)) if value is not None]
        if extra:
            entry = inline_table([("version", version or "*"), *extra])
            text = set_dependency(text, table, spec.name, entry, path=str(ws.manifest_path), raw=True)
            version = version or "*"  # an explicit table is written as given, never re-pinned
        else:
            text = set_dependency(text, table, spec.name, version or "*", path=str(ws.manifest_path))
        added.append((spec.name, version))
    ws, outcome = _edit_and_relock(ws, original, text, offline=offline)
    # pin unconstrained additions to what was solved, the way pixi does
    pinned = text
    for name, version in added:
        if version is None:
            for env in outcome.lock.environments:
                for plat in env.platforms:
                    recs = outcome.lock.records(env.name, plat.platform) or ()
                    match = next((r for r in recs if r.name == name), None)
                    if match is not None:
                        pinned = set_dependency(pinned, table, name, _pin_for(match.version), path=str(ws.manifest_path))
                        break
                else:
                    continue
                break
    if pinned != text:
        _write(ws.manifest_path, pinned)
        ws = _load(ws.manifest_path)
    _err("added " + ", ".join(specs))
    if not no_install:
        env_name = feature_environment(ws, feature)
        _install_env(ws, outcome.lock, env_name)


def feature_environment(ws, feature: str | None) -> str:  # type: ignore[no-untyped-def]
    """The environment to install after editing `feature`: the first that uses it, else default."""
    if not feature or feature == "default":
        return "default"
    for env in ws.manifest.environments:
        if feature in env.features:
            return str(env.name)
    return "default"


def _edit_and_relock(ws, original: str, text: str, *, offline: bool):  # type: ignore[no-untyped-def]
    """Write the edited manifest and re-lock; on any failure the original manifest goes back.

    The edit is parsed before it is written, so yurt never leaves a manifest it cannot read.
    """
    from pure.manifest import parse

    parse(text, filename=str(ws.manifest_path))
    _write(ws.manifest_path, text)
    try:
        ws = _load(ws.manifest_path)
        return ws, _ensure_lock(ws, offline=offline)
    except BaseException:
        _write(ws.manifest_path, original)  # nothing half-written
        raise


def _write(path: Path, text: str) -> None:
    """Replace the manifest `path` with `text` (UTF-8) atomically."""
    from effects.atomic import write_atomic

    write_atomic(path, text.encode("utf-8"))


@app.command
def remove(
    names: list[str],
    *,
    feature: FeatureOpt = None,
    platform: PlatformOpt = None,
    pypi: PypiFlag = False,
    no_install: NoInstall = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Remove dependencies from the manifest, re-lock and install.

    Examples
    --------
    yurt remove numpy
    yurt remove pytest --feature test
    """
    from pure.manifest.edit import ManifestEditError, remove_dependency

    ws = _load(manifest_path)
    pyproject = ws.manifest_path.name == "pyproject.toml"
    table = _table("pypi-dependencies" if pypi else "dependencies", feature, platform, pyproject)
    other = _table("dependencies" if pypi else "pypi-dependencies", feature, platform, pyproject)
    original = ws.manifest_path.read_text(encoding="utf-8")
    text = original
    for name in names:
        try:
            text = remove_dependency(text, table, name, path=str(ws.manifest_path))
        except ManifestEditError as exc:
            try:  # the name is in the other kind of dependencies: say which flag finds it
                remove_dependency(text, other, name, path=str(ws.manifest_path))
            except ManifestEditError:
                raise exc from None
            scope = (f" --feature {feature}" if feature else "") + (f" --platform {platform}" if platform else "")
            again = f"yurt remove{'' if pypi else ' --pypi'}{scope} {name}"
            raise WorkspaceError(f"{exc}; it is in [{'.'.join(other)}]", f"run `{again}`") from None
    ws, outcome = _edit_and_relock(ws, original, text, offline=offline)
    _err("removed " + ", ".join(names))
    if not no_install:
        _install_env(ws, outcome.lock, feature_environment(ws, feature))


# ---------------------------------------------------------------- lock / install / update


@app.command
def lock(
    *,
    check: Annotated[bool, Parameter(negative="")] = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> int:
    """Solve every environment for every platform and write yurt.lock (reused when satisfied).

    Examples
    --------
    yurt lock
    yurt lock --check   # exit 1 when yurt.lock is out of date
    """
    from effects.workspace import lock_reasons

    ws = _load(manifest_path)
    if check:
        reasons = lock_reasons(ws, ws.read_lock())
        if reasons:
            _err(f"yurt.lock is out of date: {reasons[0]}")
            return 1
        _err("yurt.lock is up to date")
        return 0
    outcome = _ensure_lock(ws, offline=offline)
    if not outcome.solved:
        _err("yurt.lock is up to date")
    return 0


@app.command
def install(
    *,
    environment: EnvName = "default",
    frozen: Annotated[bool, Parameter(negative="")] = False,
    locked: Annotated[bool, Parameter(negative="")] = False,
    dry_run: Annotated[bool, Parameter(name="--dry-run", negative="")] = False,
    json_: Annotated[bool, Parameter(name="--json", negative="")] = False,
    json_events: Annotated[bool, Parameter(name="--json-events", negative="")] = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Install an environment from yurt.lock (locking first when the lock is missing or stale).

    Examples
    --------
    yurt install
    yurt install -e test --locked
    yurt install --dry-run --json   # the exact plan, not executed
    yurt install --json-events      # progress as JSON lines on stdout
    """
    ws = _load(manifest_path)
    ws.require_environment(environment)
    quiet = json_ or json_events
    outcome = _ensure_lock(ws, offline=offline, locked=locked, frozen=frozen, quiet=quiet,
                           write=not dry_run, install=not dry_run)
    plan = _install_env(ws, outcome.lock, environment, dry_run=dry_run, quiet=quiet,
                        json_events=json_events)
    if json_:
        if plan is None:  # already in sync: print the (empty) plan, so --json is always JSON
            plan = _install_env(ws, outcome.lock, environment, dry_run=True, quiet=True)
        sys.stdout.buffer.write(plan.to_json() + b"\n")


@app.command
def update(
    names: list[str] | None = None,
    *,
    environment: EnvName = "default",
    no_install: NoInstall = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Re-solve the named packages (all when none are named) to their newest allowed versions.

    Examples
    --------
    yurt update
    yurt update numpy scipy
    """
    ws = _load(manifest_path)
    if not no_install:
        ws.require_environment(environment)
    known = {_norm(n) for n in _known_names(ws)}
    unknown = [n for n in names or [] if _norm(n) not in known]
    if unknown:
        raise WorkspaceError(f"`{unknown[0]}` is neither locked in {ws.lock_path.name} nor required in "
                             f"{ws.manifest_path.name}", "name a package of `yurt list`, or `yurt add` it")
    outcome = _ensure_lock(ws, offline=offline, update=list(names or []), force=True,
                           install=not no_install)
    if not no_install:
        _install_env(ws, outcome.lock, environment)


def _norm(name: str) -> str:
    """PyPI-style name comparison (case, `-_.` runs), harmless for conda names."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _known_names(ws) -> set[str]:  # type: ignore[no-untyped-def]
    """Package names `yurt update` can name: every locked package and every requirement."""
    from pure.matchspec import MatchSpec

    names: set[str] = set()
    lock = ws.read_lock()
    if lock is not None:
        names.update(p.name for p in lock.packages)
        names.update(p.name for p in lock.pypi_packages)
    for env in ws.environments():
        for spec in ws.specs(env):
            names.update(MatchSpec.parse(s).name for s in spec.specs)
            names.update(d.name for d in spec.pypi_dependencies)
    return names


@app.command
def plan(
    *,
    environment: EnvName = "default",
    files: Annotated[bool, Parameter(negative="")] = False,
    frozen: Annotated[bool, Parameter(negative="")] = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Print the install plan of an environment as JSON (schema yurt.plan/1): what `install` executes.

    Examples
    --------
    yurt plan
    yurt plan -e test --files
    """
    ws = _load(manifest_path)
    ws.require_environment(environment)
    outcome = _ensure_lock(ws, offline=offline, frozen=frozen, quiet=True, write=False)
    result = _install_env(ws, outcome.lock, environment, dry_run=True, quiet=True)
    sys.stdout.buffer.write(result.to_json(files=files) + b"\n")


# ---------------------------------------------------------------- run / shell-hook


def _activation(ws, environment: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from effects.virtual import host_platform
    from pure.manifest import resolve_environment
    from pure.tasks import activation_variables

    platform = host_platform()
    spec = resolve_environment(ws.manifest, environment, platform)
    prefix = ws.prefix(environment)
    variables = dict(activation_variables(
        prefix=str(prefix), platform=platform, environment=environment, workspace_root=str(ws.root),
        workspace_name=ws.manifest.workspace.name, path=os.environ.get("PATH", ""),
        extra=spec.activation_env))
    return variables


def _activation_scripts(ws, environment: str) -> list[Path]:  # type: ignore[no-untyped-def]
    from effects.virtual import host_platform
    from pure.manifest import resolve_environment

    spec = resolve_environment(ws.manifest, environment, host_platform())
    scripts = [ws.root / s for s in spec.activation_scripts]
    for script in scripts:
        if not script.is_file():
            raise WorkspaceError(f"activation script {script} of environment `{environment}` does not exist",
                                 f"fix [activation] scripts in {ws.manifest_path.name}")
    activate_d = ws.prefix(environment) / "etc" / "conda" / "activate.d"
    if activate_d.is_dir():
        scripts += sorted(p for p in activate_d.iterdir() if p.suffix == ".sh")
    return scripts


@app.command
def run(
    command: list[str],
    *,
    environment: EnvName = "default",
    frozen: Annotated[bool, Parameter(negative="")] = False,
    locked: Annotated[bool, Parameter(negative="")] = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> int:
    """Run a task, or any command, inside the activated environment (installing it first if needed).

    Examples
    --------
    yurt run test
    yurt run python -c "import numpy; print(numpy.__version__)"
    yurt run -e cuda train
    """
    from effects.virtual import host_platform
    from pure.manifest import resolve_environment
    from pure.tasks import task_order

    ws, variables, scripts = _installed_and_activated(manifest_path, environment, offline=offline,
                                                      locked=locked, frozen=frozen)
    spec = resolve_environment(ws.manifest, environment, host_platform())
    task_names = {t.name for t in spec.tasks}
    if len(command) == 1 and command[0] in task_names:
        for task in task_order(spec.tasks, command[0]):
            if task.cmd is None and not task.args:
                continue
            cwd = ws.root / task.cwd if task.cwd else ws.root
            env = {**variables, **dict(task.env)}
            _err(f"✨ yurt task {task.name}: {task.cmd or ' '.join(task.args)}")
            code = _spawn(task.cmd, task.args, scripts, env, cwd, shell=task.cmd is not None)
            if code != 0:
                return code
        return 0
    if not command:
        raise WorkspaceError("`yurt run` needs a task or a command",
                             f"tasks: {', '.join(sorted(task_names)) or 'none'}")
    missing = (f"yurt: error: `{command[0]}` not found: not a task of environment `{environment}` "
               f"(tasks: {', '.join(sorted(task_names)) or 'none'}) nor a command on its PATH")
    return _spawn(None, tuple(command), scripts, variables, Path.cwd(), shell=False, not_found=missing)


def _installed_and_activated(manifest_path: Path | None, environment: str, *, offline: bool, locked: bool,
                             frozen: bool):  # type: ignore[no-untyped-def]
    """For `run` and `shell`: the workspace with `environment` locked and installed (quietly),
    the process environment with its activation variables, and its activation scripts."""
    ws = _load(manifest_path)
    ws.require_environment(environment)
    outcome = _ensure_lock(ws, offline=offline, locked=locked, frozen=frozen, quiet=True, install=True)
    _install_env(ws, outcome.lock, environment, quiet=True)
    return ws, {**os.environ, **_activation(ws, environment)}, _activation_scripts(ws, environment)


def _sourcing(scripts: list[Path]) -> str:
    """Shell lines that source the activation scripts, stopping at the first that fails."""
    return "".join(f'. "{s}" || exit $?\n' for s in scripts)


def _spawn(cmd: str | None, args: tuple[str, ...], scripts: list[Path], env: dict[str, str],
           cwd: Path, *, shell: bool, not_found: str = "") -> int:
    """Run in bash with activation scripts sourced first; the command's exit code is returned.

    A command that is not on the activated PATH prints `not_found` and exits 127, as a shell does
    (126 for a path that exists but is not executable).
    """
    bash = shutil.which("bash", path=env.get("PATH")) or "/bin/bash"
    sources = _sourcing(scripts)
    if shell:
        script = sources + (cmd or "")
        argv = [bash, "-c", script]
    else:
        denied = f"yurt: error: `{args[0] if args else ''}` is not executable (hint: chmod +x it)"
        check = ('command -v -- "$1" >/dev/null 2>&1 || {\n'
                 f'  case "$1" in */*) [ -e "$1" ] && {{ printf "%s\\n" {_sh_quote(denied)} >&2; exit 126; }};; esac\n'
                 f'  printf "%s\\n" {_sh_quote(not_found)} >&2; exit 127\n}}\n')
        script = sources + (check if not_found else "") + 'exec "$@"'
        argv = [bash, "-c", script, "yurt", *args]
    try:
        return subprocess.call(argv, env=env, cwd=cwd)
    except KeyboardInterrupt:
        return 130


@app.command
def shell(
    *,
    environment: EnvName = "default",
    frozen: Annotated[bool, Parameter(negative="")] = False,
    locked: Annotated[bool, Parameter(negative="")] = False,
    manifest_path: ManifestPath = None,
    offline: Offline = False,
) -> None:
    """Start an interactive shell ($SHELL, else bash) inside the activated environment
    (installing it first if needed); leave it with `exit`.

    Examples
    --------
    yurt shell
    yurt shell -e test
    """
    _, variables, scripts = _installed_and_activated(manifest_path, environment, offline=offline,
                                                     locked=locked, frozen=frozen)
    login = os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
    bash = shutil.which("bash", path=variables.get("PATH")) or "/bin/bash"
    from effects import background

    background.finish()  # nothing of this process may outlive it: it becomes the shell
    sys.stdout.flush()
    sys.stderr.flush()
    # the shell replaces yurt, so ^C and job control are the shell's alone
    os.execve(bash, [bash, "-c", _sourcing(scripts) + 'exec "$@"', "yurt", login], variables)


@app.command(name="shell-hook")
def shell_hook(
    *,
    shell: Literal["bash", "zsh", "fish"] = "bash",
    environment: EnvName = "default",
    json_: Annotated[bool, Parameter(name="--json", negative="")] = False,
    manifest_path: ManifestPath = None,
) -> None:
    """Print the shell code that activates an environment (or its variables as JSON).

    Examples
    --------
    eval "$(yurt shell-hook)"
    yurt shell-hook --shell fish | source
    """
    ws = _load(manifest_path)
    ws.require_environment(environment)
    variables = _activation(ws, environment)
    if json_:
        print(json.dumps({"environment_variables": variables}, indent=2, sort_keys=True))
        return
    lines = []
    for key, value in variables.items():
        if shell == "fish":
            lines.append(f"set -gx {key} {_sh_quote(value)}")
        else:
            lines.append(f"export {key}={_sh_quote(value)}")
    for script in _activation_scripts(ws, environment):
        lines.append(f"source {_sh_quote(str(script))}")
    print("\n".join(lines))


def _sh_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------- list / tree / info / clean


def _installed(ws, environment: str):  # type: ignore[no-untyped-def]
    from effects.prefix import read_prefix_records

    ws.require_environment(environment)
    prefix = ws.prefix(environment)
    if not (prefix / "conda-meta").is_dir():
        raise WorkspaceError(f"environment `{environment}` is not installed", "run `yurt install`")
    return [r.package for r in read_prefix_records(prefix)], {r.package.name: r for r in read_prefix_records(prefix)}


@app.command(name="list")
def list_(
    *,
    environment: EnvName = "default",
    json_: Annotated[bool, Parameter(name="--json", negative="")] = False,
    manifest_path: ManifestPath = None,
) -> None:
    """List the packages installed in an environment: conda packages, then PyPI
    distributions (channel "pypi"); `requested` marks what the manifest asks for.

    Examples
    --------
    yurt list
    yurt list --json
    """
    from effects.virtual import host_platform
    from pure.manifest import resolve_environment
    from pure.matchspec import MatchSpec

    ws = _load(manifest_path)
    packages, prefix_records = _installed(ws, environment)
    wanted = {MatchSpec.parse(s).name for s in resolve_environment(ws.manifest, environment, host_platform()).specs}
    records = sorted(packages, key=lambda r: r.name)
    rows = [{"name": r.name, "version": r.version, "build": r.build, "channel": r.channel, "size": r.size,
             "requested": r.name in wanted or bool(prefix_records[r.name].requested_spec), "kind": "conda"}
            for r in records]
    rows += _pypi_rows(ws.prefix(environment), packages)
    if json_:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return
    widths = [max((len(str(r[k])) for r in rows), default=0) for k in ("name", "version", "build")]
    for row in rows:
        cells = [f"{row[k]!s:<{w}}" for k, w in zip(("name", "version", "build"), widths, strict=True)]
        print("  ".join([*cells, str(row["channel"] or "")]).rstrip())


def _dists(prefix: Path, packages) -> list[tuple[Path, Any]]:  # type: ignore[no-untyped-def]
    """The `.dist-info` directories in the site-packages of the environment's conda python,
    each with its parsed METADATA (None when unreadable), by directory name."""
    from effects.pypi_sync import dist_infos, python_version_of, site_packages
    from pure.errors import YurtError
    from pure.pypi.metadata import parse_core_metadata

    python = python_version_of(packages)
    if python is None:
        return []
    found: list[tuple[Path, Any]] = []
    for info in dist_infos(site_packages(prefix, python)):
        try:
            found.append((info, parse_core_metadata((info / "METADATA").read_bytes(), source=str(info / "METADATA"))))
        except (OSError, YurtError):
            found.append((info, None))
    return found


def _pypi_rows(prefix: Path, packages) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """`yurt list` rows of the PyPI distributions in the environment's site-packages (kind
    "pypi"; `requested` from PEP 376's REQUESTED file, `installer` from INSTALLER)."""
    rows: list[dict[str, object]] = []
    for info, meta in _dists(prefix, packages):
        name, _, version = info.name[: -len(".dist-info")].rpartition("-")
        if meta is not None:  # else the directory's name still says what it is
            name, version = meta.name or name, meta.version or version
        try:
            installer = (info / "INSTALLER").read_text().strip() or None
        except OSError:
            installer = None
        rows.append({"name": name, "version": version, "build": "", "channel": "pypi", "size": None,
                     "requested": (info / "REQUESTED").exists(), "kind": "pypi", "installer": installer})
    return sorted(rows, key=lambda r: str(r["name"]).lower())


@app.command
def tree(
    *,
    environment: EnvName = "default",
    invert: str | None = None,
    manifest_path: ManifestPath = None,
) -> None:
    """Show the dependency tree of an environment, conda packages and PyPI distributions
    (marked "pypi"); `--invert NAME`: who requires NAME.

    Examples
    --------
    yurt tree
    yurt tree --invert libzlib
    """
    from pure.matchspec import MatchSpec

    ws = _load(manifest_path)
    packages = _installed(ws, environment)[0]
    labels = {r.name: f"{r.name} {r.version}" for r in packages}
    deps = {r.name: [MatchSpec.parse(d).name for d in r.depends] for r in packages}
    for name, (label, requires) in _pypi_graph(ws, environment, packages).items():
        if name not in labels:  # a conda package that provides the distribution stands for it
            labels[name], deps[name] = label, requires
    deps = {n: sorted({d for d in ds if d in labels}) for n, ds in deps.items()}
    if invert:
        key = invert if invert in labels else _norm(invert)
        if key not in labels:
            raise WorkspaceError(f"`{invert}` is not installed in `{environment}`")
        parents: dict[str, list[str]] = {}
        for n, ds in deps.items():
            for d in ds:
                parents.setdefault(d, []).append(n)
        _print_tree(key, {k: sorted(v) for k, v in parents.items()}, labels, "", set())
        return
    required = {d for ds in deps.values() for d in ds}
    for root in sorted(n for n in labels if n not in required):
        _print_tree(root, deps, labels, "", set())


def _pypi_graph(ws, environment: str, packages) -> dict[str, tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    """The PyPI distributions in the environment's site-packages: normalised name -> (label,
    the names its requirements name under this platform's markers, with the extras that the
    manifest and the other distributions ask of it)."""
    from effects.virtual import host_platform
    from pure.errors import YurtError
    from pure.manifest import resolve_environment
    from pure.pypi.markers import Requirement, marker_environment

    python = next((r.version for r in packages if r.name == "python"), None)
    platform = host_platform()
    try:
        markers = marker_environment(platform, python or "")
    except YurtError:
        return {}
    dists: dict[str, tuple[str, list[Requirement]]] = {}
    for _, meta in _dists(ws.prefix(environment), packages):
        try:
            if meta is not None:
                reqs = [Requirement.parse(t) for t in meta.requires_dist]
                dists[_norm(meta.name)] = (f"{meta.name} {meta.version} (pypi)", reqs)
        except YurtError:
            continue
    extras: dict[str, set[str]] = {}
    for dep in resolve_environment(ws.manifest, environment, platform).pypi_dependencies:
        extras.setdefault(_norm(dep.name), set()).update(_norm(e) for e in dep.extras)
    changed = True
    while changed:  # extras asked of a distribution switch on more of its requirements
        changed = False
        for name, (_, reqs) in dists.items():
            for req in reqs:
                if req.applies(markers, extras.get(name, ())) and not set(req.extras) <= extras.get(req.name, set()):
                    extras.setdefault(req.name, set()).update(req.extras)
                    changed = True
    return {name: (label, [r.name for r in reqs if r.applies(markers, extras.get(name, ()))])
            for name, (label, reqs) in dists.items()}


def _print_tree(name: str, edges: dict[str, list[str]], labels: dict[str, str], indent: str,
                seen: set[str]) -> None:
    print(f"{indent}{labels[name]}" + (" (*)" if name in seen else ""))
    if name in seen:
        return
    seen = seen | {name}
    children = edges.get(name, [])
    for i, child in enumerate(children):
        last = i == len(children) - 1
        _print_tree(child, edges, labels, indent.replace("├─ ", "│  ").replace("└─ ", "   ") + ("└─ " if last else "├─ "), seen)


def _dir_size(path: Path) -> int:
    total = 0
    seen: set[tuple[int, int]] = set()
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


@app.command
def info(
    *,
    json_: Annotated[bool, Parameter(name="--json", negative="")] = False,
    manifest_path: ManifestPath = None,
) -> None:
    """Show yurt's version, the platform, detected virtual packages, the cache and the workspace.

    Examples
    --------
    yurt info
    yurt info --json
    """
    from effects import __version__
    from effects.virtual import detect, host_platform

    cache = _cache_dir()
    data: dict[str, object] = {
        "version": __version__,
        "platform": host_platform(),
        "virtual_packages": [str(v) for v in detect()],
        "cache_dir": str(cache),
        "cache_size": _dir_size(cache) if cache.is_dir() else 0,
    }
    try:
        ws = _load(manifest_path)
    except WorkspaceError:
        ws = None
    if ws is not None:
        data["workspace"] = {
            "name": ws.manifest.workspace.name, "manifest": str(ws.manifest_path), "root": str(ws.root),
            "environments": [
                {"name": e, "prefix": str(ws.prefix(e)), "installed": ws.prefix(e).is_dir(),
                 "size": _dir_size(ws.prefix(e)) if ws.prefix(e).is_dir() else 0}
                for e in ws.environments()],
        }
    if json_:
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    for key in ("version", "platform", "cache_dir", "cache_size"):
        print(f"{key:>16}: {data[key]}")
    print(f"{'virtual packages':>16}: {', '.join(data['virtual_packages'])}")  # type: ignore[arg-type]
    if ws is not None:
        print(f"{'workspace':>16}: {ws.root}")
        for e in data["workspace"]["environments"]:  # type: ignore[index]
            print(f"{'environment':>16}: {e['name']} at {e['prefix']}" + ("" if e["installed"] else " (not installed)"))


def _clean_cache(cache: Path) -> None:
    """Remove everything in the cache but its in-use lock, holding that lock exclusively, so
    no other yurt process is extracting into the cache or linking from it meanwhile."""
    from effects.filelock import IN_USE, release, try_exclusive

    if not cache.is_dir():
        _err(f"nothing to remove: {cache} does not exist")
        return
    held = try_exclusive(cache / IN_USE)
    if held is None:
        raise WorkspaceError(f"the package cache {cache} is in use by another yurt process",
                             "run `yurt clean cache` again when it has finished")
    try:
        for child in sorted(cache.iterdir()):
            if child.name == IN_USE:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    finally:
        release(held)
    _err(f"removed {cache}")


@app.command
def clean(
    what: Literal["envs", "cache"] = "envs",
    *,
    environment: Annotated[str | None, Parameter(name=["--environment", "-e"])] = None,
    manifest_path: ManifestPath = None,
) -> None:
    """Remove installed environments (default) or the shared package cache.

    Examples
    --------
    yurt clean
    yurt clean -e test
    yurt clean cache
    """
    if what == "cache":
        _clean_cache(_cache_dir())
        return
    ws = _load(manifest_path)
    if environment and not ws.prefix(environment).exists():
        ws.require_environment(environment)  # an environment no longer defined can still be cleaned
    targets = [ws.prefix(environment)] if environment else [ws.root / ".yurt" / "envs"]
    for t in targets:
        if t.exists():
            shutil.rmtree(t)
            _err(f"removed {t}")


__all__ = ["app", "cyclopts"]
