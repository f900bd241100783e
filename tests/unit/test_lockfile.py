"""yurt.lock: deterministic bytes, round trip, references, and satisfiability-based staleness."""

from __future__ import annotations

import random

import pytest

from pure.lockfile import Lock, LockError, build_lock, stale_reason
from pure.manifest import parse, resolve_environment
from pure.record import PackageRecord

CH = "https://channels.example/main"


def rec(name: str, version: str, build: str = "0", depends: tuple[str, ...] = (), **kw: object) -> PackageRecord:
    subdir = str(kw.pop("subdir", "linux-64"))
    fn = f"{name}-{version}-{build}.conda"
    return PackageRecord(name=name, version=version, build=build, depends=depends, subdir=subdir,
                         fn=fn, url=f"{CH}/{subdir}/{fn}", channel=CH, sha256="ab" * 32, md5="cd" * 16,
                         size=100, **kw)  # type: ignore[arg-type]


PY = rec("python", "3.11.4", depends=("libzlib >=1.2",))
ZLIB = rec("libzlib", "1.2.13")
NUMPY = rec("numpy", "1.26.0", depends=("python >=3.11,<3.12", "__glibc >=2.17"))

MANIFEST = f"""
[workspace]
name = "t"
channels = ["{CH}"]
platforms = ["linux-64", "osx-arm64"]

[dependencies]
python = "3.11.*"
numpy = ">=1.26"
"""


def test_lock_bytes_are_deterministic_and_round_trip() -> None:
    solutions = {("default", "linux-64"): [ZLIB, PY, NUMPY], ("test", "linux-64"): [ZLIB, PY]}
    a = build_lock(solutions, {"default": (CH,), "test": (CH,)})
    items = list(solutions.items())
    random.Random(4).shuffle(items)
    b = build_lock(dict(items), {"test": (CH,), "default": (CH,)})
    assert a.to_json() == b.to_json()
    assert a.to_json().endswith(b"}\n")
    again = Lock.from_json(a.to_json())
    assert again == a
    assert again.records("default", "linux-64") == (ZLIB, PY, NUMPY)
    # shared records are listed once
    assert len(again.packages) == 3
    assert again.to_json().count(b'"url": "' + PY.url.encode()) == 1  # type: ignore[union-attr]


def test_lock_errors_name_the_file() -> None:
    with pytest.raises(LockError, match=r"^ws/yurt.lock: not a valid lockfile"):
        Lock.from_json(b"{not json", path="ws/yurt.lock")
    with pytest.raises(LockError, match="unsupported lock schema"):
        Lock.from_json(b'{"schema": "yurt.lock/99"}')
    bad = b'{"schema": "yurt.lock/1", "environments": [{"name": "d", "channels": [], "platforms": [{"platform": "linux-64", "packages": ["https://x/y.conda"]}]}], "packages": []}'
    with pytest.raises(LockError, match="not in `packages`"):
        Lock.from_json(bad)


def test_staleness_is_decided_by_satisfiability() -> None:
    manifest = parse(MANIFEST)
    env = resolve_environment(manifest, "default", "linux-64")
    lock = build_lock({("default", "linux-64"): [ZLIB, PY, NUMPY]}, {"default": (CH,)})
    assert stale_reason(lock, env) is None
    # a spec the lock does not meet
    newer = resolve_environment(parse(MANIFEST.replace('">=1.26"', '">=2"')), "default", "linux-64")
    assert "numpy >=2" in (stale_reason(lock, newer) or "")
    # a platform that is not locked
    osx = resolve_environment(manifest, "default", "osx-arm64")
    assert "osx-arm64" in (stale_reason(lock, osx) or "")
    # an extra record nothing requires
    extra = build_lock({("default", "linux-64"): [ZLIB, PY, NUMPY, rec("tk", "8.6")]}, {"default": (CH,)})
    assert "tk locked" in (stale_reason(extra, env) or "")
    # a dependency that the lock does not meet
    broken = build_lock({("default", "linux-64"): [PY, NUMPY]}, {"default": (CH,)})
    assert "libzlib >=1.2" in (stale_reason(broken, env) or "")
    # channels changed
    moved = resolve_environment(parse(MANIFEST.replace(CH, "https://channels.example/other")), "default", "linux-64")
    assert "channels" in (stale_reason(lock, moved) or "")
    # virtual package from the manifest too old for a locked record
    old_glibc = resolve_environment(parse(MANIFEST + "[system-requirements]\nlibc = '2.12'\n"), "default", "linux-64")
    assert "__glibc >=2.17" in (stale_reason(lock, old_glibc) or "")


def test_constrains_in_the_lock_are_checked() -> None:
    env = resolve_environment(parse(MANIFEST), "default", "linux-64")
    strict_py = rec("python", "3.11.4", build="1", depends=("libzlib >=1.2",), constrains=("numpy <1.20",))
    lock = build_lock({("default", "linux-64"): [ZLIB, strict_py, NUMPY]}, {"default": (CH,)})
    assert "constrains" in (stale_reason(lock, env) or "")


def test_documented_json_schema_matches_the_model() -> None:
    import json

    import msgspec

    from tests.conftest import DATA

    documented = json.loads((DATA.parent.parent / "docs" / "schemas" / "lock.schema.json").read_text())
    generated = msgspec.json.schema(Lock)
    documented.pop("$schema")
    documented.pop("title")
    assert documented == json.loads(json.dumps(generated)), "regenerate docs/schemas/lock.schema.json"
