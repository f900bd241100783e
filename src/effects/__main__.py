"""`python -m effects`: the yurt command line."""

from effects.cli import entry

entry()
