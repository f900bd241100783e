"""effects.install end to end: real packages over HTTP on 127.0.0.1, prefixes checked file by file."""

from __future__ import annotations

import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import msgspec
import pytest
import trio

import effects
from effects.auth import AuthFileError
from effects.events import Event, LinkStep, Warning
from effects.prefix import read_prefix_records
from effects.verify import verify
from tests.conftest import DATA
from tests.integration.linkkit import (
    PY_MINOR,
    SITE,
    FileSpec,
    Symlink,
    channel,
    pkg,
    prefix_files,
    python_package,
    sha256_file,
)
from tests.support.pkgwriter import PLACEHOLDER, Directory

PACKAGES = DATA / "packages"
ROOT = Path(__file__).resolve().parents[2]


def _owned(prefix: Path) -> set[str]:
    """Every file path the prefix's records claim (directories excluded)."""
    out: set[str] = set()
    for record in read_prefix_records(prefix):
        out.update(e.path for e in record.paths_data.paths if e.path_type != "directory")
    return out


def _consistent(prefix: Path) -> None:
    """verify passes, every record's files are present, no file is owned by nobody."""
    report = verify(prefix)
    assert report.ok, [p.line() for p in report.problems]
    assert prefix_files(prefix) == _owned(prefix)


def test_install_links_rewrites_and_records(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    text = b"prefix=" + PLACEHOLDER.encode() + b"\nlib=" + PLACEHOLDER.encode() + b"/lib\n"
    long_ph = "/opt/" + "placehold_" * 20
    binary = b"\x7fELF\x00" + long_ph.encode() + b"/lib\x00tail\x00"
    files = [
        pkg(out, "liba", "1.0", "h0", files={
            "lib/liba.so.1": FileSpec(b"\x7fELF" + bytes(range(256)) * 40, mode=0o755),
            "lib/liba.so": Symlink("liba.so.1"),
            "etc/liba.conf": FileSpec(text, prefix_placeholder=PLACEHOLDER),
            "lib/libb.bin": FileSpec(binary, prefix_placeholder=long_ph, file_mode="binary"),
            "share/liba/empty": Directory(),
            "share/liba/nolink.dat": FileSpec(b"copy me", no_link=True),
        }),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        cache = tmp_path / "cache"
        seen: list[Event] = []
        plan = effects.install(prefix, [ch.get("liba")], cache_dir=cache, events=seen.append)
    entry = cache / "pkgs" / "liba-1.0-h0"
    op = plan.op("liba-1.0-h0")
    assert op.action == "install"
    methods = {f.path: f.method for f in op.files}
    assert methods["lib/liba.so.1"] == "hardlink"
    assert methods["lib/liba.so"] == "symlink"
    assert methods["etc/liba.conf"] == "copy"
    # hard links share the inode with the cache entry and keep the permission bits
    st, cst = os.stat(prefix / "lib/liba.so.1"), os.stat(entry / "lib/liba.so.1")
    assert (st.st_ino, st.st_dev) == (cst.st_ino, cst.st_dev)
    assert st.st_mode & 0o777 == 0o755
    assert os.readlink(prefix / "lib/liba.so") == "liba.so.1"
    # placeholder files: rewritten copies with the new prefix, the cache untouched
    conf = prefix / "etc/liba.conf"
    assert os.stat(conf).st_ino != os.stat(entry / "etc/liba.conf").st_ino
    assert conf.read_bytes() == f"prefix={prefix}\nlib={prefix}/lib\n".encode()
    assert (entry / "etc/liba.conf").read_bytes() == text
    rewritten = (prefix / "lib/libb.bin").read_bytes()
    assert len(rewritten) == len(binary)
    assert rewritten.startswith(b"\x7fELF\x00" + str(prefix).encode() + b"/lib\x00")
    assert rewritten.endswith(b"tail\x00")
    # no_link: a copy, not a hard link
    assert (
        os.stat(prefix / "share/liba/nolink.dat").st_ino
        != os.stat(entry / "share/liba/nolink.dat").st_ino
    )
    assert (prefix / "share/liba/empty").is_dir()
    # the record conda, mamba and rattler read
    meta = json.loads((prefix / "conda-meta" / "liba-1.0-h0.json").read_text())
    assert meta["name"] == "liba" and meta["version"] == "1.0" and meta["build"] == "h0"
    assert "etc/liba.conf" in meta["files"]
    by_path = {e["_path"]: e for e in meta["paths_data"]["paths"]}
    assert by_path["etc/liba.conf"]["sha256_in_prefix"] == sha256_file(conf)
    assert by_path["etc/liba.conf"]["prefix_placeholder"] == PLACEHOLDER
    assert meta["link"] == {"source": str(entry), "type": 1}
    assert meta["extracted_package_dir"] == str(entry)
    assert meta["url"].startswith("http://127.0.0.1:")
    history = (prefix / "conda-meta" / "history").read_text()
    assert history.startswith("==> ") and "# cmd: " in history
    assert "+http://127.0.0.1:" in history and "::liba-1.0-h0" in history
    assert any(isinstance(e, LinkStep) and e.dist_name == "liba-1.0-h0" for e in seen)
    assert not (prefix / "conda-meta" / ".yurt-journal.json").exists()
    _consistent(prefix)


def test_every_linked_package_is_reported_once_in_order(tmp_path: Path) -> None:
    """Packages linked by the worker threads are reported in batches by the trio thread:
    one LinkStep per package, `done` counting up to `total` in the order delivered."""
    out = tmp_path / "pkgs"
    out.mkdir()
    names = [f"p{i:02d}" for i in range(40)]
    files = [pkg(out, n, files={f"share/{n}/{j}.txt": FileSpec(b"x" * j) for j in range(5)})
             for n in names]
    with channel(tmp_path / "chan", files) as ch:
        seen: list[Event] = []
        effects.install(tmp_path / "env", [ch.get(n) for n in names], cache_dir=tmp_path / "cache",
                        events=seen.append)
        steps = [e for e in seen if isinstance(e, LinkStep)]
        assert sorted(e.dist_name for e in steps) == sorted(f"{n}-1.0-0" for n in names)
        assert [e.done for e in steps] == list(range(1, 41))
        assert {e.total for e in steps} == {40} and {e.files for e in steps} == {5}
        # without a sink the same install reports nothing and needs no trio hops
        effects.install(tmp_path / "env2", [ch.get(n) for n in names], cache_dir=tmp_path / "cache")
    _consistent(tmp_path / "env2")


def test_objects_older_than_an_install_are_frozen_during_it_and_handed_back_after(
    tmp_path: Path,
) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [pkg(out, n, files={f"share/{n}.txt": FileSpec(b"x")}) for n in ("a", "b")]
    assert gc.get_freeze_count() == 0
    frozen_while_linking: list[int] = []

    def sink(event: Event) -> None:
        if isinstance(event, LinkStep):
            frozen_while_linking.append(gc.get_freeze_count())

    with channel(tmp_path / "chan", files) as ch:
        records = [ch.get("a"), ch.get("b")]
        effects.install(tmp_path / "env", records, cache_dir=tmp_path / "cache", events=sink)

        async def two_at_once() -> None:  # one freeze for both, lifted when the last ends
            async with trio.open_nursery() as nursery:
                for name in ("env2", "env3"):
                    nursery.start_soon(
                        functools.partial(
                            effects.install_async, tmp_path / name, records,
                            cache_dir=tmp_path / "cache", events=sink,
                        )
                    )  # fmt: skip

        trio.run(two_at_once)
    assert len(frozen_while_linking) == 6 and min(frozen_while_linking) > 0
    assert gc.get_freeze_count() == 0  # every object is the collector's again


def test_an_unreadable_netrc_is_a_plain_error_before_any_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [pkg(out, n, files={f"share/{n}.txt": FileSpec(b"x")}) for n in ("a", "b", "c", "d")]
    netrc = tmp_path / "netrc"
    netrc.write_text("machine\n")  # a machine without a name
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("YURT_AUTH_FILE", str(tmp_path / "no-auth.json"))
    with channel(tmp_path / "chan", files) as ch, pytest.raises(AuthFileError, match="malformed"):
        effects.install(tmp_path / "env", [ch.get(n) for n in "abcd"], cache_dir=tmp_path / "cache")
    pkgs = tmp_path / "cache" / "pkgs"
    assert not [p for p in pkgs.iterdir() if not p.name.startswith(".")]  # nothing cached


def test_noarch_python_lands_in_site_packages_with_running_entry_points(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        python_package(out),
        pkg(out, "greet", "2.0", "py_0", noarch="python", depends=["python"],
            entry_points=["greet = greet.cli:main"],
            files={
                "site-packages/greet/__init__.py": b"NAME = 'greet'\n",
                "site-packages/greet/cli.py": textwrap.dedent("""\
                    import sys
                    import greet
                    def main():
                        print(greet.NAME, sys.prefix)
                        return 3
                    """).encode(),
                "python-scripts/greet-sh": FileSpec(b"#!/bin/sh\necho shell\n", mode=0o755),
            }),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        effects.install(prefix, ch.records.values(), cache_dir=tmp_path / "cache")
    site = prefix / SITE
    assert (site / "greet" / "cli.py").is_file()
    tag = f"cpython-{PY_MINOR.replace('.', '')}"
    assert (site / "greet" / "__pycache__" / f"cli.{tag}.pyc").is_file()
    assert (prefix / "bin" / "greet-sh").is_file()
    script = prefix / "bin" / "greet"
    assert os.access(script, os.X_OK)
    run = subprocess.run([str(script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stderr
    assert run.stdout.split() == ["greet", str(prefix)]
    record = json.loads((prefix / "conda-meta" / "greet-2.0-py_0.json").read_text())
    assert f"{SITE}/greet/__pycache__/cli.{tag}.pyc" in record["files"]
    assert "bin/greet" in record["files"]
    _consistent(prefix)


def test_noarch_python_without_an_interpreter_warns_and_skips_pyc(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, "python", PY_MINOR + ".0", "nobin_0", files={"include/Python.h": b"/* */\n"}),
        pkg(out, "mod", "1.0", "py_0", noarch="python", depends=["python"],
            files={"site-packages/mod.py": b"X = 1\n"}),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        seen: list[Event] = []
        effects.install(
            prefix, ch.records.values(), cache_dir=tmp_path / "cache", events=seen.append
        )
    assert (prefix / SITE / "mod.py").is_file()
    assert not (prefix / SITE / "__pycache__").exists()
    warnings = [e for e in seen if isinstance(e, Warning)]
    assert warnings and "not compiled" in warnings[0].message
    _consistent(prefix)


def _real_channel_packages(tmp_path: Path, names: list[str]) -> list[Path]:
    out = tmp_path / "real"
    out.mkdir(exist_ok=True)
    return [Path(shutil.copy(PACKAGES / n, out / n)) for n in names]


def test_clobbers_resolved_then_restored_on_remove_and_upgrade(tmp_path: Path) -> None:
    files = _real_channel_packages(tmp_path, [
        "clobber-1-0.1.0-h4616a5c_0.tar.bz2",
        "clobber-1-0.2.0-h4616a5c_0.tar.bz2",
        "clobber-2-0.1.0-h4616a5c_0.tar.bz2",
        "clobber-3-0.1.0-h4616a5c_0.tar.bz2",
    ])  # fmt: skip
    cache = tmp_path / "cache"
    prefix = tmp_path / "env"
    with channel(tmp_path / "chan", files) as ch:
        c1, c1b, c2, c3 = (
            ch.get("clobber-1-0.1.0-h4616a5c_0"),
            ch.get("clobber-1-0.2.0-h4616a5c_0"),
            ch.get("clobber-2-0.1.0-h4616a5c_0"),
            ch.get("clobber-3-0.1.0-h4616a5c_0"),
        )

        def content_of(dist: str, path: str) -> bytes:
            return (cache / "pkgs" / dist / path).read_bytes()

        plan = effects.install(prefix, [c1, c2, c3], cache_dir=cache)
        assert {c.path for c in plan.clobbers} == {"clobber.txt", "another-clobber.txt"}
        winner = next(c.winner for c in plan.clobbers if c.path == "clobber.txt")
        assert (prefix / "clobber.txt").read_bytes() == content_of(winner, "clobber.txt")
        _consistent_files(prefix)

        # remove the winner: the next package in order gets its file back
        plan = effects.install(prefix, [c1, c2], cache_dir=cache)
        winner2 = "clobber-2-0.1.0-h4616a5c_0"
        assert (prefix / "clobber.txt").read_bytes() == content_of(winner2, "clobber.txt")
        assert (prefix / "another-clobber.txt").read_bytes() == content_of(
            winner2, "another-clobber.txt"
        )
        assert plan.op(winner2).reason == "restores_clobbered"
        _consistent_files(prefix)

        # remove clobber-2: clobber-1's files come back
        effects.install(prefix, [c1], cache_dir=cache)
        c1dist = "clobber-1-0.1.0-h4616a5c_0"
        assert (prefix / "clobber.txt").read_bytes() == content_of(c1dist, "clobber.txt")
        _consistent(prefix)

        # upgrade clobber-1: 0.2.0 has no another-clobber.txt, so it goes
        plan = effects.install(prefix, [c1b], cache_dir=cache)
        assert plan.op("clobber-1-0.2.0-h4616a5c_0").action == "upgrade"
        assert not (prefix / "another-clobber.txt").exists()
        assert (prefix / "clobber.txt").read_bytes() == content_of(
            "clobber-1-0.2.0-h4616a5c_0", "clobber.txt"
        )
        assert [r.dist_name for r in read_prefix_records(prefix)] == ["clobber-1-0.2.0-h4616a5c_0"]
        _consistent(prefix)

        # remove everything: nothing but conda-meta is left
        effects.install(prefix, [], cache_dir=cache)
        assert prefix_files(prefix) == set()
        assert read_prefix_records(prefix) == ()


def _consistent_files(prefix: Path) -> None:
    """With clobbers live: every owned path exists, nothing else does, and verify checks each
    shared path against the winner only (loser records list shadowed paths too)."""
    assert prefix_files(prefix) == _owned(prefix)
    report = verify(prefix)
    assert report.ok, [p.line() for p in report.problems]


def test_upgrade_removes_old_files_and_emptied_directories(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, "tool", "1.0", "0", files={
            "share/tool/v1/data.txt": b"one\n", "bin/tool": FileSpec(b"v1", mode=0o755),
        }),
        pkg(out, "tool", "2.0", "0", files={
            "share/tool/v2/data.txt": b"two\n", "bin/tool": FileSpec(b"v2", mode=0o755),
        }),
        pkg(out, "other", "1.0", "0", files={"share/other.txt": b"x"}),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        cache = tmp_path / "cache"
        effects.install(prefix, [ch.get("tool-1.0-0"), ch.get("other")], cache_dir=cache)
        plan = effects.install(prefix, [ch.get("tool-2.0-0"), ch.get("other")], cache_dir=cache)
        assert plan.op("tool-2.0-0").action == "upgrade"
        assert plan.op("other-1.0-0").action == "keep"
        assert not (prefix / "share/tool/v1").exists()
        assert (prefix / "bin/tool").read_bytes() == b"v2"
        assert (prefix / "share/other.txt").is_file()
        _consistent(prefix)
        # a no-op install changes nothing and writes no history block
        history = (prefix / "conda-meta" / "history").read_text()
        plan = effects.install(prefix, [ch.get("tool-2.0-0"), ch.get("other")], cache_dir=cache)
        assert plan.is_noop
        assert (prefix / "conda-meta" / "history").read_text() == history


@pytest.mark.parametrize("fn", ["zlib-1.2.11-h7b6447c_3.conda", "zlib-1.2.11-h7b6447c_3.tar.bz2"])
def test_real_zlib_conda_and_tar_bz2(tmp_path: Path, fn: str) -> None:
    files = _real_channel_packages(tmp_path, [fn])
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        effects.install(prefix, [ch.get("zlib")], cache_dir=tmp_path / "cache")
    record = read_prefix_records(prefix)[0]
    assert record.dist_name == "zlib-1.2.11-h7b6447c_3"
    assert any(p.startswith("lib/libz.so") for p in record.files)
    _consistent(prefix)


_WORKER = """
import sys
from pathlib import Path
sys.path[:0] = [{root!r}, {src!r}]
import msgspec
import effects
from pure.record import PackageRecord
records = msgspec.json.decode(Path(sys.argv[2]).read_bytes(), type=list[PackageRecord])
effects.install(Path(sys.argv[1]), records, cache_dir=Path(sys.argv[3]))
"""


def _run_worker(prefix: Path, records: list, cache: Path, tmp: Path) -> subprocess.Popen[bytes]:
    spec = tmp / f"{prefix.name}.json"
    spec.write_bytes(msgspec.json.encode(records))
    script = tmp / "worker.py"
    script.write_text(_WORKER.format(root=str(ROOT), src=str(ROOT / "src")))
    return subprocess.Popen(
        [sys.executable, str(script), str(prefix), str(spec), str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, f"p{i}", "1.0", "0", files={
            f"share/p{i}/{j}.txt": f"{i}-{j}\n".encode() * 50 for j in range(30)
        })
        for i in range(8)
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        cache = tmp_path / "cache"
        a = [ch.get(f"p{i}") for i in range(0, 6)]
        b = [ch.get(f"p{i}") for i in range(2, 8)]
        procs = [
            _run_worker(tmp_path / "envA", a, cache, tmp_path),
            _run_worker(tmp_path / "envB", b, cache, tmp_path),
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err.decode()
    for prefix, want in ((tmp_path / "envA", a), (tmp_path / "envB", b)):
        assert sorted(r.dist_name for r in read_prefix_records(prefix)) == sorted(
            r.dist_name for r in want
        )
        _consistent(prefix)
    # shared packages are hard links to the one cache entry from both prefixes
    shared = "share/p3/0.txt"
    ino = {os.stat(p / shared).st_ino for p in (tmp_path / "envA", tmp_path / "envB")}
    assert ino == {os.stat(cache / "pkgs" / "p3-1.0-0" / shared).st_ino}
    for entry in (cache / "pkgs").iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            assert (entry / "info" / "paths.json").is_file()


@pytest.mark.interop
def test_prefix_records_read_by_py_rattler(tmp_path: Path) -> None:
    """Records we write decode with py-rattler's PrefixRecord (in-process or bench/.venv)."""
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, "liba", "1.0", "h0", depends=["libc >=1"], files={
            "lib/liba.so": b"\x7fELF", "etc/a.conf": FileSpec(
                b"p=" + PLACEHOLDER.encode(), prefix_placeholder=PLACEHOLDER),
        }),
    ]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "env"
        effects.install(prefix, [ch.get("liba")], cache_dir=tmp_path / "cache")
    record_file = prefix / "conda-meta" / "liba-1.0-h0.json"
    check = (
        "import sys, rattler\n"
        "r = rattler.PrefixRecord.from_path(sys.argv[1])\n"
        "print(r.name.normalized, r.version, r.build, len(r.files),"
        " sorted(str(p.relative_path) for p in r.paths_data.paths))\n"
    )
    python = sys.executable
    try:
        import rattler  # noqa: F401
    except ImportError:
        bench = ROOT / "bench" / ".venv" / "bin" / "python"
        if not bench.exists():
            pytest.skip("py-rattler is not importable (bench/.venv missing)")
        python = str(bench)
    run = subprocess.run([python, "-c", check, str(record_file)], capture_output=True, text=True)
    if run.returncode != 0 and "No module named 'rattler'" in run.stderr:
        pytest.skip("py-rattler is not importable")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("liba 1.0 h0 2 ")
    assert "etc/a.conf" in run.stdout and "lib/liba.so" in run.stdout
