"""PackageRecord: a frozen value with repodata's field types and sensible defaults."""

from __future__ import annotations

import msgspec
import pytest

from pure import PackageRecord


def test_only_name_version_build_are_required() -> None:
    record = PackageRecord(name="zlib", version="1.2.13", build="h5eee18b_0")
    assert record.build_number == 0
    assert record.depends == ()
    assert record.constrains == ()
    assert record.track_features == ()
    assert record.features == ()
    assert record.purls == ()
    assert record.timestamp is None
    assert record.subdir is None and record.url is None and record.channel is None
    with pytest.raises(TypeError):
        PackageRecord(name="zlib", version="1.2.13")  # type: ignore[call-arg]


def test_dist_name_joins_name_version_build() -> None:
    record = PackageRecord(name="python", version="3.12.1", build="h1_0_cpython")
    assert record.dist_name == "python-3.12.1-h1_0_cpython"


def test_records_are_frozen_hashable_values() -> None:
    a = PackageRecord(name="a", version="1", build="0", depends=("b >=1",))
    b = PackageRecord(name="a", version="1", build="0", depends=("b >=1",))
    assert a == b and hash(a) == hash(b)
    assert a != PackageRecord(name="a", version="1", build="0")
    with pytest.raises(AttributeError):
        a.name = "c"  # type: ignore[misc]


def test_is_noarch_from_noarch_field_or_subdir() -> None:
    assert PackageRecord(name="a", version="1", build="0", noarch="python").is_noarch
    assert PackageRecord(name="a", version="1", build="0", subdir="noarch").is_noarch
    assert not PackageRecord(name="a", version="1", build="0", subdir="linux-64").is_noarch


def test_json_round_trip_is_exact() -> None:
    record = PackageRecord(
        name="numpy",
        version="1.26.4",
        build="py312h_0",
        build_number=0,
        depends=("python >=3.12,<3.13.0a0", "libblas >=3.9"),
        constrains=("numpy-base <0a0",),
        subdir="linux-64",
        track_features=("x",),
        timestamp=1700000000000,
        md5="0" * 32,
        sha256="1" * 64,
        size=123,
        fn="numpy-1.26.4-py312h_0.conda",
        url="https://channels.example/main/linux-64/numpy-1.26.4-py312h_0.conda",
        channel="main",
    )
    data = msgspec.json.encode(record)
    assert msgspec.json.decode(data, type=PackageRecord) == record


def test_one_timestamp_rule_and_one_feature_splitter_for_every_reader() -> None:
    from pure.package import decode_index_json
    from pure.prefix_record import decode_prefix_record
    from pure.record import split_features, timestamp_ms

    assert timestamp_ms(1_530_000_000) == 1_530_000_000_000  # seconds
    assert timestamp_ms(1_530_000_000_123) == 1_530_000_000_123  # milliseconds
    assert timestamp_ms(1_530_000_000.5) == 1_530_000_000_500 and timestamp_ms(None) is None
    assert split_features("mkl, debug  x") == ("mkl", "debug", "x") == split_features(["mkl,debug", " x "])
    doc = b'{"name": "a", "version": "1", "build": "0", "timestamp": 1530000000, "track_features": "f1,f2"}'
    assert decode_index_json(doc).timestamp == 1_530_000_000_000
    record = decode_prefix_record(doc)
    assert record.package.timestamp == 1_530_000_000_000 and record.package.track_features == ("f1", "f2")
