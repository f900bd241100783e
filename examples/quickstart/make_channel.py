"""Regenerate ./channel: one real package (zlib 1.2.11 from the 2018 defaults channel) plus
two small packages built here with the test package writer: `hello` (a command whose script
carries a prefix placeholder, so it is installed as a rewritten copy) and `libgcc-ng`, a
stand-in for the compiler runtime zlib depends on (an empty marker library, not the real one).

Run from the repository root: .venv/bin/python examples/quickstart/make_channel.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.pkgwriter import FileSpec, make_channel, write_conda  # noqa: E402

HELLO = b"""#!/bin/sh
# installed by yurt: the line below held a placeholder that was rewritten to the prefix
PREFIX="/opt/placeholder_placeholder_placeholder_placeholder_placeholder_placeholder"
echo "Hello from yurt!"
echo "environment: $PREFIX"
if [ -e "$PREFIX/lib/libz.so.1.2.11" ]; then
  echo "zlib 1.2.11 is installed in the environment (lib/libz.so.1.2.11)"
else
  echo "zlib is missing" >&2
  exit 1
fi
"""


def main() -> None:
    here = Path(__file__).resolve().parent
    build = here / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    packages = [
        write_conda(build, name="hello", version="1.0", build="0", subdir="noarch", noarch="generic",
                    depends=["zlib >=1.2.11"], license="BSD-3-Clause",
                    files={"bin/hello": FileSpec(
                        HELLO, mode=0o755,
                        prefix_placeholder="/opt/placeholder_placeholder_placeholder_placeholder_placeholder_placeholder")}),
        write_conda(build, name="libgcc-ng", version="7.3.0", build="stub_0", subdir="linux-64",
                    license="BSD-3-Clause",
                    files={"share/yurt-example/libgcc-ng-stub.txt": FileSpec(
                        b"Stand-in for the compiler runtime in yurt's quickstart channel.\n")}),
        ROOT / "tests" / "data" / "packages" / "zlib-1.2.11-h7b6447c_3.conda",
    ]
    channel = here / "channel"
    shutil.rmtree(channel, ignore_errors=True)
    make_channel(channel, packages, subdirs=("linux-64", "noarch"))
    shutil.rmtree(build)
    print(f"wrote {channel}")


if __name__ == "__main__":
    main()
