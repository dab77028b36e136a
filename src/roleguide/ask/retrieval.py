"""Stage 5, retrieval: dense sentence search (Chroma) + BM25 over chunks, fused by RRF.

``HybridSearch`` is the search ``RoleGuide.ask`` runs, with no LangChain import on the
question path (``langchain_core.retrievers`` alone costs ~0.4 s of a one-shot
``roleguide ask``). ``guide.retriever`` wraps the same search as a LangChain
``BaseRetriever`` (``ask/langchain_retriever.py``)::

    hits = guide.retrieval.search("who negotiates with suppliers?")
    hits[0].chunk.section   # 'Vendor Relationship'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, get_args

from roleguide.ingest.chunks import Chunk
from roleguide.store.index import VectorIndex

__all__ = ["Hit", "HybridSearch", "RetrieverMode", "reciprocal_rank_fusion"]

RetrieverMode = Literal["hybrid", "dense", "bm25"]


class Hit(NamedTuple):
    """One retrieved chunk with the evidence each retriever found for it."""

    chunk: Chunk
    score: float
    """fused score (reciprocal rank fusion)"""
    dense: float
    """best cosine similarity of one of its sentences to the query (0 when not found)"""
    lexical: float
    """BM25 score (0 when not found)"""
    sentence_scores: dict[int, float]
    """cosine similarity of the sentences the dense search found, by position"""


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> dict[str, float]:
    """Cormack et al.'s RRF: sum of 1 / (k + rank) over the rankings an item appears in.

    >>> sorted(reciprocal_rank_fusion([["a", "b"], ["b", "c"]]).items())[:2]
    [('a', 0.01639344262295082), ('b', 0.03252247488101534)]
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


@dataclass(frozen=True)
class HybridSearch:
    """Chunks for a query: dense over sentences, BM25 over chunks, fused by RRF."""

    index: VectorIndex
    k: int = 5
    mode: RetrieverMode = "hybrid"
    dense_k: int = 40
    lexical_k: int = 20
    rrf_k: int = 60

    def __post_init__(self) -> None:
        modes = get_args(RetrieverMode)
        if self.mode not in modes:
            raise ValueError(f"unknown retrieval mode {self.mode!r}; choose {', '.join(modes)}")
        for name in ("k", "dense_k", "lexical_k", "rrf_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)}")

    def search(
        self, query: str, query_vector: list[float] | None = None, *, k: int | None = None
    ) -> list[Hit]:
        """The top ``k`` chunks for ``query`` (``query_vector`` saves re-embedding it).

        ``k`` overrides the search's own ``k`` for this call only.
        """
        dense: dict[str, float] = {}
        per_sentence: dict[str, dict[int, float]] = {}
        dense_ranking: list[str] = []
        if not self.index.lexical.ids:
            return []  # an empty corpus (every file skipped or cleaned away): nothing to find
        if self.mode != "bm25":
            vector = query_vector or self.index.embeddings.embed_query(query)
            visible = self.index.visible
            for hit in self.index.nearest_sentences(vector, self.dense_k):
                if visible and hit.chunk_id not in visible:
                    continue  # written by an ingest that has not finished: not served yet
                similarity = 1.0 - hit.distance
                per_sentence.setdefault(hit.chunk_id, {})[hit.position] = similarity
                if hit.chunk_id not in dense:
                    dense[hit.chunk_id] = similarity
                    dense_ranking.append(hit.chunk_id)
        lexical: dict[str, float] = {}
        if self.mode != "dense":
            lexical = dict(self.index.lexical.search(query, self.lexical_k))
        rankings = [r for r in (dense_ranking, list(lexical)) if r]
        fused = reciprocal_rank_fusion(rankings, self.rrf_k)
        limit = self.k if k is None else k
        top = sorted(fused, key=lambda cid: (-fused[cid], -dense.get(cid, 0.0)))[:limit]
        records = self.index.get_chunks(top)
        return [
            Hit(
                records[cid],
                fused[cid],
                dense.get(cid, 0.0),
                lexical.get(cid, 0.0),
                per_sentence.get(cid, {}),
            )
            for cid in top
            if cid in records
        ]


def __getattr__(name: str) -> Any:
    """``HybridRetriever`` lived here before it moved beside LangChain; found on first use."""
    if name == "HybridRetriever":
        from roleguide.ask.langchain_retriever import HybridRetriever

        return HybridRetriever
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
