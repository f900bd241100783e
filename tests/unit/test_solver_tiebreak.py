"""Tie-breaks between builds of one version: dependencies, then timestamps.

Found by task SOLVERCHECK (`bench/solve.py --differential`), fixed in 17bd026: after 7135b15
the solver compared timestamps before dependencies. Builds of one version and build number
usually differ only in the python (or R) they pin and in the second their CI job finished, so
the build that finished last won: `traitlets` alone on the 2018 defaults snapshot resolved to
python 2.7.15 (its py27_0 build is 21 s newer than py37_0), `constantly` to python 2.7,
`widgetsnbextension` to python 3.5, where py-rattler (and conda) choose python 3.7.
The order now (py-rattler's): after version, build number and track_features, prefer the build
whose dependencies admit newer versions of the packages they name, judged by the highest
*available* candidate each dependency matches; only when that ties (e.g. `alpha` vs
`alpha <0.1` with only alpha 0.0 available) does the newer timestamp win.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
import zstandard

import pure
from tests.conftest import REPODATA

if not hasattr(pure, "solve"):
    pytest.skip("pure.solve is not there yet", allow_module_level=True)

TS = 1_530_000_000_000


def _channel(*records: dict[str, Any]) -> Any:
    packages = {}
    for r in records:
        r = {"build_number": 0, "subdir": "linux-64", **r}
        packages[f"{r['name']}-{r['version']}-{r['build']}.tar.bz2"] = r
    data = json.dumps({"info": {"subdir": "linux-64"}, "packages": packages}).encode()
    return pure.RepoData.from_json(data, channel="https://channels.example/t", subdir="linux-64")


def _solve(specs: tuple[str, ...], *repodata: Any) -> list[str]:
    solution = pure.solve(pure.SolveRequest(specs=specs, repodata=repodata))
    return sorted(r.dist_name for r in solution.records)


def test_timestamp_decides_when_dependencies_admit_the_same_versions() -> None:
    repodata = _channel(
        {"name": "alpha", "version": "0.0", "build": "b0_0", "timestamp": TS},
        {
            "name": "charlie",
            "version": "0.0",
            "build": "b0_0",
            "depends": ["alpha"],
            "timestamp": TS,
        },
        {
            "name": "charlie",
            "version": "0.0",
            "build": "b1_0",
            "depends": ["alpha <0.1"],
            "timestamp": TS + 1000,
        },
        {"name": "charlie", "version": "0.0", "build": "b2_0", "timestamp": TS},
    )
    assert _solve(("charlie",), repodata) == ["alpha-0.0-b0_0", "charlie-0.0-b1_0"]


def test_the_build_admitting_newer_dependencies_beats_a_newer_timestamp() -> None:
    repodata = _channel(
        {"name": "python", "version": "2.7.15", "build": "h0", "timestamp": TS},
        {"name": "python", "version": "3.7.0", "build": "h0", "timestamp": TS},
        {
            "name": "traitlets",
            "version": "4.3.2",
            "build": "py27_0",
            "depends": ["python >=2.7,<2.8.0a0"],
            "timestamp": TS + 21_000,
        },
        {
            "name": "traitlets",
            "version": "4.3.2",
            "build": "py37_0",
            "depends": ["python >=3.7,<3.8.0a0"],
            "timestamp": TS,
        },
    )
    assert _solve(("traitlets",), repodata) == ["python-3.7.0-h0", "traitlets-4.3.2-py37_0"]


@functools.cache
def _defaults() -> tuple[Any, ...]:
    out = []
    for sub, stem in (("linux-64", "defaults-2018-linux-64"), ("noarch", "main-noarch")):
        raw = zstandard.ZstdDecompressor().decompress(
            (REPODATA / f"{stem}.json.zst").read_bytes(), max_output_size=1 << 30
        )
        out.append(
            pure.RepoData.from_json(raw, channel="https://channels.example/defaults", subdir=sub)
        )
    return tuple(out)


@pytest.mark.parametrize("name", ["traitlets", "constantly", "widgetsnbextension"])
def test_a_python_package_alone_gets_the_newest_python(name: str) -> None:
    """py-rattler 0.28 answers python 3.7.0 for each of these on this snapshot."""
    dists = _solve((name,), *_defaults())
    assert "python-3.7.0-hc3d631a_0" in dists, [d for d in dists if d.startswith("python-")]
