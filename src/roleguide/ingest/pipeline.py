"""Stage 4b, ingest: bring the index in line with the corpus folder, incrementally.

Only chunks the index has not seen are embedded; new rows are written before old ones
are removed, so every intermediate state is a valid index; the BM25 index and the
manifest are replaced last and atomically. One writer at a time (a file lock).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import Timeout

from roleguide.errors import IndexLockedError, RoleGuideError
from roleguide.ingest.chunks import CHUNKER_VERSION, Chunk, chunk_document
from roleguide.ingest.cleaning import clean_blocks
from roleguide.ingest.corpus import SkippedFile, load_corpus, scan_corpus
from roleguide.ingest.discovery import discover, merge_discoveries
from roleguide.store.embeddings import embed_array
from roleguide.store.generations import (
    LEGACY_STORE,
    copy_store,
    disk_full_error,
    is_store_failure,
    low_on_space,
    new_store_name,
    prune_stores,
    store_failure,
)
from roleguide.store.index import VectorIndex, chunk_metadata
from roleguide.store.lexical import LexicalIndex

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
    query_model_seconds: float = 0.0
    """checking (or, the first time, making) the ONNX question model; part of ``seconds``"""
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
        try:
            st = path.stat()
        except OSError:  # renamed or deleted since the folder was listed
            out.append([source, -1, -1])
            continue
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


def _embed(
    index: VectorIndex,
    batch: Sequence[Chunk],
    report: IngestReport,
    in_flight: dict[str, list[float]],
    written: set[str] | None = None,
) -> tuple[list[tuple], list[tuple]]:
    """Embed the sentences of ``batch`` not already stored (nor in the batch being written,
    ``in_flight``); return its sentence and chunk rows. ``written``: when the store was
    empty at the start, the texts this ingest stored — the only ones worth looking up."""
    texts = [t for c in batch for t in c.embedding_texts()]
    hashes = [text_hash(t) for t in texts]
    began = time.perf_counter()
    vectors = {h: in_flight[h] for h in hashes if h in in_flight}
    lookup = set(hashes) - set(vectors)
    vectors.update(_cached_vectors(index, lookup if written is None else lookup & written))
    todo = list(dict.fromkeys(h for h in hashes if h not in vectors))
    first_text = dict(zip(hashes, texts, strict=True))
    if todo:
        embedded = embed_array(index.embeddings, [first_text[h] for h in todo])
        vectors.update(zip(todo, embedded, strict=True))
    report.sentences_embedded += len(todo)
    report.sentences_reused += len(texts) - len(todo)
    report.embed_seconds += time.perf_counter() - began

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
            sentence_rows.append((f"{c.id}:{i}", mine[i], c.sentence_text(i), meta))
        row += n
        mean = mine.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        chunk_rows.append((c.id, mean, c.text, chunk_metadata(c)))
    return sentence_rows, chunk_rows


def _write(index: VectorIndex, rows: tuple[list, list], report: IngestReport) -> None:
    """Store one batch's rows: sentences first, so a chunk row only appears once all of its
    sentences are stored."""
    began = time.perf_counter()
    limit = index.client.get_max_batch_size()
    for collection, part_rows in zip((index.sentences, index.chunks), rows, strict=True):
        for part in _batches(part_rows, limit):
            ids, embs, docs, metas = zip(*part, strict=True)
            collection.upsert(
                ids=list(ids), embeddings=list(embs), documents=list(docs), metadatas=list(metas)
            )
    report.store_seconds += time.perf_counter() - began


def _embed_and_write_all(
    index: VectorIndex, new: Sequence[Chunk], report: IngestReport, progress: Progress | None
) -> None:
    """Embed batch n+1 while batch n is written to Chroma (one writer thread): the model
    and the store overlap instead of taking turns."""
    from concurrent.futures import ThreadPoolExecutor

    written = set() if new and index.sentences.count() == 0 else None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="roleguide-write") as writer:
        pending, in_flight = None, {}
        for done, batch in enumerate(_batches(new, INGEST_BATCH), start=1):
            rows = _embed(index, batch, report, in_flight, written)
            if pending is not None:
                pending.result()  # re-raises a failed write here
            in_flight = {meta["text_hash"]: vector for _, vector, _, meta in rows[0]}
            if written is not None:
                written.update(in_flight)
            pending = writer.submit(_write, index, rows, report)
            if progress:
                progress("embedding", min(done * INGEST_BATCH, len(new)), len(new))
        if pending is not None:
            pending.result()


def _delete(index: VectorIndex, gone: dict[str, int]) -> None:
    limit = index.client.get_max_batch_size()
    chunk_ids = list(gone)
    for batch in _batches(chunk_ids, limit):
        index.chunks.delete(ids=list(batch))
    sentence_ids = [f"{cid}:{i}" for cid, n in gone.items() for i in range(n)]
    for batch in _batches(sentence_ids, limit):
        index.sentences.delete(ids=list(batch))


QUERY_CHECK_SENTENCES = 1000  # corpus sentences the ONNX question model is checked on


def _query_model(index: VectorIndex) -> tuple[dict | None, float] | None:
    """Make (or keep) the embedder's fast question model, checked on the corpus sentences
    of ``index``: ``(its manifest record, seconds)``, or None for embedders without one."""
    ensure = getattr(index.embeddings, "ensure_query_export", None)
    if ensure is None:
        return None
    began = time.perf_counter()
    got = index.sentences.get(include=["documents"], limit=QUERY_CHECK_SENTENCES)
    record = ensure(list(got["documents"] or []))
    summary = None
    if record is not None:
        summary = {k: record[k] for k in ("model_sha256", "tokenizer_sha256", "source", "config")}
        summary["checked"] = record.get("checked")
    return summary, time.perf_counter() - began


def _ensure_query_model(index: VectorIndex) -> float:
    """For an unchanged corpus: check the question model, record it if it changed."""
    manifest = index.manifest()
    made = _query_model(index) if manifest is not None else None
    if made is None:
        return 0.0
    summary, seconds = made
    if manifest.get("query_model") != summary:
        index.write_manifest({**manifest, "query_model": summary})
    return seconds


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
    files, outside = scan_corpus(corpus_dir)
    # Taken before any file is read: an edit made while ingest runs changes the next
    # signature, so the next ingest reads the file again.
    signature = corpus_signature(files)
    lock = index.write_lock()
    try:
        lock.acquire()
    except Timeout as e:
        raise IndexLockedError(
            f"another roleguide process is writing the index in {index.where} (lock: "
            f"{lock.lock_file}); wait for it to finish, or run a Chroma server so that "
            "several processes can share one index (see README: Running with a Chroma server)"
        ) from e
    writer = None
    try:
        manifest = None if rebuild else index.manifest()
        outdated = (
            manifest is not None
            and manifest.get("model") == index.model_id
            and manifest.get("chunker") != CHUNKER_VERSION
        )
        if rebuild or outdated:  # an index from an older roleguide is rebuilt, not refused
            manifest = None
        elif manifest is not None:
            index.check_compatible(manifest)  # never mix two models in one index silently
            if manifest.get("signature") == signature and index.is_complete():
                checked = _ensure_query_model(index)
                report = _unchanged(manifest, began)
                report.query_model_seconds = checked
                return report
        writer = _writer(index, manifest, fresh=rebuild or outdated)
        report = _update(writer, corpus_dir, files, outside, manifest, signature, progress)
        if outdated:
            report.warnings.insert(0, "the index was built by an older roleguide: rebuilt")
        if not report.files:
            report.warnings.append(
                f"no articles in {corpus_dir}: put .md, .txt or .html files there and run "
                "`roleguide ingest` again"
            )
        if writer is not index:
            writer.close()
            index.use_store(writer.store_name)  # the caller's index reads the new store
            prune_stores(index.home, writer.store_name)  # earlier generations, leftovers
        report.seconds = time.perf_counter() - began
        return report
    except BaseException as e:
        full = (
            isinstance(e, Exception)
            and not index.chroma_url
            and low_on_space(
                index.home, index.home / (writer.store_name if writer is not None else ".")
            )
        )
        if writer is not None and writer is not index:  # the last complete index stays
            writer.close()
            if _named_store(index) != writer.store_name:
                shutil.rmtree(writer.home / writer.store_name, ignore_errors=True)
        if isinstance(e, RoleGuideError) or not is_store_failure(e):
            raise
        if full:
            raise disk_full_error(index.home) from e
        raise store_failure(e, index.where, index.chroma_url) from e
    finally:
        lock.release()


def _named_store(index: VectorIndex) -> str | None:
    """The store folder the manifest names (None when it cannot be read)."""
    try:
        return (index.manifest() or {}).get("store")
    except Exception:
        return None


def _skipped(report: IngestReport) -> dict[str, str]:
    return {s.source: s.reason for s in report.skipped}


def _writer(index: VectorIndex, manifest: dict | None, *, fresh: bool) -> VectorIndex:
    """Where this ingest writes. Embedded: a new store folder, a copy of the current one
    (empty when rebuilding), so readers keep the last complete index until the manifest
    names the new one. Server mode: the server's collections, in place."""
    if index.chroma_url:
        if fresh:
            index.reset()
        return index
    name = new_store_name()
    current = index.home / str((manifest or {}).get("store") or LEGACY_STORE)
    if not fresh and manifest is not None and current.is_dir():
        copy_store(index.home, current.name, name)
    return VectorIndex(index.home, index.embeddings, index.name, store=name)


def _update(
    index: VectorIndex,
    corpus_dir: Path,
    files: list[tuple[Path, str]],
    outside: list[SkippedFile],
    manifest: dict | None,
    signature: list,
    progress: Progress | None,
) -> IngestReport:
    """The ingest proper, into ``index`` (the writer), under the write lock."""
    index.sentences, index.chunks  # noqa: B018 - create both collections, even if empty
    interrupted = index.was_pending()
    index.mark_pending(True)
    loaded = load_corpus(corpus_dir, files)
    report = IngestReport(
        files=[d.source for d in loaded.documents],
        skipped=[*outside, *loaded.skipped],
        warnings=[f"{d.source}: {w}" for d in loaded.documents for w in d.warnings],
    )
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
        cid: len(json.loads(meta["sentences"])) for cid, meta in have.items() if cid not in wanted
    }
    moved = [c for cid, c in wanted.items() if cid in have and have[cid] != chunk_metadata(c)]
    _embed_and_write_all(index, new, report, progress)
    for batch in _batches(moved, index.client.get_max_batch_size()):
        index.chunks.update(ids=[c.id for c in batch], metadatas=[chunk_metadata(c) for c in batch])
    if gone:
        _delete(index, gone)
    if interrupted:  # a killed ingest may have left sentences of chunks never written
        report.swept = index.sweep_orphans(set(wanted))
    index.forget_cached()
    report.added, report.removed, report.updated = len(new), len(gone), len(moved)
    report.unchanged = len(wanted) - len(new) - len(moved)
    report.chunks = len(wanted)
    digests = {d.source: d.digest for d in loaded.documents}
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
    # The question model is made before the manifest names this store: the manifest is an
    # ingest's last step, so nothing failing after it can leave readers a half-made index.
    made = _query_model(index)
    report.query_model_seconds = made[1] if made is not None else 0.0
    index.write_manifest(  # always: it also names the store folder readers should use
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
            "skipped": _skipped(report),
            "built": built,
            **({} if index.chroma_url else {"store": index.store_name}),
            **({} if made is None else {"query_model": made[0]}),
        }
    )
    index.prune_lexical(built)  # earlier ingests' BM25 folders, now unreferenced
    index.mark_pending(False)
    index.forget_cached()
    return report
