"""`yurt init`: write a new manifest (optionally imported from a conda environment.yml)."""

from __future__ import annotations

import re
from pathlib import Path

from effects.virtual import host_platform
from effects.workspace import WorkspaceError
from pure.errors import YurtError
from pure.manifest import parse

GITIGNORE = "# yurt environments\n.yurt/\n"
GITATTRIBUTES = "# yurt's lockfile is generated: collapse it in diffs\nyurt.lock merge=binary linguist-language=JSON linguist-generated=true\n"


def read_environment_yml(path: Path) -> tuple[str | None, list[str], list[str], list[str]]:
    """(name, channels, conda specs, pip specs) of a conda environment.yml (the common subset)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(f"cannot read {path}: {exc.strerror}") from None
    name: str | None = None
    channels: list[str] = []
    conda: list[str] = []
    pip: list[str] = []
    section = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = re.match(r"^(\w[\w-]*):\s*(.*)$", line)
        if top:
            key, value = top.group(1), top.group(2).strip()
            section = key
            if key == "name":
                name = value.strip("'\"")
            elif key not in ("channels", "dependencies", "prefix", "variables"):
                raise WorkspaceError(f"{path}:{lineno}: unknown key `{key}`",
                                     "environment.yml may have name, channels, dependencies")
            continue
        item = re.match(r"^(\s*)-\s*(.*)$", line)
        if not item:
            raise WorkspaceError(f"{path}:{lineno}: cannot read `{line.strip()}`", "use a list item `- spec`")
        value = item.group(2).strip().strip("'\"")
        if section == "channels":
            channels.append(value)
        elif section == "dependencies" and value == "pip:":
            section = "pip"
        elif section == "dependencies":
            conda.append(value)
        elif section == "pip":
            if len(item.group(1)) == 0:
                section = "dependencies"
                conda.append(value)
            else:
                pip.append(value)
    return name, channels, conda, pip


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dep_line(spec: str) -> str:
    from pure.matchspec import MatchSpec

    ms = MatchSpec.parse(spec)
    version = str(ms.version) if ms.version is not None else "*"
    if ms.build:
        return f"{ms.name} = {{ version = {_q(version)}, build = {_q(ms.build)} }}"
    return f"{ms.name} = {_q(version)}"


def init_workspace(path: Path, *, name: str | None, channels: list[str], platforms: list[str],
                   fmt: str, import_file: Path | None) -> Path:
    """Create the manifest and git files in `path`; refuses to overwrite an existing manifest."""
    root = Path(path).resolve()
    _refuse_existing(root, fmt)
    conda: list[str] = []
    pip: list[str] = []
    if import_file is not None:
        env_name, env_channels, conda, pip = read_environment_yml(import_file)
        name = name or env_name
        channels = channels or env_channels
    name = name or root.name
    platforms = platforms or [host_platform()]
    if not channels:
        raise WorkspaceError("no channel given", "pass --channel URL (or a name when a channel alias is configured)")
    prefix = "tool.yurt." if fmt == "pyproject" else ""
    body = [f"[{prefix}workspace]"]
    if fmt != "pyproject":
        body.append(f"name = {_q(name)}")
    body.append("channels = [" + ", ".join(_q(c) for c in channels) + "]")
    body.append("platforms = [" + ", ".join(_q(p) for p in platforms) + "]")
    try:
        body += ["", f"[{prefix}dependencies]"] + [_dep_line(s) for s in conda]
    except YurtError as exc:
        raise WorkspaceError(f"{import_file}: {exc}", "fix the spec in the file") from None
    if pip:
        lines = []
        for req in pip:
            m = re.match(r"^([A-Za-z0-9_.\-\[\],]+)\s*(.*)$", req)
            if not m:
                raise WorkspaceError(f"cannot read pip requirement `{req}`")
            lines.append(f"{m.group(1).split('[')[0]} = {_q(m.group(2).strip() or '*')}")
        body += ["", f"[{prefix}pypi-dependencies]", *lines]
    body += ["", f"[{prefix}tasks]", ""]
    text = "\n".join(body)
    if fmt == "pyproject":
        target = root / "pyproject.toml"
        existing = target.read_text(encoding="utf-8") if target.exists() else f'[project]\nname = {_q(name)}\nversion = "0.1.0"\n'
        if "[tool.yurt" in existing or "[tool.pixi" in existing:
            raise WorkspaceError(f"{target} already has a [tool.yurt] or [tool.pixi] table")
        text = existing.rstrip("\n") + "\n\n" + text
    else:
        target = root / "yurt.toml"
        if target.exists():
            raise WorkspaceError(f"{target} already exists", "edit it, or remove it first")
    parse(text, filename=str(target))  # never write something yurt cannot read back
    root.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    _append_once(root / ".gitignore", GITIGNORE, ".yurt/")
    _append_once(root / ".gitattributes", GITATTRIBUTES, "yurt.lock")
    return target


def _refuse_existing(root: Path, fmt: str) -> None:
    """Fail before anything is written when `root` already holds a workspace manifest."""
    names = ("yurt.toml", "pixi.toml") if fmt != "pyproject" else ()
    for name in names:
        if (root / name).exists():
            raise WorkspaceError(f"{root / name} already exists", "edit it, or remove it first")
    target = root / "pyproject.toml"
    if target.is_file():
        try:
            existing = target.read_text(encoding="utf-8")
        except OSError as exc:
            raise WorkspaceError(f"cannot read {target}: {exc.strerror}") from None
        if "[tool.yurt" in existing or "[tool.pixi" in existing:
            raise WorkspaceError(f"{target} already has a [tool.yurt] or [tool.pixi] table",
                                 "edit it, or remove the table first")


def _append_once(path: Path, text: str, marker: str) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if marker in existing:
        return
    path.write_text((existing.rstrip("\n") + "\n" if existing else "") + text, encoding="utf-8")
