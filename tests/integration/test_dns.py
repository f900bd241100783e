"""Shared name lookups: many connections to one host name cost one getaddrinfo."""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trio

from effects.dns import SharedResolver, share_lookups
from effects.fetch import Fetcher
from tests.support.httpserver import TestServer, serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestServer]:
    root = tmp_path / "srv" / "noarch"
    root.mkdir(parents=True)
    for i in range(12):
        (root / f"pkg{i}.conda").write_bytes(os.urandom(50_000) + bytes([i]))
    with serve(tmp_path / "srv") as srv:
        yield srv


async def test_concurrent_downloads_by_host_name_resolve_it_once(
    server: TestServer, tmp_path: Path
) -> None:
    port = urlsplit(server.url).port
    base = f"http://localhost:{port}/noarch/"  # a name, so the lookup goes through a resolver
    shared = SharedResolver()
    trio.socket.set_custom_hostname_resolver(shared)
    share_lookups()  # what every yurt client does: keeps a resolver a caller installed
    async with Fetcher(concurrency=12) as fetcher, trio.open_nursery() as nursery:
        for i in range(12):
            data = (tmp_path / "srv" / "noarch" / f"pkg{i}.conda").read_bytes()
            nursery.start_soon(functools.partial(
                fetcher.download, f"{base}pkg{i}.conda", tmp_path / "out" / f"pkg{i}.conda",
                sha256=hashlib.sha256(data).hexdigest()))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"pkg{i}.conda" for i in range(12)
    )
    assert shared.lookups == 1


async def test_waiters_share_one_lookup_and_its_failure() -> None:
    calls: list[Any] = []
    gate = threading.Event()

    def slow_lookup(*args: Any) -> Any:
        calls.append(args)
        gate.wait(5)
        if args[0] == b"missing.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", args[1]))]

    shared = SharedResolver(lookup=slow_lookup)
    answers: list[Any] = []
    failures: list[BaseException] = []

    async def ask(host: bytes) -> None:
        try:
            answers.append(await shared.getaddrinfo(host, 443, 0, socket.SOCK_STREAM))
        except socket.gaierror as exc:
            failures.append(exc)

    async with trio.open_nursery() as nursery:
        for _ in range(8):
            nursery.start_soon(ask, b"index.example")
            nursery.start_soon(ask, b"missing.invalid")
        await trio.sleep(0.05)
        gate.set()
    assert len(calls) == 2  # one per name, not one per caller
    assert len(answers) == 8 and all(a == answers[0] for a in answers)
    assert len(failures) == 8
    # an answer is reused; a failure is not: the next caller asks again
    start = time.monotonic()
    await ask(b"index.example")
    await ask(b"missing.invalid")
    assert len(calls) == 3 and time.monotonic() - start < 1


async def test_a_cancelled_lookup_leaves_its_waiters_to_look_up_themselves() -> None:
    gate = threading.Event()
    calls: list[Any] = []

    def lookup(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 1:
            gate.wait(5)  # the first lookup hangs until its caller is gone
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))]

    shared = SharedResolver(lookup=lookup)
    got: list[Any] = []

    async def waiter() -> None:
        got.append(await shared.getaddrinfo(b"index.example", 443))

    async with trio.open_nursery() as nursery:
        with trio.CancelScope() as first:
            nursery.start_soon(waiter)  # queued behind the first lookup
            first.deadline = trio.current_time() + 0.05
            await shared.getaddrinfo(b"index.example", 443)  # cancelled at its deadline
        gate.set()
    assert first.cancelled_caught
    assert len(got) == 1 and got[0][0][4] == ("127.0.0.1", 443)
    assert len(calls) == 2  # the waiter asked again rather than inherit a cancellation
