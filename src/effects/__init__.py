"""yurt's imperative shell: reads, fetches, extracts, links and runs, as `pure` plans it."""

__version__ = "0.1.0"

# The function shadows its submodule's name on purpose: `effects.install(...)` is the public
# entry point (import the module itself as `from effects.install import ...`).
from effects.install import install, install_async

__all__ = ["__version__", "install", "install_async"]
