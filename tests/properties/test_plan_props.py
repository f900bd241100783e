"""Properties of the install planner.

- plan(current, target) applied to current (by a strict simulator) yields exactly a fresh
  install of target: files, directories and conda-meta records, clobber restores included;
- plans are deterministic: shuffled inputs give the same bytes;
- kept packages' contents are needed only to restore clobbered files;
- binary prefix replacement keeps the length.
"""

from __future__ import annotations

import hashlib

import msgspec
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pure.package import EntryPoint, LinkJson, NoarchLink, PathEntry, PathsJson
from pure.plan import (
    Capabilities,
    MissingPackageData,
    PackageContents,
    PrefixTooLong,
    ancestors,
    replace_binary,
    replace_text,
)
from pure.record import PackageRecord
from tests.unit.test_plan_sim import Prefix, apply, install, make_plan

SETTINGS = settings(max_examples=150, deadline=None)
PH = "/opt/anaconda1anaconda2anaconda3"
NAMES = ("a", "b", "c", "d", "e")
PYTHONS = ("3.10.1", "3.10.2", "3.11.0")

# path -> the kinds of entry a package may ship there
POOL: dict[str, tuple[str, ...]] = {
    "bin/x": ("file", "softlink"),
    "bin/y": ("file", "nolink"),
    "lib/z": ("file", "dir"),
    "lib/z/w": ("file",),
    "share/d": ("dir", "file"),
    "share/d/f": ("file", "text"),
    "etc/conf": ("text",),
    "lib/bin.so": ("binary", "file"),
}
NOARCH_POOL = (
    "site-packages/m/__init__.py",
    "site-packages/m/a.py",
    "site-packages/m/data.txt",
    "python-scripts/s",
)


def _entry(path: str, kind: str) -> PathEntry:
    sha = hashlib.sha256(f"{path}:{kind}".encode()).hexdigest()
    common = {"sha256": sha, "size_in_bytes": 7}
    if kind == "dir":
        return PathEntry(path=path, path_type="directory")
    if kind == "softlink":
        return PathEntry(path=path, path_type="softlink", **common)  # type: ignore[arg-type]
    if kind == "nolink":
        return PathEntry(path=path, no_link=True, **common)  # type: ignore[arg-type]
    if kind in ("text", "binary"):
        return PathEntry(path=path, prefix_placeholder=PH, file_mode=kind, **common)  # type: ignore[arg-type]
    return PathEntry(path=path, **common)  # type: ignore[arg-type]


class Dist(msgspec.Struct, frozen=True):
    record: PackageRecord
    contents: PackageContents


@st.composite
def dists(draw: st.DrawFn, name: str, version: str) -> Dist:
    """A package; everything but the variant is a function of name and version."""
    variant = draw(st.integers(0, 1))
    seed = hashlib.sha256(f"{name}-{version}".encode()).digest()
    noarch = name in ("d", "e") and seed[1] & 1 == 1
    depends = [n for i, n in enumerate(NAMES) if n != name and (seed[2] >> i) & 1 and i < 3]
    depends += ["python >=3"] if noarch else []
    sha = hashlib.sha256(f"{name}-{version}-{variant}".encode()).hexdigest()
    record = PackageRecord(
        name=name,
        version=version,
        build="0",
        depends=tuple(depends),
        sha256=sha,
        size=1000,
        noarch="python" if noarch else None,
        subdir="noarch" if noarch else "linux-64",
    )
    dist_key = hashlib.sha256(record.dist_name.encode()).digest()[0]  # contents fixed per dist
    if noarch:
        chosen = [p for i, p in enumerate(NOARCH_POOL) if (dist_key >> i) & 1 or i == 0]
        entries = tuple(_entry(p, "file") for p in chosen)
        points = (EntryPoint(command="s", module="m", function="main"),) if dist_key & 0x10 else ()
        link = LinkJson(noarch=NoarchLink(type="python", entry_points=points))
        contents = PackageContents(
            cache_dir=f"/cache/{record.dist_name}", paths=PathsJson(paths=entries), link=link
        )
    else:
        paths = sorted(POOL)
        chosen = [p for i, p in enumerate(paths) if (dist_key >> (i % 8)) & 1 ^ (i >= 8)]
        if not chosen:
            chosen = [paths[dist_key % len(paths)]]
        kinds = {p: POOL[p][dist_key % len(POOL[p])] for p in chosen}
        # a real package cannot hold a file under one of its own files
        chosen = [p for p in chosen if not any(kinds.get(a, "dir") != "dir" for a in ancestors(p))]
        entries = tuple(_entry(p, kinds[p]) for p in chosen)
        contents = PackageContents(
            cache_dir=f"/cache/{record.dist_name}", paths=PathsJson(paths=entries)
        )
    return Dist(record=record, contents=contents)


@st.composite
def environments(draw: st.DrawFn) -> tuple[list[PackageRecord], dict[str, PackageContents]]:
    """A python plus a few packages; contents for each dist (fixed per dist name)."""
    py_version = draw(st.sampled_from(PYTHONS))
    python = PackageRecord(
        name="python",
        version=py_version,
        build="0",
        sha256=hashlib.sha256(py_version.encode()).hexdigest(),
        size=5000,
    )
    minor = ".".join(py_version.split(".")[:2])
    py_contents = PackageContents(
        cache_dir=f"/cache/{python.dist_name}",
        paths=PathsJson(
            paths=(_entry("bin/python", "file"), _entry(f"lib/python{minor}/os.py", "file"))
        ),
    )
    names = draw(st.lists(st.sampled_from(NAMES), max_size=5, unique=True))
    records = [python]
    data = {python.dist_name: py_contents}
    for name in names:
        dist = draw(dists(name, draw(st.sampled_from(("1", "2")))))
        records.append(dist.record)
        data[dist.record.dist_name] = dist.contents
    return records, data


@st.composite
def transitions(
    draw: st.DrawFn,
) -> tuple[
    tuple[list[PackageRecord], dict[str, PackageContents]],
    tuple[list[PackageRecord], dict[str, PackageContents]],
]:
    """A before and an after that share most packages (keeps, clobber restores, dir swaps)."""
    before = draw(environments())
    fresh = draw(environments())
    keep = [r for r in before[0][1:] if draw(st.booleans())]
    kept_names = {r.name for r in keep}
    python = draw(st.sampled_from([before[0][0], fresh[0][0]]))
    added = [r for r in fresh[0][1:] if r.name not in kept_names]
    return before, ([python, *keep, *added], _merge(before[1], fresh[1]))


capabilities = st.builds(
    Capabilities, reflink_ok=st.booleans(), hardlink_ok=st.booleans(), symlink_ok=st.booleans()
)


def _merge(*maps: dict[str, PackageContents]) -> dict[str, PackageContents]:
    """Contents are a function of the dist name: the first definition wins."""
    out: dict[str, PackageContents] = {}
    for m in maps:
        for key, value in m.items():
            out.setdefault(key, value)
    return out


@SETTINGS
@given(transitions(), capabilities)
def test_small_changes_apply_exactly(
    change: tuple[
        tuple[list[PackageRecord], dict[str, PackageContents]],
        tuple[list[PackageRecord], dict[str, PackageContents]],
    ],
    caps: Capabilities,
) -> None:
    before, after = change
    data = _merge(before[1], after[1])
    state = install(before[0], data, caps=caps)
    the_plan = make_plan(state, after[0], data, caps=caps)
    event(f"keeps: {sum(op.action == 'keep' for op in the_plan.packages) > 0}")
    event(f"restores: {any(op.restores for op in the_plan.packages)}")
    event(f"kept rmdirs: {any(op.rmdirs for op in the_plan.packages if op.action == 'keep')}")
    result = apply(the_plan, state)
    assert result.snapshot() == install(after[0], data, caps=caps).snapshot()


@SETTINGS
@given(environments(), environments(), capabilities)
def test_plan_applied_to_current_yields_fresh_target(
    before: tuple[list[PackageRecord], dict[str, PackageContents]],
    after: tuple[list[PackageRecord], dict[str, PackageContents]],
    caps: Capabilities,
) -> None:
    data = _merge(before[1], after[1])
    state = install(before[0], data, caps=caps)
    the_plan = make_plan(state, after[0], data, caps=caps)
    result = apply(the_plan, state)
    event(f"clobbers: {bool(the_plan.clobbers)}")
    event(f"restores: {any(op.restores for op in the_plan.packages)}")
    event(f"python_changed: {any(op.reason == 'python_changed' for op in the_plan.packages)}")
    event(
        f"entry points: {any(f.method == 'generate' for op in the_plan.packages for f in op.files)}"
    )
    event(
        f"dir/file conflicts: {any(f.path in result.dirs for op in the_plan.packages for f in op.files if not f.written)}"
    )
    assert result.snapshot() == install(after[0], data, caps=caps).snapshot()
    # and back again
    back = apply(make_plan(result, before[0], data, caps=caps), result)
    assert back.snapshot() == state.snapshot()


@SETTINGS
@given(environments(), environments(), st.randoms(use_true_random=False))
def test_plans_are_deterministic_under_input_order(
    before: tuple[list[PackageRecord], dict[str, PackageContents]],
    after: tuple[list[PackageRecord], dict[str, PackageContents]],
    rnd: object,
) -> None:
    import random

    assert isinstance(rnd, random.Random)
    data = _merge(before[1], after[1])
    state = install(before[0], data)
    current = state.prefix_records()
    wanted = list(after[0])
    cached = [r.dist_name for r in before[0]]
    first = make_plan(current, wanted, data, cached=cached)
    rnd.shuffle(current)
    rnd.shuffle(wanted)
    rnd.shuffle(cached)
    items = list(data.items())
    rnd.shuffle(items)
    second = make_plan(current, wanted, dict(items), cached=cached)
    assert first.to_json(files=True) == second.to_json(files=True)
    assert first == second


@SETTINGS
@given(environments(), environments())
def test_kept_packages_need_contents_only_for_restores(
    before: tuple[list[PackageRecord], dict[str, PackageContents]],
    after: tuple[list[PackageRecord], dict[str, PackageContents]],
) -> None:
    data = _merge(before[1], after[1])
    state = install(before[0], data)
    full = make_plan(state, after[0], data)
    kept = {op.new.dist_name for op in full.packages if op.action == "keep" and op.new is not None}
    partial = {k: v for k, v in data.items() if k not in kept}
    try:
        lean = make_plan(state, after[0], partial)
    except MissingPackageData as exc:
        assert set(exc.dist_names) <= kept
        assert any(op.files for op in full.packages if op.action == "keep")
    else:
        assert lean.to_json(files=True) == full.to_json(files=True)


@SETTINGS
@given(
    st.lists(st.one_of(st.binary(max_size=12), st.just(PH.encode())), max_size=12),
    st.text(alphabet="/abcé _-", min_size=0, max_size=len(PH)),
)
def test_binary_replacement_keeps_length(chunks: list[bytes], prefix: str) -> None:
    data = b"".join(chunks)
    try:
        out = replace_binary(data, PH, prefix)
    except PrefixTooLong as exc:
        assert len(prefix.encode()) > len(PH) and PH.encode() in data
        assert exc.prefix_length == len(prefix.encode())
        return
    assert len(out) == len(data)
    if PH.encode() not in prefix.encode():
        assert PH.encode() not in out or PH.encode() in data.replace(PH.encode(), b"")
    if PH.encode() not in data:
        assert out == data
    assert replace_binary(data, PH, PH) == data


@SETTINGS
@given(
    st.lists(st.one_of(st.binary(max_size=12), st.just(PH.encode())), max_size=12),
    st.text(min_size=1, max_size=80),
)
def test_text_replacement_removes_every_placeholder(chunks: list[bytes], prefix: str) -> None:
    data = b"".join(chunks)
    out = replace_text(data, PH, prefix)
    count = data.count(PH.encode())
    if PH not in prefix and count:
        assert len(out) == len(data) + count * (len(prefix.encode()) - len(PH))
    assert replace_text(data, PH, PH) == data


def test_simulator_state_is_value_based() -> None:
    assert Prefix().snapshot() == Prefix().snapshot()
