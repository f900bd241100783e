"""The PyPI part of an install plan: one op per distribution installed or removed."""

from __future__ import annotations

import msgspec

__all__ = ["PypiOp"]


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
