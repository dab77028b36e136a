"""Career tools over the index: roles, facets, compare two roles, a role's profile, match.

Every sentence, bullet item and table row of the corpus is a ``Statement``: attributed to
the role it speaks about (``attribution.unit_subjects``) and filed under the facet its
article's structure gives it (``facets.facet_label``: a labelled paragraph, a heading, a
key–value line), merged across articles by meaning (``facets.merge_labels``). A cell for
one role never quotes a statement about the other. Nothing here is specific to one article.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from roleguide.ask.answer import cite, quoted_units
from roleguide.ask.roles import RoleCatalog
from roleguide.careers.facets import OVERVIEW, facet_key, facet_label, merge_labels
from roleguide.errors import InvalidQuestionError
from roleguide.ingest.chunks import TABLE_HEADER_SEP, Chunk
from roleguide.ingest.structure import cells, plain
from roleguide.models import (
    Cell,
    Citation,
    Comparison,
    FacetRow,
    MatchResult,
    ProfileSection,
    RoleInfo,
    RoleProfile,
)
from roleguide.store.embeddings import embed_texts
from roleguide.store.index import VectorIndex

__all__ = ["MAX_CELL_STATEMENTS", "CareerMap", "Statement", "facet_key"]

MAX_CELL_STATEMENTS = 4  # a comparison cell stays readable; the profile has them all
# a key–value line with no colon: "Median Salary (2019)* $81,409", "Required Education
# Bachelor's degree": the key is the capitalised words before the value
_KEY_WORD = re.compile(r"[A-Z][\w'’/-]*")
# a line that only names where figures come from ("Source: *U.S. Bureau…") says nothing
_SOURCE_LINE = re.compile(r"^\W*sources?\b", re.I)


@dataclass(frozen=True)
class Statement:
    """One sentence (bullet item, table row) of the corpus, the role(s) it speaks about and
    the facet it is filed under."""

    chunk: Chunk
    position: int
    start: int
    end: int
    subject: tuple[str, ...]
    facet: str | None  # the merged facet's label; None for lines that say nothing
    cell: bool = False  # one cell of a table row (the row itself is a statement too)

    @property
    def text(self) -> str:
        return self.chunk.span_text(self.start, self.end)


def _citation(number: int, s: Statement, score: float = 1.0) -> Citation:
    return cite(number, s.chunk, s.start, s.end, score)


def line_key(text: str) -> str:
    """The key of a key–value line without a colon, or ``""`` when it has none.

    >>> line_key("Required Education Bachelor's degree")
    'Required Education'
    >>> line_key("Median Salary (2019)* $81,409")
    'Median Salary'
    """
    words = list(_KEY_WORD.finditer(text))
    run = []
    for m in words:
        if run and text[run[-1].end() : m.start()].strip():
            break
        if not run and m.start() != 0:
            return ""
        run.append(m)
    if not run:
        return ""
    rest = text[run[-1].end() :].lstrip()
    if rest[:1].islower() or rest[:1] in ",;":  # the value starts with the last capital word
        run = run[:-1]
    return text[: run[-1].end()] if len(run) >= 2 else ""


class CareerMap:
    """Who does what, by facet, read once from the index (and again after each ingest)."""

    def __init__(
        self, index: VectorIndex, catalog: RoleCatalog, source_roles: dict[str, list[str]]
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.source_roles = source_roles
        self._lock = threading.Lock()
        self._statements: list[Statement] | None = None

    # -- reading the index ---------------------------------------------------------------
    def statements(self) -> list[Statement]:
        with self._lock:
            if self._statements is None:
                self._statements = self._load()
        return self._statements

    def _label(self, chunk: Chunk, text: str) -> str | None:
        if _SOURCE_LINE.match(text) or text.rstrip().endswith("?"):
            return None
        # a key-value line ("Average Salary (2014) $111,810") names its own facet unless a
        # heading gives one; a one-role article's title as its context gives none
        if chunk.kind == "fragment" and getattr(chunk, "context", "") in ("", chunk.title):
            key = line_key(text)
            if key and not self.catalog.mentions(key):
                return key
        return facet_label(self.catalog, chunk, chunk.title)

    def _load(self) -> list[Statement]:
        chunks = sorted(self.index.iter_records(), key=lambda c: (c.source, c.start))
        raw = []
        for chunk in chunks:
            spans, texts, subjects = quoted_units(
                self.catalog, chunk, self.source_roles.get(chunk.source, ())
            )
            for i, ((a, b), subject, text) in enumerate(zip(spans, subjects, texts, strict=True)):
                found = self._cells(chunk, a, b, subject)
                raw.append((chunk, i, a, b, subject, None if found else self._label(chunk, text)))
                raw += [(chunk, i, *cell, True) for cell in found]
        pairs = [(r[5], r[0].source) for r in raw if r[5]]
        merged = merge_labels(pairs, partial(embed_texts, self.index.embeddings))
        shown = _display_names(pairs, merged)
        return [
            Statement(c, i, a, b, subject, shown[merged[label]] if label else None, *cell)
            for c, i, a, b, subject, label, *cell in raw
        ]

    def _cells(self, chunk: Chunk, a: int, b: int, subject: tuple[str, ...]) -> list:
        """A table row's cells as ``(start, end, subject, facet)``: with roles as columns
        each cell is about its column's role under the row's first cell; with a role per
        row each cell is about the row's role under its column's header."""
        if chunk.kind != "table" or not chunk.context:
            return []
        headers = chunk.context.split(TABLE_HEADER_SEP)
        spans = [
            (x + chunk.start, y + chunk.start)
            for x, y in cells(chunk.text, a - chunk.start, b - chunk.start)
        ]
        if len(spans) != len(headers) or len(spans) < 2:
            return []
        first = chunk.span_text(*spans[0])
        columns = [self.catalog.canonical(h) if self.catalog.mentions(h) else None for h in headers]
        out = []
        for (x, y), header, role in zip(spans[1:], headers[1:], columns[1:], strict=True):
            if x == y:
                continue
            if role and any(columns[1:]) and not self.catalog.mentions(first):
                out.append((x, y, (role,), plain(first)))
            elif len(subject) == 1 and not any(columns[1:]):
                out.append((x, y, subject, header))
        return out

    def resolve(self, name: str) -> str:
        """The canonical role for ``name`` (alias, any case); unknown names list the known."""
        role = self.catalog.canonical(name or "")
        if role is None or not any(role in s.subject for s in self.statements()):
            known = ", ".join(r.name for r in self.roles())
            raise InvalidQuestionError(f"unknown role {name!r}; the corpus covers: {known}")
        return role

    # -- features ------------------------------------------------------------------------
    def roles(self) -> list[RoleInfo]:
        """The roles the corpus speaks about, with aliases and passage counts."""
        passages: dict[str, set[str]] = {}
        sources: dict[str, set[str]] = {}
        for s in self.statements():
            for role in s.subject:
                passages.setdefault(role, set()).add(s.chunk.id)
                sources.setdefault(role, set()).add(s.chunk.source)
        return [
            RoleInfo(
                name=role,
                aliases=tuple(self.catalog.aliases.get(role, ())),
                passages=len(passages[role]),
                sources=tuple(sorted(sources[role])),
            )
            for role in self.catalog.roles
            if role in passages
        ]

    def _about(self, role: str, other: str | None = None) -> list[Statement]:
        """Statements about ``role`` (and not about ``other``: a cell of one role never
        quotes what "both" do), each distinct quote once, in article order."""
        seen: set[str] = set()
        out = []
        for s in self.statements():
            key = " ".join(s.text.split()).casefold()
            if role in s.subject and other not in s.subject and s.facet and key not in seen:
                seen.add(key)
                out.append(s)
        return out

    def _cell(self, found: list[Statement], role: str, other: str) -> list[Statement]:
        """The statements of one cell: from the article that best covers the pair (one
        comparing both, then one about ``role``), in article order."""
        if not found:
            return []

        def rank(source: str) -> tuple:
            covers = self.source_roles.get(source, [])
            return (other not in covers, role not in covers, source)

        best = min((s.chunk.source for s in found), key=rank)
        return [s for s in found if s.chunk.source == best][:MAX_CELL_STATEMENTS]

    def compare(self, first: str, second: str) -> Comparison:
        """One row per facet either role has, each cell the cited statements about that
        role under it; facets both have come first, then those only one has."""
        a, b = self.resolve(first), self.resolve(second)
        if a == b:
            raise InvalidQuestionError(f"pick two different roles to compare (both are {a})")
        by_facet: dict[str, dict[str, list[Statement]]] = {}
        about = {a: self._about(a, b), b: self._about(b, a)}
        together = [s for s in about[a] + about[b] if {a, b} <= self._covers(s)]
        for s in together + about[a] + about[b]:
            by_facet.setdefault(s.facet or "", {a: [], b: []})  # _about keeps filed ones only
        for role in (a, b):
            for s in about[role]:
                by_facet[s.facet or ""][role].append(s)
        shared = [f for f, cells in by_facet.items() if cells[a] and cells[b]]
        order = sorted(by_facet, key=lambda f: (f not in shared, f == OVERVIEW))
        rows, citations = [], []
        for facet in order:
            cells = []
            for role, other in ((a, b), (b, a)):
                picked = self._cell(by_facet[facet][role], role, other)
                cites = []
                for s in picked:
                    cites.append(_citation(len(citations) + 1, s))
                    citations.append(cites[-1])
                cells.append(
                    Cell(role=role, citation=cites[0] if cites else None, more=tuple(cites[1:]))
                )
            rows.append(FacetRow(facet=facet, cells=tuple(cells)))
        note = ""
        if not shared:
            note = f"Nothing to compare: no article states the same facet for {a} and {b}" + (
                f" ({len(rows)} facets only one of them has)." if rows else "."
            )
        return Comparison(roles=(a, b), rows=tuple(rows), citations=tuple(citations), note=note)

    def _covers(self, s: Statement) -> set[str]:
        return set(self.source_roles.get(s.chunk.source, []))

    def related(self, role: str) -> list[str]:
        """Roles an article compares ``role`` with (covers beside it), most articles first."""
        counts: Counter[str] = Counter()
        for roles in self.source_roles.values():
            if role in roles:
                counts.update(r for r in roles if r != role)
        known = {r.name for r in self.roles()}
        return [r for r, _ in counts.most_common() if r in known]

    def profile(self, name: str) -> RoleProfile:
        """Every distinct statement about the role, grouped by facet, cited."""
        role = self.resolve(name)
        groups: dict[str, list[Statement]] = {}
        for s in self._about(role):
            groups.setdefault(s.facet or "", []).append(s)  # _about keeps filed ones only
        order = sorted(groups, key=lambda f: f == OVERVIEW)
        sections, n = [], 0
        for label in order:
            cites = []
            for s in groups[label]:
                n += 1
                cites.append(_citation(n, s))
            sections.append(ProfileSection(facet=label, citations=tuple(cites)))
        return RoleProfile(role=role, sections=tuple(sections), related=tuple(self.related(role)))

    def match(self, interests: Sequence[str]) -> MatchResult:
        """Rank roles by how well the statements about them match ``interests``."""
        from roleguide.careers.matching import match_roles

        return match_roles(self, interests)


def _display_names(pairs: list[tuple[str, str]], merged: dict[str, str]) -> dict[str, str]:
    """The name each merged facet is shown under: the spelling most articles use (then
    the one most units have)."""
    used: dict[str, dict[str, tuple[set[str], list[int]]]] = {}
    for label, source in pairs:
        sources, count = used.setdefault(merged[label], {}).setdefault(label, (set(), [0]))
        sources.add(source)
        count[0] += 1
    return {
        head: max(names, key=lambda x: (len(names[x][0]), names[x][1][0]))
        for head, names in used.items()
    }
