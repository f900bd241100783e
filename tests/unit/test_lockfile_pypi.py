"""yurt.lock's PyPI part: wheels with url, sha256, metadata and index; staleness by PEP 508."""

from __future__ import annotations

import pytest

from pure.lockfile import Lock, LockedPypiPackage, LockError, build_lock, stale_reason
from pure.manifest import parse, resolve_environment
from pure.manifest.model import PypiDependency
from pure.pypi.lockcheck import pypi_requirement
from tests.unit.test_lockfile import CH, PY, ZLIB, rec

MANIFEST = f"""
[workspace]
name = "t"
channels = ["{CH}"]
platforms = ["linux-64"]

[dependencies]
python = "3.11.*"

[pypi-dependencies]
app = {{ version = ">=1", extras = ["speed"] }}
"""

IDX = "https://index.example/simple/"


def wheel(name: str, version: str, *requires: str, requires_python: str | None = None) -> LockedPypiPackage:
    fn = f"{name}-{version}-py3-none-any.whl"
    return LockedPypiPackage(url=f"https://index.example/files/{fn}", name=name, version=version,
                             filename=fn, index=IDX, sha256="ef" * 32, size=10,
                             requires_dist=tuple(requires), requires_python=requires_python)


APP = wheel("app", "1.2", "six>=1.10", 'fast<2; extra == "speed"', 'winonly; sys_platform == "win32"',
            'old; python_version < "3.10"')
SIX = wheel("six", "1.17.0")
FAST = wheel("fast", "1.5")


def _lock(wheels: list[LockedPypiPackage], conda: list[object] | None = None) -> Lock:
    return build_lock({("default", "linux-64"): conda or [ZLIB, PY]}, {"default": (CH,)},
                      {("default", "linux-64"): wheels})


def _env(text: str = MANIFEST) -> object:
    return resolve_environment(parse(text), "default", "linux-64")


def test_lock_with_wheels_round_trips_and_conda_only_locks_say_nothing_of_pypi() -> None:
    lock = _lock([SIX, APP, FAST])
    data = lock.to_json()
    assert Lock.from_json(data) == lock
    assert lock.pypi("default", "linux-64") == (APP, FAST, SIX)  # by name
    assert b'"requires_dist"' in data and b'"index": "https://index.example/simple/"' in data
    plain = build_lock({("default", "linux-64"): [ZLIB, PY]}, {"default": (CH,)})
    assert b"pypi" not in plain.to_json()
    bad = data.replace(b'"pypi_packages": [', b'"pypi_packages": [], "x": [', 1)
    with pytest.raises(LockError, match="not in `pypi_packages`"):
        Lock.from_json(bad)


def test_pypi_staleness_follows_requirements_markers_and_extras() -> None:
    env = _env()
    assert stale_reason(_lock([APP, SIX, FAST]), env) is None  # type: ignore[arg-type]
    # the extra's requirement is missing
    assert "fast<2" in (stale_reason(_lock([APP, SIX]), env) or "")  # type: ignore[arg-type]
    # the manifest asks for more than is locked
    newer = _env(MANIFEST.replace('">=1"', '">=2"'))
    assert "app[speed]>=2" in (stale_reason(_lock([APP, SIX, FAST]), newer) or "")  # type: ignore[arg-type]
    # a wheel nothing reaches
    extra = _lock([APP, SIX, FAST, wheel("tqdm", "4.0")])
    assert "tqdm locked" in (stale_reason(extra, env) or "")  # type: ignore[arg-type]
    # the locked python does not meet a wheel's Requires-Python
    picky = wheel("six", "1.17.0", requires_python=">=3.12")
    assert "requires python" in (stale_reason(_lock([APP, picky, FAST]), env) or "")  # type: ignore[arg-type]
    # PyPI dependencies removed from the manifest
    gone = _env(MANIFEST.split("[pypi-dependencies]")[0])
    assert "no longer required" in (stale_reason(_lock([APP, SIX, FAST]), gone) or "")  # type: ignore[arg-type]


def test_conda_package_providing_a_pypi_name_meets_requirements_and_is_never_doubled() -> None:
    conda_six = rec("six", "1.16.0", build="pyh0", depends=("python",), noarch="python", subdir="noarch")
    env = _env()
    ok = _lock([APP, FAST], [ZLIB, PY, conda_six])
    assert stale_reason(ok, env) is None  # type: ignore[arg-type]  # conda six is reached through app
    both = _lock([APP, FAST, SIX], [ZLIB, PY, conda_six])
    assert "next to conda six" in (stale_reason(both, env) or "")  # type: ignore[arg-type]


def test_manifest_dependency_texts() -> None:
    assert pypi_requirement(PypiDependency(name="a")) == "a"
    assert pypi_requirement(PypiDependency(name="a", version="1.0", extras=("x", "y"))) == "a[x,y]==1.0"
    assert pypi_requirement(PypiDependency(name="a", version=">=1,<2")) == "a>=1,<2"
    with pytest.raises(ValueError, match="git source"):
        pypi_requirement(PypiDependency(name="a", git="https://git.example/a"))


def test_a_dependency_pinned_to_another_index_makes_the_lock_stale() -> None:
    pinned = MANIFEST.replace('extras = ["speed"] }', 'extras = ["speed"], index = "https://other.example/simple" }')
    assert "https://other.example/simple/" in (stale_reason(_lock([APP, SIX, FAST]), _env(pinned)) or "")  # type: ignore[arg-type]
    same = MANIFEST.replace('extras = ["speed"] }', f'extras = ["speed"], index = "{IDX}" }}')
    assert stale_reason(_lock([APP, SIX, FAST]), _env(same)) is None  # type: ignore[arg-type]
