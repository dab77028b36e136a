"""How chunks and their sentences are laid out as Chroma rows, written and read back.

The one place that knows the row layout. The index is one collection with one row per
sentence: its id is ``<chunk id>:<position>``, its vector the sentence's, its metadata
the hash of the text it embeds (to reuse the vector). The row at position 0 is also the
chunk's *head*: its metadata carries the chunk (text and fields, one JSON value).

Why so lean: Chroma writes hold Python's lock, so every metadata key and document slows
the embedding that runs beside them; rows have no Chroma document (its full-text index
was most of the write cost, and nothing searches it). Chunks have no vector of their own
(a chunk's vector is the normalised mean of its sentences', ``chunk_vector``): Chroma
loads a collection's whole vector index at its first use, so a reader loads one, not two.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from roleguide.ingest.chunks import Chunk

__all__ = [
    "HEAD",
    "Rows",
    "batches",
    "chunk_metadata",
    "chunk_rows",
    "chunk_vector",
    "head_id",
    "moved",
    "page_records",
    "pages",
    "record",
    "sentence_count",
    "sentence_id",
    "sentence_ids",
    "split_id",
]

HEAD: dict[str, Any] = {"head": True}
"""The Chroma ``where`` filter that selects chunk heads (one row per chunk)."""


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    """``items`` in consecutive slices of at most ``size`` (Chroma and SQLite cap a call)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


Row = tuple[str, np.ndarray, dict[str, Any]]
"""One Chroma row: id, vector, metadata."""


def sentence_id(chunk_id: str, position: int) -> str:
    """The id of the sentence row at ``position`` in chunk ``chunk_id``."""
    return f"{chunk_id}:{position}"


def sentence_ids(chunk_id: str, count: int) -> list[str]:
    """The ids of a chunk's ``count`` sentence rows, in order."""
    return [sentence_id(chunk_id, i) for i in range(count)]


def head_id(chunk_id: str) -> str:
    """The id of the row that carries chunk ``chunk_id`` (its first sentence's)."""
    return sentence_id(chunk_id, 0)


def chunk_vector(sentence_vectors: np.ndarray) -> np.ndarray:
    """A chunk's vector: the normalised mean of its sentences' (float32)."""
    mean = np.asarray(sentence_vectors, dtype=np.float32).mean(axis=0)
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    return mean


def split_id(row_id: str) -> tuple[str, int]:
    """The chunk id and position of the sentence row ``row_id``."""
    chunk_id, position = row_id.rsplit(":", 1)
    return chunk_id, int(position)


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """The metadata of a chunk's head row beside its text hash: the chunk as JSON (keys
    sorted, so an unchanged chunk gives the same text, compared to notice a moved one)."""
    fields = {
        "id": chunk.id,
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "kind": chunk.kind,
        "text": chunk.text,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": chunk.sentences,
        "context": chunk.context,
    }
    return {"head": True, "chunk": json.dumps(fields, sort_keys=True, ensure_ascii=False)}


def moved(chunk: Chunk, head: Mapping[str, Any]) -> bool:
    """True when the stored head row ``head`` of ``chunk`` has other fields (same text,
    another place: a heading or the text around it changed)."""
    return head.get("chunk") != chunk_metadata(chunk)["chunk"]


def sentence_count(head: Mapping[str, Any]) -> int:
    """How many sentence rows the chunk whose head row has metadata ``head`` has."""
    return len(json.loads(head["chunk"])["sentences"])


def record(head: Mapping[str, Any]) -> Chunk:
    """The chunk a stored head row's metadata holds."""
    c = json.loads(head["chunk"])
    return Chunk(
        c["id"],
        c["source"],
        c["title"],
        c["section"],
        c["kind"],
        c["text"],
        int(c["start"]),
        int(c["end"]),
        tuple((int(a), int(b)) for a, b in c["sentences"]),
        c.get("context", ""),
    )


def page_records(got: Mapping[str, Any]) -> list[Chunk]:
    """The chunks of one Chroma ``get`` reply of head rows (metadatas included)."""
    return [record(meta) for meta in got["metadatas"]]


def pages(
    collection: Any, include: list[str], page: int = 5000, where: dict | None = None
) -> Iterator[Any]:
    """Every row of a Chroma collection (matching ``where``), one ``get`` reply of ``page``
    rows at a time."""
    offset = 0
    while True:
        got = collection.get(where=where, include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


@dataclass
class Rows:
    """The rows of a batch of chunks: the sentences after the first of each chunk, then the
    heads (written last, so a chunk only appears once all of its sentences are stored)."""

    sentences: list[Row] = field(default_factory=list)
    heads: list[Row] = field(default_factory=list)

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        """The sentence vectors by the hash of the text they embed."""
        return {meta["text_hash"]: vector for _, vector, meta in self.sentences + self.heads}


def chunk_rows(batch: Sequence[Chunk], hashes: Sequence[str], vectors: Mapping) -> Rows:
    """The rows of ``batch``, given each embedding text's hash (in order, chunk by chunk)
    and the vector of every hash."""
    rows, at = Rows(), 0
    for c in batch:
        for i in range(len(c.sentences)):
            meta: dict[str, Any] = {"text_hash": hashes[at + i]}
            vector = np.asarray(vectors[hashes[at + i]], dtype=np.float32)
            if i == 0:
                rows.heads.append((head_id(c.id), vector, {**meta, **chunk_metadata(c)}))
            else:
                rows.sentences.append((sentence_id(c.id, i), vector, meta))
        at += len(c.sentences)
    return rows
