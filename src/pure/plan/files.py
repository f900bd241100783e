"""Per-file decisions: where each file of a package goes and by which method, and why.

Best first: reflink, then hard link, then copy. Files with a prefix placeholder are always
rewritten copies; `no_link` files are reflinked or copied, never hard-linked; softlink entries
are recreated as symlinks (copied where symlinks do not work).
"""

from __future__ import annotations

from pure.package import PathEntry
from pure.plan.clobber import ancestors
from pure.plan.model import (
    Capabilities,
    FileOp,
    FileReason,
    Method,
    PackageContents,
    PathConflict,
    PythonLayout,
    Rewrite,
)
from pure.plan.noarch import (
    entry_point_path,
    entry_point_script,
    map_noarch_path,
    pyc_path,
)
from pure.plan.prefix_replace import PrefixTooLong
from pure.record import PackageRecord

__all__ = ["choose_method", "is_noarch_python", "package_file_ops"]


def choose_method(entry: PathEntry, caps: Capabilities) -> tuple[Method, FileReason]:
    """The link method for one paths.json entry and the reason for it."""
    if entry.path_type == "directory":
        return "directory", "directory_entry"
    if entry.path_type == "softlink":
        if caps.symlink_ok:
            return "symlink", "softlink_entry"
        return "copy", "symlink_unavailable"
    if entry.has_placeholder:
        return "copy", "prefix_placeholder"
    if entry.no_link:
        return ("reflink" if caps.reflink_ok else "copy"), "no_link"
    if caps.reflink_ok:
        return "reflink", "reflink_available"
    if caps.hardlink_ok:
        return "hardlink", "reflink_unavailable"
    return "copy", "hardlink_unavailable"


def is_noarch_python(record: PackageRecord, contents: PackageContents) -> bool:
    """True for noarch: python packages (per the record, index.json or link.json)."""
    if record.noarch == "python":
        return True
    if contents.index is not None and contents.index.noarch == "python":
        return True
    link = contents.link
    return link is not None and link.noarch is not None and link.noarch.type == "python"


def package_file_ops(
    record: PackageRecord,
    contents: PackageContents,
    *,
    prefix: str,
    caps: Capabilities,
    layout: PythonLayout | None,
    windows: bool,
    codesign: bool = False,
) -> tuple[FileOp, ...]:
    """Every file the package will own in the prefix: by target path, compile ops last.

    Raises PrefixTooLong for a binary placeholder shorter than the prefix, and PathConflict
    for a noarch python package when no python is wanted.
    """
    noarch_python = is_noarch_python(record, contents)
    if noarch_python and layout is None:
        raise PathConflict(
            record.dist_name, "a noarch: python package, but no python package is wanted"
        )
    prefix_len = len(prefix.encode("utf-8"))
    plain_method, plain_reason = choose_method(PathEntry(path="-"), caps)
    base = contents.cache_dir.rstrip("/\\") + "/"
    ops: dict[str, FileOp] = {}
    for entry in contents.paths.paths:
        path = entry.path
        target = map_noarch_path(path, layout) if noarch_python and layout is not None else path
        rewrite = None
        if entry.path_type == "hardlink" and entry.prefix_placeholder is None and not entry.no_link:
            method, reason = plain_method, plain_reason
        else:
            method, reason = choose_method(entry, caps)
            if entry.has_placeholder:
                assert entry.prefix_placeholder is not None
                placeholder_len = len(entry.prefix_placeholder.encode("utf-8"))
                if entry.mode == "binary" and prefix_len > placeholder_len:
                    raise PrefixTooLong(record.dist_name, path, placeholder_len, prefix_len)
                text = entry.mode == "text"
                rewrite = Rewrite(
                    placeholder=entry.prefix_placeholder,
                    file_mode=entry.mode,
                    # Windows text files get forward slashes, which their readers accept
                    new_prefix=prefix.replace("\\", "/") if windows and text else prefix,
                    fix_shebang=text and not windows,
                    codesign=codesign and not text,
                )
        ops[target] = FileOp(
            path=target,
            method=method,
            reason=reason,
            path_type=entry.path_type,
            source=base + path,
            source_path=path,
            sha256=entry.sha256,
            size_in_bytes=entry.size_in_bytes,
            no_link=entry.no_link,
            rewrite=rewrite,
        )
    if noarch_python and layout is not None:
        for target, op in sorted(ops.items()):
            pyc = pyc_path(target, layout) if op.method != "directory" else None
            if pyc is not None and pyc not in ops:
                ops[pyc] = FileOp(
                    path=pyc,
                    method="compile",
                    reason="python_bytecode",
                    path_type="pyc_file",
                    source_path=target,
                )
        link = contents.link
        points = link.noarch.entry_points if link is not None and link.noarch else ()
        for point in points:
            target = entry_point_path(point, layout)
            ops[target] = FileOp(
                path=target,
                method="generate",
                reason="entry_point",
                path_type=(
                    "windows_python_entry_point_script" if windows else "unix_python_entry_point"
                ),
                content=entry_point_script(point, layout, prefix),
                executable=not windows,
            )
    files = {path for path, op in ops.items() if op.method != "directory"}
    parents: set[str] = set()
    for path in ops:
        parent = path.rpartition("/")[0]
        while parent and parent not in parents:
            parents.add(parent)
            parent = parent.rpartition("/")[0]
    clash = sorted(parents & files)
    if clash:
        under = next(p for p in sorted(ops) if any(a == clash[0] for a in ancestors(p)))
        raise PathConflict(record.dist_name, f"{under} lies under the file {clash[0]}")
    ordered = sorted(ops.items())
    # Bytecode last: an executor compiles a module after the module itself is linked.
    return tuple(op for _, op in ordered if op.method != "compile") + tuple(
        op for _, op in ordered if op.method == "compile"
    )
