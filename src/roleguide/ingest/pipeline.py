"""Stage 4b, ingest: bring the index in line with the corpus folder, incrementally.

Only chunks the index has not seen are embedded; new rows are written before old ones
are removed, so every intermediate state is a valid index; the BM25 index and the
manifest are replaced last and atomically. One writer at a time (a file lock).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import Timeout

from roleguide.errors import IndexLockedError
from roleguide.ingest.chunks import CHUNKER_VERSION, Chunk, chunk_document
from roleguide.ingest.cleaning import clean_blocks
from roleguide.ingest.corpus import SkippedFile, load_corpus, scan_corpus
from roleguide.ingest.discovery import discover, merge_discoveries
from roleguide.store.embeddings import document_pool
from roleguide.store.index import VectorIndex
from roleguide.store.lexical import LexicalIndex
from roleguide.store.manifest import Manifest
from roleguide.store.records import Rows, batches, chunk_rows
from roleguide.store.writer import IndexWriter, ingest_failure

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


def _unchanged(manifest: Manifest, began: float) -> IngestReport:
    """The report of an ingest that found the corpus folder exactly as last indexed."""
    return IngestReport(
        files=sorted(manifest.files),
        skipped=[SkippedFile(s, r) for s, r in manifest.skipped.items()],
        unchanged=int(manifest.chunks),
        chunks=int(manifest.chunks),
        seconds=time.perf_counter() - began,
        roles={s: list(r) for s, r in manifest.roles.items()},
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


def text_hash(text: str) -> str:
    """Content key of an embedded text: the same text is never embedded twice."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


@dataclass
class _Batch:
    """One batch of new chunks on its way to the store: the hash of each of its texts, the
    vectors already stored, the texts an earlier batch not yet written is embedding, and
    the embedding of the rest."""

    chunks: Sequence[Chunk]
    hashes: list[str]
    stored: dict[str, Any]
    earlier: dict[str, _Batch]
    todo: list[str]
    embedded: Future
    _vectors: dict[str, Any] | None = None

    def vectors(self) -> dict[str, Any]:
        """The vector of every text of the batch, by hash (waits for its embedding)."""
        if self._vectors is None:
            vectors = dict(self.stored)
            vectors.update(zip(self.todo, self.embedded.result(), strict=True))
            vectors.update({h: batch.vectors()[h] for h, batch in self.earlier.items()})
            self._vectors, self.stored, self.earlier = vectors, {}, {}
        return self._vectors


def _schedule(
    writer: IndexWriter,
    chunks: Sequence[Chunk],
    pool: Any,
    unwritten: dict[str, _Batch],
    report: IngestReport,
) -> _Batch:
    """Queue the texts of ``chunks`` that are neither stored nor in a batch not yet written
    (``unwritten``, by hash) for embedding in ``pool``."""
    texts = [t for c in chunks for t in c.embedding_texts()]
    hashes = [text_hash(t) for t in texts]
    earlier = {h: unwritten[h] for h in hashes if h in unwritten}
    stored = writer.cached_vectors(set(hashes) - set(earlier))
    todo = list(dict.fromkeys(h for h in hashes if h not in earlier and h not in stored))
    first_text = dict(zip(hashes, texts, strict=True))
    embedded = pool.submit([first_text[h] for h in todo])
    batch = _Batch(chunks, hashes, stored, earlier, todo, embedded)
    unwritten.update(dict.fromkeys(todo, batch))
    report.sentences_embedded += len(todo)
    report.sentences_reused += len(texts) - len(todo)
    return batch


def _write(writer: IndexWriter, rows: Rows, report: IngestReport) -> None:
    """Store one batch's rows (sentences first), timed."""
    began = time.perf_counter()
    writer.add(rows)
    report.store_seconds += time.perf_counter() - began


def _embed_and_write_all(
    writer: IndexWriter, new: Sequence[Chunk], report: IngestReport, progress: Progress | None
) -> None:
    """Embed and store ``new`` batch by batch. The embedding pool is kept one batch ahead,
    so its workers go from one batch's texts to the next without a pause, and each batch
    is written to Chroma in a second thread while the next ones embed."""
    from concurrent.futures import ThreadPoolExecutor

    unwritten: dict[str, _Batch] = {}  # text hash -> the batch embedding it, until written
    ahead: deque[_Batch] = deque()
    writing: tuple[Future, _Batch] | None = None
    done = 0

    def written(pending: Future, batch: _Batch) -> None:
        pending.result()  # re-raises a failed write here
        for h in batch.todo:  # now found in the store
            if unwritten.get(h) is batch:
                del unwritten[h]

    pool = document_pool(writer.index.embeddings)
    with pool, ThreadPoolExecutor(max_workers=1, thread_name_prefix="roleguide-write") as thread:
        for index, chunks in enumerate(batches(new, INGEST_BATCH)):
            ahead.append(_schedule(writer, chunks, pool, unwritten, report))
            last = (index + 1) * INGEST_BATCH >= len(new)
            while ahead and (len(ahead) > 1 or last):
                batch = ahead.popleft()
                rows = chunk_rows(batch.chunks, batch.hashes, batch.vectors())
                if writing is not None:
                    written(*writing)
                writing = (thread.submit(_write, writer, rows, report), batch)
                done += len(batch.chunks)
                if progress:
                    progress("embedding", done, len(new))
        if writing is not None:
            written(*writing)
    report.embed_seconds += pool.busy_seconds


QUERY_CHECK_SENTENCES = 1000  # corpus sentences the ONNX question model is checked on


def _query_model(index: VectorIndex) -> tuple[dict | None, float] | None:
    """Make (or keep) the embedder's fast question model, checked on the corpus sentences
    of ``index``: ``(its manifest record, seconds)``, or None for embedders without one."""
    ensure = getattr(index.embeddings, "ensure_query_export", None)
    if ensure is None:
        return None
    began = time.perf_counter()
    record = ensure(index.sample_sentences(QUERY_CHECK_SENTENCES))
    summary = None
    if record is not None:
        summary = {k: record[k] for k in ("model_sha256", "tokenizer_sha256", "source", "config")}
        summary["checked"] = record.get("checked")
    return summary, time.perf_counter() - began


def _ensure_query_model(index: VectorIndex) -> float:
    """For an unchanged corpus: check the question model, record it if it changed."""
    manifest = index.manifest()
    made = _query_model(index) if manifest is not None else None
    if manifest is None or made is None:
        return 0.0
    summary, seconds = made
    if manifest.query_model != summary:
        index.write_manifest(dataclasses.replace(manifest, query_model=summary))
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
        outdated = manifest is not None and manifest.is_outdated(index.model_id)
        if rebuild or outdated:  # an index from an older roleguide is rebuilt, not refused
            manifest = None
        elif manifest is not None:
            index.check_compatible(manifest)  # never mix two models in one index silently
            if manifest.signature == signature and index.is_complete():
                checked = _ensure_query_model(index)
                report = _unchanged(manifest, began)
                report.query_model_seconds = checked
                return report
        writer = IndexWriter(index, manifest, fresh=rebuild or outdated)
        report = _update(writer, corpus_dir, files, outside, manifest, signature, progress)
        if outdated:
            report.warnings.insert(0, "the index was built by an older roleguide: rebuilt")
        if not report.files:
            report.warnings.append(
                f"no articles in {corpus_dir}: put .md, .txt or .html files there and run "
                "`roleguide ingest` again"
            )
        writer.commit()  # the caller's index reads what was written
        report.seconds = time.perf_counter() - began
        return report
    except BaseException as e:
        failure = ingest_failure(index, writer, e)  # the last complete index stays
        if failure is None:
            raise
        raise failure from e
    finally:
        lock.release()


def _skipped(report: IngestReport) -> dict[str, str]:
    return {s.source: s.reason for s in report.skipped}


def _update(
    writer: IndexWriter,
    corpus_dir: Path,
    files: list[tuple[Path, str]],
    outside: list[SkippedFile],
    manifest: Manifest | None,
    signature: list,
    progress: Progress | None,
) -> IngestReport:
    """The ingest proper, through ``writer``, under the write lock."""
    index = writer.index
    interrupted = writer.begin()
    loaded = load_corpus(corpus_dir, files)
    report = IngestReport(
        files=[d.source for d in loaded.documents],
        skipped=[*outside, *loaded.skipped],
        warnings=[f"{d.source}: {w}" for d in loaded.documents for w in d.warnings],
    )
    # Files already indexed come first, in their order, so a block that a new file
    # repeats (a copy, a re-scrape) stays with the article that had it first.
    known = list(manifest.files if manifest is not None else {})
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
    new, gone, moved = writer.changes(wanted)
    _embed_and_write_all(writer, new, report, progress)
    writer.update(moved)
    if gone:
        writer.delete(gone)
    if interrupted:  # a killed ingest may have left sentences of chunks never written
        report.swept = writer.sweep_orphans(set(wanted))
    index.forget_cached()
    report.added, report.removed, report.updated = len(new), len(gone), len(moved)
    report.unchanged = len(wanted) - len(new) - len(moved)
    report.chunks = len(wanted)
    digests = {d.source: d.digest for d in loaded.documents}
    built = time.strftime("%Y-%m-%dT%H:%M:%S%z") + f"/{time.time_ns()}"
    # Rebuild BM25 unless it already holds exactly these chunks (an ingest killed after
    # its Chroma writes leaves nothing "changed" here, but a stale BM25 behind).
    current = LexicalIndex.load(index.lexical_path(manifest.built if manifest else None))
    relexed = current is None or manifest is None or set(current.ids) != set(wanted)
    if relexed:
        if progress:
            progress("lexical index", 0, 1)
        ordered = list(wanted.values())
        LexicalIndex.build(
            [c.id for c in ordered], [LexicalIndex.document_text(c) for c in ordered]
        ).save(index.lexical_path(built))
    elif manifest is not None:
        # same chunks: the BM25 index stays valid
        built = manifest.built if manifest.built is not None else built
    # The question model is made before the manifest names this store: the manifest is an
    # ingest's last step, so nothing failing after it can leave readers a half-made index.
    made = _query_model(index)
    report.query_model_seconds = made[1] if made is not None else 0.0
    writer.finish(  # always: it also names the store folder readers should use
        Manifest(
            model=index.model_id,
            chunker=CHUNKER_VERSION,
            chunks=len(wanted),
            files=digests,
            counts=dict(sorted(Counter(c.source for c in wanted.values()).items())),
            signature=signature,
            titles={d.source: d.title for d in loaded.documents},
            roles=report.roles,
            found_roles={source: list(d.found) for source, d in found.items()},
            mentioned=sorted(corpus_view.mentioned),
            abbreviations=corpus_view.abbreviations,
            skipped=_skipped(report),
            built=built,
            query_model=None if made is None else made[0],
        )
    )
    return report
