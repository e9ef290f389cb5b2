"""The record model: what FORMAT.md allows, as typed, frozen pydantic models.

These models validate one file at a time (types, required fields, closed sets, dates). Checks
that need the whole portfolio (references, roles, slugs, duplicate ids, attachments) belong to
the linking stage. The model touches no file and knows nothing of rendering.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Visibility = Literal["internal", "inspection", "commissioner", "public"]
VISIBILITY_ORDER: tuple[Visibility, ...] = ("internal", "inspection", "commissioner", "public")
Risk = Literal["low", "medium", "high"]
ConcernStatus = Literal["open", "monitoring", "closed"]
ActionStatus = Literal["planned", "in-progress", "completed", "closed"]
Cadence = Literal["per-shift", "daily", "weekly", "fortnightly", "monthly", "quarterly"]
Direction = Literal["up", "down"]
Nature = Literal["outcome", "activity"]
Source = Literal[
    "inspection",
    "internal-audit",
    "complaint",
    "incident",
    "safeguarding",
    "commissioner",
    "feedback",
    "provider-oversight",
    "other",
]
EvidenceType = Literal[
    "audit",
    "care-records",
    "feedback",
    "survey",
    "complaint",
    "compliment",
    "incident-log",
    "safeguarding-log",
    "observation",
    "supervision",
    "training-record",
    "competency-check",
    "meeting-minutes",
    "rota",
    "policy",
    "other",
]
DecisionKind = Literal["close", "keep-open", "reopen", "extend", "escalate", "note"]
REGULATIONS = (*[str(n) for n in range(9, 21)], "20A")


def _iso_date(value: Any) -> Any:
    """Accept only real dates written as YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not _DATE_RE.match(text):
            raise ValueError(f"{text!r} is not a date: write dates as YYYY-MM-DD, e.g. 2026-03-31")
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a real date: check the day and month") from None
    raise ValueError("expected a date written as YYYY-MM-DD")


def one_or_many(value: Any) -> Any:
    """Let a single id stand where a list of ids is expected."""
    if isinstance(value, str):
        return [value]
    return value


def _empty_role(value: Any) -> Any:
    """A role written with nothing after its colon is a role with no title or person yet."""
    return {} if value is None else value


def _regulation(value: Any) -> str:
    text = str(value).strip().upper()
    if text not in REGULATIONS:
        raise ValueError(
            f"{value!r} is not a regulation of the 2014 Regulations: use 9 to 20 or 20A"
        )
    return text


Day = Annotated[date, BeforeValidator(_iso_date)]
RecordId = Annotated[str, Field(pattern=ID_PATTERN, min_length=1, max_length=80)]
RoleRef = Annotated[str, Field(min_length=1)]
Slug = Annotated[str, Field(min_length=1)]
_ID_SCHEMA = {"type": "string", "pattern": ID_PATTERN, "maxLength": 80}
IdList = Annotated[
    list[RecordId],
    BeforeValidator(one_or_many),
    WithJsonSchema({"anyOf": [_ID_SCHEMA, {"type": "array", "items": _ID_SCHEMA}]}),
]
Regulation = Annotated[str, BeforeValidator(_regulation)]
_REGULATION_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 9, "maximum": 20},
        {"type": "string", "enum": list(REGULATIONS)},
    ]
}


def _word_or_list(item: dict[str, Any]) -> Any:
    """The schema of a field that takes one value or a list of them."""
    return WithJsonSchema({"anyOf": [item, {"type": "array", "items": item}]})


Text = Annotated[str, AfterValidator(lambda s: s.strip())]


class Model(BaseModel):
    """Base of every record model: unknown keys are errors; records are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


# --- portfolio.yaml -------------------------------------------------------------------------


class Role(Model):
    """A role that owns things; ``name`` is the person holding it (missing when vacant)."""

    name: Text | None = None
    title: Text | None = None


class Period(Model):
    """The reporting period shown on covers."""

    from_: Day = Field(alias="from")
    to: Day

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.to < self.from_:
            raise ValueError("the period ends before it starts: 'to' must be on or after 'from'")
        return self


class Rules(Model):
    """Thresholds of the assurance checks (days and counts)."""

    due_soon_days: int = Field(14, ge=0)
    stale_after_days: int = Field(30, ge=1)
    static_after_days: int = Field(60, ge=1)
    max_extensions: int = Field(1, ge=0)
    min_evidence_categories: int = Field(2, ge=1, le=6)
    evidence_max_age_days: int = Field(90, ge=1)
    min_statement_evidence: int = Field(1, ge=1)


class Settings(Model):
    """portfolio.yaml: who the portfolio is for, its as-of date, roles and rule settings."""

    provider: Text
    service: Text
    location_id: Text | None = None
    service_type: Text | None = None
    as_of: Day | None = None
    period: Period | None = None
    default_visibility: Visibility = "inspection"
    audience: Visibility = "inspection"  # who `portfolio build` builds for, unless told
    framework: str = "cqc-saf-2024"
    date_style: Literal["uk", "iso"] = "uk"  # how pages show dates: 31 Jul 2026, or 2026-07-31
    #: How `portfolio import` reads a tracker's 04/05/2026: day first or month first. The first
    #: import that settles it writes it here, so that later imports read the tracker alike.
    tracker_date_order: Literal["dmy", "mdy"] | None = None
    #: The quality statements the portfolio is working on: coverage gaps are found among these
    #: (default: every statement of the framework).
    quality_statements: Annotated[
        list[Slug], BeforeValidator(one_or_many), _word_or_list({"type": "string"})
    ] = []
    roles: dict[
        str,
        Annotated[
            Role,
            BeforeValidator(_empty_role),
            WithJsonSchema(
                {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string", "description": "The person"},
                                "title": {"type": "string", "description": "The job title"},
                            },
                            "additionalProperties": False,
                        },
                        {"type": "null"},
                    ]
                }
            ),
        ],
    ] = Field(min_length=1)
    rules: Rules = Rules()


# --- concerns -------------------------------------------------------------------------------


class Closure(Model):
    """How and on what evidence an action or concern was closed."""

    date: Day
    by: RoleRef
    recorded_in: RecordId | None = None
    evidence: IdList = []
    rationale: Text | None = None


class Extension(Model):
    """A new due date agreed for an action."""

    to: Day
    date: Day | None = None
    agreed_by: RoleRef | None = None
    reason: Text | None = None


class Update(Model):
    """A dated progress note on an action."""

    date: Day
    by: RoleRef | None = None
    note: Text


class Action(Model):
    """An owned, dated step taken to put a concern right."""

    id: RecordId
    title: Text
    owner: RoleRef
    due: Day
    status: ActionStatus = "planned"
    cadence: Cadence | None = None
    records_in: Text | None = None
    evidence_required: Text | None = None
    expected_outcome: Text | None = None
    extensions: list[Extension] = []
    updates: list[Update] = []
    evidence: IdList = []
    closure: Closure | None = None

    @property
    def current_due(self) -> date:
        """The due date in force: the last extension's, else the original."""
        return self.extensions[-1].to if self.extensions else self.due


class Point(Model):
    """A measure's baseline: a dated value."""

    date: Day
    value: float = Field(ge=-1e12, le=1e12)
    evidence: IdList = []
    note: Text | None = None


class Reading(Point):
    """A dated reading of an outcome measure."""


class Target(Model):
    """The value a measure should reach, by when, and for how many consecutive readings."""

    value: float = Field(ge=-1e12, le=1e12)
    by: Day | None = None
    sustain: int = Field(1, ge=1)


class Measure(Model):
    """An outcome measure: how the concern's improvement is known."""

    id: RecordId
    name: Text
    unit: Text | None = None
    #: "up" when higher is better. When not given, it follows from the baseline and the target:
    #: a target below the baseline means lower is better.
    direction: Direction = "up"
    baseline: Point
    target: Target
    readings: list[Reading] = []

    @model_validator(mode="after")
    def _direction_from_target(self) -> Measure:
        if "direction" not in self.model_fields_set:
            inferred = "down" if self.target.value < self.baseline.value else "up"
            object.__setattr__(self, "direction", inferred)  # frozen: set once, here
        return self

    @property
    def direction_contradicts_target(self) -> bool:
        """Whether a direction written in the record points away from the target."""
        if "direction" not in self.model_fields_set:
            return False
        if self.direction == "up":
            return self.target.value < self.baseline.value
        return self.target.value > self.baseline.value


class Concern(Model):
    """One concern followed from its baseline, through actions, to its measured outcome."""

    id: RecordId
    title: Text
    quality_statements: Annotated[
        list[Slug], BeforeValidator(one_or_many), _word_or_list({"type": "string"})
    ] = Field(min_length=1)
    source: Source
    regulation: Annotated[
        list[Regulation], BeforeValidator(one_or_many), _word_or_list(_REGULATION_SCHEMA)
    ] = []
    raised: Day
    raised_by: RoleRef | None = None
    owner: RoleRef
    risk: Risk
    status: ConcernStatus
    visibility: Visibility | None = None
    baseline: Text
    intended_outcome: Text
    measures: list[Measure] = []
    actions: list[Action] = []
    closure: Closure | None = None
    related: IdList = []
    body: SkipJsonSchema[str] = Field("", exclude=True)


# --- evidence and governance ----------------------------------------------------------------


class Evidence(Model):
    """An entry of the evidence register: one source of evidence."""

    id: RecordId
    title: Text
    type: EvidenceType
    category: Slug | None = None
    nature: Nature | None = None
    date: Day
    owner: RoleRef | None = None
    file: Text | None = None
    location: Text | None = None
    visibility: Visibility | None = None
    personal_data: Annotated[bool, Strict()] = False
    summary: Text | None = None
    quality_statements: Annotated[
        list[Slug], BeforeValidator(one_or_many), _word_or_list({"type": "string"})
    ] = []
    body: SkipJsonSchema[str] = Field("", exclude=True)


class Decision(Model):
    """A decision a governance review took about a concern or action."""

    ref: RecordId
    decision: DecisionKind
    rationale: Text | None = None
    to: Day | None = None

    @model_validator(mode="after")
    def _extend_needs_date(self) -> Decision:
        if self.decision == "extend" and self.to is None:
            raise ValueError("an 'extend' decision needs the new date: add 'to: YYYY-MM-DD'")
        return self


class Review(Model):
    """A governance review (a meeting) and the decisions it took."""

    id: RecordId
    title: Text
    date: Day
    forum: Text | None = None
    chair: RoleRef | None = None
    visibility: Visibility | None = None
    attendees: Annotated[
        list[RoleRef], BeforeValidator(one_or_many), _word_or_list({"type": "string"})
    ] = []
    decisions: list[Decision] = []
    body: SkipJsonSchema[str] = Field("", exclude=True)


# --- the framework --------------------------------------------------------------------------


class Statement(Model):
    """A quality statement of the framework."""

    slug: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Text
    description: Text = ""
    #: Words and phrases a tracker uses for findings about this statement (what `portfolio
    #: import` reads to guess the statement of a finding that names none).
    phrases: list[Text] = []


class KeyQuestion(Model):
    """A key question and its quality statements."""

    slug: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Text
    question: Text = ""
    statements: list[Statement] = Field(min_length=1)


class EvidenceCategory(Model):
    """One of the evidence categories (CQC names six)."""

    slug: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Text
    description: Text = ""


class TypeDefaults(Model):
    """The category and nature an evidence type has unless an entry says otherwise."""

    category: str
    nature: Nature


class Terms(Model):
    """What a framework calls its statements, as a reader sees it on pages and reports."""

    statement: Text = "quality statement"
    statements: Text = "quality statements"


_SLUG_SCHEMA = {"type": "string", "pattern": SLUG_PATTERN}
CrosswalkTarget = Annotated[
    list[Annotated[str, Field(pattern=SLUG_PATTERN)]],
    BeforeValidator(one_or_many),
    Field(min_length=1),
    WithJsonSchema(
        {"anyOf": [_SLUG_SCHEMA, {"type": "array", "items": _SLUG_SCHEMA, "minItems": 1}]}
    ),
]


class Framework(Model):
    """A versioned assessment framework: key questions, statements, evidence categories."""

    id: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Text
    terms: Terms = Terms()
    key_questions: list[KeyQuestion] = Field(min_length=1)
    evidence_categories: list[EvidenceCategory] = Field(min_length=1)
    evidence_types: dict[EvidenceType, TypeDefaults]
    # other framework's id -> its slug -> the slug (or slugs) of this framework it files under
    crosswalk: dict[str, dict[str, CrosswalkTarget]] = {}
    #: A regulation (9 to 20A, or another label such as "2009-18") -> the statements a breach
    #: of it points to, for `portfolio import`.
    regulations: dict[str, CrosswalkTarget] = {}

    def statements(self) -> dict[str, tuple[KeyQuestion, Statement]]:
        """Every statement by slug, with its key question."""
        return {s.slug: (kq, s) for kq in self.key_questions for s in kq.statements}

    def aliases(self) -> dict[str, list[str]]:
        """Slugs of other frameworks mapped to this one's, from the crosswalk."""
        return {old: new for table in self.crosswalk.values() for old, new in table.items()}

    def origin(self, slug: str) -> str | None:
        """The framework a crosswalked slug comes from (None for this framework's own)."""
        for other, table in self.crosswalk.items():
            if slug in table:
                return other
        return None
