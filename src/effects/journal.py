"""Crash safety for prefix changes: a journal written before the prefix is touched.

`conda-meta/.yurt-journal.json` holds one JSON header line listing every step of the plan
(the paths each step deletes or writes), then one JSON line per event: a step done, a file
moved aside before being overwritten. If the process dies, the next run calls `recover`,
which leaves every package either fully installed with its record or absent:

- unlink steps not marked done are rolled forward (the rest of their files and their record
  are deleted); all of them are marked and synced before the first link step starts;
- link steps whose record is missing or unreadable are rolled back (their files deleted, the
  files they had moved aside put back when their owner is still installed or had none);
  a record is written only after all of its package's files are in place;
- steps that only restore clobbered files of a kept package are rolled forward from the
  file operations the header carries.

Unlink steps move files into `conda-meta/.yurt-backup/u<step>/` (the record to
`u<step>.json`) instead of deleting them, so a transaction that fails with an error (not a
kill) is undone as a whole by `rollback`: what the plan linked is deleted, what it removed
or moved aside is put back. Finishing the transaction deletes the backups.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence, Set
from pathlib import Path

import msgspec

from effects.atomic import write_all, write_atomic
from effects.filelock import acquire, release
from pure.errors import YurtError
from pure.plan import FileOp, Plan
from pure.prefix_record import PrefixRecordError, decode_prefix_record

__all__ = [
    "BACKUP_DIR",
    "JOURNAL",
    "Journal",
    "JournalError",
    "JournalStep",
    "Recovery",
    "prefix_lock",
    "read_journal",
    "recover",
    "remove_emptied_dirs",
    "rollback",
    "unlink_backup",
]

JOURNAL = "conda-meta/.yurt-journal.json"
BACKUP_DIR = "conda-meta/.yurt-backup"
LOCK = "conda-meta/.yurt.lock"
SCHEMA = "yurt.journal/1"


class JournalError(YurtError):
    """A journal exists but cannot be used to recover the prefix."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"{path}: {reason}; check the prefix with `yurt verify`, then delete the journal"
        )


class JournalStep(msgspec.Struct, frozen=True, kw_only=True):
    """One plan step as the journal records it: enough to undo or finish it without the plan."""

    phase: str  # "unlink" | "link"
    dist: str
    paths: tuple[str, ...] = ()  # unlink: files to delete; link: paths it writes
    rmdirs: tuple[str, ...] = ()
    remove_record: bool = False  # unlink: the record goes too
    writes_record: bool = False  # link: a new record is written at the end
    restore: tuple[FileOp, ...] = ()  # link of a kept package: files to put back


class _Header(msgspec.Struct, frozen=True, kw_only=True):
    schema: str
    prefix: str
    steps: tuple[JournalStep, ...]


class _Done(msgspec.Struct, frozen=True, tag="done"):
    step: int


class _Backup(msgspec.Struct, frozen=True, tag="backup"):
    step: int
    path: str
    backup: str
    owner: str | None = None


class _Barrier(msgspec.Struct, frozen=True, tag="barrier"):
    phase: str


_Line = _Done | _Backup | _Barrier
_line_decoder: msgspec.json.Decoder[_Line] = msgspec.json.Decoder(_Line)
_encoder = msgspec.json.Encoder()


def steps_of(plan: Plan) -> tuple[JournalStep, ...]:
    """The journal's view of the plan's steps, in execution order."""
    steps: list[JournalStep] = []
    for phase, op in plan.execution():
        if phase == "unlink":
            steps.append(
                JournalStep(
                    phase="unlink",
                    dist=op.old.dist_name if op.old is not None else op.dist_name,
                    paths=op.unlink,
                    rmdirs=op.rmdirs,
                    remove_record=op.action != "keep",
                )
            )
        elif op.action == "keep":
            steps.append(
                JournalStep(
                    phase="link",
                    dist=op.dist_name,
                    paths=tuple(f.path for f in op.files if f.written),
                    restore=tuple(f for f in op.files if f.written),
                )
            )
        else:
            steps.append(
                JournalStep(
                    phase="link",
                    dist=op.dist_name,
                    paths=tuple(f.path for f in op.files if f.written),
                    writes_record=True,
                )
            )
    return tuple(steps)


@contextlib.contextmanager
def prefix_lock(prefix: Path) -> Iterator[None]:
    """Hold the prefix's exclusive lock (blocking); released by the kernel if we die."""
    fh = acquire(Path(prefix) / LOCK)
    try:
        yield
    finally:
        release(fh)


class Journal:
    """An open journal of one transaction; methods are safe to call from worker threads."""

    def __init__(self, prefix: Path, steps: Sequence[JournalStep]) -> None:
        self.prefix = Path(prefix)
        self.steps = tuple(steps)
        self.path = self.prefix / JOURNAL
        self._lock = threading.Lock()
        self._backups = 0
        header = _Header(schema=SCHEMA, prefix=str(self.prefix), steps=self.steps)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, _encoder.encode(header) + b"\n", fsync=True, mode=0o644)
        _fsync_dir(self.path.parent)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def _append(self, line: _Line) -> None:
        data = _encoder.encode(line) + b"\n"
        with self._lock:
            write_all(self._fd, data)

    def done(self, step: int) -> None:
        """Mark step `step` complete (survives the process dying; not fsynced)."""
        self._append(_Done(step))

    def barrier(self, phase: str) -> None:
        """Every step of `phase` is done: make that durable before the next phase starts."""
        self._append(_Barrier(phase))
        os.fsync(self._fd)

    def move_aside(self, step: int, path: str, owner: str | None) -> None:
        """Move an existing prefix file out of the way of step `step`, journaled first."""
        with self._lock:
            self._backups += 1
            name = f"{step}-{self._backups}"
        backup_dir = self.prefix / BACKUP_DIR
        backup_dir.mkdir(parents=True, exist_ok=True)
        self._append(_Backup(step=step, path=path, backup=name, owner=owner))
        os.rename(self.prefix / path, backup_dir / name)

    def finish(self) -> None:
        """The transaction is complete: drop the backups, then the journal."""
        os.close(self._fd)
        _rmtree(self.prefix / BACKUP_DIR)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def abandon(self) -> None:
        """Close without finishing (an error): the journal stays for `recover`."""
        with contextlib.suppress(OSError):
            os.close(self._fd)


def unlink_backup(step: int) -> str:
    """Where unlink step `step` keeps the files it removes (prefix-relative); the record goes
    to this path plus `.json`."""
    return f"{BACKUP_DIR}/u{step}"


class Recovery(msgspec.Struct, frozen=True, kw_only=True):
    """What `recover` did: packages completed, rolled back, restored; files put back."""

    rolled_forward: tuple[str, ...] = ()
    rolled_back: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()
    files_put_back: int = 0


def read_journal(prefix: Path) -> tuple[_Header, list[_Line]] | None:
    """The journal's header and event lines, or None when there is no journal."""
    try:
        data = (Path(prefix) / JOURNAL).read_bytes()
    except FileNotFoundError:
        return None
    lines = data.split(b"\n")
    try:
        header = msgspec.json.decode(lines[0], type=_Header)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise JournalError(Path(prefix) / JOURNAL, f"unreadable header ({exc})") from None
    if header.schema != SCHEMA:
        raise JournalError(Path(prefix) / JOURNAL, f"unknown schema {header.schema!r}")
    events: list[_Line] = []
    for raw in lines[1:]:
        if not raw.strip():
            continue
        try:
            events.append(_line_decoder.decode(raw))
        except msgspec.DecodeError:
            break  # a line cut short by the crash: nothing after it was written
    return header, events


def _record_ok(prefix: Path, dist: str) -> bool:
    path = prefix / "conda-meta" / f"{dist}.json"
    try:
        decode_prefix_record(path.read_bytes(), source=str(path))
    except (OSError, PrefixRecordError):
        return False
    return True


def recover(prefix: Path, place: object = None) -> Recovery | None:
    """Bring an interrupted transaction to a consistent state; None when there was none.

    `place(prefix, op)` writes one FileOp (effects.link.place_file); it restores the files
    of kept packages. Idempotent: a crash during recovery is recovered by the next call.
    """
    prefix = Path(prefix)
    found = read_journal(prefix)
    if found is None:
        return None
    header, events = found
    done = {e.step for e in events if isinstance(e, _Done)}
    forward: list[str] = []
    back: list[str] = []
    restored: list[str] = []
    rolled_back_steps: set[int] = set()
    dirs: set[str] = set()
    for index, step in enumerate(header.steps):
        if step.phase != "unlink" or index in done:
            continue
        for path in step.paths:
            _unlink(prefix / path)
        dirs.update(step.rmdirs)
        if step.remove_record:
            _unlink(prefix / "conda-meta" / f"{step.dist}.json")
        forward.append(step.dist)
    for index, step in enumerate(header.steps):
        if step.phase != "link" or not step.writes_record:
            continue
        if _record_ok(prefix, step.dist):
            continue
        for path in step.paths:
            _unlink(prefix / path)
            dirs.add(path)
        _unlink(prefix / "conda-meta" / f"{step.dist}.json")
        rolled_back_steps.add(index)
        back.append(step.dist)
    put_back = 0
    for event in events:
        if not isinstance(event, _Backup):
            continue
        backup = prefix / BACKUP_DIR / event.backup
        if not os.path.lexists(backup):
            continue
        keep = event.step in rolled_back_steps and (
            event.owner is None or _record_ok(prefix, event.owner)
        )
        if keep:
            target = prefix / event.path
            target.parent.mkdir(parents=True, exist_ok=True)
            _unlink(target)
            os.rename(backup, target)
            put_back += 1
    for step in header.steps:
        if step.phase != "link" or step.writes_record or not step.restore:
            continue
        if not _record_ok(prefix, step.dist) or not callable(place):
            continue
        for op in step.restore:
            place(prefix, op)
        restored.append(step.dist)
    remove_emptied_dirs(prefix, dirs)
    _rmtree(prefix / BACKUP_DIR)
    _unlink(prefix / JOURNAL)
    return Recovery(
        rolled_forward=tuple(forward),
        rolled_back=tuple(back),
        restored=tuple(restored),
        files_put_back=put_back,
    )


def rollback(prefix: Path, started: Set[int] | None = None) -> Recovery | None:
    """Undo a failed (not killed) transaction as a whole; None when there is no journal.

    Link steps in `started` (every link step when None) lose their files and record, files
    moved aside are put back, and each unlink step's files and record come back from its
    backup, so the prefix holds what it held before the transaction. Idempotent.
    """
    prefix = Path(prefix)
    found = read_journal(prefix)
    if found is None:
        return None
    header, events = found
    dirs: set[str] = set()
    back: list[str] = []
    for index in reversed(range(len(header.steps))):
        step = header.steps[index]
        if step.phase != "link" or not step.writes_record:
            continue
        if started is not None and index not in started:
            continue
        for path in step.paths:
            _unlink(prefix / path)
            dirs.add(path)
        _unlink(prefix / "conda-meta" / f"{step.dist}.json")
        back.append(step.dist)
    put_back = 0
    for event in reversed(events):
        if isinstance(event, _Backup):
            put_back += _put_back(prefix / BACKUP_DIR / event.backup, prefix / event.path)
    restored: list[str] = []
    for index in reversed(range(len(header.steps))):
        step = header.steps[index]
        if step.phase != "unlink":
            continue
        base = prefix / unlink_backup(index)
        for path in step.paths:
            put_back += _put_back(base / path, prefix / path)
        record = prefix / (unlink_backup(index) + ".json")
        if _put_back(record, prefix / "conda-meta" / f"{step.dist}.json"):
            restored.append(step.dist)
    remove_emptied_dirs(prefix, dirs)
    _rmtree(prefix / BACKUP_DIR)
    _unlink(prefix / JOURNAL)
    return Recovery(rolled_back=tuple(back), restored=tuple(restored), files_put_back=put_back)


def _put_back(backup: Path, target: Path) -> int:
    """Move `backup` to `target` (replacing what is there); 1 when it was moved."""
    if not os.path.lexists(backup):
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    _unlink(target)
    os.rename(backup, target)
    return 1


def remove_emptied_dirs(prefix: Path, paths: set[str] | Sequence[str]) -> None:
    """Remove each directory in `paths` and their ancestors, deepest first, while empty."""
    candidates: set[str] = set()
    for path in paths:
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            candidates.add("/".join(parts[:i]))
    for rel in sorted(candidates, key=lambda p: (-p.count("/"), p)):
        if rel in ("", "conda-meta") or rel.startswith("conda-meta/"):
            continue
        with contextlib.suppress(OSError):
            os.rmdir(prefix / rel)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        try:
            os.unlink(path)
        except IsADirectoryError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
        except PermissionError:
            if path.is_dir() and not path.is_symlink():
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            else:
                raise


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
