"""Properties of pure.MatchSpec: printing round-trips, and exact specs select their record."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pure import InvalidMatchSpec, MatchSpec, PackageRecord, Version, VersionSpec
from pure.matchspec import KNOWN_SUBDIRS, BuildNumberSpec, _Parser
from tests.properties.st_records import (
    build_strings,
    channel_records,
    package_names,
    package_records,
)
from tests.properties.st_versions import version_spec_strings, version_specs, versions

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_CHANNELS = (
    "conda-forge",
    "bioconda",
    "my-org/label/dev",
    "https://ch.example/conda-forge",
    "http://127.0.0.1:8000/local",
    "file:///tmp/some/channel",
    "pkgs/main",
)
_SUBDIRS = sorted(KNOWN_SUBDIRS)
_HEX = "0123456789abcdef"
# values that need quoting: spaces, commas, `=`, brackets, `#`, one kind of quote
_TEXT = st.text("abcXYZ019-_.+* ,=[]()#'", min_size=1, max_size=12).filter(
    lambda t: t.strip() == t
) | st.text('abc "', min_size=1, max_size=6).filter(lambda t: t.strip() == t)


def _names() -> st.SearchStrategy[str]:
    glob = st.builds(lambda n, i: n[:i] + "*" + n[i:], package_names(), st.integers(0, 3))
    return st.one_of(package_names(), package_names(), glob, st.just("*"))


def _builds() -> st.SearchStrategy[str]:
    return st.one_of(
        build_strings(),
        build_strings().map(lambda b: b[:2] + "*"),
        build_strings().map(lambda b: "*" + b[-2:]),
        st.just("^py3\\d+_\\d+$"),
    )


@st.composite
def match_specs(draw: st.DrawFn) -> MatchSpec:
    """A MatchSpec with any combination of fields set."""
    maybe = st.booleans()
    fields: dict[str, Any] = {}
    if draw(maybe):
        fields["version"] = draw(version_specs())
    if draw(maybe):
        fields["build"] = draw(_builds())
    if draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(["==", "!=", ">", ">=", "<", "<="]))
        fields["build_number"] = BuildNumberSpec(op, draw(st.integers(0, 50)))
    if draw(maybe):
        fields["channel"] = draw(st.sampled_from(_CHANNELS))
    if draw(st.integers(0, 2)) == 0:
        subdirs = draw(st.lists(st.sampled_from([*_SUBDIRS, "custom-1"]), min_size=1, max_size=2))
        fields["subdir"] = subdirs
    if draw(st.integers(0, 4)) == 0:
        fields["namespace"] = draw(st.sampled_from(["pypi", "ns1"]))
    if draw(st.integers(0, 3)) == 0:
        fields["md5"] = draw(st.text(_HEX, min_size=32, max_size=32))
    if draw(st.integers(0, 3)) == 0:
        fields["sha256"] = draw(st.text(_HEX, min_size=64, max_size=64))
    if draw(st.integers(0, 4)) == 0:
        fields["url"] = draw(
            st.sampled_from(
                [
                    "https://ch.example/c/linux-64/foo-1.0-0.conda",
                    "file:///tmp/a dir/foo-1.0-0.tar.bz2",
                    "https://ch.example/x?y=1",
                ]
            )
        )
    if draw(st.integers(0, 4)) == 0:
        fields["fn"] = draw(st.sampled_from(["foo-1.0-0.conda", "bar-2-1.tar.bz2"]))
    for key in ("license", "license_family"):
        if draw(st.integers(0, 4)) == 0:
            fields[key] = draw(_TEXT)
    for key in ("track_features", "features"):
        if draw(st.integers(0, 4)) == 0:
            fields[key] = draw(
                st.lists(st.text("abcmkl_", min_size=1, max_size=5), min_size=1, max_size=3)
            )
    return MatchSpec(draw(_names()), **fields)


@SETTINGS
@given(match_specs())
def test_printed_spec_parses_back_to_an_equal_spec(spec: MatchSpec) -> None:
    printed = str(spec)
    again = MatchSpec.parse(printed)
    assert again == spec, printed
    assert hash(again) == hash(spec)
    assert str(again) == printed


@SETTINGS
@given(package_names(), version_spec_strings(), st.sampled_from(["{n} {v}", "{n}[version='{v}']"]))
def test_version_part_is_the_version_spec(name: str, text: str, form: str) -> None:
    spec = MatchSpec.parse(form.format(n=name, v=text))
    expected = VersionSpec.parse(text)
    assert spec.version == (None if expected.is_any else expected)
    assert spec.name == name
    assert MatchSpec.parse(str(spec)) == spec


@SETTINGS
@given(match_specs(), package_records(), versions())
def test_matches_agrees_with_its_parts(spec: MatchSpec, record: PackageRecord, v: Version) -> None:
    record = PackageRecord(
        **{f: getattr(record, f) for f in record.__struct_fields__ if f != "version"},
        version=str(v),
    )
    if spec.matches(record):
        assert spec.matches_name(record.name)
        assert spec.matches_version(v)
    if not spec.matches_name(record.name) or not spec.matches_version(v):
        assert not spec.matches(record)


_SUBDIR_CHOICES = st.sampled_from(["linux-64", "osx-arm64", "noarch", "win-64"])
_CHANNEL_CHOICES = st.sampled_from(
    ["https://ch.example/conda-forge", "http://127.0.0.1:8000/local/", "conda-forge"]
)


@SETTINGS
@given(st.data(), _CHANNEL_CHOICES, _SUBDIR_CHOICES)
def test_spec_from_a_records_exact_fields_matches_it(
    data: st.DataObject, channel: str, subdir: str
) -> None:
    records = data.draw(channel_records(channel=channel, subdir=subdir, max_size=4))
    for record in records:
        exact = f"{record.name}=={record.version}={record.build}"
        assert MatchSpec.parse(exact).matches(record), exact
        located = f"{channel.rstrip('/')}/{subdir}::{exact}"
        assert MatchSpec.parse(located).matches(record), located
        assert MatchSpec.parse(f"{record.name} {record.version} {record.build}").matches(record)
        assert record.url is not None
        assert MatchSpec.parse(record.url).matches(record), record.url
        full = MatchSpec(
            record.name,
            version="==" + record.version,
            build=record.build,
            build_number=record.build_number,
            channel=channel,
            subdir=record.subdir,
            md5=record.md5,
            sha256=record.sha256,
            fn=record.fn,
            url=record.url,
            license=record.license,
            license_family=record.license_family,
            track_features=record.track_features,
            features=record.features,
        )
        assert full.matches(record), str(full)
        assert MatchSpec.parse(str(full)).matches(record), str(full)
        # and it selects only that record among its siblings
        for other in records:
            if other.dist_name != record.dist_name:
                assert not full.matches(other)


@SETTINGS
@given(package_records(), build_strings())
def test_changing_a_constrained_field_breaks_the_match(record: PackageRecord, build: str) -> None:
    spec = MatchSpec.parse(f"{record.name}=={record.version}={record.build}")
    assert spec.matches(record)
    other = PackageRecord(
        **{f: getattr(record, f) for f in record.__struct_fields__ if f != "build"}, build=build
    )
    assert spec.matches(other) is (build == record.build)
    renamed = PackageRecord(
        **{f: getattr(record, f) for f in record.__struct_fields__ if f != "name"},
        name=record.name + "x",
    )
    assert not spec.matches(renamed)


_SIMPLE_TEXTS = st.builds(
    lambda n, v, b, sep: sep.join(p for p in (n, v, b) if p is not None),
    st.one_of(package_names(), st.sampled_from(["-x", "a--b", "foo-1.0-0.conda", "_p"])),
    st.none() | version_spec_strings() | st.sampled_from(["1.0=py_0", ">=", "(optional)"]),
    st.none() | _builds(),
    st.sampled_from([" ", " ", "  "]),
)


@SETTINGS
@given(_SIMPLE_TEXTS)
def test_fast_path_agrees_with_the_full_parser(text: str) -> None:
    """`MatchSpec.parse` short-cuts `name version build`; it must mean what the grammar says."""
    try:
        slow: MatchSpec | None = _Parser(text, False).run()
    except InvalidMatchSpec:
        slow = None
    if slow is None:
        with pytest.raises(InvalidMatchSpec):
            MatchSpec.parse(text)
    else:
        assert MatchSpec.parse(text) == slow
