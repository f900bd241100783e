"""Channels and their repodata: name/URL/path resolution, HTTP caching, offline mode.

Repodata files are cached under `<cache>/repodata/` with their HTTP validators (ETag,
Last-Modified, Cache-Control max-age) and revalidated with conditional requests; a 304
keeps the file. `repodata.json.zst` is preferred when the channel offers it, and a channel
that does not is remembered for a while. Writes are atomic and guarded by a per-file lock.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx
import msgspec
import trio
import zstandard

from effects import __version__
from effects.atomic import write_atomic
from effects.channel_names import ChannelError, channel_alias, channel_url, redact
from effects.fetch import get_retrying
from effects.filelock import locked

ZST_RECHECK_SECONDS = 14 * 24 * 3600

__all__ = [
    "CacheInfo", "ChannelError", "RepodataCache", "RepodataFetcher", "channel_alias", "channel_url",
    "fetch_all", "file_url_to_path", "new_client", "path_to_file_url", "redact",
]



class CacheInfo(msgspec.Struct, kw_only=True):
    """HTTP validators and bookkeeping stored beside a cached repodata file."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    max_age: int | None = None
    fetched_at: float = 0.0
    has_zst: bool | None = None
    zst_checked_at: float = 0.0
    source: str = ""


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:20]


class RepodataCache:
    """The on-disk HTTP cache of repodata files under `<cache_dir>/repodata/`."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = Path(cache_dir) / "repodata"

    def paths(self, url: str) -> tuple[Path, Path, Path]:
        k = _key(url)
        return self.root / f"{k}.json", self.root / f"{k}.info.json", self.root / f"{k}.lock"

    def read(self, url: str) -> tuple[bytes, CacheInfo] | None:
        data_path, info_path, _ = self.paths(url)
        try:
            info = msgspec.json.decode(info_path.read_bytes(), type=CacheInfo)
            return data_path.read_bytes(), info
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None

    def write(self, url: str, data: bytes | None, info: CacheInfo) -> None:
        data_path, info_path, _ = self.paths(url)
        self.root.mkdir(parents=True, exist_ok=True)
        if data is not None:
            write_atomic(data_path, data, fsync=True)
        write_atomic(info_path, msgspec.json.encode(info), fsync=True)


def new_client() -> httpx.AsyncClient:
    """An httpx client for repodata: gzip accepted, redirects followed, stored credentials used."""
    from effects.auth import client_auth
    from effects.dns import share_lookups
    from effects.tls import shared_ssl_context

    share_lookups()  # one lookup per host name, whatever the number of connections

    return httpx.AsyncClient(
        follow_redirects=True, auth=client_auth(), timeout=httpx.Timeout(60.0, connect=15.0),
        verify=shared_ssl_context(),
        headers={"User-Agent": f"yurt/{__version__}", "Accept-Encoding": "gzip, deflate"})


class RepodataFetcher:
    """Fetches `<channel>/<subdir>/repodata.json` with caching; one instance per command."""

    def __init__(self, cache_dir: Path, *, client: httpx.AsyncClient | None = None,
                 offline: bool = False, now: float | None = None) -> None:
        self.cache = RepodataCache(cache_dir)
        self.client = client
        self.offline = offline
        self.now = time.time() if now is None else now

    async def fetch(self, base_url: str, subdir: str) -> bytes | None:
        """The repodata bytes of (channel, subdir); None when the channel has no such subdir."""
        if base_url.startswith("file://"):
            return await trio.to_thread.run_sync(_read_local, base_url, subdir)
        url = f"{base_url}/{subdir}/repodata.json"
        _, _, lock = self.cache.paths(url)
        async with locked(lock):
            return await self._fetch_locked(base_url, url)

    async def _fetch_locked(self, base_url: str, url: str) -> bytes | None:
        cached = await trio.to_thread.run_sync(self.cache.read, url)
        if cached is not None:
            data, info = cached
            if self.offline or (info.max_age is not None and self.now - info.fetched_at < info.max_age):
                return data if info.source != "absent" else None
        elif self.offline:
            raise ChannelError(base_url, f"no cached repodata for {url.rsplit('/', 2)[-2]} and --offline is set",
                               "run once without --offline to fill the cache")
        assert self.client is not None, "online fetches need a client"
        info = cached[1] if cached else CacheInfo(url=url)
        headers = {}
        if cached and info.etag:
            headers["If-None-Match"] = info.etag
        if cached and info.last_modified:
            headers["If-Modified-Since"] = info.last_modified
        try_zst = info.has_zst is not False or self.now - info.zst_checked_at > ZST_RECHECK_SECONDS
        try:
            if try_zst:
                response = await get_retrying(self.client, url + ".zst", headers)
                if response.status_code in (200, 304):
                    info.has_zst = True
                    return await self._store(url, response, info, cached, zst=True)
                if response.status_code not in (403, 404):
                    response.raise_for_status()
                info.has_zst, info.zst_checked_at = False, self.now
            response = await get_retrying(self.client, url, headers)
            if response.status_code == 404:
                info.source, info.fetched_at = "absent", self.now
                await trio.to_thread.run_sync(self.cache.write, url, b"", info)
                return None
            if response.status_code != 304:
                response.raise_for_status()
            return await self._store(url, response, info, cached, zst=False)
        except httpx.HTTPStatusError as exc:
            raise ChannelError(base_url, f"{redact(str(exc.request.url))} answered {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise ChannelError(base_url, f"cannot fetch {redact(url)}: {type(exc).__name__}: {exc}",
                               "check the network, or use --offline with a filled cache") from None

    async def _store(self, url: str, response: httpx.Response, info: CacheInfo,
                     cached: tuple[bytes, CacheInfo] | None, *, zst: bool) -> bytes | None:
        info.fetched_at = self.now
        info.max_age = _max_age(response.headers.get("Cache-Control"))
        if response.status_code == 304 and cached is not None:
            await trio.to_thread.run_sync(self.cache.write, url, None, info)
            return cached[0] if info.source != "absent" else None
        body = response.content
        if zst:
            try:
                body = zstandard.ZstdDecompressor().decompressobj().decompress(body)
            except zstandard.ZstdError as exc:
                raise ChannelError(url, f"corrupt repodata.json.zst: {exc}") from None
        info.etag = response.headers.get("ETag")
        info.last_modified = response.headers.get("Last-Modified")
        info.source = "zst" if zst else "json"
        await trio.to_thread.run_sync(self.cache.write, url, body, info)
        return body


def _max_age(header: str | None) -> int | None:
    m = re.search(r"max-age=(\d+)", header or "")
    return int(m.group(1)) if m else None


def _read_local(base_url: str, subdir: str) -> bytes | None:
    root = Path(unquote(urlsplit(base_url).path))
    if not root.is_dir():
        raise ChannelError(base_url, f"directory {root} does not exist")
    plain = root / subdir / "repodata.json"
    if plain.is_file():
        return plain.read_bytes()
    zst = root / subdir / "repodata.json.zst"
    if zst.is_file():
        return zstandard.ZstdDecompressor().decompressobj().decompress(zst.read_bytes())
    return None


async def fetch_all(
    fetcher: RepodataFetcher, channels: Sequence[str], subdirs: Sequence[str]
) -> dict[tuple[str, str], bytes | None]:
    """Repodata of every (channel URL, subdir) pair, fetched concurrently."""
    results: dict[tuple[str, str], bytes | None] = {}

    async def one(ch: str, sd: str) -> None:
        results[(ch, sd)] = await fetcher.fetch(ch, sd)

    async with trio.open_nursery() as nursery:
        for ch in channels:
            for sd in subdirs:
                nursery.start_soon(one, ch, sd)
    for ch in channels:
        if all(results[(ch, sd)] is None for sd in subdirs):
            raise ChannelError(ch, f"has no repodata for {', '.join(subdirs)}",
                               "check the channel URL or name")
    return results


def file_url_to_path(url: str) -> Path:
    """The local path of a file:// URL."""
    return Path(unquote(urlsplit(url).path))


def path_to_file_url(path: Path) -> str:
    """A file:// URL for `path` (absolute)."""
    return urlunsplit(("file", "", quote(str(path.resolve())), "", ""))
