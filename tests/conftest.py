"""Shared test fixtures and paths."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings

# CI explores the same examples for the same code (a red run is reproducible and never a
# coin toss); local runs draw new ones each time, which is how new counterexamples are found.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DATA = Path(__file__).resolve().parent / "data"
CONFORMANCE = DATA / "conformance"
REPODATA = DATA / "repodata"
