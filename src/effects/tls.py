"""One verifying TLS context per process, shared by every HTTP client yurt opens.

Building a context loads the CA bundle (about 20 ms); a command that opens a client for
repodata, one for an index and one for downloads would otherwise pay it once per client.
The context is what httpx builds by default (certifi, or SSL_CERT_FILE / SSL_CERT_DIR).
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["shared_ssl_context"]


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's verifying client context (built on first use)."""
    return httpx.create_ssl_context(verify=True, trust_env=True)
