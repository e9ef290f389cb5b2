"""JSON Schema of each record kind, generated from the models that validate records.

Because the schemas come from the same pydantic models, an editor that validates against them
can never disagree with the build about which fields exist or what they hold. When a portfolio
is given, the schemas also list its quality statement slugs and its roles, so an editor can
offer them as completions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.model import Concern, Evidence, Framework, Review, Settings

KINDS: dict[str, tuple[type[Any], str]] = {
    "portfolio": (Settings, "portfolio.yaml: who the portfolio is for, roles and rule settings"),
    "concern": (Concern, "A concern: baseline, actions, outcome measures and closure"),
    "evidence": (Evidence, "An entry of the evidence register"),
    "review": (Review, "A governance review and the decisions it took"),
    "framework": (Framework, "A portfolio's own framework.yaml"),
}
ROLE_FIELDS = {"owner", "raised_by", "by", "agreed_by", "chair", "attendees"}


def _narrow(node: Any, slugs: list[str], roles: list[str]) -> None:
    """Add enums of the portfolio's slugs and roles to the fields that name them."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, field in properties.items():
                if name == "quality_statements" and slugs:
                    _set_string_enum(field, slugs)
                elif name in ROLE_FIELDS and roles and node.get("title") != "Target":
                    # (a target's "by" is a date; every other of these names a role)
                    _set_string_enum(field, roles)
        for value in node.values():
            _narrow(value, slugs, roles)
    elif isinstance(node, list):
        for value in node:
            _narrow(value, slugs, roles)


def _set_string_enum(field: Any, values: list[str]) -> None:
    if isinstance(field, dict):
        if field.get("type") == "string":
            field["enum"] = values
        for key in ("anyOf", "items"):
            inner = field.get(key)
            for item in inner if isinstance(inner, list) else [inner]:
                _set_string_enum(item, values)


def schemas(slugs: list[str] | None = None, roles: list[str] | None = None) -> dict[str, Any]:
    """The JSON Schema of every record kind, by kind."""
    result: dict[str, Any] = {}
    for kind, (model, title) in KINDS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{kind}.schema.json"
        schema["title"] = title
        if kind != "framework":
            _narrow(schema, slugs or [], roles or [])
        result[kind] = schema
    return result


def write_schemas(out: Path, slugs: list[str] | None, roles: list[str] | None) -> list[Path]:
    """Write ``KIND.schema.json`` files into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, schema in schemas(slugs, roles).items():
        path = out / f"{kind}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
