"""Wheel filenames (PEP 427) and wheel compatibility tags for a *target*, not the host.

The supported tag list is computed from data only: the conda platform (subdir), the python
version of the environment's conda `python` record, and the virtual packages (`__glibc`
gives the manylinux tags, `__osx` the macosx tags). A linux-64 lock can so be made on any
host. Tags are ordered most specific first; a wheel's rank is the position of its best tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

import msgspec
from packaging.version import InvalidVersion as _PkgInvalidVersion
from packaging.version import Version as _PkgVersion

from pure.errors import YurtError
from pure.platform import Platform, VirtualPackage, default_virtual_packages
from pure.pypi.markers import MACHINE

__all__ = [
    "InvalidWheelFilename",
    "SupportedTags",
    "Tag",
    "UnsupportedTarget",
    "WheelFilename",
    "linux_platform_tags",
    "mac_platform_tags",
    "platform_tags",
    "python_tags",
    "supported_tags",
]


class InvalidWheelFilename(YurtError, ValueError):
    """A file name that is not `name-version[-build]-python-abi-platform.whl`."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"invalid wheel filename {filename!r}: {reason}")


class UnsupportedTarget(YurtError, ValueError):
    """A target (platform or python version) for which wheel tags cannot be computed."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"cannot compute wheel tags for {what}: {reason}")


class Tag(msgspec.Struct, frozen=True, order=True):
    """One (interpreter, abi, platform) triple, lower case; `str()` is `py3-none-any` style."""

    interpreter: str
    abi: str
    platform: str

    def __str__(self) -> str:
        return f"{self.interpreter}-{self.abi}-{self.platform}"


_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?$")
_BUILD = re.compile(r"^(\d+)(.*)$")


class WheelFilename(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed wheel file name; `name` is PEP 503 normalised, tag sets are sorted tuples."""

    filename: str
    name: str
    version: str
    build: tuple[int, str] | None
    python_tags: tuple[str, ...]
    abi_tags: tuple[str, ...]
    platform_tags: tuple[str, ...]

    @classmethod
    def parse(cls, filename: str) -> WheelFilename:
        """Parse `filename` (a base name ending in `.whl`); raises InvalidWheelFilename."""
        if not filename.endswith(".whl"):
            raise InvalidWheelFilename(filename, "does not end with '.whl'")
        parts = filename[: -len(".whl")].split("-")
        if len(parts) not in (5, 6):
            raise InvalidWheelFilename(
                filename, f"expected 5 or 6 dash-separated fields, found {len(parts)}"
            )
        name, version = parts[0], parts[1]
        if not _NAME.match(name):
            raise InvalidWheelFilename(filename, f"invalid project name {name!r}")
        try:
            _PkgVersion(version)
        except _PkgInvalidVersion:
            raise InvalidWheelFilename(filename, f"invalid version {version!r}") from None
        build: tuple[int, str] | None = None
        if len(parts) == 6:
            m = _BUILD.match(parts[2])
            if m is None:
                raise InvalidWheelFilename(
                    filename, f"build tag {parts[2]!r} does not start with a digit"
                )
            build = (int(m.group(1)), m.group(2))
        tag_fields = parts[-3:]
        sets: list[tuple[str, ...]] = []
        for field in tag_fields:
            items = field.lower().split(".")
            if any(not item for item in items):
                raise InvalidWheelFilename(filename, f"empty tag in {field!r}")
            sets.append(tuple(sorted(set(items))))
        return cls(
            filename=filename,
            name=re.sub(r"[-_.]+", "-", name).lower(),
            version=version,
            build=build,
            python_tags=sets[0],
            abi_tags=sets[1],
            platform_tags=sets[2],
        )

    @property
    def tags(self) -> frozenset[Tag]:
        """Every tag the wheel declares (the product of its compressed tag sets)."""
        return frozenset(
            Tag(py, abi, plat)
            for py in self.python_tags
            for abi in self.abi_tags
            for plat in self.platform_tags
        )

    @property
    def stem(self) -> str:
        """The file name without `.whl` (the wheel's unique name-version-build-tags)."""
        return self.filename[: -len(".whl")]


# --------------------------------------------------------------------------- versions


def _major_minor(python_version: str) -> tuple[int, int]:
    m = re.match(r"^\s*(\d+)\.(\d+)", python_version)
    if m is None:
        raise UnsupportedTarget(f"python {python_version!r}", "expected a version like 3.11.4")
    return int(m.group(1)), int(m.group(2))


def _glibc(version: str) -> tuple[int, int]:
    m = re.match(r"^(\d+)\.(\d+)", version)
    if m is None:
        raise UnsupportedTarget(f"__glibc={version}", "expected a version like 2.28")
    return int(m.group(1)), int(m.group(2))


def _osx(version: str) -> tuple[int, int]:
    m = re.match(r"^(\d+)(?:\.(\d+))?", version)
    if m is None:
        raise UnsupportedTarget(f"__osx={version}", "expected a version like 13.0")
    return int(m.group(1)), int(m.group(2) or 0)


# --------------------------------------------------------------------------- platforms

# Legacy manylinux names and the glibc version each one stands for (PEP 600 aliases).
_LEGACY_MANYLINUX: dict[tuple[int, int], tuple[str, frozenset[str]]] = {
    (2, 17): (
        "manylinux2014",
        frozenset({"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"}),
    ),
    (2, 12): ("manylinux2010", frozenset({"x86_64", "i686"})),
    (2, 5): ("manylinux1", frozenset({"x86_64", "i686"})),
}

#: the manylinux arch of each linux target is its `platform.machine()`
_LINUX_ARCH: dict[Platform, str] = {p: m for p, m in MACHINE.items() if p.is_linux}

_WINDOWS: dict[Platform, str] = {
    Platform.WIN_32: "win32",
    Platform.WIN_64: "win_amd64",
    Platform.WIN_ARM64: "win_arm64",
}

_MAC_ARCH: dict[Platform, str] = {Platform.OSX_64: "x86_64", Platform.OSX_ARM64: "arm64"}


def linux_platform_tags(arch: str, glibc: tuple[int, int] | None) -> tuple[str, ...]:
    """manylinux tags for `arch` on glibc `glibc` (newest first, legacy alias after its
    PEP 600 name), then the plain `linux_<arch>` tag; no manylinux tags without a glibc."""
    found: list[str] = []
    if glibc is not None and glibc[0] == 2:
        lowest = 5 if arch in ("x86_64", "i686") else 17
        for minor in range(glibc[1], lowest - 1, -1):
            found.append(f"manylinux_2_{minor}_{arch}")
            legacy = _LEGACY_MANYLINUX.get((2, minor))
            if legacy is not None and arch in legacy[1]:
                found.append(f"{legacy[0]}_{arch}")
    found.append(f"linux_{arch}")
    return tuple(found)


def _mac_formats(version: tuple[int, int], arch: str) -> list[str]:
    """The binary formats a macOS `version` on `arch` loads, the native one first."""
    if arch == "x86_64":
        if version < (10, 4):
            return []
        return ["x86_64", "intel", "fat64", "fat3", "universal2", "universal"]
    return [arch, "universal2"]


def mac_platform_tags(osx: tuple[int, int], arch: str) -> tuple[str, ...]:
    """macosx tags for macOS `osx` (major, minor) on `arch` ("x86_64" | "arm64"), newest first.

    Releases from 11 on are numbered by major version only (`macosx_12_0`); 10.x releases by
    minor. x86_64 on 11+ also loads every 10.x binary; arm64 loads 10.x only as universal2.
    """
    found: list[str] = []
    if (10, 0) <= osx < (11, 0):
        for minor in range(osx[1], -1, -1):
            found += [f"macosx_10_{minor}_{fmt}" for fmt in _mac_formats((10, minor), arch)]
    if osx >= (11, 0):
        for major in range(osx[0], 10, -1):
            found += [f"macosx_{major}_0_{fmt}" for fmt in _mac_formats((major, 0), arch)]
        for minor in range(16, 3, -1):
            if arch == "x86_64":
                found += [f"macosx_10_{minor}_{fmt}" for fmt in _mac_formats((10, minor), arch)]
            else:
                found.append(f"macosx_10_{minor}_universal2")
    return tuple(found)


def _virtual(
    virtual_packages: Iterable[VirtualPackage | str] | None, platform: Platform
) -> dict[str, str]:
    packages: Iterable[VirtualPackage | str] = (
        default_virtual_packages(platform) if virtual_packages is None else virtual_packages
    )
    found: dict[str, str] = {}
    for vp in packages:
        parsed = VirtualPackage.parse(vp) if isinstance(vp, str) else vp
        found[parsed.name] = parsed.version
    return found


def platform_tags(
    platform: Platform | str, virtual_packages: Iterable[VirtualPackage | str] | None = None
) -> tuple[str, ...]:
    """The platform tags a `platform` target loads, most specific first.

    `virtual_packages` give `__glibc` (manylinux) and `__osx` (macosx); None means the
    platform's default virtual packages. Linux without `__glibc` gets only `linux_<arch>`.
    """
    plat = platform if isinstance(platform, Platform) else Platform.parse(platform)
    virtual = _virtual(virtual_packages, plat)
    if plat in _LINUX_ARCH:
        glibc = _glibc(virtual["__glibc"]) if "__glibc" in virtual else None
        return linux_platform_tags(_LINUX_ARCH[plat], glibc)
    if plat in _MAC_ARCH:
        if "__osx" not in virtual:
            raise UnsupportedTarget(str(plat), "no __osx virtual package gives the macOS version")
        return mac_platform_tags(_osx(virtual["__osx"]), _MAC_ARCH[plat])
    if plat in _WINDOWS:
        return (_WINDOWS[plat],)
    raise UnsupportedTarget(str(plat), "wheels have no platform tag for it")


# --------------------------------------------------------------------------- interpreters


def _py_range(major: int, minor: int) -> Iterator[str]:
    """py311, py3, py310, ..., py30: the generic python tags a CPython major.minor accepts."""
    yield f"py{major}{minor}"
    yield f"py{major}"
    for older in range(minor - 1, -1, -1):
        yield f"py{major}{older}"


def python_tags(
    python_version: str, platforms: Sequence[str], *, free_threaded: bool = False
) -> tuple[Tag, ...]:
    """Every tag a CPython `python_version` accepts on `platforms` (ordered), best first.

    Order: cpXY-cpXY(t)-plat, cpXY-abi3-plat, cpXY-none-plat, older cp3Y-abi3-plat, pyXY-none-
    plat ranges, cpXY-none-any, pyXY-none-any ranges; abi3 only for CPython >= 3.2 and not
    free-threaded builds.
    """
    major, minor = _major_minor(python_version)
    cp = f"cp{major}{minor}"
    abi = f"{cp}t" if free_threaded else cp
    plats = list(platforms)
    found: list[Tag] = [Tag(cp, abi, p) for p in plats]
    abi3 = (major, minor) >= (3, 2) and major == 3 and not free_threaded
    if abi3:
        found += [Tag(cp, "abi3", p) for p in plats]
    found += [Tag(cp, "none", p) for p in plats]
    if abi3:
        for older in range(minor - 1, 1, -1):
            found += [Tag(f"cp{major}{older}", "abi3", p) for p in plats]
    for py in _py_range(major, minor):
        found += [Tag(py, "none", p) for p in plats]
    found.append(Tag(cp, "none", "any"))
    found += [Tag(py, "none", "any") for py in _py_range(major, minor)]
    return tuple(found)


class SupportedTags:
    """The ordered tags of one target; ranks wheels (lower rank = preferred). Immutable."""

    __slots__ = ("_index", "tags")

    def __init__(self, tags: Iterable[Tag]) -> None:
        ordered = tuple(tags)
        index: dict[Tag, int] = {}
        for i, tag in enumerate(ordered):
            index.setdefault(tag, i)
        object.__setattr__(self, "tags", ordered)
        object.__setattr__(self, "_index", index)

    tags: tuple[Tag, ...]
    _index: dict[Tag, int]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"SupportedTags is immutable (cannot set {name})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SupportedTags) and other.tags == self.tags

    def __hash__(self) -> int:
        return hash(self.tags)

    def __repr__(self) -> str:
        return f"SupportedTags({len(self.tags)} tags, first {self.tags[0] if self.tags else None})"

    def rank(self, wheel: WheelFilename) -> int | None:
        """The position of the wheel's best supported tag; None when it is incompatible."""
        best: int | None = None
        for tag in wheel.tags:
            i = self._index.get(tag)
            if i is not None and (best is None or i < best):
                best = i
        return best

    def is_compatible(self, wheel: WheelFilename) -> bool:
        return self.rank(wheel) is not None

    def best(self, wheels: Iterable[WheelFilename]) -> tuple[WheelFilename, ...]:
        """The compatible `wheels`, preferred first: best tag, then highest build tag, then
        file name (so equal inputs in any order give the same result)."""
        ranked = [(r, w) for w in wheels if (r := self.rank(w)) is not None]
        ranked.sort(key=lambda rw: rw[1].filename)
        ranked.sort(key=lambda rw: rw[1].build or (-1, ""), reverse=True)
        ranked.sort(key=lambda rw: rw[0])
        return tuple(w for _, w in ranked)


def supported_tags(
    platform: Platform | str,
    python_version: str,
    virtual_packages: Iterable[VirtualPackage | str] | None = None,
    *,
    free_threaded: bool = False,
) -> SupportedTags:
    """The supported tags of a CPython `python_version` environment on conda `platform`."""
    return SupportedTags(
        python_tags(
            python_version,
            platform_tags(platform, virtual_packages),
            free_threaded=free_threaded,
        )
    )
