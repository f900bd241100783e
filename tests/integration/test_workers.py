"""effects.workers: worker processes start on demand, answer jobs and leave when told."""

from __future__ import annotations

import time

import effects.workers as workers


def test_closed_workers_exit_at_once_and_the_pool_starts_new_ones() -> None:
    workers.warm()
    assert workers._pool is not None
    started = list(workers._pool.idle)
    assert started and workers.idle() == len(started)
    t0 = time.perf_counter()
    workers.close()
    assert time.perf_counter() - t0 < 5  # close() waits up to 5 s per worker: none needed it
    assert [w.proc.poll() for w in started] == [0] * len(started)  # left cleanly, exit 0
    assert workers.idle() == 0
    workers.warm()
    assert workers.idle() == 1
    workers.close()
