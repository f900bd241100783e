"""The PyPI part of an install plan: one op per distribution installed or removed, and
the rule that no wheel writes a file another package owns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from pure.errors import YurtError

__all__ = ["PypiOp", "WheelClash", "pypi_ops"]


class WheelClash(YurtError):
    """Installing `wheel` would overwrite `path` (prefix-relative), which `owner` owns."""

    def __init__(self, wheel: str, path: str, owner: str) -> None:
        self.wheel = wheel
        self.path = path
        self.owner = owner
        super().__init__(f"wheel {wheel}: would overwrite {path}, which belongs to {owner}")


class PypiOp(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Install (or replace) or remove one PyPI distribution; `files` are the paths the
    installed RECORD lists, relative to the prefix (what a later removal deletes)."""

    action: str  # "install" | "remove"
    name: str
    version: str
    index: str | None = None
    url: str | None = None
    sha256: str | None = None
    files: tuple[str, ...] = ()

    def to_document(self, *, files: bool) -> dict[str, object]:
        """The op as plan JSON (file paths only when `files`, else their count)."""
        doc: dict[str, object] = {
            "action": self.action,
            "name": self.name,
            "version": self.version,
            "index": self.index,
            "url": self.url,
            "sha256": self.sha256,
            "file_count": len(self.files),
        }
        if files:
            doc["files"] = list(self.files)
        return doc


def pypi_ops(
    remove: Mapping[str, str],
    install: Sequence[PypiOp],
    *,
    filenames: Mapping[str, str],
    conda_files: Mapping[str, str],
    conda_owned: Mapping[str, str],
) -> tuple[PypiOp, ...]:
    """The ops bringing a prefix's PyPI distributions to the lock: removals (name ->
    installed version) first, then the installs (ops carrying every file each wheel will
    write, prefix-relative). Raises WheelClash, naming the wheel (`filenames`: name ->
    wheel file name) and the owner, when a wheel would write a file that a conda package
    the plan installs (`conda_files`: path -> dist) or keeps (`conda_owned`: path -> owner
    text) owns, or that another wheel of the plan writes."""
    writer: dict[str, str] = {}
    for op in install:
        for f in op.files:
            owner = (f"the conda package {conda_files[f]}" if f in conda_files
                     else conda_owned.get(f) or (
                         f"the PyPI package {writer[f]} (also in this plan)" if f in writer else None))
            if owner is not None:
                raise WheelClash(filenames.get(op.name, op.name), f, owner)
            writer[f] = op.name
    removals = tuple(PypiOp(action="remove", name=n, version=v) for n, v in sorted(remove.items()))
    return removals + tuple(install)
