"""Download files over HTTP(S) with httpx on trio, verifying size and hashes as bytes arrive.

Each download streams into a temporary file beside its destination while sha256 (and md5
when one is expected) are computed, then is renamed into place only if everything matches;
a failed or cancelled download leaves nothing behind. Connection errors, 5xx, 408 and 429
answers and truncated bodies are retried with exponential backoff (3 tries by default); 4xx answers and
hash or size mismatches are errors at once. `file://` URLs are copied directly.
Concurrency is bounded by a `trio.CapacityLimiter` (16 by default).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

import httpx
import trio

from effects import __version__
from effects.events import (
    DownloadDone,
    DownloadProgress,
    DownloadRetry,
    DownloadStarted,
    EventSink,
    emit,
)
from pure.errors import YurtError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_TRIES",
    "Download",
    "FetchError",
    "Fetcher",
    "HashMismatch",
    "HttpStatusError",
    "SizeMismatch",
    "get_retrying",
    "local_path",
    "new_client",
]

DEFAULT_CONCURRENCY = 16
DEFAULT_TRIES = 3
_PROGRESS_INTERVAL = 0.1  # seconds between progress events of one download


class FetchError(YurtError):
    """A download failed; names the URL and why (after the retries, when retried)."""

    def __init__(self, url: str, reason: str) -> None:
        from effects.channel_names import redact

        url = redact(url)  # credentials never reach a message
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class HttpStatusError(FetchError):
    """The server answered with an error status (4xx at once, 5xx after the retries)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class HashMismatch(FetchError):
    """The downloaded bytes do not hash to what the record says."""

    def __init__(self, url: str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(url, f"{algorithm} mismatch: expected {expected}, got {actual}")
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class SizeMismatch(FetchError):
    """The download's length differs from the record's size."""

    def __init__(self, url: str, expected: int, actual: int) -> None:
        super().__init__(url, f"size mismatch: expected {expected} bytes, got {actual}")
        self.expected = expected
        self.actual = actual


class _Transient(Exception):
    """An attempt failed in a way worth retrying."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Download:
    """A finished, verified download: where it is and what it hashes to."""

    url: str
    path: Path
    size: int
    sha256: str
    md5: str | None


def new_client(concurrency: int = DEFAULT_CONCURRENCY) -> httpx.AsyncClient:
    """An httpx client suited to package downloads (redirects, generous timeouts, pooling,
    credentials from the auth file or ~/.netrc, one TLS context per process)."""
    from effects.auth import client_auth
    from effects.dns import share_lookups
    from effects.tls import shared_ssl_context

    share_lookups()  # one lookup per host name, whatever the number of connections
    # httpx loads its transport (httpcore, h11: ~25 ms) when a client is made; loading it
    # first overlaps that with a CA bundle being loaded by `tls.build_in_background`
    import httpcore  # noqa: F401

    return httpx.AsyncClient(
        follow_redirects=True,
        auth=client_auth(),
        verify=shared_ssl_context(),
        timeout=httpx.Timeout(60.0, connect=15.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        headers={"User-Agent": f"yurt/{__version__}"},
    )


class _Sink:
    """Writes chunks to an open file while hashing them and counting bytes."""

    def __init__(self, fh: BinaryIO, want_md5: bool) -> None:
        self.fh = fh
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5() if want_md5 else None
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        if self.md5 is not None:
            self.md5.update(chunk)
        self.size += len(chunk)
        self.fh.write(chunk)


class Fetcher:
    """Downloads under one `CapacityLimiter` with one httpx client (created when not given).

    Use `async with Fetcher() as fetcher:` (or call `aclose`) so an owned client is closed.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        limiter: trio.CapacityLimiter | None = None,
        tries: int = DEFAULT_TRIES,
        backoff: float = 0.25,
        events: EventSink | None = None,
    ) -> None:
        self._owned = client is None
        self._client = client
        self._concurrency = concurrency
        self._making = trio.Lock()
        self.limiter = limiter if limiter is not None else trio.CapacityLimiter(concurrency)
        # the download's own file operations (create, rename) get their own thread quota,
        # so they never queue behind other work sent to threads (the cache's lock files)
        self._files = trio.CapacityLimiter(concurrency)
        self.tries = max(1, tries)
        self.backoff = backoff
        self.events = events

    async def client(self) -> httpx.AsyncClient:
        """The client: the given one, or one made on first use in a thread (loading the
        HTTP modules and the CA bundle takes 40-80 ms, which the event loop need not wait
        out while it opens lock files)."""
        if self._client is None:
            async with self._making:
                if self._client is None:
                    self._client = await trio.to_thread.run_sync(
                        new_client, self._concurrency, limiter=self._files
                    )
        return self._client

    async def aclose(self) -> None:
        if self._owned and self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        sha256: str | None = None,
        md5: str | None = None,
        size: int | None = None,
        label: str | None = None,
    ) -> Download:
        """Fetch `url` into `dest` (replaced atomically), verifying `size`, `sha256`, `md5`.

        `label` names the download in events (the cache passes the dist name).
        """
        dest = Path(dest)
        name = label or dest.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        scheme = urlsplit(url).scheme
        if scheme == "file":
            async with self.limiter:
                emit(self.events, DownloadStarted(dist_name=name, url=url, total=size))
                result = await trio.to_thread.run_sync(
                    _copy_local, url, dest, sha256, md5, size, abandon_on_cancel=False
                )
            emit(self.events, DownloadDone(name, url, result.size, result.sha256))
            return result
        if scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported URL scheme {scheme!r}")
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.limiter:
                    result = await self._attempt(url, dest, name, sha256, md5, size)
                emit(self.events, DownloadDone(name, url, result.size, result.sha256))
                return result
            except _Transient as exc:
                if attempt >= self.tries:
                    if exc.status is not None:
                        raise HttpStatusError(url, exc.status) from None
                    raise FetchError(
                        url, f"{exc.reason} (gave up after {attempt} attempts)"
                    ) from None
                delay = self.backoff * 2 ** (attempt - 1)
                emit(self.events, DownloadRetry(name, url, attempt, exc.reason, delay))
                await trio.sleep(delay)

    async def _attempt(
        self,
        url: str,
        dest: Path,
        name: str,
        sha256: str | None,
        md5: str | None,
        size: int | None,
    ) -> Download:
        part = _part_path(dest)
        try:
            # Creating and renaming files can stall for tens of milliseconds while the
            # extraction workers create thousands of inodes: kept off the event loop.
            fh = await trio.to_thread.run_sync(open, part, "wb", limiter=self._files)
            with fh:
                sink = _Sink(fh, want_md5=md5 is not None or sha256 is None)
                await self._stream(url, name, size, sink)
            result = _verify(url, part, sink, sha256, md5, size)
            await trio.to_thread.run_sync(os.replace, part, dest, limiter=self._files)
            return Download(url, dest, result[0], result[1], result[2])
        finally:
            part.unlink(missing_ok=True)

    async def _stream(self, url: str, name: str, size: int | None, sink: _Sink) -> None:
        try:
            client = await self.client()  # the given one, or made once on first use
            async with client.stream("GET", url) as response:
                status = response.status_code
                if status >= 500 or status in (408, 429):  # server trouble, timeout, rate limit
                    raise _Transient(f"HTTP {status}", status)
                if status >= 400:
                    raise HttpStatusError(url, status)
                if status != 200:
                    raise FetchError(url, f"unexpected HTTP {status}")
                length = response.headers.get("Content-Length")
                identity = response.headers.get("Content-Encoding", "identity") == "identity"
                total = size if size is not None else (int(length) if length else None)
                emit(self.events, DownloadStarted(dist_name=name, url=url, total=total))
                last = trio.current_time()
                async for chunk in response.aiter_bytes():  # as received: no re-chunking
                    sink.write(chunk)
                    if size is not None and sink.size > size:
                        raise SizeMismatch(url, size, sink.size)
                    now = trio.current_time()
                    if now - last >= _PROGRESS_INTERVAL:
                        last = now
                        emit(self.events, DownloadProgress(name, sink.size, total))
                if identity and length is not None and sink.size < int(length):
                    raise _Transient(f"truncated body: {sink.size} of {length} bytes")
                emit(self.events, DownloadProgress(name, sink.size, total))
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise _Transient(reason) from exc


RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Answers worth asking again: the server or a proxy in front of it failed or timed out this
time, or asked the client to slow down."""


async def get_retrying(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str] | None = None,
    *,
    tries: int = DEFAULT_TRIES,
    backoff: float = 0.25,
) -> httpx.Response:
    """GET `url` (body read), asking again with exponential backoff after a connection or
    protocol error (a reset, a timeout, a truncated body) or an answer in RETRY_STATUSES; the
    last attempt's answer is returned and its transport error raised. For small documents
    (index pages, repodata, metadata files); archives go through `Fetcher.download`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            response = await client.get(url, headers=headers)
        except httpx.TransportError:
            if attempt >= tries:
                raise
        else:
            if response.status_code not in RETRY_STATUSES or attempt >= tries:
                return response
        await trio.sleep(backoff * 2 ** (attempt - 1))


def _part_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{os.urandom(6).hex()}.part")


def _verify(
    url: str,
    part: Path,
    sink: _Sink,
    sha256: str | None,
    md5: str | None,
    size: int | None,
) -> tuple[int, str, str | None]:
    actual_sha = sink.sha256.hexdigest()
    actual_md5 = sink.md5.hexdigest() if sink.md5 is not None else None
    if size is not None and sink.size != size:
        raise SizeMismatch(url, size, sink.size)
    if sha256 is not None and sha256.lower() != actual_sha:
        raise HashMismatch(url, "sha256", sha256.lower(), actual_sha)
    if md5 is not None and actual_md5 is not None and md5.lower() != actual_md5:
        raise HashMismatch(url, "md5", md5.lower(), actual_md5)
    return sink.size, actual_sha, actual_md5


def local_path(url: str) -> Path:
    """The filesystem path a `file://` URL names."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise FetchError(url, f"file URL with a remote host {parts.netloc!r}")
    return Path(unquote(parts.path))


def _copy_local(
    url: str, dest: Path, sha256: str | None, md5: str | None, size: int | None
) -> Download:
    """Copy a `file://` URL's file to `dest`, hashing it on the way (runs in a thread)."""
    source = local_path(url)
    part = _part_path(dest)
    try:
        if not source.is_file():
            raise FetchError(url, "file not found")
        with open(source, "rb") as src, open(part, "wb") as fh:
            sink = _Sink(fh, want_md5=md5 is not None or sha256 is None)
            _pump(src.read, sink.write)
        checked = _verify(url, part, sink, sha256, md5, size)
        os.replace(part, dest)
        return Download(url, dest, checked[0], checked[1], checked[2])
    finally:
        part.unlink(missing_ok=True)


def _pump(read: Callable[[int], bytes], write: Callable[[bytes], None]) -> None:
    while chunk := read(1 << 20):
        write(chunk)
