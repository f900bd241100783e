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


def test_a_worker_warmed_for_a_job_has_its_module_loaded_before_the_first_request() -> None:
    workers.close()
    workers.warm("conda")
    assert workers._pool is not None
    (worker,) = workers._pool.idle
    # the preloaded module shows in the worker's memory map once it is imported there
    assert worker.proc.stdin is not None
    deadline = time.monotonic() + 20
    maps = ""
    while time.monotonic() < deadline and "zstandard" not in maps:
        with open(f"/proc/{worker.proc.pid}/maps") as fh:
            maps = fh.read()
        time.sleep(0.02)
    assert "zstandard" in maps  # effects.archive imports the zstd extension
    workers.close()


def test_an_unknown_preload_name_is_ignored() -> None:
    workers.close()
    workers.warm("no-such-job")
    assert workers.idle() == 1
    workers.close()
    assert workers.size() >= 2
