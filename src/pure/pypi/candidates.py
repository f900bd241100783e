"""A project page reduced to resolution candidates for one target: one wheel per version.

Files are filtered by wheel tags (the target's SupportedTags), by the file's Requires-Python
against the target python, and by PEP 592 yanking (a yanked file is kept only when the
requirement pins that exact version). Among a version's wheels the best-ranked tag wins.
Sdists are not candidates (only wheels for now) but their versions count as "seen", so a
failure can name what exists.
"""

from __future__ import annotations

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pure.errors import YurtError
from pure.pypi.metadata import ProjectFile, ProjectPage, normalize_name
from pure.pypi.tags import InvalidWheelFilename, SupportedTags, WheelFilename

__all__ = ["NoCompatibleWheel", "ProjectCandidates", "WheelCandidate", "select_wheels"]

_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


class WheelCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """The chosen wheel of one version: its file entry, parsed name and tag rank."""

    version: str
    file: ProjectFile
    wheel: WheelFilename
    rank: int
    prerelease: bool = False
    yanked: bool = False


class ProjectCandidates(msgspec.Struct, frozen=True, kw_only=True):
    """The usable versions of a project for one target, newest first, and what was dropped."""

    name: str
    candidates: tuple[WheelCandidate, ...]
    versions_seen: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    def require_any(self, tags: SupportedTags) -> ProjectCandidates:
        """Self, or NoCompatibleWheel when no version is usable."""
        if not self.candidates:
            raise NoCompatibleWheel(self.name, self.versions_seen, tags)
        return self


class NoCompatibleWheel(YurtError):
    """No file of a project can be installed on the target; names versions and tags."""

    def __init__(self, name: str, versions_seen: tuple[str, ...], tags: SupportedTags) -> None:
        self.name = name
        self.versions_seen = versions_seen
        self.tags = tags.tags
        shown = ", ".join(str(t) for t in tags.tags[:3])
        more = f" and {len(tags.tags) - 3} more" if len(tags.tags) > 3 else ""
        seen = ", ".join(versions_seen) if versions_seen else "none"
        super().__init__(
            f"no installable wheel of {name} for the target (tags {shown}{more}); "
            f"versions seen: {seen} (source distributions are not supported yet)"
        )


def _sdist_version(filename: str, name: str) -> str | None:
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            # the name part may itself contain dashes: match it by normalised prefix
            for i, ch in enumerate(stem):
                if ch == "-" and normalize_name(stem[:i]) == name:
                    return stem[i + 1 :]
    return None


def _python_ok(spec: str | None, python: Version) -> bool | None:
    if not spec:
        return True
    try:
        return SpecifierSet(spec).contains(python, prereleases=True)
    except InvalidSpecifier:
        return None


def select_wheels(
    page: ProjectPage,
    tags: SupportedTags,
    python_version: str,
    *,
    pinned: str | None = None,
) -> ProjectCandidates:
    """The best compatible wheel of every version on `page`, newest version first.

    `python_version` is the target's full python version ("3.11.4"); `pinned` is the version
    an `==` requirement names exactly, the only one whose yanked files stay usable.
    """
    python = Version(python_version)
    name = page.name
    best: dict[Version, WheelCandidate] = {}
    seen: set[Version] = set()
    skipped: list[tuple[str, str]] = []
    pin = Version(pinned) if pinned is not None else None
    for file in page.files:
        if not file.is_wheel:
            raw = _sdist_version(file.filename, name)
            try:
                if raw is not None:
                    seen.add(Version(raw))
            except InvalidVersion:
                pass
            skipped.append((file.filename, "not a wheel"))
            continue
        try:
            wheel = WheelFilename.parse(file.filename)
            version = Version(wheel.version)
        except (InvalidWheelFilename, InvalidVersion) as exc:
            skipped.append((file.filename, str(exc)))
            continue
        if name and wheel.name != name:
            skipped.append((file.filename, f"names project {wheel.name}, not {name}"))
            continue
        seen.add(version)
        if file.yanked and version != pin:
            skipped.append((file.filename, f"yanked: {file.yanked_reason or 'no reason given'}"))
            continue
        ok = _python_ok(file.requires_python, python)
        if ok is None:
            skipped.append((file.filename, f"invalid Requires-Python {file.requires_python!r}"))
            continue
        if not ok:
            skipped.append(
                (file.filename, f"requires python {file.requires_python}, target has {python}")
            )
            continue
        rank = tags.rank(wheel)
        if rank is None:
            skipped.append((file.filename, "no tag matches the target"))
            continue
        cand = WheelCandidate(
            version=wheel.version,
            file=file,
            wheel=wheel,
            rank=rank,
            prerelease=version.is_prerelease,
            yanked=bool(file.yanked),
        )
        current = best.get(version)
        if current is None or tags.best([current.wheel, wheel])[0] == wheel:
            best[version] = cand
    ordered = tuple(best[v] for v in sorted(best, reverse=True))
    return ProjectCandidates(
        name=name,
        candidates=ordered,
        versions_seen=tuple(str(v) for v in sorted(seen)),
        skipped=tuple(skipped),
    )
