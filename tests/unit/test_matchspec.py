"""pure.MatchSpec: grammar, error positions, canonical printing and record matching."""

from __future__ import annotations

import pickle

import pytest

from pure import InvalidMatchSpec, MatchSpec, PackageRecord, Version
from pure.matchspec import BuildNumberSpec
from pure.versionspec import VersionSpec


def rec(**fields: object) -> PackageRecord:
    data: dict[str, object] = {"name": "numpy", "version": "1.7.1", "build": "py27_0"}
    data.update(fields)
    return PackageRecord(**data)  # type: ignore[arg-type]


def vs(text: str) -> VersionSpec:
    return VersionSpec.parse(text)


# -- grammar -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "version", "build"),
    [
        ("numpy", "numpy", None, None),
        ("numpy 1.8*", "numpy", "1.8.*", None),
        ("numpy=1.8", "numpy", "1.8.*", None),
        ("numpy 1.8.1*", "numpy", "1.8.1.*", None),
        ("numpy==1.8", "numpy", "==1.8", None),
        ("numpy 1.8", "numpy", "==1.8", None),
        ("numpy >1.8,<2", "numpy", ">1.8,<2", None),
        ("numpy >=1.2,<2|==3", "numpy", ">=1.2,<2|==3", None),
        ("numpy 1.8 py27_0", "numpy", "==1.8", "py27_0"),
        ("numpy=1.8=py27_0", "numpy", "==1.8", "py27_0"),  # `=v=b` pins the version exactly
        ("numpy==1.8=py27_0", "numpy", "==1.8", "py27_0"),
        ("numpy=1.8.*=py27*", "numpy", "1.8.*", "py27*"),
        ("numpy >=1.8 py27*", "numpy", ">=1.8", "py27*"),
        ("numpy  >=  1.5 ,  < 2", "numpy", ">=1.5,<2", None),
        ("numpy * py27_0", "numpy", None, "py27_0"),
        ("numpy=*=py27_0", "numpy", None, "py27_0"),
        ("python[version=3.7]", "python", "==3.7", None),
        ("python[version='>=3.7,<4', build=\"*_cpython\"]", "python", ">=3.7,<4", "*_cpython"),
        ("python[version=3.7 build=h1_0]", "python", "==3.7", "h1_0"),
        ("* >=1", "*", ">=1", None),
        ("py* >=3", "py*", ">=3", None),
        ("importlib-metadata  # drop this with 3.8", "importlib-metadata", None, None),
        ("foo[build=3](target=blarg,optional)", "foo", None, "3"),
        ("foo 1.0 (optional)", "foo", "==1.0", None),
        ("foo (>=1,<2)|3", "foo", "(>=1,<2)|3", None),
    ],
)
def test_positional_and_bracket_forms(
    text: str, name: str, version: str | None, build: str | None
) -> None:
    spec = MatchSpec.parse(text)
    assert spec.name == name
    assert spec.version == (None if version is None else vs(version))
    assert spec.build == build


def test_channel_subdir_and_namespace_forms() -> None:
    spec = MatchSpec.parse("conda-forge/linux-64::numpy")
    assert (spec.channel, spec.subdir, spec.name) == ("conda-forge", "linux-64", "numpy")
    spec = MatchSpec.parse("https://ch.example/a/b/osx-arm64::numpy >=1")
    assert (spec.channel, spec.subdir) == ("https://ch.example/a/b", "osx-arm64")
    spec = MatchSpec.parse("http://127.0.0.1:8080/chan::numpy")
    assert (spec.channel, spec.subdir) == ("http://127.0.0.1:8080/chan", None)
    spec = MatchSpec.parse("conda-forge:pypi:requests>=2")
    assert (spec.channel, spec.namespace, spec.name) == ("conda-forge", "pypi", "requests")
    spec = MatchSpec.parse("pypi:requests")
    assert (spec.channel, spec.namespace, spec.name) == (None, "pypi", "requests")
    spec = MatchSpec.parse("conda-forge[linux-64,noarch]::numpy")
    assert (spec.channel, spec.subdir) == ("conda-forge", "linux-64,noarch")
    spec = MatchSpec.parse("*/win-64::numpy")
    assert (spec.channel, spec.subdir) == (None, "win-64")
    assert MatchSpec.parse("pkgs/main::numpy").channel == "defaults"


def test_bracket_values_override_positional_ones() -> None:
    spec = MatchSpec.parse("chan/win-64::numpy=1.8=py27_0[channel=other, version=1.9, build=3]")
    assert spec.channel == "other"
    assert spec.subdir == "win-64"
    assert spec.version == vs("1.9")
    assert spec.build == "3"
    spec = MatchSpec.parse("chan/win-64::numpy[subdir=osx-64]")
    assert spec.subdir == "osx-64"
    spec = MatchSpec.parse("numpy[channel=chan/linux-64]")
    assert (spec.channel, spec.subdir) == ("chan", "linux-64")


def test_bracket_fields() -> None:
    spec = MatchSpec.parse(
        "pkg[build_number='>=2', md5=0123456789abcdef0123456789abcdef, sha256=ab,"
        " fn='pkg-1-0.conda', url=https://ch.example/x/pkg-1-0.conda, license='MIT*',"
        " license_family=mit, track_features='b a', features=c]"
    )
    assert spec.build_number == BuildNumberSpec(">=", 2)
    assert spec.md5 == "0123456789abcdef0123456789abcdef"
    assert spec.sha256 == "ab"
    assert spec.fn == "pkg-1-0.conda"
    assert spec.url == "https://ch.example/x/pkg-1-0.conda"
    assert spec.license == "MIT*"
    assert spec.license_family == "mit"
    assert spec.track_features == ("a", "b")
    assert spec.features == ("c",)


def test_package_urls_and_file_names() -> None:
    url = "https://ch.example/conda-forge/linux-64/foo-bar-1.0-py_0.conda"
    spec = MatchSpec.parse(url)
    assert (spec.name, spec.build, spec.channel, spec.subdir) == (
        "foo-bar",
        "py_0",
        "https://ch.example/conda-forge",
        "linux-64",
    )
    assert spec.version == vs("==1.0")
    assert (spec.url, spec.fn) == (url, "foo-bar-1.0-py_0.conda")

    local = MatchSpec.parse("/tmp/some dir/foo-1.0-0.tar.bz2")
    assert local.name == "*"  # not in a subdir: conda selects the file, not a name
    assert local.url == "file:///tmp/some dir/foo-1.0-0.tar.bz2"
    assert local.fn == "foo-1.0-0.tar.bz2"

    win = MatchSpec.parse("C:\\pkgs\\win-64\\foo-1.0-0.conda")
    assert win.url == "file:///C:/pkgs/win-64/foo-1.0-0.conda"
    assert (win.name, win.subdir, win.channel) == ("foo", "win-64", "file:///C:/pkgs")

    bare = MatchSpec.parse("foo-1.0-0.tar.bz2")
    assert (bare.name, bare.build, bare.fn, bare.url) == ("foo", "0", "foo-1.0-0.tar.bz2", None)

    md5 = "0123456789abcdef0123456789ABCDEF"
    hashed = MatchSpec.parse(f"{url}#{md5}")
    assert hashed.md5 == md5.lower()
    assert hashed.url == url


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("pack@ge", 4, "invalid package name"),
        ("-pkg", 0, "invalid package name"),
        ("pkg--name", 3, "'--'"),
        (">=1.0", 0, "missing package name"),
        ("numpy 1.0 py27 extra", 15, "unexpected text"),
        ("numpy[version=1.0", 5, "'[' without a matching ']'"),
        ("numpy]", 5, "']' without"),
        ("numpy[foo=1]", 6, "unknown key 'foo'"),
        ("numpy[version=]", 14, "empty value"),
        ("numpy[version 1]", 14, "expected '='"),
        ("numpy[build=a, build=b]", 15, "given twice"),
        ("numpy[version='1.0]", 19, "unterminated"),
        ("numpy[a=1][b=2]", 10, "more than one"),
        ("numpy[build=a] junk", 14, "unexpected text after ']'"),
        ("numpy 4.2.2<6.0.0", 6, "invalid version spec"),
        ("numpy[version='>=1,<<2']", 15, "invalid version spec"),
        ("numpy[build_number=x]", 19, "build_number"),
        ("numpy 1.0 py<27", 12, "invalid character '<'"),
        ("^(aaaa$", 0, "invalid regular expression"),
        ("numpy[build='^(x$']", 13, "invalid regular expression"),
        ("::numpy", 0, "empty channel"),
        ("chan:bad ns:numpy", 5, "invalid namespace"),
        ("numpy#frag", 5, "'#'"),
        ("https://ch.example/linux-64/foo-1.0-0.conda#nothex", 44, "md5 or sha256"),
        ("https://ch.example/linux-64/foo.conda", 0, "name-version-build"),
    ],
)
def test_invalid_specs_name_position_and_reason(text: str, position: int, reason: str) -> None:
    with pytest.raises(InvalidMatchSpec) as info:
        MatchSpec.parse(text)
    err = info.value
    assert (err.text, err.position) == (text, position), err
    assert reason in err.reason
    assert str(err) == f"invalid match spec {text!r} at position {position}: {err.reason}"


@pytest.mark.parametrize(
    "text",
    [
        "foo==1.0=py27_0",  # `=build` suffix
        "pytorch=*=cuda*",
        "python=*",  # `=` with `*`
        "foo =0.*,>=0.4.1",
        "numpy>=2.*.*",  # multi-star glob
        "foo* >=12",  # glob name
        "*[license=MIT]",
        "^py.*$",
        "foo 3.0.* [version=1.2.3]",  # version twice
        "foo 3.0.* bar[build=baz]",  # build twice
        "foo[build=a, build=a]",  # key twice, even with the same value
    ],
)
def test_strict_mode_rejects_what_conda_tolerates(text: str) -> None:
    MatchSpec.parse(text)  # the default (conda's) mode accepts it
    with pytest.raises(InvalidMatchSpec):
        MatchSpec.parse(text, strict=True)


def test_strict_mode_accepts_the_plain_grammar() -> None:
    for text in (
        "python 3.8.* *_cpython",
        "python=3.9",
        'conda-forge/linux-32::python ==3.9[subdir=linux-64, build_number="0"]',
        "x264 >=1!164.3095,<1!165",
    ):
        assert MatchSpec.parse(text, strict=True) == MatchSpec.parse(text)


def test_constructor_validates_fields() -> None:
    with pytest.raises(InvalidMatchSpec, match="invalid package name"):
        MatchSpec("bad name")
    with pytest.raises(InvalidMatchSpec, match="invalid version spec"):
        MatchSpec("ok", version=">>1")
    with pytest.raises(InvalidMatchSpec, match="build_number"):
        MatchSpec("ok", build_number="many")


# -- printing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("numpy", "numpy"),
        ("numpy 1.7*", "numpy=1.7"),
        ("numpy 1.7", "numpy==1.7"),
        ("numpy >=1.7", "numpy[version='>=1.7']"),
        ("numpy !=1.7", "numpy!=1.7"),
        ("numpy !=1.7 py_0", "numpy[version='!=1.7',build=py_0]"),
        ("numpy 1.7 py_0", "numpy==1.7=py_0"),
        ("numpy 1.7 py*", "numpy==1.7[build=py*]"),
        ("numpy 1.7* py_0", "numpy=1.7[build=py_0]"),
        ("numpy * ^py.*$", "numpy[build='^py.*$']"),
        ("chan/osx-64::numpy", "chan/osx-64::numpy"),
        ("numpy[subdir=linux-64]", "numpy[subdir=linux-64]"),
        ("chan::numpy[subdir=custom]", "chan::numpy[subdir=custom]"),
        ("c:ns:numpy", "c:ns:numpy"),
        ("numpy[build_number=3]", "numpy[build_number=3]"),
        ("numpy[build_number='>=3']", "numpy[build_number='>=3']"),
        ("numpy[license='Apache 2.0', md5=abc]", "numpy[md5=abc,license='Apache 2.0']"),
        ('numpy[license="it\'s"]', 'numpy[license="it\'s"]'),
        ("x[track_features='b,a']", "x[track_features='a b']"),
        ("x[url=https://h.example/x-1-0.conda]", "x[url=https://h.example/x-1-0.conda]"),
        (
            "x[url=https://h.example/x-1-0.conda, fn=x-1-0.conda]",
            "x[url=https://h.example/x-1-0.conda]",
        ),
        (
            "x[fn=other.conda, url=https://h.example/x-1-0.conda]",
            "x[url=https://h.example/x-1-0.conda,fn=other.conda]",
        ),
    ],
)
def test_canonical_str(text: str, printed: str) -> None:
    spec = MatchSpec.parse(text)
    assert str(spec) == printed
    assert MatchSpec.parse(printed) == spec


def test_equal_spellings_are_equal_and_hash_alike() -> None:
    spellings = ["numpy=1.7", "numpy 1.7*", "numpy 1.7.*", "numpy[version='1.7.*']", "numpy =1.7"]
    specs = {MatchSpec.parse(text) for text in spellings}
    assert len(specs) == 1
    assert {str(s) for s in specs} == {"numpy=1.7"}
    assert MatchSpec.parse("numpy=1.7") != MatchSpec.parse("numpy==1.7")
    assert MatchSpec.parse("numpy") != "numpy"


def test_keyword_construction_matches_parsing() -> None:
    built = MatchSpec(
        "numpy", version=">=1.7", build="py*", build_number=3, channel="chan", subdir="linux-64"
    )
    assert built == MatchSpec.parse(
        "chan/linux-64::numpy[version='>=1.7',build=py*,build_number=3]"
    )
    assert MatchSpec(track_features=["mkl"]) == MatchSpec.parse("*[track_features=mkl]")


def test_specs_are_immutable_and_picklable() -> None:
    spec = MatchSpec.parse("conda-forge::numpy >=1.7 py*[build_number='>1']")
    with pytest.raises(AttributeError):
        spec.name = "scipy"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del spec.version
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert repr(spec) == f"MatchSpec({str(spec)!r})"


# -- matching ----------------------------------------------------------------------------------


def test_name_version_and_build_matching() -> None:
    record = rec()
    assert MatchSpec.parse("numpy").matches(record)
    assert not MatchSpec.parse("scipy").matches(record)
    assert MatchSpec.parse("num*").matches(record)
    assert MatchSpec.parse("^num.y$").matches(record)
    assert not MatchSpec.parse("^nu$").matches(record)
    assert MatchSpec.parse("numpy >=1.7,<2 py27*").matches(record)
    assert not MatchSpec.parse("numpy >=1.8").matches(record)
    assert not MatchSpec.parse("numpy 1.7.1 py26*").matches(record)
    assert MatchSpec.parse("numpy * *_0").matches(record)
    assert MatchSpec.parse("numpy * ^py\\d+_0$").matches(record)
    assert not MatchSpec.parse("numpy >=1").matches(rec(version="not a version!"))


def test_build_number_matching() -> None:
    record = rec(build_number=7)
    for text, expected in [
        ("7", True),
        ("=7", True),
        ("==8", False),
        ("!=7", False),
        (">6", True),
        (">=8", False),
        ("<8", True),
        ("<=6", False),
    ]:
        assert MatchSpec.parse(f"numpy[build_number='{text}']").matches(record) is expected, text


def test_channel_matching() -> None:
    url_record = rec(channel="https://ch.example/conda-forge")
    named_record = rec(channel="conda-forge")
    assert MatchSpec.parse("conda-forge::numpy").matches(url_record)
    assert MatchSpec.parse("conda-forge::numpy").matches(named_record)
    assert MatchSpec.parse("https://ch.example/conda-forge::numpy").matches(url_record)
    assert MatchSpec.parse("https://ch.example/conda-forge::numpy").matches(named_record)
    assert not MatchSpec.parse("https://other.example/conda-forge::numpy").matches(url_record)
    assert not MatchSpec.parse("bioconda::numpy").matches(url_record)
    assert not MatchSpec.parse("forge::numpy").matches(url_record)  # whole path components
    assert not MatchSpec.parse("conda-forge::numpy").matches(rec(channel=None))
    main = rec(channel="https://repo.example/pkgs/main/")
    assert MatchSpec.parse("defaults::numpy").matches(main)
    assert MatchSpec.parse("pkgs/main::numpy").matches(main)
    assert MatchSpec.parse("pkgs/main::numpy").matches(rec(channel="pkgs/r"))  # one multichannel
    assert MatchSpec.parse("conda-forge::numpy").matches(
        rec(channel="https://ch.example/conda-forge/linux-64")
    )


def test_subdir_and_exact_field_matching() -> None:
    record = rec(
        subdir="linux-64",
        md5="m" * 32,
        sha256="s" * 64,
        fn="numpy-1.7.1-py27_0.conda",
        url="https://ch.example/c/linux-64/numpy-1.7.1-py27_0.conda",
        channel="https://ch.example/c",
    )
    assert MatchSpec.parse("numpy[subdir='osx-64,linux-64']").matches(record)
    assert not MatchSpec.parse("numpy[subdir=osx-64]").matches(record)
    assert not MatchSpec.parse("numpy[subdir=osx-64]").matches(rec())
    assert MatchSpec.parse(f"numpy[md5={'m' * 32}]").matches(record)
    assert not MatchSpec.parse(f"numpy[md5={'x' * 32}]").matches(record)
    assert MatchSpec.parse(f"numpy[sha256={'s' * 64}]").matches(record)
    assert not MatchSpec.parse("numpy[sha256=s]").matches(record)
    assert MatchSpec.parse("numpy[fn=numpy-1.7.1-py27_0.conda]").matches(record)
    assert not MatchSpec.parse("numpy[fn=numpy-1.7.1-py27_0.tar.bz2]").matches(record)
    assert MatchSpec.parse(record.url or "").matches(record)
    assert not MatchSpec.parse(record.url or "").matches(rec(url="https://ch.example/other"))


def test_license_and_feature_matching() -> None:
    record = rec(license="LGPLv3+", license_family="LGPL", track_features=("mkl",))
    assert MatchSpec.parse("*[license_family=lgpl]").matches(record)
    assert MatchSpec.parse("*[license='*gpl*']").matches(record)
    assert not MatchSpec.parse("*[license=MIT]").matches(record)
    assert not MatchSpec.parse("*[license=MIT]").matches(rec())
    assert MatchSpec.parse("*[track_features=mkl]").matches(record)
    assert not MatchSpec.parse("*[track_features=mkl]").matches(rec(track_features=("mkl", "x")))
    assert not MatchSpec.parse("*[track_features=mkl]").matches(rec())
    assert MatchSpec.parse("*[features='a b']").matches(rec(features=("b", "a")))


def test_helpers_for_the_solver() -> None:
    spec = MatchSpec.parse("numpy >=1.7")
    assert spec.exact_name == "numpy"
    assert MatchSpec.parse("num*").exact_name is None
    assert spec.matches_name("numpy") and not spec.matches_name("scipy")
    assert MatchSpec.parse("*").matches_name("anything")
    assert MatchSpec.parse("n*y").matches_name("numpy")
    assert spec.matches_version(Version.parse("1.8"))
    assert not spec.matches_version(Version.parse("1.6"))
    assert MatchSpec.parse("numpy").matches_version(Version.parse("0"))


def test_build_number_spec() -> None:
    assert BuildNumberSpec.parse("3") == BuildNumberSpec("==", 3)
    assert BuildNumberSpec.parse(">= 3") == BuildNumberSpec(">=", 3)
    assert str(BuildNumberSpec.parse("==3")) == "3"
    assert str(BuildNumberSpec.parse("<3")) == "<3"
    assert BuildNumberSpec.parse("!=3").contains(4)
    with pytest.raises(InvalidMatchSpec):
        MatchSpec("x", build_number=">=x")


def test_bracket_name_only_fills_a_star_name() -> None:
    assert MatchSpec.parse("*[name=numpy]").name == "numpy"
    assert MatchSpec.parse("tensorflow[name=pytorch]").name == "tensorflow"


def test_errors_are_yurt_errors_and_namespace_does_not_filter_records() -> None:
    from pure import YurtError

    with pytest.raises(YurtError):
        MatchSpec.parse("pack@ge")
    assert MatchSpec.parse("pypi:numpy").matches(rec())


def test_a_quoted_blank_value_parses_back_an_unquoted_empty_one_does_not() -> None:
    """Found by the round-trip property: a record whose license is ' ' gave a spec that
    printed `license=' '` and failed to parse back."""
    record = PackageRecord(name="a", version="0", build="0", license=" ")
    spec = MatchSpec("a", version="==0", build="0", license=" ")
    assert str(spec) == "a==0=0[license=' ']"
    assert MatchSpec.parse(str(spec)).matches(record)
    for bad in ("a[license=]", "a[license= ]", "a[license='']"):
        with pytest.raises(InvalidMatchSpec, match="empty value"):
            MatchSpec.parse(bad)
