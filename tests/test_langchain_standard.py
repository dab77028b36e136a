"""LangChain's own standard retriever suite (``langchain-tests``) against ``HybridRetriever``.

It runs over the real index of corpus/ (the session's ``guide`` fixture), so the retriever is
checked the way any LangChain retriever is: ``k`` in the constructor and per ``invoke``,
``invoke``/``ainvoke`` returning ``Document`` lists.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from roleguide.ask.langchain_retriever import HybridRetriever
from roleguide.store.index import VectorIndex

QUERY = "who negotiates with suppliers?"


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    """The standard tests, unchanged; only the constructor and an example query are ours."""

    _index: VectorIndex | None = None

    @pytest.fixture(autouse=True)
    def _real_index(self, guide) -> None:
        """The session's real index of corpus/, read by ``retriever_constructor_params``."""
        type(self)._index = guide.index

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        assert self._index is not None, "the _real_index fixture runs first"
        return {"index": self._index}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


async def test_ainvoke_honours_k(guide) -> None:
    """The async path passes ``k`` on too (the base class's default would drop it)."""
    retriever = HybridRetriever(index=guide.index)
    docs = await retriever.ainvoke(QUERY, k=2)
    assert len(docs) == 2
    assert [d.id for d in docs] == [d.id for d in retriever.invoke(QUERY, k=2)]
