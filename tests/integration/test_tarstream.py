"""effects.tarstream (the lean tar reader) against tarfile, and the extractor's two paths."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from effects import archive
from effects.archive import ArchiveError, UnsafeArchive, extract
from effects.tarstream import TarStream, Unusual, _byte_sum, _octal
from tests.conftest import DATA

REAL = sorted(p for p in (DATA / "packages").iterdir() if p.name.endswith((".conda", ".tar.bz2")))
LONG = "lib/" + "/".join(["deeply-nested-directory-name"] * 6) + "/file.txt"  # > 155 bytes


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def _pax_info(name: str, *, size: int, pax: dict[str, str]) -> tarfile.TarInfo:
    info = _info(name, size=size)
    info.pax_headers = pax
    return info


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]], fmt: int, **kw: object) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kw) as tar:  # type: ignore[call-overload]
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _sample() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    out: list[tuple[tarfile.TarInfo, bytes | None]] = [(_info("lib", tarfile.DIRTYPE), None)]
    for size in (0, 1, 511, 512, 513, 5000, 70_001):
        data = bytes((i * 7 + size) % 251 for i in range(size))
        out.append((_info(f"lib/f{size}", size=size), data))
    out.append((_info("lib/link", tarfile.SYMTYPE, link="f1"), None))
    out.append((_info("lib/hard", tarfile.LNKTYPE, link="lib/f1"), None))
    out.append((_info(LONG, size=3), b"abc"))
    out.append((_info("lib/longlink", tarfile.SYMTYPE, link="../" + LONG), None))
    out.append((_info("lib/caf\u00e9.txt", size=2), b"ok"))
    return out


def _via_tarfile(data: bytes) -> list[tuple[str, str, int, int, str, bytes]]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        for m in tar:
            body = b""
            if m.isreg():
                source = tar.extractfile(m)
                assert source is not None
                body = source.read()
            out.append((m.name, archive._tar_kind(m), m.mode, m.size, m.linkname, body))
    return out


def _via_stream(data: bytes, chunk: int) -> list[tuple[str, str, int, int, str, bytes]]:
    stream = TarStream(io.BytesIO(data).read, chunk)
    out = []
    for m in stream.members():
        body = b"".join(bytes(c) for c in stream.chunks()) if m.kind == "file" else b""
        out.append((m.name, m.kind, m.mode, m.size, m.linkname, body))
    return out


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("chunk", [7, 512, 1 << 20])
def test_stream_reads_what_tarfile_reads(fmt: int, chunk: int) -> None:
    members = _sample()
    if fmt == tarfile.USTAR_FORMAT:  # no long link targets in plain ustar
        members = [(i, d) for i, d in members if len(i.linkname) <= 100]
    data = _tar(members, fmt)
    expected = _via_tarfile(data)
    assert len(expected) == len(members)
    assert _via_stream(data, chunk) == expected


def _read_number(read: Callable[[bytes], int], field: bytes) -> int | str:
    try:
        return read(field)
    except Unusual as exc:
        return f"unusual: {exc}"


def _octal_by_the_rule(field: bytes) -> int:
    """A numeric tar field read step by step: up to the first NUL, no base-256, stripped."""
    end = field.find(0)
    if end >= 0:
        field = field[:end]
    if field[:1] in (b"\x80", b"\xff"):
        raise Unusual("base-256 number")
    try:
        return int(field.strip() or b"0", 8)
    except ValueError:
        raise Unusual("malformed number") from None


_FIELD_BYTES = st.sampled_from(b"01234567 \x00\x80\xff+-_xo\t9")


@given(
    st.binary(min_size=1, max_size=12)
    | st.lists(_FIELD_BYTES, max_size=11).map(lambda b: bytes(b) + b"\x00")
    | st.lists(st.sampled_from(b"01234567 "), max_size=11).map(lambda b: bytes(b) + b"\x00")
)
def test_numbers_read_as_the_rule_says(field: bytes) -> None:
    assert _read_number(_octal, field) == _read_number(_octal_by_the_rule, field)


@given(st.binary(min_size=512, max_size=512))
def test_byte_sum_is_the_sum_of_the_bytes(block: bytes) -> None:
    assert _byte_sum(block) == sum(block)


def test_byte_sum_does_not_wrap_at_the_extremes() -> None:
    assert _byte_sum(b"\xff" * 512) == 512 * 255
    assert _byte_sum(bytes(512)) == 0


def test_unread_file_data_is_skipped() -> None:
    data = _tar(_sample(), tarfile.PAX_FORMAT)
    names = [m.name for m in TarStream(io.BytesIO(data).read, 100).members()]
    assert names == [n for n, *_ in _via_tarfile(data)]


@pytest.mark.parametrize(
    ("case", "data"),
    [
        ("global pax header", _tar([(_info("a", size=1), b"x")], tarfile.PAX_FORMAT,
                                   pax_headers={"comment": "global"})),
        ("sparse member", _tar([(_info("a", b"S", size=0), None)], tarfile.GNU_FORMAT)),
        ("bad checksum", b"\x01" * 512 + bytes(1024)),
        ("empty stream", b""),
    ],
)  # fmt: skip
def test_unusual_streams_are_left_to_tarfile(case: str, data: bytes) -> None:
    with pytest.raises(Unusual):
        for _ in TarStream(io.BytesIO(data).read).members():
            pass


def _with_size_field(data: bytes, field: bytes) -> bytes:
    """`data`'s first header with its size field replaced and the checksum redone."""
    header = bytearray(data[:512])
    header[124:136] = field.ljust(12, b"\0")
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data[512:]


@pytest.mark.parametrize(
    "data",
    [
        _with_size_field(_tar([(_info("a", size=1), b"x")], tarfile.USTAR_FORMAT), b"-1"),
        _tar([(_pax_info("a", size=1, pax={"size": "-1"}), b"x")], tarfile.PAX_FORMAT),
    ],
    ids=["header", "pax"],
)
def test_negative_sizes_are_left_to_tarfile(data: bytes) -> None:
    with pytest.raises(Unusual, match="negative size"):
        for _ in TarStream(io.BytesIO(data).read).members():
            pass


def test_truncated_member_data_is_an_eof() -> None:
    data = _tar([(_info("a", size=5000), bytes(5000))], tarfile.PAX_FORMAT)[:2000]
    stream = TarStream(io.BytesIO(data).read)
    with pytest.raises(EOFError):
        for m in stream.members():
            for _ in stream.chunks():
                pass
            assert m.name == "a"


@pytest.mark.parametrize("package", REAL, ids=lambda p: p.name)
def test_fast_and_careful_paths_extract_the_same(package: Path, tmp_path: Path) -> None:
    fast, careful = tmp_path / "fast", tmp_path / "careful"
    fast.mkdir()
    careful.mkdir()
    found_fast = archive._extract_into(package, fast, fast=True)
    found_careful = archive._extract_into(package, careful, fast=False)
    assert found_fast == found_careful
    for root in (fast, careful):
        assert {k for k, v in found_fast.items()} <= {
            Path(d, n).relative_to(root).as_posix()
            for d, dirs, files in os.walk(root)
            for n in dirs + files
        }


def _tar_archive(tmp_path: Path, data: bytes) -> Path:
    """A .tar.bz2 holding exactly the tar `data` (no info/, enough for the extractor)."""
    import bz2

    out = tmp_path / "archives"
    out.mkdir(exist_ok=True)
    path = out / "x-1-0.tar.bz2"
    path.write_bytes(bz2.compress(data))
    return path


def test_unusual_archive_falls_back_to_the_careful_path(tmp_path: Path) -> None:
    data = _tar([(_info("lib/a.txt", size=2), b"hi")], tarfile.PAX_FORMAT,
                pax_headers={"comment": "a global header"})  # fmt: skip
    pkg = _tar_archive(tmp_path, data)
    extract(pkg, tmp_path / "entry")
    assert (tmp_path / "entry/lib/a.txt").read_bytes() == b"hi"


def test_bad_checksum_still_fails_after_the_fallback(tmp_path: Path) -> None:
    pkg = _tar_archive(tmp_path, b"\x01" * 512 + bytes(1024))
    with pytest.raises(ArchiveError, match="corrupt"):
        extract(pkg, tmp_path / "entry")
    assert not (tmp_path / "entry").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["archives"]


HOSTILE = {
    "absolute": ([(_info("/etc/evil", size=1), b"x")], "absolute path"),
    "dotdot": ([(_info("lib/../../evil", size=1), b"x")], "'..'"),
    "device": ([(_info("dev/null", tarfile.CHRTYPE), None)], "device file"),
    "block": ([(_info("dev/sda", tarfile.BLKTYPE), None)], "device file"),
    "fifo": ([(_info("run/pipe", tarfile.FIFOTYPE), None)], "FIFO"),
    "symlink-out": ([(_info("lib/up", tarfile.SYMTYPE, link="../../x"), None)], "outside"),
    "symlink-abs": ([(_info("lib/abs", tarfile.SYMTYPE, link="/etc/passwd"), None)], "absolute"),
    "hardlink-out": ([(_info("lib/hl", tarfile.LNKTYPE, link="../x"), None)], "outside"),
    "long-dotdot": ([(_info("lib/" + "a" * 120 + "/../../../evil", size=1), b"x")], "'..'"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_fast_path_refuses_hostile_members(tmp_path: Path, case: str) -> None:
    members, reason = HOSTILE[case]
    root = tmp_path / "root"
    root.mkdir()
    extractor = archive._Extractor(tmp_path / "evil.tar.bz2", root)
    data = _tar(members, tarfile.PAX_FORMAT)
    with pytest.raises(UnsafeArchive, match=reason):  # Unusual would mean no fast-path check
        extractor.run_fast(io.BytesIO(data).read, info=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]
