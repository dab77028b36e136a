"""Stage 6b (optional): fluent answers from a LangChain chat model, checked against the
passages before anyone sees them, with the extractive answer as the safety net.

``ROLEGUIDE_LLM=openai:<model>`` (``ROLEGUIDE_LLM_BASE_URL`` for any OpenAI-compatible
server, key from ``OPENAI_API_KEY``) or ``ollama:<model>``; ``pip install roleguide[llm]``.

The model sees the retrieved passages numbered, inside a data block it is told never to
obey, and must end every sentence with the ``[n]`` of its passage. Then deterministic
code checks each sentence: the ``[n]`` must exist and the passage must support the
sentence (embedding similarity to its best sentence plus word overlap, over a threshold
calibrated in tests/test_llm.py) and the sentence must claim nothing the passage does not:
no flipped negation, stronger quantifier, new number, added words or swapped role
(``claims``, measured on tests/data/llm_claims.yaml). Unsupported sentences are dropped
and the answer says so; if too little survives, or the model cannot be reached in time,
the extractive answer is returned instead, with a note.

The prompts are in ``prompts``; loading the model and bounding its calls, in ``chat``.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from roleguide.ask.answer import ExtractiveAnswerer, Scored, join_cited, quote_span
from roleguide.ask.chat import MAX_REPLY_CHARS, MAX_TOKENS, load_chat_model, stream_reply
from roleguide.ask.claims import claim_problems
from roleguide.ask.prompts import answer_messages
from roleguide.ask.retrieval import Hit
from roleguide.cache import LRUCache
from roleguide.models import Answer, Citation
from roleguide.store.lexical import tokenize

__all__ = [
    "MAX_REPLY_CHARS",
    "MAX_TOKENS",
    "SUPPORT_THRESHOLD",
    "LLMAnswerer",
    "load_chat_model",
]

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

SUPPORT_THRESHOLD = 0.5
MIN_KEPT_SHARE = 0.5
_BOUNDARY = re.compile(r"(?<=[.!?\]])\s+(?=[A-Z“\"(])")
_MARKERS = re.compile(r"\s*((?:\[\d+\]\s*)+)([.!?]?)\s*$")


def _ends_cited(text: str) -> bool:
    """True when ``text`` ends with a ``[n]`` marker (and maybe a full stop)."""
    text = text.rstrip()
    if text[-1:] in (".", "!", "?"):
        text = text[:-1].rstrip()
    return text.endswith("]")


@dataclass
class _Checked:
    sentence: str
    passage: int
    support: float
    best: Scored | None
    problems: tuple[str, ...] = ()


class LLMAnswerer:
    """Generates with ``model``, verifies every sentence, falls back to ``extractive``."""

    def __init__(
        self,
        model: BaseChatModel,
        extractive: ExtractiveAnswerer,
        label: str = "",
        timeout: float = 20.0,
    ) -> None:
        self.model = model
        self.extractive = extractive
        self.label = label or type(model).__name__
        self.timeout = timeout
        self._word_vectors: LRUCache[str, np.ndarray] = LRUCache(50_000)

    # -- verification ---------------------------------------------------------------------
    def _split(self, text: str) -> list[tuple[str, list[int]]]:
        """Sentences of the generated text with the passage numbers each one ends with."""
        pieces = _BOUNDARY.split(text.strip())
        out = []
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            match = _MARKERS.search(piece)
            if match is None:
                out.append((piece, []))
                continue
            numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
            out.append((piece[: match.start()].strip() + match.group(2), numbers))
        return out

    def check(self, sentence: str, passage: int, hits: list[Hit]) -> _Checked:
        """How well passage ``passage`` (1-based) supports ``sentence``; 0 if it is missing."""
        if not 1 <= passage <= len(hits):
            return _Checked(sentence, passage, 0.0, None)
        chunk = hits[passage - 1].chunk
        vector = np.asarray(self.extractive.index.embeddings.embed_query(sentence), np.float32)
        sims = self.extractive.index.sentence_vectors([chunk])[chunk.id] @ vector
        best = int(np.argmax(sims))
        words = set(tokenize([sentence])[0])
        a, b = quote_span(chunk, best)
        passage_words = set(tokenize([chunk.text])[0])
        overlap = len(words & passage_words) / max(1, len(words))
        support = 0.6 * float(sims[best]) + 0.4 * overlap
        # A sentence about another role than its passage's sentence is not supported by it,
        # however similar the wording ("The Fleet Manager handles customs compliance").
        catalog = self.extractive.catalog
        own = catalog.subjects([sentence])[0]
        theirs = self.extractive.analyse(chunk).subjects[best]
        strangers = [r for r in catalog.unknown_roles(sentence) if r not in chunk.text.lower()]
        if strangers or (own and theirs and not set(own) & set(theirs)):
            support = 0.0
        problems = self._claim_problems(sentence, chunk, sims, own)
        if problems:  # a negation, quantifier, number or claim the passage does not make
            support = 0.0
        scored = Scored(chunk, passage - 1, best, a, b, (), support, float(sims[best]), overlap)
        return _Checked(sentence, passage, support, scored, problems)

    def _claim_problems(self, sentence: str, chunk, sims, own) -> tuple[str, ...]:
        """What ``sentence`` claims that the passage's sentences about its role do not."""
        info = self.extractive.analyse(chunk)
        n = len(chunk.sentences)
        mine = set(tokenize([sentence])[0]) - self._role_words()
        # A role swap: the passage sentence sharing most of the claim's words is about
        # another role ("Procurement Managers have a direct line to customer satisfaction").
        shared = [len(mine & info.tokens[i]) for i in range(n)]
        closest = int(np.argmax(shared))
        theirs = info.subjects[closest]
        if own and shared[closest] and theirs and not set(own) & set(theirs):
            return (f"says of the {own[0]} what the passage says of another role",)
        about = [
            i
            for i in range(n)
            if not own or not info.subjects[i] or set(own) & set(info.subjects[i])
        ]
        if not about:
            return (f"the passage says nothing about the {own[0]}",)
        texts = [chunk.span_text(a, b) for a, b in info.spans]
        return tuple(
            claim_problems(
                sentence, [texts[i] for i in about], sims[about], chunk.text, self.word_vectors
            )
        )

    def _role_words(self) -> set[str]:
        catalog = self.extractive.catalog
        if getattr(self, "_role_stems", None) is None:
            self._role_stems = set(tokenize([" ".join(catalog.roles)])[0])
        return self._role_stems

    def word_vectors(self, words: list[str]) -> np.ndarray:
        """Normalised vectors of single words (cached), for the content-word check."""
        found = self._word_vectors.cached_many(words, self._embed_words)
        return np.stack([found[w] for w in words])

    def _embed_words(self, words: list[str]) -> list[np.ndarray]:
        embedded = self.extractive.index.embeddings.embed_documents(words)
        vectors = [np.asarray(v, np.float32) for v in embedded]
        return [v / max(float(np.linalg.norm(v)), 1e-12) for v in vectors]

    def verify(self, text: str, hits: list[Hit]) -> tuple[list[_Checked], list[str]]:
        """The supported sentences (with their best passage) and notes on what was dropped."""
        kept, notes = [], []
        for sentence, numbers in self._split(text):
            if not numbers:
                notes.append(f"dropped a sentence without a citation: “{sentence[:80]}”")
                continue
            missing = [n for n in numbers if not 1 <= n <= len(hits)]
            if missing:
                notes.append(
                    f"dropped a sentence citing [{missing[0]}], but only {len(hits)} passages exist"
                )
                continue
            best = max((self.check(sentence, n, hits) for n in numbers), key=lambda c: c.support)
            if best.support < SUPPORT_THRESHOLD:
                notes.append(f"dropped a sentence its passage does not support: “{sentence[:80]}”")
                continue
            kept.append(best)
        return kept, notes

    # -- answering ------------------------------------------------------------------------
    def _assemble(self, question: str, query: str, kept: list[_Checked], notes: list[str]):
        citations: list[Citation] = []
        numbered: dict[tuple[str, int], int] = {}
        parts = []
        for item in kept:
            best = item.best
            assert best is not None  # kept: a passage sentence supports it
            key = (best.chunk.id, best.position)
            if key not in numbered:
                numbered[key] = len(citations) + 1
                citations.append(self.extractive.citation(numbered[key], best))
            body = item.sentence.rstrip()
            end = body[-1] if body and body[-1] in ".!?" else "."
            parts.append((body.rstrip(".!?"), numbered[key], end))
        text, markers = join_cited(parts)
        return Answer(
            question=question,
            query=query,
            text=text,
            markers=markers,
            citations=tuple(citations),
            answerer="llm",
            notes=tuple(notes),
        )

    def _fallback(self, question, query, vector, hits, note: str) -> Answer:
        answer = self.extractive.compose(question, query, vector, hits)
        return answer.model_copy(update={"notes": (*answer.notes, note)})

    def stream(
        self, question: str, query: str, vector, hits: list[Hit], deadline: float | None = None
    ) -> Iterator[Answer]:
        """Verified sentences as the model writes them; the last item is the final answer.
        ``deadline`` (``time.monotonic()``; default now + the timeout) bounds the whole reply."""
        if not hits:
            yield self.extractive.compose(question, query, vector, hits)
            return
        deadline = time.monotonic() + self.timeout if deadline is None else deadline
        text, pending, total = "", "", 0
        kept: list[_Checked] = []
        notes: list[str] = []

        def settle(done: str) -> Iterator[Answer]:
            nonlocal kept, notes, total
            for sentence, numbers in self._split(done):
                total += 1
                marker = " ".join(f"[{n}]" for n in numbers)
                checked, dropped = self.verify(f"{sentence} {marker}".strip(), hits)
                kept += checked
                notes += dropped
                if checked:
                    yield self._assemble(question, query, kept, notes)

        try:
            messages = answer_messages(query, hits)
            for piece in stream_reply(self.model, messages, deadline, self.timeout):
                piece = piece[: MAX_REPLY_CHARS - len(text)]
                text += piece
                # Only the new tail is searched: a run-on reply costs linear time.
                tail = len(pending.rstrip())
                pending += piece
                last = None
                for last in _BOUNDARY.finditer(pending, tail):  # noqa: B007 - the last one
                    pass
                if last is not None:
                    yield from settle(pending[: last.start()])
                    pending = pending[last.end() :]
                if _ends_cited(pending):
                    yield from settle(pending)
                    pending = ""
                if len(text) >= MAX_REPLY_CHARS:
                    notes.append(f"the model's reply was cut at {MAX_REPLY_CHARS:,} characters")
                    break
            yield from settle(pending)
        except Exception as e:
            reason = f"{type(e).__name__}: {str(e)[:120]}"
            yield self._fallback(
                question,
                query,
                vector,
                hits,
                f"The language model ({self.label}) could not answer ({reason}); "
                "this is the extractive answer.",
            )
            return
        if text.strip().upper().startswith("NOT COVERED"):
            yield self.extractive.abstain(
                question, query, self.extractive.score(query, vector, hits), ""
            ).model_copy(update={"answerer": "llm"})
            return
        if not kept or len(kept) < MIN_KEPT_SHARE * total:
            yield self._fallback(
                question,
                query,
                vector,
                hits,
                f"The language model's answer was not supported by the passages "
                f"({len(kept)} of {total} sentences checked out); this is the extractive answer.",
            )
            return
        yield self._assemble(question, query, kept, notes)

    def compose(self, question: str, query: str, vector, hits: list[Hit]) -> Answer:
        return deque(self.stream(question, query, vector, hits), maxlen=1)[0]  # the final answer
