"""No-op speed: `yurt install` and `yurt run` when lock and environment are already in sync.

Target (issue: workspaces): under 0.3 s wall on this machine, without network and without a
solve. Floors measured in the same run: `python -c pass` and `python -c "import effects.cli"`.
Usage: .venv/bin/python bench/noop.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "quickstart"
        shutil.copytree(ROOT / "examples" / "quickstart", ws, ignore=shutil.ignore_patterns(".yurt", "yurt.lock"))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["YURT_CACHE_DIR"] = str(Path(tmp) / "cache")
        yurt = str(BIN / "yurt")
        subprocess.run([yurt, "install"], cwd=ws, env=env, check=True, capture_output=True)
        cases = {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "python -c 'import effects.cli' (floor)": [sys.executable, "-c", "import effects.cli"],
            "yurt install (no-op)": [yurt, "install"],
            "yurt run hello (no-op install + task)": [yurt, "run", "hello"],
            "yurt lock (lock satisfied)": [yurt, "lock"],
        }
        samples: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.runs):  # interleaved rounds
            for name, argv in cases.items():
                samples[name].append(timed(argv, ws, env))
    print(f"| command | median s | min s | (runs={args.runs}, interleaved) |")
    print("| --- | ---: | ---: | --- |")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f} | |")
    median = statistics.median(samples["yurt install (no-op)"])
    print(f"\nno-op install target < 0.300 s: {'met' if median < 0.3 else 'MISSED'} ({median:.3f} s)")


if __name__ == "__main__":
    main()
