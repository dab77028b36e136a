"""The index manifest: what the last complete ingest built, read and written in one place.

Written last by every ingest (so readers only ever see a complete index); embedded it is
``manifest.json`` in the data directory, with a Chroma server the metadata of the index's
collection (the connection decides where, this module what it holds and how it reads).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from roleguide.errors import IndexMismatchError
from roleguide.ingest.chunks import CHUNKER_VERSION
from roleguide.store.generations import REBUILD_HINT

__all__ = ["Manifest"]

# The fields whose type is checked on reading: a manifest that fails is reported as
# damaged (with the rebuild hint), never half-used.
_CHECKED_TYPES = {
    "chunks": int,
    "built": str,
    "store": str,
    "signature": list,
    "files": dict,
    "counts": dict,
    "titles": dict,
    "roles": dict,
    "skipped": dict,
}


@dataclass(frozen=True)
class Manifest:
    """The manifest of one complete ingest."""

    model: str | None = None
    """the embedding model id the vectors were made with"""
    chunker: str | None = None
    """``CHUNKER_VERSION`` of the roleguide that wrote the rows"""
    chunks: int = 0
    built: str | None = None
    """when the ingest ran; also names its BM25 folder"""
    store: str | None = None
    """the embedded store folder readers use (None with a Chroma server)"""
    signature: list | None = None
    """the corpus folder's fingerprint (names, sizes, times) when it was read"""
    files: dict[str, str] = field(default_factory=dict)
    """source -> digest of every indexed article"""
    counts: dict[str, int] = field(default_factory=dict)
    """source -> how many chunks the article has in the index (articles with any)"""
    titles: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[str]] = field(default_factory=dict)
    found_roles: dict[str, list[str]] = field(default_factory=dict)
    mentioned: list[str] = field(default_factory=list)
    abbreviations: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    query_model: dict[str, Any] | None = None
    """the checked ONNX question model (None for embedders without one)"""

    @classmethod
    def parse(cls, text: str) -> Manifest:
        """The manifest in ``text``; ``ValueError`` when it is not one roleguide wrote."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        for key, kind in _CHECKED_TYPES.items():
            if key in data and not isinstance(data[key], kind):
                raise ValueError(f"{key!r} is {data[key]!r}")
        if not all(isinstance(r, list) for r in data.get("roles", {}).values()):
            raise ValueError("'roles' must map each file to a list")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def dumps(self) -> str:
        """The JSON text written (keys sorted, so an unchanged manifest is the same bytes)."""
        data = {k: v for k, v in asdict(self).items() if v is not None}  # absent, not null
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest file at ``path``, or None when there is none (``OSError`` or
        ``ValueError`` when it cannot be read)."""
        try:
            return cls.parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def write(self, path: Path) -> None:
        """Replace the file at ``path`` atomically (a reader sees the old or the new one)."""
        if path.is_dir():  # damage: keep it aside rather than fail forever
            path.rename(path.with_name(f"{path.name}.damaged-{os.getpid()}"))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.dumps(), encoding="utf-8")
        os.replace(tmp, path)

    @property
    def generation(self) -> tuple[str | None, str | None]:
        """What identifies one complete ingest: its BM25 index and its store folder."""
        return (self.built, self.store)

    def is_outdated(self, model_id: str) -> bool:
        """Built with this model by an older roleguide format: ``ingest`` rebuilds it."""
        return self.model == model_id and self.chunker != CHUNKER_VERSION

    def check_compatible(self, model_id: str, where: str) -> None:
        """Refuse an index built with another model or chunker (never mix two silently)."""
        if self.model != model_id:
            raise IndexMismatchError(
                f"the index in {where} was built with embedding model {self.model!r}, "
                f"but this roleguide uses {model_id!r}; {REBUILD_HINT}"
            )
        if self.chunker != CHUNKER_VERSION:
            raise IndexMismatchError(
                f"the index in {where} was built by an older chunker "
                f"(version {self.chunker!r}); {REBUILD_HINT}"
            )
