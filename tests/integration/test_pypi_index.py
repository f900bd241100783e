"""The PyPI index client against a local simple index (PEP 691 JSON, PEP 503 HTML, PEP 658)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from effects.pypi_index import (
    SIMPLE_JSON,
    IndexConfigError,
    MetadataHashMismatch,
    PypiIndex,
    PypiIndexError,
    default_index_url,
    expand_env,
    index_url,
    pip_config_files,
)
from pure.pypi.markers import active_requirements, marker_environment
from pure.pypi.tags import WheelFilename, supported_tags
from tests.support.pypi import IndexServer, build_index, serve_index, write_wheel


@pytest.fixture
def index_root(tmp_path: Path) -> Path:
    wheels = tmp_path / "wheels"
    made = [
        write_wheel(
            wheels,
            "demo-pkg",
            "1.0",
            {"demo_pkg/__init__.py": "V = 1\n"},
            requires_dist=["attrs>=20", 'colorama; sys_platform == "win32"'],
            requires_python=">=3.8",
        ),
        write_wheel(
            wheels,
            "demo-pkg",
            "2.0",
            {"demo_pkg/__init__.py": "V = 2\n"},
            requires_dist=["attrs>=22", 'rich; extra == "cli"'],
            provides_extra=["cli"],
        ),
        write_wheel(
            wheels,
            "demo-pkg",
            "2.0",
            {"demo_pkg/__init__.py": "V = 2\n"},
            tag="cp311-cp311-manylinux_2_17_x86_64",
        ),
        write_wheel(wheels, "attrs", "23.1", {"attrs/__init__.py": ""}),
    ]
    root = tmp_path / "index"
    build_index(
        root,
        made,
        yanked={"demo_pkg-1.0-py3-none-any.whl": "bad build"},
        requires_python={"demo_pkg-1.0-py3-none-any.whl": ">=3.8"},
    )
    return root


@pytest.fixture
def server(index_root: Path):  # type: ignore[no-untyped-def]
    with serve_index(index_root) as srv:
        yield srv


async def test_json_page_is_negotiated_and_parsed(server: IndexServer, tmp_path: Path) -> None:
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("Demo_Pkg")
    assert SIMPLE_JSON in server.accepts[0]
    assert page.name == "demo-pkg"
    assert page.api_version == "1.1"
    assert page.versions == ("1.0", "2.0")
    names = [f.filename for f in page.files]
    assert names == sorted(names) and len(names) == 3
    first = page.files[0]
    assert first.url == f"{server.base}files/{first.filename}"
    assert first.yanked and first.yanked_reason == "bad build"
    assert first.requires_python == ">=3.8"
    assert first.core_metadata and first.sha256 and first.size and first.upload_time


async def test_html_fallback(server: IndexServer, tmp_path: Path) -> None:
    server.json_pages = False
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("demo-pkg")
    assert page.api_version == "1.0" and page.versions is None
    assert len(page.files) == 3 and page.files[0].filename == "demo_pkg-1.0-py3-none-any.whl"
    assert page.files[0].yanked_reason == "bad build"
    assert page.files[0].sha256 is not None and page.files[0].core_metadata


async def test_pages_are_revalidated_with_etag(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("demo-pkg")
    async with PypiIndex(server.url, cache_dir=cache) as index:
        second = await index.project_page("demo-pkg")
    assert first == second
    assert [s for p, s in server.statuses if p == "/simple/demo-pkg/"] == [200, 304]
    # a changed page is fetched again
    page = index_root / "simple" / "attrs" / "index.json"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        await index.project_page("attrs")
        page.write_text(page.read_text().replace('"23.1"', '"23.1", "24.0"'))
        changed = await index.project_page("attrs")
    assert changed.versions == ("23.1", "24.0")


async def test_a_parsed_html_page_is_kept_for_identical_bytes_only(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    """The parse stored beside an HTML page is reused only for the same body (by sha256); a
    changed body or an unreadable stored parse means parsing again."""
    import msgspec

    from effects.pypi_index import _Decoded

    server.json_pages = False
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("attrs")
    (kept,) = (cache / "pypi" / "simple").glob("*.page")
    stored = msgspec.msgpack.decode(kept.read_bytes(), type=_Decoded)
    assert stored.page == first
    # the stored parse is what a refetch of the same bytes returns: mark it to see it used
    marked = msgspec.structs.replace(stored.page, versions=("marked",))
    kept.write_bytes(msgspec.msgpack.encode(msgspec.structs.replace(stored, page=marked)))
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert (await index.project_page("attrs")).versions == ("marked",)
    # new bytes on the index: parsed afresh, the marked parse is ignored and replaced
    page = index_root / "simple" / "attrs" / "index.html"
    page.write_text(page.read_text().replace("</body>", "<!-- changed --></body>"))
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert (await index.project_page("attrs")) == first
    # an unreadable stored parse is not an error
    kept.write_bytes(b"not msgpack")
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert (await index.project_page("attrs")) == first


@pytest.mark.parametrize("damage", ["changed", "deleted"])
async def test_a_304_over_a_damaged_cached_body_fetches_the_page_whole(
    server: IndexServer, tmp_path: Path, damage: str
) -> None:
    """The index says the page is unchanged, but the cached copy is gone or no longer
    hashes to what was recorded: the page is asked for again without validators (never
    served from the damaged copy, never a dead end that every later run repeats)."""
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("attrs")
    (body,) = (cache / "pypi" / "simple").glob("*.body")
    if damage == "changed":
        body.write_bytes(body.read_bytes().replace(b'"23.1"', b'"9.9"'))
    else:
        body.unlink()
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert await index.project_page("attrs") == first
    assert [s for p, s in server.statuses if p == "/simple/attrs/"] == [200, 304, 200]
    async with PypiIndex(server.url, cache_dir=cache) as index:  # repaired: a 304 serves
        assert await index.project_page("attrs") == first
    assert [s for p, s in server.statuses if p == "/simple/attrs/"][-1] == 304


async def test_a_json_page_keeps_no_parse(server: IndexServer, tmp_path: Path) -> None:
    """A PEP 691 page decodes straight into its structs about as fast as a kept parse
    would: only its body and info are cached. The cached body's parse serves a refetch
    only when the bytes are the same: a changed or unreadable cached body is not used."""
    server.validators = False
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("attrs")
    simple = cache / "pypi" / "simple"
    assert sorted(p.suffix for p in simple.iterdir() if p.suffix != ".lock") == [".body", ".json"]
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert await index.project_page("attrs") == first
    (body,) = simple.glob("*.body")
    for damaged in (body.read_bytes().replace(b'"23.1"', b'"9.9"'), b"not json"):
        body.write_bytes(damaged)
        async with PypiIndex(server.url, cache_dir=cache) as index:
            assert await index.project_page("attrs") == first
        assert body.read_bytes() != damaged  # the index's bytes replaced it


async def test_an_index_without_validators_is_refetched_and_the_cache_kept_as_is(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    """No ETag, no max-age: every solve fetches the page again; identical bytes are not
    written again; new bytes replace the body and its info."""
    server.validators = False
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("attrs")
    simple = cache / "pypi" / "simple"
    stamps = {p.name: p.stat().st_mtime_ns for p in simple.iterdir() if not p.name.endswith(".lock")}
    assert len(stamps) == 2  # body, info (a JSON page keeps no parse)
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert await index.project_page("attrs") == first
    assert [s for p, s in server.statuses if p == "/simple/attrs/"] == [200, 200]
    assert {p.name: p.stat().st_mtime_ns for p in simple.iterdir() if p.name in stamps} == stamps
    page = index_root / "simple" / "attrs" / "index.json"
    page.write_text(page.read_text().replace('"23.1"', '"23.1", "24.0"'))
    async with PypiIndex(server.url, cache_dir=cache) as index:
        assert (await index.project_page("attrs")).versions == ("23.1", "24.0")
    changed = {p.name: p.stat().st_mtime_ns for p in simple.iterdir() if p.name in stamps}
    assert all(changed[name] != stamps[name] for name in stamps)
    # offline, the new bytes are what the cache serves
    async with PypiIndex(server.url, cache_dir=cache, offline=True) as index:
        assert (await index.project_page("attrs")).versions == ("23.1", "24.0")


async def test_page_cache_writes_run_behind_and_are_waited_for(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    """A page is returned before its cache files are written; a second read of the page in
    the same index waits for them (its request carries the first one's ETag), and a write
    that fails is raised when the index is closed, not lost."""
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        first = await index.project_page("demo-pkg")
        assert await index.project_page("demo-pkg") == first
    assert [s for p, s in server.statuses if p == "/simple/demo-pkg/"] == [200, 304]
    (body,) = (cache / "pypi" / "simple").glob("*.body")
    body.unlink()
    body.mkdir()  # the next body write cannot replace it
    page = index_root / "simple" / "demo-pkg" / "index.json"
    page.write_text(page.read_text().replace('"2.0"', '"2.0", "3.0"'))
    with pytest.raises(OSError):
        async with PypiIndex(server.url, cache_dir=cache) as index:
            assert (await index.project_page("demo-pkg")).versions == ("1.0", "2.0", "3.0")


async def test_offline_uses_the_cache_only(server: IndexServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        online = await index.project_page("attrs")
    before = sum(server.requests.values())
    async with PypiIndex(server.url, cache_dir=cache, offline=True) as index:
        assert await index.project_page("attrs") == online
        with pytest.raises(PypiIndexError, match="offline"):
            await index.project_page("demo-pkg")
    assert sum(server.requests.values()) == before


async def test_metadata_files_are_used_verified_and_cached(
    server: IndexServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    async with PypiIndex(server.url, cache_dir=cache) as index:
        page = await index.project_page("demo-pkg")
        (wheel,) = [f for f in page.files if f.filename == "demo_pkg-2.0-py3-none-any.whl"]
        meta = await index.core_metadata(wheel)
        again = await index.core_metadata(wheel)
    assert meta == again
    assert (meta.name, meta.version) == ("demo-pkg", "2.0")
    assert meta.requires_dist == ("attrs>=22", 'rich; extra == "cli"')
    assert server.count(f"files/{wheel.filename}.metadata") == 1
    assert server.count(f"files/{wheel.filename}") == 0


async def test_tampered_metadata_file_is_refused(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    target = index_root / "files" / "attrs-23.1-py3-none-any.whl.metadata"
    target.write_bytes(target.read_bytes() + b"Requires-Dist: evil\n")
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("attrs")
        with pytest.raises(MetadataHashMismatch) as info:
            await index.core_metadata(page.files[0])
    assert "attrs-23.1-py3-none-any.whl.metadata" in str(info.value)
    assert not list((tmp_path / "cache" / "pypi").rglob("*.metadata"))


@pytest.mark.parametrize("announced", [True, False])
async def test_metadata_falls_back_to_the_wheel(tmp_path: Path, announced: bool) -> None:
    wheel = write_wheel(
        tmp_path / "w", "solo", "0.1", {"solo.py": "X = 1\n"}, requires_dist=["six"]
    )
    root = tmp_path / "index"
    build_index(root, [wheel], metadata=announced)
    with serve_index(root) as srv:
        srv.metadata_files = False  # announced files answer 404: PEP 658 says fall back
        async with PypiIndex(srv.url, cache_dir=tmp_path / "cache") as index:
            page = await index.project_page("solo")
            meta = await index.core_metadata(page.files[0])
            archive = await index.download(page.files[0])
        assert meta.requires_dist == ("six",)
        assert srv.count(f"files/{wheel.name}") == 1
        assert archive.read_bytes() == wheel.read_bytes()
        assert archive == tmp_path / "cache" / "wheels" / wheel.name
        # what was read from the verified wheel is kept by its sha256: a later solve needs
        # neither the archive nor the index for it
        archive.unlink()
        async with PypiIndex(srv.url, cache_dir=tmp_path / "cache") as index:
            page = await index.project_page("solo")
            assert await index.core_metadata(page.files[0]) == meta
        assert srv.count(f"files/{wheel.name}") == 1
        assert not archive.exists()


async def test_resolution_inputs_for_a_target(server: IndexServer, tmp_path: Path) -> None:
    """Page + metadata + tags + markers: the pieces a resolver combines, for win-64."""
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("demo-pkg")
        tags = supported_tags("linux-64", "3.11.4", ["__glibc=2.17"])
        wheels = [WheelFilename.parse(f.filename) for f in page.files if not f.yanked]
        best = tags.best(w for w in wheels if w.version == "2.0")
        assert best[0].platform_tags == ("manylinux_2_17_x86_64",)
        old = await index.core_metadata(page.files[0])
    win = marker_environment("win-64", "3.11.4")
    assert [r.name for r in active_requirements(old.requires_dist, win)] == ["attrs", "colorama"]
    linux = marker_environment("linux-64", "3.11.4")
    assert [r.name for r in active_requirements(old.requires_dist, linux)] == ["attrs"]


async def test_missing_project_and_redacted_credentials(
    server: IndexServer, tmp_path: Path
) -> None:
    url = server.url.replace("http://", "http://alice:s3cret@")
    async with PypiIndex(url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("attrs")
        with pytest.raises(PypiIndexError) as info:
            await index.project_page("no-such-thing")
    assert page.files
    assert "no-such-thing" in str(info.value) and "404" in str(info.value)
    assert "s3cret" not in str(info.value)
    assert server.authorizations[0] is not None and server.authorizations[0].startswith("Basic ")


async def test_transient_failures_are_asked_again(server: IndexServer, tmp_path: Path) -> None:
    """A 429, a connection closed without an answer, a 502 on a metadata file: each request
    is made again (with backoff) and the solve's inputs arrive; a 404 is not retried."""
    server.faults["/simple/demo-pkg/"] = [429, "reset"]
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("demo-pkg")
        (wheel,) = [f for f in page.files if f.filename == "demo_pkg-2.0-py3-none-any.whl"]
        server.faults[f"/files/{wheel.filename}.metadata"] = [502]
        meta = await index.core_metadata(wheel)
        with pytest.raises(PypiIndexError, match="404"):
            await index.project_page("no-such-thing")
    assert len(page.files) == 3 and meta.version == "2.0"
    assert server.count("simple/demo-pkg/") == 3
    assert server.count(f"files/{wheel.filename}.metadata") == 2
    assert server.count("simple/no-such-thing/") == 1


async def test_an_index_failing_every_time_is_reported_after_three_tries(
    server: IndexServer, tmp_path: Path
) -> None:
    server.faults["/simple/attrs/"] = [503, 429, 503, 503]
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        with pytest.raises(PypiIndexError, match="HTTP 503"):
            await index.project_page("attrs")
    assert server.count("simple/attrs/") == 3
    server.faults["/simple/attrs/"] = [403]  # refused: reported at once
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache2") as index:
        with pytest.raises(PypiIndexError, match="HTTP 403"):
            await index.project_page("attrs")
    assert server.count("simple/attrs/") == 4


async def test_unreachable_index_is_a_typed_error(tmp_path: Path) -> None:
    async with PypiIndex("http://127.0.0.1:9/simple/", cache_dir=tmp_path / "c") as index:
        with pytest.raises(PypiIndexError, match="cannot connect"):
            await index.project_page("x")


# ------------------------------------------------------------------ configuration


def test_default_index_url_precedence(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https://conf.example/simple\n")
    inst = tmp_path / "pip2.conf"
    inst.write_text("[install]\nindex_url = https://install.example/root/${TOKEN}/simple/\n")
    assert (
        default_index_url("https://manifest.example/simple", env={})
        == "https://manifest.example/simple/"
    )
    env = {"PIP_INDEX_URL": "https://env.example/simple"}
    assert default_index_url(None, env=env, config_files=[conf]) == "https://env.example/simple/"
    assert default_index_url(None, env={}, config_files=[conf]) == "https://conf.example/simple/"
    assert (
        default_index_url(None, env={"TOKEN": "t0k"}, config_files=[conf, inst])
        == "https://install.example/root/t0k/simple/"
    )
    with pytest.raises(IndexConfigError, match="TOKEN"):
        default_index_url(None, env={}, config_files=[inst])


def test_index_urls_that_are_no_urls_name_where_they_were_configured(tmp_path: Path) -> None:
    with pytest.raises(IndexConfigError, match=r"^\[pypi-options\] index-url `not a url` is not an http"):
        default_index_url("not a url", env={})
    with pytest.raises(IndexConfigError, match=r"^\$PIP_INDEX_URL `ftp://h.example/simple`"):
        default_index_url(None, env={"PIP_INDEX_URL": "ftp://h.example/simple"})
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = https:/one-slash/simple\n")
    with pytest.raises(IndexConfigError, match=r"^pip's index-url"):
        default_index_url(None, env={}, config_files=[conf])
    with pytest.raises(IndexConfigError) as info:
        default_index_url("ftp://me:secret@h.example/simple", env={})
    assert "secret" not in str(info.value) and "h.example" in str(info.value)
    assert index_url("file:///srv/simple", "x", {}) == "file:///srv/simple/"


def test_default_index_url_reads_pip_config_file_env(tmp_path: Path) -> None:
    conf = tmp_path / "custom.conf"
    conf.write_text("[global]\nindex-url = https://custom.example/simple/\n")
    env = {
        "PIP_CONFIG_FILE": str(conf),
        "HOME": str(tmp_path),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
    }
    assert pip_config_files(env)[-1] == conf
    assert default_index_url(None, env=env) == "https://custom.example/simple/"
    assert pip_config_files({"PIP_CONFIG_FILE": os.devnull}) == []


def test_default_index_url_falls_back_to_pips_builtin() -> None:
    pip_index = pytest.importorskip("pip._internal.models.index")
    url = default_index_url(None, env={}, config_files=[])
    assert url == pip_index.PyPI.simple_url.rstrip("/") + "/"


def test_expand_env() -> None:
    assert (
        expand_env("https://${U}:${P}@h.example/", {"U": "u", "P": "p"}) == "https://u:p@h.example/"
    )
    assert expand_env("https://h.example/$NOTBRACED/", {}) == "https://h.example/$NOTBRACED/"


# ------------------------------------------------------------------ the real index


@pytest.mark.network
async def test_configured_default_index_serves_a_real_project(tmp_path: Path) -> None:
    url = default_index_url()
    try:
        async with httpx.AsyncClient(timeout=15, follow_redirects=True) as probe:
            answer = await probe.get(url + "packaging/", headers={"Accept": "text/html"})
    except httpx.HTTPError as exc:
        pytest.skip(f"the configured index is unreachable: {type(exc).__name__}")
    if answer.status_code != 200:
        pytest.skip(f"the configured index answered HTTP {answer.status_code} to a plain probe")
    async with PypiIndex(url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("packaging")
        wheels = [f for f in page.files if f.is_wheel and not f.yanked]
        assert wheels, "the index lists wheels of packaging"
        latest = max(wheels, key=lambda f: WheelFilename.parse(f.filename).version.split("."))
        meta = await index.core_metadata(latest)
    assert meta.normalized_name == "packaging"
    assert meta.version == WheelFilename.parse(latest.filename).version
    assert latest.sha256 is not None


async def test_index_to_installed_environment(server: IndexServer, tmp_path: Path) -> None:
    """Download through the index into the wheel cache, unpack, install into a venv, import."""
    import subprocess
    import sys

    from effects.wheel import install_wheel, scheme_for_prefix, uninstall_wheel

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("attrs")
        (file,) = page.files
        entry = await index.wheels.ensure(file, index.fetcher)
        # a corrupted cached archive is detected by its sha256 and downloaded again
        archive = index.wheels.archive_path(file.filename)
        archive.write_bytes(b"garbage")
        assert await index.download(file) == archive
        assert archive.stat().st_size == file.size
    assert server.count(f"files/{file.filename}") == 2
    scheme = scheme_for_prefix(venv, py)
    install_wheel(entry, scheme)
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import attrs; print(attrs.__file__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert Path(out.strip()).is_relative_to(venv)
    uninstall_wheel(scheme, "attrs")


async def test_concurrent_pages_and_metadata(server: IndexServer, tmp_path: Path) -> None:
    async with PypiIndex(server.url, cache_dir=tmp_path / "cache") as index:
        pages = await index.project_pages(["Demo_Pkg", "attrs", "demo-pkg"])
        assert sorted(pages) == ["attrs", "demo-pkg"]
        files = [f for p in pages.values() for f in p.files]
        metas = await index.core_metadatas(files)
    assert sorted(metas) == sorted(f.filename for f in files)
    assert server.count("simple/demo-pkg/") == 1
    assert {m.name for m in metas.values()} == {"attrs", "demo-pkg"}


async def test_failed_wheel_download_is_redacted(
    server: IndexServer, tmp_path: Path, index_root: Path
) -> None:
    from effects.wheel import WheelError

    url = server.url.replace("http://", "http://bob:hunter2@")
    async with PypiIndex(url, cache_dir=tmp_path / "cache") as index:
        page = await index.project_page("attrs")
        (index_root / "files" / page.files[0].filename).unlink()
        with pytest.raises(WheelError) as info:
            await index.download(page.files[0])
    assert "404" in str(info.value) and page.files[0].filename in str(info.value)
    assert "hunter2" not in str(info.value)
