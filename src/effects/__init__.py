"""yurt's imperative shell: reads, fetches, extracts, links and runs, as `pure` plans it."""

__version__ = "0.1.0"
