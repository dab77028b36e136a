"""Ingest-time embedding: one length-sorted pool of texts, whole batches shared out to
single-threaded workers, one per core.

Why: sentence-sized batches are small matrices, and torch's intra-op threads meet at a
barrier after every operation. When anything else wants the CPU (the Chroma writer thread
of ingest, other processes) one descheduled thread stalls the other at every barrier;
measured on 2 shared cores, one thread alone embedded 4x faster than two. Workers with one
thread each never wait for one another.

The batches are cut as sentence-transformers cuts them (longest first, every
``batch_size``), but sorted by word pieces instead of characters: sentence-sized batches then
carry ~1% padding instead of ~16%, which made embedding ~12% faster here. A vector depends
only on its batch, never on the number of workers; against one ``encode`` call it differs
in the last bits (float32: at most ~1e-7). Each worker runs its batches itself (preprocess,
forward, normalise, as ``encode`` does), in one autocast context and, for bfloat16, outside
inference mode: autocast then casts each weight to bfloat16 once per worker instead of once
per batch (it caches nothing in inference mode).
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


def _token_counts(client, texts: Sequence[str]) -> np.ndarray:
    """Word pieces of each text as the model sees it (special tokens in, truncated)."""
    ids = client.tokenizer(
        list(texts),
        truncation=True,
        max_length=client.max_seq_length,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    return np.fromiter(map(len, ids), dtype=np.int64, count=len(texts))


def _batches(client, texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index arrays of the batches: most word pieces first, cut every ``batch_size``.

    sentence-transformers sorts by characters; sorting by word pieces cuts the padding of
    sentence-sized batches from ~16% to ~1% of their tokens."""
    order = np.argsort(-_token_counts(client, texts), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def _direct(client) -> bool:
    """Whether one batch can be run as ``encode`` runs it without calling ``encode``: text
    on the CPU, no default prompt and no truncation (the bundled model)."""
    return (
        getattr(client, "device", None) is not None
        and client.device.type == "cpu"
        and getattr(client, "default_prompt_name", None) is None
        and getattr(client, "truncate_dim", None) is None
        and not getattr(client, "_can_flatten_inputs", lambda: False)()
    )


def encode_pool(
    client, texts: Sequence[str], batch_size: int, *, bfloat16: bool, workers: int
) -> np.ndarray:
    """Normalised float32 vectors of ``texts`` from the SentenceTransformer ``client``,
    ``workers`` batches at a time (bfloat16 autocast in each worker when asked)."""
    import torch

    dimension = getattr(client, "get_embedding_dimension", None)
    width = dimension() if dimension else client.get_sentence_embedding_dimension()
    out = np.empty((len(texts), width), dtype=np.float32)
    if not texts:
        return out
    if not _direct(client):  # anything unusual: sentence-transformers' own call, whole
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            got = client.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        out[:] = np.asarray(got, dtype=np.float32)
        return out

    def encode(rows: np.ndarray) -> None:
        # One batch as SentenceTransformer._inference runs it: preprocess, forward,
        # normalise (the model's own Normalize module runs too, as in ``encode``).
        features = client.preprocess([texts[i] for i in rows])
        got = torch.nn.functional.normalize(client(features)["sentence_embedding"], p=2, dim=1)
        out[rows] = (got.float() if got.dtype == torch.bfloat16 else got).numpy()

    # bfloat16: grad off but not inference mode, so that autocast keeps its bfloat16 copy of
    # each weight for the whole context (it caches nothing in inference mode, where
    # ``encode`` runs: ~11M weights cast again every batch, about a quarter of the work of a
    # batch of 32 sentences). float32 casts nothing: inference mode, as in ``encode``.
    def grad_off():
        return torch.no_grad() if bfloat16 else torch.inference_mode()

    def run(queue, lock: threading.Lock) -> None:
        """Encode batches from ``queue`` until it is empty, in one autocast context."""
        with grad_off(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            while not failed.is_set():
                with lock:
                    rows = next(queue, None)
                if rows is None:
                    return
                try:
                    encode(rows)
                except BaseException:
                    failed.set()  # the other workers stop after their current batch
                    raise

    client.eval()
    batches = _batches(client, texts, batch_size)
    queue, lock = iter(batches), threading.Lock()  # each worker takes the next batch when free
    failed = threading.Event()
    if workers <= 1 or len(batches) < 2:
        run(queue, lock)  # this thread, torch's own threading
        return out

    def work(queue, lock: threading.Lock) -> None:
        torch.set_num_threads(1)  # this worker's share of the intra-op threads
        run(queue, lock)

    with _threads_lock:  # one pool at a time: the thread count is the process's
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with ThreadPoolExecutor(workers, thread_name_prefix="roleguide-embed") as pool:
                busy = min(workers, len(batches))
                running = [pool.submit(work, queue, lock) for _ in range(busy)]
                for worker in running:
                    worker.result()  # re-raises a worker's error here
        finally:
            torch.set_num_threads(before)
    return out
