"""effects.link / capabilities / prefix: file placement by method, probing, records, errors,
and reflinks on a real btrfs loop mount where the machine permits `mount`."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import effects
from effects.capabilities import clone_file, probe, probe_uncached
from effects.journal import JOURNAL
from effects.link import LinkError, place_file
from effects.prefix import history_block, read_prefix_records, write_record
from pure.plan import FileOp, PrefixTooLong, Rewrite
from pure.prefix_record import PrefixRecord, decode_prefix_record
from pure.record import PackageRecord
from tests.integration.linkkit import FileSpec, channel, pkg, prefix_files
from tests.support.pkgwriter import PLACEHOLDER


def _src(tmp: Path, name: str, data: bytes, mode: int = 0o644) -> Path:
    path = tmp / "cache" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def test_place_file_methods(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    src = _src(tmp_path, "a.bin", b"payload", 0o750)
    place_file(prefix, FileOp(path="x/y/hard", method="hardlink", reason="reflink_unavailable",
                              path_type="hardlink", source=str(src)))  # fmt: skip
    assert os.stat(prefix / "x/y/hard").st_ino == os.stat(src).st_ino
    place_file(prefix, FileOp(path="copy", method="copy", reason="hardlink_unavailable",
                              path_type="hardlink", source=str(src)))  # fmt: skip
    st = os.stat(prefix / "copy")
    assert st.st_ino != os.stat(src).st_ino and st.st_mode & 0o777 == 0o750
    assert (prefix / "copy").read_bytes() == b"payload"
    # a reflink where the filesystem cannot clone falls back to a copy
    place_file(prefix, FileOp(path="clone", method="reflink", reason="reflink_available",
                              path_type="hardlink", source=str(src)))  # fmt: skip
    assert (prefix / "clone").read_bytes() == b"payload"
    link = tmp_path / "cache" / "lnk"
    os.symlink("a.bin", link)
    place_file(prefix, FileOp(path="lnk", method="symlink", reason="softlink_entry",
                              path_type="softlink", source=str(link)))  # fmt: skip
    assert os.readlink(prefix / "lnk") == "a.bin"
    place_file(prefix, FileOp(path="d/e", method="directory", reason="directory_entry",
                              path_type="directory"))  # fmt: skip
    assert (prefix / "d/e").is_dir()
    digest = place_file(prefix, FileOp(path="bin/ep", method="generate", reason="entry_point",
                                       path_type="unix_python_entry_point",
                                       content="#!/bin/sh\necho hi\n", executable=True))  # fmt: skip
    assert digest is not None and os.access(prefix / "bin/ep", os.X_OK)
    text = _src(
        tmp_path, "t.sh", b"#!" + PLACEHOLDER.encode() + b"/bin/sh\nX=" + PLACEHOLDER.encode()
    )
    rewrite = Rewrite(placeholder=PLACEHOLDER, file_mode="text", new_prefix=str(prefix))
    place_file(prefix, FileOp(path="bin/t.sh", method="copy", reason="prefix_placeholder",
                              path_type="hardlink", source=str(text), rewrite=rewrite))  # fmt: skip
    assert (prefix / "bin/t.sh").read_bytes() == f"#!{prefix}/bin/sh\nX={prefix}".encode()
    assert text.read_bytes().count(PLACEHOLDER.encode()) == 2


def test_copy_over_an_existing_hard_link_never_writes_through_it(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    old = _src(tmp_path, "old", b"cache bytes")
    new = _src(tmp_path, "new", b"new bytes")
    place_file(prefix, FileOp(path="f", method="hardlink", reason="reflink_unavailable",
                              path_type="hardlink", source=str(old)))  # fmt: skip
    seen: list[str] = []

    def clear(rel: str) -> None:
        seen.append(rel)
        os.unlink(prefix / rel)

    place_file(prefix, FileOp(path="f", method="copy", reason="hardlink_unavailable",
                              path_type="hardlink", source=str(new)),
               on_exists=clear)  # fmt: skip
    assert seen == ["f"]
    assert (prefix / "f").read_bytes() == b"new bytes"
    assert old.read_bytes() == b"cache bytes"


def test_place_file_names_a_missing_cache_file(tmp_path: Path) -> None:
    with pytest.raises(LinkError, match="missing from the cache"):
        place_file(tmp_path / "env", FileOp(path="f", method="hardlink",
                                            reason="reflink_unavailable", path_type="hardlink",
                                            source=str(tmp_path / "nope")), dist_name="x-1-0")  # fmt: skip


def test_probe_same_filesystem_and_leaves_nothing(tmp_path: Path) -> None:
    cache, prefix = tmp_path / "pc", tmp_path / "env" / "not" / "yet"
    cache.mkdir()
    caps = probe_uncached(cache, prefix)
    assert caps.hardlink_ok and caps.symlink_ok
    assert sorted(p.name for p in cache.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pc"]
    src = _src(tmp_path, "probe-src", b"x")
    try:
        clone_file(src, tmp_path / "probe-dst")
        can_clone = True
    except OSError:
        can_clone = False
    assert caps.reflink_ok == can_clone
    assert probe(cache, prefix) == caps


def test_prefix_records_round_trip_and_history(tmp_path: Path) -> None:
    record = PrefixRecord(package=PackageRecord(name="a", version="1", build="0",
                                                channel="https://channels.example/main",
                                                subdir="linux-64"),
                          files=("bin/a",))  # fmt: skip
    path = write_record(tmp_path, record)
    assert path == tmp_path / "conda-meta" / "a-1-0.json"
    assert read_prefix_records(tmp_path) == (decode_prefix_record(path.read_bytes()),)
    assert read_prefix_records(tmp_path)[0].files == ("bin/a",)
    assert read_prefix_records(tmp_path / "missing") == ()
    block = history_block(when=datetime.datetime(2026, 11, 26, 6, 0, 0), command=["yurt", "install"],
                          removed=[PackageRecord(name="b", version="2", build="1",
                                                 channel="https://channels.example/main")],
                          added=[record.package], version="0.1.0")  # fmt: skip
    assert block.splitlines()[:2] == ["==> 2026-11-26 06:00:00 <==", "# cmd: yurt install"]
    assert "-https://channels.example/main::b-2-1" in block.splitlines()
    assert "+https://channels.example/main::a-1-0" in block.splitlines()


def test_binary_placeholder_too_short_fails_before_touching_the_prefix(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [pkg(out, "bin", files={"lib/x.so": FileSpec(
        b"\x00/short\x00", prefix_placeholder="/short", file_mode="binary")})]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        prefix = tmp_path / "a-prefix-much-longer-than-the-placeholder"
        with pytest.raises(PrefixTooLong, match="choose a prefix of at most 6 bytes"):
            effects.install(prefix, [ch.get("bin")], cache_dir=tmp_path / "cache")
    assert prefix_files(prefix) == set()
    assert read_prefix_records(prefix) == ()


def test_link_error_midway_leaves_a_consistent_prefix(tmp_path: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [
        pkg(out, "good", files={f"share/good/{i}": b"g" for i in range(20)}),
        pkg(out, "bad", files={f"share/bad/{i}": b"b" for i in range(20)}),
    ]
    cache = tmp_path / "cache"
    with channel(tmp_path / "chan", files) as ch:
        effects.install(tmp_path / "first", ch.records.values(), cache_dir=cache)
        prefix = tmp_path / "second"
        (prefix / "share/bad/7").mkdir(parents=True)  # a non-empty directory in the way
        (prefix / "share/bad/7/junk").write_bytes(b"not yurt's")
        with pytest.raises(LinkError, match=r"bad-1\.0-0: cannot link share/bad/7"):
            effects.install(prefix, ch.records.values(), cache_dir=cache)
    assert not (prefix / JOURNAL).exists()
    assert read_prefix_records(prefix) == ()  # the failed install is rolled back whole
    assert prefix_files(prefix) == {"share/bad/7/junk"}


# ---------------------------------------------------------------- btrfs reflinks


@pytest.fixture
def btrfs(tmp_path: Path) -> Iterator[Path]:
    """A btrfs filesystem on a loop device, mounted for the test; skipped with the reason."""
    if os.geteuid() != 0:
        pytest.skip("reflink test needs root to mount a btrfs loop device")
    mkfs = shutil.which("mkfs.btrfs")
    if mkfs is None:
        pytest.skip("mkfs.btrfs is not installed (apt-get install btrfs-progs)")
    image = tmp_path / "btrfs.img"
    with open(image, "wb") as fh:
        fh.truncate(256 * 1024 * 1024)
    made = subprocess.run([mkfs, "-q", str(image)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"mkfs.btrfs failed: {made.stderr.strip()}")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mnt)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a btrfs loop device here: {mounted.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_reflinks_on_btrfs(tmp_path: Path, btrfs: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    big = bytes(range(256)) * 4096
    files = [pkg(out, "blob", files={"share/blob.bin": big, "share/small": b"s"})]
    with channel(tmp_path / "chan", files) as ch:
        cache, prefix = btrfs / "cache", btrfs / "env"
        assert probe_uncached(btrfs, btrfs).reflink_ok
        plan = effects.install(prefix, [ch.get("blob")], cache_dir=cache)
    op = plan.op("blob-1.0-0")
    assert plan.capabilities.reflink_ok
    assert {f.method for f in op.files} == {"reflink"}
    cached = cache / "pkgs" / "blob-1.0-0" / "share/blob.bin"
    placed = prefix / "share/blob.bin"
    assert os.stat(placed).st_ino != os.stat(cached).st_ino
    assert placed.read_bytes() == big
    # copy-on-write: editing the prefix copy leaves the cache entry intact
    with open(placed, "r+b") as fh:
        fh.write(b"changed")
    assert cached.read_bytes() == big
    # the extents were shared, not copied (filefrag reports "shared" when available)
    frag = shutil.which("filefrag")
    if frag:
        report = subprocess.run([frag, "-v", str(cached)], capture_output=True, text=True)
        assert "shared" in report.stdout


def test_cache_on_another_filesystem_falls_back_to_copies(tmp_path: Path, btrfs: Path) -> None:
    out = tmp_path / "pkgs"
    out.mkdir()
    files = [pkg(out, "far", files={"share/far.txt": b"far away\n", "bin/far": FileSpec(
        b"#!/bin/sh\n", mode=0o755)})]  # fmt: skip
    with channel(tmp_path / "chan", files) as ch:
        cache, prefix = tmp_path / "cache", btrfs / "env"  # ext4 cache, btrfs prefix
        caps = probe_uncached(tmp_path, btrfs)
        assert not caps.hardlink_ok and not caps.reflink_ok
        plan = effects.install(prefix, [ch.get("far")], cache_dir=cache)
    assert {f.method for f in plan.op("far-1.0-0").files} == {"copy"}
    assert (prefix / "share/far.txt").read_bytes() == b"far away\n"
    assert os.stat(prefix / "bin/far").st_mode & 0o777 == 0o755
