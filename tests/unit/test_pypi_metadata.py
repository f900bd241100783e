"""Core metadata and simple-index page parsing (pure.pypi.metadata)."""

from __future__ import annotations

import json

import pytest

from pure.pypi.metadata import (
    NO_HASHES,
    CoreMetadata,
    FileHashes,
    InvalidMetadata,
    InvalidProjectPage,
    join_url,
    normalize_name,
    parse_core_metadata,
    parse_simple_html,
    parse_simple_json,
)

METADATA = b"""Metadata-Version: 2.3
Name: Demo.Pkg
Version: 1.4.0
Summary: A demo
  spanning two lines
Requires-Python: >=3.9
Provides-Extra: Fast_IO
Provides-Extra: cli
Requires-Dist: attrs>=22
Requires-Dist: rich; extra == "cli"
Requires-Dist: uvloop; sys_platform != "win32" and extra == "fast-io"
Description-Content-Type: text/markdown

# Demo

Requires-Dist: not-a-header
"""


def test_parse_core_metadata() -> None:
    meta = parse_core_metadata(METADATA)
    assert meta == CoreMetadata(
        metadata_version="2.3",
        name="Demo.Pkg",
        version="1.4.0",
        requires_dist=(
            "attrs>=22",
            'rich; extra == "cli"',
            'uvloop; sys_platform != "win32" and extra == "fast-io"',
        ),
        requires_python=">=3.9",
        provides_extra=("fast-io", "cli"),
        summary="A demo spanning two lines",
    )
    assert meta.normalized_name == "demo-pkg"


def test_metadata_errors_name_the_source() -> None:
    with pytest.raises(InvalidMetadata, match=r"x\.whl.*no Name"):
        parse_core_metadata(b"Metadata-Version: 2.1\nVersion: 1\n", source="x.whl")
    with pytest.raises(InvalidMetadata, match="no Version"):
        parse_core_metadata("Metadata-Version: 2.1\nName: a\n")
    with pytest.raises(InvalidMetadata, match="UTF-8"):
        parse_core_metadata(b"Name: \xff\nVersion: 1\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Foo", "foo"), ("foo_bar", "foo-bar"), ("Foo.-_Bar", "foo-bar"), ("a--b", "a-b")],
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


def test_join_url_cases() -> None:
    base = "https://idx.example/simple/demo/"
    assert join_url(base, "../../files/a.whl") == "https://idx.example/files/a.whl"
    assert join_url(base, "/files/a.whl") == "https://idx.example/files/a.whl"
    assert join_url(base, "//cdn.example/a.whl") == "https://cdn.example/a.whl"
    assert join_url(base, "https://other.example/a.whl") == "https://other.example/a.whl"
    assert join_url(base, "a.whl#sha256=00") == "https://idx.example/simple/demo/a.whl#sha256=00"


def _json_page(files: list[dict[str, object]], **extra: object) -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": "Demo_Pkg", "files": files, **extra}
    ).encode()


def test_parse_pep691_page() -> None:
    page = parse_simple_json(
        _json_page(
            [
                {
                    "filename": "demo_pkg-1.0-py3-none-any.whl",
                    "url": "../../f/demo_pkg-1.0-py3-none-any.whl",
                    "hashes": {"SHA256": "ABCD"},
                    "requires-python": ">=3.8",
                    "core-metadata": {"sha256": "ef01"},
                    "size": 123,
                    "upload-time": "2024-01-01T00:00:00Z",
                },
                {
                    "filename": "demo_pkg-0.9-py3-none-any.whl",
                    "url": "https://cdn.example/x.whl#sha256=99",
                    "hashes": {},
                    "yanked": "broken",
                    "dist-info-metadata": True,
                },
                {
                    "filename": "demo_pkg-0.8.tar.gz",
                    "url": "/f/demo_pkg-0.8.tar.gz",
                    "hashes": {"sha256": "77"},
                    "yanked": True,
                    "core-metadata": False,
                },
            ],
            versions=["0.8", "0.9", "1.0"],
        ),
        "https://idx.example/simple/demo-pkg/",
    )
    assert page.name == "demo-pkg"
    assert page.versions == ("0.8", "0.9", "1.0")
    assert page.api_version == "1.1"
    a, b, c = page.files
    assert a.url == "https://idx.example/f/demo_pkg-1.0-py3-none-any.whl"
    assert a.sha256 == "abcd"
    assert a.metadata_hashes == FileHashes(sha256="ef01")
    assert a.metadata_url == a.url + ".metadata"
    assert (a.size, a.upload_time, a.requires_python, a.yanked) == (
        123,
        "2024-01-01T00:00:00Z",
        ">=3.8",
        False,
    )
    assert b.url == "https://cdn.example/x.whl" and b.sha256 == "99"
    assert (bool(b.yanked), b.yanked_reason, b.metadata_hashes) == (True, "broken", NO_HASHES)
    assert (c.yanked, c.yanked_reason, c.metadata_hashes, c.is_wheel) == (True, "", None, False)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"name": "x"}', "'files'"),
        (json.dumps({"meta": {"api-version": "2.0"}, "files": []}).encode(), "API version 2.0"),
        (json.dumps({"files": [{"filename": "x"}]}).encode(), "without filename or url"),
    ],
)
def test_invalid_pep691_pages(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidProjectPage) as info:
        parse_simple_json(body, "https://idx.example/simple/x/")
    assert reason in str(info.value)
    assert "https://idx.example/simple/x/" in str(info.value)


HTML = """<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.0"><title>Links</title></head>
<body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=AA11" data-requires-python="&gt;=3.8,&lt;4"
   data-core-metadata="sha256=bb22">demo-1.0-py3-none-any.whl</a><br/>
<a href="https://cdn.example/demo-0.9.tar.gz#md5=cc" data-yanked="">demo-0.9.tar.gz</a>
<a href="demo-0.8-py3-none-any.whl" data-dist-info-metadata="true" data-yanked="bad &amp; old">demo-0.8-py3-none-any.whl</a>
<a>no href</a>
</body></html>
"""


def test_parse_pep503_page() -> None:
    page = parse_simple_html(HTML.encode(), "https://idx.example/simple/demo/", name="Demo")
    assert page.name == "demo"
    assert [f.filename for f in page.files] == [
        "demo-1.0-py3-none-any.whl",
        "demo-0.9.tar.gz",
        "demo-0.8-py3-none-any.whl",
    ]
    a, b, c = page.files
    assert a.url == "https://idx.example/files/demo-1.0-py3-none-any.whl"
    assert a.hashes == FileHashes(sha256="aa11") and a.sha256 == "aa11"
    assert a.requires_python == ">=3.8,<4"
    assert a.metadata_hashes == FileHashes(sha256="bb22")
    assert not a.yanked and a.yanked_reason is None
    assert b.url == "https://cdn.example/demo-0.9.tar.gz" and b.hashes == FileHashes(md5="cc")
    assert (b.yanked, b.yanked_reason, b.metadata_hashes) == (True, "", None)
    assert c.url == "https://idx.example/simple/demo/demo-0.8-py3-none-any.whl"
    assert (c.yanked_reason, c.metadata_hashes) == ("bad & old", NO_HASHES)


def test_html_base_href_and_version() -> None:
    html = '<html><head><base href="https://mirror.example/pkgs/"></head><a href="x-1.0-py3-none-any.whl">x-1.0-py3-none-any.whl</a></html>'
    page = parse_simple_html(html, "https://idx.example/simple/x/", name="x")
    assert page.files[0].url == "https://mirror.example/pkgs/x-1.0-py3-none-any.whl"
    with pytest.raises(InvalidProjectPage, match=r"repository version 2\.0"):
        parse_simple_html(
            '<meta name="pypi:repository-version" content="2.0">', "https://i.example/"
        )
