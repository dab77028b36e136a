"""How chunks and their sentences are laid out as Chroma rows, written and read back.

The one place that knows the row layout: a chunk row (its text, a metadata dict, the
normalised mean of its sentence vectors) and one sentence row per sentence, whose id is
``<chunk id>:<position>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from roleguide.ingest.chunks import Chunk

__all__ = [
    "Rows",
    "batches",
    "chunk_metadata",
    "chunk_rows",
    "page_records",
    "pages",
    "record",
    "sentence_count",
    "sentence_id",
    "sentence_ids",
]


def batches(items: Sequence, size: int) -> Iterator[Sequence]:
    """``items`` in consecutive slices of at most ``size`` (Chroma and SQLite cap a call)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


Row = tuple[str, list[float], str, dict[str, Any]]
"""One Chroma row: id, vector, document, metadata."""


def sentence_id(chunk_id: str, position: int) -> str:
    """The id of the sentence row at ``position`` in chunk ``chunk_id``."""
    return f"{chunk_id}:{position}"


def sentence_ids(chunk_id: str, count: int) -> list[str]:
    """The ids of a chunk's ``count`` sentence rows, in order."""
    return [sentence_id(chunk_id, i) for i in range(count)]


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    """What a chunk row stores beside its text (compared to notice a moved chunk)."""
    return {
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "kind": chunk.kind,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps(chunk.sentences),
        "context": chunk.context,
    }


def sentence_count(meta: Mapping[str, Any]) -> int:
    """How many sentence rows the chunk row with metadata ``meta`` has."""
    return len(json.loads(meta["sentences"]))


def record(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    """The chunk a stored row holds."""
    return Chunk(
        chunk_id,
        meta["source"],
        meta["title"],
        meta["section"],
        meta["kind"],
        text,
        int(meta["start"]),
        int(meta["end"]),
        tuple((int(a), int(b)) for a, b in json.loads(meta["sentences"])),
        meta.get("context", ""),
    )


def page_records(got: Mapping[str, Any]) -> list[Chunk]:
    """The chunks of one Chroma ``get`` reply (documents and metadatas included)."""
    return [
        record(cid, text, meta)
        for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]


def pages(collection: Any, include: list[str], page: int = 5000) -> Iterator[Any]:
    """Every row of a Chroma collection, one ``get`` reply of ``page`` rows at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


@dataclass
class Rows:
    """The rows of a batch of chunks: sentences first (written first, so a chunk row only
    appears once all of its sentences are stored)."""

    sentences: list[Row] = field(default_factory=list)
    chunks: list[Row] = field(default_factory=list)

    def vectors_by_hash(self) -> dict[str, list[float]]:
        """The sentence vectors by the hash of the text they embed."""
        return {meta["text_hash"]: vector for _, vector, _, meta in self.sentences}


def chunk_rows(batch: Sequence[Chunk], hashes: Sequence[str], vectors: Mapping) -> Rows:
    """The rows of ``batch``, given each embedding text's hash (in order, chunk by chunk)
    and the vector of every hash. A chunk's vector is the normalised mean of its
    sentences', so nothing is embedded twice."""
    rows, at = Rows(), 0
    for c in batch:
        n = len(c.sentences)
        mine = np.asarray([vectors[h] for h in hashes[at : at + n]], dtype=np.float32)
        for i in range(n):
            meta = {
                "chunk_id": c.id,
                "source": c.source,
                "section": c.section,
                "position": i,
                "text_hash": hashes[at + i],
            }
            row = (sentence_id(c.id, i), mine[i], c.sentence_text(i), meta)
            rows.sentences.append(row)
        at += n
        mean = mine.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        rows.chunks.append((c.id, mean, c.text, chunk_metadata(c)))
    return rows
