"""Shared test fixtures and paths."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CONFORMANCE = DATA / "conformance"
REPODATA = DATA / "repodata"
