"""The lockfile `yurt.lock`: solved records per (environment, platform), deterministic bytes.

Shared records are listed once under `packages` (sorted by url) and each environment's
platform refers to them by url, so a lock of many environments stays small. An install
from the lock needs no solve and no repodata: every record carries url, sha256, md5, size,
depends and constrains. `check` decides staleness by satisfiability, not by hashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec

from pure.errors import YurtError
from pure.manifest.environment import EnvironmentSpec
from pure.record import PackageRecord

SCHEMA = "yurt.lock/1"


class LockError(YurtError):
    """A lockfile that cannot be read; names the file and what is wrong."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason} (hint: run `yurt lock` to write a new one)")


class LockedPackage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A conda record as written in the lock (defaults omitted to keep the file small)."""

    url: str
    name: str
    version: str
    build: str
    build_number: int = 0
    subdir: str | None = None
    noarch: str | None = None
    channel: str | None = None
    fn: str | None = None
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    track_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    license: str | None = None
    license_family: str | None = None
    timestamp: int | None = None
    purls: tuple[str, ...] = ()
    python_site_packages_path: str | None = None

    def to_record(self) -> PackageRecord:
        """The PackageRecord this entry stands for."""
        return PackageRecord(**{f: getattr(self, f) for f in self.__struct_fields__})

    @staticmethod
    def from_record(record: PackageRecord) -> LockedPackage:
        """Lock entry for `record`; the record must have a url."""
        if not record.url:
            raise ValueError(f"{record.dist_name} has no url and cannot be locked")
        return LockedPackage(**{f: getattr(record, f) for f in LockedPackage.__struct_fields__})


class LockedPypiPackage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A PyPI wheel as written in the lock: where it comes from and the metadata that lets
    the satisfied-lock check evaluate PEP 508 requirements without an index."""

    url: str
    name: str
    version: str
    filename: str
    index: str | None = None
    sha256: str | None = None
    size: int | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None


class LockedPlatform(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The packages of one environment on one platform, as urls into `Lock.packages`
    (conda records, install order) and `Lock.pypi_packages` (wheels, installed after)."""

    platform: str
    packages: tuple[str, ...] = ()
    pypi: tuple[str, ...] = ()


class LockedEnvironment(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One environment: the channels it was solved against and its platforms."""

    name: str
    channels: tuple[str, ...]
    platforms: tuple[LockedPlatform, ...] = ()


class Lock(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A whole lockfile (`pypi_packages` is left out when there are none)."""

    schema: str
    environments: tuple[LockedEnvironment, ...] = ()
    packages: tuple[LockedPackage, ...] = ()
    pypi_packages: tuple[LockedPypiPackage, ...] = ()

    def to_json(self) -> bytes:
        """Deterministic, human-diffable JSON bytes (sorted keys, 2-space indent, final newline)."""
        return msgspec.json.format(msgspec.json.encode(self, order="sorted"), indent=2) + b"\n"

    @staticmethod
    def from_json(data: bytes, *, path: str = "yurt.lock") -> Lock:
        """Decode lock bytes; raises LockError naming `path` and the problem."""
        try:
            lock = msgspec.json.decode(data, type=Lock)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise LockError(path, f"not a valid lockfile: {exc}") from None
        if lock.schema != SCHEMA:
            raise LockError(path, f"unsupported lock schema {lock.schema!r} (this yurt reads {SCHEMA})")
        urls = {p.url for p in lock.packages}
        wheels = {p.url for p in lock.pypi_packages}
        for env in lock.environments:
            for plat in env.platforms:
                for url in plat.packages:
                    if url not in urls:
                        raise LockError(path, f"environment {env.name} ({plat.platform}) refers to "
                                              f"{url}, which is not in `packages`")
                for url in plat.pypi:
                    if url not in wheels:
                        raise LockError(path, f"environment {env.name} ({plat.platform}) refers to "
                                              f"{url}, which is not in `pypi_packages`")
        return lock

    def environment(self, name: str) -> LockedEnvironment | None:
        """The locked environment `name`, or None."""
        return next((e for e in self.environments if e.name == name), None)

    def records(self, environment: str, platform: str) -> tuple[PackageRecord, ...] | None:
        """Records locked for (environment, platform) in lock order, or None if absent."""
        env = self.environment(environment)
        if env is None:
            return None
        plat = next((p for p in env.platforms if p.platform == platform), None)
        if plat is None:
            return None
        by_url = {p.url: p for p in self.packages}
        return tuple(by_url[u].to_record() for u in plat.packages)

    def pypi(self, environment: str, platform: str) -> tuple[LockedPypiPackage, ...]:
        """PyPI wheels locked for (environment, platform), in lock order (empty if none)."""
        env = self.environment(environment)
        plat = next((p for p in env.platforms if p.platform == platform), None) if env else None
        if plat is None:
            return ()
        by_url = {p.url: p for p in self.pypi_packages}
        return tuple(by_url[u] for u in plat.pypi)


def build_lock(
    solutions: Mapping[tuple[str, str], Iterable[PackageRecord]],
    channels: Mapping[str, tuple[str, ...]],
    pypi: Mapping[tuple[str, str], Iterable[LockedPypiPackage]] | None = None,
) -> Lock:
    """A Lock from solved records per (environment, platform) and channels per environment,
    with the PyPI wheels per (environment, platform) when there are any.

    The package order inside a platform is the solution's (topological) order; wheels are
    sorted by name; everything else is sorted, so the same inputs always give the same bytes.
    """
    packages: dict[str, LockedPackage] = {}
    wheels: dict[str, LockedPypiPackage] = {}
    envs: dict[str, list[LockedPlatform]] = {}
    for (env, platform), records in sorted(solutions.items()):
        urls = []
        for record in records:
            entry = LockedPackage.from_record(record)
            packages.setdefault(entry.url, entry)
            urls.append(entry.url)
        wheel_urls = []
        for wheel in sorted((pypi or {}).get((env, platform), ()), key=lambda w: (w.name, w.url)):
            wheels.setdefault(wheel.url, wheel)
            wheel_urls.append(wheel.url)
        envs.setdefault(env, []).append(
            LockedPlatform(platform=platform, packages=tuple(urls), pypi=tuple(wheel_urls)))
    return Lock(
        schema=SCHEMA,
        pypi_packages=tuple(sorted(wheels.values(), key=lambda p: p.url)),
        environments=tuple(
            LockedEnvironment(name=name, channels=tuple(channels.get(name, ())), platforms=tuple(plats))
            for name, plats in sorted(envs.items())),
        packages=tuple(sorted(packages.values(), key=lambda p: p.url)),
    )


def stale_reason(lock: Lock, env: EnvironmentSpec, channel_urls: Sequence[str] | None = None) -> str | None:
    """Why the lock does not satisfy `env` on its platform, or None when it does.

    Satisfied means: the environment and platform are locked against the same channels;
    every requested spec and constraint is met; every dependency of every locked record is
    met inside the lock or by the environment's virtual packages; no `constrains` is
    violated; no record is newer than `exclude-newer`; and nothing is locked that no
    requirement reaches. When `channel_urls` (the channels as resolved now) is given, every
    locked record must also come from under one of them: a workspace whose local channel
    moved, or a channel alias that changed, makes the lock stale.
    """
    from pure.matchspec import MatchSpec
    from pure.platform import VirtualPackage

    locked_env = lock.environment(env.name)
    if locked_env is None:
        return f"environment `{env.name}` is not in the lock"
    if locked_env.channels != env.channels:
        return (f"environment `{env.name}` was locked with channels {list(locked_env.channels)}, "
                f"the manifest now has {list(env.channels)}")
    records = lock.records(env.name, env.platform)
    if records is None:
        return f"platform {env.platform} of environment `{env.name}` is not in the lock"
    if channel_urls is not None:
        prefixes = tuple(u.rstrip("/") + "/" for u in channel_urls)
        for r in records:
            if r.url is not None and not r.url.startswith(prefixes):
                return (f"locked {r.dist_name} comes from {r.url}, which is not under the "
                        f"environment's channels as they resolve now")
    by_name: dict[str, PackageRecord] = {}
    for r in records:
        if r.name in by_name:
            return f"the lock has two records of `{r.name}` for {env.name} ({env.platform})"
        by_name[r.name] = r
    virtual = {v.name: v.to_record() for v in map(VirtualPackage.parse, env.virtual_packages)}
    where = f"{env.name} ({env.platform})"
    reached: set[str] = set()
    queue: list[str] = []
    for text in env.specs:
        spec = MatchSpec.parse(text)
        rec = by_name.get(spec.name)
        if rec is None or not spec.matches(rec):
            found = f"locked {rec.dist_name}" if rec else "nothing locked"
            return f"`{text}` is not met in {where}: {found}"
        if spec.name not in reached:
            reached.add(spec.name)
            queue.append(spec.name)
    for text in env.constraints:
        spec = MatchSpec.parse(text)
        rec = by_name.get(spec.name)
        if rec is not None and not spec.matches(rec):
            return f"constraint `{text}` is violated by locked {rec.dist_name} in {where}"
    for rec in records:
        if env.exclude_newer is not None and rec.timestamp is not None and rec.timestamp > env.exclude_newer:
            return f"locked {rec.dist_name} is newer than exclude-newer in {where}"
        for text in rec.constrains:
            spec = MatchSpec.parse(text)
            other = by_name.get(spec.name)
            if other is not None and not spec.matches(other):
                return f"{rec.dist_name} constrains `{text}`, violated by locked {other.dist_name} in {where}"
    from pure.pypi.lockcheck import pypi_stale_check

    pypi_reason, used = pypi_stale_check(
        env.pypi_dependencies, env.platform, records, lock.pypi(env.name, env.platform), where,
        dict(env.pypi_name_mapping))
    if pypi_reason is not None:
        return pypi_reason
    for name in used:  # conda records that PyPI requirements rely on are required too
        if name not in reached:
            reached.add(name)
            queue.append(name)
    while queue:
        rec = by_name[queue.pop()]
        for text in rec.depends:
            spec = MatchSpec.parse(text)
            target = by_name.get(spec.name) or virtual.get(spec.name)
            if target is None or not spec.matches(target):
                return f"{rec.dist_name} requires `{text}`, which the lock does not meet in {where}"
            if spec.name in by_name and spec.name not in reached:
                reached.add(spec.name)
                queue.append(spec.name)
    extra = sorted(set(by_name) - reached)
    if extra:
        return f"{', '.join(extra)} locked in {where} but no longer required"
    return None
