"""Career tools over the index: roles, facets, compare two roles, a role's profile, match.

Facets are the articles' own labels ("Budget Control:", "Skill Set:"), merged across
articles when they differ only in plural or punctuation. Every sentence of a facet
paragraph is attributed to the role it speaks about (``RoleCatalog.subjects``), so a
cell for one role never quotes a sentence about the other. Nothing here is specific to
the four bundled articles.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .answer import cite, quote_span
from .attribution import unit_subjects
from .errors import InvalidQuestionError
from .index import ChunkRecord, VectorIndex
from .lexical import tokenize
from .models import (
    Cell,
    Citation,
    Comparison,
    FacetRow,
    MatchResult,
    ProfileSection,
    RoleInfo,
    RoleMatch,
    RoleProfile,
)
from .roles import RoleCatalog

__all__ = ["CareerMap", "Statement", "facet_key"]

MAX_INTERESTS = 10
MAX_INTEREST_CHARS = 200


def facet_key(label: str) -> str:
    """Merge key for facet labels: case, punctuation, plurals and little words ignored.

    >>> facet_key("Scope of Responsibilities") == facet_key("Scope of Responsibility")
    True
    >>> facet_key("Strategic vs. Tactical")
    'strategic tactical'
    """
    words = re.findall(r"[a-z0-9]+", label.casefold())
    keep = [w for w in words if w not in {"of", "the", "and", "vs", "versus", "in", "a", "an"}]
    stems = []
    for w in keep:
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        stems.append(w)
    return " ".join(stems)


@dataclass(frozen=True)
class Statement:
    """One sentence of the corpus and the role(s) it speaks about."""

    chunk: ChunkRecord
    position: int
    start: int
    end: int
    subject: tuple[str, ...]
    facet: str | None  # facet key for facet paragraphs, else None

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


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
        self._statements: list[Statement] | None = None
        self._labels: dict[str, str] = {}

    # -- reading the index ---------------------------------------------------------------
    def statements(self) -> list[Statement]:
        with self._lock:
            if self._statements is None:
                self._statements = self._load()
        return self._statements

    def _load(self) -> list[Statement]:
        chunks = sorted(self.index.iter_records(), key=lambda c: (c.source, c.start))
        labels: dict[str, Counter] = {}
        out = []
        for chunk in chunks:
            key = facet_key(chunk.section) if chunk.kind == "facet" else None
            if key:
                labels.setdefault(key, Counter())[chunk.section] += 1
            spans = [quote_span(chunk, i) for i in range(len(chunk.sentences))]
            texts = [chunk.text[a - chunk.start : b - chunk.start] for a, b in spans]
            subjects = unit_subjects(
                self.catalog, chunk, texts, self.source_roles.get(chunk.source, ())
            )
            for i, ((a, b), subject) in enumerate(zip(spans, subjects, strict=True)):
                out.append(Statement(chunk, i, a, b, subject, key))
        self._labels = {k: c.most_common(1)[0][0] for k, c in labels.items()}
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

    def _best(self, role: str, key: str, other: str) -> Statement | None:
        """The first sentence about ``role`` alone in a ``key`` facet paragraph, preferring
        articles that compare it with ``other``, then any article about ``role``."""
        found = [s for s in self.statements() if s.facet == key and s.subject == (role,)]
        if not found:
            return None

        def rank(s: Statement) -> tuple:
            covers = self.source_roles.get(s.chunk.source, [])
            return (other not in covers, role not in covers, s.chunk.source, s.start)

        return min(found, key=rank)

    def compare(self, first: str, second: str) -> Comparison:
        """One row per facet either role has, one cited quote per role (or none stated)."""
        a, b = self.resolve(first), self.resolve(second)
        if a == b:
            raise InvalidQuestionError(f"pick two different roles to compare (both are {a})")
        order: list[str] = []
        both = [
            s
            for s in self.statements()
            if s.facet and {a, b} <= set(self.source_roles.get(s.chunk.source, []))
        ]
        rest = [s for s in self.statements() if s.facet]
        for s in both + rest:
            if s.facet not in order and (s.subject in ((a,), (b,))):
                order.append(s.facet)
        rows, citations = [], []
        for key in order:
            cells = []
            for role, other in ((a, b), (b, a)):
                best = self._best(role, key, other)
                if best is None:
                    cells.append(Cell(role=role))
                    continue
                citation = _citation(len(citations) + 1, best)
                citations.append(citation)
                cells.append(Cell(role=role, citation=citation))
            rows.append(FacetRow(facet=self._labels.get(key, key), cells=tuple(cells)))
        return Comparison(roles=(a, b), rows=tuple(rows), citations=tuple(citations))

    def profile(self, name: str) -> RoleProfile:
        """Every sentence about the role, grouped by facet (or section), cited."""
        role = self.resolve(name)
        groups: dict[str, list[Statement]] = {}
        for s in self.statements():
            if role in s.subject and len(s.subject) == 1:
                label = self._labels.get(s.facet, s.chunk.section) if s.facet else s.chunk.section
                groups.setdefault(label, []).append(s)
        sections, n = [], 0
        for label, found in groups.items():
            cites = []
            for s in found:
                n += 1
                cites.append(_citation(n, s))
            sections.append(ProfileSection(facet=label, citations=tuple(cites)))
        return RoleProfile(role=role, sections=tuple(sections))

    def match(self, interests: Sequence[str], per_role: int = 2) -> MatchResult:
        """Rank roles by how well the articles' statements about them match ``interests``."""
        if isinstance(interests, str):
            interests = [interests]
        cleaned = [" ".join(str(i).split()) for i in interests if str(i).strip()]
        if not cleaned:
            raise InvalidQuestionError("name at least one task or interest, e.g. 'contract law'")
        if len(cleaned) > MAX_INTERESTS or any(len(i) > MAX_INTEREST_CHARS for i in cleaned):
            raise InvalidQuestionError(
                f"give at most {MAX_INTERESTS} interests of {MAX_INTEREST_CHARS} characters each"
            )
        by_sentence = {
            (s.chunk.id, s.position): s for s in self.statements() if len(s.subject) == 1
        }
        store = self.index.dense_store()
        totals: dict[str, float] = {}
        evidence: dict[str, list[tuple[float, Statement]]] = {}
        for interest in cleaned:
            vector = self.index.embeddings.embed_query(interest)
            topic = set(tokenize([interest])[0])
            best: dict[str, tuple[float, Statement]] = {}
            for doc, distance in store.similarity_search_by_vector_with_relevance_scores(
                vector, k=60
            ):
                s = by_sentence.get((doc.metadata["chunk_id"], int(doc.metadata["position"])))
                if s is None:
                    continue
                overlap = len(topic & set(tokenize([s.text])[0])) / max(1, len(topic))
                score = (1.0 - float(distance)) + 0.15 * overlap
                role = s.subject[0]
                if role not in best or score > best[role][0]:
                    best[role] = (score, s)
            for role, (score, s) in best.items():
                totals[role] = totals.get(role, 0.0) + score
                evidence.setdefault(role, []).append((score, s))
        ranked = []
        for info in self.roles():
            score = totals.get(info.name, 0.0) / len(cleaned)
            picks = sorted(evidence.get(info.name, []), key=lambda p: -p[0])[:per_role]
            cites = tuple(_citation(i, s, sc) for i, (sc, s) in enumerate(picks, start=1))
            ranked.append(RoleMatch(role=info.name, score=round(score, 4), evidence=cites))
        ranked.sort(key=lambda m: -m.score)
        return MatchResult(interests=tuple(cleaned), matches=tuple(ranked))
