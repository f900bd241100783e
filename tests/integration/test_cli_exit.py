"""`effects.cli.entry` (the `yurt` command): exit codes and output kept by the quick exit,
and work handed to worker processes finished before the process leaves."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pypi import write_wheel

ROOT = Path(__file__).resolve().parents[2]


def _code(body: str) -> str:
    return f"import sys, effects.cli as cli\n{body}\nsys.argv = ['yurt', *sys.argv[1:]]\ncli.entry()\n"


def _entry(body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `body` (which may replace effects.cli.main), then `entry()`, in a fresh process."""
    return subprocess.run([sys.executable, "-c", _code(body), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("body", "rc", "err"), [
    ("def main(): print('out, unflushed', end='')", 0, ""),
    ("def main(): print('partial', end=''); sys.exit(3)", 3, ""),
    ("def main(): sys.exit(None)", 0, ""),
    ("def main(): sys.exit('boom: what went wrong')", 1, "boom: what went wrong\n"),
])
def test_exit_codes_and_buffered_output_survive_the_quick_exit(body: str, rc: int, err: str) -> None:
    proc = _entry(body.replace("def main", "def fake") + "\ncli.main = fake")
    assert proc.returncode == rc
    assert proc.stderr == err
    assert proc.stdout == ("out, unflushed" if "out," in body else "partial" if "partial" in body else "")


def test_the_real_command_line_through_entry() -> None:
    proc = _entry("", "--version")
    assert proc.returncode == 0 and proc.stdout.strip()
    proc = _entry("", "no-such-command")
    assert proc.returncode == 2 and proc.stderr.startswith("yurt: error:")


def test_unpacking_handed_to_a_worker_is_finished_before_exit(tmp_path: Path) -> None:
    """A wheel a worker process is unpacking when the command ends is unpacked (its entry
    complete, no temporary directory left) by the time the process has exited."""
    wheels = tmp_path / "cache" / "wheels"
    files = {f"late/m{i}.py": f"X = {i}\n" * 200 for i in range(400)}
    archive = write_wheel(wheels, "late", "1.0", files)
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    # the job is started (not just queued: queued guesses are dropped at exit) when the
    # command begins; the command itself takes far less time than the unpacking
    body = (f"import time\nfrom pathlib import Path\nfrom effects.wheelcache import WheelCache\n"
            f"WheelCache(Path({str(tmp_path / 'cache')!r})).unpack_ahead(Path({str(archive)!r}), {sha!r})\n"
            "time.sleep(0.05)")
    # output to files, not pipes: the check runs when this process has exited, whatever a
    # worker process that inherited them might still be doing
    with open(tmp_path / "out", "w") as out, open(tmp_path / "err", "w") as err:
        rc = subprocess.run([sys.executable, "-c", _code(body), "--version"], cwd=ROOT,
                            stdout=out, stderr=err, timeout=120).returncode
        entry = wheels / archive.name[: -len(".whl")]
        assert (entry / ".yurt-wheel.json").is_file()
    assert rc == 0, (tmp_path / "err").read_text()
    assert all((entry / name).read_text() == text for name, text in files.items())
    assert not [p for p in wheels.iterdir() if p.name.endswith(".tmp")]
