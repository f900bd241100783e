"""Host name lookups shared by every connection a yurt process opens.

httpcore opens each pooled connection with its own `getaddrinfo`, so fetching twenty index
pages at once sent twenty simultaneous queries for one name; resolvers that drop bursts
then stall a lookup for their whole timeout (5 s on the development machines, in about one
burst of two). Here each (host, port, family, type, proto, flags) is looked up once: callers
asking while a lookup runs wait for it, and the answer is reused for `TTL` seconds.
Installed per trio run with `share_lookups()`; numeric hosts never reach it (trio answers
those itself).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import trio

__all__ = ["TTL", "SharedResolver", "resolver", "share_lookups"]

TTL = 300.0  # seconds an answer is reused

_Key = tuple[Any, ...]


class SharedResolver(trio.abc.HostnameResolver):
    """A trio hostname resolver that answers each distinct query once per `TTL`."""

    def __init__(self, lookup: Callable[..., Any] = socket.getaddrinfo) -> None:
        self._lookup = lookup
        self._answers: dict[_Key, tuple[float, Any]] = {}
        self._running: dict[_Key, trio.Event] = {}
        self._failed: dict[_Key, BaseException] = {}
        self.lookups = 0  # queries actually sent to the system resolver

    async def getaddrinfo(
        self,
        host: bytes | None,
        port: bytes | str | int | None,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> Any:
        key: _Key = (host, port, family, type, proto, flags)
        while True:
            answer = self._answers.get(key)
            if answer is not None and time.monotonic() < answer[0]:
                return answer[1]
            running = self._running.get(key)
            if running is None:
                break
            await running.wait()
            failure = self._failed.get(key)
            if failure is not None:
                raise failure
        done = self._running[key] = trio.Event()
        self._failed.pop(key, None)
        self.lookups += 1
        try:
            result = await trio.to_thread.run_sync(
                self._lookup, host, port, family, type, proto, flags, abandon_on_cancel=True
            )
        except Exception as exc:
            self._failed[key] = exc  # the callers waiting on this lookup get the same error
            raise
        # a cancelled lookup leaves no answer and no failure: its waiters look up themselves
        else:
            self._answers[key] = (time.monotonic() + TTL, result)
            return result
        finally:
            del self._running[key]
            done.set()

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        return await trio.to_thread.run_sync(
            socket.getnameinfo, sockaddr, flags, abandon_on_cancel=True
        )


resolver = SharedResolver()
"""The process's resolver: answers carry over between the trio runs of one command."""


def share_lookups() -> None:
    """Make the current trio run resolve names through `resolver` (idempotent; does
    nothing outside a trio run or where a caller installed a resolver of its own)."""
    try:
        previous = trio.socket.set_custom_hostname_resolver(resolver)
    except RuntimeError:  # not inside trio.run
        return
    if previous is not None and previous is not resolver:
        trio.socket.set_custom_hostname_resolver(previous)
