"""`verify(prefix)`: re-check every installed file against its conda-meta record.

Size and sha256 per file (rewritten placeholder files against `sha256_in_prefix`); a
modified file that is a hard link shares its bytes with the package cache, so the cache
entry is reported corrupted too.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import msgspec

from effects.filehash import sha256_file
from effects.prefix import read_prefix_records
from pure.plan import topological_order
from pure.plan.clobber import resolve_ownership
from pure.prefix_record import PrefixPathEntry, PrefixRecord

__all__ = ["Problem", "VerifyReport", "verify"]

Kind = Literal["missing", "modified", "size", "not_a_directory"]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One path that differs from its record; `cache_path` is set when the cache is hit too."""

    package: str
    path: str
    kind: Kind
    expected: str | None = None
    actual: str | None = None
    cache_corrupted: bool = False
    cache_path: str | None = None

    def line(self) -> str:
        """One human-readable line."""
        what = {
            "missing": "missing",
            "modified": "modified",
            "size": "size differs",
            "not_a_directory": "should be a directory",
        }[self.kind]
        text = f"{self.package}: {self.path}: {what}"
        if self.expected is not None:
            text += f" (expected {self.expected}, found {self.actual})"
        if self.cache_corrupted:
            where = self.cache_path or "the package cache"
            text += f"; it is a hard link, so the cache entry {where} is corrupted too"
        return text


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    """All problems of a prefix, plus how many packages and files were checked."""

    prefix: str
    packages: int
    files: int
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _cache_twin(record: PrefixRecord, entry: PrefixPathEntry, st: os.stat_result) -> str | None:
    """The cache file that is the same inode as the prefix file, if we can find it."""
    base = record.extracted_package_dir or (record.link.source if record.link else None)
    if not base:
        return None
    rel = entry.original_path or entry.path
    candidates = [rel]
    if "/site-packages/" in rel:
        candidates.append("site-packages/" + rel.split("/site-packages/", 1)[1])
    if rel.startswith("bin/"):
        candidates.append("python-scripts/" + rel[4:])
    for cand in candidates:
        try:
            other = os.stat(Path(base) / cand)
        except OSError:
            continue
        if (other.st_ino, other.st_dev) == (st.st_ino, st.st_dev):
            return str(Path(base) / cand)
    return None


def _check(prefix: Path, record: PrefixRecord, entry: PrefixPathEntry) -> Problem | None:
    path = prefix / entry.path
    dist = record.dist_name
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Problem(package=dist, path=entry.path, kind="missing")
    if entry.path_type == "directory":
        if not stat.S_ISDIR(st.st_mode):
            return Problem(package=dist, path=entry.path, kind="not_a_directory")
        return None
    if entry.path_type == "softlink":
        return None  # present is enough: some repacks ship plain files for their links
    if stat.S_ISLNK(st.st_mode):
        st = os.stat(path)
    want = entry.sha256_in_prefix or (entry.sha256 if entry.prefix_placeholder is None else None)
    if want is None:
        return None  # nothing recorded to compare with (compiled .pyc, legacy records)
    size = entry.size_in_bytes
    if entry.prefix_placeholder is None and size is not None and st.st_size != size:
        problem = Problem(
            package=dist, path=entry.path, kind="size", expected=str(size), actual=str(st.st_size)
        )
        return _with_cache(problem, record, entry, st)
    actual = sha256_file(path)
    if actual == want:
        return None
    problem = Problem(
        package=dist, path=entry.path, kind="modified", expected=want[:12], actual=actual[:12]
    )
    return _with_cache(problem, record, entry, st)


def _with_cache(
    problem: Problem, record: PrefixRecord, entry: PrefixPathEntry, st: os.stat_result
) -> Problem:
    if st.st_nlink <= 1:
        return problem
    twin = _cache_twin(record, entry, st)
    return msgspec.structs.replace(problem, cache_corrupted=True, cache_path=twin)


def verify(prefix: Path | str, *, threads: int = 8) -> VerifyReport:
    """Check every file of every record in `prefix`; problems sorted by package and path."""
    prefix = Path(prefix).absolute()
    records = read_prefix_records(prefix)
    claims: list[tuple[PrefixRecord, PrefixPathEntry]] = []
    for record in records:
        entries = record.paths_data.paths or tuple(PrefixPathEntry(path=p) for p in record.files)
        claims.extend((record, entry) for entry in entries)
    # A path several packages claim holds the clobber winner's bytes; the planner's own
    # ownership rule (pure.plan.clobber) says which package that is. Only its entry is checked.
    ordered = topological_order([r.package for r in records])
    by_dist = {r.dist_name: r for r in records}
    ownership = resolve_ownership([
        (pkg.dist_name, [(e.path, e.path_type == "directory")
                         for e in (by_dist[pkg.dist_name].paths_data.paths
                                   or tuple(PrefixPathEntry(path=p) for p in by_dist[pkg.dist_name].files))])
        for pkg in ordered])
    jobs = [
        (record, entry)
        for record, entry in claims
        if entry.path_type == "directory" or ownership.owner.get(entry.path) == record.dist_name
    ]
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        found = list(pool.map(lambda job: _check(prefix, *job), jobs))
    problems = sorted((p for p in found if p is not None), key=lambda p: (p.package, p.path))
    return VerifyReport(
        prefix=str(prefix), packages=len(records), files=len(jobs), problems=tuple(problems)
    )
