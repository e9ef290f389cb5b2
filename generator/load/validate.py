"""Validation: raw records -> typed models, with every error tied to the line at fault."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from generator.errors import Problems
from generator.load.sources import KeyPath, SourceFile

M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], source: SourceFile, problems: Problems) -> M | None:
    """Validate ``source``'s fields as ``model``; record each error with its line."""
    if "body" in source.data and "body" in model.model_fields:
        # ``body`` holds the Markdown text; it cannot also be written as a field.
        problems.add(source.display, source.line(("body",)), _unknown_key(model, (), "body"))
        return None
    try:
        record = model.model_validate(source.data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _clean_loc(error["loc"])
            problems.add(source.display, source.line(loc), describe(model, error, loc))
        return None
    if "body" in model.model_fields and source.body_line:
        record = record.model_copy(update={"body": source.body})
    return record


def _clean_loc(loc: tuple[str | int, ...]) -> KeyPath:
    # Pydantic marks a bad mapping key with a trailing "[key]"; the line is the key's line.
    return tuple(part for part in loc if part != "[key]")


def field_name(loc: KeyPath) -> str:
    """A key path as users read it: ``actions[0].owner``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(model: type[BaseModel], error: ErrorDetails, loc: KeyPath) -> str:
    """Turn one pydantic error into a message that says what is wrong and how to fix it."""
    kind = error["type"]
    value = error.get("input")
    name = field_name(loc)
    where = f"{name}: " if name else ""
    if kind == "missing":
        parent = field_name(loc[:-1])
        inside = f" in {parent}" if parent else ""
        return f"missing required field {loc[-1]!r}{inside}: add '{loc[-1]}: ...'"
    if kind == "extra_forbidden":
        return _unknown_key(model, loc[:-1], str(loc[-1]))
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        choices = expected.replace("'", "").replace(" or ", ", ")
        return f"{where}{_show(value)} is not allowed here; use one of: {choices}"
    if kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{where}{message}"
    if kind == "string_type":
        if isinstance(value, bool):
            return (
                f"{where}expected text, but {_show(value)} was read as a yes/no value; "
                "put it in quotes"
            )
        return f"{where}expected text, not a list or mapping"
    if kind == "string_pattern_mismatch":
        return (
            f"{where}{_show(value)} is not a valid id: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit"
        )
    if kind == "string_too_long":
        return f"{where}{_show(value)} is too long for an id (80 characters at most)"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        whole = "a whole number" if kind.startswith("int") else "a number"
        return f"{where}expected {whole}, got {_show(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{where}expected true or false, got {_show(value)}"
    if kind in ("too_short", "string_too_short"):
        if isinstance(value, str):
            return f"{where}must not be empty"
        return f"{where}needs at least one item"
    if kind == "list_type":
        return f"{where}expected a list, written [a, b] or as '- ' lines, got {_show(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        if value is None:
            return f"{where}a value is needed here"
        return f"{where}expected fields written as 'key: value' lines, got {_show(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{where}{error['msg'].lower().replace('input should be', 'must be')}"
    return f"{where}{error['msg']}"


def _show(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _unknown_key(model: type[BaseModel], parent: KeyPath, key: str) -> str:
    allowed = allowed_keys(model, parent)
    message = f"unknown key {key!r}"
    if parent:
        message += f" in {field_name(parent)}"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"{message}: did you mean {close[0]!r}?"
    if allowed:
        return f"{message}: allowed keys are {', '.join(allowed)}"
    return message


def allowed_keys(model: type[BaseModel], path: KeyPath) -> list[str]:
    """The keys a mapping at ``path`` inside ``model`` may hold."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        target = _model_in(current)
        if target is None:
            return []
        fields = {f.alias or n: f for n, f in target.model_fields.items()}
        # A key that is not a field is a key of a dict[str, Model]: step into the value type.
        current = fields[part].annotation if part in fields else _dict_value(current)
    target = _model_in(current)
    if target is None:
        return []
    return [f.alias or n for n, f in target.model_fields.items() if n != "body"]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[Action] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _dict_value(annotation: Any) -> Any:
    model = _model_in(annotation)
    if model is not None:
        return model
    origin = typing.get_origin(annotation)
    if origin in (dict, typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return args[-1] if args else None
    return None
