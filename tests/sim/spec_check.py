"""Holding JSON values to the spec subset (fixtures/thalex_spec_subset.json): our own small checker
for the part of JSON Schema the spec uses.

``problems(value, schema)`` lists, as ``"$.path: what is wrong"`` strings, every field whose type
is not the spec's, every required field that is missing, every value outside its enum, and every
field the spec does not name (``extra=True``, the default: a field name the spec lacks is a field a
real client would not find). ``nullable`` schemas accept null. An empty list means conformant.
"""
from __future__ import annotations

import json
from pathlib import Path

SUBSET = json.loads((Path(__file__).resolve().parent / "fixtures" / "thalex_spec_subset.json").read_text())
SCHEMAS = SUBSET["schemas"]


def _type_ok(value, kind: str) -> bool:
    if kind == "number":
        return type(value) in (int, float)
    if kind == "integer":
        return type(value) is int
    if kind == "string":
        return type(value) is str
    if kind == "boolean":
        return type(value) is bool
    if kind == "array":
        return type(value) is list
    if kind == "object":
        return type(value) is dict
    if kind == "null":
        return value is None
    raise ValueError(f"schema type {kind!r}: not known to this checker")


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"]]
    return schema


def problems(value, schema: dict, path: str = "$", extra: bool = True) -> list[str]:
    schema = resolve(schema)
    out: list[str] = []
    if value is None and (schema.get("nullable") or schema.get("type") == "null"):
        return out
    if "allOf" in schema:
        for part in schema["allOf"]:
            out += problems(value, part, path, extra=False)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf")
        if all(problems(value, option, path, extra) for option in options):
            out.append(f"{path}: {json.dumps(value)[:80]} matches none of the {len(options)} allowed shapes")
    kind = schema.get("type")
    if kind is not None and not _type_ok(value, kind):
        return out + [f"{path}: {json.dumps(value)[:80]} is not of type {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} is not {schema['const']!r}")
    if type(value) is dict:
        props = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                out.append(f"{path}: required field {name!r} is missing")
        for name, item in value.items():
            if name in props:
                out += problems(item, props[name], f"{path}.{name}", extra)
            elif extra and props and not _named_elsewhere(schema, name):
                out.append(f"{path}: field {name!r} is not in the spec")
    if type(value) is list:
        if "items" in schema:
            for i, item in enumerate(value):
                out += problems(item, schema["items"], f"{path}[{i}]", extra)
        if "prefixItems" in schema:
            for i, (item, sub) in enumerate(zip(value, schema["prefixItems"])):
                out += problems(item, sub, f"{path}[{i}]", extra)
        for bound, ok in (("minItems", len(value) >= schema.get("minItems", 0)),
                          ("maxItems", len(value) <= schema.get("maxItems", len(value)))):
            if not ok:
                out.append(f"{path}: {len(value)} items, {bound} is {schema[bound]}")
    return out


def _named_elsewhere(schema: dict, name: str) -> bool:
    """A field defined by an allOf part of the same object is not extra."""
    return any(name in resolve(part).get("properties", {}) for part in schema.get("allOf", ()))


def result_problems(method: str, result) -> list[str]:
    return problems(result, SUBSET["methods"][method]["result"], f"{method}.result")


def notification_problems(pattern: str, notification) -> list[str]:
    return problems(notification, SUBSET["channels"][pattern]["notification"], f"{pattern}.notification")


def example(name: str):
    """A copy of one of the spec's own examples."""
    return json.loads(json.dumps(SUBSET["examples"][name]["value"]))
