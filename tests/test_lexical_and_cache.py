"""The lexical side agrees with bm25s' own tokenizer and retrieval (without importing bm25s
on the question path), and the one cache utility keeps what it should."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from roleguide.cache import LRUCache
from roleguide.store.lexical import LexicalIndex, _stemmer, _stopwords, tokenize

ROOT = Path(__file__).resolve().parents[1]


def _texts() -> list[str]:
    """Every line and sentence of the corpora and the evaluation sets, plus odd inputs."""
    texts = ["", "   ", "a", "the of", "C++ R&D 42 x2 __init__", "naïve café ÉCOLE"]
    for path in sorted([*ROOT.glob("corpus/**/*.md"), *ROOT.glob("evals/**/*.md")]):
        text = path.read_text(encoding="utf-8")
        texts += text.splitlines() + re.split(r"(?<=[.!?])\s", text)
    for path in sorted(ROOT.glob("evals/**/*.yaml")):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


def _bm25s_tokenize(texts: list[str]) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(
        texts,
        stopwords=sorted(_stopwords()),
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )  # type: ignore[return-value]


def test_tokenize_is_bm25s_tokenize():
    texts = _texts()
    assert len(texts) > 1000
    assert [tokenize([t])[0] for t in texts] == _bm25s_tokenize(texts)


def test_search_ranks_as_bm25s_retrieve():
    """Same documents with the same scores, in the same order up to ties (bm25s' sort is
    not stable, ours is: a tie keeps one order from run to run)."""
    import bm25s

    texts = [t for t in _texts() if len(t.split()) > 3][:400]
    ids = [f"d{i}" for i in range(len(texts))]
    ours = LexicalIndex.build(ids, texts)
    theirs = bm25s.BM25()
    theirs.index(_bm25s_tokenize(texts), show_progress=False)
    for query in texts[::7]:
        got = ours.search(query, 10)
        docs, scores = theirs.retrieve([tokenize([query])[0]], k=10, show_progress=False)
        want = [(ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]
        assert [s for _, s in got] == [s for _, s in want], query
        assert _by_score(got) == _by_score(want), query


def _by_score(ranking: list[tuple[str, float]]) -> dict[float, set[str]]:
    """The ids at each score, but the lowest (the cut at k may fall inside that tie)."""
    lowest = min((s for _, s in ranking), default=None)
    out: dict[float, set[str]] = {}
    for cid, score in ranking:
        if score != lowest:
            out.setdefault(score, set()).add(cid)
    return out


def test_lru_keeps_the_most_recently_used():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("b") is None
    assert len(cache) == 2


def test_cached_computes_once():
    calls: list[str] = []
    cache: LRUCache[str, str] = LRUCache(4)

    def upper(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert cache.cached("x", upper) == "X"
    assert cache.cached("x", upper) == "X"
    assert calls == ["x"]


def test_cached_many_computes_the_missing_in_order_once():
    batches: list[list[str]] = []
    cache: LRUCache[str, int] = LRUCache(10)

    def lengths(keys: list[str]) -> list[int]:
        batches.append(keys)
        return [len(k) for k in keys]

    assert cache.cached_many(["bb", "a", "bb"], lengths) == {"bb": 2, "a": 1}
    assert cache.cached_many(["ccc", "a"], lengths) == {"ccc": 3, "a": 1}
    assert batches == [["bb", "a"], ["ccc"]]


def test_cached_many_returns_every_key_even_past_the_bound():
    cache: LRUCache[int, int] = LRUCache(2)
    assert cache.cached_many(range(5), lambda keys: [k * k for k in keys]) == {
        k: k * k for k in range(5)
    }
    assert len(cache) == 2


def test_cached_many_rejects_a_short_answer():
    cache: LRUCache[int, int] = LRUCache(2)
    with pytest.raises(ValueError, match="computed 1 values for 2 keys"):
        cache.cached_many([1, 2], lambda keys: [0])


def test_the_bound_holds_under_threads():
    cache: LRUCache[int, int] = LRUCache(50)

    def fill(offset: int) -> None:
        for i in range(500):
            cache.cached(offset * 1000 + i, lambda k: k)

    threads = [threading.Thread(target=fill, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50


def test_a_bound_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        LRUCache(0)
