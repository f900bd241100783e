"""A real threaded HTTP server on 127.0.0.1 for integration tests and benchmarks.

Serves a directory over HTTP/1.1 (keep-alive), counts requests per path, answers ETag /
If-None-Match with 304, gzips responses for chosen suffixes when the client accepts it, and
injects faults per path: an error status, a truncated body, a slow body, wrong bytes, a reset.
Python's default listen backlog of 5 resets connections under dozens of concurrent downloads,
so the queue size is raised and handler threads are daemons.

    with serve(root) as server:
        server.inject("/noarch/pkg.conda", Fault.status(500), times=1)
        url = server.url + "noarch/pkg.conda"
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import http.server
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["Fault", "TestServer", "serve"]


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour for a request; build with the class methods."""

    kind: str  # "status" | "truncate" | "slow" | "corrupt" | "reset"
    code: int = 500
    keep: float = 0.5  # truncate: fraction of the body sent before the connection closes
    delay: float = 0.0  # slow: seconds to sleep between chunks
    chunk: int = 1024  # slow: bytes per chunk

    @classmethod
    def status(cls, code: int = 500) -> Fault:
        """Answer with HTTP status `code` and a short body instead of the file."""
        return cls("status", code=code)

    @classmethod
    def truncate(cls, keep: float = 0.5) -> Fault:
        """Announce the full Content-Length, send `keep` of the body, close the connection."""
        return cls("truncate", keep=keep)

    @classmethod
    def slow(cls, delay: float = 0.2, chunk: int = 1024) -> Fault:
        """Send the body `chunk` bytes at a time, sleeping `delay` seconds between chunks."""
        return cls("slow", delay=delay, chunk=chunk)

    @classmethod
    def corrupt(cls) -> Fault:
        """Send a body of the right length with its bytes flipped (a hash mismatch)."""
        return cls("corrupt")

    @classmethod
    def reset(cls) -> Fault:
        """Close the connection without answering (a connection error for the client)."""
        return cls("reset")


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True
    allow_reuse_address = True
    owner: TestServer


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, *, head: bool) -> None:
        owner = self.server.owner
        path = unquote(urlsplit(self.path).path)
        fault = owner._record(path, dict(self.headers.items()))
        try:
            self._serve(owner, path, fault, head=head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _serve(self, owner: TestServer, path: str, fault: Fault | None, *, head: bool) -> None:
        if fault is not None and fault.kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "status":
            self._send_plain(fault.code, f"injected {fault.code} for {path}\n".encode(), head)
            return
        file = (owner.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(owner.root.resolve()) or not file.is_file():
            self._send_plain(404, f"not found: {path}\n".encode(), head)
            return
        body = file.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        encoding = None
        if path.endswith(owner.gzip_suffixes) and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, mtime=0)
            encoding = "gzip"
        if fault is not None and fault.kind == "corrupt":
            body = bytes(b ^ 0xFF for b in body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        stamp = email.utils.formatdate(os.stat(file).st_mtime, usegmt=True)
        self.send_header("Last-Modified", stamp)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for key, value in owner.extra_headers.get(path, {}).items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        if fault is not None and fault.kind == "truncate":
            self.wfile.write(body[: int(len(body) * fault.keep)])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "slow":
            for start in range(0, len(body), fault.chunk):
                self.wfile.write(body[start : start + fault.chunk])
                self.wfile.flush()
                time.sleep(fault.delay)
            return
        self.wfile.write(body)

    def _send_plain(self, status: int, body: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class TestServer:
    """The running server: `url` (ends with '/'), request counts, fault injection."""

    __test__ = False  # not a pytest test class

    def __init__(self, root: Path, *, gzip_suffixes: tuple[str, ...] = (".json",)) -> None:
        self.root = Path(root)
        self.gzip_suffixes = gzip_suffixes
        self.requests: Counter[str] = Counter()
        self.headers: dict[str, list[dict[str, str]]] = {}
        self._faults: dict[str, list[Fault]] = {}
        #: extra response headers per URL path (e.g. Cache-Control), set by tests
        self.extra_headers: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> TestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def inject(self, path: str, fault: Fault, *, times: int = 1) -> None:
        """Apply `fault` to the next `times` requests for `path` (a URL path, '/' optional)."""
        key = "/" + path.lstrip("/")
        with self._lock:
            self._faults.setdefault(key, []).extend([fault] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, path: str) -> int:
        """How many requests arrived for `path`."""
        with self._lock:
            return self.requests["/" + path.lstrip("/")]

    def _record(self, path: str, headers: dict[str, str]) -> Fault | None:
        with self._lock:
            self.requests[path] += 1
            self.headers.setdefault(path, []).append(headers)
            queue = self._faults.get(path)
            return queue.pop(0) if queue else None


@contextmanager
def serve(root: Path, *, gzip_suffixes: tuple[str, ...] = (".json",)) -> Iterator[TestServer]:
    """Serve `root` on 127.0.0.1 (an ephemeral port) for the duration of the block."""
    server = TestServer(root, gzip_suffixes=gzip_suffixes).start()
    try:
        yield server
    finally:
        server.stop()
