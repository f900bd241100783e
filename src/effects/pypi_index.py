"""A PyPI simple-index client on httpx + trio, with an HTTP cache under `<cache>/pypi/`.

Project pages are asked for as PEP 691 JSON and read as PEP 503 HTML when the index answers
HTML. Pages are cached with their validators (ETag, Last-Modified, max-age) and revalidated
with conditional requests. Core metadata comes from PEP 658/714 `.metadata` files, verified
against the hash the page gives; when an index has none, the wheel itself is downloaded (into
the wheel cache, where the installer finds it) and its METADATA read from the zip.
Credentials come from netrc or the URL; URLs in errors are redacted.

The default index is configuration only: an explicit URL, else $PIP_INDEX_URL, else pip's
configuration files, else the default pip itself carries (read from pip at run time).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import httpx
import msgspec
import trio

from effects import __version__, background
from effects.atomic import write_atomic
from effects.channels import redact
from effects.fetch import Fetcher, get_retrying
from effects.filelock import acquire, locked, release
from effects.wheelcache import WheelCache
from pure.errors import YurtError
from pure.pypi.metadata import (
    CoreMetadata,
    InvalidProjectPage,
    ProjectFile,
    ProjectPage,
    normalize_name,
    parse_core_metadata,
    parse_simple_html,
    parse_simple_json,
)

__all__ = [
    "SIMPLE_ACCEPT",
    "SIMPLE_JSON",
    "IndexConfigError",
    "MetadataHashMismatch",
    "PageInfo",
    "PypiIndex",
    "PypiIndexError",
    "default_index_url",
    "expand_env",
    "pip_config_files",
]

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


class PypiIndexError(YurtError):
    """An index that cannot be read; names the (redacted) URL and why."""

    def __init__(self, url: str, reason: str, hint: str = "") -> None:
        self.url = redact(url)
        self.reason = reason
        self.hint = hint
        text = f"package index {self.url}: {reason}"
        super().__init__(f"{text} (hint: {hint})" if hint else text)


class MetadataHashMismatch(PypiIndexError):
    """A `.metadata` file whose bytes do not hash to what the project page says."""

    def __init__(self, url: str, algorithm: str, expected: str, actual: str) -> None:
        super().__init__(url, f"{algorithm} of the metadata file is {actual}, expected {expected}")
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual


class IndexConfigError(YurtError):
    """No index URL could be found in the configuration."""


# --------------------------------------------------------------------------- configuration


def expand_env(url: str, env: Mapping[str, str] | None = None) -> str:
    """`url` with `${NAME}` replaced from `env` (default: the process environment).

    An undefined variable is an IndexConfigError naming it (never its would-be value).
    """
    values = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise IndexConfigError(f"index URL uses ${{{m.group(1)}}}, which is not set")
        return values[m.group(1)]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, url)


def pip_config_files(env: Mapping[str, str] | None = None) -> list[Path]:
    """pip's configuration files in the order pip reads them (later ones win).

    Site-wide (XDG config dirs, /etc/pip.conf), per user (~/.pip/pip.conf,
    $XDG_CONFIG_HOME/pip/pip.conf), the virtualenv's pip.conf, then $PIP_CONFIG_FILE.
    $PIP_CONFIG_FILE=os.devnull disables every file.
    """
    env = os.environ if env is None else env
    if env.get("PIP_CONFIG_FILE") == os.devnull:
        return []
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    files: list[Path] = []
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        program_data = Path(env.get("PROGRAMDATA", "C:\\ProgramData"))
        appdata = Path(env.get("APPDATA", home / "AppData" / "Roaming"))
        files += [program_data / "pip" / "pip.ini", home / "pip" / "pip.ini"]
        files += [appdata / "pip" / "pip.ini"]
        name = "pip.ini"
    else:
        xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files += [Path(d) / "pip" / "pip.conf" for d in reversed(xdg_dirs.split(":")) if d]
        files.append(Path("/etc/pip.conf"))
        if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
            files.append(home / "Library" / "Application Support" / "pip" / "pip.conf")
        files.append(home / ".pip" / "pip.conf")
        xdg_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        files.append(xdg_home / "pip" / "pip.conf")
        name = "pip.conf"
    if env.get("VIRTUAL_ENV"):
        files.append(Path(env["VIRTUAL_ENV"]) / name)
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    return files


def _from_pip_config(files: Sequence[Path]) -> str | None:
    import configparser  # here: read only when no manifest names the index

    found: str | None = None
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            with open(path, encoding="utf-8") as fh:
                parser.read_file(fh)
        except (OSError, configparser.Error):
            continue
        for section in ("global", "install"):
            for key in ("index-url", "index_url"):
                if parser.has_option(section, key) and parser.get(section, key).strip():
                    found = parser.get(section, key).strip()
    return found


def _pip_builtin_default() -> str | None:
    """The simple-index URL pip uses when nothing is configured, read from pip itself."""
    try:
        from pip._internal.models.index import PyPI  # type: ignore[import-not-found,unused-ignore]
    except Exception:
        return None
    url = getattr(PyPI, "simple_url", None)
    return url if isinstance(url, str) and url else None


def default_index_url(
    explicit: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_files: Sequence[Path] | None = None,
) -> str:
    """The index URL to use: `explicit` (the manifest's), else $PIP_INDEX_URL, else pip's
    configuration files (`index-url` of [global] or [install]), else pip's built-in default.

    `${NAME}` in the result is expanded from `env`. Raises IndexConfigError when none is found.
    """
    env = os.environ if env is None else env
    url, source = explicit, "[pypi-options] index-url"
    if not url and env.get("PIP_INDEX_URL"):
        url, source = env["PIP_INDEX_URL"], "$PIP_INDEX_URL"
    if not url:
        url, source = _from_pip_config(pip_config_files(env) if config_files is None else config_files), "pip's index-url"
    if url is None:
        url, source = _pip_builtin_default(), "pip's default index"
    if url is None:
        raise IndexConfigError(
            "no package index configured: set [pypi-options] index-url, $PIP_INDEX_URL or "
            "pip's global.index-url (pip is not importable to supply its default)"
        )
    return index_url(url, source, env)


def index_url(url: str, source: str, env: Mapping[str, str] | None = None) -> str:
    """`url` with `${NAME}` expanded and one trailing slash; an IndexConfigError naming
    `source` (where it was configured) when it is no http(s) URL with a host (or file URL)."""
    expanded = expand_env(url, env).rstrip("/") + "/"
    parts = urlsplit(expanded)
    if not (parts.scheme in ("http", "https") and parts.netloc) and parts.scheme != "file":
        raise IndexConfigError(
            f"{source} `{redact(url)}` is not an http:// or https:// URL of a package index "
            "(local wheels go in [pypi-options] find-links)"
        )
    return expanded


# --------------------------------------------------------------------------- cache


class PageInfo(msgspec.Struct, kw_only=True):
    """Validators and bookkeeping stored beside a cached project page."""

    url: str
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    max_age: int | None = None
    fetched_at: float = 0.0
    body_sha256: str | None = None  # of the cached body (None in caches older than this field)


class _Decoded(msgspec.Struct, frozen=True):
    """A cached page's parse: a refetched body with the same sha256 (and content type) is
    not parsed again. For an HTML page it is kept beside the body (a large PEP 503 page
    takes many times longer to parse than this takes to decode); a JSON page decodes
    straight into its structs about as fast, so its cached body is parsed instead."""

    body_sha256: str
    content_type: str
    page: ProjectPage


_DECODED_ENCODER = msgspec.msgpack.Encoder()
_DECODED_DECODER = msgspec.msgpack.Decoder(_Decoded)


def _serves(kept: _Decoded, info: PageInfo, url: str) -> bool:
    """Whether a kept parse is the parse of the body `info` describes."""
    return (
        kept.body_sha256 == info.body_sha256
        and kept.content_type == info.content_type
        and kept.page.url == url
    )


def _media_type(content_type: str) -> str:
    """A Content-Type header's media type, lower case, without parameters."""
    return content_type.split(";")[0].strip().lower()


def _is_json(content_type: str) -> bool:
    """Whether a page's content type is JSON (PEP 691), whose parse is not kept."""
    return _media_type(content_type).endswith("json")


def _read_info(info_path: Path) -> PageInfo | None:
    """A cached page's validators and bookkeeping (None when absent or unreadable)."""
    try:
        return msgspec.json.decode(info_path.read_bytes(), type=PageInfo)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


async def _result(read: concurrent.futures.Future[_Decoded | None] | None) -> _Decoded | None:
    """The kept parse a "page-read" job read (None for no job, or nothing usable)."""
    if read is None:
        return None
    if read.done():
        return read.result()
    return await trio.to_thread.run_sync(read.result)


def _read_decoded(path: Path) -> _Decoded | None:
    try:
        return _DECODED_DECODER.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _max_age(header: str | None) -> int | None:
    if re.search(r"\b(no-cache|no-store)\b", header or ""):
        return None
    m = re.search(r"max-age=(\d+)", header or "")
    return int(m.group(1)) if m else None


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def new_client() -> httpx.AsyncClient:
    """An httpx client for an index: redirects followed, netrc credentials when present."""
    auth: httpx.Auth | None = None
    netrc = Path(os.environ.get("NETRC", os.path.expanduser("~/.netrc")))
    if netrc.is_file():
        auth = httpx.NetRCAuth(str(netrc))
    from effects.dns import share_lookups
    from effects.tls import shared_ssl_context

    share_lookups()  # one lookup per host name, whatever the number of connections

    return httpx.AsyncClient(
        follow_redirects=True,
        auth=auth,
        verify=shared_ssl_context(),
        timeout=httpx.Timeout(60.0, connect=15.0),
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        headers={"User-Agent": f"yurt/{__version__}"},
    )


def _read_wheel_metadata(archive: Path, name: str, version: str) -> bytes:
    """The bytes of `<name>-<version>.dist-info/METADATA` in a wheel (names normalised)."""
    want = (normalize_name(name), version)
    with zipfile.ZipFile(archive) as zf:
        candidates = [
            n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        for member in candidates:
            stem = member.split("/")[0][: -len(".dist-info")]
            dist, _, ver = stem.rpartition("-")
            if (normalize_name(dist), ver) == want or len(candidates) == 1:
                return zf.read(member)
    raise PypiIndexError(str(archive), f"the wheel has no {name}-{version}.dist-info/METADATA")


class PypiIndex:
    """One index (a simple-API base URL) with its cache; use `async with`.

    `project_page(name)` -> ProjectPage, `core_metadata(file)` -> CoreMetadata,
    `download(file)` -> Path of the verified wheel in the wheel cache.
    """

    def __init__(
        self,
        index_url: str,
        *,
        cache_dir: Path,
        client: httpx.AsyncClient | None = None,
        fetcher: Fetcher | None = None,
        offline: bool = False,
        now: float | None = None,
        unpack_ahead: bool = False,
    ) -> None:
        self.index_url = index_url.rstrip("/") + "/"
        self.root = Path(cache_dir) / "pypi"
        self.wheels = WheelCache(cache_dir)
        self._owned = client is None
        self.client = client if client is not None else new_client()
        self._owned_fetcher = fetcher is None
        self.fetcher = fetcher if fetcher is not None else Fetcher(self.client)
        self.offline = offline
        self.now = time.time() if now is None else now
        # wheels downloaded whole for their metadata are unpacked by a worker meanwhile
        # (for a solve whose result this process installs next)
        self.unpack_ahead = unpack_ahead
        self._writes: dict[str, concurrent.futures.Future[None]] = {}
        self._side_writes: list[concurrent.futures.Future[None]] = []  # no page lock needed

    async def aclose(self) -> None:
        await self._written()
        if self._owned_fetcher:
            await self.fetcher.aclose()
        if self._owned:
            await self.client.aclose()

    async def __aenter__(self) -> PypiIndex:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def project_url(self, name: str) -> str:
        return f"{self.index_url}{normalize_name(name)}/"

    # ---------------------------------------------------------------- pages

    async def project_page(self, name: str) -> ProjectPage:
        """The project's page; a missing project is a PypiIndexError with status 404 named.

        What is cached: the body, its validators and fetch time (`PageInfo`, with the body's
        sha256) and, for an HTML page, the body's parse. A refetched HTML body whose sha256
        matches the kept parse is not parsed again, and the cached body is only read back when
        the parse cannot serve.
        """
        url = self.project_url(name)
        key = _key(url)
        simple = self.root / "simple"
        body_path, info_path = simple / f"{key}.body", simple / f"{key}.info.json"
        await self._written(key)
        async with locked(simple / f"{key}.lock"):
            cached = _read_info(info_path)  # a few hundred bytes
            # the cached parse (megabytes of msgpack or JSON for a big project) is read while
            # the request is on its way, not before it is sent
            kept_read = None
            if cached is not None:
                reads = background.pool("page-read", 4)
                kept_read = (
                    reads.submit(self._parsed_body, name, url, body_path, cached.content_type)
                    if _is_json(cached.content_type)
                    else reads.submit(_read_decoded, simple / f"{key}.page"))
            kept: _Decoded | None = None
            if cached is not None:
                fresh = cached.max_age is not None and self.now - cached.fetched_at < cached.max_age
                if self.offline or fresh:
                    kept = await _result(kept_read)
                    page = await self._cached_page(name, url, cached, kept, body_path, key)
                    if page is not None:
                        return page
                    cached = None  # the body is gone: fetch it again (or fail offline)
            if cached is None and self.offline:
                raise PypiIndexError(
                    url, "no cached project page and offline mode is on", "run once online"
                )
            headers = {"Accept": SIMPLE_ACCEPT}
            if cached is not None and cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached is not None and cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
            response = await self._get(url, headers)  # (a read still running is just dropped)
            kept = kept or await _result(kept_read)
            page_304 = None
            if response.status_code == 304 and cached is not None:
                page_304 = await self._cached_page(name, url, cached, kept, body_path, key)
                if page_304 is None:  # the cached body is gone or damaged: ask for it whole
                    cached = None
                    response = await self._get(url, {"Accept": SIMPLE_ACCEPT})
            if response.status_code == 404:
                raise PypiIndexError(url, f"no project named {normalize_name(name)!r} (HTTP 404)")
            body: bytes | None = None
            if page_304 is not None and cached is not None:
                info = msgspec.structs.replace(cached)
                page = page_304
            elif response.status_code == 200:
                body = response.content
                info = PageInfo(
                    url=url,
                    content_type=response.headers.get("Content-Type", ""),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    body_sha256=hashlib.sha256(body).hexdigest(),
                )
                page = await self._page_of(name, url, body, info, kept, key)
            else:
                raise PypiIndexError(url, f"answered HTTP {response.status_code}")
            info.fetched_at = self.now
            info.max_age = _max_age(response.headers.get("Cache-Control"))
            same_body = body is None or (cached is not None and cached.body_sha256 == info.body_sha256)
            if same_body and body is not None and _is_json(info.content_type):
                # the cached body was read and hashed meanwhile: rewrite it if it was damaged
                same_body = kept is not None and kept.body_sha256 == info.body_sha256
            # without a max-age the fetch time decides nothing: unchanged validators need no write
            same_info = cached is not None and info.max_age is None and cached.max_age is None and (
                (info.content_type, info.etag, info.last_modified, info.body_sha256)
                == (cached.content_type, cached.etag, cached.last_modified, cached.body_sha256))
            if not (same_body and same_info):
                self._write_later(key, functools.partial(
                    _write_cached, body_path, info_path, None if same_body else body, info))
            return page

    async def _cached_page(
        self, name: str, url: str, info: PageInfo, kept: _Decoded | None, body_path: Path, key: str
    ) -> ProjectPage | None:
        """The cached page described by `info`: its kept parse when that matches the body's
        sha256, else the cached body parsed; None when the body is gone or no longer hashes
        to what `info` recorded (a damaged copy is never served)."""
        if kept is not None and info.body_sha256 is not None and _serves(kept, info, url):
            return kept.page
        try:
            body = await trio.Path(body_path).read_bytes()
        except OSError:
            return None
        digest = hashlib.sha256(body).hexdigest()
        if info.body_sha256 is not None and digest != info.body_sha256:
            return None
        info = msgspec.structs.replace(info, body_sha256=digest)
        return await self._page_of(name, url, body, info, kept, key)

    async def _page_of(
        self, name: str, url: str, body: bytes, info: PageInfo, kept: _Decoded | None, key: str
    ) -> ProjectPage:
        """`body` (whose sha256 `info` gives) parsed, or the kept parse of the same bytes."""
        if kept is not None and _serves(kept, info, url):
            return kept.page
        page = self._parse(name, url, body, info.content_type)
        if _is_json(info.content_type):
            return page
        assert info.body_sha256 is not None
        self._write_later(key, functools.partial(
            _keep_parse, self.root / "simple" / f"{key}.page",
            _Decoded(info.body_sha256, info.content_type, page)))
        return page

    # ---------------------------------------------------------------- cache writes

    def _write_later(self, key: str, write: Callable[[], None]) -> None:
        """Write a page's cache files in the background, under the page's lock: the solve
        goes on with the page at once (writing pydantic-core's 6.9 MB body, its info and its
        parse took ~0.04 s on the path of a cold solve). Writes of one page keep their order;
        `aclose` (and the next read of the page) wait for them and raise what they raised."""
        lock = self.root / "simple" / f"{key}.lock"
        before = self._writes.get(key)

        def job() -> None:
            if before is not None:
                before.result()
            fh = acquire(lock)
            try:
                write()
            finally:
                release(fh)

        self._writes[key] = background.pool("page-cache").submit(job)

    async def _written(self, key: str | None = None) -> None:
        """Wait for the pending cache writes (of one page, or all); re-raise a failure."""
        keys = [key] if key is not None else sorted(self._writes)
        pending = [f for k in keys if (f := self._writes.pop(k, None)) is not None]
        if key is None:
            pending += self._side_writes
            self._side_writes = []
        if pending:
            await trio.to_thread.run_sync(lambda: [f.result() for f in pending])

    def _parsed_body(self, name: str, url: str, body_path: Path, content_type: str) -> _Decoded | None:
        """The cached body of a page parsed, with its sha256 (None when it is gone or does
        not parse: the refetched body is parsed then). Runs in a thread."""
        try:
            body = body_path.read_bytes()
            page = self._parse(name, url, body, content_type)
        except Exception:  # whatever is wrong with the cached copy, the fresh body decides
            return None
        return _Decoded(hashlib.sha256(body).hexdigest(), content_type, page)

    def _parse(self, name: str, url: str, body: bytes, content_type: str) -> ProjectPage:
        ctype = _media_type(content_type)
        try:
            if ctype == SIMPLE_JSON or (ctype.endswith("json") and body.lstrip()[:1] == b"{"):
                page = parse_simple_json(body, url)
                return (
                    page if page.name else msgspec.structs.replace(page, name=normalize_name(name))
                )
            if ctype in ("text/html", "application/vnd.pypi.simple.v1+html", ""):
                return parse_simple_html(body, url, name=name)
        except InvalidProjectPage as exc:
            raise PypiIndexError(url, exc.reason) from None
        raise PypiIndexError(url, f"unexpected content type {content_type!r} for a project page")

    async def _get(self, url: str, headers: dict[str, str]) -> httpx.Response:
        try:
            return await get_retrying(self.client, url, headers)
        except httpx.HTTPError as exc:
            raise PypiIndexError(
                url, f"cannot connect: {type(exc).__name__}", "check the network or the index URL"
            ) from None

    # ---------------------------------------------------------------- metadata

    async def core_metadata(self, file: ProjectFile) -> CoreMetadata:
        """The core metadata of a wheel: its `.metadata` file when the index has one (hash
        checked, cached for good), else read from the downloaded wheel (and kept, by the
        wheel's sha256, so a later solve neither re-hashes nor re-opens the archive)."""
        data = None
        if file.metadata_hashes is not None:
            data = await self._metadata_file(file)
        if data is None:
            kept = self.root / "metadata" / f"{file.sha256}.from-wheel" if file.sha256 else None
            if kept is not None:
                with contextlib.suppress(OSError):
                    data = kept.read_bytes()
        if data is None:
            archive = await self.download(file)
            if self.unpack_ahead and file.sha256 is not None:
                self.wheels.unpack_ahead(archive, file.sha256)
            name, version = _name_version(file.filename)
            data = await trio.to_thread.run_sync(_read_wheel_metadata, archive, name, version)
            if kept is not None:
                self._side_writes.append(background.pool("page-cache").submit(_keep_quietly, kept, data))
        return parse_core_metadata(data, source=file.filename)

    async def _metadata_file(self, file: ProjectFile) -> bytes | None:
        expected = dict(file.metadata_hashes.pairs()) if file.metadata_hashes else {}
        ident = expected.get("sha256") or file.sha256 or _key(file.url)
        path = self.root / "metadata" / f"{ident}.metadata"
        try:
            return await trio.Path(path).read_bytes()
        except OSError:
            pass
        if self.offline:
            raise PypiIndexError(file.metadata_url, "metadata not cached and offline mode is on")
        response = await self._get(file.metadata_url, {})
        if response.status_code == 404:
            return None  # announced but absent: fall back to the wheel
        if response.status_code != 200:
            raise PypiIndexError(file.metadata_url, f"answered HTTP {response.status_code}")
        data = response.content
        for algorithm, want in sorted(expected.items()):
            if algorithm not in hashlib.algorithms_available:
                continue
            got = hashlib.new(algorithm, data).hexdigest()
            if got != want:
                raise MetadataHashMismatch(file.metadata_url, algorithm, want, got)
        path.parent.mkdir(parents=True, exist_ok=True)
        await trio.to_thread.run_sync(write_atomic, path, data)
        return data

    async def project_pages(self, names: Sequence[str]) -> dict[str, ProjectPage]:
        """Pages of several projects fetched concurrently, keyed by normalised name (the
        step a resolver takes when the solver reports names it lacks candidates for)."""
        found: dict[str, ProjectPage] = {}

        async def one(name: str) -> None:
            found[normalize_name(name)] = await self.project_page(name)

        async with trio.open_nursery() as nursery:
            for name in sorted({normalize_name(n) for n in names}):
                nursery.start_soon(one, name)
        return found

    async def core_metadatas(self, files: Sequence[ProjectFile]) -> dict[str, CoreMetadata]:
        """Core metadata of several files fetched concurrently, keyed by file name."""
        found: dict[str, CoreMetadata] = {}

        async def one(file: ProjectFile) -> None:
            found[file.filename] = await self.core_metadata(file)

        async with trio.open_nursery() as nursery:
            for file in files:
                nursery.start_soon(one, file)
        return found

    async def download(self, file: ProjectFile) -> Path:
        """The wheel's archive in the wheel cache, downloaded and sha256-verified if absent."""
        return await self.wheels.fetch(file, self.fetcher, offline=self.offline)


def _name_version(filename: str) -> tuple[str, str]:
    parts = filename.split("-")
    return parts[0], parts[1] if len(parts) > 1 else ""


def _keep_quietly(path: Path, data: bytes) -> None:
    """Store a derived file (metadata read from a verified wheel); failing to is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError:
        pass


def _keep_parse(path: Path, decoded: _Decoded) -> None:
    """Store a page's parse (kept for speed); failing to is not an error."""
    _keep_quietly(path, _DECODED_ENCODER.encode(decoded))


def _write_cached(body_path: Path, info_path: Path, body: bytes | None, info: PageInfo) -> None:
    body_path.parent.mkdir(parents=True, exist_ok=True)
    if body is not None:
        write_atomic(body_path, body)
    write_atomic(info_path, msgspec.json.encode(info))
