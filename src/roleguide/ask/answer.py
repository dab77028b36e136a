"""Stage 6, answer: pick the sentences that answer the question and cite each one.

The extractive answerer quotes; it never writes a claim of its own. The lead sentence
answers directly (for "who…?" questions it names the role the quoted sentence is about),
then up to two supporting sentences follow. Every quote is a verbatim span of its
source file. When no sentence is close enough to the question, it abstains and shows
the nearest passages as related reading instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from roleguide.ask.attribution import unit_subjects
from roleguide.ask.names import unmentioned_name
from roleguide.ask.paraphrase import (
    PARAPHRASE_COSINE,
    WordSimilarity,
    asks_amount,
    content_words,
    has_amount,
)
from roleguide.ask.query import is_comparison, is_who_question, without_intent
from roleguide.ask.retrieval import Hit
from roleguide.ask.roles import RoleCatalog
from roleguide.cache import LRUCache
from roleguide.ingest.chunks import Chunk
from roleguide.models import Answer, Citation
from roleguide.store.index import VectorIndex
from roleguide.store.lexical import tokenize

__all__ = ["ExtractiveAnswerer", "Scored", "cite", "join_cited", "quote_span", "quoted_units"]

MAX_QUOTE_WORDS = 60
MAX_SENTENCES = 3
EVIDENCE_CANDIDATES = 5  # how far down the ranking supporting evidence is looked for
EVIDENCE_MARGIN = 0.06  # … and how far below the best score it may be
# a sentence this close to the question counts when its passage shares the question's words
PASSAGE_DENSE = 0.60
_WORDS = re.compile(r"\S+")
_NEGATION = re.compile(r"\b(not|never|no longer|n't)\b|n't\b", re.I)
# "What is a COO?", "Who is a buyer?": asks what a title is, not what it does
_DEFINITION = re.compile(
    r"^\s*(what|who)(\s+is|\s+are|['’]s)\s+(an?\s+|the\s+)?[^,;]{1,80}\??\s*$", re.I
)
_GENERIC_TOKENS = frozenset(tokenize(["role roles job jobs manager managers position"])[0])


@dataclass(frozen=True)
class Scored:
    """A candidate sentence: where it is, what it is about and how well it answers."""

    chunk: Chunk
    rank: int
    position: int
    start: int
    end: int
    subject: tuple[str, ...]
    score: float
    dense: float
    overlap: float

    @property
    def text(self) -> str:
        return self.chunk.span_text(self.start, self.end)


@dataclass(frozen=True)
class _ChunkInfo:
    spans: tuple[tuple[int, int], ...]
    subjects: tuple[tuple[str, ...], ...]
    tokens: tuple[frozenset[str], ...]
    section: frozenset[str]
    negated: tuple[bool, ...]
    pairs: tuple[frozenset[tuple[str, str]], ...]


def cite(number: int, chunk: Chunk, start: int, end: int, score: float) -> Citation:
    """The citation of ``chunk``'s text between ``start`` and ``end`` (source offsets)."""
    return Citation(
        number=number,
        source=chunk.source,
        title=chunk.title,
        section=chunk.section,
        quote=chunk.span_text(start, end),
        start=start,
        end=end,
        score=round(min(1.0, max(0.0, score)), 4),
        chunk_id=chunk.id,
        passage=chunk.text,
        passage_start=chunk.start,
    )


def join_cited(parts: list[tuple[str, int, str]]) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    """Join (text, citation number, trailing text) parts into an answer text, recording
    where each "[n]" marker is, so a "[1]" quoted from an article is never taken for one."""
    text, markers = "", []
    for body, number, tail in parts:
        if text:
            text += " "
        text += body + " " if body else ""
        start = len(text)
        text += f"[{number}]"
        markers.append((start, len(text), number))
        text += tail
    return text, tuple(markers)


def _pairs(tokens: list[str]) -> frozenset[tuple[str, str]]:
    """Adjacent content-word pairs: matching phrases rank above scattered words."""
    return frozenset(itertools.pairwise(tokens))


def quote_span(chunk: Chunk, position: int) -> tuple[int, int]:
    """The sentence's span without a leading facet label ("Budget Control: ")."""
    start, end = chunk.sentences[position]
    sentence = chunk.sentence_text(position)
    if position == 0 and chunk.kind == "facet" and sentence.startswith(chunk.section + ":"):
        label = len(chunk.section) + 1
        while label < len(sentence) and sentence[label].isspace():
            label += 1
        if label < len(sentence):
            start += label
    # a span of more than MAX_QUOTE_WORDS words is at least 2 * MAX_QUOTE_WORDS + 1 long
    if end - start >= 2 * MAX_QUOTE_WORDS + 1:
        words = _WORDS.finditer(chunk.span_text(start, end))
        last = next(itertools.islice(words, MAX_QUOTE_WORDS - 1, None), None)
        if last is not None and next(words, None) is not None:
            end = start + last.end()
    return start, end


def quoted_units(
    catalog: RoleCatalog, chunk: Chunk, article_roles: Sequence[str]
) -> tuple[list[tuple[int, int]], list[str], list[tuple[str, ...]]]:
    """Each sentence of ``chunk`` as quoted (``quote_span``): its span, its text and the
    role(s) it is about. The answerer and the career tools read chunks the same way."""
    spans = [quote_span(chunk, i) for i in range(len(chunk.sentences))]
    texts = [chunk.span_text(a, b) for a, b in spans]
    return spans, texts, unit_subjects(catalog, chunk, texts, article_roles)


class ExtractiveAnswerer:
    """Turns retrieved chunks into a cited ``Answer`` by quoting their best sentences."""

    def __init__(
        self,
        index: VectorIndex,
        catalog: RoleCatalog,
        min_support: float,
        source_roles: dict[str, list[str]],
    ) -> None:
        self.index = index
        self.catalog = catalog
        self.min_support = min_support
        self.source_roles = source_roles
        self._info: LRUCache[str, _ChunkInfo] = LRUCache(50_000)
        self.words = WordSimilarity(index.embeddings)

    # -- sentence scoring ---------------------------------------------------------------
    def analyse(self, chunk: Chunk) -> _ChunkInfo:
        """Quote spans, subjects and tokens of a chunk's sentences (cached: ids are immutable)."""
        info = self._info.get(chunk.id)
        if info is not None:
            return info
        spans, texts, subjects = quoted_units(
            self.catalog, chunk, self.source_roles.get(chunk.source, ())
        )
        label = tokenize([chunk.section])[0] if chunk.kind == "facet" else []
        tokens, pairs = [], []
        for sentence in texts:
            words = tokenize([sentence])[0]
            tokens.append(frozenset(words))
            pairs.append(_pairs(label + words))
        # the headings a unit sits under count (half) towards the words it shares with a
        # question: "KPIs" under "Performance Measurement and KPIs"
        section = frozenset(tokenize([f"{chunk.section} {getattr(chunk, 'context', '')}"])[0])
        negated = tuple(bool(_NEGATION.search(chunk.span_text(a, b))) for a, b in spans)
        info = _ChunkInfo(
            tuple(spans), tuple(subjects), tuple(tokens), section, negated, tuple(pairs)
        )
        self._info.put(chunk.id, info)
        return info

    def topic_tokens(self, query: str) -> set[str]:
        """The query's content words, without role names and question words."""
        for m in reversed(self.catalog.mentions(query)):
            query = query[: m.start] + " " + query[m.end :]
        return set(tokenize([query])[0]) - _GENERIC_TOKENS

    def score(self, query: str, query_vector: list[float], hits: list[Hit]) -> list[Scored]:
        """Every sentence of the retrieved chunks, best first."""
        vectors = self.index.sentence_vectors([h.chunk for h in hits])
        q = np.asarray(query_vector, dtype=np.float32)
        topic = self.topic_tokens(query)
        pairs = _pairs(tokenize([query])[0])
        named = set(self.catalog.roles_in(query))
        who = is_who_question(query)
        comparison = is_comparison(query) or len(named) > 1
        out: list[Scored] = []
        for rank, hit in enumerate(hits):
            chunk = hit.chunk
            info = self.analyse(chunk)
            dense = vectors[chunk.id] @ q
            for i, (start, end) in enumerate(info.spans):
                words = info.tokens[i]
                overlap = (
                    (len(topic & words) + 0.5 * len(topic & (info.section - words))) / len(topic)
                    if topic
                    else 0.0
                )
                phrase = len(pairs & info.pairs[i]) / len(pairs) if pairs else 0.0
                value = (
                    0.8 * float(dense[i])
                    + 0.2 * overlap
                    + 0.1 * phrase
                    + 0.03 * (1 - rank / len(hits))
                )
                subject = info.subjects[i]
                if named and not who and subject:
                    if named & set(subject):
                        value += 0.08
                    elif not comparison:
                        value -= 0.10
                if who and subject:
                    value += 0.04
                    if info.negated[i]:
                        value -= 0.08  # "… do not typically oversee X" does not answer "who does X"
                out.append(
                    Scored(chunk, rank, i, start, end, subject, value, float(dense[i]), overlap)
                )
        out.sort(key=lambda s: -s.score)
        return out

    def supports(self, query: str, best: Scored) -> bool:
        """Whether a sentence is evidence enough to answer (else: abstain).

        Calibrated on evals/questions.yaml: the sentence must score ``min_support``, and
        when the question has content words beyond role names (and beyond what
        ``expand_intent`` added), the sentence or its headings must share one of them
        unless it is a very close paraphrase (cosine >= 0.75).
        """
        if best.score < self.min_support:
            return False
        asked = without_intent(query)
        if not self.topic_tokens(asked) or best.overlap > 0 or best.dense >= 0.75:
            return True
        if asks_amount(asked) and has_amount(best.text):
            return True  # an amount answers "how much", whatever words it uses
        if best.dense >= PASSAGE_DENSE and self.topic_tokens(asked) & self.passage_tokens(best):
            return True  # "the metrics are often more specialized" after "…a variety of KPIs"
        said = f"{best.text} {best.chunk.section} {getattr(best.chunk, 'context', '')}"
        return self.words.closest(self.topic_words(asked), content_words(said)) >= (
            PARAPHRASE_COSINE
        )

    def passage_tokens(self, s: Scored) -> frozenset[str]:
        """Every content word of the passage a candidate sentence belongs to."""
        return frozenset().union(*self.analyse(s.chunk).tokens)

    def topic_words(self, query: str) -> set[str]:
        """The query's content words as written (for the paraphrase check)."""
        for m in reversed(self.catalog.mentions(query)):
            query = query[: m.start] + " " + query[m.end :]
        return {w for w in content_words(query) if not set(tokenize([w])[0]) <= _GENERIC_TOKENS}

    def evidence(self, query: str, candidates: list[Scored]) -> Scored | None:
        """The best-scoring of the top candidates that supports an answer, if any.

        Not the first alone: a close second that shares the question's words (its
        paraphrase ranked first) is evidence too; one far below the first is not.
        """
        if not candidates:
            return None
        top = candidates[0].score
        for s in candidates[:EVIDENCE_CANDIDATES]:
            if s.score < top - EVIDENCE_MARGIN:
                break
            if self.supports(query, s):
                return s
        return None

    # -- composing ----------------------------------------------------------------------
    def citation(self, number: int, s: Scored) -> Citation:
        return cite(number, s.chunk, s.start, s.end, s.score)

    def _related(self, scored: list[Scored], n: int = 3) -> tuple[Citation, ...]:
        seen: set[str] = set()
        picks = []
        for s in scored:
            if s.chunk.id not in seen:
                seen.add(s.chunk.id)
                picks.append(s)
            if len(picks) == n:
                break
        return tuple(self.citation(i, s) for i, s in enumerate(picks, start=1))

    def abstain(self, question: str, query: str, scored: list[Scored], reason: str) -> Answer:
        text = f"The articles don't cover this. {reason}".strip()
        return Answer(
            question=question,
            query=query,
            text=text,
            abstained=True,
            related=self._related(scored),
        )

    def _supporting(self, lead: Scored, scored: list[Scored], contrast: bool) -> list[Scored]:
        picks: list[Scored] = []
        floor = max(self.min_support - 0.05, lead.score - 0.15)
        if contrast:
            for s in scored:
                same_chunk = s.chunk.id == lead.chunk.id and s.position != lead.position
                if same_chunk and s.subject and s.subject != lead.subject:
                    if s.score >= self.min_support - 0.15:
                        picks.append(s)
                    break
        for s in scored:
            if len(picks) >= MAX_SENTENCES - 1:
                break
            taken = [lead, *picks]
            if s.score < floor or any(s.text == t.text for t in taken):
                continue
            if any(s.chunk.id == t.chunk.id and s.position == t.position for t in taken):
                continue
            picks.append(s)
        return picks

    def compose(
        self, question: str, query: str, query_vector: list[float], hits: list[Hit]
    ) -> Answer:
        """The answer for ``query`` from ``hits`` (already retrieved)."""
        unknown = self.catalog.unknown_roles(query)
        named = self.catalog.roles_in(query)
        scored = self.score(query, query_vector, hits) if hits else []
        covered = ", ".join(self.catalog.roles) or "no roles yet"
        if unknown and not named:
            return self.abstain(
                question,
                query,
                scored,
                f"They cover {covered}; they say nothing about the {unknown[0]} role.",
            )
        passing = self.catalog.passing_roles(query)
        if passing and not named and not _DEFINITION.match(query):
            return self.abstain(
                question,
                query,
                scored,
                f"They mention the {passing[0]} only in passing; they cover {covered}.",
            )
        stranger = unmentioned_name(self.catalog, question, [h.chunk for h in hits])
        if stranger is not None:
            return self.abstain(
                question, query, scored, f"The passages closest to it never mention {stranger}."
            )
        who = is_who_question(query)
        comparison = is_comparison(query) or len(named) > 1
        candidates = scored
        if len(named) == 1 and not who and not comparison:
            candidates = [s for s in scored if not s.subject or named[0] in s.subject]
        lead = self.evidence(query, candidates)
        if lead is None:
            detail = ""
            if len(named) == 1 and self.evidence(query, scored) is not None:
                detail = f"They don't say this about the {named[0]}."
            return self.abstain(question, query, scored, detail)
        if who and not lead.subject:
            with_role = [s for s in candidates if s.subject and s.score >= lead.score - 0.05]
            lead = with_role[0] if with_role else lead
        picks = [lead, *self._supporting(lead, candidates, who or comparison)]
        citations = [self.citation(n, s) for n, s in enumerate(picks, start=1)]
        lead_role = None
        parts = []
        for n, s in enumerate(picks, start=1):
            quote = f"“{s.text}{'…' if s.end < s.chunk.sentences[s.position][1] else ''}”"
            if n == 1 and who and s.subject and not set(s.subject) & set(named):
                lead_role = " and ".join(s.subject)
                names = " and the ".join(s.subject)
                quote = f"{'Both the' if len(s.subject) > 1 else 'The'} {names} — {quote}"
            elif n == 1 and s.subject:
                lead_role = s.subject[0]
            parts.append((quote, n, ""))
        text, markers = join_cited(parts)
        return Answer(
            question=question,
            query=query,
            text=text,
            citations=tuple(citations),
            lead_role=lead_role,
            markers=markers,
        )
