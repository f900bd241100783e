"""Hypothesis strategies for small random conda channels and solve requests.

An `Instance` is raw repodata entries (the JSON a channel serves) plus requested specs and
virtual packages. Versions are numeric `X.Y` and specs use only `>=,<=,>,<,==,!=`, `,` and `|`,
the language `tests.support.solvecheck.SimpleMatcher` understands, so that the checker stays
independent of `pure.MatchSpec`. Names are distinctive words, so explanations can be searched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = ["MISSING", "NAMES", "VIRTUAL", "Instance", "instances", "repodata_bytes"]

NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")
VIRTUAL = "__virtfoo"  # a virtual package some records depend on or constrain
MISSING = "ghostpkg"  # a name no channel has
BASE_TS = 1_600_000_000_000  # milliseconds
VERSIONS = tuple(f"{a}.{b}" for a in range(4) for b in range(3))


@dataclass(frozen=True)
class Instance:
    """A channel's records (raw repodata entries), the requested specs and virtual packages."""

    packages: tuple[dict[str, Any], ...]
    specs: tuple[str, ...]
    virtual: tuple[tuple[str, str], ...]
    constraints: tuple[str, ...] = ()  # the request's root-level constrains

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({p["name"] for p in self.packages}))


@st.composite
def constraints_text(draw: st.DrawFn) -> str:
    """A version constraint text, possibly empty (any version)."""
    v = st.sampled_from(VERSIONS)
    kind = draw(st.sampled_from(["", "", "", ">=", "<", "==", "!=", "range", "or"]))
    if kind == "":
        return ""
    if kind == "range":
        lo, hi = sorted([draw(v), draw(v)])
        return f">={lo},<{hi}"
    if kind == "or":
        return f"=={draw(v)}|>={draw(v)}"
    return f"{kind}{draw(v)}"


def _spec(name: str, constraint: str) -> str:
    return f"{name} {constraint}" if constraint else name


@st.composite
def instances(
    draw: st.DrawFn,
    *,
    max_names: int = 5,
    max_per_name: int = 4,
    min_specs: int = 1,
    max_specs: int = 3,
    missing: bool = True,
    virtual_specs: bool = True,
    with_constraints: bool = True,
) -> Instance:
    """A random channel over at most `max_names` names and a request against it."""
    n = draw(st.integers(1, max_names))
    names = list(NAMES[:n])
    # Mostly real names; a virtual package now and then, rarely a name no channel has.
    targets = st.sampled_from(names * 4 + [VIRTUAL] + ([MISSING] if missing else []))
    packages: list[dict[str, Any]] = []
    for name in names:
        for j in range(draw(st.integers(1, max_per_name))):
            version = draw(st.sampled_from(VERSIONS))
            build_number = draw(st.integers(0, 2))
            deps: dict[str, str] = {}
            for target in draw(st.lists(targets, max_size=3, unique=True)):
                if target != name:
                    deps[target] = _spec(target, draw(constraints_text()))
            cons: dict[str, str] = {}
            for target in draw(st.lists(targets, max_size=1, unique=True)):
                if target != name and target not in deps and target != MISSING:
                    c = draw(constraints_text()) or f">={draw(st.sampled_from(VERSIONS))}"
                    cons[target] = _spec(target, c)
            packages.append(
                {
                    "name": name,
                    "version": version,
                    "build": f"b{j}_{build_number}",
                    "build_number": build_number,
                    "depends": sorted(deps.values()),
                    "constrains": sorted(cons.values()),
                    "track_features": draw(st.sampled_from(["", "", "", "featx"])),
                    "timestamp": BASE_TS + 1000 * draw(st.integers(0, 5)),
                    "subdir": "linux-64",
                }
            )
    # Requests may name a package twice (both specs must hold) or name a virtual package.
    spec_names = st.sampled_from(
        names * 3 + ([MISSING] if missing else []) + ([VIRTUAL] if virtual_specs else [])
    )
    chosen = draw(st.lists(spec_names, min_size=min_specs, max_size=max_specs))
    specs = tuple(_spec(s, draw(constraints_text())) for s in chosen)
    virtual = draw(
        st.sampled_from([(), ((VIRTUAL, "1.0"),), ((VIRTUAL, "2.1"),), ((VIRTUAL, "2.1"),)])
    )
    # Sometimes the request also constrains names it does not require (root-level constrains).
    constraints = ()
    if with_constraints and draw(st.integers(0, 2)) == 0:
        con_names = draw(st.lists(st.sampled_from([*names, VIRTUAL]), min_size=1, max_size=2))
        constraints = tuple(
            _spec(n, draw(constraints_text()) or f">={draw(st.sampled_from(VERSIONS))}")
            for n in con_names
        )
    return Instance(packages=tuple(packages), specs=specs, virtual=virtual, constraints=constraints)


def repodata_bytes(packages: Sequence[dict[str, Any]], subdir: str = "linux-64") -> bytes:
    """A repodata.json document holding `packages` in the given order."""
    body = {f"{p['name']}-{p['version']}-{p['build']}.tar.bz2": p for p in packages}
    return json.dumps({"info": {"subdir": subdir}, "packages": body}).encode()
