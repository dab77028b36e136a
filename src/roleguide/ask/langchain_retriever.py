"""``HybridRetriever``: the hybrid search as a LangChain ``BaseRetriever``, so it composes
with any chain. Kept apart from ``retrieval`` so that asking a question never imports
LangChain's runnable and tracing stack.

    retriever = guide.retriever
    docs = retriever.invoke("who negotiates with suppliers?")
    docs[0].metadata["section"]   # 'Vendor Relationship'
    retriever.invoke("who negotiates with suppliers?", k=1)   # one document, this call only
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import ConfigDict

from roleguide.ask.retrieval import Hit, HybridSearch, RetrieverMode
from roleguide.store.index import VectorIndex

__all__ = ["HybridRetriever"]


class HybridRetriever(BaseRetriever):
    """Chunks for a query as LangChain ``Document``s: ``HybridSearch`` with these settings
    (its fields and defaults)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: VectorIndex
    k: int = HybridSearch.k
    mode: RetrieverMode = HybridSearch.mode
    dense_k: int = HybridSearch.dense_k
    lexical_k: int = HybridSearch.lexical_k
    rrf_k: int = HybridSearch.rrf_k

    @classmethod
    def over(cls, search: HybridSearch) -> HybridRetriever:
        """The retriever that runs ``search`` (same index and settings)."""
        return cls(**{f.name: getattr(search, f.name) for f in fields(search)})

    def search(
        self, query: str, query_vector: list[float] | None = None, *, k: int | None = None
    ) -> list[Hit]:
        """``HybridSearch.search`` with this retriever's current settings."""
        settings = HybridSearch(**{f.name: getattr(self, f.name) for f in fields(HybridSearch)})
        return settings.search(query, query_vector, k=k)

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
