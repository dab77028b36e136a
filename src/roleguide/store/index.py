"""Stage 4, index: sentence vectors and chunks in Chroma, a BM25 index beside them.

Layout of the data directory (``ROLEGUIDE_HOME``, default ``./.roleguide``)::

    chroma-<id>/     Chroma PersistentClient: <name>-sentences (vectors), <name>-chunks;
                     one folder per ingest, the manifest names the current one (``store``)
    bm25/            bm25s index over the chunks + ids.json, replaced atomically
    manifest.json    model, dimension, chunker version, file digests; written last
    write.lock       held by the one process allowed to write

Every sentence is embedded once (with its section as context); a chunk's vector is the
normalised mean of its sentences', so nothing is embedded twice. Ingest is incremental:
unchanged chunks are neither embedded nor written, and every intermediate state is a
valid index (new rows are added before old ones are removed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings

from roleguide.errors import IndexMismatchError, IndexUnavailableError
from roleguide.ingest.chunks import CHUNKER_VERSION, Chunk
from roleguide.store.embeddings import embedding_model_id
from roleguide.store.generations import LEGACY_STORE, check_sqlite, is_store_failure, store_failure
from roleguide.store.lexical import LexicalIndex

__all__ = ["REBUILD_HINT", "ChunkRecord", "VectorIndex", "chunk_metadata"]

_MANIFEST_KEY = "roleguide_manifest"
_PENDING_KEY = "roleguide_ingest_pending"
_ID_BATCH = 2000
REBUILD_HINT = "run `roleguide ingest --rebuild` to build it again from the corpus"


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as stored: its text and where it comes from."""

    id: str
    source: str
    title: str
    section: str
    kind: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    context: str = ""

    def sentence_text(self, i: int) -> str:
        a, b = self.sentences[i]
        return self.text[a - self.start : b - self.start]


def chunk_metadata(chunk: Chunk) -> dict:
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


_MANIFEST_TYPES = {
    "chunks": int,
    "built": str,
    "store": str,
    "signature": list,
    "files": dict,
    "titles": dict,
    "roles": dict,
    "skipped": dict,
}


def _checked_manifest(data: object) -> dict:
    """The manifest if its fields have the types roleguide wrote; ``ValueError`` if not."""
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    for key, kind in _MANIFEST_TYPES.items():
        if key in data and not isinstance(data[key], kind):
            raise ValueError(f"{key!r} is {data[key]!r}")
    if not all(isinstance(r, list) for r in data.get("roles", {}).values()):
        raise ValueError("'roles' must map each file to a list")
    return data


def _http_client(url: str):
    """A Chroma ``HttpClient`` for ``http(s)://host:port``, checked with a heartbeat."""
    from urllib.parse import urlparse

    import chromadb

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise IndexMismatchError(f"ROLEGUIDE_CHROMA_URL {url!r} is not http://host:port")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    try:
        client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=ssl)
        client.heartbeat()
    except Exception as e:
        raise IndexUnavailableError(
            f"cannot reach the Chroma server at {url} ({e}); start it (`chroma run --path DIR "
            f"--port {port}`) or unset ROLEGUIDE_CHROMA_URL to use the embedded store"
        ) from e
    return client


def _pages(collection, include: list[str], page: int = 5000):
    """Every row of a Chroma collection, one ``get`` reply of ``page`` rows at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, limit=page, offset=offset)
        if not got["ids"]:
            return
        yield got
        offset += len(got["ids"])


def _page_records(got: dict) -> list[ChunkRecord]:
    """The chunk records of one Chroma ``get`` reply (documents and metadatas included)."""
    return [
        _record(cid, text, meta)
        for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]


def _record(chunk_id: str, text: str, meta: dict) -> ChunkRecord:
    return ChunkRecord(
        chunk_id,
        meta["source"],
        meta["title"],
        meta["section"],
        meta["kind"],
        text,
        int(meta["start"]),
        int(meta["end"]),
        tuple(tuple(s) for s in json.loads(meta["sentences"])),
        meta.get("context", ""),
    )


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
        self.model_id = embedding_model_id(embeddings)
        self._client = None
        self._lexical: LexicalIndex | None = None
        self._chunk_cache: dict[str, ChunkRecord] = {}
        self._vector_cache: dict[str, np.ndarray] = {}
        self._dense_store = None
        self.visible: frozenset[str] = frozenset()

    # -- paths and manifest -------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.json"

    @property
    def where(self) -> str:
        """Where the index lives, for messages."""
        return f"the Chroma server {self.chroma_url}" if self.chroma_url else str(self.home)

    @property
    def lexical_dir(self) -> Path:
        """The BM25 index: beside the store, or (server mode) a local cache of the server's."""
        if not self.chroma_url:
            return self.home / "bm25"
        server = re.sub(r"\W+", "-", self.chroma_url.split("://")[-1]).strip("-")
        return self.home / "server-cache" / f"{server}-{self.name}" / "bm25"

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
                self._store = str((self.manifest() or {}).get("store") or LEGACY_STORE)
            except IndexMismatchError:
                self._store = LEGACY_STORE
        return self._store

    def use_store(self, name: str) -> None:
        """Read another generation of the embedded store (a newer ingest finished)."""
        if name != self._store:
            self.close()
            self._store = name

    def close(self) -> None:
        """Let go of the Chroma client and every cache built from it."""
        if self._client is not None and not self.chroma_url:
            import contextlib

            with contextlib.suppress(Exception):
                self._client.close()
        self._client = None
        self._dense_store = None
        self.forget_cached()

    def manifest_stamp(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the manifest file (a ``stat``), to notice a new ingest."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def manifest(self) -> dict | None:
        """The manifest of the last complete ingest, or None when there is none.

        Embedded: ``manifest.json`` in the data directory. Server mode: the metadata of
        the chunks collection, so every process sharing the server sees the same one.
        """
        try:
            if self.chroma_url:
                raw = (self.chunks.metadata or {}).get(_MANIFEST_KEY)
                return _checked_manifest(json.loads(raw)) if raw else None
            return _checked_manifest(json.loads(self.manifest_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise IndexMismatchError(
                f"the index manifest in {self.where} is damaged ({e}); {REBUILD_HINT}"
            ) from e

    def write_manifest(self, manifest: dict) -> None:
        """Replace the manifest atomically (the last step of an ingest)."""
        text = json.dumps(manifest, indent=2, sort_keys=True)
        if self.chroma_url:
            chunks = self.chunks
            chunks.modify(metadata={**(chunks.metadata or {}), _MANIFEST_KEY: text})
            return
        if self.manifest_path.is_dir():  # damage: keep it aside rather than fail forever
            self.manifest_path.rename(self.home / f"manifest.json.damaged-{os.getpid()}")
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.manifest_path)

    def check_compatible(self, manifest: dict) -> None:
        """Refuse an index built with another model, dimension or chunker."""
        built = manifest.get("model")
        if built != self.model_id:
            raise IndexMismatchError(
                f"the index in {self.where} was built with embedding model {built!r}, "
                f"but this roleguide uses {self.model_id!r}; {REBUILD_HINT}"
            )
        if manifest.get("chunker") != CHUNKER_VERSION:
            raise IndexMismatchError(
                f"the index in {self.where} was built by an older chunker "
                f"(version {manifest.get('chunker')!r}); {REBUILD_HINT}"
            )

    # -- Chroma ------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import chromadb

            if self.chroma_url:
                self._client = _http_client(self.chroma_url)
                return self._client
            path = self.home / self.store_name
            check_sqlite(path / "chroma.sqlite3")
            path.mkdir(parents=True, exist_ok=True)
            try:
                self._client = chromadb.PersistentClient(path=str(path))
            except Exception as e:
                raise IndexMismatchError(
                    f"the Chroma store in {path} cannot be opened ({e}); {REBUILD_HINT}"
                ) from e
        return self._client

    def _collection(self, kind: str):
        return self.client.get_or_create_collection(
            f"{self.name}-{kind}",
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"model": self.model_id, "chunker": CHUNKER_VERSION},
            embedding_function=None,
        )

    @property
    def sentences(self):
        return self._collection("sentences")

    @property
    def chunks(self):
        return self._collection("chunks")

    def dense_store(self):
        """The sentence vectors as a LangChain vector store (composes with any chain)."""
        if self._dense_store is None:
            from langchain_chroma import Chroma

            self._dense_store = Chroma(
                client=self.client,
                collection_name=f"{self.name}-sentences",
                embedding_function=self.embeddings,
                create_collection_if_not_exists=False,
            )
        return self._dense_store

    # -- reading -----------------------------------------------------------------------
    def open(self) -> dict:
        """Check the index is complete and compatible, load BM25; returns the manifest."""
        manifest = self.manifest()
        if manifest is None:
            raise IndexMismatchError(f"there is no index in {self.where}; run `roleguide ingest`")
        self.check_compatible(manifest)
        if not self.chroma_url:
            self.use_store(str(manifest.get("store") or LEGACY_STORE))
        try:
            lexical = LexicalIndex.load(self.lexical_path(manifest.get("built")))
            if lexical is None and self.chroma_url:
                lexical = self._lexical_from_server(manifest)
            # Server mode: Chroma may hold more or fewer rows than the manifest while an
            # ingest runs: readers keep serving the last complete ingest, whose chunk ids
            # are the BM25 index's. An empty store under a manifest is damage.
            count = self.chunks.count()
        except BaseException as e:
            if not is_store_failure(e):
                raise
            raise store_failure(e, self.where, self.chroma_url) from e
        expected = manifest.get("chunks")
        server_built = self.chroma_url is not None and lexical is not None
        if (
            lexical is None
            or (len(lexical.ids) != expected and not server_built)
            or (expected and count == 0)
        ):
            raise IndexMismatchError(
                f"the index in {self.where} is incomplete or damaged (chunks: "
                f"{count} in Chroma, {expected} in the manifest, "
                f"{len(lexical.ids) if lexical else 'no'} in the BM25 index); {REBUILD_HINT}"
            )
        self._lexical = lexical
        self.visible = frozenset(lexical.ids)
        return manifest

    # -- interrupted ingests -------------------------------------------------------------
    @property
    def _pending_path(self) -> Path:
        return self.home / "ingest.pending"

    def mark_pending(self, pending: bool) -> None:
        """Note that an ingest is under way (so a killed one is noticed and swept up)."""
        if self.chroma_url:
            chunks = self.chunks
            meta = dict(chunks.metadata or {})
            meta[_PENDING_KEY] = pending
            chunks.modify(metadata=meta)
        elif pending:
            self.home.mkdir(parents=True, exist_ok=True)
            self._pending_path.write_text(str(os.getpid()), encoding="utf-8")
        else:
            self._pending_path.unlink(missing_ok=True)

    def was_pending(self) -> bool:
        """True when the last ingest did not finish (killed, crashed, power cut)."""
        if self.chroma_url:
            return bool((self.chunks.metadata or {}).get(_PENDING_KEY))
        return self._pending_path.exists()

    def sweep_orphans(self, keep: set[str]) -> int:
        """Delete sentence rows whose chunk is not in ``keep`` (left by a killed ingest)."""
        orphans = [
            sid
            for got in _pages(self.sentences, ["metadatas"])
            for sid, meta in zip(got["ids"], got["metadatas"], strict=True)
            if meta.get("chunk_id") not in keep
        ]
        for i in range(0, len(orphans), 5000):
            self.sentences.delete(ids=orphans[i : i + 5000])
        return len(orphans)

    def _lexical_from_server(self, manifest: dict) -> LexicalIndex:
        """Server mode: build this process's BM25 from the server's chunks, cache it locally."""
        records = list(self.iter_records())
        lexical = LexicalIndex.build(
            [r.id for r in records], [LexicalIndex.document_text(r) for r in records]
        )
        lexical.save(self.lexical_path(manifest.get("built")))
        return lexical

    def iter_chunks(self, include: list[str], page: int = 5000):
        """All stored chunks, a page at a time (a large index never loads in one reply)."""
        return _pages(self.chunks, include, page)

    def iter_records(self):
        """Every stored chunk as a ``ChunkRecord``, read a page at a time."""
        for got in self.iter_chunks(include=["documents", "metadatas"]):
            yield from _page_records(got)

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

    def get_chunks(self, ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """Chunk records by id (cached: chunks are immutable under their id)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._chunk_cache]
        for start in range(0, len(missing), _ID_BATCH):  # SQLite caps variables per query
            got = self.chunks.get(
                ids=missing[start : start + _ID_BATCH], include=["documents", "metadatas"]
            )
            for record in _page_records(got):
                self._chunk_cache[record.id] = record
        return {i: self._chunk_cache[i] for i in ids if i in self._chunk_cache}

    def sentence_vectors(self, chunks: Sequence[ChunkRecord]) -> dict[str, np.ndarray]:
        """The stored sentence vectors of each chunk, as one matrix per chunk id."""
        todo = [c for c in chunks if c.id not in self._vector_cache]
        ids = [f"{c.id}:{i}" for c in todo for i in range(len(c.sentences))]
        if ids:
            got = self.sentences.get(ids=ids, include=["embeddings"])
            by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
            if len(self._vector_cache) > 20_000:
                self._vector_cache.clear()
            for c in todo:
                rows = [by_id.get(f"{c.id}:{i}") for i in range(len(c.sentences))]
                if any(r is None for r in rows):
                    raise IndexMismatchError(
                        f"sentence vectors of {c.source} are missing; {REBUILD_HINT}"
                    )
                self._vector_cache[c.id] = np.asarray(rows, dtype=np.float32)
        return {c.id: self._vector_cache[c.id] for c in chunks}

    def source_stats(self) -> dict[str, int]:
        """Chunk count per source file."""
        stats: dict[str, int] = {}
        for page in self.iter_chunks(include=["metadatas"]):
            for meta in page["metadatas"]:
                stats[meta["source"]] = stats.get(meta["source"], 0) + 1
        return dict(sorted(stats.items()))

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
        for kind in ("sentences", "chunks"):
            with contextlib.suppress(Exception):
                self.client.delete_collection(f"{self.name}-{kind}")
        shutil.rmtree(self.lexical_dir, ignore_errors=True)
        self.manifest_path.unlink(missing_ok=True)
        self._lexical = None
        self._dense_store = None
        self._chunk_cache.clear()
        self._vector_cache.clear()
