"""The tutorial pipeline, as the reference row: RecursiveCharacterTextSplitter(1000, 200)
over the raw article text, the same embedding model, Chroma similarity search top-k.

It keeps no boilerplate filter, no facets and no sentences: what most RAG tutorials
build. Its vectors live in an in-memory Chroma client, so it never touches the index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from roleguide.ingest.corpus import load_corpus

__all__ = ["BaselineRetriever", "build_baseline"]


@dataclass
class BaselineRetriever:
    """Top-k 1000-character chunks by cosine similarity, nothing else."""

    store: VectorStore
    documents: list[Document]
    k: int = 5

    def search(self, query: str) -> list[Document]:
        return self.store.similarity_search(query, k=self.k)


def build_baseline(corpus_dir: Path, embeddings: Embeddings, k: int = 5) -> BaselineRetriever:
    """Split the corpus the tutorial way and index it in a throw-away Chroma collection."""
    import chromadb
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents: list[Document] = []
    for doc in load_corpus(corpus_dir).documents:
        body = doc.text[doc.body_start :]
        for i, piece in enumerate(splitter.split_text(body)):
            documents.append(
                Document(
                    id=f"{doc.source}#{i}",
                    page_content=piece,
                    metadata={"source": doc.source, "title": doc.title},
                )
            )
    store = Chroma(
        collection_name="tutorial-baseline",
        embedding_function=embeddings,
        client=chromadb.EphemeralClient(),
        collection_configuration={"hnsw": {"space": "cosine"}},
    )
    store.reset_collection()
    if documents:
        store.add_documents(documents, ids=[d.id for d in documents])
    return BaselineRetriever(store, documents, k)
