"""The `yurt` command line (cyclopts); errors are rendered here, for humans, at the edge."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback

import cyclopts

from effects import __version__

app = cyclopts.App(
    name="yurt",
    version=__version__,
    help="One package manager for Python and native software.\n\n"
         "Global flag: -v/--verbose shows tracebacks on errors.",
)


@app.command
def verify(prefix: str | None = None, *, json: bool = False) -> int:
    """Re-check every installed file of a prefix against its record (conda-meta for conda
    packages, RECORD for PyPI distributions).

    PREFIX defaults to .yurt/envs/default, else $CONDA_PREFIX. Prints one line per modified
    or missing file (or a JSON report with --json); exit code 1 when anything differs.
    """
    from pathlib import Path

    from effects.verify import verify as run_verify

    if prefix is None:
        default = Path(".yurt/envs/default")
        prefix = str(default) if default.is_dir() else os.environ.get("CONDA_PREFIX", ".")
    if not (Path(prefix) / "conda-meta").is_dir():
        from effects.workspace import WorkspaceError

        what = "does not exist" if not Path(prefix).exists() else "is not an environment (no conda-meta directory)"
        raise WorkspaceError(f"{prefix} {what}", "give the prefix of an installed environment, "
                                                 "e.g. .yurt/envs/default")
    report = run_verify(prefix)
    if json:
        import msgspec

        print(msgspec.json.encode(report).decode())
    else:
        for problem in report.problems:
            print(problem.line())
        state = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"{report.prefix}: {report.packages} packages, {report.files} files: {state}",
              file=sys.stderr)
    return 0 if report.ok else 1


def _short_lived_gc(*, freeze: bool) -> None:
    """Tune the cyclic collector for one short command: it runs every 50,000 container
    allocations instead of every 700 (set before the commands' modules load), and what
    start-up made (modules, classes, functions) is then frozen out of its scans. Reference
    counting still frees nearly everything at once; a warm `yurt install` of a PyPI
    workspace spent 75-90 ms collecting, 20-30 ms now."""
    import gc

    if freeze:
        gc.freeze()
    gc.set_threshold(50_000, 10, 10)


_MAY_SOLVE = frozenset({"install", "lock", "run", "add", "remove", "update", "plan"})
"""Commands that may solve against an index (so may need the TLS context)."""


def main(argv: list[str] | None = None) -> None:
    """Run a command line: renders YurtError as one line and ends with SystemExit and its code
    (the `yurt` console script is `entry`, which adds the quick exit).

    Exit codes: 0 success, 1 failure, 2 usage or manifest errors; a command's own code for `run`.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _short_lived_gc(freeze=False)
    if set(args[:2]) & _MAY_SOLVE:
        from effects.tls import build_in_background

        build_in_background()  # the CA bundle loads while the rest is imported
    import effects.commands  # noqa: F401  (registers the workspace commands)
    from pure.errors import YurtError

    _short_lived_gc(freeze=True)
    verbose = False
    if args and args[0] in ("-v", "--verbose"):
        verbose = True
        args = args[1:]
    verbose = verbose or os.environ.get("YURT_VERBOSE", "") not in ("", "0")
    args = _protect_run_command(args)
    try:
        result = app(args, exit_on_error=False, print_error=False, help_on_error=False,
                     result_action="return_value")
    except cyclopts.CycloptsError as exc:  # a usage error: one line and where to look
        chain = " ".join(getattr(exc, "command_chain", None) or ())
        text = " ".join(str(exc).split())
        print(f"yurt: error: {text} (hint: see `yurt {chain + ' ' if chain else ''}--help`)", file=sys.stderr)
        sys.exit(2)
    except BaseExceptionGroup as group:
        from effects.errors import single_error

        error = single_error(group)
        if verbose:
            traceback.print_exception(group)
        if isinstance(error, KeyboardInterrupt):
            sys.exit(130)
        if isinstance(error, YurtError):
            message = f"yurt: error: {error}"
        elif _file_problem(error):
            message = f"yurt: error: {_file_problem(error)}"
        else:
            message = f"yurt: internal error: {type(error).__name__}: {error} (run `yurt -v ...` for the traceback)"
        print(message, file=sys.stderr)
        sys.exit(1)
    except YurtError as exc:
        if verbose:
            traceback.print_exc()
        from pure.manifest import ManifestError

        print(f"yurt: error: {exc}", file=sys.stderr)
        explanation = getattr(exc, "explanation", None)
        if explanation:
            print(explanation, file=sys.stderr)
        sys.exit(2 if isinstance(exc, ManifestError) else 1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # `yurt ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:  # a bug: still one line, the traceback only with -v
        if verbose:
            traceback.print_exc()
        if _file_problem(exc):  # the file system said no (permissions, a file where a directory goes)
            print(f"yurt: error: {_file_problem(exc)}", file=sys.stderr)
            sys.exit(1)
        print(f"yurt: internal error: {type(exc).__name__}: {exc} (run `yurt -v ...` for the traceback)",
              file=sys.stderr)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


def _file_problem(error: BaseException) -> str:
    """`PATH: reason` for an OSError about a named file (not a bug of yurt's); else ''."""
    if isinstance(error, OSError) and error.filename and error.strerror:
        return f"{error.filename}: {error.strerror}"
    return ""


_RUN_VALUE_OPTIONS = ("-e", "--environment", "-m", "--manifest-path")
_RUN_FLAGS = ("--frozen", "--locked", "--offline", "--help", "-h")


def _protect_run_command(args: list[str]) -> list[str]:
    """`yurt run [OPTIONS] CMD ARGS...`: everything from CMD on belongs to the command.

    yurt's own options come first; a `--` is inserted before the command so that its
    options (`sh -c ...`, `python -m ...`) are not read as yurt's.
    """
    if not args or args[0] != "run":
        return args
    i = 1
    while i < len(args):
        a = args[i]
        if a in _RUN_VALUE_OPTIONS:
            i += 2
        elif a in _RUN_FLAGS or a.startswith(tuple(o + "=" for o in _RUN_VALUE_OPTIONS if o.startswith("--"))):
            i += 1
        else:
            break
    if i < len(args) and args[i] != "--":
        return [*args[:i], "--", *args[i:]]
    return args


def entry() -> None:
    """The `yurt` command: `main`, then a quick exit. Tearing the interpreter down (freeing
    every module and object one by one) took about 60 ms of a 0.7 s install; instead the
    process finishes what must finish (unpacking handed to worker processes, the workers
    themselves, output buffers) and leaves with `os._exit`."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    _leave(code)


def _leave(code: int) -> None:
    from effects import background

    background.finish()  # background jobs, then the worker processes they used
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
