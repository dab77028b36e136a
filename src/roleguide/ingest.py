"""Stage 4b, ingest: bring the index in line with the corpus folder, incrementally.

Only chunks the index has not seen are embedded; new rows are written before old ones
are removed, so every intermediate state is a valid index; the BM25 index and the
manifest are replaced last and atomically. One writer at a time (a file lock).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import Timeout

from .chunks import CHUNKER_VERSION, Chunk, chunk_document
from .cleaning import clean_blocks
from .corpus import SkippedFile, corpus_files, load_corpus
from .discovery import discover, merge_discoveries
from .errors import IndexLockedError
from .index import VectorIndex, chunk_metadata
from .lexical import LexicalIndex

__all__ = ["IngestReport", "Progress", "corpus_signature", "ingest"]

Progress = Callable[[str, int, int], None]
INGEST_BATCH = 512  # chunks embedded and written together: memory stays flat on any corpus


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
    sentences_reused: int = 0
    """sentences whose vector was already stored (same text): not embedded again"""
    embed_seconds: float = 0.0
    store_seconds: float = 0.0
    swept: int = 0
    """sentence rows left by an interrupted ingest and removed by this one"""
    seconds: float = 0.0
    roles: dict[str, list[str]] = field(default_factory=dict)
    """the roles each article covers (front matter, else found in its text)"""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)


def _unchanged(manifest: dict, began: float) -> IngestReport:
    """The report of an ingest that found the corpus folder exactly as last indexed."""
    return IngestReport(
        files=sorted(manifest.get("files", {})),
        skipped=[SkippedFile(s, r) for s, r in manifest.get("skipped", {}).items()],
        unchanged=int(manifest.get("chunks", 0)),
        chunks=int(manifest.get("chunks", 0)),
        seconds=time.perf_counter() - began,
        roles={s: list(r) for s, r in manifest.get("roles", {}).items()},
    )


def corpus_signature(files: Sequence[tuple[Path, str]]) -> list[list]:
    """Cheap fingerprint of the corpus folder (names, sizes, times) to notice edits."""
    out = []
    for path, source in files:
        st = path.stat()
        out.append([source, st.st_size, st.st_mtime_ns])
    return out


def _only_role(roles: Sequence[str]) -> str | None:
    return roles[0] if len(roles) == 1 else None


def _batches(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def text_hash(text: str) -> str:
    """Content key of an embedded text: the same text is never embedded twice."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _cached_vectors(index: VectorIndex, hashes: set[str]) -> dict[str, list[float]]:
    """Vectors already stored for these texts (renamed files, moved or repeated sentences)."""
    found: dict[str, list[float]] = {}
    keys = sorted(hashes)
    for batch in _batches(keys, 500):
        got = index.sentences.get(
            where={"text_hash": {"$in": list(batch)}}, include=["embeddings", "metadatas"]
        )
        for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
            found.setdefault(meta["text_hash"], list(vector))
    return found


def _embed_and_write(index: VectorIndex, batch: Sequence[Chunk], report: IngestReport) -> None:
    """Embed the sentences of ``batch`` not already stored, then write its rows."""
    texts = [t for c in batch for t in c.embedding_texts()]
    hashes = [text_hash(t) for t in texts]
    began = time.perf_counter()
    vectors = _cached_vectors(index, set(hashes))
    todo = list(dict.fromkeys(h for h in hashes if h not in vectors))
    first_text = dict(zip(hashes, texts, strict=True))
    if todo:
        embedded = index.embeddings.embed_documents([first_text[h] for h in todo])
        vectors.update(zip(todo, embedded, strict=True))
    report.sentences_embedded += len(todo)
    report.sentences_reused += len(texts) - len(todo)
    report.embed_seconds += time.perf_counter() - began

    began = time.perf_counter()
    sentence_rows, chunk_rows, row = [], [], 0
    for c in batch:
        n = len(c.sentences)
        mine = np.asarray([vectors[h] for h in hashes[row : row + n]], dtype=np.float32)
        for i in range(n):
            meta = {
                "chunk_id": c.id,
                "source": c.source,
                "section": c.section,
                "position": i,
                "text_hash": hashes[row + i],
            }
            sentence_rows.append((f"{c.id}:{i}", mine[i].tolist(), c.sentence_text(i), meta))
        row += n
        mean = mine.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        chunk_rows.append((c.id, mean.tolist(), c.text, chunk_metadata(c)))
    limit = index.client.get_max_batch_size()
    # Sentences first: a chunk row only appears once all of its sentences are stored.
    for collection, rows in ((index.sentences, sentence_rows), (index.chunks, chunk_rows)):
        for part in _batches(rows, limit):
            ids, embs, docs, metas = zip(*part, strict=True)
            collection.upsert(
                ids=list(ids), embeddings=list(embs), documents=list(docs), metadatas=list(metas)
            )
    report.store_seconds += time.perf_counter() - began


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
            f"another roleguide process is writing the index in {index.where} (lock: "
            f"{lock.lock_file}); wait for it to finish, or run a Chroma server so that "
            "several processes can share one index (see README: Running with a Chroma server)"
        ) from e
    try:
        manifest = None if rebuild else index.manifest()
        outdated = (
            manifest is not None
            and manifest.get("model") == index.model_id
            and manifest.get("chunker") != CHUNKER_VERSION
        )
        if rebuild or outdated:  # an index from an older roleguide is rebuilt, not refused
            manifest = None
            index.reset()
        elif manifest is not None:
            index.check_compatible(manifest)  # never mix two models in one index silently
            if manifest.get("signature") == corpus_signature(files) and index.is_complete():
                return _unchanged(manifest, began)
        index.sentences, index.chunks  # noqa: B018 - create both collections, even if empty
        interrupted = index.was_pending()
        index.mark_pending(True)
        loaded = load_corpus(corpus_dir, files)
        report = IngestReport(
            files=[d.source for d in loaded.documents],
            skipped=loaded.skipped,
            warnings=[f"{d.source}: {w}" for d in loaded.documents for w in d.warnings],
        )
        if outdated:
            report.warnings.insert(0, "the index was built by an older roleguide: rebuilt")
        # Files already indexed come first, in their order, so a block that a new file
        # repeats (a copy, a re-scrape) stays with the article that had it first.
        known = list((manifest or {}).get("files", {}))
        rank = {source: i for i, source in enumerate(known)}
        loaded.documents.sort(key=lambda d: (rank.get(d.source, len(rank)), d.source))
        blocks = clean_blocks(loaded.documents)
        found = {d.source: discover(d, blocks[d.source]) for d in loaded.documents}
        corpus_view = merge_discoveries(found)
        report.roles = {source: list(d.roles) for source, d in found.items()}
        wanted = {
            c.id: c
            for d in loaded.documents
            for c in chunk_document(d, blocks[d.source], _only_role(found[d.source].roles))
        }
        have = {
            cid: meta
            for page in index.iter_chunks(include=["metadatas"])
            for cid, meta in zip(page["ids"], page["metadatas"], strict=True)
        }
        new = [c for cid, c in wanted.items() if cid not in have]
        gone = {
            cid: len(json.loads(meta["sentences"]))
            for cid, meta in have.items()
            if cid not in wanted
        }
        moved = [c for cid, c in wanted.items() if cid in have and have[cid] != chunk_metadata(c)]
        for done, batch in enumerate(_batches(new, INGEST_BATCH), start=1):
            _embed_and_write(index, batch, report)
            if progress:
                progress("embedding", min(done * INGEST_BATCH, len(new)), len(new))
        for batch in _batches(moved, index.client.get_max_batch_size()):
            index.chunks.update(
                ids=[c.id for c in batch], metadatas=[chunk_metadata(c) for c in batch]
            )
        if gone:
            _delete(index, gone)
        if interrupted:  # a killed ingest may have left sentences of chunks never written
            report.swept = index.sweep_orphans(set(wanted))
        index.forget_cached()
        report.added, report.removed, report.updated = len(new), len(gone), len(moved)
        report.unchanged = len(wanted) - len(new) - len(moved)
        report.chunks = len(wanted)
        digests = {d.source: d.digest for d in loaded.documents}
        signature = corpus_signature(files)
        built = time.strftime("%Y-%m-%dT%H:%M:%S%z") + f"/{time.time_ns()}"
        # Rebuild BM25 unless it already holds exactly these chunks (an ingest killed after
        # its Chroma writes leaves nothing "changed" here, but a stale BM25 behind).
        current = LexicalIndex.load(index.lexical_path((manifest or {}).get("built")))
        relexed = current is None or manifest is None or set(current.ids) != set(wanted)
        if relexed:
            if progress:
                progress("lexical index", 0, 1)
            ordered = list(wanted.values())
            LexicalIndex.build(
                [c.id for c in ordered], [LexicalIndex.document_text(c) for c in ordered]
            ).save(index.lexical_path(built))
        elif manifest is not None:
            built = manifest.get("built", built)  # same chunks: the BM25 index stays valid
        if relexed or report.changed or manifest.get("signature") != signature:
            index.write_manifest(
                {
                    "model": index.model_id,
                    "chunker": CHUNKER_VERSION,
                    "chunks": len(wanted),
                    "files": digests,
                    "signature": signature,
                    "titles": {d.source: d.title for d in loaded.documents},
                    "roles": report.roles,
                    "found_roles": {source: list(d.found) for source, d in found.items()},
                    "mentioned": sorted(corpus_view.mentioned),
                    "abbreviations": corpus_view.abbreviations,
                    "skipped": {s.source: s.reason for s in loaded.skipped},
                    "built": built,
                }
            )
        index.prune_lexical(built)  # earlier ingests' BM25 folders, now unreferenced
        index.mark_pending(False)
        index.forget_cached()
        report.seconds = time.perf_counter() - began
        return report
    finally:
        lock.release()
