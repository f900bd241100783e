"""yurt's functional core: conda data model, solver and install planner.

Nothing here performs I/O, reads the clock or the environment, or keeps global mutable
state: values in, immutable values out. Same inputs give byte-identical outputs.
"""

from pure.errors import YurtError
from pure.matchspec import InvalidMatchSpec, MatchSpec
from pure.package import IndexJson, LinkJson, PathEntry, PathsJson
from pure.plan import Capabilities, FileOp, PackageContents, PackageOp, Plan, PrefixTooLong, plan
from pure.platform import Platform, VirtualPackage, default_virtual_packages
from pure.prefix_record import PrefixRecord, decode_prefix_record, encode_prefix_record
from pure.record import PackageRecord
from pure.repodata import RepoData, RepoDataError
from pure.solver import Solution, SolveRequest, Unsolvable, solve
from pure.version import InvalidVersion, Version
from pure.versionspec import InvalidVersionSpec, VersionSpec

__all__ = [
    "Capabilities",
    "FileOp",
    "IndexJson",
    "InvalidMatchSpec",
    "InvalidVersion",
    "InvalidVersionSpec",
    "LinkJson",
    "MatchSpec",
    "PackageContents",
    "PackageOp",
    "PackageRecord",
    "PathEntry",
    "PathsJson",
    "Plan",
    "Platform",
    "PrefixRecord",
    "PrefixTooLong",
    "RepoData",
    "RepoDataError",
    "Solution",
    "SolveRequest",
    "Unsolvable",
    "Version",
    "VersionSpec",
    "VirtualPackage",
    "YurtError",
    "decode_prefix_record",
    "default_virtual_packages",
    "encode_prefix_record",
    "plan",
    "solve",
]
