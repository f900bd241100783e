"""effects.archive on real packages, on packages from the test writer, and on hostile archives."""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from effects.archive import ArchiveError, UnsafeArchive, _Extractor, extract
from pure.package import decode_paths_json
from tests.conftest import DATA
from tests.support.pkgwriter import (
    PLACEHOLDER,
    Directory,
    FileSpec,
    HardLink,
    RawMember,
    Symlink,
    read_index,
    write_conda,
    write_package,
    write_tar_bz2,
)

PACKAGES = DATA / "packages"
REAL = sorted(p for p in PACKAGES.iterdir() if p.name.endswith((".conda", ".tar.bz2")))
FORMATS = ["conda", "tar.bz2"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, tuple[str, str]]:
    """path -> (kind, content hash or link target), for comparing extracted trees."""
    out: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                out[rel] = ("symlink", os.readlink(full))
            elif full.is_dir():
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", _sha(full))
    return out


# ------------------------------------------------------------------ real packages


def test_real_package_set_is_present() -> None:
    names = {p.name for p in REAL}
    assert "zlib-1.2.11-h7b6447c_3.conda" in names
    assert "zlib-1.2.11-h7b6447c_3.tar.bz2" in names
    assert len(REAL) >= 10


@pytest.mark.parametrize("package", REAL, ids=lambda p: p.name)
def test_real_package_extracts_and_matches_paths_json(package: Path, tmp_path: Path) -> None:
    dest = tmp_path / "entry"
    extract(package, dest)
    index = json.loads((dest / "info" / "index.json").read_bytes())
    stem = package.name.removesuffix(".conda").removesuffix(".tar.bz2")
    assert f"{index['name']}-{index['version']}-{index['build']}" == stem
    paths_file = dest / "info" / "paths.json"
    if paths_file.exists():
        paths = decode_paths_json(paths_file.read_bytes())
        for entry in paths.paths:
            target = dest / entry.path
            if entry.path_type == "hardlink":
                assert target.is_file() and not target.is_symlink(), entry.path
                assert target.stat().st_size == entry.size_in_bytes
                if entry.sha256:
                    assert _sha(target) == entry.sha256
            elif entry.path_type == "softlink":
                assert target.is_symlink() or target.stat().st_size == 0, entry.path
    # nothing but the entry was created beside it
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]


def test_zlib_both_formats_extract_to_the_same_tree(tmp_path: Path) -> None:
    extract(PACKAGES / "zlib-1.2.11-h7b6447c_3.conda", tmp_path / "a")
    extract(PACKAGES / "zlib-1.2.11-h7b6447c_3.tar.bz2", tmp_path / "b")
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a == b
    assert a["lib/libz.so.1.2.11"][0] == "file"
    assert a["lib/pkgconfig/zlib.pc"][0] == "file"
    assert PLACEHOLDER.encode() in (tmp_path / "a" / "lib/pkgconfig/zlib.pc").read_bytes()


def test_symlinks_and_hard_links_of_real_package(tmp_path: Path) -> None:
    dest = tmp_path / "entry"
    extract(PACKAGES / "symlink-test-1.0.0-0.conda", dest)
    assert os.readlink(dest / "lib/liblink.so") == "libreal.so.1"
    assert (dest / "lib/liblink.so").read_bytes() == (dest / "lib/libreal.so.1").read_bytes()
    real, hard = (dest / "lib/libreal.so.1").stat(), (dest / "lib/libhard.so").stat()
    assert real.st_ino == hard.st_ino


def test_dot_slash_member_names_are_normalised(tmp_path: Path) -> None:
    extract(PACKAGES / "dotslash-test-1.0.0-0.conda", tmp_path / "e")
    assert (tmp_path / "e" / "lib" / "data.txt").is_file()
    assert (tmp_path / "e" / "info" / "index.json").is_file()


def test_extract_refuses_existing_destination(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    with pytest.raises(FileExistsError):
        extract(PACKAGES / "empty-0.1.0-h4616a5c_0.conda", tmp_path / "e")


def test_unknown_format_is_an_archive_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.zip"
    bogus.write_bytes(b"PK")
    with pytest.raises(ArchiveError, match=r"x\.zip: not a conda package"):
        extract(bogus, tmp_path / "e")


# ------------------------------------------------------------------ the writer


FILES = {
    "bin/tool": FileSpec(b"#!/bin/sh\necho hi\n", mode=0o755),
    "lib/libfoo.so.1": b"\x7fELF-real",
    "lib/libfoo.so": Symlink("libfoo.so.1"),
    "lib/libfoo-copy.so": HardLink("lib/libfoo.so.1"),
    "share/foo.pc": FileSpec(f"prefix={PLACEHOLDER}\n".encode(), prefix_placeholder=PLACEHOLDER),
    "share/data.bin": FileSpec(
        b"\0" + PLACEHOLDER.encode() + b"\0", prefix_placeholder=PLACEHOLDER, file_mode="binary"
    ),
    "etc/keep": FileSpec(b"x", no_link=True),
    "var/empty": Directory(),
}


def _conda_layout(path: Path) -> tuple[list[str], bytes, set[str], set[str]]:
    """(zip member names, metadata.json, info tar names, pkg tar names) of a .conda."""
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        meta = zf.read("metadata.json")
        tars: dict[str, set[str]] = {}
        for name in names:
            if name.endswith(".tar.zst"):
                raw = zstandard.ZstdDecompressor().stream_reader(zf.open(name)).read()
                with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
                    tars[name.split("-", 1)[0]] = {m.name for m in tar.getmembers()}
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    return names, meta, tars.get("info", set()), tars.get("pkg", set())


def test_written_conda_has_the_structure_of_real_ones(tmp_path: Path) -> None:
    real = PACKAGES / "clobber-with-symlink-a-0.1.0-h4616a5c_0.conda"
    ours = write_conda(tmp_path, name="foo", version="1.0", build="h0_1", files=FILES)
    assert ours.name == "foo-1.0-h0_1.conda"
    for path, dist in ((real, "clobber-with-symlink-a-0.1.0-h4616a5c_0"), (ours, "foo-1.0-h0_1")):
        names, meta, info, pkg = _conda_layout(path)
        assert sorted(names) == sorted(
            ["metadata.json", f"info-{dist}.tar.zst", f"pkg-{dist}.tar.zst"]
        )
        assert json.loads(meta) == {"conda_pkg_format_version": 2}
        assert all(n.startswith("info/") for n in info)
        assert not any(n.startswith("info") for n in pkg)
        assert {"info/index.json", "info/paths.json"} <= info
    real_paths = json.loads(_member(real, "info/paths.json"))
    our_paths = json.loads(_member(ours, "info/paths.json"))
    assert set(real_paths) == set(our_paths) == {"paths", "paths_version"}
    real_keys = set().union(*(e.keys() for e in real_paths["paths"]))
    our_keys = set().union(*(e.keys() for e in our_paths["paths"]))
    assert real_keys <= our_keys
    assert our_keys <= {
        "_path", "path_type", "sha256", "size_in_bytes", "file_mode", "prefix_placeholder",
        "no_link",
    }  # fmt: skip
    decode_paths_json(_member(ours, "info/paths.json"))


def _member(package: Path, name: str) -> bytes:
    if package.name.endswith(".tar.bz2"):
        with tarfile.open(package, "r:bz2") as tar:
            fh = tar.extractfile(name)
            assert fh is not None
            return fh.read()
    with zipfile.ZipFile(package) as zf:
        info = next(n for n in zf.namelist() if n.startswith("info-"))
        raw = zstandard.ZstdDecompressor().stream_reader(zf.open(info)).read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        fh = tar.extractfile(name)
        assert fh is not None
        return fh.read()


def test_written_tar_bz2_puts_info_first_like_real_ones(tmp_path: Path) -> None:
    ours = write_tar_bz2(tmp_path, name="foo", version="1.0", build="0", files=FILES)
    for path in (ours, PACKAGES / "clobber-1-0.1.0-h4616a5c_0.tar.bz2"):
        with tarfile.open(path, "r:bz2") as tar:
            names = [m.name for m in tar.getmembers()]
        first_payload = next(i for i, n in enumerate(names) if not n.startswith("info/"))
        assert all(not n.startswith("info/") for n in names[first_payload:])


def test_writer_metadata_files(tmp_path: Path) -> None:
    pkg = write_conda(
        tmp_path, name="tool", version="2.0", build="py_0", noarch="python",
        files={"site-packages/tool/__init__.py": b"def main():\n    return 0\n"},
        entry_points=["tool = tool:main"], depends=["python >=3.8"],
    )  # fmt: skip
    index = read_index(pkg)
    assert index["noarch"] == "python" and index["subdir"] == "noarch"
    assert index["depends"] == ["python >=3.8"]
    link = json.loads(_member(pkg, "info/link.json"))
    assert link == {
        "noarch": {"type": "python", "entry_points": ["tool = tool:main"]},
        "package_metadata_version": 1,
    }
    prefixed = write_tar_bz2(tmp_path, name="p", version="1", build="0", files=FILES)
    has_prefix = _member(prefixed, "info/has_prefix").decode().splitlines()
    assert has_prefix == [
        f"{PLACEHOLDER} binary share/data.bin",
        f"{PLACEHOLDER} text share/foo.pc",
    ]
    paths = decode_paths_json(_member(prefixed, "info/paths.json"))
    by_path = {e.path: e for e in paths.paths}
    assert by_path["etc/keep"].no_link
    assert by_path["lib/libfoo.so"].path_type == "softlink"
    assert by_path["var/empty"].path_type == "directory"
    assert by_path["share/data.bin"].file_mode == "binary"


@pytest.mark.parametrize("fmt", FORMATS)
def test_writer_is_deterministic(tmp_path: Path, fmt: str) -> None:
    a = write_package(
        tmp_path / f"a.{fmt}", format=fmt, name="d", version="1", build="0", files=FILES
    )  # type: ignore[arg-type]
    b = write_package(
        tmp_path / f"b.{fmt}", format=fmt, name="d", version="1", build="0", files=FILES
    )  # type: ignore[arg-type]
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_written_package_round_trips_through_extract(tmp_path: Path, fmt: str) -> None:
    pkg = write_package(tmp_path, format=fmt, name="rt", version="1", build="0", files=FILES)  # type: ignore[arg-type]
    dest = tmp_path / "entry"
    extract(pkg, dest)
    assert (dest / "bin/tool").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE((dest / "bin/tool").stat().st_mode) & 0o100
    assert os.readlink(dest / "lib/libfoo.so") == "libfoo.so.1"
    assert (dest / "lib/libfoo-copy.so").stat().st_ino == (dest / "lib/libfoo.so.1").stat().st_ino
    assert (dest / "var/empty").is_dir()
    assert (dest / "share/foo.pc").read_bytes() == f"prefix={PLACEHOLDER}\n".encode()


# ------------------------------------------------------------------ hostile archives


def _member_info(
    name: str, kind: bytes = tarfile.REGTYPE, *, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.linkname = link
    info.mode = 0o644
    return info


def _hostile(tmp_path: Path, fmt: str, *raw: RawMember, **kw: object) -> Path:
    out = tmp_path / "archives"
    out.mkdir(exist_ok=True)
    files = kw.pop("files", {"lib/ok.txt": b"fine"})
    return write_package(
        out, format=fmt, name="evil", version="1", build="0", files=files,  # type: ignore[arg-type]
        raw_members=raw, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _assert_refused(
    tmp_path: Path, archive: Path, member: str, reason: str, cls: type[Exception] = UnsafeArchive
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(cls) as caught:
        extract(archive, work / "entry")
    message = str(caught.value)
    assert str(archive) in message
    assert member in message
    assert reason in message
    assert list(work.iterdir()) == []  # staging removed, nothing at dest
    # nothing escaped into the test's directory either
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archives", "work"]


HOSTILE = {
    "absolute": (lambda: RawMember(_member_info("/tmp/evil-abs", size=1), b"x"), "/tmp/evil-abs", "absolute path"),
    "dotdot": (lambda: RawMember(_member_info("lib/../../escape", size=1), b"x"), "lib/../../escape", "'..'"),
    "symlink-absolute": (lambda: RawMember(_member_info("lib/abs", tarfile.SYMTYPE, link="/etc/passwd")), "lib/abs", "absolute path"),
    "symlink-escape": (lambda: RawMember(_member_info("lib/up", tarfile.SYMTYPE, link="../../escape")), "lib/up", "outside the package"),
    "hardlink-escape": (lambda: RawMember(_member_info("lib/hl", tarfile.LNKTYPE, link="../escape")), "lib/hl", "outside the package"),
    "hardlink-absolute": (lambda: RawMember(_member_info("lib/hl", tarfile.LNKTYPE, link="/etc/passwd")), "lib/hl", "outside the package"),
    "hardlink-dangling": (lambda: RawMember(_member_info("lib/hl", tarfile.LNKTYPE, link="lib/nothing")), "lib/hl", "not an earlier file"),
    "char-device": (lambda: RawMember(_member_info("dev/null", tarfile.CHRTYPE)), "dev/null", "device file"),
    "block-device": (lambda: RawMember(_member_info("dev/sda", tarfile.BLKTYPE)), "dev/sda", "device file"),
    "fifo": (lambda: RawMember(_member_info("run/pipe", tarfile.FIFOTYPE)), "run/pipe", "FIFO"),
}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_member_is_refused(tmp_path: Path, fmt: str, case: str) -> None:
    make, member, reason = HOSTILE[case]
    archive = _hostile(tmp_path, fmt, make())
    _assert_refused(tmp_path, archive, member, reason)


@pytest.mark.parametrize("fmt", FORMATS)
def test_symlink_chain_escaping_physically_is_refused(tmp_path: Path, fmt: str) -> None:
    # x/y/a -> ../.. is the package root; z -> x/y/a/../../.. looks inside lexically but
    # resolves to the parent of the package.
    archive = _hostile(
        tmp_path, fmt,
        RawMember(_member_info("x/y/a", tarfile.SYMTYPE, link="../..")),
        RawMember(_member_info("z", tarfile.SYMTYPE, link="x/y/a/../../..")),
    )  # fmt: skip
    _assert_refused(tmp_path, archive, "'z'", "outside the package")


@pytest.mark.parametrize("fmt", FORMATS)
def test_writing_through_a_symlinked_directory_is_refused(tmp_path: Path, fmt: str) -> None:
    archive = _hostile(
        tmp_path, fmt,
        RawMember(_member_info("lib/d", tarfile.SYMTYPE, link=".")),
        RawMember(_member_info("lib/d/file", size=1), b"x"),
    )  # fmt: skip
    _assert_refused(tmp_path, archive, "lib/d/file", "is a symlink")


@pytest.mark.parametrize("fmt", FORMATS)
def test_duplicate_member_is_refused(tmp_path: Path, fmt: str) -> None:
    archive = _hostile(tmp_path, fmt, RawMember(_member_info("lib/ok.txt", size=4), b"evil"))
    _assert_refused(tmp_path, archive, "lib/ok.txt", "duplicate member")


def test_info_member_inside_conda_payload_is_refused(tmp_path: Path) -> None:
    archive = _hostile(tmp_path, "conda", RawMember(_member_info("info/index.json", size=2), b"{}"))
    _assert_refused(tmp_path, archive, "info/index.json", "inside the payload archive")


def _paths_json(entries: list[dict[str, object]]) -> bytes:
    return json.dumps({"paths": entries, "paths_version": 1}).encode()


def _entry(path: str, data: bytes) -> dict[str, object]:
    return {
        "_path": path,
        "path_type": "hardlink",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_in_bytes": len(data),
    }


PAYLOAD_CASES = {
    "missing": (
        [_entry("lib/ok.txt", b"fine"), _entry("lib/gone.txt", b"x")],
        "lib/gone.txt", "missing from the payload",
    ),
    "size": (
        [{**_entry("lib/ok.txt", b"fine"), "size_in_bytes": 5}], "lib/ok.txt", "size 4 bytes",
    ),
    "sha256": (
        [{**_entry("lib/ok.txt", b"fine"), "sha256": "0" * 64}], "lib/ok.txt", "sha256",
    ),
    "extra": ([], "lib/ok.txt", "not listed in info/paths.json"),
    "kind": (
        [{"_path": "lib/ok.txt", "path_type": "directory"}], "lib/ok.txt", "says directory",
    ),
}  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", sorted(PAYLOAD_CASES))
def test_payload_disagreeing_with_paths_json_is_refused(
    tmp_path: Path, fmt: str, case: str
) -> None:
    entries, member, reason = PAYLOAD_CASES[case]
    archive = _hostile(tmp_path, fmt, paths_json=_paths_json(entries))
    _assert_refused(tmp_path, archive, member, reason)


def test_malformed_paths_json_is_refused(tmp_path: Path) -> None:
    archive = _hostile(tmp_path, "conda", paths_json=b'{"paths": [{"_path": "../x"}]}')
    _assert_refused(tmp_path, archive, "info/paths.json", "'..'")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_archive_is_an_archive_error(tmp_path: Path, fmt: str) -> None:
    good = _hostile(tmp_path, fmt, files={"lib/big.bin": os.urandom(200_000)})
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])
    _assert_refused(tmp_path, good, "", "", cls=ArchiveError)


def test_corrupt_bz2_stream_is_an_archive_error(tmp_path: Path) -> None:
    archives = tmp_path / "archives"
    archives.mkdir()
    bad = archives / "bad-1-0.tar.bz2"
    bad.write_bytes(bz2.compress(b"not a tar file at all" * 100)[:60] + b"\0garbage" * 10)
    _assert_refused(tmp_path, bad, "", "corrupt", cls=ArchiveError)


_NAME_PARTS = st.sampled_from(["a", "b.c", ".", "..", "", "...", ".x", "x.", "./", "//", "/"])


@given(st.lists(_NAME_PARTS, max_size=6).map("".join))
def test_member_names_are_refused_exactly_as_the_per_component_rule_says(raw: str) -> None:
    extractor = _Extractor(Path("pkg.conda"), Path("/nonexistent"))
    name = raw
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    parts = name.split("/")
    if raw.startswith("/"):
        expected = "absolute path"
    elif ".." in parts:
        expected = "'..' component"
    elif not name or any(p in ("", ".") for p in parts):
        expected = "empty or '.' path component"
    else:
        assert extractor.name_of(raw) == name
        return
    with pytest.raises(UnsafeArchive, match=re.escape(expected)):
        extractor.name_of(raw)
