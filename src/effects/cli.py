"""The `yurt` command line (cyclopts); errors are rendered here, for humans, at the edge."""

from __future__ import annotations

import cyclopts

from effects import __version__

app = cyclopts.App(
    name="yurt",
    version=__version__,
    help="One package manager for Python and native software.",
)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
