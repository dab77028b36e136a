"""Stage 4, index: sentence vectors and chunks in Chroma, a BM25 index beside them.

Layout of the data directory (``ROLEGUIDE_HOME``, default ``./.roleguide``)::

    chroma-<id>/     Chroma PersistentClient: <name>-sentence-rows, one row per sentence,
                     each chunk's text on its first (``records``); one folder per ingest,
                     the manifest names the current one (``store``)
    bm25/            bm25s index over the chunks + ids.json, replaced atomically
    manifest.json    model, dimension, chunker version, file digests; written last
    write.lock       held by the one process allowed to write

This module reads the index (``VectorIndex``). Beside it in ``store/``: ``manifest``
(the typed manifest), ``connection`` (embedded store or Chroma server: every difference
between the two), ``records`` (the row layout), ``writer`` (what an ingest adds, updates
and deletes) and ``generations`` (store folders, failures). Every sentence is embedded
once (with its section as context); a chunk's vector is the normalised mean of its
sentences', so nothing is embedded twice.

A reader loads one vector index: Chroma loads a collection's whole HNSW index into memory
at its first use (even for a ``count`` or a ``get`` by id), so chunks keep no vectors and
live on their first sentence's row.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings

from roleguide.cache import LRUCache
from roleguide.errors import IndexMismatchError
from roleguide.ingest.chunks import CHUNKER_VERSION, Chunk
from roleguide.store.connection import connect
from roleguide.store.embeddings import embedding_model_id
from roleguide.store.generations import REBUILD_HINT, is_store_failure, store_failure
from roleguide.store.lexical import LexicalIndex
from roleguide.store.manifest import Manifest
from roleguide.store.records import (
    HEAD,
    batches,
    chunk_metadata,
    chunk_vector,
    head_id,
    page_records,
    pages,
    sentence_ids,
    split_id,
)

__all__ = ["REBUILD_HINT", "Manifest", "SentenceHit", "VectorIndex", "chunk_metadata"]

_ID_BATCH = 2000
_COLLECTION = "sentence-rows"  # the collection's name after the index name
_LEGACY_COLLECTIONS = ("sentences", "chunks")  # the two-collection layout (chunker 3)


class SentenceHit(NamedTuple):
    """One sentence found by vector search: its chunk, its place there, its distance."""

    chunk_id: str
    position: int
    distance: float


class VectorIndex:
    """The on-disk index: open it for reading, or ``ingest`` into it (one writer at a time)."""

    def __init__(
        self,
        home: Path,
        embeddings: Embeddings,
        name: str = "roleguide",
        chroma_url: str | None = None,
        *,
        store: str | None = None,
    ) -> None:
        self.home = Path(home)
        self._store = store
        self.embeddings = embeddings
        self.name = name
        self.chroma_url = chroma_url or None
        self.connection = connect(self.home, name, self.chroma_url)
        self.model_id = embedding_model_id(embeddings)
        self._client = None
        self._lexical: LexicalIndex | None = None
        # Chunks and their vectors are immutable under their id; the caches only bound memory.
        self._chunk_cache: LRUCache[str, Chunk | None] = LRUCache(50_000)
        self._vector_cache: LRUCache[str, np.ndarray] = LRUCache(20_000)
        self.visible: frozenset[str] = frozenset()

    # -- paths and manifest -------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.json"

    @property
    def where(self) -> str:
        """Where the index lives, for messages."""
        return self.connection.where

    @property
    def lexical_dir(self) -> Path:
        """The BM25 index: beside the store, or (server mode) a local cache of the server's."""
        return self.connection.lexical_dir

    def lexical_path(self, generation: str | None) -> Path:
        """The BM25 index of one ingest. Each ingest writes its own folder and the manifest
        names it, so a reader never pairs a manifest with another ingest's BM25."""
        return self.lexical_dir / (re.sub(r"\W+", "-", generation or "none").strip("-") or "none")

    def prune_lexical(self, keep: str) -> None:
        """Remove the BM25 folders of earlier ingests (after the manifest names ``keep``)."""
        if not self.lexical_dir.is_dir():
            return
        keep_path = self.lexical_path(keep)
        for path in self.lexical_dir.iterdir():
            if path == keep_path:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:  # an older roleguide kept one BM25 index directly in this folder
                path.unlink(missing_ok=True)

    @property
    def store_name(self) -> str:
        """The embedded store folder in use: the one the manifest names, unless set."""
        if self._store is None:
            try:
                manifest = self.manifest()
            except IndexMismatchError:
                manifest = None
            self._store = self.connection.store_of(manifest)
        return self._store

    def use_store(self, name: str) -> None:
        """Read another generation of the embedded store (a newer ingest finished)."""
        if name != self._store:
            self.close()
            self._store = name

    def close(self) -> None:
        """Let go of the Chroma client and every cache built from it."""
        if self._client is not None:
            self.connection.close_client(self._client)
        self._client = None
        self.forget_cached()

    def manifest_stamp(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the manifest file (a ``stat``), to notice a new ingest."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def manifest(self) -> Manifest | None:
        """The manifest of the last complete ingest, or None when there is none."""
        try:
            return self.connection.read_manifest(lambda: self.sentences)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise IndexMismatchError(
                f"the index manifest in {self.where} is damaged ({e}); {REBUILD_HINT}"
            ) from e

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest atomically (the last step of an ingest)."""
        self.connection.write_manifest(lambda: self.sentences, manifest)

    def check_compatible(self, manifest: Manifest) -> None:
        """Refuse an index built with another model, dimension or chunker."""
        manifest.check_compatible(self.model_id, self.where)

    # -- Chroma ------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.connection.open_client(lambda: self.store_name)
        return self._client

    @property
    def sentences(self) -> Any:
        """The Chroma collection: one row per sentence, chunk heads among them."""
        return self.client.get_or_create_collection(
            f"{self.name}-{_COLLECTION}",
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"model": self.model_id, "chunker": CHUNKER_VERSION},
            embedding_function=None,
        )

    def create_collections(self) -> None:
        """Create the collection if missing (an empty corpus still has an index) and drop
        the collections of the older two-collection layout (a Chroma server keeps them)."""
        self.sentences  # noqa: B018
        for kind in _LEGACY_COLLECTIONS:
            with contextlib.suppress(Exception):
                self.client.delete_collection(f"{self.name}-{kind}")

    def nearest_sentences(self, vector: Sequence[float], k: int) -> list[SentenceHit]:
        """The ``k`` sentences nearest to ``vector`` (cosine distance), nearest first."""
        got = self.sentences.query(
            query_embeddings=[list(vector)], n_results=k, include=["distances"]
        )
        return [
            SentenceHit(*split_id(row), float(distance))
            for row, distance in zip(got["ids"][0], got["distances"][0], strict=True)
        ]

    # -- reading -----------------------------------------------------------------------
    def open(self) -> Manifest:
        """Check the index is complete and compatible, load BM25; returns the manifest."""
        manifest = self.manifest()
        if manifest is None:
            raise IndexMismatchError(f"there is no index in {self.where}; run `roleguide ingest`")
        self.check_compatible(manifest)
        shared = self.connection.shared
        if not shared:
            self.use_store(self.connection.store_of(manifest))
        try:
            lexical = LexicalIndex.load(self.lexical_path(manifest.built))
            if lexical is None and shared:
                lexical = self._lexical_from_server(manifest)
            # Server mode: Chroma may hold more or fewer rows than the manifest while an
            # ingest runs: readers keep serving the last complete ingest, whose chunk ids
            # are the BM25 index's. An empty store under a manifest is damage.
            count = self.sentences.count()
        except BaseException as e:
            if not is_store_failure(e):
                raise
            raise store_failure(e, self.where, self.chroma_url) from e
        expected = manifest.chunks
        server_built = shared and lexical is not None
        if (
            lexical is None
            or (len(lexical.ids) != expected and not server_built)
            or (expected and count == 0)
        ):
            raise IndexMismatchError(
                f"the index in {self.where} is incomplete or damaged (sentences: "
                f"{count} in Chroma; chunks: {expected} in the manifest, "
                f"{len(lexical.ids) if lexical else 'no'} in the BM25 index); {REBUILD_HINT}"
            )
        self._lexical = lexical
        self.visible = frozenset(lexical.ids)
        return manifest

    def _lexical_from_server(self, manifest: Manifest) -> LexicalIndex:
        """Server mode: build this process's BM25 from the server's chunks, cache it locally."""
        records = list(self.iter_records())
        lexical = LexicalIndex.build(
            [r.id for r in records], [LexicalIndex.document_text(r) for r in records]
        )
        lexical.save(self.lexical_path(manifest.built))
        return lexical

    def iter_chunks(self, include: list[str], page: int = 5000) -> Iterator[Any]:
        """The head rows of all stored chunks, a page at a time (a large index never loads
        in one reply); ``include=["metadatas"]`` for their fields and text."""
        return pages(self.sentences, include, page, where=HEAD)

    def iter_records(self, page: int = 5000) -> Iterator[Chunk]:
        """Every stored chunk, read ``page`` at a time."""
        for got in self.iter_chunks(include=["metadatas"], page=page):
            yield from page_records(got)

    def first_records(self, count: int) -> list[Chunk]:
        """Up to ``count`` stored chunks, in the store's order (one read)."""
        return list(itertools.islice(self.iter_records(page=max(1, count)), count))

    def chunk_ids(self) -> set[str]:
        """The ids of every stored chunk."""
        return {split_id(row)[0] for got in self.iter_chunks([]) for row in got["ids"]}

    def sample_sentences(self, count: int) -> list[str]:
        """The text of up to ``count`` stored sentences (to check a model on)."""
        chunks = self.first_records(count)  # every chunk has at least one sentence
        texts = [c.sentence_text(i) for c in chunks for i in range(len(c.sentences))]
        return texts[:count]

    def chunk_vectors(self, limit: int) -> np.ndarray:
        """The vectors of up to ``limit`` stored chunks (each the normalised mean of its
        sentences'), one row each."""
        chunks = self.first_records(limit)
        by_chunk = self.sentence_vectors(chunks)
        return np.asarray([chunk_vector(by_chunk[c.id]) for c in chunks])

    def is_complete(self) -> bool:
        """True when the stored index opens cleanly (manifest, Chroma and BM25 agree)."""
        try:
            self.open()
        except IndexMismatchError:
            return False
        return True

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self.open()
        assert self._lexical is not None
        return self._lexical

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunk records by id (cached: chunks are immutable under their id)."""

        def fetch(missing: list[str]) -> list[Chunk | None]:
            found: dict[str, Chunk] = {}
            for part in batches(missing, _ID_BATCH):  # SQLite caps variables per query
                heads = [head_id(cid) for cid in part]
                got = self.sentences.get(ids=heads, include=["metadatas"])
                found.update((chunk.id, chunk) for chunk in page_records(got))
            return [found.get(i) for i in missing]

        got = self._chunk_cache.cached_many(ids, fetch)
        return {i: chunk for i, chunk in got.items() if chunk is not None}

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """The stored sentence vectors of each chunk, as one matrix per chunk id."""
        by_chunk = {c.id: c for c in chunks}

        def fetch(todo_ids: list[str]) -> list[np.ndarray]:
            todo = [by_chunk[i] for i in todo_ids]
            ids = [sid for c in todo for sid in sentence_ids(c.id, len(c.sentences))]
            by_id = {}
            for part in batches(ids, _ID_BATCH):  # SQLite caps variables per query
                got = self.sentences.get(ids=list(part), include=["embeddings"])
                by_id.update(zip(got["ids"], got["embeddings"], strict=True))
            out = []
            for c in todo:
                rows = [by_id.get(sid) for sid in sentence_ids(c.id, len(c.sentences))]
                if any(r is None for r in rows):
                    raise IndexMismatchError(
                        f"sentence vectors of {c.source} are missing; {REBUILD_HINT}"
                    )
                out.append(np.asarray(rows, dtype=np.float32))
            return out

        return self._vector_cache.cached_many(by_chunk, fetch)

    # -- writing -----------------------------------------------------------------------
    def write_lock(self) -> FileLock:
        self.home.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.home / "write.lock"), timeout=0)

    def forget_cached(self) -> None:
        """Drop in-memory caches after the stored index changed."""
        self._lexical = None
        self._chunk_cache.clear()
        self._vector_cache.clear()

    def reset(self) -> None:
        """Drop everything stored (used by ``--rebuild``); the caller holds the write lock."""
        for kind in (_COLLECTION, *_LEGACY_COLLECTIONS):
            with contextlib.suppress(Exception):
                self.client.delete_collection(f"{self.name}-{kind}")
        shutil.rmtree(self.lexical_dir, ignore_errors=True)
        self.manifest_path.unlink(missing_ok=True)
        self._lexical = None
        self._chunk_cache.clear()
        self._vector_cache.clear()
