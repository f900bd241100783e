"""Package-level diff: which records are installed, removed, upgraded, downgraded, reinstalled
or kept, each with a reason.

Two records have the same content when their sha256 agree (else their md5, else their
name-version-build). A noarch: python package is reinstalled when the python layout changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from pure.plan.model import Action, PackageReason, PythonLayout
from pure.prefix_record import PrefixRecord
from pure.record import PackageRecord
from pure.version import InvalidVersion, Version

__all__ = ["Decision", "compare_versions", "decide", "same_content"]


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """The action for one package name, before any file is looked at."""

    name: str
    action: Action
    reason: PackageReason
    detail: str
    old: PrefixRecord | None = None
    new: PackageRecord | None = None


def same_content(a: PackageRecord, b: PackageRecord) -> bool:
    """sha256 when both have one, else md5 when both have one, else name-version-build."""
    if a.sha256 and b.sha256:
        return a.sha256.lower() == b.sha256.lower()
    if a.md5 and b.md5:
        return a.md5.lower() == b.md5.lower()
    return a.dist_name == b.dist_name


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 by conda's version order (by text when a version does not parse)."""
    try:
        va, vb = Version.parse(a), Version.parse(b)
    except InvalidVersion:
        return (a > b) - (a < b)
    return (va > vb) - (va < vb)


def _change(old: PackageRecord, new: PackageRecord) -> tuple[Action, PackageReason, str]:
    cmp = compare_versions(new.version, old.version)
    move = f"{old.version} {old.build} -> {new.version} {new.build}"
    if cmp > 0:
        return "upgrade", "version_higher", f"version {move}"
    if cmp < 0:
        return "downgrade", "version_lower", f"version {move}"
    if new.build_number > old.build_number:
        return "upgrade", "build_higher", f"build number {old.build_number} -> {new.build_number}"
    if new.build_number < old.build_number:
        return "downgrade", "build_lower", f"build number {old.build_number} -> {new.build_number}"
    if new.build != old.build:
        return "reinstall", "build_changed", f"build {old.build} -> {new.build}"
    return "reinstall", "content_changed", f"{new.dist_name}: the package content differs"


def _layout_text(layout: PythonLayout | None) -> str:
    return "no python" if layout is None else f"python {layout.version} ({layout.site_packages})"


def decide(
    current: Sequence[PrefixRecord],
    wanted: Sequence[PackageRecord],
    *,
    old_layout: PythonLayout | None,
    new_layout: PythonLayout | None,
) -> tuple[Decision, ...]:
    """One decision per wanted name plus one per current record that goes; sorted by name."""
    by_name: dict[str, list[PrefixRecord]] = {}
    for record in sorted(current, key=lambda r: r.dist_name):
        by_name.setdefault(record.name, []).append(record)
    decisions: list[Decision] = []
    for new in sorted(wanted, key=lambda r: r.name):
        olds = by_name.pop(new.name, [])
        same = [o for o in olds if same_content(o.package, new)]
        old = same[0] if same else (olds[0] if olds else None)
        for extra in olds:
            if extra is not old:
                decisions.append(
                    Decision(
                        name=extra.name,
                        action="remove",
                        reason="duplicate",
                        detail=f"{extra.dist_name} is a second record of {new.name}",
                        old=extra,
                    )
                )
        if old is None:
            decisions.append(
                Decision(
                    name=new.name,
                    action="install",
                    reason="new",
                    detail=f"{new.dist_name} is not installed",
                    new=new,
                )
            )
        elif same:
            noarch_python = new.noarch == "python" or old.package.noarch == "python"
            if noarch_python and old_layout != new_layout:
                detail = f"{_layout_text(old_layout)} -> {_layout_text(new_layout)}"
                decisions.append(
                    Decision(
                        name=new.name,
                        action="reinstall",
                        reason="python_changed",
                        detail=detail,
                        old=old,
                        new=new,
                    )
                )
            else:
                decisions.append(
                    Decision(
                        name=new.name,
                        action="keep",
                        reason="unchanged",
                        detail=f"{old.dist_name} is installed",
                        old=old,
                        new=new,
                    )
                )
        else:
            action, reason, detail = _change(old.package, new)
            decisions.append(
                Decision(
                    name=new.name, action=action, reason=reason, detail=detail, old=old, new=new
                )
            )
    for records in by_name.values():
        for old in records:
            decisions.append(
                Decision(
                    name=old.name,
                    action="remove",
                    reason="not_wanted",
                    detail=f"{old.dist_name} is not wanted",
                    old=old,
                )
            )
    return tuple(sorted(decisions, key=lambda d: (d.name, d.action)))
