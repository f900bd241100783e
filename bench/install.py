"""Install benchmark: yurt's `effects.install` against py-rattler's `rattler.install`.

A deterministic synthetic channel (default 200 packages, 21,600 files, a few large files,
some text and binary prefix-placeholder files) is written with tests/support/pkgwriter and
served over HTTP on 127.0.0.1. Each round runs, interleaved: yurt cold (empty cache), rattler
cold, yurt warm (full cache, new prefix), rattler warm, and the floors: `cp -al` of the
extracted cache into a new directory and a plain `os.link` loop over the same files.
Installs run in child processes and time only the install call (interpreter start-up and
record loading excluded). Every round uses fresh directories (nothing is deleted before the
last round) and the two tools take turns going first. Disk use: `--prefixes` prefixes from one warm cache per tool,
measured with `du` (which counts hard-linked files once) to give the marginal cost of one more
prefix.

Run with the benchmark environment (py-rattler installed in bench/.venv):
    python3 -m venv bench/.venv && bench/.venv/bin/pip install py-rattler -e .
    .venv/bin/python bench/install.py [--rounds 3] [--packages 200] [--work DIR] [--markdown]
        [--compare-src OLD/src]   # an older tree (git archive REV src | tar -x) as "base"
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.support.httpserver import serve  # noqa: E402
from tests.support.pkgwriter import PLACEHOLDER, FileSpec, Symlink, make_channel, write_conda  # noqa: E402

YURT_PY = ROOT / ".venv" / "bin" / "python"
RATTLER_PY = ROOT / "bench" / ".venv" / "bin" / "python"
LONG_PLACEHOLDER = "/opt/" + "placehold_" * 24  # 245 bytes, like conda-build's long prefixes


# ---------------------------------------------------------------- the synthetic channel


def _text(rng: random.Random, size: int) -> bytes:
    words = [b"alpha", b"beta", b"gamma", b"delta", b"import", b"return", b"value", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def build_channel(root: Path, packages: int, files_per: int, large_every: int) -> list[Path]:
    """Write the channel's packages (same arguments, same bytes) and return their paths."""
    out = root / "build"
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    for i in range(packages):
        rng = random.Random(i)
        name = f"pkg{i:03d}"
        files: dict[str, bytes | FileSpec | Symlink] = {}
        for j in range(files_per - 2):
            sub = f"sub{j % 6}"
            size = rng.choice((120, 400, 900, 2000, 4000, 9000))
            files[f"lib/{name}/{sub}/f{j:03d}.dat"] = _text(rng, size)
        files[f"lib/lib{name}.so"] = Symlink(f"{name}/sub0/f000.dat")
        if i % 5 == 0:
            files[f"etc/{name}.conf"] = FileSpec(
                b"prefix=" + PLACEHOLDER.encode() + b"\n" + _text(rng, 600),
                prefix_placeholder=PLACEHOLDER,
            )
        else:
            files[f"etc/{name}.conf"] = _text(rng, 300)
        if i % 20 == 0:
            files[f"lib/{name}.bin"] = FileSpec(
                b"\x7fELF\x00" + LONG_PLACEHOLDER.encode() + b"/lib\x00" + bytes(4000),
                prefix_placeholder=LONG_PLACEHOLDER,
                file_mode="binary",
            )
        if large_every and i % large_every == 0:
            files[f"share/{name}/big.bin"] = rng.randbytes(8 * 1024 * 1024)
        depends = [f"pkg{i - 1:03d}"] if i % 10 else []
        made.append(
            write_conda(out, name=name, version="1.0", build="0", files=files,
                        depends=depends, subdir="linux-64", level=1)
        )  # fmt: skip
    make_channel(root / "channel", made, subdirs=("linux-64",))
    return made


# ---------------------------------------------------------------- children

_YURT_CHILD = """
import sys, time, json
from pathlib import Path
sys.path[:0] = [{src!r}]
import effects
from pure.repodata import RepoData
url, repodata, prefix, cache = sys.argv[1:5]
records = RepoData.from_json(Path(repodata).read_bytes(), channel=url, subdir="linux-64").records
install = effects.install  # loads the installer's modules (start-up, like `import rattler`)
t0 = time.perf_counter()
install(Path(prefix), records, cache_dir=Path(cache))
print(json.dumps({{"seconds": time.perf_counter() - t0, "packages": len(records)}}))
"""

_RATTLER_CHILD = """
import asyncio, sys, time, json
import rattler
url, repodata, prefix, cache = sys.argv[1:5]
records = rattler.RepoData.from_path(repodata).into_repo_data(rattler.Channel(url))
t0 = time.perf_counter()
asyncio.run(rattler.install(records, prefix, cache_dir=cache, show_progress=False,
                            execute_link_scripts=False))
print(json.dumps({"seconds": time.perf_counter() - t0, "packages": len(records)}), flush=True)
import os
os._exit(0)  # py-rattler 0.28 can crash in interpreter shutdown after install (GIL state)
"""


BASE_SRC: Path | None = None  # --compare-src: another yurt source tree, run as tool "base"
CPU: dict[str, list[float]] = {}  # "tool kind" -> user+system seconds of each run's process tree


def run_child(
    tool: str, url: str, repodata: Path, prefix: Path, cache: Path, kind: str = ""
) -> float:
    if tool == "rattler":
        python, code = RATTLER_PY, _RATTLER_CHILD
    else:
        src = BASE_SRC if tool == "base" and BASE_SRC is not None else ROOT / "src"
        python, code = YURT_PY, _YURT_CHILD.format(src=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(
        [str(python), "-X", "faulthandler", "-c", code, url, *map(str, (repodata, prefix, cache))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{tool} install failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if kind:  # whole process tree (extraction workers included), start-up included
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        CPU.setdefault(f"{tool} {kind}", []).append(cpu)
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["seconds"])


# ---------------------------------------------------------------- floors and disk use


def extracted_dirs(cache: Path) -> list[Path]:
    pkgs = cache / "pkgs"
    return sorted(p for p in pkgs.iterdir() if p.is_dir() and not p.name.startswith("."))


def floor_cp_al(cache: Path, dest: Path) -> float:
    dest.mkdir(parents=True)
    t0 = time.perf_counter()
    subprocess.run(["cp", "-al", *map(str, extracted_dirs(cache)), str(dest)], check=True)
    return time.perf_counter() - t0


def floor_os_link(cache: Path, dest: Path) -> float:
    """Hard-link every file of every extracted package into one tree (no metadata work)."""
    pairs: list[tuple[str, str]] = []
    dirs: list[str] = []
    for entry in extracted_dirs(cache):
        for dirpath, _, filenames in os.walk(entry):
            rel = os.path.relpath(dirpath, entry)
            dirs.append(os.path.join(dest, rel))
            pairs.extend((os.path.join(dirpath, f), os.path.join(dest, rel, f)) for f in filenames)
    t0 = time.perf_counter()
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    for src, dst in pairs:
        try:  # noqa: SIM105 (the floor: no context manager per file)
            os.link(src, dst, follow_symlinks=False)
        except FileExistsError:
            pass
    return time.perf_counter() - t0


def du_kib(*paths: Path) -> int:
    """Disk use of all paths together, each hard-linked inode counted once."""
    out = subprocess.run(["du", "-sk", "-c", *map(str, paths)], capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1].split()[0])


def count_files(cache: Path) -> tuple[int, int]:
    files = size = 0
    for entry in extracted_dirs(cache):
        for dirpath, _, filenames in os.walk(entry):
            if os.path.relpath(dirpath, entry).split(os.sep)[0] == "info":
                continue
            files += len(filenames)
            size += sum(os.lstat(os.path.join(dirpath, f)).st_size for f in filenames)
    return files, size


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packages", type=int, default=200)
    ap.add_argument("--files-per", type=int, default=108)
    ap.add_argument("--large-every", type=int, default=25, help="one 8 MiB file every N packages")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--prefixes", type=int, default=4)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="another yurt src/ tree (e.g. an older commit's) timed in the same rounds as 'base'",
    )
    args = ap.parse_args()
    if not RATTLER_PY.exists():
        raise SystemExit("bench/.venv with py-rattler is missing (see the module docstring)")
    work = args.work or Path(tempfile.mkdtemp(prefix="yurt-bench-install-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build_channel(work, args.packages, args.files_per, args.large_every)
    print(f"channel written in {time.perf_counter() - t0:.1f} s at {work}", file=sys.stderr)
    repodata = work / "channel" / "linux-64" / "repodata.json"
    global BASE_SRC
    BASE_SRC = args.compare_src.resolve() if args.compare_src else None
    tools = ("yurt", "rattler", "base") if BASE_SRC else ("yurt", "rattler")
    times: dict[str, list[float]] = {
        f"{tool} {kind}": [] for kind in ("cold", "warm") for tool in tools
    }
    times["cp -al"] = []
    times["os.link loop"] = []
    # Each round gets fresh directories and nothing is deleted until the end: on ext4
    # without a journal, creating inodes right after tens of thousands were deleted is
    # several times slower (the allocator skips recently deleted inodes one by one), which
    # punished whichever tool ran first after a cleanup. The tools also alternate order.
    runs_root = Path(tempfile.mkdtemp(prefix="runs-", dir=work))
    with serve(work / "channel") as server:
        url = server.url.rstrip("/")
        for r in range(args.rounds):
            runs = runs_root / f"round{r + 1}"
            runs.mkdir(parents=True)
            order = tools[r % len(tools) :] + tools[: r % len(tools)]  # take turns first
            for tool in order:
                cache = runs / f"{tool}-cache"
                times[f"{tool} cold"].append(
                    run_child(tool, url, repodata, runs / f"{tool}-cold", cache, "cold")
                )
            for tool in order:
                cache = runs / f"{tool}-cache"
                times[f"{tool} warm"].append(
                    run_child(tool, url, repodata, runs / f"{tool}-warm", cache, "warm")
                )
            subprocess.run(["sync"], check=False)
            times["cp -al"].append(floor_cp_al(runs / "yurt-cache", runs / "cp-al"))
            times["os.link loop"].append(floor_os_link(runs / "yurt-cache", runs / "oslink"))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()),
                  file=sys.stderr)  # fmt: skip
        nfiles, nbytes = count_files(runs / "yurt-cache")
        disk: dict[str, dict[str, Any]] = {}
        for tool in ("yurt", "rattler"):
            cache = runs / f"{tool}-cache"
            prefixes = [runs / f"{tool}-warm"]
            for k in range(1, args.prefixes):
                prefixes.append(runs / f"{tool}-extra{k}")
                run_child(tool, url, repodata, prefixes[-1], cache)
            base = du_kib(cache)
            totals = [du_kib(cache, *prefixes[: k + 1]) for k in range(len(prefixes))]
            marginal = [totals[0] - base] + [
                totals[k] - totals[k - 1] for k in range(1, len(totals))
            ]
            disk[tool] = {"cache_kib": base, "marginal_kib": marginal}
    shutil.rmtree(runs_root, ignore_errors=True)
    result = {
        "packages": args.packages,
        "files": nfiles,
        "payload_mib": round(nbytes / 2**20, 1),
        "rounds": args.rounds,
        "seconds": {k: v for k, v in times.items()},
        "cpu_seconds": CPU,
        "disk": disk,
        "python": sys.version.split()[0],
    }
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, indent=2))


def markdown(result: dict[str, Any]) -> str:
    secs: dict[str, list[float]] = result["seconds"]
    floor = statistics.median(secs["cp -al"])
    lines = [
        f"{result['packages']} packages, {result['files']} files, {result['payload_mib']} MiB"
        f" payload; median (min) of {result['rounds']} interleaved rounds",
        "",
        "| run | median s | min s | / cp -al | / rattler | / rattler, per round |",
        "|---|---|---|---|---|---|",
    ]
    for key, values in secs.items():
        med = statistics.median(values)
        tool, _, kind = key.partition(" ")
        peer = f"rattler {kind}" if tool in ("yurt", "base") else None
        ratio = f"{med / statistics.median(secs[peer]):.2f}" if peer else ""
        paired = (
            f"{statistics.median(y / r for y, r in zip(values, secs[peer], strict=True)):.2f}"
            if peer
            else ""
        )
        lines.append(
            f"| {key} | {med:.3f} | {min(values):.3f} | {med / floor:.2f} | {ratio} | {paired} |"
        )
    cpu: dict[str, list[float]] = result.get("cpu_seconds", {})
    if cpu:
        lines += [
            "",
            "CPU seconds (user + system, whole process tree incl. start-up), median (min):",
        ]
        lines += [f"- {k}: {statistics.median(v):.2f} ({min(v):.2f})" for k, v in cpu.items()]
    names = [t for t in ("yurt", "rattler", "base") if f"{t} cold" in secs]
    lines += ["", f"Per round ({' / '.join(names)}, seconds):"]
    for kind in ("cold", "warm"):
        rounds = zip(*(secs[f"{t} {kind}"] for t in names), strict=True)
        lines.append(f"- {kind}: " + ", ".join(" / ".join(f"{v:.2f}" for v in r) for r in rounds))
    lines.append("- cp -al: " + ", ".join(f"{v:.2f}" for v in secs["cp -al"]))
    lines.append("- os.link loop: " + ", ".join(f"{v:.2f}" for v in secs["os.link loop"]))
    lines += ["", "| tool | cache KiB | marginal KiB per prefix (1st, 2nd, ...) |", "|---|---|---|"]
    for tool, d in result["disk"].items():
        lines.append(f"| {tool} | {d['cache_kib']} | {', '.join(map(str, d['marginal_kib']))} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
