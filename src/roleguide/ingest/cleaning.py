"""Stage 2, cleaning: classify an article's pieces into blocks and drop boilerplate.

Headings (Markdown, HTML, a short line on its own, a question on its own), "Label: text"
facets, key-value lines, paragraphs, bullet items and table rows become blocks with their
heading path. Generic rules only (nothing specific to one site): blocks repeated within
or across articles keep their first copy; teasers cut off with "…", links on their own,
tables of contents, form and navigation leftovers and lead-in lines ending in a colon go.
Blocks keep their character spans, so later stages quote verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, cast

from roleguide.ingest.corpus import SourceDocument
from roleguide.ingest.sentences import sentence_spans
from roleguide.ingest.structure import META_LINE, Piece, cells, pieces, plain

__all__ = ["IMPLICIT_LEVEL", "Block", "clean_blocks", "document_blocks", "normalise_key"]

BlockKind = Literal[
    "heading", "facet", "paragraph", "fragment", "bullet", "row", "header", "value", "dropped"
]

_FACET = re.compile(r"^(?P<label>[A-Z][^:\n]{1,60}?):\s+(?P<rest>\S.*)$", re.S)
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_TEASER = re.compile(r"(…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")
_FORM = re.compile(
    r"\b(leave (a |your )?(message|reply|comment)|required fields?|\(required\)|submit|"
    r"subscribe|newsletter|"
    r"sign (up|in)|log ?in|cookies?|privacy policy|all rights reserved|share (this|on)|"
    r"follow us|read more|related posts?|you may also like|posted (in|on|by)|tags?:|"
    r"categories:|comments?|click here|copyright|contact us|fields?)\b|©|\*",
    re.I,
)
_CONTENTS = re.compile(
    r"^(table of )?contents$|^jump to\b|\bin this (\w+ )?(article|guide|post)\b|"
    r"\bwe('ll| will) (explore|cover|discuss|look at)\b",
    re.I,
)
_VALUE = re.compile(r"[\d$€£¥%]")
_AMOUNT = re.compile(r"[$€£¥]\s?\d|\d\s?%|\b\d{1,3}(,\d{3})+\b")
_ONLY_LINK = re.compile(r"^\W*!?\[[^\]]*\]\([^)]*\)\W*$")
_MAX_HEADING_WORDS = 14
_MAX_QUESTION_WORDS = 20
_MAX_FORM_WORDS = 8
_MAX_VALUE_WORDS = 8  # "Bachelor's degree" under "Minimum Education Requirements"
_MAX_LEADIN_WORDS = 30  # a longer paragraph ending in a colon keeps its other sentences
IMPLICIT_LEVEL = 7  # a short line on its own heads what follows, below every # level
LEAD_LEVEL = 8  # "Key responsibilities include:" heads the bullets after it


@dataclass(frozen=True)
class Block:
    """A paragraph-like piece of an article with its span in ``SourceDocument.text``.

    ``path`` is the heading path above it (outermost first, the article title left out),
    ``level`` a heading's depth, ``header`` a table row's column-header spans.
    """

    start: int
    end: int
    kind: BlockKind
    label: str = ""
    reason: str = ""
    path: tuple[str, ...] = ()
    level: int = 0
    header: tuple[tuple[int, int], ...] = ()


def normalise_key(text: str) -> str:
    """Comparison key for repeat detection: case, spacing and edge punctuation ignored."""
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _classify(piece: str) -> tuple[BlockKind, str, str]:
    """Kind, label and drop reason of a prose line (markup already removed)."""
    words = len(piece.split())
    if _TEASER.search(piece):
        return "dropped", "", "teaser cut off with an ellipsis"
    if words <= _MAX_FORM_WORDS and _FORM.search(piece):
        return "dropped", "", "form or navigation leftover"
    if piece.endswith("?") and words <= _MAX_QUESTION_WORDS:
        return "heading", piece, ""  # a question heading: what follows answers it
    facet = _FACET.match(piece)
    if facet and len(facet["label"].split()) <= 6:
        rest = facet["rest"]
        if _TERMINAL.search(rest) or len(rest.split()) >= 8 or _VALUE.search(rest):
            return "facet", facet["label"].strip(), ""  # "Median salary: $102,010" too
    if words <= _MAX_HEADING_WORDS and not _TERMINAL.search(piece):
        return "heading", piece.rstrip(":").strip(), ""
    if piece.endswith(":") and words <= _MAX_LEADIN_WORDS:
        return "dropped", "", "lead-in line with no content of its own"
    return "paragraph", "", ""


def _bullet(piece: str, raw: str) -> tuple[BlockKind, str, str]:
    if _ONLY_LINK.match(raw):
        return "dropped", "", "link, not an answer"
    if _TEASER.search(piece):
        return "dropped", "", "teaser cut off with an ellipsis"
    if piece.endswith("?"):
        return "dropped", "", "question, not an answer"
    if len(piece.split()) <= _MAX_FORM_WORDS and _FORM.search(piece):
        return "dropped", "", "form or navigation leftover"
    facet = _FACET.match(piece)
    label = facet["label"].strip() if facet and len(facet["label"].split()) <= 6 else ""
    return "bullet", label, ""


class _Path:
    """The heading path while reading an article top to bottom."""

    def __init__(self, title: str) -> None:
        self.title = normalise_key(title)
        self.stack: list[tuple[int, str]] = []

    def enter(self, level: int, label: str) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if not (level == 1 and normalise_key(label) == self.title) and label:
            self.stack.append((level, label))

    def labels(self) -> tuple[str, ...]:
        return tuple(label for _, label in self.stack)


def _titlecase(text: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_][\w'’]*", text) if len(w) > 3]
    return bool(words) and all(w[0].isupper() for w in words)


def _basic(text: str, p: Piece) -> tuple[BlockKind | str, str, str, int]:
    """Kind, label, drop reason and heading level of one piece, on its own."""
    raw = text[p.start : p.end]
    piece = plain(raw)
    if p.kind == "md_heading":
        return "heading", piece.rstrip(":").strip(), "", p.level
    if p.kind in ("row", "table_sep"):
        return p.kind, "", "", 0
    if p.kind == "bullet":
        return (*_bullet(piece, raw), 0)
    if META_LINE.match(piece):
        return "dropped", "", "date or reading time", 0
    kind, label, reason = _classify(piece)
    if kind == "heading" and _AMOUNT.search(piece) and not piece.endswith("?"):
        return "value", "", "", 0  # "Average Salary (2014) $111,810": content, not a heading
    return kind, label, reason, IMPLICIT_LEVEL if kind == "heading" else 0


def _shape(text: str, items: list[Piece]) -> list[tuple[Piece, str, str, str, int]]:
    """Pieces with their kinds, where neighbours decide: a line ending in a colon heads
    the bullets after it; a short line alone under a heading is that heading's value."""
    kinds = [(p, *_basic(text, p)) for p in items if p.kind not in ("break", "code")]
    out = []
    for i, (p, kind, label, reason, level) in enumerate(kinds):
        nxt = kinds[i + 1] if i + 1 < len(kinds) else None
        prev = out[-1] if out else None
        raw = plain(text[p.start : p.end])
        if p.kind == "text" and raw.endswith(":") and nxt and nxt[0].kind == "bullet":
            if len(raw.split()) <= _MAX_HEADING_WORDS * 2:
                kind, label, reason, level = "heading", raw.rstrip(":").strip(), "", LEAD_LEVEL
        elif (
            kind == "heading"
            and p.kind == "text"
            and level == IMPLICIT_LEVEL
            and not label.endswith("?")
            and prev is not None
            and prev[1] == "heading"
            and prev[4] == IMPLICIT_LEVEL
            and _titlecase(prev[2])
            and (not _titlecase(raw) or "," in raw)
            and len(raw.split()) <= _MAX_VALUE_WORDS
            and (nxt is None or nxt[1] in ("heading", "value", "dropped"))
        ):
            # "Minimum Education Requirements" / "Bachelor's degree": a key and its value
            hp = prev[0]
            out[-1] = (Piece(hp.start, p.end, "text"), "facet", prev[2], "", 0)
            continue
        out.append((p, kind, label, reason, level))
    return out


def _structured(doc: SourceDocument) -> list[Block]:
    """Every piece of ``doc`` as a block with its kind and heading path."""
    text = doc.text
    path = _Path(doc.title)
    blocks: list[Block] = []
    items = pieces(text, doc.body_start)
    header: tuple[tuple[int, int], ...] = ()
    shaped = _shape(text, items)
    for i, (p, kind, label, reason, level) in enumerate(shaped):
        if p.kind == "table_sep":
            blocks.append(Block(p.start, p.end, "dropped", reason="table rule"))
            continue
        if p.kind == "row":
            spans = cells(text, p.start, p.end)
            nxt = shaped[i + 1][0] if i + 1 < len(shaped) else None
            if nxt is not None and nxt.kind == "table_sep":
                header = tuple(spans)
                blocks.append(Block(p.start, p.end, "header", path=path.labels()))
                continue
            if not blocks or blocks[-1].kind not in ("row", "header", "dropped"):
                header = ()
            filled = [s for s in spans if s[1] > s[0]]
            if filled:
                a, b = filled[0][0], filled[-1][1]
                blocks.append(Block(a, b, "row", path=path.labels(), header=header))
            continue
        if kind == "heading":
            path.enter(level, label)
            blocks.append(
                Block(p.start, p.end, "heading", label, path=path.labels()[:-1], level=level)
            )
            continue
        if kind == "dropped" and reason.startswith("teaser") and blocks:
            prev = blocks[-1]
            if prev.kind == "heading" and prev.level == IMPLICIT_LEVEL:
                blocks[-1] = Block(prev.start, prev.end, "dropped", "", "title of a teaser")
        if kind == "paragraph" and text[p.end - 1] == ":":
            spans = sentence_spans(text, p.start, p.end)  # keep what comes before a lead-in
            a, b = (spans[0][0], spans[-2][1]) if len(spans) > 1 else (p.start, p.end)
            blocks.append(Block(a, b, "paragraph", path=path.labels()))
            continue
        # rows and separators were folded into tables above: only block kinds are left
        blocks.append(
            Block(p.start, p.end, cast(BlockKind, kind), label, reason, path=path.labels())
        )
    return blocks


def _navigation(text: str, blocks: list[Block]) -> list[Block]:
    """Bullet runs that list the article's own headings (a table of contents) go."""
    headings = {normalise_key(b.label) for b in blocks if b.kind == "heading"}
    out = list(blocks)
    i = 0
    while i < len(out):
        if out[i].kind != "bullet":
            i += 1
            continue
        j = i
        while j < len(out) and out[j].kind == "bullet":
            j += 1
        run = out[i:j]
        keys = [normalise_key(plain(text[b.start : b.end])) for b in run]
        listed = sum(k in headings for k in keys)
        under_contents = bool(run[0].path) and bool(_CONTENTS.search(run[0].path[-1]))
        if under_contents or (len(run) >= 2 and listed * 2 >= len(run)):
            for k in range(i, j):
                b = out[k]
                out[k] = Block(b.start, b.end, "dropped", "", "table of contents", b.path)
        i = j
    return out


def document_blocks(doc: SourceDocument, seen: set[str] | None = None) -> list[Block]:
    """Classify every block of ``doc``; ``seen`` carries repeat keys across documents."""
    seen = set() if seen is None else seen
    blocks = _navigation(doc.text, _structured(doc))
    out = []
    for block in blocks:
        if block.kind in ("facet", "paragraph", "bullet", "row"):
            key = normalise_key(doc.text[block.start : block.end])
            if key in seen and len(key.split()) > 3:
                block = Block(block.start, block.end, "dropped", "", "repeats an earlier block")
            seen.add(key)
        out.append(block)
    return _fragments(doc.text, out)


def _fragments(text: str, blocks: list[Block]) -> list[Block]:
    """Runs of four or more short lines (a flattened table or list) become one fragment."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and (
            (blocks[j].kind == "heading" and blocks[j].level == IMPLICIT_LEVEL)
            or blocks[j].kind == "value"
        ):
            j += 1
        run = blocks[i:j]
        heads_next = j < len(blocks) and blocks[j].kind in ("facet", "paragraph")
        if heads_next and run and run[-1].kind == "heading":
            run = run[:-1]  # the last short line heads the paragraph after it
        words = sum(len(text[r.start : r.end].split()) for r in run)
        values = sum(r.kind == "value" for r in run)
        if (len(run) >= 4 and words >= 16) or (values and len(run) >= 2):
            head = next((b for b in reversed(out) if b.kind == "heading"), None)
            path = (*head.path, head.label) if head else ()
            first = plain(text[run[0].start : run[0].end])
            header: tuple[tuple[int, int], ...] = ()
            if values >= 2 and run[0].kind == "heading" and _titlecase(first):
                # a flattened table's header row: the rows' context, not a unit of its own
                header, run = ((run[0].start, run[0].end),), run[1:]
            out.append(Block(run[0].start, run[-1].end, "fragment", path=path, header=header))
            out.extend(blocks[i + len(run) : j])
            i = j
            continue
        for b in blocks[i : max(j, i + 1)]:
            out.append(Block(b.start, b.end, "paragraph", path=b.path) if b.kind == "value" else b)
        i = max(j, i + 1)
    return out


def clean_blocks(documents: Iterable[SourceDocument]) -> dict[str, list[Block]]:
    """Blocks of every document, repeats detected across the corpus in file-name order."""
    seen: set[str] = set()
    return {doc.source: document_blocks(doc, seen) for doc in documents}
