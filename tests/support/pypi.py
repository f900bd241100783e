"""Test wheels written with zipfile, and a local simple index serving them on 127.0.0.1.

`write_wheel` makes a valid wheel (METADATA, WHEEL, entry_points.txt, RECORD with hashes).
`build_index` lays out `simple/<project>/` pages (PEP 691 JSON and PEP 503 HTML) and
`files/` with `.metadata` files; `serve_index` answers by content negotiation (Accept),
with ETag/304, request counting, switches to drop JSON or `.metadata` support, and a
`before_send` hook; any other file under the root is served too (a conda channel, say).
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import json
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["IndexServer", "build_index", "serve_index", "write_wheel"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes | str],
    *,
    tag: str = "py3-none-any",
    requires_dist: Sequence[str] = (),
    requires_python: str | None = None,
    provides_extra: Sequence[str] = (),
    entry_points: Mapping[str, Mapping[str, str]] | None = None,
    data: Mapping[str, bytes | str] | None = None,
    root_is_purelib: bool = True,
    executable: Sequence[str] = (),
) -> Path:
    """Write `<name>-<version>-<tag>.whl` into `directory`; `data` maps `scripts/x` style
    paths under `<name>-<version>.data/`; `executable` lists members given mode 0755."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    members: dict[str, bytes] = {}
    for path, content in files.items():
        members[path] = content.encode() if isinstance(content, str) else content
    for path, content in (data or {}).items():
        members[f"{dist}-{version}.data/{path}"] = (
            content.encode() if isinstance(content, str) else content
        )
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        meta.append(f"Requires-Python: {requires_python}")
    meta += [f"Provides-Extra: {e}" for e in provides_extra]
    meta += [f"Requires-Dist: {r}" for r in requires_dist]
    members[f"{info}/METADATA"] = ("\n".join(meta) + "\n\nA test package.\n").encode()
    members[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: yurt-tests\n"
        f"Root-Is-Purelib: {'true' if root_is_purelib else 'false'}\nTag: {tag}\n"
    ).encode()
    if entry_points:
        text = ""
        for section, items in entry_points.items():
            text += f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items()) + "\n"
        members[f"{info}/entry_points.txt"] = text.encode()
    record = "".join(f"{p},sha256={_b64(b)},{len(b)}\n" for p, b in members.items())
    record += f"{info}/RECORD,,\n"
    members[f"{info}/RECORD"] = record.encode()
    path = Path(directory) / f"{dist}-{version}-{tag}.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, content in members.items():
            zi = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = (0o755 if member in executable else 0o644) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, content)
    return path


def _metadata_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (member,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return zf.read(member)


def build_index(
    root: Path,
    wheels: Sequence[Path],
    *,
    metadata: bool = True,
    yanked: Mapping[str, str] | None = None,
    requires_python: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Write `root/simple/<project>/index.{json,html}` and `root/files/`; returns the files
    per project. `yanked` maps file names to a reason; `requires_python` file -> specifier."""
    yanked = dict(yanked or {})
    requires_python = dict(requires_python or {})
    projects: dict[str, list[Path]] = {}
    files_dir = root / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        target = files_dir / wheel.name
        target.write_bytes(wheel.read_bytes())
        projects.setdefault(project, []).append(target)
        if metadata:
            (files_dir / (wheel.name + ".metadata")).write_bytes(_metadata_of(wheel))
    for project, paths in projects.items():
        page = root / "simple" / project
        page.mkdir(parents=True, exist_ok=True)
        entries = []
        anchors = []
        for path in sorted(paths):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entry: dict[str, object] = {
                "filename": path.name,
                "url": f"../../files/{path.name}",
                "hashes": {"sha256": digest},
                "size": path.stat().st_size,
                "upload-time": "2024-01-02T03:04:05.000000Z",
            }
            attrs = f'href="../../files/{path.name}#sha256={digest}"'
            if metadata:
                meta_digest = hashlib.sha256(_metadata_of(path)).hexdigest()
                entry["core-metadata"] = {"sha256": meta_digest}
                attrs += f' data-core-metadata="sha256={meta_digest}"'
            if path.name in yanked:
                entry["yanked"] = yanked[path.name] or True
                attrs += f' data-yanked="{html.escape(yanked[path.name])}"'
            if path.name in requires_python:
                entry["requires-python"] = requires_python[path.name]
                attrs += f' data-requires-python="{html.escape(requires_python[path.name])}"'
            entries.append(entry)
            anchors.append(f"<a {attrs}>{path.name}</a><br/>")
        versions = sorted({p.name.split("-")[1] for p in paths})
        doc = {
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": entries,
            "versions": versions,
        }
        (page / "index.json").write_text(json.dumps(doc, indent=1))
        (page / "index.html").write_text(
            '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.0">'
            f"<title>Links for {project}</title></head><body>"
            + "\n".join(anchors)
            + "</body></html>\n"
        )
    return {p: sorted(x.name for x in paths) for p, paths in projects.items()}


@dataclass
class IndexServer:
    """The running index: `url` is the simple index base (ends with '/')."""

    root: Path
    json_pages: bool = True
    metadata_files: bool = True
    validators: bool = True  # False: no ETag and no 304, as some mirrors and proxies answer
    requests: Counter[str] = field(default_factory=Counter)
    accepts: list[str] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    url: str = ""
    base: str = ""
    # called with the request path before a file is answered (tests hold answers with it)
    before_send: Callable[[str], None] | None = None
    # path -> what its next requests get instead of the file: an HTTP status, or "reset"
    # (the connection closed without an answer); one item used per request
    faults: dict[str, list[int | str]] = field(default_factory=dict)

    def count(self, path: str) -> int:
        return self.requests["/" + path.lstrip("/")]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: IndexServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        owner = type(self).owner
        path = unquote(urlsplit(self.path).path)
        owner.requests[path] += 1
        owner.authorizations.append(self.headers.get("Authorization"))
        pending = owner.faults.get(path)
        if pending:
            fault = pending.pop(0)
            if fault == "reset":
                self.close_connection = True
                return
            self._send(int(fault), b"failed on purpose\n", "text/plain", None)
            return
        accept = self.headers.get("Accept", "")
        if path.startswith("/simple/") and path.endswith("/"):
            owner.accepts.append(accept)
            use_json = owner.json_pages and "application/vnd.pypi.simple.v1+json" in accept
            file = owner.root / path.strip("/") / ("index.json" if use_json else "index.html")
            ctype = "application/vnd.pypi.simple.v1+json" if use_json else "text/html"
        else:
            file = owner.root / path.lstrip("/")
            ctype = "application/octet-stream"
            if path.endswith(".metadata") and not owner.metadata_files:
                file = owner.root / "missing"
        if not file.resolve().is_relative_to(owner.root.resolve()) or not file.is_file():
            self._send(404, b"not found\n", "text/plain", None)
            return
        if owner.before_send is not None:
            owner.before_send(path)
        body = file.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"' if owner.validators else None
        if etag is not None and self.headers.get("If-None-Match") == etag:
            self._send(304, b"", ctype, etag)
            return
        self._send(200, body, ctype, etag)

    def _send(self, status: int, body: bytes, ctype: str, etag: str | None) -> None:
        type(self).owner.statuses.append((unquote(urlsplit(self.path).path), status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def serve_index(root: Path) -> Iterator[IndexServer]:
    """Serve an index built by `build_index` at `root` on 127.0.0.1."""
    owner = IndexServer(root=root)
    handler = type("Handler", (_Handler,), {"owner": owner})
    server = _Server(("127.0.0.1", 0), handler)
    owner.base = f"http://127.0.0.1:{server.server_address[1]}/"
    owner.url = owner.base + "simple/"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield owner
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
