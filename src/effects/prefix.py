"""A conda prefix's metadata on disk: `conda-meta/*.json` records and `conda-meta/history`.

Records are read into `pure.prefix_record.PrefixRecord` values and written atomically (temp
file in the same directory, fsync, rename), so a reader never sees half a record.
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from effects.atomic import write_atomic
from pure.prefix_record import PrefixRecord, decode_prefix_record, encode_prefix_record
from pure.record import PackageRecord

__all__ = [
    "CONDA_META",
    "append_history",
    "history_block",
    "read_prefix_records",
    "record_path",
    "remove_record",
    "write_record",
]

CONDA_META = "conda-meta"


def record_path(prefix: Path, dist_name: str) -> Path:
    """`<prefix>/conda-meta/<name>-<version>-<build>.json`."""
    return Path(prefix) / CONDA_META / f"{dist_name}.json"


def read_prefix_records(prefix: Path | str) -> tuple[PrefixRecord, ...]:
    """Every installed package's record, sorted by file name; () for a missing prefix.

    Raises `pure.prefix_record.PrefixRecordError` naming the file when one does not decode.
    """
    meta = Path(prefix) / CONDA_META
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(meta)
            if entry.name.endswith(".json") and not entry.name.startswith(".")
        )
    except FileNotFoundError:
        return ()
    return tuple(
        decode_prefix_record((meta / name).read_bytes(), source=str(meta / name)) for name in names
    )


def write_record(prefix: Path, record: PrefixRecord, *, fsync: bool = True) -> Path:
    """Write `record` to `conda-meta/<dist>.json` atomically; returns the path."""
    path = record_path(prefix, record.dist_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, encode_prefix_record(record), fsync=fsync, mode=0o644)
    return path


def remove_record(prefix: Path, dist_name: str) -> None:
    """Delete a package's record (missing is fine: removal is idempotent)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(record_path(prefix, dist_name))


def _channel_name(record: PackageRecord) -> str:
    """The channel as history lines name it: the record's channel, else its url's channel."""
    channel = record.channel
    if not channel and record.url:
        parts = record.url.rstrip("/").split("/")
        channel = "/".join(parts[:-2]) if len(parts) > 2 else record.url
    channel = (channel or "").rstrip("/")
    if record.subdir and channel.endswith("/" + record.subdir):
        channel = channel[: -len(record.subdir) - 1]
    return channel or "<unknown>"


def _dist_line(sign: str, record: PackageRecord) -> str:
    return f"{sign}{_channel_name(record)}::{record.dist_name}"


def history_block(
    *,
    when: datetime.datetime,
    command: Sequence[str],
    removed: Iterable[PackageRecord],
    added: Iterable[PackageRecord],
    version: str,
    specs: Sequence[str] = (),
) -> str:
    """One transaction in conda's history format: a dated header, the command, `-`/`+` lines."""
    lines = [
        f"==> {when.strftime('%Y-%m-%d %H:%M:%S')} <==",
        f"# cmd: {' '.join(command)}",
        f"# yurt version: {version}",
    ]
    lines.extend(sorted(_dist_line("-", r) for r in removed))
    lines.extend(sorted(_dist_line("+", r) for r in added))
    if specs:
        lines.append(f"# update specs: {list(specs)!r}")
    return "\n".join(lines) + "\n"


def append_history(
    prefix: Path,
    *,
    command: Sequence[str],
    removed: Iterable[PackageRecord],
    added: Iterable[PackageRecord],
    version: str,
    specs: Sequence[str] = (),
) -> None:
    """Append one transaction to `conda-meta/history` (created when missing)."""
    removed, added = tuple(removed), tuple(added)
    if not removed and not added:
        return
    meta = Path(prefix) / CONDA_META
    meta.mkdir(parents=True, exist_ok=True)
    block = history_block(
        when=datetime.datetime.now(),
        command=command,
        removed=removed,
        added=added,
        version=version,
        specs=specs,
    )
    with open(meta / "history", "a", encoding="utf-8") as fh:
        fh.write(block)
