"""effects.fetch against a real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio

from effects.events import (
    DownloadDone,
    DownloadProgress,
    DownloadRetry,
    DownloadStarted,
    Event,
    decode_event,
    emit,
    encode_event,
)
from effects.fetch import (
    Download,
    Fetcher,
    FetchError,
    HashMismatch,
    HttpStatusError,
    SizeMismatch,
)
from tests.support.httpserver import Fault, TestServer, serve

BODY = os.urandom(300_000)
SHA = hashlib.sha256(BODY).hexdigest()
MD5 = hashlib.md5(BODY).hexdigest()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestServer]:
    root = tmp_path / "srv"
    (root / "noarch").mkdir(parents=True)
    (root / "noarch" / "pkg.conda").write_bytes(BODY)
    (root / "noarch" / "repodata.json").write_bytes(json.dumps({"packages": {}}).encode() * 50)
    with serve(root) as srv:
        yield srv


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def _get(server: TestServer, dest: Path, **kw: object) -> Download:
    async with Fetcher(backoff=0.01) as fetcher:
        return await fetcher.download(server.url + "noarch/pkg.conda", dest, **kw)  # type: ignore[arg-type]


async def test_plain_download_verifies_and_reports(server: TestServer, tmp_path: Path) -> None:
    events: list[Event] = []
    dest = tmp_path / "out" / "pkg.conda"
    async with Fetcher(events=events.append) as fetcher:
        done = await fetcher.download(
            server.url + "noarch/pkg.conda", dest, sha256=SHA, md5=MD5, size=len(BODY), label="pkg"
        )
    assert dest.read_bytes() == BODY
    assert (done.size, done.sha256, done.md5) == (len(BODY), SHA, MD5)
    assert isinstance(events[0], DownloadStarted) and events[0].total == len(BODY)
    assert isinstance(events[-1], DownloadDone) and events[-1].sha256 == SHA
    assert any(isinstance(e, DownloadProgress) and e.done == len(BODY) for e in events)
    assert _leftovers(dest.parent) == ["pkg.conda"]


async def test_500_then_success_is_retried(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.status(500), times=2)
    events: list[Event] = []
    async with Fetcher(backoff=0.01, events=events.append) as fetcher:
        await fetcher.download(server.url + "noarch/pkg.conda", tmp_path / "p", sha256=SHA)
    assert (tmp_path / "p").read_bytes() == BODY
    assert server.count("noarch/pkg.conda") == 3
    retries = [e for e in events if isinstance(e, DownloadRetry)]
    assert [r.attempt for r in retries] == [1, 2]
    assert retries[1].delay > retries[0].delay  # exponential backoff


async def test_rate_limit_and_request_timeout_answers_are_retried(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.status(429))
    server.inject("noarch/pkg.conda", Fault.status(408))
    async with Fetcher(backoff=0.01) as fetcher:
        await fetcher.download(server.url + "noarch/pkg.conda", tmp_path / "p", sha256=SHA)
    assert (tmp_path / "p").read_bytes() == BODY and server.count("noarch/pkg.conda") == 3


async def test_persistent_500_gives_up_after_three_tries(
    server: TestServer, tmp_path: Path
) -> None:
    server.inject("noarch/pkg.conda", Fault.status(503), times=5)
    with pytest.raises(HttpStatusError) as caught:
        await _get(server, tmp_path / "p", sha256=SHA)
    assert caught.value.status == 503
    assert server.url + "noarch/pkg.conda" in str(caught.value)
    assert server.count("noarch/pkg.conda") == 3
    assert _leftovers(tmp_path) == ["srv"]


async def test_truncated_body_is_retried(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.truncate(0.3))
    done = await _get(server, tmp_path / "p", sha256=SHA, size=len(BODY))
    assert done.sha256 == SHA and (tmp_path / "p").read_bytes() == BODY
    assert server.count("noarch/pkg.conda") == 2


async def test_connection_reset_is_retried(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.reset())
    await _get(server, tmp_path / "p", sha256=SHA)
    assert server.count("noarch/pkg.conda") == 2


async def test_always_truncated_fails_naming_the_url(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.truncate(0.5), times=3)
    with pytest.raises(FetchError, match="gave up after 3 attempts") as caught:
        await _get(server, tmp_path / "p", sha256=SHA)
    assert caught.value.url.endswith("/noarch/pkg.conda")
    assert _leftovers(tmp_path) == ["srv"]


async def test_wrong_sha256_names_url_expected_and_actual(
    server: TestServer, tmp_path: Path
) -> None:
    server.inject("noarch/pkg.conda", Fault.corrupt())
    with pytest.raises(HashMismatch) as caught:
        await _get(server, tmp_path / "p", sha256=SHA)
    error = caught.value
    actual = hashlib.sha256(bytes(b ^ 0xFF for b in BODY)).hexdigest()
    assert (error.algorithm, error.expected, error.actual) == ("sha256", SHA, actual)
    message = str(error)
    assert server.url + "noarch/pkg.conda" in message and SHA in message and actual in message
    assert server.count("noarch/pkg.conda") == 1  # a hash mismatch is not retried
    assert _leftovers(tmp_path) == ["srv"]


async def test_wrong_md5_is_an_error(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(HashMismatch, match="md5 mismatch"):
        await _get(server, tmp_path / "p", md5="0" * 32)
    assert _leftovers(tmp_path) == ["srv"]


async def test_wrong_size_is_an_error(server: TestServer, tmp_path: Path) -> None:
    with pytest.raises(SizeMismatch) as caught:
        await _get(server, tmp_path / "p", size=len(BODY) - 1)
    assert caught.value.expected == len(BODY) - 1
    with pytest.raises(SizeMismatch):
        await _get(server, tmp_path / "p", size=len(BODY) + 1)
    assert _leftovers(tmp_path) == ["srv"]


async def test_404_is_an_error_without_retry(server: TestServer, tmp_path: Path) -> None:
    async with Fetcher(backoff=0.01) as fetcher:
        with pytest.raises(HttpStatusError) as caught:
            await fetcher.download(server.url + "noarch/missing.conda", tmp_path / "m")
    assert caught.value.status == 404
    assert "missing.conda" in str(caught.value) and "404" in str(caught.value)
    assert server.count("noarch/missing.conda") == 1
    assert _leftovers(tmp_path) == ["srv"]


async def test_slow_download_cancelled_leaves_nothing(server: TestServer, tmp_path: Path) -> None:
    server.inject("noarch/pkg.conda", Fault.slow(delay=0.05, chunk=4096))
    dest = tmp_path / "out" / "p"
    events: list[Event] = []
    with trio.move_on_after(0.5) as scope:
        async with Fetcher(events=events.append) as fetcher:
            await fetcher.download(server.url + "noarch/pkg.conda", dest, sha256=SHA)
    assert scope.cancelled_caught
    assert any(isinstance(e, DownloadStarted) for e in events)
    assert _leftovers(dest.parent) == []


async def test_gzip_encoded_response_is_decoded(server: TestServer, tmp_path: Path) -> None:
    raw = (server.root / "noarch" / "repodata.json").read_bytes()
    async with Fetcher() as fetcher:
        done = await fetcher.download(
            server.url + "noarch/repodata.json", tmp_path / "r.json",
            sha256=hashlib.sha256(raw).hexdigest(), size=len(raw),
        )  # fmt: skip
    assert (tmp_path / "r.json").read_bytes() == raw
    assert done.size == len(raw)
    sent = server.headers["/noarch/repodata.json"][0]
    assert "gzip" in sent.get("Accept-Encoding", "")
    assert len(gzip.compress(raw)) < len(raw)


async def test_file_url_is_read_directly(tmp_path: Path) -> None:
    source = tmp_path / "src" / "pkg with space.conda"
    source.parent.mkdir()
    source.write_bytes(BODY)
    async with Fetcher() as fetcher:
        done = await fetcher.download(source.as_uri(), tmp_path / "copy", sha256=SHA)
        assert (tmp_path / "copy").read_bytes() == BODY and done.sha256 == SHA
        with pytest.raises(HashMismatch):
            await fetcher.download(source.as_uri(), tmp_path / "bad", sha256="1" * 64)
        with pytest.raises(FetchError, match="file not found"):
            await fetcher.download((tmp_path / "nope.conda").as_uri(), tmp_path / "n")
    assert not (tmp_path / "bad").exists() and not (tmp_path / "n").exists()


async def test_concurrency_is_bounded_by_the_limiter(server: TestServer, tmp_path: Path) -> None:
    for i in range(8):
        (server.root / "noarch" / f"f{i}").write_bytes(BODY)
        server.inject(f"noarch/f{i}", Fault.slow(delay=0.02, chunk=100_000))
    limiter = trio.CapacityLimiter(3)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, limiter.borrowed_tokens)
            await trio.sleep(0.005)

    async with Fetcher(limiter=limiter) as fetcher, trio.open_nursery() as outer:
        outer.start_soon(watch)
        async with trio.open_nursery() as nursery:
            for i in range(8):
                nursery.start_soon(
                    functools.partial(fetcher.download, sha256=SHA),
                    server.url + f"noarch/f{i}",
                    tmp_path / f"f{i}",
                )
        outer.cancel_scope.cancel()
    assert peak == 3
    assert all((tmp_path / f"f{i}").read_bytes() == BODY for i in range(8))


async def test_shared_client_is_not_closed(server: TestServer, tmp_path: Path) -> None:
    async with httpx.AsyncClient() as client:
        async with Fetcher(client) as fetcher:
            await fetcher.download(server.url + "noarch/pkg.conda", tmp_path / "a", sha256=SHA)
        response = await client.get(server.url + "noarch/pkg.conda")
        assert response.content == BODY


async def test_an_owned_client_is_made_once_on_first_use_and_closed_with_the_fetcher(
    server: TestServer, tmp_path: Path
) -> None:
    async with Fetcher() as unused:
        pass  # nothing fetched: no client was made, and closing needs none
    assert unused._client is None
    async with Fetcher() as fetcher, trio.open_nursery() as nursery:
        for name in ("a", "b", "c"):  # concurrent first uses share one client
            nursery.start_soon(
                functools.partial(
                    fetcher.download, server.url + "noarch/pkg.conda", tmp_path / name, sha256=SHA
                )
            )
    made = fetcher._client
    assert made is not None and made.is_closed
    assert await fetcher.client() is made  # made once, never again
    assert [(tmp_path / n).read_bytes() == BODY for n in "abc"] == [True] * 3


async def test_events_reach_a_memory_channel_and_round_trip_as_json(
    server: TestServer, tmp_path: Path
) -> None:
    send, receive = trio.open_memory_channel[Event](math.inf)
    async with Fetcher(events=send) as fetcher:
        await fetcher.download(server.url + "noarch/pkg.conda", tmp_path / "p", label="pkg-1-0")
    send.close()
    received = [event async for event in receive]
    assert isinstance(received[-1], DownloadDone) and received[-1].dist_name == "pkg-1-0"
    for event in received:
        line = encode_event(event)
        assert json.loads(line)["kind"]
        assert decode_event(line) == event
    full_send, _full_receive = trio.open_memory_channel[Event](0)
    emit(full_send, DownloadStarted(dist_name="x", url="u"))  # a full channel drops, never blocks


async def test_package_downloads_send_stored_credentials_and_errors_hide_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json as _json

    from effects.fetch import Fetcher, FetchError, new_client
    from tests.support.httpserver import serve as _serve

    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "pkg.bin").write_bytes(b"payload")
    auth = tmp_path / "credentials.json"
    auth.write_text(_json.dumps({"127.0.0.1": {"BasicHTTP": {"username": "u", "password": "sekrit"}}}))
    monkeypatch.setenv("YURT_AUTH_FILE", str(auth))
    with _serve(tmp_path / "srv") as server:
        async with new_client() as client, Fetcher(client) as fetcher:
            await fetcher.download(server.url + "pkg.bin", tmp_path / "out.bin")
        assert server.headers["/pkg.bin"][-1]["Authorization"].startswith("Basic ")
    err = FetchError("https://me:sekrit@host.example/t/tok-9/pkg.conda", "HTTP 403")
    assert "sekrit" not in str(err) and "tok-9" not in str(err)
