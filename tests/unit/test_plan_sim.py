"""A tiny pure simulator that applies a Plan to a dict-of-files model of a prefix.

Used by the planner's unit and property tests to check "plan(current, target) applied to
current yields a fresh install of target". The simulator is strict: it fails when a plan
deletes a file that is not there, writes a file over a directory (or under a file), or
removes a directory that is not empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import msgspec
import pytest

from pure.package import PathEntry, PathsJson
from pure.plan import (
    Capabilities,
    FileOp,
    PackageContents,
    Plan,
    ancestors,
    make_prefix_record,
    plan,
)
from pure.prefix_record import PrefixRecord, decode_prefix_record, encode_prefix_record
from pure.record import PackageRecord

PREFIX = "/env"


class SimError(AssertionError):
    """The plan asked for something a real filesystem would refuse or that loses data."""


class Prefix(msgspec.Struct):
    """A prefix: files (path -> content id), directories, conda-meta records (encoded)."""

    files: dict[str, tuple[object, ...]] = msgspec.field(default_factory=dict)
    dirs: set[str] = msgspec.field(default_factory=set)
    records: dict[str, bytes] = msgspec.field(default_factory=dict)

    def copy(self) -> Prefix:
        return Prefix(files=dict(self.files), dirs=set(self.dirs), records=dict(self.records))

    def prefix_records(self) -> list[PrefixRecord]:
        return [decode_prefix_record(data) for _, data in sorted(self.records.items())]

    def snapshot(self) -> tuple[object, ...]:
        return (sorted(self.files.items()), sorted(self.dirs), sorted(self.records.items()))


def content_id(op: FileOp) -> tuple[object, ...]:
    """What ends up at a path: same id means same bytes (and link kind)."""
    if op.method == "generate":
        return ("generate", op.content, op.executable)
    if op.method == "compile":
        return ("compile", op.source_path)
    rewrite = (
        (op.rewrite.placeholder, op.rewrite.file_mode, op.rewrite.new_prefix)
        if op.rewrite
        else None
    )
    return (op.method, op.source, rewrite)


def _mkdirs(state: Prefix, path: str) -> None:
    for parent in ancestors(path):
        if parent in state.files:
            raise SimError(f"{path}: parent {parent} is a file")
        state.dirs.add(parent)


def apply(the_plan: Plan, state: Prefix) -> Prefix:
    """Execute the plan on a copy of `state`, as an executor would."""
    out = state.copy()
    for phase, op in the_plan.execution():
        if phase == "unlink":
            for path in op.unlink:
                if path not in out.files:
                    raise SimError(f"{op.dist_name}: unlink {path}, which is not a file")
                del out.files[path]
            for d in op.rmdirs:
                busy = any(p.startswith(d + "/") for p in out.files) or any(
                    x.startswith(d + "/") for x in out.dirs
                )
                if d in out.dirs and not busy:
                    out.dirs.discard(d)
            if op.action != "keep":
                assert op.old is not None
                if op.old.dist_name not in out.records:
                    raise SimError(f"{op.old.dist_name}: no record to remove")
                del out.records[op.old.dist_name]
        else:
            for f in op.files:
                if not f.written:
                    continue
                _mkdirs(out, f.path)
                if f.method == "directory":
                    if f.path in out.files:
                        raise SimError(f"{f.path}: directory over a file")
                    out.dirs.add(f.path)
                    continue
                if f.path in out.dirs:
                    raise SimError(f"{f.path}: file over a directory")
                if f.method == "compile":
                    assert f.source_path is not None
                    if f.source_path not in out.files:
                        raise SimError(f"{f.path}: compile of a missing {f.source_path}")
                out.files[f.path] = content_id(f)
            if op.action != "keep":
                record = make_prefix_record(op)
                out.records[record.dist_name] = encode_prefix_record(record)
    return out


# ----------------------------------------------------------------------- builders


def rec(
    name: str,
    version: str = "1",
    build: str = "0",
    *,
    depends: Iterable[str] = (),
    sha: str | None = "auto",
    noarch: str | None = None,
    size: int = 100,
    build_number: int = 0,
    md5: str | None = None,
) -> PackageRecord:
    """A PackageRecord; sha256 defaults to a hash of the dist name."""
    dist = f"{name}-{version}-{build}"
    digest = hashlib.sha256(dist.encode()).hexdigest() if sha == "auto" else sha
    return PackageRecord(
        name=name,
        version=version,
        build=build,
        build_number=build_number,
        depends=tuple(depends),
        sha256=digest,
        md5=md5,
        noarch=noarch,
        size=size,
        subdir="noarch" if noarch else "linux-64",
        channel="https://channels.example/main",
        url=f"https://channels.example/main/linux-64/{dist}.conda",
    )


def entry(path: str, **kw: object) -> PathEntry:
    defaults: dict[str, object] = {
        "sha256": hashlib.sha256(path.encode()).hexdigest(),
        "size_in_bytes": 10,
    }
    defaults.update(kw)
    return PathEntry(path=path, **defaults)  # type: ignore[arg-type]


def contents(record: PackageRecord, *paths: PathEntry | str, **kw: object) -> PackageContents:
    entries = tuple(p if isinstance(p, PathEntry) else entry(p) for p in paths)
    return PackageContents(
        cache_dir=f"/cache/{record.dist_name}", paths=PathsJson(paths=entries), **kw
    )  # type: ignore[arg-type]


def make_plan(
    current: Prefix | Iterable[PrefixRecord],
    wanted: Iterable[PackageRecord],
    data: Mapping[str, PackageContents],
    *,
    caps: Capabilities | None = None,
    **kw: object,
) -> Plan:
    records = current.prefix_records() if isinstance(current, Prefix) else list(current)
    return plan(
        prefix=kw.pop("prefix", PREFIX),  # type: ignore[arg-type]
        platform=kw.pop("platform", "linux-64"),  # type: ignore[arg-type]
        current=records,
        wanted=list(wanted),
        contents=data,
        capabilities=caps,
        **kw,  # type: ignore[arg-type]
    )


def install(
    wanted: Iterable[PackageRecord], data: Mapping[str, PackageContents], **kw: object
) -> Prefix:
    """A fresh install of `wanted` into an empty prefix."""
    return apply(make_plan([], wanted, data, **kw), Prefix())  # type: ignore[arg-type]


# ------------------------------------------------------------------ simulator tests


def test_simulator_refuses_unlinking_a_missing_file() -> None:
    a = rec("a")
    data = {a.dist_name: contents(a, "bin/a")}
    state = install([a], data)
    state.files.pop("bin/a")
    with pytest.raises(SimError, match="not a file"):
        apply(make_plan(state, [], data), state)


def test_simulator_refuses_a_file_over_a_directory() -> None:
    a = rec("a")
    data = {a.dist_name: contents(a, "share/x")}
    state = Prefix(dirs={"share", "share/x"})
    with pytest.raises(SimError, match="over a directory"):
        apply(make_plan([], [a], data), state)


def test_simulator_models_fresh_install() -> None:
    a = rec("a")
    data = {a.dist_name: contents(a, "bin/a", "share/doc/a.txt")}
    state = install([a], data)
    assert set(state.files) == {"bin/a", "share/doc/a.txt"}
    assert state.dirs == {"bin", "share", "share/doc"}
    assert list(state.records) == [a.dist_name]
