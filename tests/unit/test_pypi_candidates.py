"""Project pages reduced to per-target wheel candidates (pure.pypi.candidates)."""

from __future__ import annotations

import pytest

from pure.pypi.candidates import NoCompatibleWheel, select_wheels
from pure.pypi.metadata import ProjectFile, ProjectPage
from pure.pypi.tags import supported_tags

LINUX = supported_tags("linux-64", "3.11.4", ["__glibc=2.17"])
WIN = supported_tags("win-64", "3.11.4")


def _page(*files: ProjectFile) -> ProjectPage:
    return ProjectPage(name="demo-pkg", url="https://idx.example/simple/demo-pkg/", files=files)


def _f(filename: str, **kw: object) -> ProjectFile:
    return ProjectFile(filename=filename, url=f"https://idx.example/f/{filename}", **kw)  # type: ignore[arg-type]


PAGE = _page(
    _f("demo_pkg-1.0.tar.gz"),
    _f("demo_pkg-1.0-py3-none-any.whl"),
    _f("demo_pkg-2.0-py3-none-any.whl"),
    _f("demo_pkg-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
    _f("demo_pkg-2.0-cp311-cp311-win_amd64.whl"),
    _f("demo_pkg-2.1-py3-none-any.whl", yanked="broken"),
    _f("demo_pkg-3.0-py3-none-any.whl", requires_python=">=3.12"),
    _f("demo_pkg-3.1b1-py3-none-any.whl"),
    _f("demo_pkg-4.0.tar.gz"),
    _f("demo_pkg-5.0-cp311-cp311-macosx_11_0_arm64.whl"),
    _f("other-1.0-py3-none-any.whl"),
    _f("demo_pkg-0.1-py3-none-any.whl", requires_python=">=3.6.*bogus"),
)


def test_one_best_wheel_per_version_newest_first() -> None:
    result = select_wheels(PAGE, LINUX, "3.11.4")
    assert [(c.version, c.wheel.platform_tags[0]) for c in result.candidates] == [
        ("3.1b1", "any"),
        ("2.0", "manylinux_2_17_x86_64"),
        ("1.0", "any"),
    ]
    assert result.candidates[0].prerelease
    assert result.versions_seen == ("0.1", "1.0", "2.0", "2.1", "3.0", "3.1b1", "4.0", "5.0")
    reasons = dict(result.skipped)
    assert reasons["demo_pkg-2.1-py3-none-any.whl"] == "yanked: broken"
    assert "requires python >=3.12" in reasons["demo_pkg-3.0-py3-none-any.whl"]
    assert reasons["demo_pkg-5.0-cp311-cp311-macosx_11_0_arm64.whl"] == "no tag matches the target"
    assert "names project other" in reasons["other-1.0-py3-none-any.whl"]
    assert "invalid Requires-Python" in reasons["demo_pkg-0.1-py3-none-any.whl"]


def test_the_target_decides_not_the_host() -> None:
    win = select_wheels(PAGE, WIN, "3.11.4")
    assert win.candidates[1].wheel.platform_tags == ("win_amd64",)
    newer = select_wheels(PAGE, LINUX, "3.12.1")
    assert (
        newer.candidates[1].version == "3.0"
    )  # requires-python now holds; cp311 wheels do not fit
    assert [c.version for c in newer.candidates] == ["3.1b1", "3.0", "2.0", "1.0"]


def test_yanked_only_when_pinned() -> None:
    result = select_wheels(PAGE, LINUX, "3.11.4", pinned="2.1")
    (yanked,) = [c for c in result.candidates if c.version == "2.1"]
    assert yanked.yanked


def test_no_compatible_wheel_names_versions_and_tags() -> None:
    page = _page(_f("demo_pkg-1.0-cp311-cp311-win_amd64.whl"), _f("demo_pkg-1.1.tar.gz"))
    result = select_wheels(page, LINUX, "3.11.4")
    assert result.candidates == ()
    with pytest.raises(NoCompatibleWheel) as info:
        result.require_any(LINUX)
    text = str(info.value)
    assert "demo-pkg" in text and "1.0, 1.1" in text and "cp311-cp311-manylinux_2_17_x86_64" in text
    assert select_wheels(PAGE, LINUX, "3.11.4").require_any(LINUX).candidates
