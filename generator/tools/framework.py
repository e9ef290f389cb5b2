"""Frameworks beside the build: list the packaged ones, show one, and move a portfolio's
records from the slugs of one framework to those of another.

Switching a portfolio needs only ``framework:`` in portfolio.yaml: the crosswalk files every
record under the new framework as it is read. :func:`plan_migration` works out what a record's
``quality_statements`` would say if it were written under the new framework, and
:func:`write_migration` rewrites just that value in each file (and ``framework:`` in
portfolio.yaml), leaving every other byte as it was: comments, key order, the Markdown body.
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import escape
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import PortfolioError, Problem, Problems
from generator.load.framework import (
    DEFAULT_FRAMEWORK,
    former_titles,
    packaged_frameworks,
    read_packaged,
)
from generator.load.link import Portfolio, link, natural_key
from generator.load.portfolio import open_portfolio
from generator.load.sources import front_span, parse_yaml
from generator.model import Framework
from generator.output.write import MARKDOWN_START, atomic_write

# --- list and show -------------------------------------------------------------------------


def packaged() -> list[Framework]:
    """Every framework shipped with the package, by id."""
    found = [read_packaged(name) for name in packaged_frameworks()]
    return [f for f in found if f is not None]


def unknown_framework(name: str) -> str:
    """What to say about a framework id that is not packaged."""
    available = packaged_frameworks()
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"unknown framework {name!r}{hint}; packaged frameworks are {', '.join(available)} "
        "(`portfolio framework list` describes them)"
    )


def packaged_or_error(name: str) -> Framework:
    """The packaged framework ``name``; a :class:`PortfolioError` saying which exist if none."""
    framework = read_packaged(name)
    if framework is None:
        raise PortfolioError([Problem(name, 0, unknown_framework(name))])
    return framework


def portfolio_framework(root: Path) -> Framework:
    """The framework the portfolio at ``root`` uses (its own framework.yaml, or the packaged
    one portfolio.yaml names), or the default one when ``root`` is no portfolio."""
    if not (root / "portfolio.yaml").is_file():
        return packaged_or_error(DEFAULT_FRAMEWORK)
    problems = Problems()
    opened = open_portfolio(root, problems)
    problems.raise_if_any()
    assert opened.framework is not None
    return opened.framework[0]


def list_lines() -> list[str]:
    """One line per packaged framework: id, title, size, and what it crosswalks from."""
    lines = []
    frameworks = packaged()
    width = max(len(f.id) for f in frameworks)
    for framework in frameworks:
        count = len(framework.statements())
        notes = [
            f"{count} {framework.terms.statements} under {len(framework.key_questions)} key "
            "questions"
        ]
        if framework.crosswalk:
            notes.append(f"crosswalk from {', '.join(sorted(framework.crosswalk))}")
        if framework.id == DEFAULT_FRAMEWORK:
            notes.append("the default")
        lines.append(f"{framework.id:<{width}}  {framework.title}")
        lines.append(f"{'':<{width}}  {'; '.join(notes)}")
    return lines


def show_lines(framework: Framework, descriptions: bool = False) -> list[str]:
    """A framework's key questions and statements with their slugs, for choosing slugs."""
    terms = framework.terms
    lines = [
        f"{framework.id}: {framework.title}",
        f"{len(framework.statements())} {terms.statements} under "
        f"{len(framework.key_questions)} key questions. In a record, name them by slug: "
        "quality_statements: [slug, ...]",
    ]
    width = max(len(slug) for slug in framework.statements())
    for kq in framework.key_questions:
        lines += ["", f"{kq.title} ({kq.slug})"]
        for statement in kq.statements:
            lines.append(f"  {statement.slug:<{width}}  {statement.title}")
            if descriptions and statement.description:
                lines.append(f"  {'':<{width}}  {statement.description}")
            if descriptions and statement.phrases:
                words = ", ".join(statement.phrases[:12])
                more = (
                    f" and {len(statement.phrases) - 12} more"
                    if len(statement.phrases) > 12
                    else ""
                )
                lines.append(f"  {'':<{width}}  Import reads: {words}{more}")
    if not any(s.phrases for _kq, s in framework.statements().values()):
        lines += [
            "",
            f"No phrases: `portfolio import` matches only the titles of the {terms.statements} "
            "to guess where a tracker's findings belong.",
        ]
    for other, table in framework.crosswalk.items():
        lines += [
            "",
            f"Slugs of {other} are accepted too: the crosswalk files them under these "
            f"{terms.statements} ({len(table)} mapped; `portfolio framework migrate` "
            "rewrites them).",
        ]
    return lines


# --- migrate -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One record whose ``quality_statements`` the migration rewrites."""

    record: str
    path: Path
    display: str
    line: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    expansions: tuple[tuple[str, ...], ...]  # what each slug written becomes (none: dropped)


@dataclass
class Migration:
    """What moving a portfolio to another framework changes, and how it then files."""

    root: Path
    settings_display: str
    settings_path: Path
    current: Framework
    target: Framework
    portfolio: Portfolio  # the records linked under the target framework
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    used: dict[str, list[str]] = field(default_factory=dict)  # slug written -> record ids

    @property
    def sets_framework(self) -> bool:
        """Whether portfolio.yaml must name the target framework."""
        return self.portfolio.settings.framework != self.target.id

    def lines(self, written: bool = False) -> list[str]:
        """What changes, record by record, as the command line prints it."""
        verb = "" if written else "would "  # "3 records would change" / "3 records changed"
        out: list[str] = []
        if self.sets_framework:
            out.append(
                f"{self.settings_display}: framework: {self.portfolio.settings.framework} -> "
                f"{self.target.id}"
            )
        for change in self.changes:
            out.append(
                f"{change.display}:{change.line}: {change.record}: quality_statements: "
                f"[{', '.join(change.old)}] -> [{', '.join(change.new)}]"
            )
        records = len(self.changes)
        noun = "record" if records == 1 else "records"
        gaps = len(self.empty())
        terms = self.target.terms
        out.append(
            f"{records} {noun} {verb}change{'' if verb else 'd'}; {self.unchanged} already "
            f"name{'s' if self.unchanged == 1 else ''} the {terms.statements} they file under; "
            f"{gaps} {terms.statement if gaps == 1 else terms.statements} "
            f"{'has' if gaps == 1 else 'have'} no evidence."
        )
        if not written and (self.changes or self.sets_framework):
            out.append("Nothing was written: add --write to rewrite the files.")
        return out

    def empty(self) -> list[str]:
        """The target's statements with no evidence filed under them."""
        return [s for s, found in self.portfolio.evidence_by_statement.items() if not found]


def plan_migration(portfolio: Portfolio, target_id: str) -> Migration:
    """Work out, without writing, what moving ``portfolio`` to ``target_id`` changes."""
    settings_display = portfolio.settings_path
    if (portfolio.root / "framework.yaml").is_file():
        raise PortfolioError(
            [
                Problem(
                    f"{portfolio.display_root}/framework.yaml",
                    0,
                    "this portfolio has its own framework.yaml, which replaces every packaged "
                    "framework: rename or remove it before moving to a packaged one",
                )
            ]
        )
    target = read_packaged(target_id)
    if target is None:
        raise PortfolioError([Problem("--to", 0, unknown_framework(target_id))])
    source = portfolio.settings_source
    assert source is not None
    problems = Problems()
    relinked = link(
        portfolio.settings,
        source,
        target,
        portfolio.root,
        portfolio.display_root,
        portfolio.as_of,
        [(c, portfolio.sources[c.id]) for c in portfolio.concerns.values()],
        [(e, portfolio.sources[e.id]) for e in portfolio.evidence.values()],
        [(r, portfolio.sources[r.id]) for r in portfolio.reviews.values()],
        problems,
        None,
        former_titles(target),
    )
    problems.raise_if_any()
    migration = Migration(
        root=portfolio.root,
        settings_display=settings_display,
        settings_path=source.path,
        current=portfolio.framework,
        target=target,
        portfolio=relinked,
    )
    aliases = target.aliases()
    records: list[tuple[str, list[str], list[str]]] = [
        (c.id, c.quality_statements, relinked.statements_of[c.id])
        for c in relinked.concerns.values()
    ]
    records += [
        (e.id, e.quality_statements, relinked.statements_of_evidence[e.id])
        for e in relinked.evidence.values()
        if e.quality_statements
    ]
    for record_id, written, filed in records:
        for slug in written:
            migration.used.setdefault(slug, []).append(record_id)
        if list(written) == filed:
            migration.unchanged += 1
            continue
        emitted: list[str] = []
        expansions = []
        for slug in written:
            new = [s for s in aliases.get(slug, [slug]) if s not in emitted]
            emitted += new
            expansions.append(tuple(new))
        assert emitted == filed, (record_id, emitted, filed)
        where = relinked.where(record_id, "quality_statements")
        migration.changes.append(
            Change(
                record_id,
                relinked.sources[record_id].path,
                where.path,
                where.line,
                tuple(written),
                tuple(filed),
                tuple(expansions),
            )
        )
    migration.changes.sort(key=lambda c: (c.display, natural_key(c.record)))
    return migration


def write_migration(migration: Migration) -> list[Path]:
    """Rewrite the changed records' ``quality_statements`` and portfolio.yaml's ``framework``
    in place; every file is worked out and checked before the first is written."""
    edits: dict[Path, tuple[bytes, list[Change]]] = {}
    for change in migration.changes:
        edits.setdefault(change.path, (change.path.read_bytes(), []))[1].append(change)
    planned: list[tuple[Path, bytes]] = []
    for path, (raw, changes) in edits.items():
        planned.append((path, _rewrite_record(path, raw, changes)))
    if migration.sets_framework:
        raw = migration.settings_path.read_bytes()
        planned.append(
            (migration.settings_path, _set_framework(migration.settings_path, raw, migration))
        )
    for path, data in planned:
        atomic_write(path, data)
    return [path for path, _ in planned]


def _decode(raw: bytes) -> tuple[str, str, str]:
    """The text of a file, the byte-order mark it began with, and its line ending."""
    bom = "\ufeff" if raw.startswith(codecs.BOM_UTF8) else ""
    text = raw.decode("utf-8-sig")
    return text, bom, "\r\n" if "\r\n" in text else "\n"


def _mapping_value(front: str, key: str) -> Node | None:
    try:
        root = YAML().compose(front)
    except YAMLError:  # pragma: no cover - the file was read and validated before
        return None
    if not isinstance(root, MappingNode):
        return None
    for key_node, value_node in root.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            return value_node  # type: ignore[no-any-return]
    return None


def _rewrite_record(path: Path, raw: bytes, changes: list[Change]) -> bytes:
    text, bom, newline = _decode(raw)
    start, end = front_span(path, text)
    front = text[start:end]
    (change,) = changes  # one record per file
    node = _mapping_value(front, "quality_statements")
    if node is None:  # pragma: no cover - the record was validated with the key
        raise AssertionError(f"{path}: no quality_statements")
    flat = list(change.new)
    edits: list[tuple[int, int, str]] = []
    if isinstance(node, SequenceNode) and not node.flow_style:
        for item, new in zip(node.value, change.expansions, strict=True):
            first = item.start_mark.index
            dash = front.rfind("-", 0, first)
            indent = " " * (dash - (front.rfind("\n", 0, dash) + 1))
            if new:
                text_new = new[0] + "".join(f"{newline}{indent}- {s}" for s in new[1:])
                edits.append((first, item.end_mark.index, text_new))
            else:  # every KLOE it files under is named already: drop its line
                line_start = front.rfind("\n", 0, first) + 1
                line_end = front.find("\n", first)
                edits.append((line_start, len(front) if line_end < 0 else line_end + 1, ""))
    elif isinstance(node, ScalarNode) and len(flat) == 1:
        edits.append((node.start_mark.index, node.end_mark.index, flat[0]))
    else:  # a flow list [a, b], or one slug that becomes several
        edits.append((node.start_mark.index, node.end_mark.index, f"[{', '.join(flat)}]"))
    for begin, finish, replacement in sorted(edits, reverse=True):
        front = front[:begin] + replacement + front[finish:]
    _check(path, front, "quality_statements", flat)
    return (bom + text[:start] + front + text[end:]).encode("utf-8")


def _set_framework(path: Path, raw: bytes, migration: Migration) -> bytes:
    text, bom, newline = _decode(raw)
    node = _mapping_value(text, "framework")
    if node is not None:
        text = text[: node.start_mark.index] + migration.target.id + text[node.end_mark.index :]
    else:
        if text and not text.endswith("\n"):
            text += newline
        text += f"framework: {migration.target.id}{newline}"
    _check(path, text, "framework", migration.target.id)
    return (bom + text).encode("utf-8")


def _check(path: Path, front: str, key: str, expected: object) -> None:
    """Read the rewritten YAML back as the build reads it: it must say what was meant."""
    data, _lines = parse_yaml(front.replace("\r\n", "\n"))
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(expected, list) and isinstance(value, str):
        value = [value]
    if value != expected:  # pragma: no cover - a fault of this module, not of the file
        raise AssertionError(f"{path}: rewriting {key} gave {value!r}, not {expected!r}")


# --- the migration report ------------------------------------------------------------------


def report_markdown(migration: Migration) -> str:
    """The migration report in Markdown: where each old statement went, the records under
    each new one, and the ones left with no evidence."""
    p, target, terms = migration.portfolio, migration.target, migration.target.terms
    out = [
        MARKDOWN_START,
        f"# Moving to the {target.title}",
        "",
        f"{p.settings.service} ({p.settings.provider}), as of {p.as_of.isoformat()}: from the "
        f"{migration.current.title} to the {target.title}.",
        "",
    ]
    out += [f"## {terms.statements[:1].upper() + terms.statements[1:]} with no evidence", ""]
    empty = migration.empty()
    if empty:
        out.append(
            f"An inspector asking about these {terms.statements} would find nothing filed. For "
            "each, file evidence you hold (name it in the evidence entry's "
            "quality_statements) or plan how to gather it."
        )
        out.append("")
        out += [f"- {_titled(target, slug)}" for slug in empty]
    else:
        out.append(f"Every {terms.statement} has evidence filed under it.")
    out += ["", "## Where each statement went", ""]
    for old_id, table in target.crosswalk.items():
        out += [
            f"| Written under ({old_id}) | Now filed under | Records written under it |",
            "| --- | --- | --- |",
        ]
        titles = p.former_titles
        for old, new in table.items():
            records = ", ".join(migration.used.get(old, [])) or "none"
            out.append(
                f"| {_md(titles.get(old, old))} (`{old}`) | "
                f"{'; '.join(_md(_titled(target, s)) for s in new)} | {records} |"
            )
        out.append("")
    out += [f"## Records under each {terms.statement}", ""]
    for kq in target.key_questions:
        out += [f"### {kq.title}", ""]
        for statement in kq.statements:
            concerns = p.concerns_by_statement[statement.slug]
            evidence = p.evidence_by_statement[statement.slug]
            out.append(f"- **{_md(statement.title)}** (`{statement.slug}`)")
            listed = ", ".join(f"{c.id} {_md(c.title)}" for c in concerns) or "none"
            out.append(f"  - Concerns: {listed}")
            out.append(
                f"  - Evidence: {len(evidence)} entr{'y' if len(evidence) == 1 else 'ies'}"
                + (f" ({', '.join(e.id for e in evidence)})" if evidence else "")
            )
        out.append("")
    out += ["## Records whose quality_statements change", ""]
    if migration.changes:
        out += [
            f"- `{c.display}` {c.record}: {', '.join(c.old)} → {', '.join(c.new)}"
            for c in migration.changes
        ]
    else:
        out.append("None: every record already names its " + terms.statements + ".")
    return "\n".join(out) + "\n"


def report_html(migration: Migration) -> str:
    """The migration report as one self-contained HTML page."""
    p, target, terms = migration.portfolio, migration.target, migration.target.terms
    e = escape
    plural = terms.statements[:1].upper() + terms.statements[1:]
    parts = [
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="portfolio">',
        f"<title>Moving to the {e(target.title)}: {e(p.settings.service)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.45}table{border-collapse:collapse;width:100%}th,td{text-align:left;"
        "vertical-align:top;border-bottom:1px solid #bbb;padding:.3rem .5rem}"
        "code{font-size:.9em}.gap{color:#8a1c00;font-weight:bold}</style></head><body><main>",
        f"<h1>Moving to the {e(target.title)}</h1>",
        f"<p>{e(p.settings.service)} ({e(p.settings.provider)}), as of "
        f"{p.as_of.isoformat()}: from the {e(migration.current.title)} to the "
        f"{e(target.title)}.</p>",
        f'<h2 id="gaps">{e(plural)} with no evidence</h2>',
    ]
    empty = migration.empty()
    if empty:
        parts.append(
            f"<p>An inspector asking about these {e(terms.statements)} would find nothing "
            "filed. For each, file evidence you hold (name it in the evidence entry's "
            "<code>quality_statements</code>) or plan how to gather it.</p><ul>"
            + "".join(f'<li class="gap">{e(_titled(target, s))}</li>' for s in empty)
            + "</ul>"
        )
    else:
        parts.append(f"<p>Every {e(terms.statement)} has evidence filed under it.</p>")
    parts.append('<h2 id="went">Where each statement went</h2>')
    for old_id, table in target.crosswalk.items():
        rows = "".join(
            f"<tr><td>{e(p.former_titles.get(old, old))} <code>{e(old)}</code></td>"
            f"<td>{'; '.join(e(_titled(target, s)) for s in new)}</td>"
            f"<td>{e(', '.join(migration.used.get(old, [])) or 'none')}</td></tr>"
            for old, new in table.items()
        )
        parts.append(
            f'<table><caption>From {e(old_id)}</caption><thead><tr><th scope="col">Written '
            'under</th><th scope="col">Now filed under</th><th scope="col">Records written '
            f"under it</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    parts.append(f'<h2 id="filed">Records under each {e(terms.statement)}</h2>')
    for kq in target.key_questions:
        parts.append(f"<h3>{e(kq.title)}</h3><ul>")
        for statement in kq.statements:
            concerns = p.concerns_by_statement[statement.slug]
            evidence = p.evidence_by_statement[statement.slug]
            listed = ", ".join(f"{c.id} {c.title}" for c in concerns) or "none"
            count = f"{len(evidence)} entr{'y' if len(evidence) == 1 else 'ies'}"
            ids = f" ({', '.join(x.id for x in evidence)})" if evidence else ""
            parts.append(
                f"<li><strong>{e(statement.title)}</strong> <code>{e(statement.slug)}</code>"
                f"<br>Concerns: {e(listed)}<br>Evidence: {e(count + ids)}</li>"
            )
        parts.append("</ul>")
    parts.append('<h2 id="changes">Records whose quality_statements change</h2>')
    if migration.changes:
        parts.append(
            "<ul>"
            + "".join(
                f"<li><code>{e(c.display)}</code> {e(c.record)}: {e(', '.join(c.old))} → "
                f"{e(', '.join(c.new))}</li>"
                for c in migration.changes
            )
            + "</ul>"
        )
    else:
        parts.append(f"<p>None: every record already names its {e(terms.statements)}.</p>")
    parts.append("</main></body></html>\n")
    return "".join(parts)


def _titled(framework: Framework, slug: str) -> str:
    kq, statement = framework.statements()[slug]
    return f"{statement.title} ({kq.title})"


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
