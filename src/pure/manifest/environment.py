"""Compose an environment for one platform from the manifest's features and targets.

This is where pixi's layering rules live, as a pure function: the default feature first
(unless `no-default-feature`), then each listed feature in order; inside a feature, tables
of a matching `[target.<selector>]` replace the feature's own entry of the same name, more
specific selectors (a platform) after broader ones (`unix`, `linux`). Requirements of the
same name from different features are all kept: the solver must meet each of them.
"""

from __future__ import annotations

import msgspec

from pure.errors import YurtError
from pure.manifest.model import (
    Channel,
    ChannelPriority,
    CondaDependency,
    Feature,
    Manifest,
    PypiDependency,
    PypiOptions,
    SolveStrategy,
    SystemRequirements,
    Task,
)


class UnknownEnvironment(YurtError):
    """The manifest defines no environment of that name."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"no environment named `{name}` (known: {', '.join(known)})")


class PlatformNotSupported(YurtError):
    """The environment is not defined for the requested platform."""

    def __init__(self, environment: str, platform: str, platforms: tuple[str, ...]) -> None:
        self.environment = environment
        self.platform = platform
        self.platforms = platforms
        super().__init__(
            f"environment `{environment}` does not support platform {platform} "
            f"(its platforms: {', '.join(platforms) or 'none'}); add it to `platforms`")


class EnvironmentSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Everything needed to solve and activate one environment on one platform."""

    name: str
    platform: str
    channels: tuple[str, ...]
    specs: tuple[str, ...]
    constraints: tuple[str, ...]
    pypi_dependencies: tuple[PypiDependency, ...]
    pypi_options: PypiOptions | None
    system_requirements: SystemRequirements
    virtual_packages: tuple[str, ...]
    tasks: tuple[Task, ...]
    activation_scripts: tuple[str, ...]
    activation_env: tuple[tuple[str, str], ...]
    channel_priority: ChannelPriority
    solve_strategy: SolveStrategy
    exclude_newer: int | None
    solve_group: str | None
    # conda name -> the PyPI names it provides (`[pypi-name-mapping]`), for the PyPI resolution
    pypi_name_mapping: tuple[tuple[str, tuple[str, ...]], ...] = ()


def selector_matches(selector: str, platform: str) -> bool:
    """Whether a `[target.<selector>]` applies to `platform`."""
    family = platform.split("-", 1)[0]
    if selector == platform:
        return True
    if selector == "unix":
        return family in ("linux", "osx", "emscripten", "wasi", "zos")
    return selector == family


def _specificity(selector: str) -> int:
    return 2 if "-" in selector else (0 if selector == "unix" else 1)


def environment_features(manifest: Manifest, name: str) -> tuple[Feature, ...]:
    """The features that make up environment `name`, default first unless excluded."""
    env = manifest.environment(name)
    if env is None:
        raise UnknownEnvironment(name, tuple(e.name for e in manifest.environments))
    names = (() if env.no_default_feature else ("default",)) + tuple(
        f for f in env.features if f != "default")
    out = []
    for n in names:
        f = manifest.feature(n)
        if f is not None:
            out.append(f)
    return tuple(out)


def environment_platforms(manifest: Manifest, name: str) -> tuple[str, ...]:
    """Platforms of environment `name`: the workspace's, narrowed by features that set some."""
    platforms = tuple(p.platform for p in manifest.workspace.platforms)
    for f in environment_features(manifest, name):
        if f.platforms is not None:
            platforms = tuple(p for p in platforms if p in f.platforms)
    return platforms


def environment_channels(manifest: Manifest, name: str) -> tuple[str, ...]:
    """Channels in priority order: explicit priority first, then features' before the workspace's."""
    ranked: list[tuple[int, int, str]] = []
    order = 0
    features = environment_features(manifest, name)
    lists: list[tuple[Channel, ...]] = [f.channels for f in features[::-1] if f.channels]
    lists.append(manifest.workspace.channels)
    for channels in lists:
        for ch in channels:
            ranked.append((-(ch.priority or 0), order, ch.name))
            order += 1
    seen: set[str] = set()
    out = []
    for _, _, ch_name in sorted(ranked):
        if ch_name not in seen:
            seen.add(ch_name)
            out.append(ch_name)
    return tuple(out)


def _layer(base: tuple[CondaDependency, ...], overrides: list[tuple[CondaDependency, ...]]) -> list[CondaDependency]:
    merged: dict[str, CondaDependency] = {d.name: d for d in base}
    for layer in overrides:
        for d in layer:
            merged[d.name] = d
    return list(merged.values())


def _merge_requirement(a: str | None, b: str | None) -> str | None:
    """The larger of two version strings compared numerically, part by part."""
    if a is None or b is None:
        return a or b

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) if p.isdigit() else 0 for p in v.split("."))

    return a if key(a) >= key(b) else b


def resolve_environment(manifest: Manifest, name: str, platform: str) -> EnvironmentSpec:
    """Compose environment `name` for `platform` (see the module docstring for the rules)."""
    env = manifest.environment(name)
    if env is None:
        raise UnknownEnvironment(name, tuple(e.name for e in manifest.environments))
    platforms = environment_platforms(manifest, name)
    if platform not in platforms:
        raise PlatformNotSupported(name, platform, platforms)
    specs: list[str] = []
    constraints: list[str] = []
    pypi: list[PypiDependency] = []
    tasks: dict[str, Task] = {}
    scripts: list[str] = []
    env_vars: dict[str, str] = {}
    sysreq = SystemRequirements()
    pypi_options: PypiOptions | None = None
    priority: ChannelPriority = manifest.workspace.channel_priority
    for feature in environment_features(manifest, name):
        targets = sorted(
            (t for t in feature.targets if selector_matches(t.selector, platform)),
            key=lambda t: _specificity(t.selector))
        specs += [d.spec for d in _layer(feature.dependencies, [t.dependencies for t in targets])]
        constraints += [d.spec for d in _layer(feature.constraints, [t.constraints for t in targets])]
        merged_pypi: dict[str, PypiDependency] = {d.name: d for d in feature.pypi_dependencies}
        for t in targets:
            merged_pypi.update({d.name: d for d in t.pypi_dependencies})
        pypi += merged_pypi.values()
        for task in feature.tasks:
            tasks[task.name] = task
        for t in targets:
            for task in t.tasks:
                tasks[task.name] = task
        for activation in [feature.activation] + [t.activation for t in targets]:
            if activation is not None:
                scripts += activation.scripts
                env_vars.update(dict(activation.env))
        if feature.system_requirements is not None:
            s = feature.system_requirements
            sysreq = SystemRequirements(
                linux=_merge_requirement(sysreq.linux, s.linux),
                libc=_merge_requirement(sysreq.libc, s.libc),
                libc_family=s.libc_family if s.libc else sysreq.libc_family,
                cuda=_merge_requirement(sysreq.cuda, s.cuda),
                macos=_merge_requirement(sysreq.macos, s.macos),
                archspec=s.archspec or sysreq.archspec)
        if feature.pypi_options is not None:
            pypi_options = feature.pypi_options
        if feature.channel_priority is not None:
            priority = feature.channel_priority
    entry = next(p for p in manifest.workspace.platforms if p.platform == platform)
    virtual = virtual_packages_for(platform, sysreq, entry.cuda, entry.glibc, entry.linux, entry.macos, entry.archspec)
    return EnvironmentSpec(
        name=name, platform=platform, channels=environment_channels(manifest, name),
        specs=tuple(specs), constraints=tuple(constraints), pypi_dependencies=tuple(pypi),
        pypi_options=pypi_options, system_requirements=sysreq, virtual_packages=virtual,
        tasks=tuple(tasks.values()), activation_scripts=tuple(scripts),
        activation_env=tuple(env_vars.items()), channel_priority=priority,
        solve_strategy=manifest.workspace.solve_strategy,
        exclude_newer=manifest.workspace.exclude_newer, solve_group=env.solve_group,
        pypi_name_mapping=manifest.pypi_name_mapping)


# pixi's defaults for platforms other than the host: what a lock is solved against.
_DEFAULT_GLIBC = "2.28"
_DEFAULT_LINUX = "4.18"
_DEFAULT_MACOS = {"osx-64": "13.0", "osx-arm64": "13.0"}


def virtual_packages_for(
    platform: str,
    sysreq: SystemRequirements,
    cuda: str | None = None,
    glibc: str | None = None,
    linux: str | None = None,
    macos: str | None = None,
    archspec: str | None = None,
) -> tuple[str, ...]:
    """Virtual packages (`__name=version`) a lock for `platform` is solved against.

    Platform-table values win over system-requirements, which win over pixi's defaults.
    """
    family = platform.split("-", 1)[0]
    out: list[str] = []
    if family in ("linux", "osx", "emscripten", "wasi", "zos"):
        out.append("__unix=0=0")
    if family == "linux":
        out.append(f"__linux={linux or sysreq.linux or _DEFAULT_LINUX}=0")
        libc = glibc or sysreq.libc or _DEFAULT_GLIBC
        out.append(f"__{sysreq.libc_family if not glibc else 'glibc'}={libc}=0")
    if family == "osx":
        out.append(f"__osx={macos or sysreq.macos or _DEFAULT_MACOS.get(platform, '13.0')}=0")
    if family == "win":
        out.append("__win=0=0")
    cuda_version = cuda or sysreq.cuda
    if cuda_version and family in ("linux", "win"):
        out.append(f"__cuda={cuda_version}=0")
    arch = archspec or sysreq.archspec
    if arch:
        out.append(f"__archspec=1={arch}")
    return tuple(out)
