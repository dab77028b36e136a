"""Which role fits me: interests matched against every statement about each role.

Each interest is embedded once and compared with the stored sentence vectors (sentences,
bullet items and table rows alike, each embedded with its headings); a role's best
statement for an interest is its evidence. An interest counts as matched when that
statement is at least ``MATCH_SIMILARITY`` alike. Roles rank by how many interests they
match, then by the mean similarity, and say so in words: "2 of your 3 interests matched,
strongest: …".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from roleguide.ask.answer import cite
from roleguide.errors import InvalidQuestionError
from roleguide.ingest.structure import plain
from roleguide.models import InterestHit, MatchResult, RoleMatch
from roleguide.store.lexical import tokenize

if TYPE_CHECKING:
    from roleguide.careers.statements import Statement
    from roleguide.careers.tools import CareerMap

__all__ = ["MATCH_SIMILARITY", "MAX_INTERESTS", "MAX_INTEREST_CHARS", "match_roles"]

MAX_INTERESTS = 10
MAX_INTEREST_CHARS = 200
MATCH_SIMILARITY = 0.4
"""Similarity (cosine, plus a small bonus for shared words) at which a statement counts as
matching an interest: below it the best statement is shown as the nearest, not a match."""
_CANDIDATES = 80
_WORD_BONUS = 0.15


def _clean(interests: Sequence[str] | str) -> list[str]:
    if isinstance(interests, str):
        interests = [interests]
    cleaned = list(dict.fromkeys(" ".join(str(i).split()) for i in interests if str(i).strip()))
    if not cleaned:
        raise InvalidQuestionError("name at least one task or interest, e.g. 'contract law'")
    if len(cleaned) > MAX_INTERESTS or any(len(i) > MAX_INTEREST_CHARS for i in cleaned):
        raise InvalidQuestionError(
            f"give at most {MAX_INTERESTS} interests of {MAX_INTEREST_CHARS} characters each"
        )
    return cleaned


def _short(text: str, limit: int = 90) -> str:
    text = plain(text)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def match_roles(careers: CareerMap, interests: Sequence[str] | str) -> MatchResult:
    """Roles ranked by how many of ``interests`` the statements about them match."""
    cleaned = _clean(interests)
    statements = careers.statements()
    best: dict[str, dict[str, tuple[float, Statement]]] = {}
    for interest in cleaned:
        vector = careers.index.embeddings.embed_query(interest)
        topic = set(tokenize([interest])[0])
        for hit in careers.index.nearest_sentences(vector, _CANDIDATES):
            s = statements.unit(hit.chunk_id, hit.position)
            if s is None or s.text.rstrip().endswith("?"):
                continue
            overlap = len(topic & set(tokenize([s.text])[0])) / max(1, len(topic))
            score = (1.0 - hit.distance) + _WORD_BONUS * overlap
            for role in s.subject:
                mine = best.setdefault(role, {})
                if interest not in mine or score > mine[interest][0]:
                    mine[interest] = (score, s)
    ranked = [_role_match(info.name, cleaned, best.get(info.name, {})) for info in careers.roles()]
    ranked.sort(key=lambda m: (-m.matched, -m.score, m.role))
    return MatchResult(interests=tuple(cleaned), matches=tuple(ranked))


def _role_match(
    role: str, interests: list[str], found: dict[str, tuple[float, Statement]]
) -> RoleMatch:
    hits, evidence, quotes = [], [], {}
    for interest in interests:
        if interest not in found:
            hits.append(InterestHit(interest=interest))
            continue
        score, s = found[interest]
        key = " ".join(s.text.split()).casefold()
        if key not in quotes:  # one statement matching two interests is cited once
            quotes[key] = cite(len(evidence) + 1, s.chunk, s.start, s.end, round(score, 4))
            evidence.append(quotes[key])
        matched = score >= MATCH_SIMILARITY
        hits.append(
            InterestHit(
                interest=interest,
                citation=quotes[key],
                similarity=round(score, 4),
                matched=matched,
            )
        )
    matched = [h for h in hits if h.matched]
    mean = sum(h.similarity for h in hits) / len(interests)
    if matched:
        top = max(matched, key=lambda h: h.similarity)
        summary = (
            f"{len(matched)} of your {len(interests)} interests matched, strongest: "
            f"“{top.interest}” — “{_short(top.citation.quote)}”"
        )
    else:
        summary = f"none of your {len(interests)} interests matched closely"
    if len(interests) == 1:
        summary = summary.replace("1 of your 1 interests matched", "your interest matched")
        summary = summary.replace("none of your 1 interests", "your interest")
    return RoleMatch(
        role=role,
        score=round(mean, 4),
        evidence=tuple(evidence),
        matched=len(matched),
        hits=tuple(hits),
        summary=summary,
    )
