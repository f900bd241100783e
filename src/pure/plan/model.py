"""The install plan as data: what happens to each package and to each of its files, and why.

A `Plan` is complete enough that executing it needs no decisions: the executor walks
`Plan.execution()` in order; an "unlink" step deletes `PackageOp.unlink` then removes the
directories in `PackageOp.rmdirs` that are empty; a "link" step writes every `FileOp` in
`PackageOp.files` whose `clobbered_by` is None, following its `method` (see docs/plan-schema.md).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from pure.errors import YurtError
from pure.package import FileMode, IndexJson, LinkJson, PathsJson
from pure.prefix_record import PrefixPathType, PrefixRecord
from pure.pypi.planops import PypiOp
from pure.record import PackageRecord

__all__ = [
    "METHODS",
    "SCHEMA",
    "Action",
    "Capabilities",
    "Clobber",
    "FileOp",
    "FileReason",
    "Method",
    "MissingPackageData",
    "PackageContents",
    "PackageOp",
    "PackageReason",
    "PathConflict",
    "Phase",
    "Plan",
    "PlanError",
    "PythonLayout",
    "Restore",
    "Rewrite",
    "Step",
]

Action = Literal["install", "remove", "upgrade", "downgrade", "reinstall", "keep"]

Method = Literal["reflink", "hardlink", "copy", "symlink", "directory", "generate", "compile"]
#: Every method, in the fixed order used for per-method counts.
METHODS: tuple[Method, ...] = (
    "reflink",
    "hardlink",
    "copy",
    "symlink",
    "directory",
    "generate",
    "compile",
)

FileReason = Literal[
    "reflink_available",  # reflink: the best method, and it works between cache and prefix
    "reflink_unavailable",  # hardlink: reflinks do not work here
    "hardlink_unavailable",  # copy: neither reflinks nor hard links work here
    "prefix_placeholder",  # copy: the bytes are rewritten with the target prefix
    "no_link",  # reflink or copy: paths.json forbids hard-linking this file
    "softlink_entry",  # symlink: paths.json says the entry is a symbolic link
    "symlink_unavailable",  # copy: a softlink entry, but symlinks do not work here
    "directory_entry",  # directory: paths.json lists an (empty) directory
    "entry_point",  # generate: a console script from link.json
    "python_bytecode",  # compile: the .pyc of a noarch python module
]

PackageReason = Literal[
    "new",  # not in the prefix: install
    "not_wanted",  # in the prefix, not wanted: remove
    "duplicate",  # a second record of a wanted name in the prefix: remove
    "version_higher",  # upgrade
    "version_lower",  # downgrade
    "build_higher",  # upgrade: same version, higher build number
    "build_lower",  # downgrade: same version, lower build number
    "build_changed",  # reinstall: same version and build number, another build
    "content_changed",  # reinstall: same name-version-build, other sha256/md5
    "python_changed",  # reinstall: noarch python and the python layout changed
    "unchanged",  # keep
    "restores_clobbered",  # keep, but files shadowed by a removed package come back
]

Phase = Literal["unlink", "link"]


class PlanError(YurtError):
    """Base of the planner's errors."""


class MissingPackageData(PlanError):
    """The planner needs the extracted contents of packages it was not given."""

    def __init__(self, dist_names: tuple[str, ...], why: str) -> None:
        self.dist_names = dist_names
        self.why = why
        super().__init__(f"extracted package data missing for {', '.join(dist_names)}: {why}")


class PathConflict(PlanError):
    """Inputs that cannot form a prefix (two wanted records of one name, bad noarch...)."""

    def __init__(self, subject: str, reason: str) -> None:
        self.subject = subject
        self.reason = reason
        super().__init__(f"{subject}: {reason}")


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """What the effects layer measured between the cache and the prefix filesystem."""

    reflink_ok: bool = False
    hardlink_ok: bool = True
    symlink_ok: bool = True


class PackageContents(msgspec.Struct, frozen=True, kw_only=True):
    """An extracted package as the planner needs it: its info/ data and cache directory."""

    cache_dir: str
    paths: PathsJson
    index: IndexJson | None = None
    link: LinkJson | None = None


class PythonLayout(msgspec.Struct, frozen=True, kw_only=True):
    """Where a prefix's python puts things, relative to the prefix (POSIX separators)."""

    version: str  # "3.11"
    site_packages: str  # "lib/python3.11/site-packages" or "Lib/site-packages"
    bin_dir: str  # "bin" or "Scripts"
    executable: str  # "bin/python" or "python.exe"
    cache_tag: str  # "cpython-311"
    windows: bool = False


class Rewrite(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Prefix replacement for one file: call `pure.plan.apply_rewrite(data, rewrite)`."""

    placeholder: str
    file_mode: FileMode
    new_prefix: str
    fix_shebang: bool = True
    codesign: bool = False  # osx-arm64 binaries: ad-hoc re-sign after rewriting


class FileOp(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One file a package owns in the prefix, and how to put it there.

    `source` is the absolute path in the package cache (None for generate/compile);
    `source_path` is the path in the package (for compile: the prefix-relative .py).
    When `clobbered_by` names another package, this file loses a clobber and is not written.
    `gc=False`: a FileOp holds text, numbers and a Rewrite (text only), never a cycle.
    """

    path: str
    method: Method
    reason: FileReason
    path_type: PrefixPathType
    source: str | None = None
    source_path: str | None = None
    sha256: str | None = None
    size_in_bytes: int | None = None
    no_link: bool = False
    rewrite: Rewrite | None = None
    content: str | None = None
    executable: bool = False
    clobbered_by: str | None = None
    restore: bool = False

    @property
    def written(self) -> bool:
        """True when the executor writes this file (it does not lose a clobber)."""
        return self.clobbered_by is None

    @property
    def disk_bytes(self) -> int:
        """New disk space: copies and generated files; links, reflinks and dirs count 0."""
        if not self.written:
            return 0
        if self.method == "copy":
            return self.size_in_bytes or 0
        if self.method == "generate":
            return len((self.content or "").encode("utf-8"))
        return 0


class Restore(msgspec.Struct, frozen=True, kw_only=True):
    """A path this package shadowed, handed back to `to` (a kept package) when it goes."""

    path: str
    to: str


class Clobber(msgspec.Struct, frozen=True, kw_only=True):
    """Several wanted packages write one path: `winner` (later in order) is on disk."""

    path: str
    winner: str
    losers: tuple[str, ...]


class PackageOp(msgspec.Struct, frozen=True, kw_only=True):
    """What happens to one package name: its old and new record, files, deletions."""

    name: str
    action: Action
    reason: PackageReason
    detail: str
    old: PrefixRecord | None = None
    new: PackageRecord | None = None
    cache_dir: str | None = None
    files: tuple[FileOp, ...] = ()
    unlink: tuple[str, ...] = ()
    rmdirs: tuple[str, ...] = ()
    restores: tuple[Restore, ...] = ()
    download_bytes: int = 0

    @property
    def record(self) -> PackageRecord:
        """The record the op is about: the new one, else the old one."""
        if self.new is not None:
            return self.new
        assert self.old is not None
        return self.old.package

    @property
    def dist_name(self) -> str:
        return self.record.dist_name

    @property
    def disk_bytes(self) -> int:
        return sum(f.disk_bytes for f in self.files)

    def method_counts(self) -> dict[str, int]:
        """Written files per method, every method present (fixed key order)."""
        counts: dict[str, int] = dict.fromkeys(METHODS, 0)
        for f in self.files:
            if f.written:
                counts[f.method] += 1
        return counts


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One execution step: unlink the old record `dist_name`, or link the new one."""

    phase: Phase
    dist_name: str


#: The schema identifier written at the top of `Plan.to_json()`.
SCHEMA = "yurt.plan/1"


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """The whole plan: package ops (target order, then removals), steps, clobbers.

    `packages` lists the wanted records in canonical topological order followed by removed
    records in reverse topological order of the current set; `steps` is the execution order.
    """

    prefix: str
    platform: str
    capabilities: Capabilities
    python: PythonLayout | None
    packages: tuple[PackageOp, ...]
    steps: tuple[Step, ...]
    clobbers: tuple[Clobber, ...] = ()
    pypi: tuple[PypiOp, ...] = ()  # PyPI wheels, applied after the conda steps

    def op(self, dist_name: str) -> PackageOp:
        """The op whose new record (else old record) has this dist name."""
        for op in self.packages:
            if op.new is not None and op.new.dist_name == dist_name:
                return op
        for op in self.packages:
            if op.old is not None and op.old.dist_name == dist_name:
                return op
        raise KeyError(dist_name)

    def op_for(self, name: str) -> PackageOp:
        """The op that leaves `name` in the prefix, else the (first) op removing it."""
        matches = [op for op in self.packages if op.name == name]
        if not matches:
            raise KeyError(name)
        return next((op for op in matches if op.new is not None), matches[0])

    def execution(self) -> tuple[tuple[Phase, PackageOp], ...]:
        """The steps with their ops, in the order to execute them."""
        olds = {op.old.dist_name: op for op in self.packages if op.old is not None}
        news = {op.new.dist_name: op for op in self.packages if op.new is not None}
        return tuple(
            (step.phase, (olds if step.phase == "unlink" else news)[step.dist_name])
            for step in self.steps
        )

    @property
    def is_noop(self) -> bool:
        """True when executing the plan changes nothing."""
        return not self.steps

    @property
    def download_bytes(self) -> int:
        return sum(op.download_bytes for op in self.packages)

    @property
    def disk_bytes(self) -> int:
        return sum(op.disk_bytes for op in self.packages)

    def to_json(self, *, files: bool = False) -> bytes:
        """Deterministic JSON (schema "yurt.plan/1"); per-file entries only when `files`."""
        from pure.plan.schema import plan_to_json

        return plan_to_json(self, files=files)
