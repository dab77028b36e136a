"""Stage 5, retrieval: dense sentence search (Chroma) + BM25 over chunks, fused by RRF.

``HybridRetriever`` is a LangChain ``BaseRetriever``, so it composes with any chain::

    retriever = guide.retriever
    docs = retriever.invoke("who negotiates with suppliers?")
    docs[0].metadata["section"]   # 'Vendor Relationship'
    retriever.invoke("who negotiates with suppliers?", k=1)   # one document, this call only
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict

from roleguide.ingest.chunks import Chunk
from roleguide.store.index import VectorIndex

__all__ = ["Hit", "HybridRetriever", "RetrieverMode", "reciprocal_rank_fusion"]

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


class HybridRetriever(BaseRetriever):
    """Chunks for a query: dense over sentences, BM25 over chunks, fused by RRF."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: VectorIndex
    k: int = 5
    mode: RetrieverMode = "hybrid"
    dense_k: int = 40
    lexical_k: int = 20
    rrf_k: int = 60

    def search(
        self, query: str, query_vector: list[float] | None = None, *, k: int | None = None
    ) -> list[Hit]:
        """The top ``k`` chunks for ``query`` (``query_vector`` saves re-embedding it).

        ``k`` overrides the retriever's own ``k`` for this call only.
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

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """LangChain's entry point: ``invoke(query, k=1)`` passes ``k`` here, as the standard
        retriever tests (``langchain-tests``) expect; without it the retriever's ``k`` holds."""
        return [
            Document(
                id=hit.chunk.id,
                page_content=hit.chunk.text,
                metadata={
                    "source": hit.chunk.source,
                    "title": hit.chunk.title,
                    "section": hit.chunk.section,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "score": hit.score,
                    "dense": hit.dense,
                    "lexical": hit.lexical,
                },
            )
            for hit in self.search(query, k=k)
        ]

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``ainvoke(query, k=1)``: the sync search in a worker thread, ``k`` passed on (the
        base class's default would drop it and fail on the unexpected keyword)."""
        return await run_in_executor(
            None, self._get_relevant_documents, query, run_manager=run_manager.get_sync(), k=k
        )
