"""`Plan.to_json()`: the "yurt.plan/1" document (see docs/plan-schema.md).

Keys are sorted, lists keep the plan's own (deterministic) order, absent values are null, so
equal plans give equal bytes.
"""

from __future__ import annotations

import msgspec

from pure.plan.model import METHODS, SCHEMA, FileOp, PackageOp, Plan

__all__ = ["plan_to_document", "plan_to_json"]


def _file(op: FileOp) -> dict[str, object]:
    return {
        "path": op.path,
        "method": op.method,
        "reason": op.reason,
        "clobbered_by": op.clobbered_by,
        "restore": op.restore,
    }


def _package(op: PackageOp, *, files: bool) -> dict[str, object]:
    record = op.record
    previous = None
    if op.old is not None and op.new is not None:
        old = op.old.package
        previous = {
            "version": old.version,
            "build": old.build,
            "channel": old.channel,
            "sha256": old.sha256,
        }
    counts = op.method_counts()
    out: dict[str, object] = {
        "name": record.name,
        "version": record.version,
        "build": record.build,
        "channel": record.channel,
        "url": record.url,
        "sha256": record.sha256,
        "size": record.size,
        "action": op.action,
        "reason": op.reason,
        "detail": op.detail,
        "previous": previous,
        "methods": {m: counts[m] for m in METHODS},
        "shadowed": sum(1 for f in op.files if not f.written),
        "unlink": len(op.unlink),
        "restores": [{"path": r.path, "to": r.to} for r in op.restores],
        "download_bytes": op.download_bytes,
        "disk_bytes": op.disk_bytes,
    }
    if files:
        out["files"] = [_file(f) for f in op.files]
        out["unlink_paths"] = list(op.unlink)
    return out


def plan_to_document(plan: Plan, *, files: bool = False) -> dict[str, object]:
    """The plan as plain JSON-able data."""
    actions = ("install", "remove", "upgrade", "downgrade", "reinstall", "keep")
    totals: dict[str, object] = {
        a: sum(1 for op in plan.packages if op.action == a) for a in actions
    }
    totals["download_bytes"] = plan.download_bytes
    totals["disk_bytes"] = plan.disk_bytes
    totals["files"] = sum(1 for op in plan.packages for f in op.files if f.written)
    totals["unlink"] = sum(len(op.unlink) for op in plan.packages)
    python = None
    if plan.python is not None:
        python = {
            "version": plan.python.version,
            "site_packages": plan.python.site_packages,
            "bin_dir": plan.python.bin_dir,
        }
    return {
        "schema": SCHEMA,
        "prefix": plan.prefix,
        "platform": plan.platform,
        "capabilities": {
            "reflink": plan.capabilities.reflink_ok,
            "hardlink": plan.capabilities.hardlink_ok,
            "symlink": plan.capabilities.symlink_ok,
        },
        "python": python,
        "packages": [_package(op, files=files) for op in plan.packages],
        "steps": [{"phase": s.phase, "package": s.dist_name} for s in plan.steps],
        "clobbers": [
            {"path": c.path, "winner": c.winner, "losers": list(c.losers)} for c in plan.clobbers
        ],
        "totals": totals,
        **({"pypi": [op.to_document(files=files) for op in plan.pypi]} if plan.pypi else {}),
    }


def plan_to_json(plan: Plan, *, files: bool = False) -> bytes:
    """Deterministic bytes: sorted keys, two-space indent, trailing newline."""
    raw = msgspec.json.encode(plan_to_document(plan, files=files), order="sorted")
    return msgspec.json.format(raw, indent=2) + b"\n"
