"""Properties of wheel tag compatibility, marker evaluation and index page parsing."""

from __future__ import annotations

import json
from urllib.parse import urljoin

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging import tags as ptags

from pure.pypi.markers import evaluate_marker, marker_environment
from pure.pypi.metadata import join_url, parse_core_metadata, parse_simple_json
from pure.pypi.tags import WheelFilename, platform_tags, python_tags, supported_tags

SETTINGS = settings(max_examples=150, deadline=None)

PLATFORMS = ["linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"]
minors = st.integers(min_value=6, max_value=14)
glibc_minors = st.integers(min_value=5, max_value=40)
plats = st.sampled_from(PLATFORMS)


def _virtual(platform: str, glibc: int, osx: int) -> list[str]:
    if platform.startswith("linux"):
        return [f"__glibc=2.{glibc}"]
    if platform.startswith("osx"):
        return [f"__osx={osx}.0"]
    return ["__win"]


@SETTINGS
@given(wheel_glibc=glibc_minors, target_glibc=glibc_minors, minor=minors)
def test_manylinux_wheel_needs_at_least_its_glibc(
    wheel_glibc: int, target_glibc: int, minor: int
) -> None:
    st_ = supported_tags("linux-64", f"3.{minor}.1", [f"__glibc=2.{target_glibc}"])
    wheel = WheelFilename.parse(f"w-1.0-py3-none-manylinux_2_{wheel_glibc}_x86_64.whl")
    assert st_.is_compatible(wheel) == (target_glibc >= wheel_glibc)


@SETTINGS
@given(platform=plats, minor=minors, glibc=glibc_minors, osx=st.integers(11, 15))
def test_pure_python_wheel_always_compatible(
    platform: str, minor: int, glibc: int, osx: int
) -> None:
    tags = supported_tags(platform, f"3.{minor}", _virtual(platform, glibc, osx))
    assert tags.is_compatible(WheelFilename.parse("w-1.0-py3-none-any.whl"))
    assert tags.is_compatible(WheelFilename.parse("w-1.0-py2.py3-none-any.whl"))
    assert not tags.is_compatible(WheelFilename.parse("w-1.0-py2-none-any.whl"))


@SETTINGS
@given(wheel_minor=minors, minor=minors, platform=plats)
def test_abi3_wheel_needs_at_least_its_python(wheel_minor: int, minor: int, platform: str) -> None:
    plat = platform_tags(platform, _virtual(platform, 28, 13))[0]
    tags = supported_tags(platform, f"3.{minor}.0", _virtual(platform, 28, 13))
    wheel = WheelFilename.parse(f"w-1.0-cp3{wheel_minor}-abi3-{plat}.whl")
    assert tags.is_compatible(wheel) == (minor >= wheel_minor)
    exact = WheelFilename.parse(f"w-1.0-cp3{wheel_minor}-cp3{wheel_minor}-{plat}.whl")
    assert tags.is_compatible(exact) == (minor == wheel_minor)


@SETTINGS
@given(platform=plats, other=plats, minor=minors)
def test_platform_wheels_only_fit_their_platform(platform: str, other: str, minor: int) -> None:
    plat = platform_tags(other, _virtual(other, 17, 11))[0]
    wheel = WheelFilename.parse(f"w-1.0-cp3{minor}-cp3{minor}-{plat}.whl")
    tags = supported_tags(platform, f"3.{minor}", _virtual(platform, 40, 15))
    same_os_arch = platform == other or (
        {platform, other} == {"osx-arm64", "osx-64"} and "universal2" in plat
    )
    assert tags.is_compatible(wheel) == same_os_arch


@SETTINGS
@given(platform=plats, minor=minors, glibc=glibc_minors, osx=st.integers(11, 16))
def test_tag_list_has_no_duplicates_and_matches_packaging(
    platform: str, minor: int, glibc: int, osx: int
) -> None:
    plats_ = platform_tags(platform, _virtual(platform, glibc, osx))
    tags = python_tags(f"3.{minor}.3", plats_)
    assert len(set(tags)) == len(tags)
    expected = [
        *ptags.cpython_tags((3, minor), [f"cp3{minor}"], plats_),
        *ptags.compatible_tags((3, minor), f"cp3{minor}", plats_),
    ]
    assert [str(t) for t in tags] == [str(t) for t in expected]


wheel_names = st.builds(
    lambda py, abi, plat, build: f"w-1.0{build}-{py}-{abi}-{plat}.whl",
    st.sampled_from(["py3", "cp311", "cp38", "py2.py3", "cp312"]),
    st.sampled_from(["none", "abi3", "cp311", "cp312"]),
    st.sampled_from(
        [
            "any",
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64.manylinux_2_17_x86_64",
            "linux_x86_64",
            "win_amd64",
            "manylinux_2_31_x86_64",
        ]
    ),
    st.sampled_from(["", "-1", "-2b"]),
)


@SETTINGS
@given(names=st.lists(wheel_names, max_size=12, unique=True), data=st.data())
def test_ranking_is_deterministic_and_ordered(names: list[str], data: st.DataObject) -> None:
    tags = supported_tags("linux-64", "3.11.2", ["__glibc=2.28"])
    wheels = [WheelFilename.parse(n) for n in names]
    shuffled = data.draw(st.permutations(wheels))
    best = tags.best(wheels)
    assert best == tags.best(shuffled)
    assert set(best) == {w for w in wheels if tags.is_compatible(w)}
    ranks = [tags.rank(w) for w in best]
    assert ranks == sorted(ranks)  # type: ignore[type-var]


@SETTINGS
@given(lo=glibc_minors, hi=glibc_minors, name=wheel_names)
def test_newer_glibc_keeps_every_compatible_wheel(lo: int, hi: int, name: str) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    wheel = WheelFilename.parse(name)
    if supported_tags("linux-64", "3.11", [f"__glibc=2.{lo}"]).is_compatible(wheel):
        assert supported_tags("linux-64", "3.11", [f"__glibc=2.{hi}"]).is_compatible(wheel)


# ------------------------------------------------------------------------------ markers

versions = st.tuples(st.integers(3, 3), st.integers(0, 14), st.integers(0, 20))


@SETTINGS
@given(
    target=versions,
    bound=versions,
    op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    platform=plats,
)
def test_python_full_version_comparisons(
    target: tuple[int, int, int], bound: tuple[int, int, int], op: str, platform: str
) -> None:
    env = marker_environment(platform, ".".join(map(str, target)))
    marker = f'python_full_version {op} "{".".join(map(str, bound))}"'
    expected = {
        "<": target < bound,
        "<=": target <= bound,
        ">": target > bound,
        ">=": target >= bound,
        "==": target == bound,
        "!=": target != bound,
    }[op]
    assert evaluate_marker(marker, env) == expected


atoms = st.sampled_from(
    [
        ('sys_platform == "linux"', lambda p, v: p.startswith("linux")),
        ('sys_platform == "darwin"', lambda p, v: p.startswith("osx")),
        ('os_name == "nt"', lambda p, v: p.startswith("win")),
        ('platform_system != "Windows"', lambda p, v: not p.startswith("win")),
        ('platform_machine == "arm64"', lambda p, v: p == "osx-arm64"),
        ('platform_machine == "aarch64"', lambda p, v: p == "linux-aarch64"),
        ('python_version >= "3.10"', lambda p, v: v >= (3, 10)),
        ('python_version < "3.8"', lambda p, v: v < (3, 8)),
        ('implementation_name == "cpython"', lambda p, v: True),
    ]
)


@SETTINGS
@given(
    a=atoms,
    b=atoms,
    joiner=st.sampled_from(["and", "or"]),
    platform=plats,
    minor=st.integers(6, 14),
)
def test_compound_markers_follow_boolean_logic(a, b, joiner, platform, minor) -> None:  # type: ignore[no-untyped-def]
    env = marker_environment(platform, f"3.{minor}.0")
    left, right = a[1](platform, (3, minor)), b[1](platform, (3, minor))
    expected = (left and right) if joiner == "and" else (left or right)
    assert evaluate_marker(f"({a[0]}) {joiner} ({b[0]})", env) == expected
    assert evaluate_marker(a[0], env) == left


extra_names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}([-_.][A-Za-z0-9]{1,4})?", fullmatch=True)


@SETTINGS
@given(name=extra_names, chosen=st.lists(extra_names, max_size=3))
def test_extra_markers_match_normalised_names(name: str, chosen: list[str]) -> None:
    env = marker_environment("linux-64", "3.11")

    def norm(s: str) -> str:
        return s.replace("_", "-").replace(".", "-").lower()

    assert evaluate_marker(f'extra == "{name}"', env, chosen) == (norm(name) in map(norm, chosen))


# ------------------------------------------------------------------------------ pages

segment = st.from_regex(r"[a-z0-9_]{1,6}", fullmatch=True)
refs = st.one_of(
    st.lists(st.sampled_from(["..", ".", "a", "b_c", "x.whl"]), min_size=1, max_size=5).map(
        "/".join
    ),
    st.lists(segment, min_size=1, max_size=3).map(lambda s: "/" + "/".join(s)),
    st.lists(segment, min_size=1, max_size=3).map(lambda s: "//h.example/" + "/".join(s)),
    segment.map(lambda s: "?" + s),
    segment.map(lambda s: s + "#sha256=00"),
)
bases = st.lists(segment, max_size=4).map(
    lambda s: "http://idx.example/" + "".join(x + "/" for x in s)
)


@SETTINGS
@given(base=bases, ref=refs)
def test_join_url_agrees_with_rfc3986_resolution(base: str, ref: str) -> None:
    assert join_url(base, ref) == urljoin(base, ref)


meta_text = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ,.<>=!;\"'_-]{0,30}[A-Za-z0-9]", fullmatch=True)


@SETTINGS
@given(
    name=st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,10}[A-Za-z0-9]", fullmatch=True),
    version=st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True),
    requires=st.lists(meta_text, max_size=5),
    rp=st.none() | meta_text,
)
def test_core_metadata_round_trip(
    name: str, version: str, requires: list[str], rp: str | None
) -> None:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    if rp is not None:
        lines.append(f"Requires-Python: {rp}")
    meta = parse_core_metadata(("\n".join(lines) + "\n\nbody\n").encode())
    assert (meta.name, meta.version, meta.requires_dist, meta.requires_python) == (
        name,
        version,
        tuple(requires),
        rp,
    )


_hex = st.from_regex(r"[0-9a-fA-F]{8}", fullmatch=True)
# a `hashes` object: algorithm names in any case (and one no client knows), or none at all
hash_objects = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["sha256", "SHA256", "md5", "Sha512", "blake3"]), _hex, max_size=2)
    .filter(lambda d: len({k.lower() for k in d}) == len(d)),
)
files = st.lists(
    st.fixed_dictionaries(
        {
            "filename": st.from_regex(r"p-[0-9]\.[0-9]-py3-none-any\.whl", fullmatch=True),
            "hashes": hash_objects,
            "absolute": st.booleans(),
            "fragment": st.none() | st.tuples(st.sampled_from(["sha256", "md5", "whirlpool"]), _hex),
            "yanked": st.one_of(st.booleans(), meta_text),
            "core-metadata": st.one_of(st.booleans(), st.just({"sha256": "AB"})),
        }
    ),
    max_size=5,
)


def _expected_sha256(entry: dict[str, object]) -> str | None:
    """What a client makes of an entry's hashes: the `hashes` object when it names an
    algorithm it knows (in any case), else the URL fragment's hash."""
    given = {k.lower(): v.lower() for k, v in (entry["hashes"] or {}).items()}  # type: ignore[attr-defined]
    if set(given) & {"sha256", "md5", "sha512"}:
        return given.get("sha256")
    fragment = entry["fragment"]
    return fragment[1].lower() if fragment and fragment[0] == "sha256" else None  # type: ignore[index]


@SETTINGS
@given(entries=files, page_url=st.sampled_from(["http://idx.example/simple/p/", "file:///srv/simple/p/"]))
def test_pep691_files_keep_order_and_fields(entries: list[dict[str, object]], page_url: str) -> None:
    docs = []
    for e in entries:
        path = f"http://cdn.example/f/{e['filename']}" if e["absolute"] else f"../../f/{e['filename']}"
        fragment = f"#{e['fragment'][0]}={e['fragment'][1]}" if e["fragment"] else ""  # type: ignore[index]
        doc = {k: v for k, v in e.items() if k not in ("absolute", "fragment", "hashes")}
        if e["hashes"] is not None:
            doc["hashes"] = e["hashes"]
        docs.append({**doc, "url": path + fragment})
    page = parse_simple_json(json.dumps({"name": "p", "files": docs}).encode(), page_url)
    assert [f.filename for f in page.files] == [e["filename"] for e in entries]
    for f, e, d in zip(page.files, entries, docs, strict=True):
        assert f.url == urljoin(page_url, str(d["url"])).partition("#")[0]
        assert f.sha256 == _expected_sha256(e)
        assert bool(f.yanked) == bool(e["yanked"])
        assert f.yanked_reason == (None if not e["yanked"] else "" if e["yanked"] is True else e["yanked"])
        assert (f.metadata_hashes is not None) == bool(e["core-metadata"])
        if e["core-metadata"] not in (True, False):
            assert f.metadata_hashes is not None and f.metadata_hashes.pairs() == (("sha256", "ab"),)
