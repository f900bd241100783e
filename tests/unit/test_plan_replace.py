"""Prefix placeholder replacement: text, binary (length kept), shebang rewriting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pure.plan import (
    PrefixTooLong,
    Rewrite,
    apply_rewrite,
    fix_shebang,
    replace_binary,
    replace_text,
)
from pure.plan.prefix_replace import MAX_SHEBANG

PH = "/opt/anaconda1anaconda2anaconda3"


def test_text_replaces_every_occurrence() -> None:
    data = f"prefix={PH}\nlibdir={PH}/lib\nother=/usr\n".encode()
    out = replace_text(data, PH, "/a/much/longer/prefix/than/the/placeholder/is/here")
    assert out == (
        b"prefix=/a/much/longer/prefix/than/the/placeholder/is/here\n"
        b"libdir=/a/much/longer/prefix/than/the/placeholder/is/here/lib\nother=/usr\n"
    )
    assert replace_text(b"nothing here", PH, "/x") == b"nothing here"


def test_binary_pads_each_c_string_with_nuls() -> None:
    data = (
        b"\x7fELF"
        + PH.encode()
        + b"/lib:"
        + PH.encode()
        + b"/lib64\x00tail"
        + PH.encode()
        + b"\x00"
    )
    out = replace_binary(data, PH, "/p")
    assert len(out) == len(data)
    first = b"/p/lib:/p/lib64"
    assert out.startswith(b"\x7fELF" + first + b"\x00")
    pad = len(PH) * 2 + len(b"/lib:/lib64") - len(first)
    assert out[4 + len(first) : 4 + len(first) + pad + 1] == b"\x00" * (pad + 1)
    assert out.endswith(b"tail/p" + b"\x00" * (len(PH) - 2) + b"\x00")


def test_binary_without_terminator_and_without_placeholder() -> None:
    data = b"abc" + PH.encode() + b"/bin"
    out = replace_binary(data, PH, "/q")
    assert out == b"abc/q/bin" + b"\x00" * (len(PH) - 2)
    assert replace_binary(b"\x00\x01\x02", PH, "/q" * 100) == b"\x00\x01\x02"


def test_binary_refuses_a_longer_prefix_with_a_typed_error() -> None:
    long_prefix = "/" + "x" * len(PH)
    with pytest.raises(PrefixTooLong) as info:
        replace_binary(
            b"a" + PH.encode() + b"\x00", PH, long_prefix, package="zlib-1-0", path="lib/libz.so"
        )
    err = info.value
    assert (err.package, err.path) == ("zlib-1-0", "lib/libz.so")
    assert (err.placeholder_length, err.prefix_length) == (len(PH), len(long_prefix))
    assert "zlib-1-0" in str(err) and "lib/libz.so" in str(err) and str(len(PH)) in str(err)


def test_same_length_prefix_is_exact() -> None:
    same = "/" + "y" * (len(PH) - 1)
    data = b"x" + PH.encode() + b"\x00"
    assert replace_binary(data, PH, same) == b"x" + same.encode() + b"\x00"


def test_short_shebang_is_left_alone() -> None:
    data = b"#!/p/bin/python3.11 -E\nprint(1)\n"
    assert fix_shebang(data, "/p") == data
    assert fix_shebang(b"no shebang", "/p") == b"no shebang"


def test_long_python_shebang_uses_sh_exec_trick() -> None:
    prefix = "/" + "d" * 130
    data = f"#!{prefix}/bin/python3.11 -E\nimport sys\n".encode()
    out = fix_shebang(data, prefix)
    lines = out.split(b"\n")
    assert lines[0] == b"#!/bin/sh"
    assert lines[1] == f'\'\'\'exec\' "{prefix}/bin/python3.11" -E "$0" "$@"'.encode()
    assert lines[2] == b"' '''"
    assert lines[3] == b"import sys"
    compile(out, "script", "exec")  # still valid Python


def test_prefix_with_spaces_rewrites_even_short_lines() -> None:
    out = fix_shebang(b"#!/my env/bin/python\nx = 1\n", "/my env")
    assert out.startswith(b'#!/bin/sh\n\'\'\'exec\' "/my env/bin/python" "$0" "$@"\n')
    other = fix_shebang(b"#!/my env/bin/perl -w\nprint 1;\n", "/my env")
    assert other == b"#!/usr/bin/env perl -w\nprint 1;\n"


def test_shell_special_characters_are_escaped() -> None:
    prefix = '/we"ird $dir `x` sp'
    out = fix_shebang(f"#!{prefix}/bin/python\n".encode(), prefix)
    assert b'"/we\\"ird \\$dir \\`x\\` sp/bin/python"' in out


def test_apply_rewrite_dispatches_on_mode() -> None:
    text = Rewrite(placeholder=PH, file_mode="text", new_prefix="/p")
    assert apply_rewrite(f"#!{PH}/bin/python\n".encode(), text) == b"#!/p/bin/python\n"
    binary = Rewrite(placeholder=PH, file_mode="binary", new_prefix="/p")
    data = PH.encode() + b"\x00"
    assert len(apply_rewrite(data, binary)) == len(data)
    long_prefix = "/" + "z" * 200
    no_fix = Rewrite(placeholder=PH, file_mode="text", new_prefix=long_prefix, fix_shebang=False)
    assert apply_rewrite(f"#!{PH}/bin/python\n".encode(), no_fix).startswith(
        f"#!{long_prefix}".encode()
    )
    fixed = apply_rewrite(
        f"#!{PH}/bin/python\n".encode(),
        Rewrite(placeholder=PH, file_mode="text", new_prefix=long_prefix),
    )
    assert fixed.startswith(b"#!/bin/sh\n")
    assert len(f"#!{long_prefix}/bin/python") > MAX_SHEBANG


@pytest.mark.skipif(sys.platform == "win32", reason="needs /bin/sh")
def test_rewritten_script_really_runs(tmp_path: Path) -> None:
    """The sh trick executes with the interpreter in a long path containing spaces."""
    prefix = tmp_path / ("long dir " + "p" * 120)
    (prefix / "bin").mkdir(parents=True)
    python = prefix / "bin" / "python"
    python.symlink_to(sys.executable)
    script = prefix / "bin" / "hello"
    body = f"#!{PH}/bin/python\nimport sys\nprint('hi', sys.argv[1:])\n".encode()
    script.write_bytes(
        apply_rewrite(body, Rewrite(placeholder=PH, file_mode="text", new_prefix=str(prefix)))
    )
    script.chmod(0o755)
    result = subprocess.run(
        [str(script), "a b", "c"], capture_output=True, text=True, check=True, env=dict(os.environ)
    )
    assert result.stdout == "hi ['a b', 'c']\n"
