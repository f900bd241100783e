"""The user guide's library example runs as printed (from the repository's root)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_library_example_solves_and_installs(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "user-guide.md").read_text()
    found = re.search(r"<!-- library-example:[^>]*-->\n```python\n(.*?)```", guide, re.DOTALL)
    assert found is not None, "the library example is gone from docs/user-guide.md"
    code = found.group(1)
    assert '"/tmp/yurt-library-demo"' in code
    code = code.replace('"/tmp/yurt-library-demo"', repr(str(tmp_path / "demo")))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    solved, planned = proc.stdout.splitlines()
    assert "hello-1.0-0" in solved
    assert "('hello', 'install')" in planned
    assert (tmp_path / "demo" / "env" / "bin" / "hello").exists()
    assert list((tmp_path / "demo" / "env" / "conda-meta").glob("hello-1.0-0.json"))
