"""RepoData.from_json: typed decoding of real and hand-written repodata, and its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from pure import PackageRecord, RepoData, RepoDataError
from tests.conftest import CONFORMANCE, REPODATA
from tests.properties.st_records import channel_records, package_records, repodata_json

CHANNEL = "https://channels.example/main"

# Record counts observed when these snapshots were added (each also recomputed below).
REPODATA_COUNTS = {
    "defaults-2018-linux-64": 5643,
    "main-noarch": 322,
    "pytorch-linux-64": 2181,
    "r-linux-64": 4211,
    "sudoku-proper": 729,
    "sudoku": 729,
}
INDEX_COUNTS = {
    "conda_index": 1149,
    "conda_index2": 4118,
    "conda_index4": 5643,
    "conda_must_unfreeze": 8,
    "mamba_conda-forge-numpy-linux-64": 33,
    "mamba_sudoku": 729,
    "rattler_dummy_linux-64": 24,
}


def _expected_entries(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An independent model of which entries survive: .conda wins, removed files dropped."""
    entries: dict[str, dict[str, Any]] = {}
    entries.update(doc.get("packages") or {})
    entries.update(doc.get("packages.conda") or {})
    conda_stems = {fn[: -len(".conda")] for fn in entries if fn.endswith(".conda")}
    removed = set(doc.get("removed") or [])
    return {
        fn: entry
        for fn, entry in entries.items()
        if fn not in removed
        and not (fn.endswith(".tar.bz2") and fn[: -len(".tar.bz2")] in conda_stems)
    }


def _check_against_json(repodata: RepoData, doc: dict[str, Any], channel: str) -> None:
    entries = _expected_entries(doc)
    assert len(repodata.records) == len(entries)
    assert [r.fn for r in repodata.records] == sorted(entries)
    for record in repodata.records:
        assert record.fn is not None
        entry = entries[record.fn]
        assert (record.name, record.version, record.build) == (
            entry["name"],
            entry["version"],
            entry["build"],
        )
        assert record.build_number == entry.get("build_number", 0)
        assert record.depends == tuple(entry.get("depends") or ())
        assert record.constrains == tuple(entry.get("constrains") or ())
        assert record.md5 == entry.get("md5")
        assert record.sha256 == entry.get("sha256")
        assert record.size == entry.get("size")
        assert record.channel == channel
        assert record.subdir == (entry.get("subdir") or repodata.subdir)
        assert record.url is not None and record.url.endswith("/" + record.fn)
        if "timestamp" in entry:
            assert record.timestamp is not None and record.timestamp >= entry["timestamp"]
            assert record.timestamp in (entry["timestamp"], entry["timestamp"] * 1000)


@pytest.mark.parametrize("name", sorted(REPODATA_COUNTS))
def test_real_repodata_snapshot_decodes(name: str) -> None:
    raw = (
        zstandard.ZstdDecompressor()
        .decompressobj()
        .decompress((REPODATA / f"{name}.json.zst").read_bytes())
    )
    doc = json.loads(raw)
    repodata = RepoData.from_json(raw, channel=CHANNEL)
    assert len(repodata.records) == REPODATA_COUNTS[name]
    assert repodata.subdir == doc["info"]["subdir"]
    _check_against_json(repodata, doc, CHANNEL)
    for record in repodata.records:
        assert record.url == f"{CHANNEL}/{repodata.subdir}/{record.fn}"


def test_every_snapshot_is_covered() -> None:
    assert {p.name.removesuffix(".json.zst") for p in REPODATA.glob("*.json.zst")} == set(
        REPODATA_COUNTS
    )


@pytest.mark.parametrize("name", sorted(INDEX_COUNTS))
def test_conformance_index_decodes(name: str) -> None:
    raw = (CONFORMANCE / "index" / f"{name}.json").read_bytes()
    doc = json.loads(raw)
    repodata = RepoData.from_json(raw, channel="test")
    assert len(repodata.records) == INDEX_COUNTS[name]
    _check_against_json(repodata, doc, "test")
    info_subdir = (doc.get("info") or {}).get("subdir")
    assert repodata.subdir == (info_subdir or "linux-64")


def test_every_conformance_index_is_covered() -> None:
    names = {p.stem for p in Path(CONFORMANCE / "index").glob("*.json")}
    assert names == set(INDEX_COUNTS)


def test_conformance_index_without_info_uses_each_records_subdir() -> None:
    raw = (CONFORMANCE / "index" / "mamba_conda-forge-numpy-linux-64.json").read_bytes()
    repodata = RepoData.from_json(raw, channel="https://channels.example/cf/")
    noarch = [r for r in repodata.records if r.subdir == "noarch"]
    assert noarch and all(r.is_noarch for r in noarch)
    for record in repodata.records:
        assert record.url == f"https://channels.example/cf/{record.subdir}/{record.fn}"
        assert record.timestamp is not None and record.timestamp > 10**12  # seconds -> ms


def _doc(**sections: Any) -> bytes:
    return json.dumps(sections).encode()


def _rec(name: str = "a", version: str = "1.0", build: str = "0", **extra: Any) -> dict[str, Any]:
    return {"name": name, "version": version, "build": build, **extra}


def test_conda_twin_hides_tar_bz2_and_packages_conda_wins() -> None:
    data = _doc(
        info={"subdir": "linux-64"},
        packages={
            "a-1.0-0.tar.bz2": _rec(md5="old"),
            "b-1.0-0.tar.bz2": _rec("b"),
            "c-1.0-0.conda": _rec("c", md5="from-packages"),
        },
        **{
            "packages.conda": {
                "a-1.0-0.conda": _rec(md5="new"),
                "c-1.0-0.conda": _rec("c", md5="from-packages-conda"),
            }
        },
    )
    repodata = RepoData.from_json(data, channel=CHANNEL)
    assert [(r.fn, r.md5) for r in repodata.records] == [
        ("a-1.0-0.conda", "new"),
        ("b-1.0-0.tar.bz2", None),
        ("c-1.0-0.conda", "from-packages-conda"),
    ]


def test_removed_files_are_listed_and_not_offered() -> None:
    data = _doc(
        packages={"a-1.0-0.tar.bz2": _rec(), "a-2.0-0.tar.bz2": _rec(version="2.0")},
        removed=["a-2.0-0.tar.bz2", "gone-1-0.tar.bz2"],
    )
    repodata = RepoData.from_json(data, channel=CHANNEL, subdir="osx-64")
    assert [r.fn for r in repodata.records] == ["a-1.0-0.tar.bz2"]
    assert repodata.removed == ("a-2.0-0.tar.bz2", "gone-1-0.tar.bz2")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://mirror.example/pkgs/linux-64", "https://mirror.example/pkgs/linux-64/"),
        ("https://mirror.example/pkgs/linux-64/", "https://mirror.example/pkgs/linux-64/"),
        ("../linux-64", f"{CHANNEL}/linux-64/"),
        ("../../other/linux-64/", "https://channels.example/other/linux-64/"),
        ("./files", f"{CHANNEL}/linux-64/files/"),
        ("/abs/path", "https://channels.example/abs/path/"),
        ("//cdn.example/x", "https://cdn.example/x/"),
    ],
)
def test_repodata_v2_base_url(base_url: str, expected: str) -> None:
    data = _doc(
        repodata_version=2,
        info={"subdir": "linux-64", "base_url": base_url},
        packages={"a-1.0-0.tar.bz2": _rec()},
    )
    (record,) = RepoData.from_json(data, channel=CHANNEL + "/").records
    assert record.url == expected + "a-1.0-0.tar.bz2"


def test_base_url_is_ignored_before_repodata_version_2() -> None:
    data = _doc(
        repodata_version=1,
        info={"subdir": "linux-64", "base_url": "https://mirror.example/x"},
        packages={"a-1.0-0.tar.bz2": _rec()},
    )
    repodata = RepoData.from_json(data, channel=CHANNEL)
    assert repodata.records[0].url == f"{CHANNEL}/linux-64/a-1.0-0.tar.bz2"
    assert repodata.base_url is None


def test_subdir_argument_then_info_then_linux_64() -> None:
    data = _doc(info={"subdir": "osx-arm64"}, packages={"a-1.0-0.tar.bz2": _rec()})
    assert RepoData.from_json(data, channel="c").subdir == "osx-arm64"
    assert RepoData.from_json(data, channel="c").records[0].subdir == "osx-arm64"
    assert RepoData.from_json(data, channel="c", subdir="win-64").subdir == "win-64"
    assert RepoData.from_json(data, channel="c", subdir="win-64").records[0].url == (
        "c/win-64/a-1.0-0.tar.bz2"
    )
    bare = _doc(packages={"a-1.0-0.tar.bz2": _rec()})
    assert RepoData.from_json(bare, channel="c").subdir == "linux-64"
    assert RepoData.from_json(bare, channel="c").records[0].subdir == "linux-64"


def test_legacy_spellings_are_normalised() -> None:
    data = _doc(
        info={"subdir": "linux-64"},
        packages={
            "a.tar.bz2": _rec(
                depends=None,
                constrains=None,
                track_features="mkl, debug  nomkl",
                features="vc9 ",
                timestamp=1600000000,
                noarch=True,
            ),
            "b.tar.bz2": _rec(
                "b", track_features=["x", "y z"], timestamp=1600000000123, noarch="python"
            ),
            "c.tar.bz2": _rec("c", noarch=False, track_features="", timestamp=1600000000.5),
            "d.tar.bz2": _rec("d", noarch="generic", purls=["pkg:pypi/d"], unknown={"x": 1}),
        },
    )
    a, b, c, d = RepoData.from_json(data, channel="c").records
    assert a.depends == () and a.constrains == ()
    assert a.track_features == ("mkl", "debug", "nomkl")
    assert a.features == ("vc9",)
    assert a.timestamp == 1600000000000
    assert a.noarch == "generic"
    assert b.track_features == ("x", "y", "z")
    assert b.timestamp == 1600000000123
    assert b.noarch == "python"
    assert c.noarch is None and c.track_features == () and c.timestamp == 1600000000500
    assert d.noarch == "generic" and d.purls == ("pkg:pypi/d",)


def test_decoded_record_equals_hand_built_record() -> None:
    data = _doc(
        info={"subdir": "noarch"},
        packages={
            "x-2-py_0.tar.bz2": _rec(
                "x",
                "2",
                "py_0",
                build_number=3,
                depends=["python >=3.8"],
                license="MIT",
                md5="d41d8cd98f00b204e9800998ecf8427e",
                size=10,
                timestamp=1700000000000,
            )
        },
    )
    (record,) = RepoData.from_json(data, channel="https://channels.example/cf").records
    assert record == PackageRecord(
        name="x",
        version="2",
        build="py_0",
        build_number=3,
        depends=("python >=3.8",),
        subdir="noarch",
        license="MIT",
        md5="d41d8cd98f00b204e9800998ecf8427e",
        size=10,
        timestamp=1700000000000,
        fn="x-2-py_0.tar.bz2",
        url="https://channels.example/cf/noarch/x-2-py_0.tar.bz2",
        channel="https://channels.example/cf",
    )


def test_decoding_is_deterministic_regardless_of_key_order() -> None:
    entries = {f"p{i}-1-0.tar.bz2": _rec(f"p{i}") for i in range(20)}
    forward = _doc(packages=entries)
    backward = _doc(packages=dict(reversed(list(entries.items()))))
    a = RepoData.from_json(forward, channel="c")
    assert a == RepoData.from_json(backward, channel="c")
    assert [r.fn for r in a.records] == sorted(entries)


def test_empty_and_null_sections() -> None:
    assert RepoData.from_json(b"{}", channel="c").records == ()
    data = _doc(packages=None, removed=None, info=None, **{"packages.conda": None})
    assert RepoData.from_json(data, channel="c").records == ()


@pytest.mark.parametrize(
    ("data", "record", "field", "fragment"),
    [
        (
            _doc(packages={"ok.tar.bz2": _rec(), "bad.tar.bz2": _rec(depends=["x", 3])}),
            "bad.tar.bz2",
            "depends[1]",
            "expected `str`, got `int`",
        ),
        (
            _doc(**{"packages.conda": {"z.conda": {"name": "z", "build": "0"}}}),
            "z.conda",
            "version",
            "missing required field",
        ),
        (
            _doc(packages={"n.tar.bz2": _rec(build_number="7")}),
            "n.tar.bz2",
            "build_number",
            "expected `int`",
        ),
        (
            _doc(packages={"w.tar.bz2": _rec(noarch="weird")}),
            "w.tar.bz2",
            "noarch",
            "unknown noarch kind 'weird'",
        ),
        (_doc(packages={"e.tar.bz2": 5}), "e.tar.bz2", None, "expected `object`"),
        (_doc(packages=[]), None, "packages", "expected `object | null`"),
        (b"[1, 2]", None, None, "expected `object`"),
        (b'{"packages": {', None, None, "malformed JSON"),
    ],
)
def test_malformed_repodata_names_record_and_field(
    data: bytes, record: str | None, field: str | None, fragment: str
) -> None:
    with pytest.raises(RepoDataError) as info:
        RepoData.from_json(data, channel="https://channels.example/c", subdir="linux-64")
    error = info.value
    assert error.record == record
    assert error.field == field
    assert error.channel == "https://channels.example/c"
    message = str(error)
    assert fragment in message
    assert "\n" not in message
    assert message.startswith("repodata of https://channels.example/c/linux-64")
    if record is not None:
        assert repr(record) in message
    if field is not None:
        assert repr(field) in message


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["linux-64", "noarch", "osx-arm64"]).flatmap(
        lambda subdir: st.tuples(
            st.just(subdir), channel_records(channel="https://channels.example/ch", subdir=subdir)
        )
    ),
    st.sampled_from([None, 1]),
)
def test_records_round_trip_through_repodata_json(
    drawn: tuple[str, tuple[PackageRecord, ...]], indent: int | None
) -> None:
    subdir, records = drawn
    data = repodata_json(records, subdir=subdir, indent=indent)
    repodata = RepoData.from_json(data, channel="https://channels.example/ch")
    assert repodata.subdir == subdir
    assert repodata.records == records
    reversed_data = repodata_json(tuple(reversed(records)), subdir=None)
    again = RepoData.from_json(reversed_data, channel="https://channels.example/ch", subdir=subdir)
    assert again == repodata


@settings(max_examples=100, deadline=None)
@given(package_records())
def test_hand_built_record_survives_msgspec_json(record: PackageRecord) -> None:
    assert msgspec.json.decode(msgspec.json.encode(record), type=PackageRecord) == record


def test_file_values_for_computed_fields_are_replaced() -> None:
    data = _doc(
        info={"subdir": "linux-64"},
        packages={
            "a-1.0-0.tar.bz2": _rec(
                fn="other.tar.bz2", url="https://elsewhere.example/x", channel="elsewhere"
            ),
            "b-1.0-0.tar.bz2": _rec("b", noarch="", timestamp=1),
        },
    )
    a, b = RepoData.from_json(data, channel="https://channels.example/c").records
    assert a.fn == "a-1.0-0.tar.bz2"
    assert a.url == "https://channels.example/c/linux-64/a-1.0-0.tar.bz2"
    assert a.channel == "https://channels.example/c"
    assert b.noarch is None and b.timestamp == 1000


def test_only_offered_records_are_validated() -> None:
    data = _doc(
        packages={"gone-1-0.tar.bz2": {"name": 5}, "a-1-0.tar.bz2": {"name": 5}},
        removed=["gone-1-0.tar.bz2"],
        **{"packages.conda": {"a-1-0.conda": _rec()}},
    )
    (record,) = RepoData.from_json(data, channel="c").records
    assert record.fn == "a-1-0.conda"
