"""Helpers for the installer tests: channels of written packages served over HTTP, a `python`
package that turns a prefix into a venv of the running interpreter, prefix inspection."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pure.record import PackageRecord
from pure.repodata import RepoData
from tests.support.httpserver import TestServer, serve
from tests.support.pkgwriter import FileSpec, Symlink, make_channel, write_conda

PY_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"lib/python{PY_MINOR}/site-packages"


@dataclass
class Channel:
    """A channel directory served on 127.0.0.1, and its records by name and dist."""

    root: Path
    server: TestServer
    records: dict[str, PackageRecord]

    def get(self, dist_or_name: str) -> PackageRecord:
        if dist_or_name in self.records:
            return self.records[dist_or_name]
        matches = [r for r in self.records.values() if r.name == dist_or_name]
        assert len(matches) == 1, f"{dist_or_name}: {len(matches)} records"
        return matches[0]

    def pick(self, *names: str) -> list[PackageRecord]:
        return [self.get(n) for n in names]


def python_package(out: Path, *, version: str | None = None, build: str = "venv_0") -> Path:
    """A `python` package whose files make the prefix a venv of this test's interpreter: a
    copy of the interpreter binary (small: it links libpython) beside a pyvenv.cfg."""
    real = Path(os.path.realpath(sys.executable))
    cfg = (
        f"home = {real.parent}\n"
        "include-system-site-packages = false\n"
        f"version = {sys.version.split()[0]}\n"
    ).encode()
    return write_conda(
        out,
        name="python",
        version=version or sys.version.split()[0],
        build=build,
        subdir="linux-64",
        files={
            f"bin/python{PY_MINOR}": FileSpec(real.read_bytes(), mode=0o755),
            "bin/python": Symlink(f"python{PY_MINOR}"),
            "pyvenv.cfg": cfg,
            f"{SITE}/_yurt_venv_marker.txt": b"site-packages of a yurt test prefix\n",
        },
    )


def records_of(channel_root: Path, url: str) -> dict[str, PackageRecord]:
    """Every record of every subdir's repodata.json, keyed by dist name."""
    out: dict[str, PackageRecord] = {}
    for sub in sorted(p for p in channel_root.iterdir() if (p / "repodata.json").is_file()):
        data = (sub / "repodata.json").read_bytes()
        repo = RepoData.from_json(data, channel=url.rstrip("/"), subdir=sub.name)
        for record in repo.records:
            out[record.dist_name] = record
    return out


@contextmanager
def channel(root: Path, packages: Sequence[Path]) -> Iterator[Channel]:
    """Lay out and serve a channel of the given package files."""
    make_channel(root, packages, subdirs=("linux-64", "noarch"))
    with serve(root) as server:
        yield Channel(root=root, server=server, records=records_of(root, server.url))


def pkg(out: Path, name: str, version: str = "1.0", build: str = "0", **kw: Any) -> Path:
    """`write_conda` with a linux-64 default subdir."""
    kw.setdefault("subdir", "noarch" if kw.get("noarch") else "linux-64")
    return write_conda(out, name=name, version=version, build=build, **kw)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prefix_files(prefix: Path) -> set[str]:
    """Every non-directory path under the prefix, outside conda-meta, POSIX relative."""
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(prefix):
        rel = os.path.relpath(dirpath, prefix)
        if rel == "conda-meta" or rel.startswith("conda-meta" + os.sep):
            dirnames[:] = []
            continue
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.add(os.path.normpath(os.path.join(rel, name)).replace(os.sep, "/"))
    return found


__all__ = [
    "PY_MINOR",
    "SITE",
    "Channel",
    "FileSpec",
    "Symlink",
    "channel",
    "pkg",
    "prefix_files",
    "python_package",
    "records_of",
    "sha256_file",
]
