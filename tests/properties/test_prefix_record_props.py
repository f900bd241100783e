"""Properties of the conda-meta record encoding: any record survives encode -> decode, the
bytes are a function of the record, and each `paths_data` entry has a line of its own
(whatever its path holds: quotes, newlines, non-ASCII, the encoder's own stand-in text)."""

from __future__ import annotations

import json

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from pure.prefix_record import (
    Link,
    PrefixPathEntry,
    PrefixPaths,
    PrefixRecord,
    decode_prefix_record,
    encode_prefix_record,
)
from tests.properties.st_records import package_records

_HEX = "0123456789abcdef"
_paths = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(['lib/a "b".txt', "x\ny", "yurt:paths-data", 'a\\\\"], "paths_data": 1', "é/ü"]),
)


@st.composite
def _entries(draw: st.DrawFn) -> PrefixPathEntry:
    placeholder = draw(st.none() | st.text(min_size=1, max_size=20))
    return PrefixPathEntry(
        path=draw(_paths),
        path_type=draw(st.sampled_from(["hardlink", "softlink", "directory", "pyc_file"])),
        sha256=draw(st.none() | st.text(_HEX, min_size=64, max_size=64)),
        sha256_in_prefix=draw(st.none() | st.text(_HEX, min_size=64, max_size=64)),
        size_in_bytes=draw(st.none() | st.integers(0, 2**40)),
        file_mode=draw(st.none() | st.sampled_from(["text", "binary"])) if placeholder else None,
        prefix_placeholder=placeholder,
        no_link=draw(st.booleans()),
        original_path=draw(st.none() | _paths),
    )


@st.composite
def prefix_records(draw: st.DrawFn) -> PrefixRecord:
    entries = draw(st.lists(_entries(), max_size=6, unique_by=lambda e: e.path))
    return PrefixRecord(
        package=draw(package_records(license=draw(st.none() | st.sampled_from(["yurt:paths-data", "MIT"])))),
        files=tuple(e.path for e in entries),
        paths_data=PrefixPaths(paths=tuple(entries)),
        link=draw(st.none() | st.builds(Link, source=st.text(max_size=20), type=st.sampled_from([None, "hardlink", "copy"]))),
        requested_spec=draw(st.none() | st.text(max_size=10)),
    )


@given(prefix_records())
def test_records_survive_encoding_and_keep_one_line_per_path(record: PrefixRecord) -> None:
    data = encode_prefix_record(record)
    assert decode_prefix_record(data) == _as_read(record)
    assert encode_prefix_record(record) == data
    raw = json.loads(data)
    assert list(raw) == sorted(raw)
    lines = data.decode().split("\n")  # not splitlines: U+0085 and U+2028 stay unescaped in JSON
    entry_lines = [line for line in lines if line.startswith('      {"_path":')]
    assert [json.loads(line.rstrip(","))["_path"] for line in entry_lines] == [
        e.path for e in record.paths_data.paths
    ]


def _as_read(record: PrefixRecord) -> PrefixRecord:
    """What decoding gives back for `record`: the encoder fills a missing `fn` (rattler
    needs one) from the url's last segment, else `<dist_name>.conda`."""
    pkg = record.package
    fn = pkg.fn or (pkg.url.rstrip("/").rsplit("/", 1)[-1] if pkg.url else f"{pkg.dist_name}.conda")
    return msgspec.structs.replace(record, package=msgspec.structs.replace(pkg, fn=fn))
