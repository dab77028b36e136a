"""Ingest-time embedding: one length-sorted pool of texts, whole batches shared out to
single-threaded workers, one per core.

Why: sentence-sized batches are small matrices, and torch's intra-op threads meet at a
barrier after every operation. When anything else wants the CPU (the Chroma writer thread
of ingest, other processes) one descheduled thread stalls the other at every barrier;
measured on 2 shared cores, one thread alone embedded 4x faster than two. Workers with one
thread each never wait for one another.

The batches are exactly sentence-transformers' own (the same length sort, the same cuts),
so every vector is the one ``SentenceTransformer.encode`` gives for the whole list.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["encode_pool", "pool_workers"]

_threads_lock = threading.Lock()


def pool_workers(configured: int = 0) -> int:
    """Workers for ``encode_pool``: ``configured`` when above 0 (setting ``embed_workers``;
    1 = one worker with torch's own threading), else the cores this process may use, at
    most 4."""
    if configured > 0:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def _batches(client, texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index arrays of sentence-transformers' batches: longest first, cut every ``batch_size``."""
    order = np.argsort([-client._input_length(t) for t in texts])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def encode_pool(
    client, texts: Sequence[str], batch_size: int, *, bfloat16: bool, workers: int
) -> np.ndarray:
    """Normalised float32 vectors of ``texts`` from the SentenceTransformer ``client``,
    ``workers`` batches at a time (bfloat16 autocast in each worker when asked)."""
    import torch

    def encode(rows: np.ndarray) -> np.ndarray:
        batch = [texts[i] for i in rows]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            got = client.encode(
                batch,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(got, dtype=np.float32)

    dimension = getattr(client, "get_embedding_dimension", None)
    width = dimension() if dimension else client.get_sentence_embedding_dimension()
    out = np.empty((len(texts), width), dtype=np.float32)
    if not texts:
        return out
    batches = _batches(client, texts, batch_size)
    flat = getattr(client, "_can_flatten_inputs", lambda: False)()
    if workers <= 1 or len(batches) < 2 or flat:
        out[:] = encode(np.arange(len(texts)))
        return out

    def work(rows: np.ndarray) -> None:
        torch.set_num_threads(1)  # this worker's share of the intra-op threads
        out[rows] = encode(rows)

    with _threads_lock:  # one pool at a time: the thread count is the process's
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="roleguide-embed") as pool:
                for done in pool.map(work, batches):
                    del done  # re-raises a worker's error here
        finally:
            torch.set_num_threads(before)
    return out
