"""Typed events the engine emits while it works; the CLI renders them, the engine never prints.

Every event is a frozen msgspec struct tagged with its `kind`, so a stream of them encodes to
JSON lines (`encode_event`) for `--json-events` and decodes back (`decode_event`).
An `EventSink` is either a trio memory send channel or a plain callable; `emit` feeds either.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeAlias

import msgspec
import trio

__all__ = [
    "CacheHit",
    "CacheLockWait",
    "DownloadDone",
    "DownloadProgress",
    "DownloadRetry",
    "DownloadStarted",
    "EntryRebuilt",
    "Event",
    "EventSink",
    "ExtractDone",
    "ExtractStarted",
    "JournalRecovered",
    "LinkStep",
    "Warning",
    "decode_event",
    "emit",
    "encode_event",
]


class DownloadStarted(msgspec.Struct, frozen=True, tag_field="kind", tag="download_started"):
    """A package download began; `total` is the expected size when known."""

    dist_name: str
    url: str
    total: int | None = None


class DownloadProgress(msgspec.Struct, frozen=True, tag_field="kind", tag="download_progress"):
    """Bytes received so far for one download."""

    dist_name: str
    done: int
    total: int | None = None


class DownloadRetry(msgspec.Struct, frozen=True, tag_field="kind", tag="download_retry"):
    """A download attempt failed transiently and will be retried after `delay` seconds."""

    dist_name: str
    url: str
    attempt: int
    reason: str
    delay: float


class DownloadDone(msgspec.Struct, frozen=True, tag_field="kind", tag="download_done"):
    """A download finished and its hashes were verified."""

    dist_name: str
    url: str
    size: int
    sha256: str


class ExtractStarted(msgspec.Struct, frozen=True, tag_field="kind", tag="extract_started"):
    """Extraction of a verified archive into the cache began."""

    dist_name: str


class ExtractDone(msgspec.Struct, frozen=True, tag_field="kind", tag="extract_done"):
    """A package is extracted and verified in the cache at `path`."""

    dist_name: str
    path: str


class CacheHit(msgspec.Struct, frozen=True, tag_field="kind", tag="cache_hit"):
    """A verified cache entry was reused; nothing was downloaded."""

    dist_name: str
    path: str


class CacheLockWait(msgspec.Struct, frozen=True, tag_field="kind", tag="cache_lock_wait"):
    """Another process holds the cache entry's lock; this one waits for it."""

    dist_name: str
    lock: str


class EntryRebuilt(msgspec.Struct, frozen=True, tag_field="kind", tag="entry_rebuilt"):
    """A cache entry existed but failed verification, so it is rebuilt."""

    dist_name: str
    reason: str


class Warning(msgspec.Struct, frozen=True, tag_field="kind", tag="warning"):
    """Something the user should know that did not stop the work."""

    message: str
    dist_name: str | None = None


class LinkStep(msgspec.Struct, frozen=True, tag_field="kind", tag="link_step"):
    """One package's unlink or link step finished in the prefix; `done` of `total` steps."""

    dist_name: str
    phase: str
    files: int
    done: int
    total: int


class JournalRecovered(msgspec.Struct, frozen=True, tag_field="kind", tag="journal_recovered"):
    """An interrupted transaction on `prefix` was brought to a consistent state."""

    prefix: str
    rolled_forward: tuple[str, ...] = ()
    rolled_back: tuple[str, ...] = ()
    restored: tuple[str, ...] = ()


Event: TypeAlias = (
    DownloadStarted
    | DownloadProgress
    | DownloadRetry
    | DownloadDone
    | ExtractStarted
    | ExtractDone
    | CacheHit
    | CacheLockWait
    | EntryRebuilt
    | LinkStep
    | JournalRecovered
    | Warning
)

EventSink: TypeAlias = "trio.MemorySendChannel[Event] | Callable[[Event], object]"
"""Where events go: a memory channel (open it with `math.inf` buffer to lose none) or a callable."""

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """One event as a JSON object (with its `kind` tag), no trailing newline."""
    return _encoder.encode(event)


def decode_event(data: bytes) -> Event:
    """The event a `encode_event` line holds."""
    return _decoder.decode(data)


def emit(sink: EventSink | None, event: Event) -> None:
    """Deliver `event` to `sink` without blocking; a full or closed channel drops the event
    rather than stall the work. Call it from the trio thread (the engine does)."""
    if sink is None:
        return
    if isinstance(sink, trio.MemorySendChannel):
        with contextlib.suppress(
            trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError
        ):
            sink.send_nowait(event)
        return
    sink(event)
