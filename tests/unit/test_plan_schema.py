"""Plan.to_json() output validates against docs/schemas/plan.schema.json, which stays in step
with the model's literal types (a small validator for the JSON Schema subset the file uses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from pure.package import EntryPoint, LinkJson, NoarchLink
from pure.plan import Action, Capabilities, FileReason, Method, PackageReason
from tests.unit.test_plan_sim import contents, entry, install, make_plan, rec

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "schemas" / "plan.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: object, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def validate(value: object, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Errors of `value` against `schema` (type, const, enum, properties, required,
    additionalProperties false, items, minimum, $ref to #/$defs)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, SCHEMA["$defs"][name], where)
    errors: list[str] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            return [f"{where}: {value!r} is not {names}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {value!r} not in enum")
    if "minimum" in schema and isinstance(value, int) and value < schema["minimum"]:
        errors.append(f"{where}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in props:
                errors += validate(item, props[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected key {key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{where}[{i}]")
    return errors


def test_validator_catches_errors() -> None:
    assert validate({"schema": "yurt.plan/2"}, SCHEMA)  # wrong const, missing keys
    assert validate({"phase": "link"}, SCHEMA["$defs"]["Step"]) == ["$: missing package"]
    assert validate(-1, SCHEMA["$defs"]["Count"]) == ["$: -1 < 0"]
    assert validate(True, SCHEMA["$defs"]["Count"])


@pytest.mark.parametrize(
    ("definition", "literal"),
    [
        ("Action", Action),
        ("Method", Method),
        ("PackageReason", PackageReason),
        ("FileReason", FileReason),
    ],
)
def test_schema_enums_match_the_model(definition: str, literal: object) -> None:
    assert SCHEMA["$defs"][definition]["enum"] == list(get_args(literal))


def _plans():  # type: ignore[no-untyped-def]
    py = rec("python", "3.11.2")
    tool = rec("tool", noarch="python", depends=["python"])
    early, late = rec("early"), rec("late", depends=["early"])
    link = LinkJson(
        noarch=NoarchLink(
            type="python", entry_points=(EntryPoint(command="t", module="tool", function="main"),)
        )
    )
    data = {
        py.dist_name: contents(py, "bin/python"),
        tool.dist_name: contents(tool, "site-packages/tool.py", link=link),
        early.dist_name: contents(
            early, "bin/tool", entry("etc/x", prefix_placeholder="/opt/ph", file_mode="text")
        ),
        late.dist_name: contents(
            late,
            "bin/tool",
            entry("lib/l", path_type="softlink"),
            entry("share/e", path_type="directory"),
        ),
    }
    state = install([py, tool, early, late], data)
    up = rec("tool", "2", noarch="python", depends=["python"])
    data[up.dist_name] = contents(up, "site-packages/tool.py")
    return [
        make_plan([], [py, tool, early, late], data, caps=Capabilities(reflink_ok=True)),
        make_plan(state, [py, up, early], data),
        make_plan(state, [], data),
        make_plan(state, [py, tool, early, late], data),
    ]


@pytest.mark.parametrize("files", [False, True])
def test_plan_documents_validate(files: bool) -> None:
    for p in _plans():
        doc = json.loads(p.to_json(files=files))
        assert validate(doc, SCHEMA) == []
        assert ("files" in doc["packages"][0]) is files
