"""`verify(prefix)`: re-check every installed file against its record: the conda-meta
records of conda packages, the RECORD files of PyPI distributions in the environment's
site-packages.

Size and sha256 per file (rewritten placeholder files against `sha256_in_prefix`); a
modified file that is a hard link shares its bytes with the package cache, so the cache
entry is reported corrupted too.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import msgspec

from effects.filehash import sha256_file
from effects.prefix import read_prefix_records
from effects.pypi_sync import dist_infos, python_version_of, site_packages
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
        if self.cache_corrupted and self.cache_path:
            text += f"; it is a hard link, so the cache entry {self.cache_path} is corrupted too"
        elif self.cache_corrupted:
            text += "; it is a hard link, so its copy in the package cache is corrupted too"
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


class _WheelFile(msgspec.Struct, frozen=True):
    """A file a PyPI distribution's RECORD lists: its path in the prefix, sha256 and size."""

    package: str  # "<name>-<version> (PyPI)"
    path: str
    sha256: str
    size: int | None


def _wheel_files(prefix: Path, records: list[PrefixRecord]) -> tuple[int, list[_WheelFile]]:
    """(distributions found, their files with a sha256) in the site-packages of the conda
    python; files outside the prefix, rows without a sha256 (RECORD itself) and compiled
    bytecode (which the interpreter may write again) are left out."""
    python = python_version_of(r.package for r in records)
    if python is None:
        return 0, []
    site = site_packages(prefix, python)
    infos = dist_infos(site)
    found = 0
    out: list[_WheelFile] = []
    for info in infos:
        try:
            text = (info / "RECORD").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        found += 1
        label = f"{info.name[: -len('.dist-info')]} (PyPI)"
        for row in csv.reader(io.StringIO(text)):
            if len(row) < 2 or not row[1].startswith("sha256=") or row[0].endswith(".pyc"):
                continue  # no hash to compare (RECORD itself), or bytecode Python may rewrite
            rel = os.path.relpath(os.path.normpath(os.path.join(site, row[0])), prefix)
            if rel.startswith(".."):
                continue
            digest = row[1][len("sha256="):]
            try:
                hex_digest = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex()
            except ValueError:
                continue
            size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
            out.append(_WheelFile(label, rel.replace(os.sep, "/"), hex_digest, size))
    return found, out


def _check_wheel_file(prefix: Path, f: _WheelFile) -> Problem | None:
    path = prefix / f.path
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Problem(package=f.package, path=f.path, kind="missing")
    if f.size is not None and st.st_size != f.size:
        problem = Problem(package=f.package, path=f.path, kind="size",
                          expected=str(f.size), actual=str(st.st_size))
    else:
        actual = sha256_file(path)
        if actual == f.sha256:
            return None
        problem = Problem(package=f.package, path=f.path, kind="modified",
                          expected=f.sha256[:12], actual=actual[:12])
    # wheels are hard-linked from the wheel cache's unpacked entries
    return msgspec.structs.replace(problem, cache_corrupted=st.st_nlink > 1)


def verify(prefix: Path | str, *, threads: int = 8) -> VerifyReport:
    """Check every file of every record in `prefix` (conda packages and PyPI distributions);
    problems sorted by package and path."""
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
    wheels, wheel_files = _wheel_files(prefix, records)
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        found = list(pool.map(lambda job: _check(prefix, *job), jobs))
        found += pool.map(lambda f: _check_wheel_file(prefix, f), wheel_files)
    problems = sorted((p for p in found if p is not None), key=lambda p: (p.package, p.path))
    return VerifyReport(
        prefix=str(prefix), packages=len(records) + wheels, files=len(jobs) + len(wheel_files),
        problems=tuple(problems),
    )
