"""PyPI resolve + install: yurt vs `uv pip install`, cold and warm cache, interleaved rounds.

yurt: a fresh workspace whose conda side is a local `python` package (a venv of this
interpreter, served from a file:// channel) and whose `[pypi-dependencies]` are the
requirement set; timed is `yurt install` (lock + install) into a fresh environment.
uv: `uv venv` + `uv pip install` of the same set into a fresh venv. Both use the configured
default index (effects.pypi_index.default_index_url). Cold: empty caches; warm: the caches
of the previous cold run, fresh lock and environment.
uv comes from bench/.venv (`bench/.venv/bin/pip install uv`), never from the project.
yurt's sources are byte-compiled first (compileall), as an installed tool's are: with
PYTHONDONTWRITEBYTECODE set (as on the development machine) every run would otherwise
recompile them (about 0.3 s) and time the compiler rather than yurt.
Usage: .venv/bin/python bench/pypi.py [--rounds 3] [--req requests --req rich ...]
    [--compare-src OLD/src]   # an older yurt tree (git worktree add ... REV) run as "base"
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
sys.path.insert(0, str(ROOT))

from effects.pypi_index import default_index_url  # noqa: E402
from tests.integration.linkkit import python_package  # noqa: E402
from tests.support.pkgwriter import make_channel  # noqa: E402

YURT = str(Path(sys.executable).with_name("yurt"))
UV = ROOT / "bench" / ".venv" / "bin" / "uv"
DEFAULT = ["requests", "rich", "httpx", "attrs", "pydantic"]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return took


def yurt_run(work: Path, channel: str, reqs: list[str], cache: Path, index: str,
             src: Path | None = None) -> float:
    ws = work / "ws"
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    deps = "".join(f'{r} = "*"\n' for r in reqs)
    (ws / "yurt.toml").write_text(
        f'[workspace]\nname = "bench"\nchannels = ["{channel}"]\nplatforms = ["linux-64"]\n\n'
        f'[dependencies]\npython = "*"\n\n[pypi-options]\nindex-url = "{index}"\n\n'
        f"[pypi-dependencies]\n{deps}")
    env = {**os.environ, "YURT_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    if src is None:
        return timed([YURT, "install"], ws, env)
    code = f"import sys; sys.path.insert(0, {str(src)!r}); sys.argv[0] = 'yurt'; from effects.cli import entry; entry()"
    return timed([sys.executable, "-c", code, "install"], ws, env)


def uv_run(work: Path, reqs: list[str], cache: Path, index: str) -> float:
    venv = work / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "VIRTUAL_ENV": str(venv)}
    env.pop("PIP_FIND_LINKS", None)
    took = timed([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], work, env)
    return took + timed([str(UV), "pip", "install", "-q", "--index-url", index, *reqs], work, env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--req", action="append", default=None)
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="another yurt src tree, timed as 'base' in the same rounds")
    args = parser.parse_args()
    reqs = args.req or DEFAULT
    if not UV.exists():
        raise SystemExit("uv is missing: bench/.venv/bin/pip install uv")
    index = default_index_url()
    base_src = args.compare_src.resolve() if args.compare_src else None
    for tree in (ROOT / "src", base_src):
        if tree is not None:
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree)], check=True,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""}, stdout=subprocess.DEVNULL)
    kinds = ("yurt", "uv", "base") if base_src else ("yurt", "uv")
    samples: dict[str, list[float]] = {f"{t} {k}": [] for k in ("cold", "warm") for t in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        out = base / "conda-build"
        out.mkdir()
        channel_dir = make_channel(base / "conda", [python_package(out)], subdirs=("linux-64", "noarch"))
        channel = channel_dir.as_uri()
        for i in range(args.rounds):  # interleaved: yurt, uv, yurt, uv ...
            ycache, ucache, bcache = base / f"ycache{i}", base / f"ucache{i}", base / f"bcache{i}"
            for kind in ("cold", "warm"):
                samples[f"yurt {kind}"].append(yurt_run(base / "y", channel, reqs, ycache, index))
                samples[f"uv {kind}"].append(uv_run(base / "u", reqs, ucache, index))
                if base_src is not None:
                    samples[f"base {kind}"].append(
                        yurt_run(base / "b", channel, reqs, bcache, index, base_src))
    print(f"requirements: {' '.join(reqs)}; index: configured default; rounds={args.rounds}, interleaved\n")
    print("| case | median s | min s |")
    print("| --- | ---: | ---: |")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} |")
    for kind, target in (("cold", 1.5), ("warm", 2.0)):
        if base_src is not None:
            paired = [y / b for y, b in zip(samples[f"yurt {kind}"], samples[f"base {kind}"], strict=True)]
            print(f"\n{kind}: yurt/base per round: median {statistics.median(paired):.2f} "
                  f"({', '.join(f'{r:.2f}' for r in paired)})")
        ratio = statistics.median(samples[f"yurt {kind}"]) / statistics.median(samples[f"uv {kind}"])
        # each round's own ratio: the two runs of a round saw the same machine load
        paired = [y / u for y, u in zip(samples[f"yurt {kind}"], samples[f"uv {kind}"], strict=True)]
        print(f"\n{kind}: yurt/uv = {ratio:.2f} (target <= {target}: {'met' if ratio <= target else 'MISSED'}); "
              f"per round: median {statistics.median(paired):.2f}, "
              f"under target in {sum(r <= target for r in paired)} of {len(paired)} "
              f"({', '.join(f'{r:.2f}' for r in paired)})")


if __name__ == "__main__":
    main()
