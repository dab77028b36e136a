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
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

__all__ = ["EncodePool", "encode_pool", "pool_workers"]

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


@dataclass
class _Job:
    """The texts of one ``submit`` call, their vectors as the batches come in."""

    texts: list[str]
    out: np.ndarray
    left: int  # batches not yet embedded
    future: Future


class EncodePool:
    """Workers that stay up for several ``submit`` calls (one ingest): the batches of each
    call queue behind those of the one before, so no core idles while a call's last batch
    finishes, and each worker's autocast keeps its bfloat16 weights for the whole ingest.

    ``client`` is a SentenceTransformer; ``workers`` 1 runs one worker with torch's own
    threading, more run one-thread workers (the process's torch thread count is 1 until the
    pool closes, one pool at a time). Newlines in texts become spaces, as LangChain's
    ``HuggingFaceEmbeddings`` does.

    >>> with EncodePool(client, 32, bfloat16=False, workers=2) as pool:  # doctest: +SKIP
    ...     first, second = pool.submit(["a text"]), pool.submit(["another", "one more"])
    ...     vectors = second.result()  # shape (2, 384), rows normalised
    """

    def __init__(self, client, batch_size: int, *, bfloat16: bool, workers: int) -> None:
        self.client = client
        self.batch_size = batch_size
        self.bfloat16 = bfloat16
        self.workers = max(1, workers)
        self.busy_seconds = 0.0
        """wall time during which at least one batch was being embedded"""
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._jobs: list[_Job] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running, self._since = 0, 0.0
        self._threads_before: int | None = None
        dimension = getattr(client, "get_embedding_dimension", None)
        self.width = dimension() if dimension else client.get_sentence_embedding_dimension()

    def __enter__(self) -> EncodePool:
        if not _direct(self.client):
            return self  # ``submit`` calls ``encode`` itself
        import torch

        self.client.eval()
        if self.workers > 1:
            _threads_lock.acquire()
            self._threads_before = torch.get_num_threads()
            torch.set_num_threads(1)  # each worker's share of the intra-op threads
        for n in range(self.workers):
            worker = threading.Thread(target=self._work, name=f"roleguide-embed-{n}", daemon=True)
            worker.start()
            self._threads.append(worker)
        return self

    def __exit__(self, *exc) -> None:
        self._closing.set()  # queued batches are skipped, their calls cancelled
        for _ in self._threads:
            self._queue.put(None)
        for worker in self._threads:
            worker.join()
        self._threads.clear()
        for job in self._jobs:
            job.future.cancel()  # a no-op for calls already done
        self._jobs.clear()
        if self._threads_before is not None:
            import torch

            torch.set_num_threads(self._threads_before)
            self._threads_before = None
            _threads_lock.release()

    def submit(self, texts: Sequence[str]) -> Future:
        """Queue ``texts``; the future's result is their normalised float32 vectors."""
        job = _Job(
            [t.replace("\n", " ") for t in texts],
            np.empty((len(texts), self.width), dtype=np.float32),
            0,
            Future(),
        )
        if not job.texts:
            job.future.set_result(job.out)
        elif not self._threads:  # anything unusual: sentence-transformers' own call, whole
            self._encode_whole(job)
        else:
            batches = _batches(self.client, job.texts, self.batch_size)
            job.left = len(batches)
            self._jobs = [j for j in self._jobs if not j.future.done()] + [job]
            for rows in batches:
                self._queue.put((job, rows))
        return job.future

    def _encode_whole(self, job: _Job) -> None:
        import torch

        began = time.perf_counter()
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
                got = self.client.encode(
                    job.texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            job.out[:] = np.asarray(got, dtype=np.float32)
        except Exception as e:
            job.future.set_exception(e)
        else:
            job.future.set_result(job.out)
        self.busy_seconds += time.perf_counter() - began

    def _encode(self, job: _Job, rows: np.ndarray) -> None:
        """One batch as SentenceTransformer._inference runs it: preprocess, forward,
        normalise (the model's own Normalize module runs too, as in ``encode``)."""
        import torch

        features = self.client.preprocess([job.texts[i] for i in rows])
        got = self.client(features)["sentence_embedding"]
        got = torch.nn.functional.normalize(got, p=2, dim=1)
        job.out[rows] = (got.float() if got.dtype == torch.bfloat16 else got).numpy()

    def _busy(self, change: int) -> None:
        with self._lock:
            now = time.perf_counter()
            if self._running == 0:
                self._since = now
            self._running += change
            if self._running == 0:
                self.busy_seconds += now - self._since

    def _work(self) -> None:
        """Embed queued batches until told to stop, in one autocast context."""
        import torch

        if self.workers > 1:
            torch.set_num_threads(1)
        # bfloat16: grad off but not inference mode, so that autocast keeps its bfloat16 copy
        # of each weight for the whole context (it caches nothing in inference mode, where
        # ``encode`` runs: ~11M weights cast again every batch, about a quarter of the work of
        # a batch of 32 sentences). float32 casts nothing: inference mode, as in ``encode``.
        grad_off = torch.no_grad() if self.bfloat16 else torch.inference_mode()
        with grad_off, torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            while (item := self._queue.get()) is not None:
                job, rows = item
                if self._closing.is_set() or job.future.done():
                    continue  # closing, or an earlier batch of this call failed
                self._busy(+1)
                try:
                    self._encode(job, rows)
                except BaseException as e:
                    with self._lock:
                        if not job.future.done():
                            job.future.set_exception(e)
                    continue
                finally:
                    self._busy(-1)
                with self._lock:
                    job.left -= 1
                    if job.left == 0 and not job.future.done():
                        job.future.set_result(job.out)


def encode_pool(
    client, texts: Sequence[str], batch_size: int, *, bfloat16: bool, workers: int
) -> np.ndarray:
    """Normalised float32 vectors of ``texts`` from the SentenceTransformer ``client``,
    ``workers`` batches at a time (bfloat16 autocast in each worker when asked): one
    ``EncodePool`` for one list."""
    with EncodePool(client, batch_size, bfloat16=bfloat16, workers=workers) as pool:
        return pool.submit(texts).result()
