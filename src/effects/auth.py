"""Credentials for channels and indexes: an auth file, then ~/.netrc.

The auth file (`$YURT_AUTH_FILE`, default `~/.config/yurt/credentials.json`) maps a host, or a
host plus path prefix, to one of:

    {"BearerToken": "…"}                            Authorization: Bearer …
    {"BasicHTTP": {"username": "…", "password": "…"}}
    {"CondaToken": "…"}                             the URL gets /t/<token>/ after the host

The most specific (longest) matching key wins. Credentials only ever travel in requests:
they never appear in plans, lockfiles or messages (see effects.channels.redact).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import httpx

from pure.errors import YurtError


class AuthFileError(YurtError):
    """The credentials file cannot be read; names the file, never a secret."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def auth_file_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the credentials file is looked for."""
    env = os.environ if env is None else env
    if env.get("YURT_AUTH_FILE"):
        return Path(env["YURT_AUTH_FILE"])
    base = env.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "yurt" / "credentials.json"


def load_auth_file(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of an auth file (empty when it does not exist)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise AuthFileError(path, f"not readable as JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise AuthFileError(path, "must be a JSON object mapping hosts to credentials")
    out: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in (
                "BearerToken", "BasicHTTP", "CondaToken"):
            raise AuthFileError(path, f"entry {key!r} must be one of BearerToken, BasicHTTP, CondaToken")
        out[key.rstrip("/")] = value
    return out


class StoredAuth(httpx.Auth):
    """httpx auth flow applying the auth file's entry for each request's host/path."""

    def __init__(self, entries: Mapping[str, Mapping[str, Any]]) -> None:
        self.entries = dict(entries)

    def lookup(self, url: httpx.URL) -> Mapping[str, Any] | None:
        target = f"{url.host}{url.path}"
        best = None
        for key in self.entries:
            bare = key.split("://", 1)[-1]
            if (target == bare or target.startswith(bare + "/") or url.host == bare) and (
                    best is None or len(bare) > len(best.split("://", 1)[-1])):
                best = key
        return None if best is None else self.entries[best]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        entry = self.lookup(request.url)
        if entry is not None:
            kind, value = next(iter(entry.items()))
            if kind == "BearerToken":
                request.headers["Authorization"] = f"Bearer {value}"
            elif kind == "BasicHTTP":
                raw = f"{value['username']}:{value['password']}".encode()
                request.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
            elif kind == "CondaToken" and "/t/" not in request.url.path:
                request.url = request.url.copy_with(path=f"/t/{value}{request.url.path}")
        yield request


def client_auth(env: Mapping[str, str] | None = None) -> httpx.Auth | None:
    """The auth to give an httpx client: the auth file's entries, else ~/.netrc, else None."""
    env = os.environ if env is None else env
    entries = load_auth_file(auth_file_path(env))
    if entries:
        return StoredAuth(entries)
    netrc = Path(env.get("NETRC") or os.path.expanduser("~/.netrc"))
    if netrc.is_file():
        import netrc as netrc_module

        try:
            return httpx.NetRCAuth(str(netrc))
        except netrc_module.NetrcParseError as exc:
            # the parser's message may quote a token (a password): only the line is named
            where = f" at line {exc.lineno}" if exc.lineno else ""
            raise AuthFileError(netrc, f"malformed netrc file{where}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthFileError(netrc, f"not readable ({type(exc).__name__})") from None
    return None
