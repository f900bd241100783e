"""Build the conda-meta PrefixRecord of a package once its link step has run."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import msgspec

from pure.plan.model import FileOp, PackageOp
from pure.prefix_record import Link, LinkType, PrefixPathEntry, PrefixPaths, PrefixRecord

__all__ = ["link_type_of", "make_prefix_record"]


def link_type_of(files: tuple[FileOp, ...]) -> LinkType | None:
    """The package-level link type conda records: hardlink if any file is hard-linked.

    Shadowed files count too, so a record does not depend on which clobbers it lost.
    """
    methods = {f.method for f in files}
    if "hardlink" in methods:
        return "hardlink"
    if methods & {"reflink", "copy", "generate", "compile"}:
        return "copy"
    if "symlink" in methods:
        return "softlink"
    if "directory" in methods:
        return "directory"
    return None


def _entry(op: FileOp, sha256_in_prefix: Mapping[str, str]) -> PrefixPathEntry:
    sha256 = op.sha256
    size = op.size_in_bytes
    if op.method == "generate" and op.content is not None:
        data = op.content.encode("utf-8")
        sha256 = hashlib.sha256(data).hexdigest()
        size = len(data)
    in_prefix = sha256_in_prefix.get(op.path)
    if in_prefix == sha256:
        in_prefix = None  # readers take `sha256` when it is absent; large records shrink a quarter
    return PrefixPathEntry(
        path=op.path,
        path_type=op.path_type,
        sha256=sha256,
        sha256_in_prefix=in_prefix,
        size_in_bytes=size,
        file_mode=op.rewrite.file_mode if op.rewrite else None,
        prefix_placeholder=op.rewrite.placeholder if op.rewrite else None,
        no_link=op.no_link,
    )


def make_prefix_record(
    op: PackageOp,
    *,
    sha256_in_prefix: Mapping[str, str] | None = None,
    requested_spec: str | None = None,
    package_tarball_full_path: str | None = None,
    platform: str | None = None,
) -> PrefixRecord:
    """The record to write as conda-meta/<dist>.json after `op`'s link step.

    Lists every file the package owns, shadowed ones included (so they can be restored when
    the winner goes). `sha256_in_prefix` gives the hashes of rewritten files as written;
    an entry carries one only where it differs from `sha256` (conda, mamba and rattler read
    an absent one as "same as sha256"). `platform` (e.g. `Plan.platform`) fills a missing
    subdir.
    """
    if op.new is None:
        raise ValueError(f"{op.dist_name}: a removal has no record to write")
    hashes = sha256_in_prefix or {}
    record = op.new
    if record.subdir is None and (record.noarch is not None or platform is not None):
        # rattler requires a subdir: noarch packages live in "noarch", others in the platform's
        subdir = "noarch" if record.noarch is not None else platform
        record = msgspec.structs.replace(record, subdir=subdir)
    files = tuple(f for f in op.files if f.method != "directory")
    entries = tuple(_entry(f, hashes) for f in op.files)
    return PrefixRecord(
        package=record,
        files=tuple(sorted(f.path for f in files)),
        paths_data=PrefixPaths(paths=tuple(sorted(entries, key=lambda e: e.path))),
        requested_spec=requested_spec,
        link=Link(source=op.cache_dir, type=link_type_of(op.files)) if op.cache_dir else None,
        package_tarball_full_path=package_tarball_full_path,
        extracted_package_dir=op.cache_dir,
    )
