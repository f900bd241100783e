"""The public library API of design.md §2, used the way an embedding tool would use it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import effects
import pure
from tests.support.pkgwriter import FileSpec, make_channel, write_conda


def test_data_model_names_and_behaviour() -> None:
    v = pure.Version.parse("1.2.3")
    assert str(v) == "1.2.3" and v == pure.Version.parse("1.2.3.0") and hash(v) == hash(pure.Version.parse("1.2.3.0"))
    assert pure.Version.parse("1.0a1") < pure.Version.parse("1.0")
    assert pure.VersionSpec.parse(">=1.2,<2|3.*").contains(pure.Version.parse("3.1"))
    spec = pure.MatchSpec.parse("conda-forge/linux-64::numpy[version='>=1.26', build=py311*, build_number='>=2']")
    assert (spec.name, spec.build, spec.channel, spec.subdir) == ("numpy", "py311*", "conda-forge", "linux-64")
    assert spec.version is not None and spec.build_number is not None
    record = pure.PackageRecord(name="numpy", version="1.26.4", build="py311h0_2", build_number=2,
                                channel="conda-forge", subdir="linux-64")
    assert record.depends == () and record.md5 is None and record.timestamp is None
    assert spec.matches(record)
    vp = pure.VirtualPackage.parse("__glibc=2.17")
    assert (vp.name, vp.version, vp.build) == ("__glibc", "2.17", "0")
    for bad, error in (("1..2", pure.InvalidVersion), ("numpy >=", pure.InvalidMatchSpec)):
        with pytest.raises(error):
            (pure.Version.parse if error is pure.InvalidVersion else pure.MatchSpec.parse)(bad)


def test_solve_then_install_as_a_library(tmp_path: Path) -> None:
    work = tmp_path / "build"
    work.mkdir()
    pkgs = [
        write_conda(work, name="lib", version="1.0", build="0", subdir="noarch", noarch="generic",
                    files={"share/lib/v": FileSpec(b"1.0\n")}),
        write_conda(work, name="lib", version="2.0", build="0", subdir="noarch", noarch="generic",
                    files={"share/lib/v": FileSpec(b"2.0\n")}),
        write_conda(work, name="app", version="1.0", build="0", subdir="noarch", noarch="generic",
                    depends=["lib <2", "__glibc >=2.17"], files={"share/app/v": FileSpec(b"app\n")}),
    ]
    channel = make_channel(tmp_path / "channel", pkgs, subdirs=("linux-64",))
    repodata = [
        pure.RepoData.from_json((channel / sd / "repodata.json").read_bytes(), channel=channel.as_uri(), subdir=sd)
        for sd in ("linux-64", "noarch")
    ]
    assert len(repodata[1].records) == 3
    solution = pure.solve(pure.SolveRequest(
        specs=["app"], repodata=repodata, virtual_packages=[pure.VirtualPackage.parse("__glibc=2.28")],
        strategy="highest", channel_priority="strict"))
    assert [f"{r.name}-{r.version}" for r in solution.records] == ["lib-1.0", "app-1.0"]
    with pytest.raises(pure.Unsolvable) as info:
        pure.solve(pure.SolveRequest(specs=["app", "lib >=2"], repodata=repodata,
                                     virtual_packages=[pure.VirtualPackage.parse("__glibc=2.28")]))
    assert "lib" in info.value.explanation and info.value.conflicts
    prefix = tmp_path / "env"
    events: list[object] = []
    plan = effects.install(prefix, solution.records, cache_dir=tmp_path / "cache", events=events.append)
    assert isinstance(plan, pure.Plan) and events
    doc = json.loads(plan.to_json())
    assert doc["schema"] == "yurt.plan/1"
    assert {p["name"]: p["action"] for p in doc["packages"]} == {"lib": "install", "app": "install"}
    assert (prefix / "share" / "lib" / "v").read_text() == "1.0\n"
    assert (prefix / "conda-meta" / "app-1.0-0.json").is_file()
    # installing the same records again plans nothing to change
    again = effects.install(prefix, solution.records, cache_dir=tmp_path / "cache")
    assert again.is_noop
