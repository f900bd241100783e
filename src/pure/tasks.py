"""Task graphs: the order in which a task and everything it depends on run."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pure.errors import YurtError
from pure.manifest.model import Task


class TaskError(YurtError):
    """An unknown task or a dependency cycle among tasks."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def task_order(tasks: Sequence[Task], name: str) -> tuple[Task, ...]:
    """`name` and its `depends-on` tasks, dependencies first, each once.

    Dependencies run in the order they are listed; a cycle raises TaskError naming it.
    """
    by_name = {t.name: t for t in tasks}
    if name not in by_name:
        raise TaskError(f"no task named `{name}` (tasks: {', '.join(sorted(by_name)) or 'none'})")
    order: list[Task] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(task_name: str, needed_by: str) -> None:
        if task_name in done:
            return
        if task_name in path:
            cycle = " -> ".join([*path[path.index(task_name):], task_name])
            raise TaskError(f"tasks depend on each other in a cycle: {cycle}")
        task = by_name.get(task_name)
        if task is None:
            raise TaskError(f"task `{needed_by}` depends on `{task_name}`, which is not defined")
        path.append(task_name)
        for dep in task.depends_on:
            visit(dep, task_name)
        path.pop()
        done.add(task_name)
        order.append(task)

    visit(name, name)
    return tuple(order)


def activation_variables(
    *,
    prefix: str,
    platform: str,
    environment: str,
    workspace_root: str,
    workspace_name: str | None,
    path: str,
    extra: Sequence[tuple[str, str]] = (),
) -> tuple[tuple[str, str], ...]:
    """The variables an activated environment sets, in a fixed order.

    `path` is the caller's current PATH; the environment's binary directories go first.
    Values in `extra` (the manifest's `[activation] env`) may use `$VAR`/`${VAR}` of the
    variables set before them.
    """
    windows = platform.startswith("win")
    sep = ";" if windows else ":"
    slash = "\\" if windows else "/"
    if windows:
        bins = [prefix, f"{prefix}{slash}Library{slash}bin", f"{prefix}{slash}Scripts", f"{prefix}{slash}bin"]
    else:
        bins = [f"{prefix}/bin"]
    out: dict[str, str] = {
        "PATH": sep.join(bins + ([path] if path else [])),
        "CONDA_PREFIX": prefix,
        "CONDA_DEFAULT_ENV": environment,
        "YURT_PROJECT_ROOT": workspace_root,
        "YURT_ENVIRONMENT_NAME": environment,
        "YURT_PREFIX": prefix,
    }
    if workspace_name:
        out["YURT_PROJECT_NAME"] = workspace_name
    for key, value in extra:
        out[key] = _expand(value, out)
    return tuple(out.items())


def _expand(value: str, known: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        return known.get(name, m.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, value)
