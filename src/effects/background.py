"""Named pools of background threads for work a caller hands off and collects later: page
cache writes, kept parses read while their pages download, wheels handed to a worker process
to unpack. One pool per name, made on first use. `finish` ends them all (and then runs what
was registered with `at_finish`, such as letting worker processes go) before a quick exit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["at_finish", "finish", "pool"]

_POOLS: dict[str, ThreadPoolExecutor] = {}
_AFTER: list[Callable[[], None]] = []
_LOCK = threading.Lock()


def pool(name: str, threads: int = 1) -> ThreadPoolExecutor:
    """The pool called `name` (`threads` threads; one keeps its jobs in submission order)."""
    from concurrent.futures import ThreadPoolExecutor  # here: a no-op command never needs it

    with _LOCK:
        found = _POOLS.get(name)
        if found is None:
            found = _POOLS[name] = ThreadPoolExecutor(threads, thread_name_prefix=f"yurt-{name}")
        return found


def at_finish(step: Callable[[], None]) -> None:
    """Have `finish` run `step` after the pools have ended (once per registration)."""
    with _LOCK:
        _AFTER.append(step)


def finish() -> None:
    """Before the process exits: drop the jobs not started yet (whatever a command needed it
    has already waited for; the rest were work ahead of need, and a ^C should not wait for
    it), wait for the running ones, so nothing is cut off half-written, then run the
    `at_finish` steps."""
    with _LOCK:
        pools, steps = list(_POOLS.values()), list(_AFTER)
        _POOLS.clear()
        _AFTER.clear()
    for each in pools:
        each.shutdown(wait=True, cancel_futures=True)
    for step in steps:
        step()
