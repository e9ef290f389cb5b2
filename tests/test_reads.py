"""What a page depends on is what it read while it rendered, nothing kept by hand."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, DictLoader

from generator.check.audience import view
from generator.pipeline import load
from generator.render.reads import ALL, Values
from generator.render.site import PageJob, SiteRenderer
from tests.conftest import SAMPLE

MED = "concerns/MED-01-medicines-records.md"


def renderer_of(root: Path) -> SiteRenderer:
    return SiteRenderer(view(load(root), "internal"))


def job(renderer: SiteRenderer, template: str, path: str | None = None) -> PageJob:
    return next(j for j in renderer.jobs() if j.template == template and path in (None, j.path))


def edit(root: Path, old: str, new: str) -> None:
    file = root / MED
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_template_that_starts_printing_a_field_depends_on_it() -> None:
    renderer = renderer_of(SAMPLE)
    page = job(renderer, "evidence.html")
    before = renderer.render(page).facts
    assert ("concerns", "MED-01") not in before
    # The same page, from a template that also prints a field of a concern it never showed.
    original = renderer.env.loader
    assert original is not None
    source = original.get_source(renderer.env, "evidence.html")[0]
    printing = source.replace("{% endblock %}", '{{ p.concerns["MED-01"].risk }}{% endblock %}', 1)
    renderer.env.loader = ChoiceLoader([DictLoader({"evidence.html": printing}), original])
    after = renderer.render(page).facts
    assert ("concerns", "MED-01") in after
    assert before < after


def test_a_view_worked_out_once_counts_for_every_page_that_uses_it() -> None:
    renderer = renderer_of(SAMPLE)
    roles = [j for j in renderer.jobs() if j.template == "role.html"]
    assert len(roles) >= 2
    facts = [renderer.render(j).facts for j in roles]
    # What each role owns is worked out once, from every record: each role page read them all.
    for read in facts:
        assert {("concerns", ALL), ("evidence", ALL), ("reviews", ALL)} <= read


def test_a_body_is_a_fact_apart_from_the_fields(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    first = renderer_of(root)
    page = job(first, "concern.html", first.page_of("MED-01"))
    facts = first.render(page).facts
    assert {("concerns", "MED-01"), ("body", "MED-01")} <= facts
    values: list[dict[Any, Any]] = [
        {f: Values(first.sources, first.given.portfolio).of(f) for f in facts}
    ]

    edit(root, "section 1.14.", "section 1.14, read again.")  # the body only
    second = renderer_of(root)
    now = Values(second.sources, second.given.portfolio)
    changed = {f for f in facts if now.of(f) != values[0][f]}
    assert changed == {("body", "MED-01")}

    edit(root, "risk: high", "risk: medium")  # a field
    third = renderer_of(root)
    now = Values(third.sources, third.given.portfolio)
    changed = {f for f in facts if now.of(f) != values[0][f]}
    assert ("concerns", "MED-01") in changed and ("body", "MED-01") in changed
