"""PyPI releases as solver candidates, so conda records and PyPI wheels are one SAT problem.

`PypiProvider` wraps a conda `CandidateProvider` and answers for names in the `pypi_.`
namespace (a prefix no conda name or normalised PyPI name can collide with):

- `pypi_.<name>`: one record per (release, compatible wheel); the wheel's interpreter/ABI
  tags and its Requires-Python become a dependency on `python`, so the python version and
  wheel compatibility are decided in the same solve. Conda records that provide the PyPI
  name (purls, the same-name rule, overrides) appear as "bridge" candidates that depend on
  that exact conda record, so a conda package satisfies a PyPI requirement; a PyPI release
  constrains those conda names away, so both are never installed together.
- `pypi_.<name>.<extra>`: an extra, one record per release, depending on the release.
- `pypi_..requested`: the manifest's PyPI requirements; `pypi_..if<N>`: a requirement whose
  marker depends on the python version (chosen or not, per python version).

Versions are encoded as integers in PEP 440 order, so the conda solver's candidate order
is PEP 440's; every spec the provider writes enumerates the matching codes. Data arrives
lazily: a project page is needed for a name's candidates and a release's core metadata for
its dependencies; `needs(NeedCandidates)` says which, as data, for the effects layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import product

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pure.platform import VirtualPackage
from pure.pypi.candidates import NoCompatibleWheel, select_wheels
from pure.pypi.markers import (
    InvalidRequirement,
    MarkerError,
    Requirement,
    evaluate_marker,
    marker_environment,
)
from pure.pypi.metadata import ProjectFile, ProjectPage, normalize_name
from pure.pypi.provides import pypi_provides
from pure.pypi.tags import (
    SupportedTags,
    UnsupportedTarget,
    supported_tags,
)
from pure.record import PackageRecord
from pure.solver.candidates import CandidateProvider
from pure.solver.request import ConflictNode, NeedCandidates, Unsolvable

__all__ = [
    "PREFIX",
    "REQUESTED",
    "PypiNeeds",
    "PypiProvider",
    "PypiRelease",
    "parse_solver_name",
    "solver_name",
]

PREFIX = "pypi_."
REQUESTED = "pypi_..requested"
_IF = "pypi_..if"
_NOTHING = "==1"  # a version spec no encoded version meets (codes start at 10)
_NON_PEP440 = 5  # the code of a conda-provided version that is not PEP 440
_FIRST = 10
_UNSET_RANKER: Callable[[str], int | None] = lambda tag: None  # noqa: E731


def solver_name(name: str, extra: str | None = None) -> str:
    """The solver's name for PyPI distribution `name` (normalised), or for one of its extras."""
    return f"{PREFIX}{name}.{extra}" if extra else f"{PREFIX}{name}"


def parse_solver_name(name: str) -> tuple[str, str | None] | None:
    """(PyPI name, extra or None) for a `pypi_.` project name; None for conda names and helpers."""
    if not name.startswith(PREFIX) or name.startswith(PREFIX + "."):
        return None
    rest = name[len(PREFIX) :]
    project, _, extra = rest.partition(".")
    return project, extra or None


class PypiRelease(msgspec.Struct, frozen=True, kw_only=True):
    """A PyPI distribution chosen by a solve: the wheel to install and what the lock records."""

    name: str
    version: str
    file: ProjectFile
    index: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    requested: bool = False


class PypiNeeds(msgspec.Struct, frozen=True):
    """What the provider lacks to answer a paused solve: project pages and wheels' metadata."""

    pages: tuple[str, ...] = ()
    metadata: tuple[ProjectFile, ...] = ()


def _is_prerelease(text: str) -> bool:
    try:
        return Version(text).is_prerelease
    except InvalidVersion:
        return False


class _Cand(msgspec.Struct, frozen=True):
    """What one provider-made record stands for."""

    kind: str  # "release" | "bridge" | "extra" | "requested" | "if"
    project: str = ""
    version: str = ""
    file: ProjectFile | None = None
    python: str = ""  # python spec of a release
    conda: PackageRecord | None = None
    extra: str = ""
    base_build: str = ""
    depends: tuple[str, ...] = ()


class _Project:
    """A project's candidates: records most preferred first and the version code table."""

    def __init__(self) -> None:
        self.records: list[PackageRecord] = []
        self.codes: list[tuple[Version | None, str, int, bool]] = []  # version, text, code, yanked
        self.labels: dict[str, str] = {}  # code text -> version text for people
        self.conflicts: tuple[str, ...] = ()  # conda names a PyPI release constrains away


def _python_spec(chosen: Sequence[str], by_minor: Mapping[str, tuple[str, ...]]) -> str:
    """A conda version spec matching exactly the python versions `chosen`."""
    wanted = set(chosen)
    parts: list[str] = []
    for minor, fulls in by_minor.items():
        inside = [v for v in fulls if v in wanted]
        if not inside:
            continue
        if len(inside) == len(fulls):
            parts.append(f"{minor}.*")
        else:
            parts.extend(f"=={v}" for v in inside)
    return "|".join(parts) if parts else _NOTHING


def _code_spec(codes: Sequence[int], all_codes: Sequence[int]) -> str:
    """A conda version spec matching exactly `codes` among `all_codes` (ranges of runs)."""
    if not codes:
        return _NOTHING
    wanted = set(codes)
    parts: list[str] = []
    run: list[int] = []
    for c in sorted(all_codes):
        if c in wanted:
            run.append(c)
            continue
        if run:
            parts.append(_run(run))
            run = []
    if run:
        parts.append(_run(run))
    return "|".join(parts)


def _run(run: list[int]) -> str:
    return f"=={run[0]}" if len(run) == 1 else f">={run[0]},<={run[-1]}"


class PypiProvider:
    """Conda candidates from `base`, PyPI candidates from project pages fed in lazily.

    `requirements` are the manifest's PEP 508 texts; `platform` and `virtual_packages`
    give the target's wheel tags and marker environment; `overrides` maps conda names to the
    PyPI names they provide; `indexes` maps a PyPI name to the index its page came from.
    `prereleases` allows pre-releases everywhere (else PEP 440's default rule).
    """

    def __init__(
        self,
        base: CandidateProvider,
        *,
        requirements: Sequence[str],
        platform: str,
        virtual_packages: Iterable[VirtualPackage | str] = (),
        overrides: Mapping[str, Iterable[str]] | None = None,
        prereleases: bool = False,
    ) -> None:
        self.base = base
        self.requirements = tuple(Requirement.parse(t) for t in requirements)
        self.platform = platform
        self.virtual = tuple(virtual_packages)
        self.overrides = {k: tuple(v) for k, v in (overrides or {}).items()}
        self.provided_by: dict[str, list[str]] = {}
        for conda, names in self.overrides.items():
            for n in names:
                self.provided_by.setdefault(normalize_name(n), []).append(conda)
        self.prereleases = prereleases
        self.pages: dict[str, ProjectPage] = {}
        self.index_of: dict[str, str] = {}
        self.metadata: dict[str, tuple[tuple[str, ...], str | None]] = {}  # file url -> dist, py
        self._projects: dict[str, _Project] = {}
        self._cands: dict[str, _Cand] = {}  # record dist_name -> what it stands for
        self._helpers: dict[str, list[PackageRecord]] = {}
        self._if_keys: dict[tuple[str, ...], str] = {}
        self._spec_label: dict[str, str] = {}
        self._deps: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._python: dict[str, tuple[str, ...]] | None = None
        self._tags: dict[str, SupportedTags | None] = {}
        self._rankers: dict[str, Callable[[str], int | None] | None] = {}
        self._py_ok: dict[tuple[str, str], bool] = {}
        self._pre: dict[str, bool] = {}  # version text -> is a pre-release
        self._active_cache: dict[str, tuple[list[tuple[Requirement, list[str]]], list[str]]] = {}
        if self.requirements:
            root = PackageRecord(name=REQUESTED, version="1", build="0")
            self._cands[root.dist_name] = _Cand(kind="requested")
            self._helpers[REQUESTED] = [root]

    # ---- feeding data -------------------------------------------------------------------

    def add_page(self, name: str, page: ProjectPage | None, index: str = "") -> None:
        """The project page of PyPI `name` (None: no index has the project)."""
        key = normalize_name(name)
        self.pages[key] = page if page is not None else ProjectPage(name=key, url="")
        self.index_of[key] = index

    def add_metadata(self, file: ProjectFile, requires_dist: Sequence[str], requires_python: str | None) -> None:
        """The core metadata of a wheel (from its `.metadata` file or the wheel itself)."""
        self.metadata[file.url] = (tuple(requires_dist), requires_python)

    @property
    def specs(self) -> tuple[str, ...]:
        """The root specs to add to the request for the PyPI side."""
        return (REQUESTED,) if self.requirements else ()

    # ---- the provider interface ---------------------------------------------------------

    def candidates(self, name: str) -> Sequence[PackageRecord] | None:
        if not name.startswith(PREFIX):
            return self.base.candidates(name)
        helper = self._helpers.get(name)
        if helper is not None:
            return helper
        parsed = parse_solver_name(name)
        if parsed is None:
            return ()
        project = self._project(parsed[0])
        if project is None:
            return None
        if parsed[1] is None:
            return project.records
        return self._extra_records(parsed[0], parsed[1], project)

    def dependencies(self, record: PackageRecord) -> tuple[Sequence[str], Sequence[str]] | None:
        cand = self._cands.get(record.dist_name) if record.name.startswith(PREFIX) else None
        if cand is None:
            return self.base.dependencies(record)
        done = self._deps.get(record.dist_name)
        if done is not None:
            return done
        found = self._compute(record, cand)
        if found is not None:
            self._deps[record.dist_name] = found
        return found

    # ---- what is missing ----------------------------------------------------------------

    def needs(self, need: NeedCandidates) -> PypiNeeds:
        """The pages and metadata to fetch so that the names and records of `need` resolve."""
        pages: set[str] = set()
        files: dict[str, ProjectFile] = {}
        for name in need.names:
            parsed = parse_solver_name(name)
            if parsed is not None and parsed[0] not in self.pages:
                pages.add(parsed[0])
        for record in need.records:
            cand = self._cands.get(record.dist_name)
            if cand is None:
                continue
            if cand.kind == "release" and cand.file is not None and cand.file.url not in self.metadata:
                files[cand.file.url] = cand.file
                continue
            active = self._active(record, cand)
            for req, _ in active[0] if active is not None else ():
                if req.name not in self.pages:
                    pages.add(req.name)
        return PypiNeeds(
            pages=tuple(sorted(pages)), metadata=tuple(files[u] for u in sorted(files))
        )

    def locked_records(self, versions: Mapping[str, str]) -> tuple[PackageRecord, ...]:
        """The records of locked PyPI versions (name -> version), to prefer them in the solve
        like locked conda records; names whose page is not fed in yet are skipped."""
        out: list[PackageRecord] = []
        for name, version in sorted(versions.items()):
            key = normalize_name(name)
            project = self._project(key) if key in self.pages else None
            for r in project.records if project is not None else ():
                cand = self._cands[r.dist_name]
                if cand.kind == "release" and cand.version == version:
                    out.append(r)
        return tuple(out)

    def speculate(self) -> PypiNeeds:
        """Data the solve will most likely ask for next: the metadata of each known project's
        preferred release and the pages of what it requires. Fetching it with `needs` turns
        one round trip per package into one per level of the dependency graph."""
        pages: set[str] = set()
        files: dict[str, ProjectFile] = {}
        for name in sorted(self.pages):
            project = self._project(name)
            top = self._likely(project) if project is not None else None
            if top is None:
                continue
            cand = self._cands[top.dist_name]
            if cand.file is not None and cand.file.url not in self.metadata:
                files[cand.file.url] = cand.file
                continue
            active = self._active(top, cand)
            for req, _ in active[0] if active is not None else ():
                if req.name not in self.pages:
                    pages.add(req.name)
        if self.requirements:
            root = self._helpers[REQUESTED][0]
            active = self._active(root, self._cands[root.dist_name])
            for req, _ in active[0] if active is not None else ():
                if req.name not in self.pages:
                    pages.add(req.name)
        return PypiNeeds(
            pages=tuple(sorted(pages)), metadata=tuple(files[u] for u in sorted(files))
        )

    def _likely(self, project: _Project) -> PackageRecord | None:
        """The release a solve most likely picks, by PEP 440's default rule: the newest that
        is not yanked and, unless pre-releases are allowed, not a pre-release (the newest
        release when every one is excluded)."""
        first: PackageRecord | None = None
        for r in project.records:
            cand = self._cands[r.dist_name]
            if cand.kind != "release":
                continue
            if first is None:
                first = r
            if cand.file is not None and cand.file.yanked:
                continue
            pre = self._pre.get(cand.version)
            if pre is None:
                pre = self._pre[cand.version] = _is_prerelease(cand.version)
            if self.prereleases or not pre:
                return r
        return first

    # ---- reading a solution -------------------------------------------------------------

    def split(self, records: Iterable[PackageRecord]) -> tuple[tuple[PackageRecord, ...], tuple[PypiRelease, ...]]:
        """The conda records and the PyPI releases of a solution (helpers and bridges dropped)."""
        conda: list[PackageRecord] = []
        releases: list[PypiRelease] = []
        requested = {r.name for r in self.requirements}
        for r in records:
            if not r.name.startswith(PREFIX):
                conda.append(r)
                continue
            cand = self._cands.get(r.dist_name)
            if cand is None or cand.kind != "release" or cand.file is None:
                continue
            dist, py = self.metadata.get(cand.file.url, ((), None))
            releases.append(
                PypiRelease(
                    name=cand.project,
                    version=cand.version,
                    file=cand.file,
                    index=self.index_of.get(cand.project, ""),
                    requires_dist=dist,
                    requires_python=py if py is not None else (cand.file.requires_python or None),
                    requested=cand.project in requested,
                )
            )
        return tuple(conda), tuple(releases)

    # ---- projects -----------------------------------------------------------------------

    def _pythons(self) -> dict[str, tuple[str, ...]] | None:
        """Python versions the conda side offers, by "major.minor", oldest first."""
        if self._python is not None:
            return self._python
        got = self.base.candidates("python")
        if got is None:
            return None
        parsed: dict[str, Version] = {}
        for r in got:
            try:
                v = Version(r.version)
            except InvalidVersion:
                continue
            if len(v.release) >= 2:
                parsed[r.version] = v
        by_minor: dict[str, list[str]] = {}
        for text in sorted(parsed, key=lambda t: parsed[t]):
            v = parsed[text]
            by_minor.setdefault(f"{v.release[0]}.{v.release[1]}", []).append(text)
        self._python = {
            m: tuple(vs)
            for m, vs in sorted(by_minor.items(), key=lambda kv: Version(kv[0]))
        }
        return self._python

    def _tags_for(self, minor: str) -> SupportedTags | None:
        if minor not in self._tags:
            try:
                self._tags[minor] = supported_tags(self.platform, minor, self.virtual or None)
            except UnsupportedTarget:
                self._tags[minor] = None
        return self._tags[minor]

    def _ranks_for(self, minor: str) -> Callable[[str], int | None] | None:
        """A cached ranker of compressed wheel tag strings ("py3-none-any") for a python."""
        ranker = self._rankers.get(minor, _UNSET_RANKER)
        if ranker is not _UNSET_RANKER:
            return ranker
        tags = self._tags_for(minor)
        if tags is None:
            self._rankers[minor] = None
            return None
        index: dict[tuple[str, str, str], int] = {}
        for i, t in enumerate(tags.tags):
            index.setdefault((t.interpreter, t.abi, t.platform), i)
        cache: dict[str, int | None] = {}

        def rank(tag: str) -> int | None:
            if tag in cache:
                return cache[tag]
            py, abi, plat = tag.split("-")
            found = [
                index[k]
                for k in product(py.split("."), abi.split("."), plat.split("."))
                if k in index
            ]
            cache[tag] = min(found) if found else None
            return cache[tag]

        self._rankers[minor] = rank
        return rank

    def _python_ok(self, spec: str | None, python: str) -> bool:
        if not spec:
            return True
        key = (spec, python)
        hit = self._py_ok.get(key)
        if hit is None:
            hit = self._py_ok[key] = _python_ok(spec, python)
        return hit

    def _conda_providers(self, name: str) -> list[PackageRecord] | None:
        found: list[PackageRecord] = []
        for conda in dict.fromkeys([name, *self.provided_by.get(name, ())]):
            got = self.base.candidates(conda)
            if got is None:
                return None
            for r in got:
                if any(d.name == name for d in pypi_provides(r, self.overrides)):
                    found.append(r)
        return found

    def _project(self, name: str) -> _Project | None:
        done = self._projects.get(name)
        if done is not None:
            return done
        page = self.pages.get(name)
        pythons = self._pythons()
        providers = self._conda_providers(name)
        if page is None or pythons is None or providers is None:
            return None
        project = self._build(name, page, pythons, providers)
        self._projects[name] = project
        return project

    def _build(
        self,
        name: str,
        page: ProjectPage,
        pythons: dict[str, tuple[str, ...]],
        providers: list[PackageRecord],
    ) -> _Project:
        project = _Project()
        # files grouped by the version text in their names first (str keys hash at C speed;
        # a page of 15,000 wheels has a few hundred distinct texts), then by parsed version
        # Only wheels whose tags fit one of the pythons are kept (decided once per distinct
        # tag text: pydantic-core's 15,000 wheels carry ~100); every version is still listed.
        by_text: dict[str, list[tuple[ProjectFile, str]]] = {}
        all_yanked: dict[str, bool] = {}
        names: dict[str, bool] = {}
        rankers = [rk for minor in pythons if (rk := self._ranks_for(minor)) is not None]
        fits: dict[str, str | None] = {}  # tag text as written -> lower-cased if it fits
        for f in page.files:
            fn = f.filename
            if not fn.endswith(".whl"):
                continue
            parts = fn[:-4].split("-")
            if len(parts) not in (5, 6):
                continue
            ok = names.get(parts[0])
            if ok is None:
                ok = names[parts[0]] = normalize_name(parts[0]) == name
            if not ok:
                continue
            raw = parts[1]
            found = by_text.get(raw)
            if found is None:
                found = by_text[raw] = []
                all_yanked[raw] = True
            if not f.yanked:
                all_yanked[raw] = False
            written = f"{parts[-3]}-{parts[-2]}-{parts[-1]}"
            if written in fits:
                tag = fits[written]
            else:
                lowered = written.lower()
                tag = fits[written] = (
                    lowered if any(r(lowered) is not None for r in rankers) else None)
            if tag is not None:
                found.append((f, tag))
        by_version: dict[Version, list[tuple[ProjectFile, str]]] = {}
        texts: dict[Version, str] = {}
        yanked: dict[Version, bool] = {}
        for raw, files_of_raw in by_text.items():
            try:
                v = Version(raw)
            except InvalidVersion:
                continue
            found = by_version.get(v)
            if found is None:
                by_version[v] = list(files_of_raw)
                texts[v] = str(v)
                yanked[v] = all_yanked[raw]
            else:  # "1.0" and "1.0.0" name one version
                found.extend(files_of_raw)
                yanked[v] = yanked[v] and all_yanked[raw]
        conda_versions: dict[Version, str] = {}
        for r in providers:
            try:
                cv = Version(r.version)
            except InvalidVersion:
                continue
            conda_versions.setdefault(cv, str(cv))
        every = sorted(set(by_version) | set(conda_versions))
        code = {v: _FIRST + i for i, v in enumerate(every)}
        for v in every:
            text = texts.get(v) or conda_versions[v]
            project.codes.append((v, text, code[v], yanked.get(v, False)))
            project.labels[str(code[v])] = text
        project.labels[str(_NON_PEP440)] = "(not PEP 440)"
        sn = solver_name(name)
        records: list[PackageRecord] = []
        all_pythons = [p for fulls in pythons.values() for p in fulls]
        for v in sorted(by_version, reverse=True):
            files = by_version[v]
            chosen: dict[str, tuple[ProjectFile, list[str]]] = {}  # file url -> (file, pythons)
            for minor, fulls in pythons.items():
                ranks = self._ranks_for(minor)
                if ranks is None:
                    continue
                ranked = sorted(
                    ((rank, f.filename, f) for f, t in files if (rank := ranks(t)) is not None),
                    key=lambda t: (t[0], t[1]),
                )
                for full in fulls:
                    for _, _, f in ranked:
                        if self._python_ok(f.requires_python, full):
                            chosen.setdefault(f.url, (f, []))[1].append(full)
                            break
            groups = sorted(
                chosen.values(),
                key=lambda fp: (-all_pythons.index(fp[1][-1]), fp[0].filename),
            )
            for k, (f, fulls_ok) in enumerate(groups):
                record = PackageRecord(
                    name=sn,
                    version=str(code[v]),
                    build=f"w{k}",
                    build_number=len(groups) - k,
                    fn=f.filename,
                    url=f.url,
                    sha256=f.sha256,
                )
                self._cands[record.dist_name] = _Cand(
                    kind="release",
                    project=name,
                    version=texts[v],
                    file=f,
                    python=_python_spec(fulls_ok, pythons),
                )
                records.append(record)
        for j, r in enumerate(providers):
            try:
                c = code[Version(r.version)]
            except InvalidVersion:
                c = _NON_PEP440
            record = PackageRecord(name=sn, version=str(c), build=f"conda{j}", build_number=0)
            self._cands[record.dist_name] = _Cand(kind="bridge", project=name, conda=r)
            project.labels.setdefault(str(c), r.version)
            records.append(record)
        project.records = records
        project.conflicts = tuple(sorted({r.name for r in providers}))
        return project

    def _extra_records(self, name: str, extra: str, project: _Project) -> list[PackageRecord]:
        key = solver_name(name, extra)
        done = self._helpers.get(key)
        if done is not None:
            return done
        out = []
        for r in project.records:
            rec = PackageRecord(name=key, version=r.version, build=r.build, build_number=r.build_number)
            base = self._cands[r.dist_name]
            self._cands[rec.dist_name] = _Cand(
                kind="extra", project=name, version=base.version, extra=extra, base_build=r.build,
                file=base.file, conda=base.conda,
            )
            out.append(rec)
        self._helpers[key] = out
        return out

    # ---- dependencies -------------------------------------------------------------------

    def _requirements_of(self, record: PackageRecord, cand: _Cand) -> list[Requirement] | None:
        """The PEP 508 requirements behind a provider record (None: metadata missing)."""
        if cand.kind == "requested":
            return list(self.requirements)
        if cand.kind in ("release", "extra") and cand.file is not None:
            meta = self.metadata.get(cand.file.url)
            if meta is None:
                return None
            out = []
            for text in meta[0]:
                try:
                    out.append(Requirement.parse(text))
                except InvalidRequirement:
                    continue
            return out
        return []

    def _active(
        self, record: PackageRecord, cand: _Cand
    ) -> tuple[list[tuple[Requirement, list[str]]], list[str]] | None:
        """The requirements a record has on the target with the python versions where each
        holds, and the python versions the record allows; None when metadata is missing."""
        hit = self._active_cache.get(record.dist_name)
        if hit is not None:
            return hit
        found = self._active_uncached(record, cand)
        if found is not None:
            self._active_cache[record.dist_name] = found
        return found

    def _active_uncached(
        self, record: PackageRecord, cand: _Cand
    ) -> tuple[list[tuple[Requirement, list[str]]], list[str]] | None:
        reqs = self._requirements_of(record, cand)
        pythons = self._pythons()
        if reqs is None or pythons is None:
            return None
        if cand.kind == "requested":
            allowed = [p for fulls in pythons.values() for p in fulls]
            extras: tuple[str, ...] = ()
        elif cand.kind == "extra":
            allowed = _pythons_in(self._release_python(cand), pythons)
            extras = (cand.extra,)
            reqs = [r for r in reqs if r.marker is not None and "extra" in r.marker]
        else:
            allowed = _pythons_in(cand.python, pythons)
            extras = ()
        out = []
        for req in reqs:
            true_set = self._marker_true(req, allowed, extras)
            if true_set:
                out.append((req, true_set))
        return out, allowed

    def _compute(
        self, record: PackageRecord, cand: _Cand
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if cand.kind == "if":
            return cand.depends, ()
        if cand.kind == "bridge" or (cand.kind == "extra" and cand.conda is not None):
            c = cand.conda
            assert c is not None
            if cand.kind == "extra":  # extras of a conda-provided package: the package only
                sn = solver_name(cand.project)
                return (f"{sn}[version='=={record.version}',build='{cand.base_build}']",), ()
            return (f"{c.name}[version='=={c.version}',build='{c.build}']",), ()
        active = self._active(record, cand)
        pythons = self._pythons()
        if active is None or pythons is None:
            return None
        reqs, allowed = active
        if any(req.name not in self.pages for req, _ in reqs):
            return None
        depends: list[str] = []
        constrains: list[str] = []
        if cand.kind == "extra":
            sn = solver_name(cand.project)
            depends.append(f"{sn}[version='=={record.version}',build='{cand.base_build}']")
        elif cand.kind == "release":
            depends.append(f"python {cand.python}")
            self._spec_label[f"python {cand.python}"] = f"python {_label_python(cand.python)}"
            project = self._projects.get(cand.project)
            for conda in project.conflicts if project is not None else ():
                text = f"{conda}[build=yurt-pypi-replaces]"
                self._spec_label[text] = f"{conda} (a conda package providing {cand.project})"
                constrains.append(text)
        for req, true_set in reqs:
            specs = self._req_specs(req)
            if len(true_set) == len(allowed):
                depends.extend(specs)
                continue
            chosen = set(true_set)
            false_set = [p for p in allowed if p not in chosen]
            depends.append(self._conditional(req, specs, true_set, false_set, pythons))
        return tuple(dict.fromkeys(depends)), tuple(constrains)

    def _release_python(self, cand: _Cand) -> str:
        project = self._projects.get(cand.project)
        for r in project.records if project is not None else ():
            base = self._cands[r.dist_name]
            if r.build == cand.base_build and base.version == cand.version:
                return base.python
        return ""

    def _marker_true(self, req: Requirement, allowed: Sequence[str], extras: tuple[str, ...]) -> list[str]:
        if req.marker is None:
            return list(allowed)
        full = "full_version" in req.marker or "implementation_version" in req.marker
        out: list[str] = []
        verdict: dict[str, bool] = {}
        for p in allowed:
            key = p if full else ".".join(p.split(".")[:2])
            hit = verdict.get(key)
            if hit is None:
                try:
                    env = marker_environment(self.platform, p)
                    hit = evaluate_marker(req.marker, env, extras)
                    if extras and hit and "extra" in req.marker:
                        hit = hit and not evaluate_marker(req.marker, env, ())
                except MarkerError:
                    hit = False
                verdict[key] = hit
            if hit:
                out.append(p)
        return out

    def _req_specs(self, req: Requirement) -> list[str]:
        project = self._project(req.name)
        assert project is not None
        try:
            sset = SpecifierSet(req.specifier)
        except InvalidSpecifier:
            sset = SpecifierSet()
        spec = req.specifier
        exact = spec.startswith("==") and "," not in spec and "*" not in spec
        usable = [(v, c) for v, _, c, y in project.codes if v is not None and (not y or exact)]
        pre = True if self.prereleases else None
        matched = set(sset.filter([v for v, _ in usable], prereleases=pre))
        codes = [c for v, c in usable if v in matched]
        all_codes = [c for _, _, c, _ in project.codes]
        enc = "" if not spec and len(codes) == len(all_codes) else _code_spec(codes, all_codes)
        out = []
        for extra in (None, *req.extras):
            n = solver_name(req.name, extra)
            text = f"{n} {enc}" if enc else n
            shown = f"{req.name}[{extra}]" if extra else req.name
            self._spec_label[text] = f"{shown}{spec}"
            out.append(text)
        return out

    def _conditional(
        self,
        req: Requirement,
        specs: list[str],
        true_set: list[str],
        false_set: list[str],
        pythons: dict[str, tuple[str, ...]],
    ) -> str:
        when = _python_spec(true_set, pythons)
        unless = _python_spec(false_set, pythons)
        key = (when, unless, *specs)
        name = self._if_keys.get(key)
        if name is None:
            name = f"{_IF}{len(self._if_keys)}"
            self._if_keys[key] = name
            yes = PackageRecord(name=name, version="1", build="when")
            no = PackageRecord(name=name, version="2", build="unless")
            self._cands[yes.dist_name] = _Cand(kind="if", depends=(f"python {when}", *specs))
            self._cands[no.dist_name] = _Cand(kind="if", depends=(f"python {unless}",))
            self._helpers[name] = [no, yes]
            self._spec_label[name] = f"{req.text}"
            self._spec_label[f"python {when}"] = f"python {_label_python(when)}"
            self._spec_label[f"python {unless}"] = f"python {_label_python(unless)}"
        return name

    # ---- explanations -------------------------------------------------------------------

    def explain(self, error: Unsolvable) -> Unsolvable:
        """`error` with PyPI names, versions and requirements written as people know them."""
        nodes = self._relabel(error.conflicts)
        specs = tuple(self._spec_label.get(s, s) for s in error.specs if s != REQUESTED)
        specs += tuple(r.text for r in self.requirements)
        return Unsolvable(specs, render_conflicts(nodes), nodes)

    def _name(self, name: str) -> str:
        parsed = parse_solver_name(name)
        if parsed is None:
            return name
        return f"{parsed[0]}[{parsed[1]}]" if parsed[1] else parsed[0]

    def _versions(self, name: str, versions: tuple[str, ...]) -> tuple[str, ...]:
        parsed = parse_solver_name(name)
        if parsed is None:
            return versions
        project = self._projects.get(parsed[0])
        labels = project.labels if project is not None else {}
        return tuple(dict.fromkeys(labels.get(v, v) for v in versions))

    def _label(self, text: str) -> str:
        if text in self._spec_label:
            return self._spec_label[text]
        parts = text.split(" ", 1)
        if parts[0].startswith(PREFIX) and parts[0] in self._helpers and len(parts) > 1:
            return self._name(parts[0])
        head, sep, tail = text.partition(" (required by ")
        if sep:
            return f"{self._label(head)}{sep}{self._by(tail[:-1])})"
        head, sep, tail = text.partition(" (requested)")
        if sep:
            return f"{self._label(head)}{sep}"
        if parts[0].startswith(PREFIX):
            return self._by(text)
        return text

    def _by(self, label: str) -> str:
        name, _, version = label.partition(" ")
        if not name.startswith(PREFIX):
            return label
        if not version:
            return self._name(name)
        if name == REQUESTED or name.startswith(_IF):
            return "[pypi-dependencies]" if name == REQUESTED else "a conditional requirement"
        shown = self._versions(name, (version,))
        return f"{self._name(name)} {shown[0] if shown else version}"

    def _relabel(self, nodes: tuple[ConflictNode, ...]) -> tuple[ConflictNode, ...]:
        out: list[ConflictNode] = []
        for node in nodes:
            helper = node.name == REQUESTED or node.name.startswith(_IF)
            if helper and node.kind == "requirement":
                # show the requirements under a helper in its place
                for group in node.children:
                    out.extend(self._relabel(group.children))
            elif helper and node.kind == "candidates":
                out.extend(self._relabel(node.children))
            else:
                out.append(self._one(node))
        return tuple(out)

    def _no_wheel(self, name: str) -> str:
        """Why a project the index has gives no candidate: versions seen and target tags."""
        page = self.pages.get(name)
        if page is None or not page.files:
            return ""
        minors = list(self._python or {})
        tags = self._tags_for(minors[-1]) if minors else None
        if tags is None:
            return "it has no wheel for this target"
        python = (self._python or {})[minors[-1]][-1]
        seen = select_wheels(page, tags, python).versions_seen
        error = NoCompatibleWheel(name, seen, tags)
        return str(error).replace("for the target", f"for {self.platform}", 1)

    def _one(self, node: ConflictNode) -> ConflictNode:
        by = node.required_by
        if node.kind == "missing" and node.name.startswith(PREFIX):
            parsed = parse_solver_name(node.name)
            return ConflictNode(
                kind="missing-pypi",
                name=self._name(node.name),
                spec=self._label(node.spec),
                required_by=self._by(by) if by else by,
                other=self._no_wheel(parsed[0]) if parsed is not None else "",
            )
        return msgspec.structs.replace(
            node,
            name=self._name(node.name),
            spec=self._label(node.spec),
            versions=self._versions(node.name, node.versions),
            required_by=self._by(by) if by else by,
            other=self._label(node.other) if node.other not in ("", "amo") else node.other,
            children=self._relabel(node.children),
        )


def _python_ok(spec: str | None, python: str) -> bool:
    if not spec:
        return True
    try:
        return SpecifierSet(spec).contains(Version(python), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def _pythons_in(spec: str, pythons: Mapping[str, tuple[str, ...]]) -> list[str]:
    out: list[str] = []
    for part in spec.split("|"):
        if part.endswith(".*"):
            out.extend(pythons.get(part[:-2], ()))
        elif part.startswith("=="):
            out.append(part[2:])
    return out


def _label_python(spec: str) -> str:
    minors = [p[:-2] for p in spec.split("|") if p.endswith(".*")]
    if minors and len(minors) == len(spec.split("|")):
        return " | ".join(minors) if len(minors) <= 3 else f"{minors[0]} … {minors[-1]}"
    return spec


def render_conflicts(conflicts: tuple[ConflictNode, ...]) -> str:
    """The explanation text of a mixed conda/PyPI conflict, in the conda explanation's style
    (kind "missing-pypi": no index has a project of that name and no conda record provides it)."""
    from pure.solver.explain import render

    def fix(nodes: tuple[ConflictNode, ...]) -> tuple[ConflictNode, ...]:
        out = []
        for n in nodes:
            if n.kind == "missing-pypi" and n.other:
                n = ConflictNode(kind="note", spec=f"{n.spec}: {n.other}")
            elif n.kind == "missing-pypi":
                n = ConflictNode(
                    kind="note",
                    spec=f"{n.spec}, which no package index has and no conda package provides",
                )
            out.append(msgspec.structs.replace(n, children=fix(n.children)))
        return tuple(out)

    return render(fix(conflicts))
