"""Make the ONNX export that questions are embedded with (``onnx_query``), at ingest.

The bundled model's transformer is exported with ``torch.onnx.export`` (TorchScript
exporter: optimum pins an older transformers), pooled in numpy as its sentence-transformers
configuration says, and kept only if it reproduces sentence-transformers' float32 vectors
to a cosine of ``MIN_COSINE`` on the corpus sentences. The record (checksums, source
model, pooling, probe vector) goes beside it and into the index manifest.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from roleguide.store.atomic import replace_directory
from roleguide.store.onnx_query import (
    EXPORT_DIR,
    MIN_COSINE,
    MODEL_FILE,
    RECORD_FILE,
    TOKENIZER_FILE,
    ExportUnusable,
    OnnxQueryEncoder,
    file_sha256,
    sentence_config,
    source_fingerprint,
)

__all__ = ["ensure_export", "make_export"]

PROBE = "Who is responsible for this part of the work?"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _export_transformer(model, path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        """The transformer with plain tensor inputs and its token vectors as the output."""

        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = model.tokenizer(["a sample sentence", "a"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(model[0].auto_model).eval(),
            tuple(sample[name] for name in _INPUTS),
            str(path),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def make_export(target: Path, sentences: list[str], model_dir: Path, st_model) -> dict:
    """Export ``st_model`` (a float32 SentenceTransformer) to ``target``; check it on
    ``sentences``; return its record. Raises ``ExportUnusable`` when it does not agree."""
    import warnings

    config = sentence_config(model_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".query-model-", dir=target.parent))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's tracer warnings
            _export_transformer(st_model, staging / MODEL_FILE)
        shutil.copyfile(Path(model_dir) / TOKENIZER_FILE, staging / TOKENIZER_FILE)
        texts = [PROBE, *dict.fromkeys(s for s in sentences if s.strip())]
        reference = np.asarray(
            st_model.encode(texts, batch_size=32, normalize_embeddings=True), dtype=np.float32
        )
        record = {
            "model_sha256": file_sha256(staging / MODEL_FILE),
            "tokenizer_sha256": file_sha256(staging / TOKENIZER_FILE),
            "source": {
                "model": "all-MiniLM-L6-v2",
                **source_fingerprint(model_dir, weights_sha256=True),
            },
            "config": config,
            "probe": {"text": PROBE, "vector": reference[0].tolist()},
            "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (staging / RECORD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        encoder = OnnxQueryEncoder(staging, model_dir)
        got = np.concatenate([encoder.encode(texts[i : i + 32]) for i in range(0, len(texts), 32)])
        cosines = (got * reference).sum(axis=1)
        worst = float(cosines.min())
        if not worst >= MIN_COSINE:
            raise ExportUnusable(
                f"its vectors disagree with sentence-transformers (worst cosine {worst:.6f} on "
                f"{texts[int(cosines.argmin())]!r})"
            )
        record["checked"] = {"sentences": len(texts), "min_cosine": round(worst, 7)}
        (staging / RECORD_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        replace_directory(staging, target)
        return record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def ensure_export(home: Path, sentences: list[str], model_dir: Path, load_model) -> dict:
    """The record of a usable export in ``home``, made now if there is none (or it is stale);
    ``load_model()`` gives the sentence-transformers model, loaded only to make one."""
    target = Path(home) / EXPORT_DIR
    try:
        return OnnxQueryEncoder(target, model_dir).record
    except ExportUnusable:
        return make_export(target, sentences, model_dir, load_model())
