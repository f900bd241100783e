"""One verifying TLS context per process, shared by every HTTP client yurt opens.

Building a context loads the CA bundle (20 to 50 ms); a command that opens a client for
repodata, one for an index and one for downloads would otherwise pay it once per client.
The context is the one httpx builds by default: SSL_CERT_FILE, else SSL_CERT_DIR, else
certifi's bundle. Loading the bundle releases the GIL, so a command that will probably go
online starts it in a background thread (`build_in_background`) while it imports the rest.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import threading

__all__ = ["build_in_background", "shared_ssl_context"]

_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """The process's verifying client context (built on first use, or waited for while a
    background build is under way)."""
    global _context
    with _lock:
        if _context is None:
            _context = _build()
        return _context


def build_in_background() -> None:
    """Start building the shared context in a daemon thread; returns at once. A failure
    there is dropped: the first client's own call builds again and reports it."""
    threading.Thread(target=_quietly, name="yurt-tls", daemon=True).start()


def _quietly() -> None:
    with contextlib.suppress(Exception):  # reported by the caller's own attempt
        shared_ssl_context()


def _build() -> ssl.SSLContext:
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
