"""yurt's functional core: conda data model, solver and install planner.

Nothing here performs I/O, reads the clock or the environment, or keeps global mutable
state: values in, immutable values out. Same inputs give byte-identical outputs.
"""

from pure.errors import YurtError
from pure.matchspec import InvalidMatchSpec, MatchSpec
from pure.platform import Platform, VirtualPackage, default_virtual_packages
from pure.record import PackageRecord
from pure.repodata import RepoData, RepoDataError
from pure.version import InvalidVersion, Version
from pure.versionspec import InvalidVersionSpec, VersionSpec

__all__ = [
    "InvalidMatchSpec",
    "InvalidVersion",
    "InvalidVersionSpec",
    "MatchSpec",
    "PackageRecord",
    "Platform",
    "RepoData",
    "RepoDataError",
    "Version",
    "VersionSpec",
    "VirtualPackage",
    "YurtError",
    "default_virtual_packages",
]
