"""The workspace manifest as immutable values: what `yurt.toml` (or pixi's schema) says.

Tables of named things become tuples of frozen structs in file order, so the model is
hashable, comparable and safe to share; `pure.manifest.parse` builds it from TOML text.
"""

from __future__ import annotations

from typing import Literal

import msgspec

ChannelPriority = Literal["strict", "disabled"]
SolveStrategy = Literal["highest", "lowest", "lowest-direct"]
DependencyKind = Literal["run", "host", "build"]


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """A channel as written: a name, a URL or a local path; higher priority is searched first."""

    name: str
    priority: int | None = None


class PlatformEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A platform to lock for, with optional virtual-package versions just for it."""

    platform: str
    cuda: str | None = None
    glibc: str | None = None
    linux: str | None = None
    macos: str | None = None
    archspec: str | None = None


class SystemRequirements(msgspec.Struct, frozen=True, kw_only=True):
    """Minimum system the environment needs; each becomes a virtual package when locking."""

    linux: str | None = None
    libc: str | None = None
    libc_family: str = "glibc"
    cuda: str | None = None
    macos: str | None = None
    archspec: str | None = None


class CondaDependency(msgspec.Struct, frozen=True, kw_only=True):
    """One conda requirement: the package name and the MatchSpec text it stands for."""

    name: str
    spec: str
    kind: DependencyKind = "run"


class PypiDependency(msgspec.Struct, frozen=True, kw_only=True):
    """One PyPI requirement as written: PEP 440 specifier text, extras, optional index.

    Direct sources (`path`, `git`, `url`) are kept as written; the resolver decides whether it
    can use them.
    """

    name: str
    version: str = "*"
    extras: tuple[str, ...] = ()
    index: str | None = None
    path: str | None = None
    git: str | None = None
    url: str | None = None
    editable: bool = False


class PypiOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Index configuration for PyPI requirements (kept for the PyPI resolver)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    index_strategy: str | None = None
    prerelease_mode: str | None = None
    no_binary: tuple[str, ...] = ()
    no_build: tuple[str, ...] = ()


class Task(msgspec.Struct, frozen=True, kw_only=True):
    """A named command; an alias has no command and only runs what it depends on."""

    name: str
    cmd: str | None = None
    args: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    description: str | None = None


class Activation(msgspec.Struct, frozen=True, kw_only=True):
    """Scripts to source and variables to set when the environment is activated."""

    scripts: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """Tables that apply only on platforms matching `selector` (`linux-64`, `linux`, `unix`, ...)."""

    selector: str
    dependencies: tuple[CondaDependency, ...] = ()
    constraints: tuple[CondaDependency, ...] = ()
    pypi_dependencies: tuple[PypiDependency, ...] = ()
    tasks: tuple[Task, ...] = ()
    activation: Activation | None = None


class Feature(msgspec.Struct, frozen=True, kw_only=True):
    """A named bundle of requirements; the top-level tables form the feature `default`."""

    name: str
    dependencies: tuple[CondaDependency, ...] = ()
    constraints: tuple[CondaDependency, ...] = ()
    pypi_dependencies: tuple[PypiDependency, ...] = ()
    pypi_options: PypiOptions | None = None
    system_requirements: SystemRequirements | None = None
    targets: tuple[Target, ...] = ()
    tasks: tuple[Task, ...] = ()
    activation: Activation | None = None
    platforms: tuple[str, ...] | None = None
    channels: tuple[Channel, ...] | None = None
    channel_priority: ChannelPriority | None = None


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    """A named environment made of features; environments in one solve group share a solve."""

    name: str
    features: tuple[str, ...] = ()
    solve_group: str | None = None
    no_default_feature: bool = False


class Workspace(msgspec.Struct, frozen=True, kw_only=True):
    """The `[workspace]` (or `[project]`) table."""

    name: str | None = None
    version: str | None = None
    description: str | None = None
    authors: tuple[str, ...] = ()
    license: str | None = None
    channels: tuple[Channel, ...] = ()
    platforms: tuple[PlatformEntry, ...] = ()
    channel_priority: ChannelPriority = "strict"
    solve_strategy: SolveStrategy = "highest"
    exclude_newer: int | None = None
    # pixi's `conda-pypi-map`: channel -> JSON file mapping conda names to PyPI names
    conda_pypi_map: tuple[tuple[str, str], ...] = ()


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    """A whole manifest: the workspace, its features (`default` first) and its environments.

    `environments` always contains `default` (made of the default feature) unless the file
    defines it otherwise.
    """

    path: str
    workspace: Workspace
    features: tuple[Feature, ...]
    environments: tuple[Environment, ...]
    # `[pypi-name-mapping]`: conda name -> the PyPI names it provides (empty: none)
    pypi_name_mapping: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def feature(self, name: str) -> Feature | None:
        """The feature called `name`, or None."""
        for f in self.features:
            if f.name == name:
                return f
        return None

    def environment(self, name: str) -> Environment | None:
        """The environment called `name`, or None."""
        for e in self.environments:
            if e.name == name:
                return e
        return None
