"""The writing side of the index: what one ingest adds, updates and deletes, and how it
becomes (or, failing, never becomes) the index readers use.

Embedded, an ingest writes a new store generation (a copy of the current one, empty when
rebuilding), so readers keep the last complete index until the manifest names the new
one; with a Chroma server it writes the shared collections in place. New rows are added
before old ones are removed, so every intermediate state is a valid index, and no call
sends Chroma more rows than it takes at once.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from roleguide.errors import RoleGuideError
from roleguide.ingest.chunks import Chunk
from roleguide.store.generations import disk_full_error, is_store_failure, store_failure
from roleguide.store.index import VectorIndex
from roleguide.store.manifest import Manifest
from roleguide.store.records import (
    Rows,
    batches,
    chunk_metadata,
    head_id,
    moved,
    pages,
    sentence_count,
    sentence_ids,
    split_id,
)

__all__ = ["IndexWriter", "ingest_failure"]

_HASH_BATCH = 500  # text hashes looked up per query
_SWEEP_BATCH = 5000  # orphan sentence rows deleted per call


class IndexWriter:
    """One ingest's writes into ``reader``'s index (``reader`` itself keeps serving the last
    complete ingest until ``commit``). The caller holds the write lock."""

    def __init__(self, reader: VectorIndex, manifest: Manifest | None, *, fresh: bool) -> None:
        self.reader = reader
        store = reader.connection.new_generation(manifest, fresh=fresh)
        if store is None:  # written in place
            if fresh:
                reader.reset()
            self.index = reader
        else:
            self.index = VectorIndex(reader.home, reader.embeddings, reader.name, store=store)
        # When the store starts empty, only the texts this ingest wrote can be looked up.
        self._written: set[str] | None = None
        self._written_lock = threading.Lock()  # add() runs in the ingest's writer thread

    def _collection(self) -> Any:
        return self.index.sentences

    def begin(self) -> bool:
        """Create both collections (even if they stay empty) and mark an ingest under way;
        True when the previous one never finished (killed, crashed, power cut)."""
        self.index.create_collections()
        self._written = set() if self.index.sentences.count() == 0 else None
        interrupted = self.index.connection.was_pending(self._collection)
        self.index.connection.mark_pending(self._collection, True)
        return interrupted

    def stored(self) -> dict[str, dict[str, Any]]:
        """The head row metadata of every stored chunk, by chunk id."""
        return {
            split_id(row)[0]: meta
            for page in self.index.iter_chunks(include=["metadatas"])
            for row, meta in zip(page["ids"], page["metadatas"], strict=True)
        }

    def changes(
        self, wanted: Mapping[str, Chunk]
    ) -> tuple[list[Chunk], dict[str, int], list[Chunk]]:
        """What makes the stored chunks ``wanted``: the chunks to add, the ids to delete
        (with their sentence count) and the chunks whose metadata to update (moved)."""
        have = self.stored()
        new = [c for cid, c in wanted.items() if cid not in have]
        gone = {cid: sentence_count(meta) for cid, meta in have.items() if cid not in wanted}
        changed = [c for cid, c in wanted.items() if cid in have and moved(c, have[cid])]
        return new, gone, changed

    def cached_vectors(self, hashes: Iterable[str]) -> dict[str, list[float]]:
        """Vectors already stored for these text hashes (renamed files, moved or repeated
        sentences): the same text is never embedded twice."""
        found: dict[str, list[float]] = {}
        with self._written_lock:
            if self._written is not None:
                hashes = set(hashes) & self._written
        for batch in batches(sorted(hashes), _HASH_BATCH):
            got = self.index.sentences.get(
                where={"text_hash": {"$in": list(batch)}}, include=["embeddings", "metadatas"]
            )
            for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                found.setdefault(meta["text_hash"], list(vector))
        return found

    def _limit(self) -> int:
        return self.index.client.get_max_batch_size()

    def add(self, rows: Rows) -> None:
        """Store one batch's rows: heads last, so a chunk only appears once all of its
        sentences are stored."""
        with self._written_lock:
            if self._written is not None:
                self._written.update(rows.vectors_by_hash())
        for part in batches(rows.sentences + rows.heads, self._limit()):
            ids, vectors, metas = zip(*part, strict=True)
            self.index.sentences.upsert(
                ids=list(ids), embeddings=np.asarray(vectors), metadatas=list(metas)
            )

    def update(self, chunks: Sequence[Chunk]) -> None:
        """Rewrite the fields of chunks whose text is unchanged but whose place moved."""
        for batch in batches(chunks, self._limit()):
            self.index.sentences.update(
                ids=[head_id(c.id) for c in batch],
                metadatas=[chunk_metadata(c) for c in batch],
            )

    def delete(self, gone: Mapping[str, int]) -> None:
        """Remove chunks (by id, with their sentence count): heads first, so no chunk is
        ever half there."""
        ids = [head_id(cid) for cid in gone]
        ids += [sid for cid, n in gone.items() for sid in sentence_ids(cid, n)[1:]]
        for batch in batches(ids, self._limit()):
            self.index.sentences.delete(ids=list(batch))

    def sweep_orphans(self, keep: set[str]) -> int:
        """Delete sentence rows whose chunk is not in ``keep`` (left by a killed ingest)."""
        orphans = [
            sid
            for got in pages(self.index.sentences, [])
            for sid in got["ids"]
            if split_id(sid)[0] not in keep
        ]
        for batch in batches(orphans, _SWEEP_BATCH):
            self.index.sentences.delete(ids=list(batch))
        return len(orphans)

    def finish(self, manifest: Manifest) -> None:
        """Write the manifest, naming this ingest's store (its last step: readers switch
        to it now), then drop earlier BM25 folders and the under-way mark."""
        index = self.index
        store = None if index.connection.shared else index.store_name
        index.write_manifest(dataclasses.replace(manifest, store=store))
        if manifest.built is not None:
            index.prune_lexical(manifest.built)  # earlier ingests' BM25, now unreferenced
        index.connection.mark_pending(self._collection, False)
        index.forget_cached()

    def commit(self) -> None:
        """Point ``reader`` at what was written; earlier store generations are removed."""
        if self.index is not self.reader:
            self.index.close()
            self.reader.use_store(self.index.store_name)
            self.reader.connection.keep_generation(self.index.store_name)

    def abandon(self) -> None:
        """After a failure: let go, and remove a half-written store generation (the last
        complete index stays as it was)."""
        if self.index is self.reader:
            return
        self.index.close()
        try:
            named = self.reader.manifest()
            current = named.store if named is not None else None
        except Exception:
            current = None
        if current != self.index.store_name:
            self.reader.connection.drop_generation(self.index.store_name)


def ingest_failure(
    index: VectorIndex, writer: IndexWriter | None, error: BaseException
) -> RoleGuideError | None:
    """Clean up after a failed ingest and say what to raise instead of ``error`` (a full
    disk, an unreachable server, damage); None when ``error`` should be raised as it is."""
    store = writer.index.store_name if writer is not None else None
    full = isinstance(error, Exception) and index.connection.low_on_space(store)
    if writer is not None:
        writer.abandon()
    if isinstance(error, RoleGuideError) or not is_store_failure(error):
        return None
    if full:
        return disk_full_error(index.home)
    return store_failure(error, index.where, index.chroma_url)
