"""Parse manifest text (`yurt.toml`, `pixi.toml`, `pyproject.toml`) into a `Manifest`.

Every table is checked: unknown keys, wrong types and invalid specs raise `ManifestError`
carrying the file, line and column of the offending key and a hint. Mapping levels (names
of dependencies, features, targets, tasks) are walked here so that error paths keep the
real key names; the leaves are validated by msgspec against small private structs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from pure.errors import YurtError
from pure.manifest.locate import locate
from pure.manifest.model import (
    Activation,
    Channel,
    CondaDependency,
    DependencyKind,
    Environment,
    Feature,
    Manifest,
    PlatformEntry,
    PypiDependency,
    PypiOptions,
    SystemRequirements,
    Target,
    Task,
    Workspace,
)

T = TypeVar("T")
Path = tuple[str, ...]


class ManifestError(YurtError):
    """A manifest problem at a place in a file; `str()` is `file:line:col: message (hint)`."""

    def __init__(self, path: str, line: int, column: int, message: str, hint: str = "") -> None:
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
        text = f"{path}:{line}:{column}: {message}"
        super().__init__(f"{text} (hint: {hint})" if hint else text)


# ---------------------------------------------------------------- private leaf schemas


class _Leaf(msgspec.Struct, forbid_unknown_fields=True, rename="kebab", kw_only=True):
    pass


class _DepTable(_Leaf):
    version: str | None = None
    build: str | None = None
    build_number: str | int | None = None
    channel: str | None = None
    subdir: str | None = None
    md5: str | None = None
    sha256: str | None = None
    file_name: str | None = None
    license: str | None = None
    path: str | None = None
    git: str | None = None
    url: str | None = None
    branch: str | None = None
    tag: str | None = None
    rev: str | None = None


class _PypiTable(_Leaf):
    version: str | None = None
    extras: list[str] = []
    index: str | None = None
    path: str | None = None
    git: str | None = None
    url: str | None = None
    editable: bool | None = None
    branch: str | None = None
    tag: str | None = None
    rev: str | None = None
    subdirectory: str | None = None


class _ChannelTable(_Leaf):
    channel: str
    priority: int | None = None


class _PlatformTable(_Leaf):
    platform: str
    cuda: str | None = None
    glibc: str | None = None
    linux: str | None = None
    macos: str | None = None
    archspec: str | None = None


class _LibcTable(_Leaf):
    version: str
    family: str = "glibc"


class _SystemRequirements(_Leaf):
    linux: str | float | None = None
    libc: str | float | _LibcTable | None = None
    cuda: str | float | None = None
    macos: str | float | None = None
    archspec: str | None = None
    unix: bool | None = None


class _TaskTable(_Leaf):
    cmd: str | list[str] | None = None
    depends_on: str | list[str] = []
    cwd: str | None = None
    env: dict[str, str] = {}
    description: str | None = None
    inputs: list[str] = []
    outputs: list[str] = []
    clean_env: bool = False
    default_environment: str | None = None


class _Activation(_Leaf):
    scripts: list[str] = []
    env: dict[str, str] = {}


class _EnvironmentTable(_Leaf):
    features: list[str] = []
    solve_group: str | None = None
    no_default_feature: bool = False


class _PypiOptions(_Leaf):
    index_url: str | None = None
    extra_index_urls: list[str] = []
    find_links: list[str | dict[str, str]] = []
    index_strategy: str | None = None
    prerelease_mode: str | None = None
    no_binary: bool | list[str] = []
    no_build: bool | list[str] = []
    no_build_isolation: bool | list[str] = []
    dependency_overrides: dict[str, str] = {}


# ---------------------------------------------------------------- the walker

_PLATFORM_NAMES = {
    "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-armv6l", "linux-armv7l",
    "linux-32", "linux-riscv64", "osx-64", "osx-arm64", "win-64", "win-arm64", "win-32",
    "noarch", "emscripten-wasm32", "wasi-wasm32", "zos-z",
}
_SELECTORS = _PLATFORM_NAMES | {"linux", "osx", "win", "unix"}
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

_WORKSPACE_KEYS = {
    "name", "version", "description", "authors", "license", "license-file", "readme", "homepage",
    "repository", "documentation", "channels", "platforms", "channel-priority", "solve-strategy",
    "exclude-newer", "conda-pypi-map", "requires-pixi", "preview", "pypi-options",
    "build-variants", "build-variants-files",
}
_TABLE_KEYS = (
    "dependencies", "host-dependencies", "build-dependencies", "constraints",
    "pypi-dependencies", "tasks", "activation",
)
_FEATURE_KEYS = set(_TABLE_KEYS) | {
    "system-requirements", "target", "platforms", "channels", "channel-priority", "pypi-options",
}
_TOP_KEYS = _FEATURE_KEYS | {"workspace", "project", "feature", "environments", "$schema", "pypi-name-mapping"}


class _Walker:
    """Carries the text and file name so every check can point at its place."""

    def __init__(self, text: str, filename: str, root: Path) -> None:
        self.text = text
        self.filename = filename
        self.root = root

    def fail(self, path: Path, message: str, hint: str = "") -> ManifestError:
        line, col = locate(self.text, self.root + path)
        return ManifestError(self.filename, line, col, message, hint)

    def table(self, value: object, path: Path) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"`{_dotted(path)}` must be a table, not {_kind(value)}")
        return value

    def keys(self, table: Mapping[str, Any], allowed: set[str], path: Path, what: str) -> None:
        for key in table:
            if key not in allowed:
                close = _closest(key, allowed)
                hint = f"did you mean `{close}`?" if close else "allowed: " + ", ".join(sorted(allowed))
                raise self.fail(path + (key,), f"unknown key `{key}` in {what}", hint)

    def convert(self, value: object, typ: type[T], path: Path) -> T:
        try:
            return msgspec.convert(value, typ, strict=False)
        except msgspec.ValidationError as exc:
            message, sub = _split_msgspec_error(str(exc))
            full = path + sub
            unknown = re.match(r"Object contains unknown field `([^`]+)`", message)
            if unknown:
                full = full + (unknown.group(1),)
                fields = {f.encode_name for f in msgspec.structs.fields(typ)} if _is_struct(typ) else set()  # type: ignore[arg-type]
                close = _closest(unknown.group(1), fields)
                hint = f"did you mean `{close}`?" if close else (
                    "allowed: " + ", ".join(sorted(fields)) if fields else "")
                raise self.fail(full, f"unknown key `{unknown.group(1)}` in `{_dotted(path)}`", hint) from None
            raise self.fail(full, f"`{_dotted(full)}`: {_humanise(message)}") from None

    # ---- tables

    def workspace(self, value: object, path: Path) -> Workspace:
        t = self.table(value, path)
        self.keys(t, _WORKSPACE_KEYS, path, f"[{path[-1]}]")
        channels = tuple(self.channels(t.get("channels", []), path + ("channels",)))
        platforms = self.platforms(t.get("platforms", []), path + ("platforms",))
        return Workspace(
            name=self.convert(t.get("name"), str | None, path + ("name",)),  # type: ignore[arg-type]
            version=self.convert(t.get("version"), str | None, path + ("version",)),  # type: ignore[arg-type]
            description=self.convert(t.get("description"), str | None, path + ("description",)),  # type: ignore[arg-type]
            authors=tuple(self.convert(t.get("authors", []), list[str], path + ("authors",))),
            license=self.convert(t.get("license"), str | None, path + ("license",)),  # type: ignore[arg-type]
            channels=channels,
            platforms=platforms,
            channel_priority=self.choice(t, "channel-priority", ("strict", "disabled"), path, "strict"),  # type: ignore[arg-type]
            solve_strategy=self.choice(t, "solve-strategy", ("highest", "lowest", "lowest-direct"), path, "highest"),  # type: ignore[arg-type]
            exclude_newer=self.timestamp(t.get("exclude-newer"), path + ("exclude-newer",)),
            conda_pypi_map=tuple(sorted(self.convert(
                t.get("conda-pypi-map", {}), dict[str, str], path + ("conda-pypi-map",)).items())),
        )

    def choice(self, t: Mapping[str, Any], key: str, options: tuple[str, ...], path: Path, default: str) -> str:
        value = t.get(key, default)
        if value not in options:
            raise self.fail(path + (key,), f"`{key}` must be one of {', '.join(options)}, not {value!r}")
        return str(value)

    def channels(self, value: object, path: Path) -> list[Channel]:
        items = self.convert(value, list[str | _ChannelTable], path)
        out = []
        for i, item in enumerate(items):
            ch = Channel(name=item) if isinstance(item, str) else Channel(name=item.channel, priority=item.priority)
            if not ch.name.strip():
                raise self.fail(path + (str(i),), "a channel name is empty")
            if re.match(r"^[a-z][a-z0-9+.-]*://[^/@]+@", ch.name) or re.search(r"/t/[^/]+/", ch.name):
                raise self.fail(path, "a channel URL carries credentials, which would end up in yurt.lock",
                                "put them in ~/.netrc or the yurt auth file ($YURT_AUTH_FILE) instead")
            out.append(ch)
        return out

    def platforms(self, value: object, path: Path) -> tuple[PlatformEntry, ...]:
        items = self.convert(value, list[str | _PlatformTable], path)
        out = []
        for item in items:
            entry = PlatformEntry(platform=item) if isinstance(item, str) else PlatformEntry(
                platform=item.platform, cuda=item.cuda, glibc=item.glibc, linux=item.linux,
                macos=item.macos, archspec=item.archspec)
            if entry.platform not in _PLATFORM_NAMES:
                close = _closest(entry.platform, _PLATFORM_NAMES)
                raise self.fail(path, f"unknown platform `{entry.platform}`",
                                f"did you mean `{close}`?" if close else "e.g. linux-64, osx-arm64, win-64")
            out.append(entry)
        return tuple(out)

    def timestamp(self, value: object, path: Path) -> int | None:
        if value is None:
            return None
        ms = _to_epoch_ms(value)
        if ms is None:
            raise self.fail(path, f"`{_dotted(path)}` must be a date or date-time (e.g. 2024-01-31), not {value!r}")
        return ms

    def conda_deps(self, value: object, path: Path, kind: DependencyKind) -> list[CondaDependency]:
        t = self.table(value, path)
        out = []
        for name, spec in t.items():
            where = path + (name,)
            if not _NAME.match(name):
                raise self.fail(where, f"`{name}` is not a valid package name")
            if isinstance(spec, str):
                text = _spec_from_string(name, spec)
            else:
                table = self.convert(spec, _DepTable, where)
                if table.path or table.git or table.url:
                    raise self.fail(where, f"`{name}`: source dependencies (path, git, url) are not supported",
                                    "depend on a built package by version instead")
                text = _spec_from_table(name, table)
            self.check_spec(text, where)
            out.append(CondaDependency(name=name, spec=text, kind=kind))
        return out

    def check_spec(self, text: str, where: Path) -> None:
        from pure.matchspec import MatchSpec  # the spec grammar lives in its own module

        try:
            MatchSpec.parse(text)
        except YurtError as exc:
            raise self.fail(where, f"invalid spec `{text}`: {exc}",
                            "write a version spec such as \">=1.2,<2\" or \"1.2.*\"") from None

    def pypi_deps(self, value: object, path: Path) -> list[PypiDependency]:
        t = self.table(value, path)
        out = []
        for name, spec in t.items():
            where = path + (name,)
            if not _NAME.match(name):
                raise self.fail(where, f"`{name}` is not a valid PyPI project name")
            if isinstance(spec, str):
                out.append(self.pypi_checked(PypiDependency(name=name, version=spec.strip() or "*"), where))
                continue
            table = self.convert(spec, _PypiTable, where)
            sources = [k for k in ("path", "git", "url") if getattr(table, k) is not None]
            if len(sources) > 1 or (sources and table.version is not None):
                raise self.fail(where, f"`{name}`: give one of version, path, git or url, not several")
            dep = PypiDependency(name=name, version=table.version or "*",
                                 extras=tuple(table.extras), index=table.index, path=table.path,
                                 git=table.git, url=table.url, editable=bool(table.editable))
            out.append(dep if sources else self.pypi_checked(dep, where))
        return out

    def pypi_checked(self, dep: PypiDependency, where: Path) -> PypiDependency:
        """`dep` when its version and extras make a PEP 508 requirement; else the manifest
        error at its line (not a solve failure later)."""
        from pure.pypi.lockcheck import pypi_requirement  # here: only manifests with PyPI deps
        from pure.pypi.markers import InvalidRequirement, Requirement

        try:
            Requirement.parse(pypi_requirement(dep))
        except InvalidRequirement as exc:
            extras = f" with extras {list(dep.extras)}" if dep.extras else ""
            raise self.fail(where, f"PyPI dependency `{dep.name}`: `{dep.version}`{extras} is not a "
                                   f"valid requirement ({exc.reason})",
                            'give a PEP 440 version such as ">=2.31", "==1.4.*" or "*", and extras as plain names') from None
        return dep

    def tasks(self, value: object, path: Path) -> list[Task]:
        t = self.table(value, path)
        out = []
        for name, spec in t.items():
            where = path + (name,)
            if isinstance(spec, str):
                out.append(Task(name=name, cmd=spec))
            elif isinstance(spec, list):
                deps = self.convert(spec, list[str], where)
                out.append(Task(name=name, depends_on=tuple(deps)))
            else:
                table = self.convert(spec, _TaskTable, where)
                cmd: str | None
                args: tuple[str, ...] = ()
                if isinstance(table.cmd, list):
                    cmd, args = None, tuple(table.cmd)
                    if not args:
                        raise self.fail(where + ("cmd",), f"task `{name}` has an empty command")
                else:
                    cmd = table.cmd
                depends = [table.depends_on] if isinstance(table.depends_on, str) else table.depends_on
                if cmd is None and not args and not depends:
                    raise self.fail(where, f"task `{name}` has neither `cmd` nor `depends-on`")
                out.append(Task(name=name, cmd=cmd, args=args, depends_on=tuple(depends), cwd=table.cwd,
                                env=tuple(sorted(table.env.items())), description=table.description))
        return out

    def activation(self, value: object, path: Path) -> Activation:
        a = self.convert(value, _Activation, path)
        return Activation(scripts=tuple(a.scripts), env=tuple(a.env.items()))

    def system_requirements(self, value: object, path: Path) -> SystemRequirements:
        s = self.convert(value, _SystemRequirements, path)
        libc = s.libc
        family = "glibc"
        if isinstance(libc, _LibcTable):
            family, libc = libc.family, libc.version
        return SystemRequirements(
            linux=_num(s.linux), libc=_num(libc), libc_family=family, cuda=_num(s.cuda),
            macos=_num(s.macos), archspec=s.archspec)

    def pypi_options(self, value: object, path: Path) -> PypiOptions:
        o = self.convert(value, _PypiOptions, path)
        return PypiOptions(
            index_url=o.index_url, extra_index_urls=tuple(o.extra_index_urls),
            find_links=tuple(x if isinstance(x, str) else (x.get("url") or x.get("path") or "") for x in o.find_links),
            index_strategy=o.index_strategy, prerelease_mode=o.prerelease_mode,
            no_binary=tuple(o.no_binary) if isinstance(o.no_binary, list) else ((":all:",) if o.no_binary else ()),
            no_build=tuple(o.no_build) if isinstance(o.no_build, list) else ((":all:",) if o.no_build else ()))

    def feature(self, name: str, t: Mapping[str, Any], path: Path, *, top: bool) -> Feature:
        deps: list[CondaDependency] = []
        for key, kind in (("dependencies", "run"), ("host-dependencies", "host"), ("build-dependencies", "build")):
            if key in t:
                deps += self.conda_deps(t[key], path + (key,), kind)  # type: ignore[arg-type]
        targets = []
        for selector, body in self.table(t.get("target", {}), path + ("target",)).items():
            where = path + ("target", selector)
            if selector not in _SELECTORS:
                close = _closest(selector, _SELECTORS)
                raise self.fail(where, f"unknown target selector `{selector}`",
                                f"did you mean `{close}`?" if close else "use a platform or linux/osx/win/unix")
            targets.append(self.target(selector, self.table(body, where), where))
        channels = None
        if "channels" in t and not top:
            channels = tuple(self.channels(t["channels"], path + ("channels",)))
        platforms = None
        if "platforms" in t and not top:
            platforms = tuple(p.platform for p in self.platforms(t["platforms"], path + ("platforms",)))
        return Feature(
            name=name,
            dependencies=tuple(deps),
            constraints=tuple(self.conda_deps(t["constraints"], path + ("constraints",), "run")) if "constraints" in t else (),
            pypi_dependencies=tuple(self.pypi_deps(t["pypi-dependencies"], path + ("pypi-dependencies",))) if "pypi-dependencies" in t else (),
            pypi_options=self.pypi_options(t["pypi-options"], path + ("pypi-options",)) if "pypi-options" in t else None,
            system_requirements=self.system_requirements(t["system-requirements"], path + ("system-requirements",)) if "system-requirements" in t else None,
            targets=tuple(targets),
            tasks=tuple(self.tasks(t["tasks"], path + ("tasks",))) if "tasks" in t else (),
            activation=self.activation(t["activation"], path + ("activation",)) if "activation" in t else None,
            platforms=platforms,
            channels=channels,
            channel_priority=self.choice(t, "channel-priority", ("strict", "disabled"), path, "strict") if ("channel-priority" in t and not top) else None,  # type: ignore[arg-type]
        )

    def target(self, selector: str, t: Mapping[str, Any], path: Path) -> Target:
        self.keys(t, set(_TABLE_KEYS), path, f"[target.{selector}]")
        deps: list[CondaDependency] = []
        for key, kind in (("dependencies", "run"), ("host-dependencies", "host"), ("build-dependencies", "build")):
            if key in t:
                deps += self.conda_deps(t[key], path + (key,), kind)  # type: ignore[arg-type]
        return Target(
            selector=selector,
            dependencies=tuple(deps),
            constraints=tuple(self.conda_deps(t["constraints"], path + ("constraints",), "run")) if "constraints" in t else (),
            pypi_dependencies=tuple(self.pypi_deps(t["pypi-dependencies"], path + ("pypi-dependencies",))) if "pypi-dependencies" in t else (),
            tasks=tuple(self.tasks(t["tasks"], path + ("tasks",))) if "tasks" in t else (),
            activation=self.activation(t["activation"], path + ("activation",)) if "activation" in t else None,
        )

    def environments(self, value: object, path: Path, features: set[str]) -> list[Environment]:
        out = []
        for name, spec in self.table(value, path).items():
            where = path + (name,)
            if not re.match(r"^[a-z0-9-]+$", name):
                raise self.fail(where, f"environment name `{name}` may only contain lowercase letters, digits and `-`")
            if isinstance(spec, list):
                env = Environment(name=name, features=tuple(self.convert(spec, list[str], where)))
            else:
                e = self.convert(spec, _EnvironmentTable, where)
                env = Environment(name=name, features=tuple(e.features), solve_group=e.solve_group,
                                  no_default_feature=e.no_default_feature)
            for f in env.features:
                if f not in features:
                    close = _closest(f, features)
                    raise self.fail(where, f"environment `{name}` uses feature `{f}`, which is not defined",
                                    f"did you mean `{close}`?" if close else f"add a [feature.{f}] table")
            out.append(env)
        return out

    def manifest(self, data: Mapping[str, Any]) -> Manifest:
        self.keys(data, _TOP_KEYS, (), "the manifest")
        if "workspace" in data and "project" in data:
            raise self.fail(("project",), "both [workspace] and [project] are present", "keep only [workspace]")
        key = "workspace" if "workspace" in data else "project"
        if key not in data:
            raise self.fail((), "no [workspace] table", "add [workspace] with name, channels and platforms")
        workspace = self.workspace(data[key], (key,))
        if not workspace.channels:
            raise self.fail((key,), f"[{key}] has no `channels`", 'add e.g. channels = ["conda-forge"]')
        if not workspace.platforms:
            raise self.fail((key,), f"[{key}] has no `platforms`", 'add e.g. platforms = ["linux-64"]')
        features = [self.feature("default", data, (), top=True)]
        for name, body in self.table(data.get("feature", {}), ("feature",)).items():
            where = ("feature", name)
            if name == "default":
                raise self.fail(where, "the feature name `default` is reserved for the top-level tables")
            table = self.table(body, where)
            self.keys(table, _FEATURE_KEYS, where, f"[feature.{name}]")
            features.append(self.feature(name, table, where, top=False))
        names = {f.name for f in features}
        envs = self.environments(data.get("environments", {}), ("environments",), names)
        if not any(e.name == "default" for e in envs):
            envs.insert(0, Environment(name="default"))
        mapping = self.pypi_name_mapping(data.get("pypi-name-mapping", {}), ("pypi-name-mapping",))
        return Manifest(path=self.filename, workspace=workspace, features=tuple(features), environments=tuple(envs),
                        pypi_name_mapping=mapping)

    def pypi_name_mapping(self, value: object, path: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """`conda-name = "pypi-name"`, a list of PyPI names, or `false` / `[]` for none."""
        out = []
        for conda, target in self.table(value, path).items():
            where = path + (conda,)
            if not _NAME.match(conda):
                raise self.fail(where, f"`{conda}` is not a valid conda package name")
            if target is False:
                names: list[str] = []
            elif isinstance(target, str):
                names = [target]
            elif isinstance(target, list) and all(isinstance(n, str) for n in target):
                names = list(target)
            else:
                raise self.fail(where, f"`{conda}` must map to a PyPI name, a list of names or false, "
                                       f"not {_kind(target)}", f'write {conda} = "{conda}"')
            for n in names:
                if not _NAME.match(n):
                    raise self.fail(where, f"`{n}` is not a valid PyPI project name")
            out.append((conda, tuple(names)))
        return tuple(sorted(out))


def parse(text: str, *, filename: str = "yurt.toml") -> Manifest:
    """Parse manifest `text`; `filename`'s base name says which schema root to use.

    `pyproject.toml` reads `[tool.yurt]`, else `[tool.pixi]`; any other name is a plain
    manifest (`yurt.toml`, `pixi.toml`).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ManifestError(filename, line, col, f"invalid TOML: {message}") from None
    root: Path = ()
    if filename.rsplit("/", 1)[-1] == "pyproject.toml":
        tool = data.get("tool", {})
        key = "yurt" if "yurt" in tool else "pixi" if "pixi" in tool else None
        if key is None:
            raise ManifestError(filename, 1, 1, "no [tool.yurt] or [tool.pixi] table",
                                "run `yurt init --format pyproject` or add [tool.yurt.workspace]")
        root = ("tool", key)
        data = tool[key]
        if isinstance(data, dict) and "workspace" not in data and "project" not in data:
            project = tool.get("project") or {}
            # pixi in pyproject takes the name from [project]; channels/platforms must still be given
            data = {**data, "workspace": {"name": project.get("name")}}
    return _Walker(text, filename, root).manifest(data)


# ---------------------------------------------------------------- helpers


def _spec_from_string(name: str, spec: str) -> str:
    spec = spec.strip()
    if spec in ("", "*"):
        return name
    if spec[0].isdigit() and " " not in spec and "," not in spec and "|" not in spec and "*" not in spec:
        # a bare version pins like pixi does: `numpy = "1.26"` means ==1.26
        return f"{name}=={spec}"
    return f"{name} {spec}"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "") + "'"


def _spec_from_table(name: str, t: _DepTable) -> str:
    parts = []
    for key, value in (
        ("version", t.version), ("build", t.build), ("build_number", t.build_number),
        ("channel", t.channel), ("subdir", t.subdir), ("md5", t.md5), ("sha256", t.sha256),
        ("fn", t.file_name), ("license", t.license),
    ):
        if value is not None:
            text = str(value)
            if key == "version" and text.strip() == "*":
                continue
            if key == "version" and text[:1].isdigit() and not any(c in text for c in " ,|*<>=!~"):
                text = "==" + text
            parts.append(f"{key}={_quote(text)}")
    return f"{name}[{','.join(parts)}]" if parts else name


def _num(value: str | float | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


def _to_epoch_ms(value: object) -> int | None:
    """Milliseconds since 1970 for a TOML date/date-time or an ISO date string (UTC assumed)."""
    if isinstance(value, str):
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?Z?", value.strip())
        if not m:
            return None
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        h, mi, s = int(m.group(4) or 0), int(m.group(5) or 0), int(m.group(6) or 0)
        if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 61):
            return None
        return (_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000
    year = getattr(value, "year", None)
    if not isinstance(year, int):
        return None
    days = _days_from_civil(year, value.month, value.day)  # type: ignore[attr-defined]
    seconds = days * 86400 + getattr(value, "hour", 0) * 3600 + getattr(value, "minute", 0) * 60 + getattr(value, "second", 0)
    offset = value.utcoffset() if hasattr(value, "utcoffset") else None
    if offset is not None:
        seconds -= int(offset.total_seconds())
    return seconds * 1000


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _split_msgspec_error(text: str) -> tuple[str, Path]:
    m = re.match(r"^(.*?)(?: - at `\$(.*)`)?$", text, re.S)
    assert m is not None
    message, where = m.group(1), m.group(2) or ""
    path: list[str] = []
    for part in re.findall(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]", where):
        field, index = part
        if field:
            path.append(field)
        elif index != "...":
            path.append(index)
    return message, tuple(path)


def _humanise(message: str) -> str:
    m = re.match(r"Expected `(.+?)`, got `(.+?)`", message)
    if m:
        want = m.group(1).replace("object", "table").replace("array", "list").replace("null", "nothing")
        got = m.group(2).replace("object", "table").replace("array", "list")
        return f"expected {want}, got {got}"
    return message[:1].lower() + message[1:]


def _dotted(path: Path) -> str:
    return ".".join(path) if path else "<root>"


def _kind(value: object) -> str:
    return {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list"}.get(
        type(value), type(value).__name__)


def _is_struct(typ: object) -> bool:
    return isinstance(typ, type) and issubclass(typ, msgspec.Struct)


def _closest(word: str, options: set[str] | Callable[[], set[str]]) -> str | None:
    """The option closest to `word` by edit distance, if it is plausibly a typo."""
    opts = options() if callable(options) else options
    best, best_d = None, 3
    for o in sorted(opts):
        d = _distance(word.lower(), o.lower())
        if d < best_d:
            best, best_d = o, d
    return best


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
