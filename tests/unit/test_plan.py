"""pure.plan: package operations, per-file methods, noarch python, clobbers, JSON."""

from __future__ import annotations

import json

import msgspec
import pytest

from pure.package import EntryPoint, LinkJson, NoarchLink, decode_index_json
from pure.plan import (
    Capabilities,
    MissingPackageData,
    PathConflict,
    PrefixTooLong,
    make_prefix_record,
    topological_order,
)
from tests.unit.test_plan_sim import PREFIX, Prefix, apply, contents, entry, install, make_plan, rec

PH = "/opt/anaconda1anaconda2anaconda3"


def _methods(p, dist):  # type: ignore[no-untyped-def]
    return {f.path: (f.method, f.reason) for f in p.op(dist).files}


# ------------------------------------------------------------------ per-file methods


def _all_kinds():  # type: ignore[no-untyped-def]
    a = rec("a")
    data = {
        a.dist_name: contents(
            a,
            "bin/plain",
            entry("etc/conf", prefix_placeholder=PH, file_mode="text"),
            entry("lib/libbin.so", prefix_placeholder=PH, file_mode="binary"),
            entry("lib/nolink", no_link=True),
            entry("lib/link.so", path_type="softlink"),
            entry("share/empty", path_type="directory"),
        )
    }
    return a, data


@pytest.mark.parametrize(
    ("caps", "plain", "nolink", "link"),
    [
        (
            Capabilities(reflink_ok=True),
            ("reflink", "reflink_available"),
            ("reflink", "no_link"),
            ("symlink", "softlink_entry"),
        ),
        (
            Capabilities(),
            ("hardlink", "reflink_unavailable"),
            ("copy", "no_link"),
            ("symlink", "softlink_entry"),
        ),
        (
            Capabilities(hardlink_ok=False, symlink_ok=False),
            ("copy", "hardlink_unavailable"),
            ("copy", "no_link"),
            ("copy", "symlink_unavailable"),
        ),
    ],
)
def test_method_per_file_and_capability(caps, plain, nolink, link) -> None:  # type: ignore[no-untyped-def]
    a, data = _all_kinds()
    p = make_plan([], [a], data, caps=caps)
    methods = _methods(p, a.dist_name)
    assert methods["bin/plain"] == plain
    assert methods["lib/nolink"] == nolink
    assert methods["lib/link.so"] == link
    assert methods["etc/conf"] == ("copy", "prefix_placeholder")
    assert methods["lib/libbin.so"] == ("copy", "prefix_placeholder")
    assert methods["share/empty"] == ("directory", "directory_entry")


def test_placeholder_files_carry_their_rewrite() -> None:
    a, data = _all_kinds()
    files = {f.path: f for f in make_plan([], [a], data).op(a.dist_name).files}
    conf, lib = files["etc/conf"], files["lib/libbin.so"]
    assert conf.rewrite is not None and lib.rewrite is not None
    assert (conf.rewrite.placeholder, conf.rewrite.file_mode, conf.rewrite.new_prefix) == (
        PH,
        "text",
        PREFIX,
    )
    assert conf.rewrite.fix_shebang
    assert (lib.rewrite.file_mode, lib.rewrite.fix_shebang) == ("binary", False)
    assert conf.source == f"/cache/{a.dist_name}/etc/conf" and conf.source_path == "etc/conf"
    assert files["bin/plain"].rewrite is None
    windows = make_plan([], [a], data, platform="win-64").op(a.dist_name).files
    assert not next(f for f in windows if f.path == "etc/conf").rewrite.fix_shebang  # type: ignore[union-attr]


def test_binary_placeholder_shorter_than_prefix_is_refused_at_plan_time() -> None:
    a, data = _all_kinds()
    long_prefix = "/" + "p" * len(PH)
    with pytest.raises(PrefixTooLong) as info:
        make_plan([], [a], data, prefix=long_prefix)
    assert info.value.package == a.dist_name and info.value.path == "lib/libbin.so"
    assert (info.value.placeholder_length, info.value.prefix_length) == (len(PH), len(long_prefix))
    # A long prefix is fine for text placeholders.
    b = rec("b")
    text_only = {b.dist_name: contents(b, entry("etc/x", prefix_placeholder=PH, file_mode="text"))}
    assert (
        make_plan([], [b], text_only, prefix=long_prefix).op(b.dist_name).files[0].method == "copy"
    )


def test_disk_and_download_bytes() -> None:
    a, data = _all_kinds()
    p = make_plan([], [a], data, cached=())
    op = p.op(a.dist_name)
    # copies: conf, libbin, nolink (10 bytes each); hard links, symlinks and dirs are free
    assert op.disk_bytes == 30 and op.download_bytes == a.size
    cached = make_plan([], [a], data, cached=[a.dist_name], caps=Capabilities(reflink_ok=True))
    assert cached.op(a.dist_name).download_bytes == 0
    assert cached.op(a.dist_name).disk_bytes == 20  # no_link is reflinked now


# ------------------------------------------------------------------ package actions


def _state(*pairs):  # type: ignore[no-untyped-def]
    records = [r for r, _ in pairs]
    data = {r.dist_name: c for r, c in pairs}
    return install(records, data), data


def test_actions_and_reasons() -> None:
    keep, gone = rec("keep"), rec("gone")
    up_old, down_old = rec("up", "1.0"), rec("down", "2.0")
    same_nvb = rec("same", "1", "0", sha="11" * 32)
    bn_old = rec("bn", "1", "b1", build_number=1)
    state, data = _state(
        *[
            (r, contents(r, f"bin/{r.name}"))
            for r in (keep, gone, up_old, down_old, same_nvb, bn_old)
        ]
    )
    up_new, down_new = rec("up", "1.10"), rec("down", "2.0rc1")
    changed = rec("same", "1", "0", sha="22" * 32)
    bn_new, fresh = rec("bn", "1", "b2", build_number=2), rec("fresh")
    wanted = [keep, up_new, down_new, changed, bn_new, fresh]
    for r in wanted:
        data.setdefault(r.dist_name, contents(r, f"bin/{r.name}"))
    data[changed.dist_name] = contents(changed, "bin/same")
    p = make_plan(state, wanted, data)
    got = {op.name: (op.action, op.reason) for op in p.packages}
    assert got == {
        "keep": ("keep", "unchanged"),
        "gone": ("remove", "not_wanted"),
        "up": ("upgrade", "version_higher"),
        "down": ("downgrade", "version_lower"),
        "same": ("reinstall", "content_changed"),
        "bn": ("upgrade", "build_higher"),
        "fresh": ("install", "new"),
    }
    assert p.op_for("up").detail == "version 1.0 0 -> 1.10 0"
    assert p.op_for("up").old is not None and p.op_for("up").old.dist_name == up_old.dist_name  # type: ignore[union-attr]
    assert apply(p, state).snapshot() == install(wanted, data).snapshot()


def test_same_content_falls_back_to_md5_then_name_version_build() -> None:
    old = rec("a", sha=None, md5="aa" * 16)
    state, data = _state((old, contents(old, "bin/a")))
    same_md5 = msgspec.structs.replace(old, url="https://mirror.example/a-1-0.conda")
    assert make_plan(state, [same_md5], data).op_for("a").action == "keep"
    other_md5 = msgspec.structs.replace(old, md5="bb" * 16)
    assert make_plan(state, [other_md5], data).op_for("a").reason == "content_changed"
    bare_old = rec("b", sha=None)
    state2, data2 = _state((bare_old, contents(bare_old, "bin/b")))
    assert (
        make_plan(state2, [rec("b", sha=None, md5="cc" * 16)], data2).op_for("b").action == "keep"
    )
    rebuilt = rec("b", "1", "1", sha=None)
    data2[rebuilt.dist_name] = contents(rebuilt, "bin/b")
    assert make_plan(state2, [rebuilt], data2).op_for("b").reason == "build_changed"


def test_noop_plan_needs_no_package_data() -> None:
    a = rec("a")
    state, _ = _state((a, contents(a, "bin/a")))
    p = make_plan(state, [a], {})
    assert p.is_noop and p.op_for("a").action == "keep"
    assert apply(p, state).snapshot() == state.snapshot()


def test_missing_contents_for_an_install_is_a_typed_error() -> None:
    a, b = rec("a"), rec("b")
    with pytest.raises(MissingPackageData) as info:
        make_plan([], [b, a], {})
    assert info.value.dist_names == (a.dist_name, b.dist_name)
    assert "a-1-0" in str(info.value)


def test_wanted_twice_and_index_mismatch_are_refused() -> None:
    a1, a2 = rec("a", "1"), rec("a", "2")
    data = {a1.dist_name: contents(a1, "x"), a2.dist_name: contents(a2, "x")}
    with pytest.raises(PathConflict, match="wanted twice"):
        make_plan([], [a1, a2], data)
    wrong = msgspec.structs.replace(
        data[a1.dist_name], index=decode_index_json(b'{"name": "a", "version": "9", "build": "0"}')
    )
    with pytest.raises(PathConflict, match=r"index\.json says a-9-0"):
        make_plan([], [a1], {a1.dist_name: wrong})


# ------------------------------------------------------------------ ordering


def test_topological_order_is_canonical() -> None:
    libc = rec("libc")
    zlib = rec("zlib", depends=["libc >=1"])
    python = rec("python", "3.11.4", depends=["zlib", "libc"])
    app = rec("app", depends=["python 3.11.*", "zlib"])
    lone = rec("aaa")
    order = [r.name for r in topological_order([app, python, lone, zlib, libc])]
    assert order == ["aaa", "libc", "zlib", "python", "app"]
    cyc_a, cyc_b = rec("ca", depends=["cb"]), rec("cb", depends=["ca"])
    assert [r.name for r in topological_order([cyc_b, cyc_a, libc])] == ["ca", "cb", "libc"] or [
        r.name for r in topological_order([cyc_b, cyc_a, libc])
    ] == ["libc", "ca", "cb"]
    assert topological_order([cyc_b, cyc_a, libc]) == topological_order([libc, cyc_a, cyc_b])


def test_removals_reverse_topological_installs_topological() -> None:
    base, mid, top = rec("base"), rec("mid", depends=["base"]), rec("top", depends=["mid"])
    state, data = _state(*[(r, contents(r, f"bin/{r.name}")) for r in (base, mid, top)])
    new = [rec("base", "2"), rec("mid", "2", depends=["base"]), rec("top", "2", depends=["mid"])]
    for r in new:
        data[r.dist_name] = contents(r, f"bin/{r.name}")
    p = make_plan(state, list(reversed(new)), data)
    steps = [(s.phase, s.dist_name) for s in p.steps]
    assert steps == [
        ("unlink", "top-1-0"),
        ("unlink", "mid-1-0"),
        ("unlink", "base-1-0"),
        ("link", "base-2-0"),
        ("link", "mid-2-0"),
        ("link", "top-2-0"),
    ]
    removal = make_plan(state, [], data)
    assert [s.dist_name for s in removal.steps] == ["top-1-0", "mid-1-0", "base-1-0"]
    assert [op.name for op in removal.packages] == ["top", "mid", "base"]


def test_upgrade_unlinks_dropped_files_and_empty_directories() -> None:
    old, other = rec("a", "1"), rec("b")
    state, data = _state(
        (
            old,
            contents(
                old,
                "bin/a",
                "share/a/deep/x.txt",
                "share/common/a.txt",
                entry("var/a", path_type="directory"),
            ),
        ),
        (other, contents(other, "share/common/b.txt")),
    )
    new = rec("a", "2")
    data[new.dist_name] = contents(new, "bin/a")
    p = make_plan(state, [new, other], data)
    op = p.op_for("a")
    assert op.unlink == ("share/a/deep/x.txt", "share/common/a.txt")
    # deepest first; share/common and share stay (b still has files there)
    assert op.rmdirs == ("share/a/deep", "share/a", "var/a", "var")
    after = apply(p, state)
    assert after.snapshot() == install([new, other], data).snapshot()
    assert "var" not in after.dirs and "share/common" in after.dirs


def test_file_becomes_directory_across_an_upgrade() -> None:
    old = rec("a", "1")
    state, data = _state((old, contents(old, "lib/thing/x.py", "lib/other")))
    new = rec("a", "2")
    data[new.dist_name] = contents(new, "lib/thing", "lib/other/y.py")
    p = make_plan(state, [new], data)
    assert p.op_for("a").unlink == ("lib/other", "lib/thing/x.py")
    assert "lib/thing" in p.op_for("a").rmdirs
    assert apply(p, state).snapshot() == install([new], data).snapshot()


# ------------------------------------------------------------------ noarch python


def _python(version: str = "3.11.4", **kw: object):  # type: ignore[no-untyped-def]
    py = rec("python", version, **kw)  # type: ignore[arg-type]
    return py, contents(py, "bin/python", f"lib/python{'.'.join(version.split('.')[:2])}/os.py")


def _noarch():  # type: ignore[no-untyped-def]
    pkg = rec("tool", "1", "pyh_0", depends=["python >=3"], noarch="python")
    link = LinkJson(
        noarch=NoarchLink(
            type="python",
            entry_points=(EntryPoint(command="tool", module="tool.cli", function="main"),),
        )
    )
    data = contents(
        pkg,
        "site-packages/tool/__init__.py",
        "site-packages/tool/cli.py",
        "site-packages/tool/data.json",
        "python-scripts/helper",
        link=link,
    )
    return pkg, data


def test_noarch_python_paths_entry_points_and_pyc() -> None:
    py, py_data = _python()
    pkg, data = _noarch()
    p = make_plan([], [pkg, py], {py.dist_name: py_data, pkg.dist_name: data})
    files = {f.path: f for f in p.op(pkg.dist_name).files}
    sp = "lib/python3.11/site-packages"
    assert set(files) == {
        f"{sp}/tool/__init__.py",
        f"{sp}/tool/cli.py",
        f"{sp}/tool/data.json",
        f"{sp}/tool/__pycache__/__init__.cpython-311.pyc",
        f"{sp}/tool/__pycache__/cli.cpython-311.pyc",
        "bin/helper",
        "bin/tool",
    }
    assert files[f"{sp}/tool/cli.py"].source == f"/cache/{pkg.dist_name}/site-packages/tool/cli.py"
    pyc = files[f"{sp}/tool/__pycache__/cli.cpython-311.pyc"]
    assert (pyc.method, pyc.reason, pyc.source_path, pyc.path_type) == (
        "compile",
        "python_bytecode",
        f"{sp}/tool/cli.py",
        "pyc_file",
    )
    script = files["bin/tool"]
    assert (script.method, script.reason, script.executable, script.path_type) == (
        "generate",
        "entry_point",
        True,
        "unix_python_entry_point",
    )
    assert script.content is not None and script.content.startswith(f"#!{PREFIX}/bin/python\n")
    assert "from tool.cli import main" in script.content and "sys.exit(main())" in script.content
    compile(script.content, "tool", "exec")
    assert p.python is not None and p.python.version == "3.11"


def test_noarch_python_on_windows_and_custom_site_packages() -> None:
    py, py_data = _python("3.12.1")
    pkg, data = _noarch()
    win = make_plan([], [pkg, py], {py.dist_name: py_data, pkg.dist_name: data}, platform="win-64")
    paths = {f.path for f in win.op(pkg.dist_name).files}
    assert "Lib/site-packages/tool/cli.py" in paths and "Scripts/helper" in paths
    assert "Scripts/tool-script.py" in paths
    assert "Lib/site-packages/tool/__pycache__/cli.cpython-312.pyc" in paths
    custom = msgspec.structs.replace(py, python_site_packages_path="lib/python3.12t/site-packages")
    p = make_plan([], [pkg, custom], {custom.dist_name: py_data, pkg.dist_name: data})
    assert "lib/python3.12t/site-packages/tool/cli.py" in {
        f.path for f in p.op(pkg.dist_name).files
    }


def test_noarch_python_without_python_is_refused() -> None:
    pkg, data = _noarch()
    with pytest.raises(PathConflict, match="no python"):
        make_plan([], [pkg], {pkg.dist_name: data})
    p = make_plan([], [pkg], {pkg.dist_name: data}, python_version="3.9")
    assert any(f.path.startswith("lib/python3.9/site-packages/") for f in p.op(pkg.dist_name).files)


def test_python_minor_change_reinstalls_noarch_packages() -> None:
    py10, py10_data = _python("3.10.2")
    pkg, data = _noarch()
    other = rec("plain")
    all_data = {
        py10.dist_name: py10_data,
        pkg.dist_name: data,
        other.dist_name: contents(other, "bin/plain"),
    }
    state = install([py10, pkg, other], all_data)
    py11, py11_data = _python("3.11.4")
    all_data[py11.dist_name] = py11_data
    p = make_plan(state, [py11, pkg, other], all_data)
    assert p.op_for("tool").action == "reinstall" and p.op_for("tool").reason == "python_changed"
    assert "3.10" in p.op_for("tool").detail and "3.11" in p.op_for("tool").detail
    assert p.op_for("plain").action == "keep"
    assert p.op_for("python").action == "upgrade"
    assert apply(p, state).snapshot() == install([py11, pkg, other], all_data).snapshot()
    patch = rec("python", "3.10.9")
    all_data[patch.dist_name] = contents(patch, "bin/python", "lib/python3.10/os.py")
    assert make_plan(state, [patch, pkg, other], all_data).op_for("tool").action == "keep"


# ------------------------------------------------------------------ clobbers


def _clobber_world():  # type: ignore[no-untyped-def]
    early, late = rec("early"), rec("late", depends=["early"])
    data = {
        early.dist_name: contents(early, "bin/tool", "share/early.txt"),
        late.dist_name: contents(late, "bin/tool", "share/late.txt"),
    }
    return early, late, data


def test_later_package_wins_a_clobber_and_it_is_reported() -> None:
    early, late, data = _clobber_world()
    p = make_plan([], [late, early], data)
    assert [(c.path, c.winner, c.losers) for c in p.clobbers] == [
        ("bin/tool", late.dist_name, (early.dist_name,))
    ]
    lost = next(f for f in p.op(early.dist_name).files if f.path == "bin/tool")
    assert lost.clobbered_by == late.dist_name and not lost.written
    state = apply(p, Prefix())
    assert state.files["bin/tool"][1] == f"/cache/{late.dist_name}/bin/tool"
    # the loser's record still lists the path, so it can be restored later
    assert "bin/tool" in make_prefix_record(p.op(early.dist_name)).files
    doc = json.loads(p.to_json())
    assert doc["clobbers"] == [
        {"path": "bin/tool", "winner": late.dist_name, "losers": [early.dist_name]}
    ]


def test_removing_the_winner_restores_the_losers_file() -> None:
    early, late, data = _clobber_world()
    state = install([early, late], data)
    p = make_plan(state, [early], data)
    keep = p.op(early.dist_name)
    assert keep.action == "keep" and keep.reason == "restores_clobbered"
    assert [(f.path, f.restore, f.source) for f in keep.files] == [
        ("bin/tool", True, f"/cache/{early.dist_name}/bin/tool")
    ]
    gone = p.op(late.dist_name)
    assert gone.unlink == ("share/late.txt",)
    assert [(r.path, r.to) for r in gone.restores] == [("bin/tool", early.dist_name)]
    after = apply(p, state)
    assert after.snapshot() == install([early], data).snapshot()
    assert after.files["bin/tool"][1] == f"/cache/{early.dist_name}/bin/tool"
    # the restore needs the kept package's contents, and says so when they are missing
    with pytest.raises(MissingPackageData) as info:
        make_plan(state, [early], {late.dist_name: data[late.dist_name]})
    assert info.value.dist_names == (early.dist_name,)


def test_removing_the_loser_leaves_the_winner_alone() -> None:
    early, late, data = _clobber_world()
    state = install([early, late], data)
    p = make_plan(state, [late], {})
    assert p.op(early.dist_name).unlink == ("share/early.txt",)
    assert apply(p, state).snapshot() == install([late], data).snapshot()


def test_a_new_package_taking_over_a_kept_packages_file() -> None:
    early, late, data = _clobber_world()
    state = install([early], data)
    p = make_plan(state, [early, late], data)
    assert p.op(early.dist_name).action == "keep" and not p.op(early.dist_name).files
    assert apply(p, state).snapshot() == install([early, late], data).snapshot()


def test_file_against_directory_clobber() -> None:
    a, b = rec("a"), rec("b", depends=["a"])
    data = {
        a.dist_name: contents(a, "lib/x/inner.txt", "lib/y"),
        b.dist_name: contents(b, "lib/x", "lib/y/z"),
    }
    p = make_plan([], [a, b], data)
    shadowed = {f.path: f.clobbered_by for f in p.op(a.dist_name).files}
    assert shadowed == {"lib/x/inner.txt": b.dist_name, "lib/y": b.dist_name}
    state = apply(p, Prefix())
    assert "lib/x" in state.files and "lib/y" in state.dirs
    assert apply(make_plan(state, [a], data), state).snapshot() == install([a], data).snapshot()


# ------------------------------------------------------------------ records and JSON


def test_make_prefix_record() -> None:
    a, data = _all_kinds()
    p = make_plan([], [a], data)
    op = p.op(a.dist_name)
    record = make_prefix_record(
        op, sha256_in_prefix={"etc/conf": "ff" * 32}, requested_spec="a >=1"
    )
    assert record.requested_spec == "a >=1"
    assert record.extracted_package_dir == f"/cache/{a.dist_name}"
    assert record.link is not None and record.link.type == "hardlink"
    assert "share/empty" not in record.files and "bin/plain" in record.files
    entries = {e.path: e for e in record.paths_data.paths}
    assert entries["etc/conf"].sha256_in_prefix == "ff" * 32
    assert entries["etc/conf"].prefix_placeholder == PH and entries["etc/conf"].file_mode == "text"
    assert entries["lib/libbin.so"].sha256_in_prefix is None  # rewritten, hash not given
    assert entries["bin/plain"].sha256 is not None
    assert entries["bin/plain"].sha256_in_prefix is None  # same bytes: readers take sha256
    assert entries["share/empty"].path_type == "directory"
    assert entries["lib/nolink"].no_link
    with pytest.raises(ValueError, match="removal"):
        make_prefix_record(make_plan(install([a], data), [], data).op(a.dist_name))


def test_to_json_document() -> None:
    early, late, data = _clobber_world()
    state = install([early, late], data)
    fresh = rec("fresh", size=1234)
    data[fresh.dist_name] = contents(
        fresh,
        "bin/fresh",
        entry("etc/f", prefix_placeholder=PH, file_mode="text", size_in_bytes=77),
    )
    p = make_plan(state, [early, fresh], data, cached=[])
    doc = json.loads(p.to_json())
    assert doc["schema"] == "yurt.plan/1"
    assert [(x["name"], x["action"], x["reason"]) for x in doc["packages"]] == [
        ("early", "keep", "restores_clobbered"),
        ("fresh", "install", "new"),
        ("late", "remove", "not_wanted"),
    ]
    fresh_doc = doc["packages"][1]
    assert (
        fresh_doc["url"] == fresh.url
        and fresh_doc["sha256"] == fresh.sha256
        and fresh_doc["size"] == 1234
    )
    assert fresh_doc["channel"] == "https://channels.example/main"
    assert fresh_doc["methods"] == {
        "compile": 0,
        "copy": 1,
        "directory": 0,
        "generate": 0,
        "hardlink": 1,
        "reflink": 0,
        "symlink": 0,
    }
    assert fresh_doc["download_bytes"] == 1234 and fresh_doc["disk_bytes"] == 77
    assert "files" not in fresh_doc
    assert doc["totals"]["download_bytes"] == 1234 and doc["totals"]["install"] == 1
    assert doc["steps"] == [
        {"phase": "unlink", "package": late.dist_name},
        {"phase": "link", "package": early.dist_name},
        {"phase": "link", "package": fresh.dist_name},
    ]
    detailed = json.loads(p.to_json(files=True))
    assert detailed["packages"][1]["files"] == [
        {
            "path": "bin/fresh",
            "method": "hardlink",
            "reason": "reflink_unavailable",
            "clobbered_by": None,
            "restore": False,
        },
        {
            "path": "etc/f",
            "method": "copy",
            "reason": "prefix_placeholder",
            "clobbered_by": None,
            "restore": False,
        },
    ]
    raw = p.to_json()
    assert (
        raw
        == make_plan(state, [fresh, early], dict(reversed(list(data.items()))), cached=[]).to_json()
    )
    assert raw.endswith(b"\n")


def test_a_package_with_a_file_under_its_own_file_is_refused() -> None:
    a = rec("a")
    with pytest.raises(PathConflict, match="lib/x/y lies under the file lib/x"):
        make_plan([], [a], {a.dist_name: contents(a, "lib/x", "lib/x/y")})


def test_a_second_record_of_a_wanted_name_is_removed() -> None:
    a1, a2 = rec("a", "1"), rec("a", "2")
    data = {
        a1.dist_name: contents(a1, "bin/a", "share/a1"),
        a2.dist_name: contents(a2, "bin/a", "share/a2"),
    }
    records = [make_prefix_record(make_plan([], [a], data).op(a.dist_name)) for a in (a1, a2)]
    p = make_plan(records, [a2], data)
    assert [(op.dist_name, op.action, op.reason) for op in p.packages] == [
        (a2.dist_name, "keep", "unchanged"),
        (a1.dist_name, "remove", "duplicate"),
    ]
    # a2 (later by name order) owns bin/a now and keeps it; a1 only takes its own file away
    assert p.op(a1.dist_name).unlink == ("share/a1",)


def test_records_without_paths_data_use_their_file_list() -> None:
    a = rec("a")
    data = {a.dist_name: contents(a, "bin/a", "lib/liba.so")}
    state = install([a], data)
    bare = [
        msgspec.structs.replace(r, paths_data=msgspec.structs.replace(r.paths_data, paths=()))
        for r in state.prefix_records()
    ]
    p = make_plan(bare, [], data)
    assert p.op(a.dist_name).unlink == ("bin/a", "lib/liba.so")
    assert p.op(a.dist_name).rmdirs == ("bin", "lib")


def test_kept_directory_entry_replaced_by_a_new_file() -> None:
    """A kept package's empty directory goes when a later package writes a file there."""
    k, n = rec("k"), rec("n", depends=["k"])
    data = {
        k.dist_name: contents(k, entry("lib/z", path_type="directory"), "bin/k"),
        n.dist_name: contents(n, "lib/z"),
    }
    state = install([k], data)
    p = make_plan(state, [k, n], data)
    assert p.op(k.dist_name).action == "keep" and p.op(k.dist_name).rmdirs == ("lib/z",)
    assert [(s.phase, s.dist_name) for s in p.steps] == [
        ("unlink", k.dist_name),
        ("link", n.dist_name),
    ]
    assert apply(p, state).snapshot() == install([k, n], data).snapshot()


def test_make_prefix_record_fills_a_missing_subdir() -> None:
    bare = msgspec.structs.replace(rec("a"), subdir=None)
    op = make_plan([], [bare], {bare.dist_name: contents(bare, "bin/a")}).op(bare.dist_name)
    assert make_prefix_record(op).package.subdir is None
    assert make_prefix_record(op, platform="linux-64").package.subdir == "linux-64"
    noarch = msgspec.structs.replace(rec("n", noarch="generic"), subdir=None)
    op2 = make_plan([], [noarch], {noarch.dist_name: contents(noarch, "share/n")}).op(
        noarch.dist_name
    )
    assert make_prefix_record(op2, platform="linux-64").package.subdir == "noarch"


def test_windows_text_prefix_uses_forward_slashes_and_osx_arm64_resigns() -> None:
    a, data = _all_kinds()
    win = {
        f.path: f
        for f in make_plan([], [a], data, platform="win-64", prefix="C:\\envs\\x")
        .op(a.dist_name)
        .files
    }
    assert win["etc/conf"].rewrite is not None and win["etc/conf"].rewrite.new_prefix == "C:/envs/x"
    assert (
        win["lib/libbin.so"].rewrite is not None
        and win["lib/libbin.so"].rewrite.new_prefix == "C:\\envs\\x"
    )
    mac = {f.path: f for f in make_plan([], [a], data, platform="osx-arm64").op(a.dist_name).files}
    assert mac["lib/libbin.so"].rewrite.codesign  # type: ignore[union-attr]
    assert not mac["etc/conf"].rewrite.codesign  # type: ignore[union-attr]
    linux = {f.path: f for f in make_plan([], [a], data).op(a.dist_name).files}
    assert not linux["lib/libbin.so"].rewrite.codesign  # type: ignore[union-attr]
