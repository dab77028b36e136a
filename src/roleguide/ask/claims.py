"""What a generated sentence claims beyond its passage: a flipped negation, a stronger
quantifier, a number or content words the passage does not contain.

A similarity score cannot see these ("… are never involved in compliance" scores like
the passage that says they are), so the LLM answer check asks them of every sentence.
Thresholds are calibrated on the dev half of ``tests/data/llm_claims.yaml`` and judged
on its test half (see tests/test_claims.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from roleguide.store.lexical import tokenize

__all__ = [
    "CANDIDATE_MARGIN",
    "MAX_NEW_WORDS",
    "WORD_SIMILARITY",
    "claim_problems",
]

CANDIDATE_MARGIN = 0.08
"""Passage sentences this close (cosine) to the best one may carry the sentence's
negation or quantifier: "does not always report" may paraphrase the passage's second
sentence while the first one is the most similar."""
WORD_SIMILARITY = 0.55
"""A content word absent from the passage still counts as supported when some passage
word is at least this similar (cosine of the bundled model's word vectors)."""
MAX_NEW_WORDS = 2
"""More unsupported content words than this and the sentence adds a claim."""

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot without hardly barely".split()
)
_QUANTIFIERS = {
    "all": frozenset("all every each everyone everything".split()),
    "always": frozenset("always invariably constantly".split()),
    "whole": frozenset("entire entirely whole completely fully totally".split()),
    "only": frozenset("only solely exclusively sole".split()),
    "must": frozenset("must required mandatory obliged".split()),
    "most": frozenset(
        "usually generally typically often frequently commonly mostly mainly primarily "
        "largely most".split()
    ),
    "some": frozenset("some sometimes occasionally may might can could several".split()),
    "rare": frozenset("rarely seldom few".split()),
}
_CONNECTORS = frozenset("and also so plus but while then".split())
_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve twenty thirty "
    "forty fifty hundred thousand million billion twice half double triple dozen percent "
    "first second third".split()
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def _negated(words: Sequence[str]) -> bool:
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


def _groups(words: Sequence[str]) -> set[str]:
    present = set(words)
    return {name for name, members in _QUANTIFIERS.items() if present & members}


def _quantifier_problem(mine: set[str], theirs: set[str], negated: bool) -> str | None:
    """A quantifier that says more than the passage's sentence (hedging is allowed)."""
    for strong in ("all", "always", "only", "must"):
        if strong in mine and strong not in theirs:
            return f"says '{strong}' where the passage does not"
    if "rare" in mine and "rare" not in theirs and not negated:
        return "says 'rarely' where the passage does not"
    if "most" in mine and not theirs & {"most", "all", "always"} and theirs & {"some", "rare"}:
        return "says 'usually' where the passage only says 'may'"
    return None


def claim_problems(
    sentence: str,
    passage_sentences: Sequence[str],
    sims: np.ndarray,
    passage_text: str,
    word_vectors: Callable[[list[str]], np.ndarray],
) -> list[str]:
    """Why ``sentence`` says more than its passage (empty when it does not).

    ``sims`` are the cosines of ``sentence`` to each of ``passage_sentences``;
    ``word_vectors`` embeds single words (normalised rows) for the content-word check.
    """
    problems = []
    words = _words(sentence)
    best = float(np.max(sims))
    candidates = [
        _words(s)
        for s, sim in zip(passage_sentences, sims, strict=True)
        if sim >= best - CANDIDATE_MARGIN
    ]
    negated = _negated(words)
    if not any(_negated(c) == negated for c in candidates):
        problems.append("negates what the passage says" if negated else "drops a negation")
    mine = _groups(words)
    if mine and all(_quantifier_problem(mine, _groups(c), _negated(c)) for c in candidates):
        problems.append(str(_quantifier_problem(mine, _groups(candidates[0]), negated)))
    passage_words = set(_words(passage_text))
    numbers = [w for w in words if w[0].isdigit() or w in _NUMBER_WORDS]
    missing = [n for n in numbers if n not in passage_words]
    if missing:
        problems.append(f"a number the passage does not give: {missing[0]}")
    new = _new_words(sentence, passage_text, word_vectors)
    added = [w for w in new if w in _conjunct_words(words)]
    if len(new) > MAX_NEW_WORDS or added:
        problems.append("adds words the passage does not support: " + ", ".join(new[:4]))
    return problems


def _conjunct_words(words: Sequence[str]) -> set[str]:
    """The words after a connector ("… and a medical degree", "… so you should …"): an
    unsupported word there adds a claim of its own, so none is tolerated."""
    for i, word in enumerate(words):
        if i and word in _CONNECTORS:
            return set(words[i + 1 :])
    return set()


def _new_words(
    sentence: str, passage_text: str, word_vectors: Callable[[list[str]], np.ndarray]
) -> list[str]:
    """Content words of ``sentence`` (stemmed) that neither the passage nor a word close
    in meaning to one of the passage's supports."""
    have = set(tokenize([passage_text])[0])
    surface = {}
    for word in _words(sentence):
        stems = tokenize([word])[0]
        if stems and stems[0] not in have and not word[0].isdigit():
            surface.setdefault(stems[0], word)
    if not surface:
        return []
    theirs = sorted({w for w in _words(passage_text) if tokenize([w])[0]})
    mine = list(surface.values())
    vectors = word_vectors(mine + theirs)
    closeness = vectors[: len(mine)] @ vectors[len(mine) :].T
    return [w for w, row in zip(mine, closeness, strict=True) if float(row.max()) < WORD_SIMILARITY]
