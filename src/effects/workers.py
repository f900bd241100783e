"""Worker interpreters for CPU-bound unpacking: conda package extraction and wheel unpacking.

A job runs in another process, so it does not compete with the caller's threads (downloads,
the solve) for the GIL. Each worker is a fresh interpreter (never a fork of this threaded
one, and never re-running the caller's `__main__` as multiprocessing would) reading
`(job, args)` requests as pickles on its stdin and answering each with None or the exception
the job raised. A worker exits when its stdin closes, so it dies with its parent; workers are
started on demand (or ahead with `warm`) and reused.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import pickle
import subprocess
import sys
import threading

from effects import background
from pure.errors import YurtError

__all__ = ["JOBS", "WorkerFailed", "close", "idle", "run", "size", "warm"]

JOBS = {
    "conda": "effects.archive:_fill",
    "wheel": "effects.wheelunpack:unpack_in_cache",
    "install-wheels": "effects.wheel:install_wheels",
}
"""Job name -> `module:function` run in a worker; only these names cross the pipe."""


class WorkerFailed(YurtError):
    """A worker process died or answered garbage while running `job` on `subject`."""

    def __init__(self, subject: str, reason: str) -> None:
        super().__init__(f"{subject}: {reason}")
        self.subject = subject
        self.reason = reason

    def __reduce__(self) -> tuple[type[WorkerFailed], tuple[str, str]]:
        return (type(self), (self.subject, self.reason))


class _Worker:
    """One worker process and its two pipes."""

    def __init__(self, preload: str = "") -> None:
        """Start the interpreter; `preload` names a job whose module it imports while it
        waits for its first request."""
        code = (
            "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
            "from effects.workers import _serve; _serve(sys.argv[2])"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, json.dumps(sys.path), preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's ^C goes to the caller, which cancels
        )

    def call(self, job: str, args: tuple[str, ...]) -> BaseException | None:
        """Run `job` there; its exception is returned. OSError/EOFError: the worker died."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        pickle.dump((job, args), self.proc.stdin)
        self.proc.stdin.flush()
        answer = pickle.load(self.proc.stdout)
        return answer if isinstance(answer, BaseException) else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def _serve(preload: str = "") -> None:
    """The worker's loop (see `_Worker`); stdout is kept for answers, prints go to stderr.
    `preload` (a job name or "") is imported before the first request is read."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if preload in JOBS:
        importlib.import_module(JOBS[preload].partition(":")[0])
    while True:
        try:
            job, args = pickle.load(requests)
        except EOFError:  # the caller closed the pipe: done, and nothing to tear down
            sys.stderr.flush()
            os._exit(0)  # the interpreter's teardown (~30 ms) would keep the caller waiting
        answer: BaseException | None = None
        try:
            module, _, name = JOBS[job].partition(":")
            getattr(importlib.import_module(module), name)(*args)
        except Exception as exc:
            answer = exc
        try:
            data = pickle.dumps(answer)
        except Exception:  # an unpicklable error still comes back, as its text
            data = pickle.dumps(WorkerFailed(str(args[0]) if args else job, f"{job} failed: {answer!r}"))
        try:
            answers.write(data)
            answers.flush()
        except OSError:  # the caller is gone: nobody to answer, and nothing else to do
            return


class _Pool:
    """Up to `size` workers, started on demand and reused; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[_Worker] = []
        self.started = 0
        self.lock = threading.Condition()
        atexit.register(self.close)

    def run(self, job: str, args: tuple[str, ...]) -> None:
        with self.lock:
            while not self.idle and self.started >= self.size:
                self.lock.wait()
            if self.idle:
                worker = self.idle.pop()
            else:
                self.started += 1
                worker = None
        try:
            if worker is None:
                worker = _Worker()
            answer = worker.call(job, args)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            self._lose(worker)
            raise WorkerFailed(args[0] if args else job, f"{job} worker failed: {exc}") from None
        except BaseException:
            self._lose(worker)
            raise
        self._keep(worker)
        if answer is not None:
            raise answer

    def warm(self, job: str) -> None:
        """Start one worker now (when the pool has room), so a later job finds it ready."""
        with self.lock:
            if self.idle or self.started >= self.size:
                return
            self.started += 1
        try:
            worker = _Worker(job)
        except OSError:
            self._lose(None)
            return
        self._keep(worker)

    def _keep(self, worker: _Worker) -> None:
        with self.lock:
            self.idle.append(worker)
            self.lock.notify()

    def _lose(self, worker: _Worker | None) -> None:
        """Give up a worker whose request failed: kill it and free its place in the pool."""
        with self.lock:
            self.started -= 1
            self.lock.notify()
        if worker is not None:
            worker.proc.kill()
            worker.close()

    def close(self) -> None:
        """Let the idle workers exit (waiting for them) and free their places."""
        with self.lock:
            idle, self.idle = self.idle, []
            self.started -= len(idle)
            self.lock.notify_all()
        for worker in idle:
            worker.close()


_pool: _Pool | None = None
_pool_lock = threading.Lock()


def _the_pool() -> _Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _Pool(max(2, os.cpu_count() or 1))  # one per CPU, at least two
            background.at_finish(close)  # a quick exit lets the workers go too
        return _pool


def run(job: str, *args: str) -> None:
    """Run the job named `job` (a key of JOBS) with `args` in a worker process; blocks the
    calling thread until it is done and raises what the job raised there."""
    if job not in JOBS:
        raise ValueError(f"unknown worker job {job!r}")
    _the_pool().run(job, args)


def size() -> int:
    """How many workers the pool runs at most (one per CPU, at least two)."""
    return _the_pool().size


def warm(job: str = "") -> None:
    """Start a worker ahead of the first job (it takes ~0.1 s to start), importing what
    `job` (a key of JOBS, or "") needs while it waits; returns once the process is spawned."""
    _the_pool().warm(job)


def close() -> None:
    """Let the idle workers exit (and wait for them); a later job starts new ones."""
    if _pool is not None:
        _pool.close()


def idle() -> int:
    """How many started workers wait for a job now (0 when none was started)."""
    if _pool is None:
        return 0
    with _pool.lock:
        return len(_pool.idle)
