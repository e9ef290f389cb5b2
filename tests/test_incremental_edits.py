"""Incremental builds equal clean builds, whatever is edited.

Starting from the sample portfolio, built once with its build cache, a seeded search makes
sequences of edits of every kind: any field of any record (text, numbers, dates, booleans, ids,
statuses and other fixed values, references, list items), lists reordered, grown and shrunk,
readings added, fields removed, Markdown bodies, evidence entries added and deleted, attached
files' bytes, record files moved, copied and damaged. After each step, the portfolio is built
again into the same output with the same cache, and from nothing into another folder: both must
write the same files, byte for byte. A step that leaves the portfolio with errors must fail both
builds alike (exit status 1, the same errors) and leave the output as it was; its edits are then
undone and the sequence goes on from the last good portfolio. Each sequence builds for one
audience.

The command line is the only interface used. FUZZ_EXAMPLES raises the number of sequences.
"""

from __future__ import annotations

import copy
import difflib
import gc
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    rule,
    run_state_machine_as_test,
)

from conftest import REPO, SAMPLE
from generator.cli import cli

# FUZZ_EXAMPLES=60 runs a longer search locally; CI keeps it short. The outputs are compared
# after every step, so the step that went wrong is the last one the failure message lists:
# shrinking, which would build again and again for minutes, is left out.
SETTINGS = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "12")),
    stateful_step_count=7,  # the first step copies the built sample
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

AS_OF = "2026-10-31"  # both builds judge statuses at the same date, whatever today is
AUDIENCES = ["inspection", "internal", "commissioner", "public"]  # one for each sequence

KeyPath = tuple[str | int, ...]

# --- what the record format allows (docs/format.md) ---------------------------------------------

# The packaged framework's statement slugs and evidence types, read from its data file.
_FRAMEWORK = yaml.safe_load(
    (REPO / "generator" / "data" / "frameworks" / "cqc-saf-2024.yaml").read_text(encoding="utf-8")
)
SLUGS = [s["slug"] for kq in _FRAMEWORK["key_questions"] for s in kq["statements"]]
VISIBILITY = ["internal", "inspection", "commissioner", "public"]
EVIDENCE_TYPES = list(_FRAMEWORK["evidence_types"])
CHOICES: dict[str, list[Any]] = {
    "risk": ["low", "medium", "high"],
    "source": [
        "inspection",
        "internal-audit",
        "complaint",
        "incident",
        "safeguarding",
        "commissioner",
        "feedback",
        "provider-oversight",
        "other",
    ],
    "direction": ["up", "down"],
    "cadence": ["per-shift", "daily", "weekly", "fortnightly", "monthly", "quarterly"],
    "type": EVIDENCE_TYPES,
    "category": [
        "people-experience",
        "staff-feedback",
        "partner-feedback",
        "observation",
        "processes",
        "outcomes",
    ],
    "nature": ["outcome", "activity"],
    "visibility": VISIBILITY,
    "default_visibility": VISIBILITY,
    "audience": VISIBILITY,
    "decision": ["close", "keep-open", "reopen", "extend", "escalate", "note"],
    "framework": ["cqc-saf-2024", "cqc-saf-2025"],  # the second one does not exist
    "unit": ["%", "falls", "days", "incidents", "calls"],
    "quality_statements": SLUGS,
    "regulation": [*range(9, 21), "20A"],
}
CONCERN_STATUS = ["open", "monitoring", "closed"]
ACTION_STATUS = ["planned", "in-progress", "completed", "closed"]
ROLE_FIELDS = {"owner", "raised_by", "chair", "attendees", "agreed_by", "by"}
# Which ids each referring field names (see Ids.of).
ID_FIELDS = {
    "evidence": ("evidence",),
    "recorded_in": ("reviews",),
    "related": ("concerns",),
    "ref": ("concerns", "actions"),
}
# Values that break most fields: both builds must then report the same errors.
MALFORMED = ["2026-02-30", "31/03/2026", "95%", "", "n/a", "no-such-thing"]
# Words for text: Markdown, HTML and YAML punctuation, ids, and personal identifiers that the
# privacy check looks for.
WORDS = [
    "audit",
    "Cedar",
    "café",
    "naïve",
    "—",
    "**bold**",
    "_stress_",
    "<b>",
    "R&D",
    "50%",
    "#3",
    "`code`",
    "MED-01",
    "EV-MAR-2026-06",
    "'quoted'",
    '"quoted"',
    "true",
    "null",
    "2026-10-01",
    "-",
    "#",
    ">",
    "|",
    "night round",
    "key: value",
    "943 476 5919",
    "born on 01/02/1940",
    "[a link](https://example.org/)",
    "a\nsecond line",
    "   ",
]
# Attachments that may appear besides those the sample has.
NEW_ATTACHMENTS = [
    "attachments/extra/photo.png",
    "attachments/extra/tally.csv",
    "attachments/extra/letter.pdf",
    "attachments/extra/notes.txt",
]
CHUNKS = [
    b"unit,complete\nBeech,12\n",
    b"943 476 5919,missed\n",
    b"%PDF-1.4 generated\n",
    b"\x89PNG\r\n\x1a\n",
    b"date of birth: 01/02/1940\n",
]
DAYS = st.integers(-20, 20).filter(bool)

words = st.sampled_from(WORDS) | st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), min_size=1, max_size=12
)


# --- reading and writing records ----------------------------------------------------------------


def load_yaml(text: str) -> dict[str, Any]:
    """What yaml.safe_load reads (with the C parser where there is one: it is faster)."""
    found = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return found if isinstance(found, dict) else {}


def split_record(text: str, markdown: bool) -> tuple[dict[str, Any], str | None]:
    """The front matter (YAML between the first two '---' lines) and the Markdown body after
    it; a .yaml record is front matter alone (body None). ValueError: neither."""
    if not markdown:
        return load_yaml(text), None
    lines = text.split("\n")
    ends = [i for i in range(1, len(lines)) if lines[i].rstrip() == "---"]
    if lines[0].rstrip() != "---" or not ends:
        raise ValueError("no front matter")
    return load_yaml("\n".join(lines[1 : ends[0]])), "\n".join(lines[ends[0] + 1 :])


def join_record(front: dict[str, Any], body: str | None) -> str:
    dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return dumped if body is None else f"---\n{dumped}---\n{body}"


def nodes(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every value in ``value`` with its path, containers before what they hold."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def get_at(value: Any, path: KeyPath) -> Any:
    for step in path:
        value = value[step]
    return value


def set_at(value: Any, path: KeyPath, new: Any) -> None:
    get_at(value, path[:-1])[path[-1]] = new


def field_of(path: KeyPath) -> str:
    """The name of the field a value belongs to: a list item belongs to the list's field."""
    return next((str(step) for step in reversed(path) if isinstance(step, str)), "")


def shown(path: KeyPath) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)[1:]


def said(value: Any) -> str:
    """A value as an edit's description shows it (dates as written in a record)."""
    return json.dumps(value, ensure_ascii=False, default=str)


@dataclass
class Ids:
    """The ids and role names a portfolio defines, by kind."""

    kinds: dict[str, list[str]] = field(default_factory=dict)

    def of(self, *kinds: str) -> list[str]:
        return sorted({name for kind in kinds for name in self.kinds.get(kind, [])})


class Folder:
    """The portfolio folder being edited. Parsed records are kept by their text."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.edits = 0  # how many edits were made to it
        self._parsed: dict[bytes, tuple[dict[str, Any], str | None] | None] = {}

    def records(self) -> list[str]:
        """Every record the build reads (names starting with '_' or '.' are ignored), but
        those damaged by an earlier edit of the same step."""
        found = ["portfolio.yaml"]
        for kind, suffixes in (
            ("concerns", (".md",)),
            ("evidence", (".md", ".yaml")),
            ("governance", (".md",)),
        ):
            for path in sorted((self.root / kind).rglob("*")):
                if path.is_file() and path.suffix in suffixes and path.name[0] not in "_.":
                    found.append(path.relative_to(self.root).as_posix())
        return [rel for rel in found if self._parse(rel) is not None]

    def view(self, rel: str) -> dict[str, Any]:
        """The front matter of ``rel``, to look at, not to change."""
        parsed = self._parse(rel)
        assert parsed is not None, rel
        return parsed[0]

    def read(self, rel: str) -> tuple[dict[str, Any], str | None]:
        """The front matter of ``rel`` (a copy, to change) and its body."""
        parsed = self._parse(rel)
        assert parsed is not None, rel
        return copy.deepcopy(parsed[0]), parsed[1]

    def _parse(self, rel: str) -> tuple[dict[str, Any], str | None] | None:
        """The front matter and body of ``rel``; None when it cannot be read as a record."""
        data = (self.root / rel).read_bytes()
        if data not in self._parsed:
            try:
                self._parsed[data] = split_record(data.decode("utf-8"), rel.endswith(".md"))
            except (ValueError, yaml.YAMLError):  # UnicodeDecodeError is a ValueError
                self._parsed[data] = None
        return self._parsed[data]

    def write(self, rel: str, front: dict[str, Any], body: str | None) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(join_record(front, body), encoding="utf-8")

    def ids(self) -> Ids:
        ids = Ids()

        def add(kind: str, value: Any) -> None:
            if isinstance(value, str):
                ids.kinds.setdefault(kind, []).append(value)

        for rel in self.records():
            front = self.view(rel)
            kind = rel.split("/")[0]
            if rel == "portfolio.yaml" and isinstance(front.get("roles"), dict):
                ids.kinds["roles"] = [str(name) for name in front["roles"]]
            elif kind == "concerns":
                add("concerns", front.get("id"))
                for part in ("actions", "measures"):
                    for item in front.get(part) or []:
                        if isinstance(item, dict):
                            add(part, item.get("id"))
            elif kind == "evidence":
                add("evidence", front.get("id"))
            elif kind == "governance":
                add("reviews", front.get("id"))
        return ids

    def attachments(self) -> list[str]:
        """The attached files there are, and those that may appear."""
        there = [
            path.relative_to(self.root).as_posix()
            for path in (self.root / "attachments").rglob("*")
            if path.is_file()
        ]
        return sorted({*there, *NEW_ATTACHMENTS})

    def texts(self) -> dict[str, set[str]]:
        """Every text value in each record's front matter, by record."""
        return {
            rel: {value for _, value in nodes(self.view(rel)) if isinstance(value, str)}
            for rel in self.records()
        }


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def restore(root: Path, files: dict[str, bytes]) -> None:
    """Put ``root`` back as ``files`` has it, rewriting only the files that differ."""
    for rel in set(snapshot(root)) - set(files):
        (root / rel).unlink()
    for rel, data in files.items():
        path = root / rel
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


# --- edits: each changes the folder and says what it did, or returns None when it cannot ------

Draw = st.DataObject
Edit = Callable[[Folder, Draw], str | None]


def new_value(folder: Folder, data: Draw, path: KeyPath, old: Any) -> Any:
    """A new value for the field at ``path``: one the format allows, most of the time."""
    name = field_of(path)
    if data.draw(st.integers(0, 7), label="malformed") == 7:
        return data.draw(st.sampled_from(MALFORMED), label="malformed value")
    if isinstance(old, bool):
        return not old
    if isinstance(old, date):
        return old + timedelta(days=data.draw(DAYS, label="days"))
    if isinstance(old, int | float) and name != "regulation":
        return old + data.draw(st.sampled_from([-5, -2, -1, 1, 2, 5, 0.5]), label="nudge")
    options: list[Any] = []
    if name == "status":
        options = ACTION_STATUS if "actions" in path else CONCERN_STATUS
    elif name in CHOICES:
        options = CHOICES[name]
    elif name in ROLE_FIELDS:
        options = folder.ids().of("roles")
    elif name in ID_FIELDS:
        options = folder.ids().of(*ID_FIELDS[name])
    elif name == "file":
        options = folder.attachments()
    others = [option for option in options if option != old]
    if others:
        return data.draw(st.sampled_from(others), label="value")
    if name == "id":  # a renamed id: fine where nothing names it, an error where something does
        return data.draw(st.sampled_from([f"{old}-X", str(old).lower(), f"{old}b"]), label="id")
    return new_text(data, "" if old is None else str(old))


def new_text(data: Draw, text: str) -> str:
    parts = text.split(" ")
    how = data.draw(
        st.sampled_from(["append", "prepend", "replace a word", "drop a word", "rewrite", "upper"]),
        label="text edit",
    )
    if how == "upper":
        return text.upper()
    if how == "drop a word":
        del parts[data.draw(st.integers(0, len(parts) - 1), label="word")]
        return " ".join(parts)
    word = data.draw(words, label="words")
    if how == "append":
        return f"{text} {word}"
    if how == "prepend":
        return f"{word} {text}"
    if how == "replace a word":
        parts[data.draw(st.integers(0, len(parts) - 1), label="word")] = word
        return " ".join(parts)
    return word


def edit_field(folder: Folder, data: Draw) -> str:
    """Any scalar value anywhere (a list item included), chosen field name first, so that
    every field is as likely to be edited as the most common ones."""
    leaves = [
        (rel, path, value)
        for rel in folder.records()
        for path, value in nodes(folder.view(rel))
        if path and not isinstance(value, dict | list)
    ]
    names = sorted({field_of(path) for _, path, _ in leaves})
    # The search favours the first choices: they fall on a different field at each edit.
    turn = folder.edits * 17 % len(names)
    name = data.draw(st.sampled_from(names[turn:] + names[:turn]), label="field")
    rel, path, old = data.draw(
        st.sampled_from([leaf for leaf in leaves if field_of(leaf[1]) == name]), label="where"
    )
    new = new_value(folder, data, path, old)
    front, body = folder.read(rel)
    set_at(front, path, new)
    folder.write(rel, front, body)
    return f"{rel}: {shown(path)}: {said(old)} -> {said(new)}"


def lists_in(folder: Folder, least: int) -> list[tuple[str, KeyPath]]:
    return [
        (rel, path)
        for rel in folder.records()
        for path, value in nodes(folder.view(rel))
        if isinstance(value, list) and len(value) >= least
    ]


def reorder_list(folder: Folder, data: Draw) -> str | None:
    found = lists_in(folder, 2)
    if not found:
        return None
    rel, path = data.draw(st.sampled_from(found), label="list")
    front, body = folder.read(rel)
    items = get_at(front, path)
    order = data.draw(st.permutations(range(len(items))), label="order")
    if order == sorted(order):
        order = [*order[1:], order[0]]
    set_at(front, path, [items[index] for index in order])
    folder.write(rel, front, body)
    return f"{rel}: {shown(path)} reordered {order}"


def remove_item(folder: Folder, data: Draw, only: str | None = None) -> str | None:
    """An item removed from a list (from a list of readings only, with ``only="readings"``)."""
    found = [(rel, path) for rel, path in lists_in(folder, 1) if only in (None, path[-1])]
    if not found:
        return None
    rel, path = data.draw(st.sampled_from(found), label="list")
    front, body = folder.read(rel)
    items = get_at(front, path)
    index = data.draw(st.integers(0, len(items) - 1), label="index")
    removed = items.pop(index)
    folder.write(rel, front, body)
    return f"{rel}: {shown(path)}[{index}] removed: {said(removed)}"


def add_item(folder: Folder, data: Draw) -> str | None:
    """An item added to a list: a value of the list's kind, or a copy of a sibling mapping
    (an update, extension, decision, action...) with a new id and a later date."""
    found = lists_in(folder, 1)
    if not found:
        return None
    rel, path = data.draw(st.sampled_from(found), label="list")
    front, body = folder.read(rel)
    items = get_at(front, path)
    model = data.draw(st.sampled_from(items), label="like")
    if isinstance(model, dict):
        item = copy.deepcopy(model)
        if isinstance(item.get("id"), str):
            item["id"] = f"{item['id']}-N{len(items) + 1}"
        for key, value in item.items():
            if isinstance(value, date):
                item[key] = value + timedelta(days=data.draw(st.integers(1, 30), label="days"))
    else:
        item = new_value(folder, data, (*path, len(items)), model)
    index = data.draw(st.integers(0, len(items)), label="index")
    items.insert(index, item)
    folder.write(rel, front, body)
    return f"{rel}: {shown(path)}[{index}] added: {said(item)}"


def add_reading(folder: Folder, data: Draw) -> str | None:
    """A reading after the last one (or the baseline) of a measure, maybe citing evidence."""
    measures = [
        (rel, path)
        for rel in folder.records()
        if rel.startswith("concerns/")
        for path, value in nodes(folder.view(rel))
        if len(path) == 2 and path[0] == "measures" and isinstance(value, dict)
    ]
    if not measures:
        return None
    rel, path = data.draw(st.sampled_from(measures), label="measure")
    front, body = folder.read(rel)
    measure = get_at(front, path)
    readings = measure.setdefault("readings", [])
    last = readings[-1] if readings else measure.get("baseline")
    if not (isinstance(last, dict) and isinstance(last.get("date"), date)):
        return None
    value = last.get("value")
    reading: dict[str, Any] = {
        "date": last["date"] + timedelta(days=data.draw(st.integers(1, 45), label="days")),
        "value": (value if isinstance(value, int | float) else 50)
        + data.draw(st.integers(-10, 10), label="change"),
    }
    if data.draw(st.booleans(), label="cites evidence"):
        reading["evidence"] = data.draw(st.sampled_from(folder.ids().of("evidence")))
    readings.append(reading)
    folder.write(rel, front, body)
    return f"{rel}: {shown((*path, 'readings'))} gains {said(reading)}"


def remove_reading(folder: Folder, data: Draw) -> str | None:
    return remove_item(folder, data, only="readings")


def remove_field(folder: Folder, data: Draw) -> str:
    mappings = [
        (rel, path, sorted(value))
        for rel in folder.records()
        for path, value in nodes(folder.view(rel))
        if isinstance(value, dict) and value
    ]
    rel, path, keys = data.draw(st.sampled_from(mappings), label="mapping")
    key = data.draw(st.sampled_from(keys), label="key")
    front, body = folder.read(rel)
    removed = get_at(front, path).pop(key)
    folder.write(rel, front, body)
    return f"{rel}: {shown((*path, key))} removed (was {said(removed)})"


def edit_body(folder: Folder, data: Draw) -> str:
    """The Markdown after the front matter: text, headings, lists, tables, and links and
    images to files inside the portfolio (there or not) and to other hosts."""
    rel = data.draw(
        st.sampled_from([rel for rel in folder.records() if rel.endswith(".md")]), label="record"
    )
    front, body = folder.read(rel)
    assert body is not None
    target = data.draw(st.sampled_from(folder.attachments()), label="file")
    href = os.path.relpath(folder.root / target, (folder.root / rel).parent).replace(os.sep, "/")
    word = data.draw(words, label="words")
    how = data.draw(
        st.sampled_from(
            [
                "paragraph",
                "heading",
                "list",
                "table",
                "link to a file",
                "image",
                "link elsewhere",
                "line rewritten",
                "emptied",
            ]
        ),
        label="body edit",
    )
    if how == "line rewritten":
        lines = body.split("\n")
        index = data.draw(st.integers(0, len(lines) - 1), label="line")
        old, lines[index] = lines[index], new_text(data, lines[index])
        folder.write(rel, front, "\n".join(lines))
        return f"{rel}: body line {index + 1}: {said(old)} -> {said(lines[index])}"
    if how == "emptied":
        folder.write(rel, front, "")
        return f"{rel}: body emptied (was {len(body)} characters)"
    added = {
        "paragraph": f"\n{word}\n",
        "heading": f"\n## {word}\n",
        "list": f"\n- {word}\n- second item\n",
        "table": f"\n| What | Count |\n| --- | --- |\n| {word} | 3 |\n",
        "link to a file": f"\nSee [the file]({href}) for {word}.\n",
        "image": f"\n![{word}]({href})\n",
        "link elsewhere": f"\nSee [the guidance](https://example.org/{len(word)}).\n",
    }[how]
    folder.write(rel, front, body + added)
    return f"{rel}: body, {how} added at the end: {said(added)}"


def add_evidence(folder: Folder, data: Draw) -> str:
    """A new evidence entry that nothing cites yet, filed directly or not at all."""
    taken = folder.ids().of("evidence")
    number = next(n for n in range(1, 1000) if f"EV-NEW-{n:02d}" not in taken)
    entry: dict[str, Any] = {
        "id": f"EV-NEW-{number:02d}",
        "title": data.draw(words, label="title"),
        "type": data.draw(st.sampled_from(EVIDENCE_TYPES), label="type"),
        "date": date(2026, 4, 1) + timedelta(days=data.draw(st.integers(0, 213), label="date")),
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "owner": st.sampled_from(folder.ids().of("roles")),
        "file": st.sampled_from(
            [name for name in folder.attachments() if (folder.root / name).is_file()]
        ),
        "quality_statements": st.lists(st.sampled_from(SLUGS), min_size=1, max_size=2, unique=True),
        "visibility": st.sampled_from(VISIBILITY),
        "personal_data": st.booleans(),
        "summary": words,
    }
    for key, values in optional.items():
        if data.draw(st.booleans(), label=f"with {key}"):
            entry[key] = data.draw(values, label=key)
    where = data.draw(st.sampled_from(["evidence", "evidence/audits", "evidence/new"]))
    markdown = data.draw(st.booleans(), label="markdown")
    rel = f"{where}/new-{number:02d}.{'md' if markdown else 'yaml'}"
    folder.write(rel, entry, "Added evidence.\n" if markdown else None)
    return f"{rel}: new evidence entry {said(entry)}"


def delete_evidence(folder: Folder, data: Draw) -> str | None:
    """An evidence entry that no other record names, deleted."""
    texts = folder.texts()
    uncited = [
        rel
        for rel in texts
        if rel.startswith("evidence/")
        and not any(
            folder.view(rel).get("id") in found for other, found in texts.items() if other != rel
        )
    ]
    if not uncited:
        return None
    rel = data.draw(st.sampled_from(uncited), label="evidence")
    ident = folder.view(rel).get("id")
    (folder.root / rel).unlink()
    return f"{rel}: deleted (nothing cites {ident})"


def edit_attachment(folder: Folder, data: Draw) -> str:
    """An attached file's bytes changed, or a file added or removed under attachments/."""
    rel = data.draw(st.sampled_from(folder.attachments()), label="attachment")
    path = folder.root / rel
    chunk = data.draw(st.sampled_from(CHUNKS) | st.binary(max_size=24), label="bytes")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(chunk)
        return f"{rel}: created with {chunk!r}"
    how = data.draw(st.sampled_from(["append", "replace", "empty", "delete"]), label="how")
    if how == "delete":
        path.unlink()
        return f"{rel}: deleted"
    if how == "empty":
        path.write_bytes(b"")
        return f"{rel}: emptied"
    path.write_bytes(path.read_bytes() + chunk if how == "append" else chunk)
    return f"{rel}: {how} {chunk!r}"


def move_record(folder: Folder, data: Draw) -> str | None:
    """A record file renamed or moved to a sub-folder; a leading '_' hides it from the build."""
    rel = data.draw(st.sampled_from(folder.records()[1:]), label="record")
    parent, name = rel.rsplit("/", 1)
    top = rel.split("/")[0]
    target = data.draw(
        st.sampled_from([f"{top}/moved/{name}", f"{parent}/renamed-{name}", f"{parent}/_{name}"]),
        label="to",
    )
    if (folder.root / target).exists():
        return None
    (folder.root / target).parent.mkdir(parents=True, exist_ok=True)
    (folder.root / rel).rename(folder.root / target)
    return f"{rel}: moved to {target}"


def break_record(folder: Folder, data: Draw) -> str:
    """A record file broken: copied under another name (so its ids are defined twice), made
    not UTF-8, or its front matter left unclosed. The build must report it, whatever the
    cache holds."""
    rel = data.draw(st.sampled_from(folder.records()), label="record")
    path = folder.root / rel
    how = data.draw(st.sampled_from(["copied", "not UTF-8", "unclosed"]), label="damage")
    if how == "copied" and rel != "portfolio.yaml":
        copied = path.with_name(f"copy-of-{path.name}")
        shutil.copyfile(path, copied)
        return f"{rel}: copied to {copied.relative_to(folder.root).as_posix()}"
    if how == "unclosed" and rel.endswith(".md"):
        front, body = folder.read(rel)
        dumped = yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
        path.write_text(f"---\n{dumped}{body}", encoding="utf-8")
        return f"{rel}: the '---' line that ends the front matter removed"
    path.write_bytes(path.read_bytes() + b"\xff\xfe\n")
    return f"{rel}: bytes b'\\xff\\xfe\\n' added at the end (not UTF-8)"


# How often each kind of edit is made, relative to the others.
EDITS: list[tuple[Edit, int]] = [
    (edit_field, 10),
    (edit_body, 3),
    (reorder_list, 2),
    (add_item, 2),
    (remove_item, 1),
    (add_reading, 1),
    (remove_reading, 1),
    (remove_field, 1),
    (add_evidence, 1),
    (delete_evidence, 1),
    (edit_attachment, 2),
    (move_record, 1),
    (break_record, 1),
]
KINDS = [edit for edit, weight in EDITS for _ in range(weight)]


# --- building and comparing ---------------------------------------------------------------------


def build(root: Path, out: Path, *options: str) -> Result:
    return CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--no-pdf", "--as-of", AS_OF, *options]
    )


def tree(out: Path) -> dict[str, bytes]:
    return snapshot(out) if out.is_dir() else {}


def differences(built: dict[str, bytes], clean: dict[str, bytes]) -> list[str]:
    found = [f"only in the incremental build: {name}" for name in sorted(set(built) - set(clean))]
    found += [
        f"missing from the incremental build: {name}" for name in sorted(set(clean) - set(built))
    ]
    found += [
        f"differs: {name}" for name in sorted(set(built) & set(clean)) if built[name] != clean[name]
    ]
    return found


def first_diff(built: dict[str, bytes], clean: dict[str, bytes]) -> str:
    """The lines of the first differing file that differ, clean build first."""
    for name in sorted(set(built) & set(clean)):
        if built[name] != clean[name]:
            lines = difflib.unified_diff(
                clean[name].decode(errors="replace").splitlines(),
                built[name].decode(errors="replace").splitlines(),
                f"clean/{name}",
                f"incremental/{name}",
                n=1,
                lineterm="",
            )
            return "\n".join(line[:300] for line in list(lines)[:40])
    return ""


REUSED = re.compile(r"\((\d+) rendered, (\d+) from the cache\)")


class Prepared:
    """The sample portfolio built once for each audience, with the cache beside the site."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def copy(self, audience: str, target: Path) -> None:
        built = self.base / audience
        if not built.exists():
            shutil.copytree(SAMPLE, built / "content")
            result = build(built / "content", built / "site", "--audience", audience)
            assert result.exit_code == 0, result.output
            assert (built / ".portfolio-cache" / "site").is_dir()
        shutil.copytree(built, target, symlinks=True, dirs_exist_ok=True)


class IncrementalEdits(RuleBasedStateMachine):
    """One sequence of edits to a copy of the built sample, building after each step."""

    def __init__(self, prepared: Prepared, scratch: Path, reused: list[int]) -> None:
        super().__init__()
        self.prepared = prepared
        self.work = Path(tempfile.mkdtemp(dir=scratch))
        self.folder = Folder(self.work / "content")
        self.out, self.clean = self.work / "site", self.work / "clean"
        self.options: tuple[str, ...] = ()
        self.story: list[str] = []  # what each step did, for the failure message
        self.earlier: list[dict[str, bytes]] = []  # the portfolio before each step
        self.reused = reused

    @initialize(audience=st.sampled_from(AUDIENCES))
    def start(self, audience: str) -> None:
        """The sample and its site for ``audience``, with the cache of that build."""
        self.options = ("--audience", audience)
        self.prepared.copy(audience, self.work)

    def teardown(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)
        gc.collect()  # a build leaves cycles that the collector, left alone, frees only late

    def told(self) -> str:
        return (
            f"builds with {' '.join(self.options)}; edits, step by step (the last step led "
            "here):\n" + "\n".join(self.story)
        )

    def edit(self, data: Draw) -> list[str]:
        """One to three edits; or, now and then, the portfolio put back as it was before an
        earlier step (so that the cache meets again what it held before)."""
        if self.earlier and data.draw(st.integers(0, 9), label="go back") == 9:
            step = data.draw(st.integers(0, len(self.earlier) - 1), label="to step")
            restore(self.folder.root, self.earlier[step])
            return [f"the portfolio put back as it was before step {step + 1}"]
        made: list[str] = []
        for _ in range(data.draw(st.integers(1, 3), label="edits")):
            what = None
            while what is None:
                what = data.draw(st.sampled_from(KINDS), label="kind")(self.folder, data)
            made.append(what)
            self.folder.edits += 1
        return made

    @rule(data=st.data())
    def edit_then_build(self, data: Draw) -> None:
        before, site_before = snapshot(self.folder.root), tree(self.out)
        made = self.edit(data)
        self.earlier.append(before)
        self.story.append(f"step {len(self.story) + 1}:\n" + "\n".join(f"  {m}" for m in made))

        incremental = build(self.folder.root, self.out, *self.options)
        shutil.rmtree(self.clean, ignore_errors=True)
        clean = build(self.folder.root, self.clean, "--no-cache", *self.options)
        outputs = (
            f"incremental build (exit {incremental.exit_code}):\n{incremental.output}"
            f"clean build (exit {clean.exit_code}):\n{clean.output}"
        )
        assert incremental.exit_code == clean.exit_code, f"{self.told()}\n{outputs}"
        assert incremental.exit_code in (0, 1), f"{self.told()}\n{outputs}"
        staged = [p.name for p in self.work.iterdir() if re.match(r"\.(site|clean)-new-", p.name)]
        assert staged == [], f"{self.told()}\nleft beside the output: {staged}"

        if incremental.exit_code == 1:
            # Errors: both builds list the same ones and write nothing. The step is undone.
            assert tree(self.out) == site_before, f"{self.told()}\nthe failed build changed it"
            assert not self.clean.exists()
            assert incremental.stderr == clean.stderr, f"{self.told()}\n{outputs}"
            restore(self.folder.root, before)
            self.story[-1] = self.story[-1].replace(":", " (errors; undone):", 1)
            return

        assert "note:" not in incremental.stderr, f"{self.told()}\n{outputs}"  # cache not used
        # Every file, the .portfolio-build marker included: the hash of the inputs it keeps
        # does not depend on the output folder or on --no-cache.
        built, expected = tree(self.out), tree(self.clean)
        found = differences(built, expected)
        assert found == [], (
            f"the incremental build differs from a clean build\n{self.told()}\n"
            + "\n".join(found)
            + f"\n{first_diff(built, expected)}\n{outputs}"
        )
        if reused := REUSED.search(incremental.output):
            self.reused.append(int(reused[2]))


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return Prepared(tmp_path_factory.mktemp("prepared"))


def test_incremental_builds_equal_clean_builds_after_generated_edits(
    prepared: Prepared, tmp_path: Path
) -> None:
    reused: list[int] = []
    run_state_machine_as_test(
        lambda: IncrementalEdits(prepared, tmp_path, reused), settings=SETTINGS
    )
    assert any(reused), "no build took a page from the cache: the cache was never exercised"
