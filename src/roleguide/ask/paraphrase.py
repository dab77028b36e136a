"""Paraphrase between single words ("earn" ↔ "salary", "duties" ↔ "responsibilities").

The embedding model compares the question's content words with a candidate sentence's
words (and its headings'), so a sentence that says the same thing in other words still
counts as sharing the question's topic. No synonym list: the model's own similarity.
"""

from __future__ import annotations

import re

import numpy as np

from roleguide.cache import LRUCache
from roleguide.store.embeddings import embed_texts
from roleguide.store.lexical import _stopwords

__all__ = ["PARAPHRASE_COSINE", "WordSimilarity", "asks_amount", "content_words", "has_amount"]

# Two words this close mean the same thing ("duties"/"responsibilities" 0.86, "salary"/"wage"
# 0.72). Single words are noisy below it: "earn" is 0.51 from "financial" and 0.53 from
# "salary", so "how much" questions are matched by the kind of answer instead (amounts).
PARAPHRASE_COSINE = 0.70
_WORD = re.compile(r"[a-z][a-z-]+")
_MAX_CACHE = 50_000
_ASKS_AMOUNT = re.compile(
    r"\bhow much\b|\b(salary|salaries|pay|paid|earn\w*|wages?|income|compensation)\b", re.I
)
_AMOUNT = re.compile(r"[$€£¥]\s?\d")


def asks_amount(question: str) -> bool:
    """'How much do X earn?', 'What is the salary of…': the answer is an amount of money."""
    return bool(_ASKS_AMOUNT.search(question))


def has_amount(text: str) -> bool:
    """Whether ``text`` states an amount of money ("$102,010")."""
    return bool(_AMOUNT.search(text))


def content_words(text: str) -> set[str]:
    """Lower-case words of ``text`` without stop words (unstemmed: the model reads words)."""
    stop = _stopwords()
    return {w for w in _WORD.findall(text.lower()) if w not in stop and len(w) > 2}


class WordSimilarity:
    """Cosine similarity between words with the index's embedding model, vectors cached."""

    def __init__(self, embeddings) -> None:
        self.embeddings = embeddings
        self._cache: LRUCache[str, np.ndarray] = LRUCache(_MAX_CACHE)

    def _embed(self, words: list[str]) -> np.ndarray:
        got = np.asarray(embed_texts(self.embeddings, words), dtype=np.float32)
        got /= np.maximum(np.linalg.norm(got, axis=1, keepdims=True), 1e-12)
        return got

    def _vectors(self, words: set[str]) -> dict[str, np.ndarray]:
        return self._cache.cached_many(sorted(words), self._embed)

    def closest(self, asked: set[str], said: set[str]) -> float:
        """The highest cosine between a word of ``asked`` and a word of ``said``."""
        if not asked or not said:
            return 0.0
        vectors = self._vectors(asked | said)
        a = np.stack([vectors[w] for w in sorted(asked)])
        b = np.stack([vectors[w] for w in sorted(said)])
        return float((a @ b.T).max())
