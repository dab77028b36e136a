"""One article as the index read it, for showing whole next to a citation: its text, where
the body starts, and the blocks the index left out (teasers, forms, repeats) with why."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from roleguide.errors import ArticleError
from roleguide.ingest.cleaning import Block, document_blocks
from roleguide.ingest.corpus import load_document

__all__ = ["ArticleText", "read_article"]


@dataclass(frozen=True)
class ArticleText:
    """``text`` is what citation offsets refer to; ``dropped`` are the blocks not indexed."""

    source: str
    text: str
    body_start: int
    dropped: tuple[Block, ...]


def read_article(corpus_dir: Path, source: str) -> ArticleText:
    """The article ``source`` under ``corpus_dir``, read again only when its file changes.

    Raises ``ArticleError`` when the file is gone or can no longer be read.
    """
    path = Path(corpus_dir) / source
    try:
        return _read(str(path), source, path.stat().st_mtime)
    except (OSError, ValueError) as e:
        raise ArticleError(f"{source}: {e}") from None


@lru_cache(maxsize=64)
def _read(path: str, source: str, mtime: float) -> ArticleText:
    """Cached per file and modification time (``mtime`` is part of the key on purpose)."""
    doc = load_document(Path(path), source)
    dropped = tuple(b for b in document_blocks(doc) if b.kind == "dropped")
    return ArticleText(source, doc.text, doc.body_start, dropped)
