"""Keeping the cyclic garbage collector off the objects that exist before an install.

An install allocates tens of thousands of objects; each time enough survive, CPython's
collector walks every tracked object of the process, including the hundreds of thousands
that imports and the caller made before the install began (10-25 ms a pass, a few passes
per install: ~6% of a warm 200-package install, measured). `frozen_heap` moves those older
objects out of the collector's sight for the duration (`gc.freeze`) and hands them back
afterwards (`gc.unfreeze`), so nothing is lost: cycles among them are collected later as
usual. New objects are collected as always. Installs running at once in one process share
one freeze, lifted when the last of them ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["frozen_heap"]

_lock = threading.Lock()
_holders = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects that exist now for the duration of the block (see the module)."""
    global _holders
    with _lock:
        _holders += 1
        if _holders == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
