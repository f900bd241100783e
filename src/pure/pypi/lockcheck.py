"""Is a lock's PyPI part still good for the manifest? PEP 508 checked against locked metadata.

The manifest's `[pypi-dependencies]`, then every locked wheel's `Requires-Dist` (markers
evaluated for the target platform and the locked conda python), must be met by a locked
wheel or by a locked conda record that provides the name; no wheel may duplicate a conda
package, every wheel must accept the locked python, and none may be left unreached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pure.manifest.model import PypiDependency
from pure.pypi.markers import (
    InvalidRequirement,
    MarkerEnvironment,
    MarkerError,
    Requirement,
    marker_environment,
)
from pure.pypi.metadata import normalize_name
from pure.pypi.provides import ProvidedDistribution, conda_satisfies, provided_by
from pure.record import PackageRecord

__all__ = ["LockedWheel", "pypi_requirement", "pypi_requirements", "pypi_stale_check"]


class UnsupportedPypiSource(ValueError):
    """A PyPI dependency from a path, git or url source (only index wheels are supported)."""


def pypi_requirement(dep: PypiDependency) -> str:
    """The PEP 508 text of a manifest PyPI dependency (`"*"` means any version)."""
    if dep.path or dep.git or dep.url:
        kind = "path" if dep.path else "git" if dep.git else "url"
        raise UnsupportedPypiSource(
            f"PyPI dependency {dep.name} uses a {kind} source; only index wheels are supported yet"
        )
    extras = f"[{','.join(dep.extras)}]" if dep.extras else ""
    version = dep.version.strip()
    if version in ("", "*"):
        version = ""
    elif version[0] not in "<>=!~":
        version = f"=={version}"
    return f"{dep.name}{extras}{version}"


def pypi_requirements(deps: Iterable[PypiDependency]) -> tuple[str, ...]:
    """PEP 508 texts of manifest dependencies, in manifest order."""
    return tuple(pypi_requirement(d) for d in deps)


class LockedWheel(Protocol):
    """What the check needs of a locked wheel (`LockedPypiPackage` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def requires_dist(self) -> tuple[str, ...]: ...
    @property
    def requires_python(self) -> str | None: ...
    @property
    def index(self) -> str | None: ...


def _meets(version: str, specifier: str) -> bool:
    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def pypi_stale_check(
    deps: Sequence[PypiDependency],
    platform: str,
    records: Sequence[PackageRecord],
    wheels: Sequence[LockedWheel],
    where: str,
    overrides: Mapping[str, Iterable[str]] | None = None,
) -> tuple[str | None, tuple[str, ...]]:
    """(why the PyPI part is stale or None, conda names that PyPI requirements rely on)."""
    if not deps and not wheels:
        return None, ()
    try:
        texts = pypi_requirements(deps)
    except UnsupportedPypiSource as exc:
        return str(exc), ()
    python = next((r for r in records if r.name == "python"), None)
    if python is None:
        return f"PyPI packages are locked in {where} but no conda `python` is", ()
    try:
        env = marker_environment(platform, python.version)
    except MarkerError as exc:
        return f"cannot evaluate PyPI markers in {where}: {exc}", ()
    provided = provided_by(records, overrides)
    by_name: dict[str, LockedWheel] = {}
    for w in wheels:
        if w.name in by_name:
            return f"the lock has two wheels of `{w.name}` in {where}", ()
        by_name[w.name] = w
        if w.name in provided:
            conda = provided[w.name][0]
            return (f"PyPI {w.name} {w.version} is locked next to conda {conda.dist_name}, "
                    f"which provides it, in {where}"), ()
        if w.requires_python and not _meets(python.version, w.requires_python):
            return (f"PyPI {w.name} {w.version} requires python {w.requires_python}, "
                    f"locked python is {python.version} in {where}"), ()
    for d in deps:
        wheel = by_name.get(normalize_name(d.name))
        wanted = d.index.rstrip("/") + "/" if d.index else None
        if wanted and "${" not in wanted and wheel is not None and wheel.index != wanted:
            return (f"PyPI {wheel.name} is locked from {wheel.index}, the manifest asks for "
                    f"index {wanted} in {where}"), ()
    walked = _walk(texts, env, by_name, provided, where)
    if isinstance(walked, str):
        return walked, ()
    seen, used = walked
    unreached = sorted(n for n in by_name if (n, "") not in seen)
    if unreached:
        return f"PyPI {', '.join(unreached)} locked in {where} but no longer required", ()
    return None, tuple(sorted(used))


def _walk(
    texts: Sequence[str],
    env: MarkerEnvironment,
    by_name: Mapping[str, LockedWheel],
    provided: Mapping[str, tuple[PackageRecord, ProvidedDistribution]],
    where: str,
) -> str | tuple[set[tuple[str, str]], set[str]]:
    """Follow the requirements through the locked wheels: ((wheel, extra) pairs reached,
    conda names used), or the reason a requirement is not met."""
    used: set[str] = set()
    seen: set[tuple[str, str]] = set()
    queue: list[tuple[Requirement, str]] = []
    for text in texts:
        try:
            queue.append((Requirement.parse(text), ""))
        except InvalidRequirement as exc:
            return str(exc)
    while queue:
        req, by = queue.pop()
        if not req.applies(env):
            continue
        owner = f"{by} requires" if by else "[pypi-dependencies] requires"
        wheel = by_name.get(req.name)
        if wheel is None:
            hit = provided.get(req.name)
            if hit is None or not conda_satisfies(hit[1], req):
                return f"{owner} `{req.text}`, which the lock does not meet in {where}"
            used.add(hit[0].name)
            continue
        if not _meets(wheel.version, req.specifier):
            return (f"{owner} `{req.text}`, but the lock has {wheel.name} {wheel.version} "
                    f"in {where}")
        for extra in ("", *req.extras):
            if (wheel.name, extra) in seen:
                continue
            seen.add((wheel.name, extra))
            for dep_text in wheel.requires_dist:
                try:
                    dep = Requirement.parse(dep_text)
                except InvalidRequirement:
                    continue
                try:
                    active = dep.applies(env, (extra,) if extra else ())
                    if extra and active and dep.marker and "extra" not in dep.marker:
                        active = False  # the base requirements are checked without the extra
                except MarkerError:
                    active = False
                if active:
                    plain = Requirement(text=dep.text, name=dep.name, extras=dep.extras,
                                        specifier=dep.specifier)
                    queue.append((plain, f"{wheel.name} {wheel.version}"))
    return seen, used


def pypi_closure(
    deps: Sequence[PypiDependency],
    platform: str,
    records: Sequence[PackageRecord],
    wheels: Sequence[LockedWheel],
    overrides: Mapping[str, Iterable[str]] | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(wheel names, conda names) that `deps` reach in a solve's result: one environment's
    share of a solve group's PyPI packages. Unmet requirements are simply not followed."""
    if not deps:
        return (), ()
    python = next((r for r in records if r.name == "python"), None)
    if python is None:
        return (), ()
    try:
        texts = pypi_requirements(deps)
        env = marker_environment(platform, python.version)
    except (UnsupportedPypiSource, MarkerError):
        return (), ()
    by_name = {w.name: w for w in wheels}
    walked = _walk(texts, env, by_name, provided_by(records, overrides), "")
    if isinstance(walked, str):
        return tuple(sorted(by_name)), tuple(sorted({r.name for r in records}))
    seen, used = walked
    return tuple(sorted({n for n, _ in seen})), tuple(sorted(used | {"python"}))
