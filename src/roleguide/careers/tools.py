"""Career tools over the index: roles, facets, compare two roles, a role's profile, match.

Every sentence, bullet item and table row of the corpus is a ``Statement`` (read once, in
``careers.statements``): attributed to the role it speaks about
(``attribution.unit_subjects``) and filed under the facet its article's structure gives it
(``facets.facet_label``: a labelled paragraph, a heading, a key–value line), merged across
articles by meaning (``facets.merge_labels``). A cell for one role never quotes a statement
about the other. Nothing here is specific to one article.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from functools import partial

from roleguide.ask.answer import cite
from roleguide.ask.roles import RoleCatalog
from roleguide.careers.facets import OVERVIEW, facet_key
from roleguide.careers.statements import Statement, Statements, read_statements
from roleguide.errors import InvalidQuestionError
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


def _citation(number: int, s: Statement, score: float = 1.0) -> Citation:
    return cite(number, s.chunk, s.start, s.end, score)


class CareerMap:
    """Who does what, by facet, read once from the index (and again after each ingest)."""

    def __init__(
        self, index: VectorIndex, catalog: RoleCatalog, source_roles: dict[str, list[str]]
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.source_roles = source_roles
        self._lock = threading.Lock()
        self._statements: Statements | None = None

    # -- reading the index ---------------------------------------------------------------
    def statements(self) -> Statements:
        """Every statement of the corpus, in article order (read on first use)."""
        with self._lock:
            if self._statements is None:
                self._statements = read_statements(
                    self.index.iter_records(),
                    self.catalog,
                    self.source_roles,
                    partial(embed_texts, self.index.embeddings),
                )
        return self._statements

    def resolve(self, name: str) -> str:
        """The canonical role for ``name`` (alias, any case); unknown names list the known."""
        role = self.catalog.canonical(name or "")
        if role is None or role not in self.statements().roles:
            known = ", ".join(r.name for r in self.roles())
            raise InvalidQuestionError(f"unknown role {name!r}; the corpus covers: {known}")
        return role

    # -- features ------------------------------------------------------------------------
    def roles(self) -> list[RoleInfo]:
        """The roles the corpus speaks about, with aliases and passage counts."""
        found = self.statements().roles
        return [
            RoleInfo(
                name=role,
                aliases=tuple(self.catalog.aliases.get(role, ())),
                passages=found[role][0],
                sources=found[role][1],
            )
            for role in self.catalog.roles
            if role in found
        ]

    def _about(self, role: str, other: str | None = None) -> list[Statement]:
        """Statements about ``role`` (and not about ``other``: a cell of one role never
        quotes what "both" do), each distinct quote once, in article order."""
        table = self.statements()
        seen: set[str] = set()
        out = []
        for k in table.about(role):  # about role, filed under a facet
            if other in table.subject(k):
                continue
            key = " ".join(table.text(k).split()).casefold()
            if key not in seen:
                seen.add(key)
                out.append(table.statement(k))
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
