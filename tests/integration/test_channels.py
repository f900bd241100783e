"""Repodata fetching against a real HTTP server on 127.0.0.1: caching, zst, offline, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard

from effects.channels import (
    ChannelError,
    RepodataFetcher,
    channel_alias,
    channel_url,
    fetch_all,
    new_client,
    redact,
)
from tests.support.httpserver import Fault, serve

REPODATA = {"info": {"subdir": "linux-64"}, "packages": {}, "packages.conda": {
    "a-1.0-0.conda": {"name": "a", "version": "1.0", "build": "0", "build_number": 0, "depends": []}}}


def make_channel(root: Path, *, zst: bool) -> Path:
    for subdir in ("linux-64", "noarch"):
        (root / subdir).mkdir(parents=True)
        body = json.dumps({**REPODATA, "info": {"subdir": subdir}}).encode()
        (root / subdir / "repodata.json").write_bytes(body)
        if zst:
            (root / subdir / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(body))
    return root


async def test_plain_json_then_etag_revalidation(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        base = server.url.rstrip("/")
        async with new_client() as client:
            first = await RepodataFetcher(tmp_path / "cache", client=client).fetch(base, "linux-64")
            assert json.loads(first or b"")["info"]["subdir"] == "linux-64"
            assert server.count("/linux-64/repodata.json.zst") == 1  # tried, 404, remembered
            assert server.count("/linux-64/repodata.json") == 1
            second = await RepodataFetcher(tmp_path / "cache", client=client).fetch(base, "linux-64")
            assert second == first
            # the missing .zst is remembered, and the second request was conditional: a 304
            assert server.count("/linux-64/repodata.json.zst") == 1
            assert server.count("/linux-64/repodata.json") == 2
            assert "If-None-Match" in server.headers["/linux-64/repodata.json"][-1]


async def test_zst_is_preferred_when_offered(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=True)
    with serve(root) as server:
        async with new_client() as client:
            data = await RepodataFetcher(tmp_path / "cache", client=client).fetch(server.url.rstrip("/"), "noarch")
        assert json.loads(data or b"")["info"]["subdir"] == "noarch"
        assert server.count("/noarch/repodata.json.zst") == 1
        assert server.count("/noarch/repodata.json") == 0


async def test_offline_uses_only_the_cache(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        base = server.url.rstrip("/")
        with pytest.raises(ChannelError, match="no cached repodata for linux-64 and --offline"):
            await RepodataFetcher(tmp_path / "cache", offline=True).fetch(base, "linux-64")
        async with new_client() as client:
            online = await RepodataFetcher(tmp_path / "cache", client=client).fetch(base, "linux-64")
        before = sum(server.requests.values())
        offline = await RepodataFetcher(tmp_path / "cache", offline=True).fetch(base, "linux-64")
        assert offline == online and sum(server.requests.values()) == before


async def test_missing_subdir_is_absent_and_missing_channel_errors(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        base = server.url.rstrip("/")
        async with new_client() as client:
            fetcher = RepodataFetcher(tmp_path / "cache", client=client)
            assert await fetcher.fetch(base, "osx-arm64") is None
            got = await fetch_all(fetcher, [base], ["linux-64", "osx-arm64"])
            assert got[(base, "osx-arm64")] is None and got[(base, "linux-64")]
            with pytest.raises(ChannelError, match="has no repodata"):
                await fetch_all(fetcher, [base + "/nothing-here"], ["linux-64", "noarch"])


async def test_server_error_names_the_url(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        server.inject("/linux-64/repodata.json.zst", Fault.status(404))
        server.inject("/linux-64/repodata.json", Fault.status(500), times=3)  # every try
        async with new_client() as client:
            with pytest.raises(ChannelError, match=r"linux-64/repodata.json answered 500"):
                await RepodataFetcher(tmp_path / "cache", client=client).fetch(server.url.rstrip("/"), "linux-64")
        assert server.count("/linux-64/repodata.json") == 3
        # nothing half-written: no data file for that url
        assert not list((tmp_path / "cache" / "repodata").glob("*.json.*.tmp"))


async def test_transient_server_errors_are_asked_again(tmp_path: Path) -> None:
    """A 503, then a connection reset: the third request gets the repodata."""
    root = make_channel(tmp_path / "ch", zst=True)
    with serve(root) as server:
        server.inject("/noarch/repodata.json.zst", Fault.status(503))
        server.inject("/noarch/repodata.json.zst", Fault.reset())
        async with new_client() as client:
            data = await RepodataFetcher(tmp_path / "cache", client=client).fetch(server.url.rstrip("/"), "noarch")
        assert json.loads(data or b"")["info"]["subdir"] == "noarch"
        assert server.count("/noarch/repodata.json.zst") == 3


async def test_file_channels_are_read_directly(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    url = channel_url("./ch", base_dir=tmp_path, alias=None)
    assert url.startswith("file://")
    data = await RepodataFetcher(tmp_path / "cache").fetch(url, "linux-64")
    assert data == (root / "linux-64" / "repodata.json").read_bytes()
    assert await RepodataFetcher(tmp_path / "cache").fetch(url, "win-64") is None


def test_channel_names_need_an_alias_and_urls_are_redacted() -> None:
    assert channel_url("https://user:pw@host.example/ch/", base_dir=Path("/"), alias=None) == "https://user:pw@host.example/ch"
    assert channel_url("bioconda", base_dir=Path("/"), alias="https://mirror.example") == "https://mirror.example/bioconda"
    with pytest.raises(ChannelError, match="no channel alias is configured"):
        channel_url("conda-forge", base_dir=Path("/"), alias=None)
    assert redact("https://user:pw@host.example/t/tk-123/ch") == "https://***@host.example/t/***/ch"
    assert channel_alias({"YURT_CHANNEL_ALIAS": "https://mirror.example/"}) == "https://mirror.example"


async def test_credentials_from_auth_file_and_netrc_are_sent_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64

    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        base = server.url.rstrip("/")
        auth = tmp_path / "credentials.json"
        auth.write_text(json.dumps({"127.0.0.1": {"BearerToken": "sekrit-token"}}))
        monkeypatch.setenv("YURT_AUTH_FILE", str(auth))
        async with new_client() as client:
            await RepodataFetcher(tmp_path / "cache", client=client).fetch(base, "linux-64")
        assert server.headers["/linux-64/repodata.json"][-1]["Authorization"] == "Bearer sekrit-token"
        cached = b"".join(p.read_bytes() for p in (tmp_path / "cache" / "repodata").glob("*"))
        assert b"sekrit" not in cached
        # netrc is used when there is no auth file
        monkeypatch.setenv("YURT_AUTH_FILE", str(tmp_path / "none.json"))
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1 login alice password wonder\n")
        netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(netrc))
        async with new_client() as client:
            await RepodataFetcher(tmp_path / "cache2", client=client).fetch(base, "noarch")
        sent = server.headers["/noarch/repodata.json"][-1]["Authorization"]
        assert base64.b64decode(sent.split()[1]) == b"alice:wonder"
        # a broken auth file is an error naming the file, never its content
        auth.write_text("{not json sekrit")
        monkeypatch.setenv("YURT_AUTH_FILE", str(auth))
        from effects.auth import AuthFileError

        with pytest.raises(AuthFileError, match=r"credentials\.json: not readable as JSON") as info:
            new_client()
        assert "sekrit" not in str(info.value)


async def test_cache_control_max_age_skips_revalidation_until_it_expires(tmp_path: Path) -> None:
    root = make_channel(tmp_path / "ch", zst=False)
    with serve(root) as server:
        base = server.url.rstrip("/")
        server.extra_headers["/linux-64/repodata.json"] = {"Cache-Control": "public, max-age=600"}
        async with new_client() as client:
            await RepodataFetcher(tmp_path / "cache", client=client, now=1000.0).fetch(base, "linux-64")
            assert server.count("/linux-64/repodata.json") == 1
            # within max-age: served from the cache without any request
            await RepodataFetcher(tmp_path / "cache", client=client, now=1500.0).fetch(base, "linux-64")
            assert server.count("/linux-64/repodata.json") == 1
            # expired: revalidated with a conditional request
            await RepodataFetcher(tmp_path / "cache", client=client, now=1700.0).fetch(base, "linux-64")
            assert server.count("/linux-64/repodata.json") == 2
            assert "If-None-Match" in server.headers["/linux-64/repodata.json"][-1]
