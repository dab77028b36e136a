"""The lexical side of the index: BM25 (bm25s) over chunks, stemmed, persisted beside Chroma.

bm25s builds and saves the index at ingest; questions read the saved score matrix with
numpy alone (``SavedBM25``), because importing bm25s loads scipy and numba (0.6 s or more
of a cold start; the question path imports no scipy). For the same reason ``tokenize`` is
``bm25s.tokenize``'s algorithm (its token pattern, its stop words, PyStemmer) rather than
the call: also, that call costs ~7x ours (it rebuilds its stop-word set and progress bars
on every call, and answers tokenize every sentence), and ``BM25.retrieve`` orders tied
scores differently. tests/test_lexical_and_cache.py pins the tokens to bm25s' and the
ranking to ``BM25.retrieve`` up to ties; tests/test_query_model.py pins the scores.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from roleguide.store.atomic import replace_directory

__all__ = ["LexicalIndex", "SavedBM25", "tokenize"]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _bm25s_stopwords() -> list[str]:
    """bm25s's English stop words, read from its module without importing the package
    (whose ``__init__`` imports scipy)."""
    spec = importlib.util.find_spec("bm25s")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - broken install
        raise RuntimeError("bm25s is missing: pip install bm25s")
    path = Path(next(iter(spec.submodule_search_locations))) / "stopwords.py"
    module_spec = importlib.util.spec_from_file_location("_roleguide_bm25s_stopwords", path)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - broken install
        raise RuntimeError(f"bm25s has no stop words at {path}: pip install bm25s")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return list(module.STOPWORDS_EN_PLUS)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(_bm25s_stopwords()) | {
        "also",
        "may",
        "often",
        "usually",
        "like",
        "get",
        "many",
        "much",
        "would",
        "could",
    }


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens; the same for chunks and questions.

    >>> tokenize(["Who negotiates contracts with the suppliers?"])
    [['negoti', 'contract', 'supplier']]
    """
    stop = _stopwords()
    stem = _stemmer().stemWords
    return [stem([w for w in _TOKEN.findall(t.lower()) if w not in stop]) for t in texts]


class SavedBM25:
    """A bm25s index as saved on disk, scored with numpy alone: the same sums as
    ``bm25s.BM25.get_scores`` (numpy backend), without loading scipy."""

    def __init__(self, directory: Path) -> None:
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.int_dtype = np.dtype(params.get("int_dtype", "int32"))
        self.num_docs = int(params["num_docs"])
        self.vocab_dict: dict[str, int] = json.loads(
            (directory / "vocab.index.json").read_text(encoding="utf-8")
        )
        self.data = np.load(directory / "data.csc.index.npy")
        self.indices = np.load(directory / "indices.csc.index.npy")
        self.indptr = np.load(directory / "indptr.csc.index.npy")
        nonoccurrence = directory / "nonoccurrence_array.index.npy"
        self.nonoccurrence = np.load(nonoccurrence) if nonoccurrence.exists() else None

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for these query tokens (unknown tokens ignored)."""
        ids = np.asarray(
            [self.vocab_dict[t] for t in tokens if t in self.vocab_dict], dtype=self.int_dtype
        )
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        for token in ids:
            start, end = self.indptr[token], self.indptr[token + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if self.nonoccurrence is not None:
            scores += self.nonoccurrence[ids].sum()
        return scores


class LexicalIndex:
    """BM25 over chunk texts with the chunk ids in index order."""

    def __init__(self, retriever, ids: list[str]) -> None:
        self.retriever = retriever
        self.ids = ids
        self.vocabulary: frozenset[str] = frozenset(getattr(retriever, "vocab_dict", None) or ())

    @staticmethod
    def document_text(chunk) -> str:
        """What BM25 sees of a chunk: its headings (or a table's column headers, when the
        text lacks them) and its text."""
        text = chunk.text
        if chunk.section and not text.startswith(chunk.section):
            text = f"{chunk.section}. {text}"
        context = getattr(chunk, "context", "")
        return f"{context}. {text}" if context else text

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> LexicalIndex:
        import bm25s

        if not texts:
            return cls(None, [])  # an empty corpus folder: nothing to search
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts), show_progress=False)
        return cls(retriever, list(ids))

    def save(self, directory: Path, generation: str | None = None) -> None:
        """Write to a fresh folder beside ``directory``, then swap it in: no reader sees half."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=directory.parent))
        if self.ids:
            self.retriever.save(str(staging), show_progress=False)
        (staging / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (staging / "generation").write_text(generation or "", encoding="utf-8")
        replace_directory(staging, directory)

    @classmethod
    def load(cls, directory: Path, generation: str | None = None) -> LexicalIndex | None:
        """The saved index, or None when there is none, it is incomplete, or (when a
        ``generation`` is given) it was built for another ingest than that one."""
        directory = Path(directory)
        try:
            if generation is not None:
                saved = (directory / "generation").read_text(encoding="utf-8")
                if saved and saved != generation:
                    return None
            ids = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
            retriever = SavedBM25(directory) if ids else None
        except (OSError, ValueError, KeyError):
            return None
        return cls(retriever, ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, BM25 score) with a positive score, best first."""
        if not self.ids or self.retriever is None:
            return []
        tokens = tokenize([query])[0]
        if not tokens:
            return []
        scores = self.retriever.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
