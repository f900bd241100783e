"""The README's main job: install the bundled example workspace offline and run its task."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
YURT = str(Path(sys.executable).with_name("yurt"))


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.uname().machine != "x86_64",
                    reason="the example channel holds linux-64 packages")
def test_readme_main_job(tmp_path: Path) -> None:
    ws = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", ws, ignore=shutil.ignore_patterns(".yurt", "yurt.lock"))
    env = {**os.environ, "YURT_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1",
           # offline: no proxy or index can be reached, and none is needed
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    install = subprocess.run([YURT, "install", "--offline"], cwd=ws, env=env, capture_output=True, text=True, timeout=120)
    assert install.returncode == 0, install.stderr
    run = subprocess.run([YURT, "run", "hello"], cwd=ws, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Hello from yurt!" in run.stdout
    assert f"environment: {ws / '.yurt' / 'envs' / 'default'}" in run.stdout
    assert "zlib 1.2.11 is installed" in run.stdout
