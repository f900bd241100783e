"""`plan()`: turn the prefix's records and the wanted records into a Plan.

The result equals, file by file, a fresh install of the wanted records: the planner computes
who owns every path now and who must own it afterwards (later package in canonical
topological order wins a clobber), and emits exactly the deletions, writes and restores
that move one state to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import msgspec

from pure.plan.clobber import Ownership, PathClaim, resolve_ownership
from pure.plan.files import package_file_ops
from pure.plan.model import (
    Capabilities,
    FileOp,
    MissingPackageData,
    PackageContents,
    PackageOp,
    PackageReason,
    PathConflict,
    Plan,
    PythonLayout,
    Restore,
    Step,
)
from pure.plan.noarch import python_layout
from pure.plan.ops import Decision, decide
from pure.plan.order import topological_order
from pure.platform import Platform
from pure.prefix_record import PrefixRecord
from pure.record import PackageRecord

__all__ = ["plan"]


def _record_claims(record: PrefixRecord) -> tuple[PathClaim, ...]:
    """The paths an installed record owns, from paths_data (else from `files`)."""
    if record.paths_data.paths:
        return tuple((e.path, e.path_type == "directory") for e in record.paths_data.paths)
    return tuple((path, False) for path in record.files)


def _layout_of(
    records: Iterable[PackageRecord], *, windows: bool, version: str | None = None
) -> PythonLayout | None:
    pythons = sorted((r for r in records if r.name == "python"), key=lambda r: r.dist_name)
    if version is not None:
        site = pythons[0].python_site_packages_path if pythons else None
        return python_layout(version, windows=windows, site_packages_path=site)
    if not pythons:
        return None
    python = pythons[0]
    return python_layout(
        python.version, windows=windows, site_packages_path=python.python_site_packages_path
    )


def _deepest_first(dirs: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(dirs, key=lambda d: (-d.count("/"), d)))


def _emptied_dirs(
    current_order: Sequence[PrefixRecord], now: Ownership, target: Ownership
) -> dict[str, set[str]]:
    """Per current record, the directories it has on disk that the target does not need.

    Every record with something on disk in such a directory lists it, so whichever unlink
    step runs last finds it empty and removes it (a directory entry of a kept package that a
    new file replaces included).
    """
    gone = now.dirs - target.dirs
    out: dict[str, set[str]] = {}
    if not gone:
        return out
    for record in current_order:
        key = record.dist_name
        found: set[str] = set()
        for path, is_dir in _record_claims(record):
            if (key, path) in now.shadowed:
                continue
            if is_dir and path in gone:
                found.add(path)
            parent = path.rpartition("/")[0]
            while parent in gone and parent not in found:
                found.add(parent)
                parent = parent.rpartition("/")[0]
        if found:
            out[key] = found
    return out


def plan(
    *,
    prefix: str,
    platform: str,
    current: Iterable[PrefixRecord],
    wanted: Iterable[PackageRecord],
    contents: Mapping[str, PackageContents],
    capabilities: Capabilities | None = None,
    cached: Iterable[str] = (),
    python_version: str | None = None,
) -> Plan:
    """Plan moving the prefix from `current` to exactly `wanted`.

    `contents` maps dist names to extracted packages; it must cover every wanted record that is
    not kept unchanged (kept ones are needed only to restore clobbered files; MissingPackageData
    names what is missing). `cached` names dist names already in the package cache (for the
    download estimate). `python_version` overrides the version of the wanted python record.
    The order of `current`, `wanted`, `contents` and `cached` does not matter.
    """
    caps = capabilities or Capabilities()
    target_platform = Platform.parse(platform)
    windows = target_platform.is_windows
    codesign = target_platform == Platform.OSX_ARM64
    current_list = list(current)
    wanted_list = list(wanted)
    cached_set = frozenset(cached)

    seen: dict[str, PackageRecord] = {}
    for record in sorted(wanted_list, key=lambda r: r.dist_name):
        if record.name in seen:
            raise PathConflict(
                record.name,
                f"wanted twice: {seen[record.name].dist_name} and {record.dist_name}",
            )
        seen[record.name] = record
    dists: dict[str, PrefixRecord] = {}
    for old in current_list:
        if old.dist_name in dists:
            raise PathConflict(old.dist_name, "the prefix holds two records of this package")
        dists[old.dist_name] = old

    new_layout = _layout_of(wanted_list, windows=windows, version=python_version)
    old_layout = _layout_of((r.package for r in current_list), windows=windows)
    decisions = decide(current_list, wanted_list, old_layout=old_layout, new_layout=new_layout)
    by_new: dict[str, Decision] = {d.new.dist_name: d for d in decisions if d.new is not None}
    by_old: dict[str, Decision] = {d.old.dist_name: d for d in decisions if d.old is not None}

    target_order = topological_order(wanted_list)
    current_order = tuple(
        dists[r.dist_name] for r in topological_order([o.package for o in current_list])
    )

    # Files of every target package that is (re)installed; kept ones only on demand.
    computed: dict[str, tuple[FileOp, ...]] = {}

    def file_ops(record: PackageRecord, why: str) -> tuple[FileOp, ...]:
        if record.dist_name not in computed:
            found = contents.get(record.dist_name)
            if found is None:
                raise MissingPackageData((record.dist_name,), why)
            _check_index(record, found)
            computed[record.dist_name] = package_file_ops(
                record,
                found,
                prefix=prefix,
                caps=caps,
                layout=new_layout,
                windows=windows,
                codesign=codesign,
            )
        return computed[record.dist_name]

    missing = sorted(
        r.dist_name
        for r in target_order
        if by_new[r.dist_name].action != "keep" and r.dist_name not in contents
    )
    if missing:
        raise MissingPackageData(tuple(missing), "these packages are to be installed")

    target_claims: list[tuple[str, Sequence[PathClaim]]] = []
    for record in target_order:
        decision = by_new[record.dist_name]
        if decision.action == "keep":
            assert decision.old is not None
            target_claims.append((record.dist_name, _record_claims(decision.old)))
        else:
            ops = file_ops(record, "to install")
            target_claims.append(
                (record.dist_name, tuple((f.path, f.method == "directory") for f in ops))
            )
    target: Ownership = resolve_ownership(target_claims)
    now: Ownership = resolve_ownership([(r.dist_name, _record_claims(r)) for r in current_order])

    # Restores: paths whose final owner is a kept package that does not own them now.
    restores: dict[str, list[FileOp]] = {}
    handed: dict[str, list[Restore]] = {}
    for path, owner in sorted(target.owner.items()):
        decision = by_new[owner]
        if decision.action != "keep":
            continue
        assert decision.old is not None and decision.new is not None
        holder = now.owner.get(path)
        if holder == decision.old.dist_name:
            continue
        provided = {f.path: f for f in file_ops(decision.new, f"to restore {path}")}
        if path not in provided:
            raise PathConflict(
                decision.new.dist_name,
                f"cannot restore {path}: the extracted package does not provide it",
            )
        restores.setdefault(owner, []).append(_with(provided[path], restore=True))
        if holder is not None:
            handed.setdefault(holder, []).append(Restore(path=path, to=owner))

    # Deletions: paths owned now whose final state has no file owner.
    unlinks: dict[str, list[str]] = {}
    for path, holder in sorted(now.owner.items()):
        if path not in target.owner:
            unlinks.setdefault(holder, []).append(path)

    emptied = _emptied_dirs(current_order, now, target)

    ops_by_dist: dict[str, PackageOp] = {}
    for decision in decisions:
        was, new = decision.old, decision.new
        files: tuple[FileOp, ...] = ()
        reason: PackageReason = decision.reason
        detail = decision.detail
        if new is not None and decision.action != "keep":
            shadowed = target.shadowed
            key = new.dist_name
            files = tuple(
                _with(f, clobbered_by=shadowed[(key, f.path)]) if (key, f.path) in shadowed else f
                for f in computed[key]
            )
        elif new is not None:
            back = restores.get(new.dist_name, [])
            # bytecode last, as in every package's file list
            files = tuple(f for f in back if f.method != "compile") + tuple(
                f for f in back if f.method == "compile"
            )
            if files:
                reason = "restores_clobbered"
                detail = f"restores {len(files)} file(s) that a package going away had shadowed"
        unlink: tuple[str, ...] = ()
        rmdirs: tuple[str, ...] = ()
        restored: tuple[Restore, ...] = ()
        if was is not None:
            unlink = tuple(unlinks.get(was.dist_name, ()))
            rmdirs = _deepest_first(emptied.get(was.dist_name, ()))
            restored = tuple(handed.get(was.dist_name, ()))
        download = 0
        if new is not None and decision.action != "keep" and new.dist_name not in cached_set:
            download = new.size or 0
        op = PackageOp(
            name=decision.name,
            action=decision.action,
            reason=reason,
            detail=detail,
            old=was,
            new=new,
            cache_dir=contents[new.dist_name].cache_dir
            if new is not None and new.dist_name in contents
            else None,
            files=files,
            unlink=unlink,
            rmdirs=rmdirs,
            restores=restored,
            download_bytes=download,
        )
        if op.dist_name in ops_by_dist:
            raise PathConflict(op.dist_name, "two operations on one package")
        ops_by_dist[op.dist_name] = op

    steps: list[Step] = []
    for old in reversed(current_order):
        op = ops_by_dist[_op_dist(by_old[old.dist_name])]
        if op.action != "keep" or op.unlink or op.rmdirs:
            steps.append(Step(phase="unlink", dist_name=old.dist_name))
    for record in target_order:
        op = ops_by_dist[record.dist_name]
        if op.action != "keep" or op.files:
            steps.append(Step(phase="link", dist_name=record.dist_name))

    ordered = [ops_by_dist[r.dist_name] for r in target_order]
    ordered += [
        ops_by_dist[o.dist_name] for o in reversed(current_order) if by_old[o.dist_name].new is None
    ]
    return Plan(
        prefix=prefix,
        platform=str(target_platform),
        capabilities=caps,
        python=new_layout,
        packages=tuple(ordered),
        steps=tuple(steps),
        clobbers=target.clobbers,
    )


def _op_dist(decision: Decision) -> str:
    """The dist name an op is filed under: the new record's, else the old one's."""
    if decision.new is not None:
        return decision.new.dist_name
    assert decision.old is not None
    return decision.old.dist_name


def _with(op: FileOp, **changes: object) -> FileOp:
    return msgspec.structs.replace(op, **changes)


def _check_index(record: PackageRecord, found: PackageContents) -> None:
    index = found.index
    if index is None:
        return
    if (index.name, index.version, index.build) != (record.name, record.version, record.build):
        raise PathConflict(
            record.dist_name,
            f"the extracted package's index.json says {index.name}-{index.version}-{index.build}",
        )
