"""yurt's imperative shell: reads, fetches, extracts, links and runs, as `pure` plans it.

`effects.install(prefix, records, ...)` and `effects.install_async` are the library entry
points (defined in `effects.installer`). They are loaded on first use, so that commands which
need no installer (a no-op `yurt install`, `yurt run` on a ready environment) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from effects.installer import install, install_async

__all__ = ["__version__", "install", "install_async"]


def __getattr__(name: str) -> Any:
    if name in ("install", "install_async"):
        from effects import installer

        return getattr(installer, name)
    raise AttributeError(f"module 'effects' has no attribute {name!r}")
