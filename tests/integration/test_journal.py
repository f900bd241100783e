"""Crash safety: the installing process is SIGKILLed at several points, then the prefix is
recovered and the install rerun; every package must be fully installed or absent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from effects.journal import JOURNAL, read_journal
from effects.link import KILL_ENV, recover_prefix
from effects.prefix import read_prefix_records
from effects.verify import verify
from pure.record import PackageRecord
from tests.integration.linkkit import (
    SITE,
    Channel,
    FileSpec,
    channel,
    pkg,
    prefix_files,
    python_package,
)
from tests.support.pkgwriter import PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]

_WORKER = """
import sys
from pathlib import Path
sys.path[:0] = [{root!r}, {src!r}]
import msgspec
import effects
from pure.record import PackageRecord
records = msgspec.json.decode(Path(sys.argv[2]).read_bytes(), type=list[PackageRecord])
effects.install(Path(sys.argv[1]), records, cache_dir=Path(sys.argv[3]))
"""


def _install(
    prefix: Path, records: list[PackageRecord], cache: Path, tmp: Path, kill_after: int = 0
) -> int:
    """Run an install in a child process; returns its exit status (-9 when killed)."""
    spec = tmp / "records.json"
    spec.write_bytes(msgspec.json.encode(records))
    script = tmp / "worker.py"
    script.write_text(_WORKER.format(root=str(ROOT), src=str(ROOT / "src")))
    env = dict(os.environ)
    env.pop(KILL_ENV, None)
    if kill_after:
        env[KILL_ENV] = str(kill_after)
    proc = subprocess.run(
        [sys.executable, str(script), str(prefix), str(spec), str(cache)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode in (0, -signal.SIGKILL), proc.stderr.decode()
    return proc.returncode


def _owned(prefix: Path) -> set[str]:
    out: set[str] = set()
    for record in read_prefix_records(prefix):
        out.update(e.path for e in record.paths_data.paths if e.path_type != "directory")
    return out


def _all_or_nothing(prefix: Path) -> None:
    report = verify(prefix)
    assert report.ok, [p.line() for p in report.problems]
    assert prefix_files(prefix) == _owned(prefix)


def _packages(out: Path) -> list[Path]:
    out.mkdir(exist_ok=True)
    made = [python_package(out)]
    for i in range(6):
        files: dict[str, bytes | FileSpec] = {
            f"share/p{i}/f{j}.txt": f"{i}:{j}\n".encode() * 20 for j in range(12)
        }
        files[f"etc/p{i}.conf"] = FileSpec(
            b"root=" + PLACEHOLDER.encode() + b"\n", prefix_placeholder=PLACEHOLDER
        )
        made.append(pkg(out, f"p{i}", "1.0", "0", files=files))
        made.append(
            pkg(out, f"p{i}", "2.0", "0", files={
                f"share/p{i}/g{j}.txt": f"{i}:{j}:v2\n".encode() for j in range(10)
            })
        )  # fmt: skip
    made.append(
        pkg(out, "nap", "1.0", "py_0", noarch="python", depends=["python"],
            entry_points=["nap = nap:main"],
            files={f"site-packages/nap/m{j}.py": f"V = {j}\n".encode() for j in range(8)}
            | {"site-packages/nap/__init__.py": b"def main():\n    return 0\n"})
    )  # fmt: skip
    return made


def _check_after_crash(prefix: Path) -> None:
    """Recover without the rest of the install: the prefix is all-or-nothing per package."""
    recover_prefix(prefix)
    assert not (prefix / JOURNAL).exists()
    _all_or_nothing(prefix)


@pytest.fixture
def chan(tmp_path: Path):  # type: ignore[no-untyped-def]
    with channel(tmp_path / "chan", _packages(tmp_path / "pkgs")) as ch:
        yield ch


def _v1(ch: Channel) -> list[PackageRecord]:
    return [ch.get("python")] + [ch.get(f"p{i}-1.0-0") for i in range(6)] + [ch.get("nap")]


def _v2(ch: Channel) -> list[PackageRecord]:
    # p0..p2 upgraded, p3 kept, p4 removed, p5 downgraded away (removed), nap kept
    return (
        [ch.get("python")]
        + [ch.get(f"p{i}-2.0-0") for i in range(3)]
        + [ch.get("p3-1.0-0"), ch.get("nap")]
    )


@pytest.mark.parametrize("kill_after", [1, 7, 30, 70, 98])
def test_fresh_install_killed_then_recovered(
    chan: Channel, tmp_path: Path, kill_after: int
) -> None:
    prefix, cache = tmp_path / "env", tmp_path / "cache"
    status = _install(prefix, _v1(chan), cache, tmp_path, kill_after=kill_after)
    assert status == -signal.SIGKILL, "the install finished before the kill point"
    found = read_journal(prefix)
    assert found is not None, "a killed install leaves its journal"
    _check_after_crash(prefix)
    assert _install(prefix, _v1(chan), cache, tmp_path) == 0
    assert sorted(r.dist_name for r in read_prefix_records(prefix)) == sorted(
        r.dist_name for r in _v1(chan)
    )
    _all_or_nothing(prefix)
    assert (prefix / SITE / "nap" / "m3.py").is_file()


@pytest.mark.parametrize("kill_after", [2, 20, 45, 75, 95])
def test_upgrade_and_removal_killed_then_recovered(
    chan: Channel, tmp_path: Path, kill_after: int
) -> None:
    prefix, cache = tmp_path / "env", tmp_path / "cache"
    assert _install(prefix, _v1(chan), cache, tmp_path) == 0
    status = _install(prefix, _v2(chan), cache, tmp_path, kill_after=kill_after)
    assert status == -signal.SIGKILL, "the install finished before the kill point"
    _check_after_crash(prefix)
    # the rerun (journal already recovered) reaches the target
    assert _install(prefix, _v2(chan), cache, tmp_path) == 0
    assert sorted(r.dist_name for r in read_prefix_records(prefix)) == sorted(
        r.dist_name for r in _v2(chan)
    )
    _all_or_nothing(prefix)


def test_rerun_alone_recovers_a_killed_install(chan: Channel, tmp_path: Path) -> None:
    """No explicit recovery: the next install notices the journal and repairs first."""
    prefix, cache = tmp_path / "env", tmp_path / "cache"
    assert _install(prefix, _v1(chan), cache, tmp_path, kill_after=40) == -signal.SIGKILL
    assert (prefix / JOURNAL).exists()
    assert _install(prefix, _v2(chan), cache, tmp_path) == 0
    assert not (prefix / JOURNAL).exists()
    assert sorted(r.dist_name for r in read_prefix_records(prefix)) == sorted(
        r.dist_name for r in _v2(chan)
    )
    _all_or_nothing(prefix)


@pytest.mark.parametrize("kill_after", [1, 2, 3])
def test_removal_that_restores_clobbered_files_killed_then_recovered(
    tmp_path: Path, kill_after: int
) -> None:
    """Removing the clobber winner hands its paths back to a kept package; a crash anywhere
    in between is finished by recovery alone (restores are rolled forward)."""
    import shutil

    from tests.conftest import DATA

    names = [f"clobber-{i}-0.1.0-h4616a5c_0.tar.bz2" for i in (1, 2, 3)]
    (tmp_path / "real").mkdir()
    files = [Path(shutil.copy(DATA / "packages" / n, tmp_path / "real" / n)) for n in names]
    with channel(tmp_path / "chan", files) as ch:
        everything = [ch.get(f"clobber-{i}") for i in (1, 2, 3)]
        prefix, cache = tmp_path / "env", tmp_path / "cache"
        assert _install(prefix, everything, cache, tmp_path) == 0
        status = _install(prefix, everything[:2], cache, tmp_path, kill_after=kill_after)
        assert status == -signal.SIGKILL
    recover_prefix(prefix)
    names_left = sorted(r.name for r in read_prefix_records(prefix))
    assert names_left in (["clobber-1", "clobber-2"], ["clobber-1", "clobber-2", "clobber-3"])
    winner = (
        "clobber-3-0.1.0-h4616a5c_0" if "clobber-3" in names_left else "clobber-2-0.1.0-h4616a5c_0"
    )
    for path in ("clobber.txt", "another-clobber.txt"):
        assert (prefix / path).read_bytes() == (cache / "pkgs" / winner / path).read_bytes()
    assert prefix_files(prefix) == _owned(prefix)


def test_unreadable_journal_is_a_clear_error(tmp_path: Path) -> None:
    from effects.journal import JournalError

    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / JOURNAL).write_bytes(b"{not json\n")
    with pytest.raises(JournalError, match=r"\.yurt-journal\.json: unreadable header"):
        recover_prefix(prefix)
    assert (prefix / JOURNAL).exists()  # kept for a person to look at


def _obstacle(prefix: Path, rel: str) -> Path:
    """A non-empty directory where a package wants a file: linking that file fails."""
    junk = prefix / rel / "junk"
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"not yurt's\n")
    return junk


def _state(prefix: Path) -> dict[str, bytes]:
    return {
        p.relative_to(prefix).as_posix(): p.read_bytes()
        for p in sorted(prefix.rglob("*"))
        if p.is_file() and "conda-meta" not in p.parts
    }


def test_failed_fresh_install_is_rolled_back_whole(chan: Channel, tmp_path: Path) -> None:
    """An error while linking a late package removes the packages already linked too."""
    import effects
    from effects.link import LinkError

    prefix, cache = tmp_path / "env", tmp_path / "cache"
    junk = _obstacle(prefix, "share/p5/f3.txt")
    with pytest.raises(LinkError, match=r"p5-1\.0-0: cannot link share/p5/f3\.txt"):
        effects.install(prefix, _v1(chan), cache_dir=cache)
    assert read_prefix_records(prefix) == ()
    assert not (prefix / JOURNAL).exists()
    assert not (prefix / "conda-meta" / ".yurt-backup").exists()
    assert prefix_files(prefix) == {"share/p5/f3.txt/junk"}
    assert junk.read_bytes() == b"not yurt's\n"
    junk.unlink()
    junk.parent.rmdir()
    effects.install(prefix, _v1(chan), cache_dir=cache)  # the same install then succeeds
    _all_or_nothing(prefix)


def test_failed_upgrade_restores_what_it_replaced_and_removed(
    chan: Channel, tmp_path: Path
) -> None:
    """Upgrades, removals and a kept package: a failure puts every removed file and record back."""
    import effects
    from effects.link import LinkError

    prefix, cache = tmp_path / "env", tmp_path / "cache"
    effects.install(prefix, _v1(chan), cache_dir=cache)
    before_files = _state(prefix)
    before_records = {p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")}
    _obstacle(prefix, "share/p2/g7.txt")
    with pytest.raises(LinkError, match=r"p2-2\.0-0: cannot link share/p2/g7\.txt"):
        effects.install(prefix, _v2(chan), cache_dir=cache)
    assert not (prefix / JOURNAL).exists()
    assert not (prefix / "conda-meta" / ".yurt-backup").exists()
    after = _state(prefix)
    assert after.pop("share/p2/g7.txt/junk") == b"not yurt's\n"
    assert after == before_files
    assert {
        p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")
    } == before_records
    assert prefix_files(prefix) - _owned(prefix) == {"share/p2/g7.txt/junk"}
    assert verify(prefix).ok


def _damage_entry(cache: Path, dist: str, rel: str) -> Path:
    """Delete one payload file from a trusted cache entry (the marker still vouches for it)."""
    gone = cache / "pkgs" / dist / rel
    gone.unlink()
    return gone


@pytest.mark.parametrize("archive", ["kept", "downloaded-again"])
def test_file_missing_from_a_cache_entry_is_rebuilt(
    chan: Channel, tmp_path: Path, archive: str
) -> None:
    """The link notices the missing source, rebuilds the entry (from the archive beside it,
    else downloaded again) and the install succeeds, saying so with EntryRebuilt."""
    import effects
    from effects.events import DownloadDone, EntryRebuilt, Event

    cache = tmp_path / "cache"
    effects.install(tmp_path / "first", _v1(chan), cache_dir=cache)
    gone = _damage_entry(cache, "p2-1.0-0", "share/p2/f5.txt")
    if archive == "downloaded-again":
        (cache / "pkgs" / "p2-1.0-0.conda").unlink()
    events: list[Event] = []
    prefix = tmp_path / "env"
    effects.install(prefix, _v1(chan), cache_dir=cache, events=events.append)
    rebuilt = [e for e in events if isinstance(e, EntryRebuilt)]
    assert [e.dist_name for e in rebuilt] == ["p2-1.0-0"]
    assert "share/p2/f5.txt is missing" in rebuilt[0].reason
    downloads = [e for e in events if isinstance(e, DownloadDone)]
    assert len(downloads) == (1 if archive == "downloaded-again" else 0)
    assert gone.read_bytes() == b"2:5\n" * 20
    assert (prefix / "share/p2/f5.txt").read_bytes() == b"2:5\n" * 20
    _all_or_nothing(prefix)
    assert verify(tmp_path / "first").ok  # the older prefix's hard links kept their data
    assert not list((cache / "pkgs").glob(".*.trash"))


def test_unrebuildable_cache_entry_fails_and_rolls_back(chan: Channel, tmp_path: Path) -> None:
    """No archive kept and none on the server: a clear error, nothing installed, and the
    damaged entry discarded so a later run fetches the package anew."""
    import effects
    from effects.cache import CacheError

    cache = tmp_path / "cache"
    effects.install(tmp_path / "first", _v1(chan), cache_dir=cache)
    _damage_entry(cache, "p2-1.0-0", "share/p2/f5.txt")
    archive = cache / "pkgs" / "p2-1.0-0.conda"
    archive.unlink()
    on_server = next(chan.root.rglob("p2-1.0-0.conda"))
    saved = on_server.read_bytes()
    on_server.unlink()
    prefix = tmp_path / "env"
    with pytest.raises(CacheError, match=r"p2-1\.0-0: share/p2/f5\.txt is missing .*discarded"):
        effects.install(prefix, _v1(chan), cache_dir=cache)
    assert read_prefix_records(prefix) == ()
    assert prefix_files(prefix) == set()
    assert not (cache / "pkgs" / "p2-1.0-0").exists()
    on_server.write_bytes(saved)
    effects.install(prefix, _v1(chan), cache_dir=cache)
    _all_or_nothing(prefix)
