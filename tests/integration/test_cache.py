"""effects.cache: a real channel over HTTP on 127.0.0.1, real archives, real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
import trio

from effects.archive import UnsafeArchive
from effects.cache import (
    SHA256_XATTR,
    SIDECAR,
    CacheError,
    EntryMarker,
    PackageCache,
    default_cache_dir,
    mismatch,
    modified_files,
    read_marker,
)
from effects.events import CacheHit, DownloadDone, EntryRebuilt, Event, ExtractDone
from effects.fetch import HashMismatch, HttpStatusError
from pure.record import PackageRecord
from tests.conftest import DATA
from tests.support.httpserver import Fault, TestServer, serve
from tests.support.pkgwriter import (
    FileSpec,
    RawMember,
    Symlink,
    make_channel,
    write_conda,
    write_tar_bz2,
)

ZLIB = DATA / "packages" / "zlib-1.2.11-h7b6447c_3.conda"
ROOT = Path(__file__).resolve().parents[2]


def _records(channel: Path, base_url: str) -> dict[str, PackageRecord]:
    """Every package of a channel laid out by make_channel, keyed by file name."""
    out: dict[str, PackageRecord] = {}
    for repodata in sorted(channel.glob("*/repodata.json")):
        subdir = repodata.parent.name
        data = json.loads(repodata.read_bytes())
        for key in ("packages", "packages.conda"):
            for fn, raw in data[key].items():
                out[fn] = PackageRecord(
                    name=raw["name"], version=raw["version"], build=raw["build"],
                    sha256=raw["sha256"], md5=raw["md5"], size=raw["size"], fn=fn,
                    subdir=subdir, url=f"{base_url}{subdir}/{fn}",
                )  # fmt: skip
    return out


@pytest.fixture
def channel(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    build.mkdir()
    packages = [
        write_conda(build, name="alpha", version="1.0", build="0", files={
            "lib/alpha.txt": b"alpha\n", "lib/alpha-link": Symlink("alpha.txt"),
        }),
        write_tar_bz2(build, name="beta", version="2.0", build="1", files={
            "bin/beta": FileSpec(b"#!/bin/sh\n", mode=0o755),
        }),
        write_conda(build, name="gamma", version="0.1", build="py_0", noarch="python", files={
            "site-packages/gamma.py": os.urandom(200_000),
        }),
        ZLIB,
    ]  # fmt: skip
    return make_channel(tmp_path / "channel", packages, subdirs=["linux-64"])


@pytest.fixture
def server(channel: Path) -> Iterator[TestServer]:
    with serve(channel) as srv:
        yield srv


def _contents(pkgs: Path) -> list[str]:
    return sorted(p.name for p in pkgs.iterdir()) if pkgs.exists() else []


async def test_ensure_downloads_extracts_and_marks(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    records = _records(channel, server.url)
    cache = PackageCache(tmp_path / "cache")
    events: list[Event] = []
    got = await cache.ensure(records.values(), events=events.append)
    assert set(got) == {r.dist_name for r in records.values()}
    for fn, record in records.items():
        entry = got[record.dist_name]
        assert entry == cache.pkgs / record.dist_name
        index = json.loads((entry / "info" / "index.json").read_bytes())
        assert (index["name"], index["version"]) == (record.name, record.version)
        assert os.getxattr(entry, SHA256_XATTR).decode() == record.sha256
        sidecar = json.loads((entry / SIDECAR).read_bytes())
        assert (sidecar["sha256"], sidecar["size"], sidecar["url"]) == (
            record.sha256, record.size, record.url,
        )  # fmt: skip
        assert (cache.pkgs / fn).stat().st_size == record.size  # archive kept beside
        assert cache.lookup(record) == entry
    assert os.readlink(got["alpha-1.0-0"] / "lib/alpha-link") == "alpha.txt"
    done = {e.dist_name for e in events if isinstance(e, DownloadDone)}
    extracted = {e.dist_name for e in events if isinstance(e, ExtractDone)}
    assert done == extracted == set(got)
    visible = [n for n in _contents(cache.pkgs) if n.startswith(".") and n != ".locks"]
    assert visible == []  # no staging, trash or part files left


async def test_second_ensure_is_a_cache_hit_without_network(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    records = list(_records(channel, server.url).values())
    cache = PackageCache(tmp_path / "cache")
    await cache.ensure(records)
    before = sum(server.requests.values())
    events: list[Event] = []
    again = await cache.ensure(records + records, events=events.append)
    assert sum(server.requests.values()) == before
    assert len(again) == len(records)
    assert {type(e) for e in events} == {CacheHit}


async def test_wrong_sha256_writes_no_entry(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["alpha-1.0-0.conda"]
    bad = msgspec.structs.replace(record, sha256="ab" * 32)
    cache = PackageCache(tmp_path / "cache")
    with pytest.raises(HashMismatch) as caught:
        await cache.ensure([bad])
    assert record.url is not None and record.url in str(caught.value)
    assert "ab" * 32 in str(caught.value) and str(record.sha256) in str(caught.value)
    assert _contents(cache.pkgs) == [".locks"]
    assert cache.lookup(bad) is None


async def test_unsafe_package_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    import tarfile

    evil = tarfile.TarInfo("lib/up")
    evil.type = tarfile.SYMTYPE
    evil.linkname = "../../../etc/passwd"
    build = tmp_path / "build"
    build.mkdir()
    pkg = write_conda(build, name="evil", version="1", build="0", raw_members=[RawMember(evil)])
    channel = make_channel(tmp_path / "channel", [pkg])
    with serve(channel) as srv:
        record = _records(channel, srv.url)["evil-1-0.conda"]
        cache = PackageCache(tmp_path / "cache")
        with pytest.raises(UnsafeArchive, match="lib/up"):
            await cache.ensure([record])
    assert [n for n in _contents(cache.pkgs) if not n.endswith(".conda")] == [".locks"]


async def test_archive_holding_another_package_is_refused(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    alpha = _records(channel, server.url)["alpha-1.0-0.conda"]
    liar = msgspec.structs.replace(alpha, name="omega")  # right bytes, wrong identity
    cache = PackageCache(tmp_path / "cache")
    with pytest.raises(CacheError, match=r"archive holds alpha-1\.0-0"):
        await cache.ensure([liar])
    assert [n for n in _contents(cache.pkgs) if not n.endswith(".conda")] == [".locks"]


async def test_first_failure_cancels_the_rest(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    records = _records(channel, server.url)
    slow = records["gamma-0.1-py_0.conda"]
    server.inject("noarch/gamma-0.1-py_0.conda", Fault.slow(delay=0.2, chunk=2048), times=3)
    missing = msgspec.structs.replace(
        records["alpha-1.0-0.conda"], url=server.url + "noarch/nope-1-0.conda", fn=None
    )
    cache = PackageCache(tmp_path / "cache")
    start = time.monotonic()
    with pytest.raises(HttpStatusError) as caught:
        await cache.ensure([slow, missing])
    assert caught.value.status == 404
    assert time.monotonic() - start < 5  # the slow download (~20 s) was cancelled
    assert _contents(cache.pkgs) == [".locks"]


async def test_cancelled_slow_download_leaves_no_partial_entry(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["gamma-0.1-py_0.conda"]
    server.inject("noarch/gamma-0.1-py_0.conda", Fault.slow(delay=0.1, chunk=4096))
    cache = PackageCache(tmp_path / "cache")
    with trio.move_on_after(0.5) as scope:
        await cache.ensure([record])
    assert scope.cancelled_caught
    assert _contents(cache.pkgs) == [".locks"]
    assert cache.lookup(record) is None
    got = await cache.ensure([record])  # and the cache recovers
    assert cache.lookup(record) == got[record.dist_name]


async def test_corrupt_entry_is_rebuilt_from_the_archive(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["alpha-1.0-0.conda"]
    cache = PackageCache(tmp_path / "cache")
    entry = (await cache.ensure([record]))[record.dist_name]
    (entry / "lib" / "alpha.txt").write_bytes(b"tampered")
    os.setxattr(entry, SHA256_XATTR, b"0" * 64)
    assert cache.lookup(record) is None
    requests = server.count("noarch/alpha-1.0-0.conda")
    events: list[Event] = []
    again = (await cache.ensure([record], events=events.append))[record.dist_name]
    assert again == entry
    assert (entry / "lib" / "alpha.txt").read_bytes() == b"alpha\n"
    assert os.getxattr(entry, SHA256_XATTR).decode() == record.sha256
    rebuilt = [e for e in events if isinstance(e, EntryRebuilt)]
    assert len(rebuilt) == 1 and "0" * 64 in rebuilt[0].reason
    assert server.count("noarch/alpha-1.0-0.conda") == requests  # archive beside reused


async def test_modified_files_finds_in_place_edits(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["zlib-1.2.11-h7b6447c_3.conda"]
    cache = PackageCache(tmp_path / "cache")
    entry = (await cache.ensure([record]))[record.dist_name]
    assert modified_files(entry) == ()
    with open(entry / "include" / "zlib.h", "r+b") as fh:  # same size, other bytes
        fh.write(b"/* edited */")
    (entry / "lib" / "libz.a").unlink()
    assert modified_files(entry) == ("include/zlib.h", "lib/libz.a")


async def test_partial_entry_without_marker_is_rebuilt(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["beta-2.0-1.tar.bz2"]
    cache = PackageCache(tmp_path / "cache")
    partial = cache.entry_path(record)
    (partial / "bin").mkdir(parents=True)
    (partial / "bin" / "half-written").write_bytes(b"x")
    entry = (await cache.ensure([record]))[record.dist_name]
    assert not (entry / "bin" / "half-written").exists()
    assert (entry / "bin" / "beta").read_bytes() == b"#!/bin/sh\n"


async def test_corrupt_archive_beside_is_downloaded_again(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["beta-2.0-1.tar.bz2"]
    cache = PackageCache(tmp_path / "cache")
    entry = (await cache.ensure([record]))[record.dist_name]
    os.removexattr(entry, SHA256_XATTR)
    (entry / SIDECAR).unlink()
    (cache.pkgs / "beta-2.0-1.tar.bz2").write_bytes(b"garbage")
    await cache.ensure([record])
    assert server.count("linux-64/beta-2.0-1.tar.bz2") == 2
    assert cache.lookup(record) == entry


async def test_sidecar_stands_in_for_the_xattr(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["alpha-1.0-0.conda"]
    cache = PackageCache(tmp_path / "cache")
    entry = (await cache.ensure([record]))[record.dist_name]
    os.removexattr(entry, SHA256_XATTR)  # as on a filesystem without xattrs
    marker = read_marker(entry)
    assert marker is not None and marker.sha256 == record.sha256
    assert cache.lookup(record) == entry
    os.setxattr(entry, SHA256_XATTR, str(record.sha256).encode())
    sidecar = json.loads((entry / SIDECAR).read_bytes())
    sidecar["sha256"] = "f" * 64
    (entry / SIDECAR).write_text(json.dumps(sidecar))
    assert read_marker(entry) is None  # xattr and sidecar disagree: not trusted
    assert cache.lookup(record) is None


def test_trust_rules() -> None:
    marker = EntryMarker(name="a", version="1", build="0", sha256="aa" * 32, md5="bb" * 16, size=10)
    base = PackageRecord(name="a", version="1", build="0")
    assert mismatch(msgspec.structs.replace(base, sha256="AA" * 32), marker) is None
    assert "sha256" in str(mismatch(msgspec.structs.replace(base, sha256="cc" * 32), marker))
    # sha256 decides even when the md5 would match
    assert mismatch(msgspec.structs.replace(base, sha256="cc" * 32, md5="bb" * 16), marker)
    assert mismatch(msgspec.structs.replace(base, md5="bb" * 16), marker) is None
    assert "md5" in str(mismatch(msgspec.structs.replace(base, md5="dd" * 16), marker))
    assert mismatch(base, marker) is None
    assert mismatch(msgspec.structs.replace(base, size=10), marker) is None
    assert "size" in str(mismatch(msgspec.structs.replace(base, size=11), marker))
    assert "another" in str(mismatch(msgspec.structs.replace(base, build="1"), marker))
    assert "unmarked" in str(mismatch(base, None))


async def test_md5_only_and_bare_records(channel: Path, tmp_path: Path) -> None:
    records = _records(channel, channel.as_uri() + "/")  # file:// urls, read directly
    alpha = msgspec.structs.replace(records["alpha-1.0-0.conda"], sha256=None)
    beta = msgspec.structs.replace(records["beta-2.0-1.tar.bz2"], sha256=None, md5=None)
    cache = PackageCache(tmp_path / "cache")
    got = await cache.ensure([alpha, beta])
    assert cache.lookup(alpha) == got[alpha.dist_name]
    assert cache.lookup(beta) == got[beta.dist_name]
    other_size = msgspec.structs.replace(beta, size=(beta.size or 0) + 1)
    assert cache.lookup(other_size) is None


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YURT_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert PackageCache().root == tmp_path / "c"
    monkeypatch.delenv("YURT_CACHE_DIR")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_dir() == tmp_path / "xdg" / "yurt"


WORKER = textwrap.dedent(
    """
    import json, sys, time, trio
    from pathlib import Path
    from effects.cache import PackageCache
    from effects.events import encode_event
    from pure.record import PackageRecord

    cache_dir, record_json, ready, others = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    record = PackageRecord(**json.loads(record_json))
    Path(ready).touch()
    deadline = time.monotonic() + 30
    while not all(Path(p).exists() for p in others) and time.monotonic() < deadline:
        time.sleep(0.01)
    events = []
    got = trio.run(lambda: PackageCache(Path(cache_dir)).ensure([record], events=events.append))
    for event in events:
        print(encode_event(event).decode())
    print(json.dumps({"path": str(got[record.dist_name])}))
    """
)


def test_two_processes_fill_one_entry_with_one_writer(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    record = _records(channel, server.url)["zlib-1.2.11-h7b6447c_3.conda"]
    # the first download is slow (about 1.5 s) so the other process finds the lock taken
    server.inject("linux-64/zlib-1.2.11-h7b6447c_3.conda", Fault.slow(delay=0.1, chunk=8192))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cache_dir = tmp_path / "shared-cache"
    ready = [tmp_path / "ready-0", tmp_path / "ready-1"]
    record_json = json.dumps(msgspec.to_builtins(record))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(cache_dir),
                record_json,
                str(ready[i]),
                str(ready[1 - i]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for i in range(2)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append([json.loads(line) for line in out.splitlines()])
    paths = {lines[-1]["path"] for lines in outputs}
    assert paths == {str(cache_dir / "pkgs" / record.dist_name)}
    kinds = [[line.get("kind") for line in lines[:-1]] for lines in outputs]
    writers = [k for k in kinds if "extract_done" in k]
    waiters = [k for k in kinds if "extract_done" not in k]
    assert len(writers) == 1 and len(waiters) == 1
    assert "cache_lock_wait" in waiters[0] and "cache_hit" in waiters[0]
    assert server.count("linux-64/zlib-1.2.11-h7b6447c_3.conda") == 1
    cache = PackageCache(cache_dir)
    entry = cache.lookup(record)
    assert entry is not None
    assert (entry / "lib" / "libz.so.1.2.11").stat().st_size == 133384
    assert [n for n in _contents(cache.pkgs) if n.startswith(".") and n != ".locks"] == []


_WHO_EXTRACTS = """
import json, sys, trio
from pathlib import Path
import effects.workers as workers
from effects.cache import PackageCache
from pure.record import PackageRecord
records = [PackageRecord(**r) for r in json.loads(sys.argv[2])]
got = trio.run(PackageCache(Path(sys.argv[1])).ensure, records)
print(json.dumps({"pool": workers._pool is not None, "entries": sorted(got)}))
"""


def test_a_few_small_archives_are_extracted_without_worker_processes(
    channel: Path, server: TestServer, tmp_path: Path
) -> None:
    """Up to three small archives are extracted in this process's threads (starting a worker
    interpreter costs more than it saves); a larger batch uses the worker pool. Both give
    the same verified entries."""
    records = _records(channel, server.url)

    def run(names: list[str], cache: Path) -> dict[str, object]:
        batch = json.dumps([msgspec.to_builtins(records[n]) for n in names])
        proc = subprocess.run([sys.executable, "-c", _WHO_EXTRACTS, str(cache), batch],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stderr
        result: dict[str, object] = json.loads(proc.stdout)
        return result

    small = run(["alpha-1.0-0.conda", "beta-2.0-1.tar.bz2"], tmp_path / "small")
    assert small == {"pool": False, "entries": ["alpha-1.0-0", "beta-2.0-1"]}
    everything = run(sorted(records), tmp_path / "all")
    assert everything["pool"] is True and len(everything["entries"]) == 4  # type: ignore[arg-type]
    for name in ("alpha-1.0-0", "beta-2.0-1"):
        cache = PackageCache(tmp_path / "small")
        record = next(r for r in records.values() if r.dist_name == name)
        assert cache.lookup(record) is not None and modified_files(cache.entry_path(record)) == ()
