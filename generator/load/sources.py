"""Loading: files on disk -> raw records with their source file and line numbers.

YAML is read with a deliberately small set of implicit types: plain scalars stay text except
``true``/``false`` and ``null``/``~``/empty. So ``no`` stays the word "no", ``010`` stays
"010", and dates stay text until validation reads them strictly as ``YYYY-MM-DD``. Numbers are
read from text by the typed model where a number is expected. Every key and list item keeps the
line it was written on, so errors and findings can point at it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import Problems

#: A path into a record's data: keys and list indexes, e.g. ("actions", 0, "owner").
KeyPath = tuple[str | int, ...]

RECORD_FOLDERS = ("concerns", "evidence", "governance")
MAX_NODES = 100_000  # guards against alias bombs ("billion laughs")
MAX_FILE_BYTES = 5 * 1024 * 1024

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Resolver(yaml.resolver.BaseResolver):
    """Only booleans and nulls are implicit; every other plain scalar is text."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null",
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    ["~", "n", "N", ""],
)


class _ComposeLoader(_Loader):  # type: ignore[misc]
    """The fast (C where available) parser with our resolver; only composes nodes."""


# The C parser calls self.resolve, so swapping the resolver tables is enough.
_ComposeLoader.yaml_implicit_resolvers = _Resolver.yaml_implicit_resolvers
_ComposeLoader.yaml_path_resolvers = {}

_KNOWN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class SourceFile:
    """One record file after loading: its fields, their lines, and its Markdown body."""

    path: Path  # absolute path on disk
    rel: str  # path relative to the portfolio folder, with '/'
    display: str  # path as shown to the user in messages
    kind: str  # portfolio | framework | concerns | evidence | governance
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 0
    digest: bytes = b""  # SHA-256 of the file's bytes, for the build stamp
    #: SHA-256 of the text of its fields (the file less its body): what a record shows but its
    #: body is made from this and the build's settings, so pages can tell the two apart.
    front_digest: bytes = b""

    def line(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(path[:end])
            if found:
                return found
        return self.lines.get((), 1)


class YamlProblem(Exception):
    """A problem found while turning YAML nodes into data."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str, first_line: int = 1) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML ``text`` into plain data and a map of key paths to line numbers.

    ``first_line`` is the file line the text starts on (front matter starts after ``---``).
    Raises :class:`YamlProblem` with a file line number for anything wrong with the YAML.
    """
    offset = first_line - 1
    try:
        node = yaml.compose(text, Loader=_ComposeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context and "flow" in exc.context and exc.context_mark is not None:
            mark = exc.context_mark  # an unclosed [ or { is found only at its end
        line = (mark.line + 1 + offset) if mark is not None else first_line
        raise YamlProblem(line, _yaml_message(exc)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlProblem(first_line, f"this is not valid YAML ({exc})") from None
    lines: dict[KeyPath, int] = {}
    if node is None:
        return None, lines
    builder = _Builder(offset, lines)
    data = builder.build(node, ())
    return data, lines


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "this is not valid YAML"
    hint = "check the indentation, and put text containing ': ' or '#' in quotes"
    if "'\\t'" in problem or "tab" in problem:
        hint = "indent with spaces, not tabs"
    elif "found undefined alias" in problem:
        hint = "define the anchor (&name) before using it (*name)"
    elif "expected <document start>" in problem:
        hint = "there is text after the fields; check that the front matter ends with '---'"
    elif "could not find expected ':'" in problem or "simple key" in problem:
        hint = "each field needs 'key: value'; put text containing ':' in quotes"
    if exc.context and exc.context not in problem:
        problem = f"{exc.context}, {problem}"
    return f"invalid YAML: {problem}; {hint}"


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording lines."""

    def __init__(self, offset: int, lines: dict[KeyPath, int]) -> None:
        self.offset = offset
        self.lines = lines
        self.count = 0
        self.active: set[int] = set()

    def line_of(self, node: Node) -> int:
        return int(node.start_mark.line) + 1 + self.offset

    def build(self, node: Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(
                self.line_of(node),
                "the YAML expands to too many values (aliases repeat too much); "
                "write the values out instead of repeating anchors",
            )
        if id(node) in self.active:
            raise YamlProblem(self.line_of(node), "an alias refers to itself; remove the loop")
        tag = node.tag
        if tag not in _KNOWN_TAGS:
            raise YamlProblem(self.line_of(node), f"unsupported YAML tag {tag!r}; remove the tag")
        if isinstance(node, ScalarNode):
            if tag == "tag:yaml.org,2002:null":
                return None
            if tag == "tag:yaml.org,2002:bool":
                return node.value.lower() == "true"
            return str(node.value)
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for index, child in enumerate(node.value):
                    self.lines[(*path, index)] = self.line_of(child)
                    items.append(self.build(child, (*path, index)))
                return items
            if isinstance(node, MappingNode):
                return self.build_mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise YamlProblem(self.line_of(node), "unsupported YAML structure")  # pragma: no cover

    def build_mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = self.line_of(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge" or (
                isinstance(key_node, ScalarNode) and key_node.value == "<<"
            ):
                raise YamlProblem(line, "merge keys ('<<') are not supported; write the fields out")
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(line, "a key must be a plain word, not a list or mapping")
            key = str(key_node.value)
            if key in result:
                first = self.lines.get((*path, key), line)
                raise YamlProblem(
                    line,
                    f"duplicate key {key!r} (first set on line {first}); "
                    "YAML would silently keep only the last one: remove one of them",
                )
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result


def split_front_matter(text: str) -> tuple[str, int, str, int] | str:
    """Split a Markdown record into (yaml, yaml_first_line, body, body_first_line).

    Returns an error message instead when the front matter is missing or unclosed.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return (
            "no front matter: a record starts with a line '---', then its fields, "
            "then another line '---' before the Markdown text"
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            front = "\n".join(lines[1:index])
            body = "\n".join(lines[index + 1 :])
            return front, 2, body, index + 2
    return "the front matter is not closed: add a line '---' after the last field"


def read_text(path: Path, display: str, problems: Problems) -> tuple[str, bytes] | None:
    """Read a file as UTF-8 (a byte-order mark is allowed; CRLF becomes LF).

    Returns the text and the SHA-256 digest of the bytes read.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.add(display, 0, f"cannot read this file ({exc.strerror})")
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.add(
            display,
            0,
            f"the file is {len(raw) // 1024} KiB; records are limited to "
            f"{MAX_FILE_BYTES // 1024 // 1024} MiB: split it or move content to an attachment",
        )
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.add(
            display,
            line,
            f"this file is not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
            "save it as UTF-8 in your editor",
        )
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n"), hashlib.sha256(raw).digest()


def load_file(
    path: Path,
    rel: str,
    display: str,
    kind: str,
    problems: Problems,
    on_text: Callable[[str, bytes], None] | None = None,
) -> SourceFile | None:
    """Load one record or settings file; problems are recorded, not raised.

    ``on_text`` is given the file's text and the SHA-256 of its bytes as soon as they are
    read, so that other checks of the text need not read the file again.
    """
    read = read_text(path, display, problems)
    if read is None:
        return None
    text, digest = read
    if on_text is not None:
        on_text(text, digest)
    if not text.strip():
        problems.add(display, 1, "the file is empty; add the record's fields or delete the file")
        return None
    body, body_line = "", 0
    first_line = 1
    if path.suffix == ".md":
        split = split_front_matter(text)
        if isinstance(split, str):
            problems.add(display, 1, split)
            return None
        text, first_line, body, body_line = split
    try:
        data, lines = parse_yaml(text, first_line)
    except YamlProblem as exc:
        problems.add(display, exc.line, exc.message)
        return None
    if not isinstance(data, dict):
        where = first_line if data is None else lines.get((), first_line)
        problems.add(
            display,
            where,
            "expected fields written as 'key: value' lines"
            + (" but the front matter is empty" if data is None else ""),
        )
        return None
    lines.setdefault((), first_line)
    front = hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).digest()
    return SourceFile(path, rel, display, kind, data, lines, body, body_line, digest, front)


def record_kind(rel: str) -> str | None:
    """The kind of record the file at ``rel`` (relative to the portfolio folder, with '/')
    holds, or None when it is no record file."""
    kind, _, inside = rel.partition("/")
    if kind not in RECORD_FOLDERS or not inside:
        return None
    if any(part.startswith(("_", ".")) for part in inside.split("/")):
        return None
    suffix = inside.rpartition(".")[2] if "." in inside.rpartition("/")[2] else ""
    if suffix == "md" or (kind == "evidence" and suffix in ("yaml", "yml")):
        return kind
    return None


def shown_name(rel: str) -> str:
    """A file's name as messages show it: bytes that are not UTF-8 as \\xNN escapes."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(
    root: Path, problems: Problems | None = None, shown: str | None = None
) -> dict[str, list[Path]]:
    """Find the record files of each kind under ``root``, in a stable order.

    Nothing is skipped in silence: a folder or record file that cannot be read, a name that is
    not UTF-8, a symbolic link or anything else that is not a plain file where a record would
    be is a problem with its path (recorded in ``problems``, when given, else skipped).
    """
    prefix = (shown if shown is not None else root.as_posix()).rstrip("/")
    found: dict[str, list[Path]] = {}

    def problem(rel: str, message: str) -> None:
        if problems is not None:
            problems.add(f"{prefix}/{shown_name(rel)}", 0, message)

    for kind in RECORD_FOLDERS:
        folder = root / kind
        paths: list[tuple[str, Path]] = []
        if folder.is_symlink():
            problem(kind, _LINKED_FOLDER)
        elif folder.is_dir():
            _walk_records(folder, kind, kind, paths, problem)
        found[kind] = [path for _, path in sorted(paths, key=lambda item: item[0])]
    return found


_LINKED_FOLDER = (
    "is a symbolic link to a folder: records are read only from folders inside the portfolio "
    "folder; move the folder here instead of linking to it"
)


def _walk_records(
    folder: Path,
    rel: str,
    kind: str,
    paths: list[tuple[str, Path]],
    problem: Callable[[str, str], None],
) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        problem(rel, f"this folder cannot be read ({exc.strerror}): let this user read it")
        return
    for entry in entries:
        name = f"{rel}/{entry.name}"
        if entry.name.startswith(("_", ".")):
            continue  # drafts and hidden files are not records (see record_kind)
        try:
            entry.name.encode("utf-8")
        except UnicodeEncodeError:
            problem(
                name,
                "this name is not valid UTF-8 (it was made on a system with another encoding): "
                "rename it using only letters, digits, spaces, '-' and '_'",
            )
            continue
        try:
            if entry.is_symlink():
                if entry.is_dir() or record_kind(name) == kind:
                    message = (
                        _LINKED_FOLDER
                        if entry.is_dir()
                        else (
                            "is a symbolic link: records are read only from files inside the "
                            "portfolio folder; copy the file here instead of linking to it"
                        )
                    )
                    problem(name, message)
                continue
            if entry.is_dir(follow_symlinks=False):
                _walk_records(Path(entry.path), name, kind, paths, problem)
                continue
            if record_kind(name) != kind:
                continue
            if not entry.is_file(follow_symlinks=False):
                problem(name, "is not a file that can be read as a record: remove it or rename it")
                continue
        except OSError as exc:
            problem(name, f"cannot be read ({exc.strerror}): let this user read it")
            continue
        if not os.access(entry.path, os.R_OK):
            problem(name, "cannot be read (permission denied): let this user read it")
            continue
        paths.append((name, Path(entry.path)))


def front_span(path: Path, text: str) -> tuple[int, int]:
    """Where the YAML of a record file lies in its text (which was read as a record before):
    all of a .yaml file, the front matter of a .md file between its ``---`` lines."""
    if path.suffix.lower() != ".md":
        return 0, len(text)
    # Lines end at "\n" only, as split_front_matter reads them (a form feed or a Unicode line
    # separator inside a field is not a line end).
    first = offset = text.find("\n") + 1
    while offset < len(text):
        end = text.find("\n", offset)
        end = len(text) if end < 0 else end + 1
        if text[offset:end].rstrip() in ("---", "..."):
            return first, offset
        offset = end
    raise AssertionError(f"{path}: the front matter is not closed")  # it was read before
