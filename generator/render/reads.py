"""What a page read while it rendered: the facts its bytes were made from.

Templates and the fragments of :mod:`generator.render.pages` read a build through *lookups*:
the portfolio's records and indexes, statuses, outcomes, findings and site paths. The renderer
hands them recording copies of these (:class:`Lookup`, :class:`Listing`),
so every read adds a *fact*, ``(lookup, key)``, to the page being rendered; reading a whole
lookup (iterating it, its length) adds ``(lookup, ALL)``. A record's body is a fact of its own,
``("body", id)``, added where a page prints it. Views worked out once and shared by many pages
(:meth:`Reads.remembered`) add what they read to every page that uses them.

A page is a function of its facts' values and of what every page shows (settings, framework,
audience, dates): when each fact has the value it had, the page would render to the same bytes.
:class:`Values` tells a fact's value in one build, so the build cache (generator.cache.pages)
can compare a page's facts with the values they had when it was rendered.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jinja2 import Environment
from pydantic import BaseModel

from generator.digest import content_key
from generator.load.sources import SourceFile
from generator.model import Action, Concern, Evidence, Measure, Review

if TYPE_CHECKING:
    from generator.load.link import Portfolio

#: The key of a fact about a whole lookup (no key of a lookup is a tuple).
ALL: tuple[str] = ("*",)

Fact = tuple[str, Hashable]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")

_MISSING = ("missing",)  # the value of a key a lookup does not have
_AS_THEY_ARE = frozenset({int, float, bool, bytes, type(None)})  # told by themselves
RECORDS = (Concern, Evidence, Review)


class Reads:
    """The facts read by the page being rendered (none are kept outside a page)."""

    __slots__ = ("facts",)

    def __init__(self) -> None:
        self.facts: set[Fact] | None = None

    def add(self, lookup: str, key: Hashable) -> None:
        """Note that the page being rendered read ``key`` of ``lookup``."""
        facts = self.facts
        if facts is not None:
            facts.add((lookup, key))

    @contextmanager
    def page(self) -> Iterator[set[Fact]]:
        """Collect the facts read inside the block; they count for an enclosing block too."""
        outer = self.facts
        found: set[Fact] = set()
        self.facts = found
        try:
            yield found
        finally:
            self.facts = outer
            if outer is not None:
                outer |= found

    def remembered(
        self, memo: dict[Any, tuple[T, frozenset[Fact]]], key: Any, make: Callable[[], T]
    ) -> T:
        """``make()``, worked out once per ``key``: every page that uses it reads what it read."""
        found = memo.get(key)
        if found is None:
            with self.page() as facts:
                value = make()
            found = memo[key] = (value, frozenset(facts))
            return value
        return self.replay(found)

    def replay(self, found: tuple[T, frozenset[Fact]]) -> T:
        """What :meth:`remembered` keeps (a value and what making it read), as a page uses it:
        for callers that look in the memo before they make the function that would fill it."""
        if self.facts is not None:
            self.facts |= found[1]
        return found[0]


class Lookup(dict[K, V]):
    """A dict whose reads are facts of the page being rendered."""

    def __init__(self, name: str, data: Mapping[K, V], reads: Reads) -> None:
        super().__init__(data)
        self.name = name
        self.reads = reads

    def __getitem__(self, key: K) -> V:
        self.reads.add(self.name, key)
        return dict.__getitem__(self, key)

    def get(self, key: K, default: Any = None) -> Any:
        self.reads.add(self.name, key)
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self.reads.add(self.name, key)
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[K]:
        self.reads.add(self.name, ALL)
        return dict.__iter__(self)

    def __len__(self) -> int:
        self.reads.add(self.name, ALL)
        return dict.__len__(self)

    def keys(self) -> Any:
        self.reads.add(self.name, ALL)
        return dict.keys(self)

    def values(self) -> Any:
        self.reads.add(self.name, ALL)
        return dict.values(self)

    def items(self) -> Any:
        self.reads.add(self.name, ALL)
        return dict.items(self)

    def look_up(self, key: Hashable) -> Any:
        """The value of one fact of this lookup, without reading it."""
        if key == ALL:
            return list(dict.items(self))
        try:
            return dict.__getitem__(self, cast(K, key))
        except KeyError:
            return _MISSING


class Listing(list[T]):
    """A list whose reads (all of it, always) are a fact of the page being rendered."""

    def __init__(self, name: str, data: list[T], reads: Reads) -> None:
        super().__init__(data)
        self.name = name
        self.reads = reads

    def __iter__(self) -> Iterator[T]:
        self.reads.add(self.name, ALL)
        return list.__iter__(self)

    def __len__(self) -> int:
        self.reads.add(self.name, ALL)
        return list.__len__(self)

    def __getitem__(self, index: Any) -> Any:
        self.reads.add(self.name, ALL)
        return list.__getitem__(self, index)

    def __reversed__(self) -> Iterator[T]:
        self.reads.add(self.name, ALL)
        return list.__reversed__(self)

    def look_up(self, key: Hashable) -> Any:
        """The whole list (its only fact)."""
        return list(list.__iter__(self))


class Derived:
    """Facts whose value a function tells, where pages note the reads themselves (a record's
    body: see :class:`RecordingEnvironment` and the renderer's ``markdown``)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.look_up = function


Source = Lookup[Any, Any] | Listing[Any] | Derived


class RecordingEnvironment(Environment):
    """A Jinja environment that notes where a template prints a record's body."""

    reads: Reads

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute == "body" and isinstance(obj, RECORDS):
            self.reads.add("body", obj.id)
        return Environment.getattr(self, obj, attribute)


class Values:
    """The value of each fact in one build, as a hash (worked out once per fact)."""

    def __init__(self, sources: Mapping[str, Source], portfolio: Portfolio) -> None:
        self.sources = sources
        self._files: dict[str, SourceFile] = dict(portfolio.sources)
        self._parts: dict[str, BaseModel] = {a.id: c for c, a in dict.values(portfolio.actions)}
        self._parts.update({m.id: c for c, m in dict.values(portfolio.measures)})
        # An audience that does not see some records sees the others' text with their ids
        # replaced (generator.check.audience): its records are told by what they hold.
        self._exact = bool(portfolio.withheld)
        self._fronts: dict[str, Any] = {}
        self._how: dict[type, Callable[[Any], Any]] = {}
        self._memo: dict[Fact, Any] = {}
        # Paths are told by their place in the portfolio, so that a portfolio moved with its
        # output and cache does not render every page again.
        self._root = portfolio.root.resolve()
        self._places = tuple(f"{place}/" for place in {portfolio.display_root, str(self._root)})

    def of(self, fact: Fact) -> Any:
        """A fact's value in this build: plain data, or the hash of it when it is made of
        parts (a whole lookup, a record, a list of findings)."""
        try:
            return self._memo[fact]
        except KeyError:
            pass
        name, key = fact
        source = self.sources.get(name)
        if source is None:  # a lookup this build does not have: never the same
            found: Any = os.urandom(32)
        else:
            found = self.plain(source.look_up(key))
            if type(found) is tuple:  # told by its hash, once, rather than in every page's key
                found = content_key(found)
        self._memo[fact] = found
        return found

    def plain(self, value: Any) -> Any:
        """``value`` as plain data to hash: a record as its id and the hash of its fields."""
        kind = type(value)
        if kind is str:  # the most common, told here rather than through a function
            return self._text(value) if value.startswith(self._places) else value
        if kind in _AS_THEY_ARE:
            return value
        how = self._how.get(kind)
        if how is None:
            how = self._how[kind] = self._how_for(kind)
        return how(value)

    def _how_for(self, kind: type) -> Callable[[Any], Any]:
        """How to tell values of one type by plain data."""
        plain = self.plain
        if issubclass(kind, str):
            return self._text
        if issubclass(kind, list | tuple):
            return lambda value: tuple([plain(item) for item in value])
        if issubclass(kind, RECORDS):
            return lambda record: ("record", record.id, self._front(record))
        if issubclass(kind, Action | Measure):
            return self._part
        if issubclass(kind, SourceFile):
            return lambda source: ("file", source.rel, source.digest)
        if issubclass(kind, dict):
            return lambda value: tuple([(plain(k), plain(v)) for k, v in value.items()])
        if issubclass(kind, Path):
            return self._path
        if issubclass(kind, date):
            return str
        if issubclass(kind, set | frozenset):
            return lambda value: tuple(sorted([repr(plain(item)) for item in value]))
        names: tuple[str, ...] = ()
        if issubclass(kind, BaseModel):
            names = tuple(kind.model_fields)
        elif dataclasses.is_dataclass(kind):
            names = tuple(f.name for f in dataclasses.fields(kind))
        else:  # nothing known to tell it by: never taken as unchanged
            return lambda value: os.urandom(32)
        name = kind.__name__
        return lambda value: (name, *[plain(getattr(value, field)) for field in names])

    def _text(self, value: str) -> str:
        if value.startswith(self._places):
            for place in self._places:
                value = value.replace(place, "<portfolio>/")
        return str(value)

    def _part(self, part: Action | Measure) -> Any:
        owner = self._parts.get(part.id)
        return ("part", part.id, self._front(owner) if owner else part.model_dump_json())

    def _path(self, path: Path) -> str:
        if path.is_relative_to(self._root):
            return path.relative_to(self._root).as_posix()
        return str(path)

    def _front(self, record: Any) -> Any:
        """What a record holds but its body: the hash of its file's fields, or of the fields
        themselves where this audience's view may have changed them."""
        source = self._files.get(record.id)
        if not self._exact and source is not None and source.front_digest:
            return source.front_digest
        found = self._fronts.get(record.id)
        if found is None:
            found = self._fronts[record.id] = content_key(record.model_dump_json(exclude={"body"}))
        return found
