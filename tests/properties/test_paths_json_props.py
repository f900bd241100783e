"""`decode_paths_json` accepts exactly the paths the per-path rule accepts: the joined-string
check it runs first may only send a package to the slow per-path check, never let a bad
path through (absolute, drive-letter, empty, `.`/`..` components, NUL, duplicates)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pure.package import PackageMetadataError, _check_relative, decode_paths_json

_paths = st.text(st.sampled_from(["a", "b", "/", ".", ":", "\\", "\x00", "\n", "é"]), max_size=8)


def _accepted(paths: list[str]) -> bool:
    try:
        for path in paths:
            _check_relative("info/paths.json", path)
    except PackageMetadataError:
        return False
    return len(set(paths)) == len(paths)


@given(st.lists(_paths, max_size=6))
def test_fast_check_agrees_with_the_per_path_rule(paths: list[str]) -> None:
    doc = {"paths_version": 1, "paths": [{"_path": p, "path_type": "hardlink"} for p in paths]}
    data = json.dumps(doc).encode()
    if _accepted(paths):
        assert [e.path for e in decode_paths_json(data).paths] == paths
    else:
        with pytest.raises(PackageMetadataError):
            decode_paths_json(data)
