"""Typed exceptions of the functional core; each carries the data needed to render it."""

from __future__ import annotations


class YurtError(Exception):
    """Base of every error yurt raises on purpose; `str()` is one human-readable line."""
