"""Stage 4b, ingest: bring the index in line with the corpus folder, incrementally.

Only chunks the index has not seen are embedded; new rows are written before old ones
are removed, so every intermediate state is a valid index; the BM25 index and the
manifest are replaced last and atomically. One writer at a time (a file lock).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import Timeout

from .chunks import CHUNKER_VERSION, Chunk, chunk_corpus
from .corpus import SkippedFile, corpus_files, load_corpus
from .errors import IndexLockedError
from .index import VectorIndex, chunk_metadata
from .lexical import LexicalIndex

__all__ = ["IngestReport", "Progress", "corpus_signature", "ingest"]

Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """What one ``ingest`` did; ``changed`` is false when the index was already up to date."""

    files: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    sentences_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)


def corpus_signature(files: Sequence[tuple[Path, str]]) -> list[list]:
    """Cheap fingerprint of the corpus folder (names, sizes, times) to notice edits."""
    out = []
    for path, source in files:
        st = path.stat()
        out.append([source, st.st_size, st.st_mtime_ns])
    return out


def _batches(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _embed_new(index: VectorIndex, new: list[Chunk], progress: Progress | None):
    texts = [t for c in new for t in c.embedding_texts()]
    vectors: list[list[float]] = []
    for batch in _batches(texts, 256):
        vectors.extend(index.embeddings.embed_documents(list(batch)))
        if progress:
            progress("embedding", len(vectors), len(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _write_new(index: VectorIndex, new: list[Chunk], vectors: np.ndarray) -> None:
    limit = index.client.get_max_batch_size()
    sentence_rows, chunk_rows, row = [], [], 0
    for c in new:
        n = len(c.sentences)
        mine = vectors[row : row + n]
        row += n
        for i in range(n):
            meta = {"chunk_id": c.id, "source": c.source, "section": c.section, "position": i}
            sentence_rows.append((f"{c.id}:{i}", mine[i].tolist(), c.sentence_text(i), meta))
        mean = mine.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        chunk_rows.append((c.id, mean.tolist(), c.text, chunk_metadata(c)))
    # Sentences first: a chunk row only appears once all of its sentences are stored.
    for collection, rows in ((index.sentences, sentence_rows), (index.chunks, chunk_rows)):
        for batch in _batches(rows, limit):
            ids, embs, docs, metas = zip(*batch, strict=True)
            collection.upsert(
                ids=list(ids), embeddings=list(embs), documents=list(docs), metadatas=list(metas)
            )


def _delete(index: VectorIndex, gone: dict[str, int]) -> None:
    limit = index.client.get_max_batch_size()
    chunk_ids = list(gone)
    for batch in _batches(chunk_ids, limit):
        index.chunks.delete(ids=list(batch))
    sentence_ids = [f"{cid}:{i}" for cid, n in gone.items() for i in range(n)]
    for batch in _batches(sentence_ids, limit):
        index.sentences.delete(ids=list(batch))


def ingest(
    index: VectorIndex,
    corpus_dir: Path,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index in line with ``corpus_dir``; embeds only chunks it has not seen.

    Raises ``IndexLockedError`` when another process is writing the same index.
    """
    began = time.perf_counter()
    files = corpus_files(corpus_dir)
    lock = index.write_lock()
    try:
        lock.acquire()
    except Timeout as e:
        raise IndexLockedError(
            f"another roleguide process is writing the index in {index.home} (lock: "
            f"{lock.lock_file}); wait for it to finish, or run a Chroma server so that "
            "several processes can share one index (see README: Running with a Chroma server)"
        ) from e
    try:
        manifest = None if rebuild else index.manifest()
        if rebuild:
            index.reset()
        elif manifest is not None:
            index.check_compatible(manifest)  # never mix two models in one index silently
        loaded = load_corpus(corpus_dir, files)
        report = IngestReport(
            files=[d.source for d in loaded.documents],
            skipped=loaded.skipped,
            warnings=[f"{d.source}: {w}" for d in loaded.documents for w in d.warnings],
        )
        wanted = {c.id: c for c in chunk_corpus(loaded.documents)}
        stored = index.chunks.get(include=["metadatas"])
        have = dict(zip(stored["ids"], stored["metadatas"], strict=True))
        new = [c for cid, c in wanted.items() if cid not in have]
        gone = {
            cid: len(json.loads(meta["sentences"]))
            for cid, meta in have.items()
            if cid not in wanted
        }
        moved = [c for cid, c in wanted.items() if cid in have and have[cid] != chunk_metadata(c)]
        if new:
            vectors = _embed_new(index, new, progress)
            _write_new(index, new, vectors)
        for batch in _batches(moved, index.client.get_max_batch_size()):
            index.chunks.update(
                ids=[c.id for c in batch], metadatas=[chunk_metadata(c) for c in batch]
            )
        if gone:
            _delete(index, gone)
        index.forget_cached()
        report.added, report.removed, report.updated = len(new), len(gone), len(moved)
        report.unchanged = len(wanted) - len(new) - len(moved)
        report.chunks = len(wanted)
        report.sentences_embedded = sum(len(c.sentences) for c in new)
        lexical_missing = LexicalIndex.load(index.home / "bm25") is None
        if report.changed or lexical_missing or manifest is None:
            if progress:
                progress("lexical index", 0, 1)
            ordered = list(wanted.values())
            LexicalIndex.build(
                [c.id for c in ordered], [LexicalIndex.document_text(c) for c in ordered]
            ).save(index.home / "bm25")
        digests = {d.source: d.digest for d in loaded.documents}
        signature = corpus_signature(files)
        if report.changed or manifest is None or manifest.get("signature") != signature:
            index.write_manifest(
                {
                    "model": index.model_id,
                    "chunker": CHUNKER_VERSION,
                    "chunks": len(wanted),
                    "files": digests,
                    "signature": signature,
                    "titles": {d.source: d.title for d in loaded.documents},
                    "roles": {d.source: list(d.roles) for d in loaded.documents},
                    "skipped": {s.source: s.reason for s in loaded.skipped},
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
        index.forget_cached()
        report.seconds = time.perf_counter() - began
        return report
    finally:
        lock.release()
