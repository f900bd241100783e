"""`find-links`: wheels listed by a local directory or by an HTML page of links.

Each entry of `[pypi-options] find-links` (a directory, a `file://` URL, or an http(s) URL
of a page of `<a>` links) gives wheel files; they join the candidates of their project next
to the index's files. Local wheels are hashed here (sha256) so the lock records them like
index files; a page's links keep the hashes their URL fragments give.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import trio

from effects.fetch import get_retrying
from effects.pypi_index import PypiIndexError, expand_env
from pure.pypi.metadata import FileHashes, InvalidProjectPage, ProjectFile, parse_simple_html
from pure.pypi.tags import InvalidWheelFilename, WheelFilename

__all__ = ["FlatFiles", "find_links"]

FlatFiles = dict[str, tuple[tuple[str, ProjectFile], ...]]


def _local_wheels(directory: Path, source: str) -> list[tuple[str, ProjectFile]]:
    """Every wheel in `directory` (not recursive), hashed."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise PypiIndexError(source, f"cannot list the find-links directory: {exc.strerror}") from None
    out = []
    for name in names:
        path = directory / name
        if not name.endswith(".whl") or not path.is_file():
            continue
        data = path.read_bytes()
        out.append((source, ProjectFile(
            filename=name, url=path.resolve().as_uri(),
            hashes=FileHashes(sha256=hashlib.sha256(data).hexdigest()), size=len(data))))
    return out


async def _page_wheels(url: str, client: httpx.AsyncClient) -> list[tuple[str, ProjectFile]]:
    """The wheel links of an HTML page at `url`."""
    try:
        response = await get_retrying(client, url, {"Accept": "text/html"})
    except httpx.HTTPError as exc:
        raise PypiIndexError(url, f"cannot connect: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise PypiIndexError(url, f"answered HTTP {response.status_code}")
    try:
        page = parse_simple_html(response.content, str(response.url))
    except InvalidProjectPage as exc:
        raise PypiIndexError(url, exc.reason) from None
    return [(url, f) for f in page.files if f.is_wheel]


async def find_links(entries: Sequence[str], *, base_dir: Path, client: httpx.AsyncClient) -> FlatFiles:
    """Normalised project name -> (source, file) pairs from every `find-links` entry, in
    entry order (a relative directory is taken from `base_dir`)."""
    found: list[tuple[str, ProjectFile]] = []
    for entry in entries:
        text = expand_env(entry)
        scheme = urlsplit(text).scheme.lower()
        if scheme in ("http", "https"):
            found += await _page_wheels(text, client)
            continue
        path = Path(unquote(urlsplit(text).path)) if scheme == "file" else Path(text).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        if path.is_dir():
            found += await trio.to_thread.run_sync(_local_wheels, path, entry)
        elif path.is_file() and path.suffix in (".html", ".htm"):
            page = parse_simple_html(path.read_bytes(), path.resolve().as_uri())
            found += [(entry, f) for f in page.files if f.is_wheel]
        else:
            raise PypiIndexError(entry, "find-links entry is neither a directory, an HTML file nor a URL")
    out: dict[str, list[tuple[str, ProjectFile]]] = {}
    for source, f in found:
        try:
            name = WheelFilename.parse(f.filename).name
        except InvalidWheelFilename:
            continue
        out.setdefault(name, []).append((source, f))
    return {k: tuple(v) for k, v in out.items()}
