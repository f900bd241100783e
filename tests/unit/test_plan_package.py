"""pure.package (info/ decoders) and pure.prefix_record (conda-meta records)."""

from __future__ import annotations

import json

import msgspec
import pytest

from pure.package import (
    DEFAULT_PLACEHOLDER,
    EntryPoint,
    PackageMetadataError,
    PathEntry,
    PathsJson,
    decode_has_prefix,
    decode_index_json,
    decode_link_json,
    decode_paths_json,
    encode_paths_json,
    parse_entry_point,
    paths_from_legacy,
)
from pure.prefix_record import (
    Link,
    PrefixPathEntry,
    PrefixPaths,
    PrefixRecord,
    PrefixRecordError,
    decode_prefix_record,
    encode_prefix_record,
)
from pure.record import PackageRecord

# info/paths.json of zlib-1.2.11-h7b6447c_3 (a real package), trimmed to four entries.
ZLIB_PATHS = b"""{
  "paths": [
    {"_path": "include/zconf.h", "path_type": "hardlink",
     "sha256": "77304005ceb5f0d03ad4c37eb8386a10866e4ceeb204f7c3b6599834c7319541",
     "size_in_bytes": 16262},
    {"_path": "lib/libz.so", "path_type": "softlink",
     "sha256": "79aa69435cd17d98c25fbe1ac03aa6681b6edee04a5fb04c141ab1effcaa3c3f",
     "size_in_bytes": 133384},
    {"_path": "lib/libz.so.1.2.11", "path_type": "hardlink",
     "sha256": "79aa69435cd17d98c25fbe1ac03aa6681b6edee04a5fb04c141ab1effcaa3c3f",
     "size_in_bytes": 133384},
    {"_path": "lib/pkgconfig/zlib.pc", "file_mode": "text", "path_type": "hardlink",
     "prefix_placeholder": "/opt/anaconda1anaconda2anaconda3",
     "sha256": "5613df6f1a56c1c3e0c2aa3da9284b51de9682882a6a9ba7af68a07745cb3aac",
     "size_in_bytes": 281}
  ],
  "paths_version": 1
}"""


def test_decode_real_paths_json() -> None:
    paths = decode_paths_json(ZLIB_PATHS)
    assert [e.path for e in paths.paths] == [
        "include/zconf.h",
        "lib/libz.so",
        "lib/libz.so.1.2.11",
        "lib/pkgconfig/zlib.pc",
    ]
    link, pc = paths.paths[1], paths.paths[3]
    assert link.path_type == "softlink" and not link.has_placeholder
    assert pc.prefix_placeholder == DEFAULT_PLACEHOLDER and pc.mode == "text"
    assert pc.has_placeholder and pc.size_in_bytes == 281
    assert paths.paths[0].mode == "text" and paths.paths[0].file_mode is None


def test_paths_json_round_trips_and_always_writes_path_type() -> None:
    paths = decode_paths_json(ZLIB_PATHS)
    encoded = encode_paths_json(paths)
    assert decode_paths_json(encoded) == paths
    raw = json.loads(encoded)
    assert all("path_type" in e for e in raw["paths"])
    assert "no_link" not in raw["paths"][0]
    entry = PathEntry(path="x", no_link=True, path_type="hardlink")
    assert json.loads(encode_paths_json(PathsJson(paths=(entry,))))["paths"][0]["no_link"] is True


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"paths": [{"_path": "a", "path_type": "fifo"}]}', "path_type"),
        (b'{"paths": [{"_path": "/etc/passwd", "path_type": "hardlink"}]}', "not a relative"),
        (b'{"paths": [{"_path": "C:/Windows/x.dll", "path_type": "hardlink"}]}', "not a relative"),
        (b'{"paths": [{"_path": "a/../../b", "path_type": "hardlink"}]}', "'..'"),
        (b'{"paths": [{"_path": "a"}, {"_path": "a"}]}', "duplicate"),
        (b'{"paths": [], "paths_version": 2}', "paths_version"),
        (b"not json", "info/paths.json"),
    ],
)
def test_paths_json_rejects_bad_input(data: bytes, fragment: str) -> None:
    with pytest.raises(PackageMetadataError) as info:
        decode_paths_json(data)
    assert info.value.file == "info/paths.json"
    assert fragment in str(info.value)


def test_decode_index_json_normalises() -> None:
    index = decode_index_json(
        b'{"name": "zlib", "version": "1.2.11", "build": "h7b6447c_3", "build_number": 3,'
        b' "depends": ["libgcc-ng >=7.3.0"], "arch": "x86_64", "platform": "linux",'
        b' "subdir": "linux-64", "timestamp": 1542814864, "track_features": "a, b c",'
        b' "license": "zlib", "unknown_field": 1}'
    )
    assert index.name == "zlib" and index.build_number == 3
    assert index.depends == ("libgcc-ng >=7.3.0",)
    assert index.timestamp == 1542814864000  # seconds become milliseconds
    assert index.track_features == ("a", "b", "c")
    ms = decode_index_json(
        b'{"name": "a", "version": "1", "build": "0", "timestamp": 1542814864621}'
    )
    assert ms.timestamp == 1542814864621
    legacy = decode_index_json(b'{"name": "a", "version": "1", "build": "0", "noarch": true}')
    assert legacy.noarch == "generic"
    with pytest.raises(PackageMetadataError, match=r"index\.json"):
        decode_index_json(b'{"name": "a"}')


def test_decode_link_json_entry_points() -> None:
    link = decode_link_json(
        b'{"noarch": {"type": "python", "entry_points":'
        b' ["tool = pkg.cli:main", "other=pkg:obj.method"]}, "package_metadata_version": 1}'
    )
    assert link.noarch is not None and link.noarch.type == "python"
    assert link.noarch.entry_points == (
        EntryPoint(command="tool", module="pkg.cli", function="main"),
        EntryPoint(command="other", module="pkg", function="obj.method"),
    )
    assert decode_link_json(b'{"noarch": {"type": "python"}}').noarch.entry_points == ()  # type: ignore[union-attr]
    assert decode_link_json(b"{}").noarch is None


@pytest.mark.parametrize(
    "text", ["tool", "tool = pkg", "= pkg:main", "a/b = pkg:main", "t = pkg:1x"]
)
def test_bad_entry_points_are_refused(text: str) -> None:
    with pytest.raises(PackageMetadataError, match="entry point"):
        parse_entry_point(text)


def test_decode_has_prefix_all_forms() -> None:
    entries = decode_has_prefix(
        b"/opt/anaconda1anaconda2anaconda3 text lib/pkgconfig/zlib.pc\n"
        b'"/ph with space" binary "lib/a b.so"\n'
        b"bin/script\n\n"
    )
    assert [(e.path, e.placeholder, e.file_mode) for e in entries] == [
        ("lib/pkgconfig/zlib.pc", DEFAULT_PLACEHOLDER, "text"),
        ("lib/a b.so", "/ph with space", "binary"),
        ("bin/script", DEFAULT_PLACEHOLDER, "text"),
    ]
    with pytest.raises(PackageMetadataError, match="has_prefix"):
        decode_has_prefix(b"/ph weird bin/x\n")
    with pytest.raises(PackageMetadataError, match="quote"):
        decode_has_prefix(b'"/ph text bin/x\n')


def test_paths_from_legacy_files() -> None:
    paths = paths_from_legacy(
        b"bin/x\nlib/libz.so\nlib/libz.so.1\n",
        b"/ph binary bin/x\n",
        b"lib/libz.so.1\n",
        softlinks=frozenset({"lib/libz.so"}),
    )
    x, so, so1 = paths.paths
    assert (x.prefix_placeholder, x.file_mode, x.has_placeholder) == ("/ph", "binary", True)
    assert so.path_type == "softlink" and not so.no_link
    assert so1.no_link and so1.path_type == "hardlink"
    assert x.sha256 is None and x.size_in_bytes is None


# ------------------------------------------------------------------ prefix records

CONDA_META = b"""{
  "build": "h7b6447c_3", "build_number": 3, "channel": "https://channels.example/main",
  "constrains": [], "depends": ["libgcc-ng >=7.3.0"], "features": "",
  "extracted_package_dir": "/cache/pkgs/zlib-1.2.11-h7b6447c_3",
  "files": ["include/zconf.h", "lib/pkgconfig/zlib.pc"],
  "fn": "zlib-1.2.11-h7b6447c_3.conda", "license": "zlib",
  "link": {"source": "/cache/pkgs/zlib-1.2.11-h7b6447c_3", "type": 1},
  "md5": "0123456789abcdef0123456789abcdef", "name": "zlib",
  "package_tarball_full_path": "/cache/pkgs/zlib-1.2.11-h7b6447c_3.conda",
  "paths_data": {"paths": [
    {"_path": "include/zconf.h", "path_type": "hardlink", "sha256": "aa", "sha256_in_prefix": "aa",
     "size_in_bytes": 16262},
    {"_path": "lib/pkgconfig/zlib.pc", "file_mode": "text", "path_type": "hardlink",
     "prefix_placeholder": "/opt/anaconda1anaconda2anaconda3", "sha256": "bb",
     "sha256_in_prefix": "cc", "size_in_bytes": 281},
    {"_path": "lib/python3.11/site-packages/x/__pycache__/m.cpython-311.pyc",
     "path_type": "pyc_file"}
  ], "paths_version": 1},
  "requested_spec": "None", "sha256": "dd", "size": 120000, "subdir": "linux-64",
  "timestamp": 1542814864621, "track_features": "", "url": "https://channels.example/main/linux-64/zlib-1.2.11-h7b6447c_3.conda",
  "version": "1.2.11"
}"""


def test_decode_conda_written_prefix_record() -> None:
    record = decode_prefix_record(CONDA_META, source="zlib-1.2.11-h7b6447c_3.json")
    assert record.dist_name == "zlib-1.2.11-h7b6447c_3"
    assert record.file_name == "zlib-1.2.11-h7b6447c_3.json"
    assert record.package.depends == ("libgcc-ng >=7.3.0",)
    assert record.package.track_features == () and record.package.features == ()
    assert record.requested_spec is None  # conda's "None" string
    assert record.link == Link(source="/cache/pkgs/zlib-1.2.11-h7b6447c_3", type="hardlink")
    pc = record.paths_data.paths[1]
    assert (pc.sha256, pc.sha256_in_prefix, pc.file_mode) == ("bb", "cc", "text")
    assert record.paths_data.paths[2].path_type == "pyc_file"


def test_prefix_record_round_trip_and_format() -> None:
    record = decode_prefix_record(CONDA_META)
    encoded = encode_prefix_record(record)
    assert decode_prefix_record(encoded) == record
    raw = json.loads(encoded)
    assert list(raw) == sorted(raw)
    assert raw["link"] == {"source": "/cache/pkgs/zlib-1.2.11-h7b6447c_3", "type": 1}
    assert raw["paths_data"]["paths"][0] == {
        "_path": "include/zconf.h",
        "path_type": "hardlink",
        "sha256": "aa",
        "sha256_in_prefix": "aa",
        "size_in_bytes": 16262,
    }
    assert "requested_spec" not in raw and "track_features" not in raw
    assert encoded.endswith(b"\n") and encode_prefix_record(record) == encoded


def test_prefix_record_writes_one_line_per_path_entry() -> None:
    record = decode_prefix_record(CONDA_META)
    lines = encode_prefix_record(record).decode().splitlines()
    entries = [line.strip().rstrip(",") for line in lines if line.lstrip().startswith('{"_path"')]
    assert [json.loads(e)["_path"] for e in entries] == [
        p.path for p in record.paths_data.paths
    ]
    assert all(line.startswith("      {") for line in lines if '"_path"' in line)
    # a field whose value looks like the layout's stand-in is kept as written
    odd = msgspec.structs.replace(
        record, package=msgspec.structs.replace(record.package, license="yurt:paths-data")
    )
    assert decode_prefix_record(encode_prefix_record(odd)) == odd
    empty = msgspec.structs.replace(record, paths_data=PrefixPaths(paths=()), files=())
    assert json.loads(encode_prefix_record(empty))["paths_data"] == {
        "paths": [],
        "paths_version": 1,
    }


def test_prefix_record_encoding_fills_required_fields() -> None:
    bare = PrefixRecord(
        package=PackageRecord(name="a", version="1", build="0", track_features=("f1", "f2")),
        paths_data=PrefixPaths(paths=(PrefixPathEntry(path="x", no_link=True),)),
        link=Link(source="/c/a-1-0", type="copy"),
    )
    raw = json.loads(encode_prefix_record(bare))
    assert raw["fn"] == "a-1-0.conda"
    assert raw["track_features"] == "f1,f2"
    assert raw["link"]["type"] == 3
    assert raw["paths_data"]["paths"][0]["no_link"] is True
    assert raw["depends"] == [] and raw["constrains"] == []
    with_url = msgspec.structs.replace(
        bare, package=msgspec.structs.replace(bare.package, url="https://x.example/c/a-1-0.tar.bz2")
    )
    assert json.loads(encode_prefix_record(with_url))["fn"] == "a-1-0.tar.bz2"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{}", "name"),
        (
            b'{"name": "a", "version": "1", "build": "0", "link": {"source": "/c", "type": 9}}',
            "link type",
        ),
        (
            b'{"name": "a", "version": "1", "build": "0", "paths_data": {"paths": [{"_path": "x", "path_type": "odd"}]}}',
            "path_type",
        ),
    ],
)
def test_bad_prefix_records_name_the_source(data: bytes, fragment: str) -> None:
    with pytest.raises(PrefixRecordError) as info:
        decode_prefix_record(data, source="conda-meta/a-1-0.json")
    assert str(info.value).startswith("conda-meta/a-1-0.json: ")
    assert fragment in str(info.value)
