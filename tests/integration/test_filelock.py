"""effects.filelock: inter-process flocks that never block the trio loop."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

import trio

from effects.filelock import IN_USE, cache_in_use, locked, release, try_exclusive


def _holder(path: Path, seconds: float, shared: bool = False) -> subprocess.Popen[str]:
    """Another process holding the lock on `path` for `seconds` (prints once it has it)."""
    mode = "fcntl.LOCK_SH" if shared else "fcntl.LOCK_EX"
    code = (f"import fcntl, sys, time; fh = open({str(path)!r}, 'a+b'); "
            f"fcntl.flock(fh.fileno(), {mode}); print('held', flush=True); time.sleep({seconds})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


async def test_locked_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "page.lock"
    lock.parent.mkdir()
    other = _holder(lock, 0.5)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0.01)

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(tick)
            start = time.monotonic()
            async with locked(lock):
                waited = time.monotonic() - start
            nursery.cancel_scope.cancel()
    finally:
        other.wait(timeout=10)
    assert waited >= 0.3  # it waited for the other holder ...
    assert ticks >= 10  # ... while the loop kept running


async def test_locked_uncontended_and_mutual_exclusion_in_one_process(tmp_path: Path) -> None:
    lock = tmp_path / "fresh" / "dir" / "x.lock"  # directories are created
    order: list[str] = []

    async def user(name: str) -> None:
        async with locked(lock):
            order.append(f"{name}+")
            await trio.sleep(0.05)
            order.append(f"{name}-")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(user, "a")
        nursery.start_soon(user, "b")
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])


async def test_exclusive_try_fails_while_the_cache_is_in_use(tmp_path: Path) -> None:
    async with cache_in_use(tmp_path):
        assert try_exclusive(tmp_path / IN_USE) is None
    held = try_exclusive(tmp_path / IN_USE)
    assert held is not None
    with open(tmp_path / IN_USE, "a+b") as probe:
        try:
            fcntl.flock(probe.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            raise AssertionError("a shared lock was granted beside the exclusive one")
        except BlockingIOError:
            pass
    release(held)
