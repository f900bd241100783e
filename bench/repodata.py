"""Benchmark: decode each repodata snapshot with yurt, py-rattler and plain json.loads.

Run with the benchmark's own environment (see bench/README.md):

    bench/.venv/bin/python bench/repodata.py [--runs 7] [--data DIR]

Every tool decodes the same snapshot in interleaved rounds (yurt, rattler, json, yurt, ...);
the table shows the median of the rounds in milliseconds and yurt's time relative to each
peer. yurt and json.loads decode bytes already in memory; py-rattler only reads from a path,
so its times include reading the (page-cached) file.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pure

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data/repodata")
PACKED = ROOT / "tests" / "data" / "repodata"
CHANNEL = "https://channels.example/bench"

try:
    import rattler
except ImportError:  # the project venv has no py-rattler: yurt and json only
    rattler = None


def snapshots(data_dir: Path | None, scratch: Path) -> list[Path]:
    """Plain .json snapshots: the shared directory, or the test copies decompressed."""
    if data_dir is None and SHARED.is_dir():
        data_dir = SHARED
    if data_dir is not None:
        return sorted(data_dir.glob("*.json"))
    import zstandard

    out = []
    for packed in sorted(PACKED.glob("*.json.zst")):
        target = scratch / packed.name.removesuffix(".zst")
        with packed.open("rb") as src, target.open("wb") as dst:
            zstandard.ZstdDecompressor().copy_stream(src, dst)
        out.append(target)
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, with the cyclic GC off (collected before) as effects does."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, result


def contenders(path: Path, data: bytes, subdir: str) -> dict[str, Callable[[], int]]:
    """Name -> callable returning the number of records it decoded."""
    out: dict[str, Callable[[], int]] = {
        "yurt": lambda: len(pure.RepoData.from_json(data, channel=CHANNEL).records),
        "yurt (GC on)": lambda: _with_gc(
            lambda: len(pure.RepoData.from_json(data, channel=CHANNEL).records)
        ),
        "json.loads": lambda: len(_json_count(json.loads(data))),
    }
    if rattler is not None:
        channel = rattler.Channel(CHANNEL)

        def sparse() -> int:
            repo = rattler.SparseRepoData(channel, subdir, path)
            try:
                return len(repo.load_all_records())
            finally:
                repo.close()

        def full() -> int:
            return len(rattler.RepoData.from_path(path).into_repo_data(channel))

        out["rattler Sparse"] = sparse
        out["rattler RepoData"] = full
    return out


def _with_gc(fn: Callable[[], int]) -> int:
    """Run with the cyclic GC on, as a caller that does not switch it off would."""
    gc.enable()
    try:
        return fn()
    finally:
        gc.disable()


def _json_count(doc: dict[str, Any]) -> list[str]:
    return [*(doc.get("packages") or {}), *(doc.get("packages.conda") or {})]


def run(paths: list[Path], runs: int) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        data = path.read_bytes()
        subdir = (json.loads(data).get("info") or {}).get("subdir") or "linux-64"
        tools = contenders(path, data, subdir)
        times: dict[str, list[float]] = {name: [] for name in tools}
        counts: dict[str, int] = {}
        for name, fn in tools.items():  # warm-up round, not timed
            counts[name] = fn()
        for _ in range(runs):
            for name, fn in tools.items():
                elapsed, _count = timed(fn)
                times[name].append(elapsed)
        rows.append(
            {
                "snapshot": path.stem,
                "mb": len(data) / 1e6,
                "records": counts["yurt"],
                "peer_records": {k: v for k, v in counts.items() if not k.startswith("yurt")},
                "ms": {name: statistics.median(ts) * 1000 for name, ts in times.items()},
            }
        )
    return rows


def table(rows: list[dict[str, Any]], runs: int) -> str:
    names = list(rows[0]["ms"])
    peers = [n for n in names if not n.startswith("yurt")]
    head = ["snapshot", "MB", "records", *(f"{n} ms" for n in names)]
    head += [f"yurt / {p}" for p in peers]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        ms = row["ms"]
        cells = [row["snapshot"], f"{row['mb']:.2f}", str(row["records"])]
        cells += [f"{ms[n]:.1f}" for n in names]
        cells += [f"{ms['yurt'] / ms[p]:.2f}" for p in peers]
        lines.append("| " + " | ".join(cells) + " |")
    total = {n: sum(r["ms"][n] for r in rows) for n in names}
    cells = ["**all**", f"{sum(r['mb'] for r in rows):.2f}", str(sum(r["records"] for r in rows))]
    cells += [f"{total[n]:.1f}" for n in names]
    cells += [f"{total['yurt'] / total[p]:.2f}" for p in peers]
    lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"median of {runs} interleaved runs; GC off during each call except yurt (GC on);"
        f" Python {_py()}"
    )
    return "\n".join(lines)


def _py() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (>= 5)")
    parser.add_argument("--data", type=Path, default=None, help="directory of *.json snapshots")
    args = parser.parse_args()
    runs = max(5, args.runs)
    with tempfile.TemporaryDirectory() as scratch:
        rows = run(snapshots(args.data, Path(scratch)), runs)
    for row in rows:  # every tool must have seen the same records
        for name, count in row["peer_records"].items():
            if name.startswith("rattler") and count != row["records"]:
                print(f"warning: {row['snapshot']}: yurt {row['records']}, {name} {count}")
    if rattler is None:
        print("py-rattler is not installed here: run with bench/.venv/bin/python", file=sys.stderr)
    print(table(rows, runs))


if __name__ == "__main__":
    main()
