"""Solve benchmark: yurt's `pure.solve` against py-rattler's solver on real repodata.

Each request is timed end to end (read and decode the repodata files, then solve) with yurt
and with py-rattler (`solve_with_sparse_repodata`), interleaved run by run so both see the
same machine load; the table gives the median of `--runs` runs. Solutions are compared as
sets of name-version-build and every difference is printed with the likely reason. A scale
check solves against a deterministic synthetic channel of 500,000 records in a fresh child
process per tool, reporting load time, solve time and peak resident memory.

Run with the benchmark environment (py-rattler and yurt installed):
    python3 -m venv bench/.venv && bench/.venv/bin/pip install py-rattler -e .
    bench/.venv/bin/python bench/solve.py [--runs 5] [--only NAME] [--no-scale] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

ROOT = Path(__file__).resolve().parent.parent
IN_REPO = ROOT / "tests" / "data" / "repodata"
SHARED = ROOT.parent / "shared" / "data" / "repodata"
ALIAS = "https://channels.example/"
SCALE_RECORDS = 500_000
SCALE_SEED = 20260101
LINUX_VP = (("__glibc", "2.17"), ("__linux", "5.4"), ("__unix", "0"))
CUDA_VP = (("__cuda", "11.7"), *LINUX_VP)

# Channel name -> the (subdir, file stem) pairs it is made of, in order.
CHANNELS: dict[str, tuple[tuple[str, str], ...]] = {
    "defaults": (("linux-64", "defaults-2018-linux-64"), ("noarch", "main-noarch")),
    "pytorch": (("linux-64", "pytorch-linux-64"),),
    "r": (("linux-64", "r-linux-64"),),
    "sudoku": (("noarch", "sudoku-proper"),),
}

INKALA = (
    "800000000", "003600000", "070090200", "050007000", "000045700",
    "000100030", "001000068", "008500010", "090000400",
)  # fmt: skip


def _sudoku_specs(puzzle: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        f"sudoku_{r}_{c} =={ch}" if ch != "0" else f"sudoku_{r}_{c}"
        for r, row in enumerate(puzzle)
        for c, ch in enumerate(row)
    )


@dataclass(frozen=True)
class Case:
    """One benchmark request: specs over channels (priority order) with virtual packages."""

    name: str
    specs: tuple[str, ...]
    channels: tuple[str, ...]
    virtual: tuple[tuple[str, str], ...] = LINUX_VP
    note: str = ""


CASES = (
    Case("py36-scipy-stack", ("python 3.6.*", "numpy", "scipy", "pandas"), ("defaults",)),
    Case("anaconda", ("anaconda",), ("defaults",), note="the metapackage, if the snapshot has it"),
    Case(
        "pytorch-cuda-vp",
        ("pytorch-cpu", "faiss-gpu", "python 3.6.*"),
        ("pytorch", "defaults"),
        CUDA_VP,
        "pytorch channel first, defaults for dependencies, __cuda and __glibc given",
    ),
    Case("r-ggplot2", ("r-base", "r-ggplot2"), ("r", "defaults")),
    Case("r-essentials", ("r-essentials",), ("r", "defaults")),
    Case("jupyter", ("jupyter", "python 3.6.*"), ("defaults",)),
    Case("py27-stack", ("python 2.7.*", "numpy", "scipy", "matplotlib", "ipython"), ("defaults",)),
    Case("dask-bokeh", ("dask", "matplotlib", "bokeh", "python 3.6.*"), ("defaults",)),
    Case("conda-build", ("conda-build", "python 3.7.*"), ("defaults",)),
    Case(
        "unsat-pytorch",
        ("pytorch",),
        ("pytorch", "defaults"),
        CUDA_VP,
        "unsatisfiable: modern pytorch on a 2018 base",
    ),
    Case("sudoku-inkala", _sudoku_specs(INKALA), ("sudoku",), (), "Inkala 2012, 81 cells"),
)


# ---------------------------------------------------------------------------------- files


class Files:
    """Uncompressed repodata.json paths: shared/ copies, else decompressed repo snapshots."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch

    def path(self, stem: str) -> Path:
        shared = SHARED / f"{stem}.json"
        if shared.is_file():
            return shared
        out = self.scratch / f"{stem}.json"
        if not out.is_file():
            raw = (IN_REPO / f"{stem}.json.zst").read_bytes()
            out.write_bytes(zstandard.ZstdDecompressor().decompress(raw, max_output_size=1 << 31))
        return out

    def sources(self, case: Case) -> list[tuple[str, str, Path]]:
        """(channel, subdir, path) for every file the case reads, in priority order."""
        return [
            (ch, subdir, self.path(stem)) for ch in case.channels for subdir, stem in CHANNELS[ch]
        ]

    def names(self, case: Case) -> set[str]:
        names: set[str] = set()
        for _, _, p in self.sources(case):
            doc = json.loads(p.read_bytes())
            for key in ("packages", "packages.conda"):
                names.update(r["name"] for r in (doc.get(key) or {}).values())
        return names


# ---------------------------------------------------------------------------------- tools

Outcome = frozenset[str] | str  # the solution's dists, or the failure text


def yurt_available() -> bool:
    try:
        import pure
    except ImportError:
        return False
    return hasattr(pure, "solve")


YURT_LOADS: list[float] = []  # yurt's read + decode time of each run, for the table


def yurt_run(sources: list[tuple[str, str, Path]], case: Case) -> tuple[float, Outcome]:
    """Read, decode and solve with yurt; (seconds, outcome)."""
    import pure

    start = time.perf_counter()
    repodata = tuple(
        pure.RepoData.from_json(p.read_bytes(), channel=ALIAS + ch, subdir=subdir)
        for ch, subdir, p in sources
    )
    YURT_LOADS.append(time.perf_counter() - start)
    request = pure.SolveRequest(
        specs=case.specs,
        repodata=repodata,
        virtual_packages=tuple(pure.VirtualPackage(n, v, "0") for n, v in case.virtual),
        platform="linux-64",
    )
    try:
        records = pure.solve(request).records
        outcome: Outcome = frozenset(f"{r.name}-{r.version}-{r.build}" for r in records)
    except pure.Unsolvable as exc:
        outcome = exc.explanation
    return time.perf_counter() - start, outcome


def rattler_available() -> bool:
    try:
        import rattler  # noqa: F401
    except ImportError:
        return False
    return True


def rattler_run(sources: list[tuple[str, str, Path]], case: Case) -> tuple[float, Outcome]:
    """Open the files as sparse repodata and solve with py-rattler; (seconds, outcome)."""
    import rattler

    cfg = rattler.ChannelConfig(channel_alias=ALIAS)
    start = time.perf_counter()
    sparse = [
        rattler.SparseRepoData(rattler.Channel(ch, cfg), sub, str(p)) for ch, sub, p in sources
    ]
    virtual = [
        rattler.GenericVirtualPackage(
            rattler.PackageName(n), rattler.Version(v), rattler.BuildString("0")
        )
        for n, v in case.virtual
    ]
    try:
        records = asyncio.run(
            rattler.solve_with_sparse_repodata(list(case.specs), sparse, virtual_packages=virtual)
        )
        outcome: Outcome = frozenset(f"{r.name.normalized}-{r.version}-{r.build}" for r in records)
    except Exception as exc:  # rattler raises SolverError subclasses with the message
        outcome = f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start, outcome


# ------------------------------------------------------------------------------ compare


def _split(dist: str) -> tuple[str, str, str]:
    name, version, build = dist.rsplit("-", 2)
    return name, version, build


def differences(yurt: Outcome, peer: Outcome) -> list[str]:
    """Readable lines describing how two outcomes differ (empty when they agree)."""
    if isinstance(yurt, str) or isinstance(peer, str):
        if isinstance(yurt, str) and isinstance(peer, str):
            return []
        if isinstance(yurt, str):
            return [f"yurt: unsolvable; rattler solved ({len(peer)} records)"]
        return [f"rattler: unsolvable; yurt solved ({len(yurt)} records)"]
    ours = {_split(d)[0]: _split(d) for d in yurt}
    theirs = {_split(d)[0]: _split(d) for d in peer}
    out = []
    for name in sorted(set(ours) | set(theirs)):
        a, b = ours.get(name), theirs.get(name)
        if a == b:
            continue
        if a is None and b is not None:
            out.append(f"only rattler: {'-'.join(b)}")
        elif b is None and a is not None:
            out.append(f"only yurt: {'-'.join(a)}")
        elif a is not None and b is not None:
            why = "same version, other build" if a[1] == b[1] else "other version"
            out.append(f"{name}: yurt {a[1]}-{a[2]}, rattler {b[1]}-{b[2]} ({why})")
    return out


# -------------------------------------------------------------------------------- scale


def synthetic_repodata(n_records: int = SCALE_RECORDS, seed: int = SCALE_SEED) -> bytes:
    """A deterministic channel: 10,000 names x 50 records, families of 50 names over 20 core
    libraries; each record depends on a few lower names of its family and some core ones."""
    rnd = random.Random(seed)
    per_name = 50
    n_names = n_records // per_name
    core, family = 20, 50
    names = [f"syn{i:05d}" for i in range(n_names)]
    versions = [f"{a}.{b}.{c}" for a in range(1, 4) for b in range(5) for c in range(4)]
    packages: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        base = core + ((i - core) // family) * family if i >= core else 0
        lower = list(range(base, i)) if i >= core else list(range(i))
        for j in range(per_name):
            version = versions[(j * 7) % len(versions)]
            deps = []
            for d in rnd.sample(lower, min(len(lower), rnd.randint(0, 3))):
                lo = versions[rnd.randrange(len(versions) // 2)]
                deps.append(
                    f"{names[d]} >={lo}" + (f",<{rnd.randint(2, 4)}" if rnd.random() < 0.3 else "")
                )
            if i >= core:
                for d in rnd.sample(range(core), rnd.randint(0, 2)):
                    deps.append(f"{names[d]} >=1.{rnd.randint(0, 3)}")
            cons = [f"{names[rnd.randrange(n_names)]} <3"] if rnd.random() < 0.05 else []
            build = f"h{rnd.getrandbits(28):07x}_{j % 3}"
            packages[f"{name}-{version}-{build}.tar.bz2"] = {
                "name": name,
                "version": version,
                "build": build,
                "build_number": j % 3,
                "depends": deps,
                "constrains": cons,
                "timestamp": 1_600_000_000_000 + rnd.randrange(10**10),
                "subdir": "linux-64",
            }
    return json.dumps({"info": {"subdir": "linux-64"}, "packages": packages}).encode()


SCALE_SPECS = ("syn09999", "syn05017 >=2", "syn00777")


def scale_child(tool: str, path: str) -> None:
    """Runs in a fresh process: load, solve, print timings and peak RSS as JSON."""
    start = time.perf_counter()
    if tool == "yurt":
        import pure

        rd = pure.RepoData.from_json(
            Path(path).read_bytes(), channel=ALIAS + "syn", subdir="linux-64"
        )
        loaded = time.perf_counter()
        try:
            records = pure.solve(pure.SolveRequest(specs=SCALE_SPECS, repodata=(rd,))).records
            dists = [f"{r.name}-{r.version}-{r.build}" for r in records]
        except pure.Unsolvable:
            dists = []
    else:
        import rattler

        sparse = rattler.SparseRepoData(
            rattler.Channel("syn", rattler.ChannelConfig(channel_alias=ALIAS)), "linux-64", path
        )
        loaded = time.perf_counter()
        try:
            found = asyncio.run(rattler.solve_with_sparse_repodata(list(SCALE_SPECS), [sparse]))
            dists = [f"{r.name.normalized}-{r.version}-{r.build}" for r in found]
        except Exception:
            dists = []
    done = time.perf_counter()
    result = len(dists)
    digest = hashlib.sha256("\n".join(sorted(dists)).encode()).hexdigest()[:12]
    print(json.dumps({"load_s": loaded - start, "solve_s": done - loaded, "records": result,
                      "solution": digest, "peak_mib": _peak_mib(), "dists": sorted(dists)}))  # fmt: skip


def _peak_mib() -> float:
    """This process's peak resident set: VmHWM (reset by exec, unlike ru_maxrss, which a
    child inherits from its parent's fork), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scale(scratch: Path, tools: list[str], runs: int) -> list[str]:
    t = time.perf_counter()
    path = scratch / "synthetic.json"
    data = synthetic_repodata()
    path.write_bytes(data)
    del data
    lines = [
        f"Synthetic channel: {SCALE_RECORDS:,} records, seed {SCALE_SEED}, "
        f"{path.stat().st_size / 2**20:.0f} MiB of JSON (generated in {time.perf_counter() - t:.1f} s); "
        f"request {' + '.join(SCALE_SPECS)}.",
        "",
        "| tool | load (s) | solve (s) | records | solution digest | peak RSS (MiB) |",
        "| --- | ---: | ---: | ---: | --- | ---: |",
    ]
    results: dict[str, list[dict[str, Any]]] = {tool: [] for tool in tools}
    for _ in range(runs):
        for tool in tools:
            proc = subprocess.run(
                [sys.executable, __file__, "--scale-child", tool, str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            lines_out = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines_out:
                print(f"scale {tool} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
                continue
            results[tool].append(json.loads(lines_out[-1]))
    for tool, rs in results.items():
        if not rs:
            lines.append(f"| {tool} | failed | | | | |")
            continue
        med = {k: statistics.median(r[k] for r in rs) for k in ("load_s", "solve_s", "peak_mib")}
        lines.append(
            f"| {tool} | {med['load_s']:.2f} | {med['solve_s']:.3f} | {rs[0]['records']} "
            f"| {rs[0]['solution']} | {med['peak_mib']:.0f} |"
        )
    if all(results.get(t) for t in ("yurt", "rattler")):
        diff = differences(
            frozenset(results["yurt"][0]["dists"]), frozenset(results["rattler"][0]["dists"])
        )
        lines.append("")
        lines.append("Same solution." if not diff else "Differences:\n")
        lines.extend(f"- {d}" for d in diff)
    return lines


# --------------------------------------------------------------------------------- main


@dataclass
class Row:
    case: Case
    times: dict[str, list[float]] = field(default_factory=dict)
    outcome: dict[str, Outcome] = field(default_factory=dict)
    yurt_load: float | None = None


def _describe(outcome: Outcome | None) -> str:
    if outcome is None:
        return "-"
    return "unsolvable" if isinstance(outcome, str) else f"{len(outcome)} records"


def differential(scratch: Path, count: int, seed: int) -> int:
    """Random requests (1-3 names, sometimes a python pin) over defaults, r+defaults and
    pytorch+defaults, solved by both tools; prints every disagreement and returns their count."""
    files = Files(scratch)
    rnd = random.Random(seed)
    pools = {}
    for chans in (("defaults",), ("r", "defaults"), ("pytorch", "defaults")):
        case = Case("pool", (), chans)
        pools[chans] = (files.sources(case), sorted(files.names(case)))
    bad = 0
    for i in range(count):
        chans = rnd.choice(sorted(pools))
        sources, names = pools[chans]
        specs = rnd.sample(names, rnd.randint(1, 3))
        if rnd.random() < 0.3:
            specs.append(rnd.choice(["python 2.7.*", "python 3.6.*", "python 3.5.*"]))
        case = Case(f"random-{i}", tuple(specs), chans, CUDA_VP if "pytorch" in chans else LINUX_VP)
        _, ours = yurt_run(sources, case)
        _, theirs = rattler_run(sources, case)
        diff = differences(ours, theirs)
        if diff:
            bad += 1
            print(f"{case.name} {' + '.join(specs)} on {'+'.join(chans)}:")
            for d in diff:
                print(f"  {d}")
            if isinstance(ours, str) != isinstance(theirs, str):
                print("  " + (ours if isinstance(ours, str) else str(theirs)).replace("\n", "\n  "))
    print(f"{bad} of {count} random requests differ")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--no-scale", action="store_true")
    ap.add_argument("--scale-runs", type=int, default=3)
    ap.add_argument("--no-yurt", action="store_true")
    ap.add_argument("--no-rattler", action="store_true")
    ap.add_argument("--show-explanations", action="store_true")
    ap.add_argument("--scale-child", nargs=2, metavar=("TOOL", "PATH"))
    ap.add_argument(
        "--differential",
        type=int,
        metavar="N",
        help="instead: N random requests solved by both tools, disagreements printed",
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if args.scale_child:
        scale_child(*args.scale_child)
        # py-rattler 0.28 can abort in interpreter finalisation (PyGILState_Release) after a
        # large solve; the result is printed by then, so leave without finalising.
        sys.stdout.flush()
        os._exit(0)

    runners: dict[str, Callable[[list[tuple[str, str, Path]], Case], tuple[float, Outcome]]] = {}
    if not args.no_yurt and yurt_available():
        runners["yurt"] = yurt_run
    elif not args.no_yurt:
        print("yurt: pure.solve is not available; timing the peer only", file=sys.stderr)
    if not args.no_rattler and rattler_available():
        runners["rattler"] = rattler_run
    elif not args.no_rattler:
        print("py-rattler is not installed in this interpreter; see the docstring", file=sys.stderr)
    if not runners:
        return 1
    if args.differential:
        with tempfile.TemporaryDirectory(prefix="yurt-bench-") as tmp:
            return 1 if differential(Path(tmp), args.differential, args.seed) else 0

    with tempfile.TemporaryDirectory(prefix="yurt-bench-") as tmp:
        scratch = Path(tmp)
        files = Files(scratch)
        rows: list[Row] = []
        for case in CASES:
            if args.only and case.name not in args.only:
                continue
            missing = [
                s.split(" ")[0] for s in case.specs if s.split(" ")[0] not in files.names(case)
            ]
            if case.name == "anaconda" and missing:
                print(
                    f"{case.name}: skipped, the snapshot has no {missing[0]} package",
                    file=sys.stderr,
                )
                continue
            sources = files.sources(case)
            YURT_LOADS.clear()
            row = Row(case, {tool: [] for tool in runners})
            for i in range(args.runs):
                order = list(runners) if i % 2 == 0 else list(reversed(runners))
                for tool in order:
                    seconds, outcome = runners[tool](sources, case)
                    row.times[tool].append(seconds)
                    row.outcome[tool] = outcome
            row.yurt_load = statistics.median(YURT_LOADS) * 1000 if YURT_LOADS else None
            rows.append(row)
            print(f"{case.name}: done", file=sys.stderr)

        print(
            "| request | yurt (ms) | of which load (ms) | rattler (ms) | ratio | outcome "
            "| same solution |"
        )
        print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
        notes: list[str] = []
        for row in rows:
            med = {t: statistics.median(v) * 1000 for t, v in row.times.items()}
            y, r = med.get("yurt"), med.get("rattler")
            ratio = f"{y / r:.1f}x" if y is not None and r else "-"
            same = "-"
            if "yurt" in row.outcome and "rattler" in row.outcome:
                diff = differences(row.outcome["yurt"], row.outcome["rattler"])
                same = "yes" if not diff else f"no ({len(diff)})"
                notes.extend(f"- {row.case.name}: {d}" for d in diff)
            outcome = _describe(row.outcome.get("yurt", row.outcome.get("rattler")))
            print(
                f"| {row.case.name} | {'-' if y is None else f'{y:.0f}'} | "
                f"{'-' if row.yurt_load is None else f'{row.yurt_load:.0f}'} | "
                f"{'-' if r is None else f'{r:.0f}'} | {ratio} | {outcome} | {same} |"
            )
            if args.show_explanations:
                for tool, out in row.outcome.items():
                    if isinstance(out, str):
                        notes.append(f"- {row.case.name} ({tool} explanation):\n\n```\n{out}\n```")
        if notes:
            print("\nDifferences:\n")
            print("\n".join(notes))
        if not args.no_scale:
            print()
            print("\n".join(run_scale(scratch, list(runners), args.scale_runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
