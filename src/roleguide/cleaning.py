"""Stage 2, cleaning: split articles into blocks and drop scraped boilerplate.

Generic rules only (nothing specific to one site): blocks repeated within or across
articles keep their first copy, teasers cut off with "…" go (with the title line in
front of them), short form and navigation leftovers go, and lead-in lines that end in
a colon go. Blocks keep their character spans, so later stages quote verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .corpus import SourceDocument
from .sentences import trim_span

__all__ = ["Block", "clean_blocks", "document_blocks", "normalise_key"]

BlockKind = Literal["heading", "facet", "paragraph", "fragment", "dropped"]

_FACET = re.compile(r"^(?P<label>[A-Z][^:\n]{1,60}?):\s+(?P<rest>\S.*)$", re.S)
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_TEASER = re.compile(r"(…|\.\.\.|\[…\]|\[\.\.\.\])\s*$")
_FORM = re.compile(
    r"\b(leave (a |your )?(message|reply|comment)|required|submit|subscribe|newsletter|"
    r"sign (up|in)|log ?in|cookies?|privacy policy|all rights reserved|share (this|on)|"
    r"follow us|read more|related posts?|you may also like|posted (in|on|by)|tags?:|"
    r"categories:|comments?|click here|copyright|contact us|fields?)\b|©|\*",
    re.I,
)
_MAX_HEADING_WORDS = 14
_MAX_FORM_WORDS = 8


@dataclass(frozen=True)
class Block:
    """A paragraph-like piece of an article with its span in ``SourceDocument.text``."""

    start: int
    end: int
    kind: BlockKind
    label: str = ""
    reason: str = ""


def normalise_key(text: str) -> str:
    """Comparison key for repeat detection: case, spacing and edge punctuation ignored."""
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _lines(text: str, start: int) -> Iterable[tuple[int, int]]:
    """Paragraph spans: one per line, hard-wrapped Markdown lines joined back together."""
    spans: list[list[int]] = []
    pos = start
    for line in text[start:].splitlines(keepends=True):
        a, b = trim_span(text, pos, pos + len(line))
        pos += len(line)
        if a == b:
            spans.append([])  # blank line: paragraph break
            continue
        prev = spans[-1] if spans else []
        joinable = (
            prev
            and not _TERMINAL.search(text[prev[0] : prev[1]])
            and text[prev[1] - 1] != ":"
            and text[a].islower()
            and not text[prev[0]].startswith(("#", "-", "*", "|"))
        )
        if joinable:
            prev[1] = b
        else:
            spans.append([a, b])
    return [(s[0], s[1]) for s in spans if s]


def _classify(piece: str) -> tuple[BlockKind, str, str]:
    words = len(piece.split())
    if piece.startswith("#"):
        return "heading", piece.lstrip("#").strip(), ""
    if _TEASER.search(piece):
        return "dropped", "", "teaser cut off with an ellipsis"
    if words <= _MAX_FORM_WORDS and _FORM.search(piece):
        return "dropped", "", "form or navigation leftover"
    if words <= _MAX_HEADING_WORDS and not _TERMINAL.search(piece):
        return "heading", piece.rstrip(":").strip(), ""
    facet = _FACET.match(piece)
    if facet and len(facet["label"].split()) <= 6:
        rest = facet["rest"]
        if _TERMINAL.search(rest) or len(rest.split()) >= 8:
            return "facet", facet["label"].strip(), ""
    if piece.endswith(":"):
        return "dropped", "", "lead-in line with no content of its own"
    return "paragraph", "", ""


def document_blocks(doc: SourceDocument, seen: set[str] | None = None) -> list[Block]:
    """Classify every block of ``doc``; ``seen`` carries repeat keys across documents."""
    seen = set() if seen is None else seen
    blocks: list[Block] = []
    for a, b in _lines(doc.text, doc.body_start):
        piece = doc.text[a:b]
        kind, label, reason = _classify(piece)
        if kind == "dropped" and reason.startswith("teaser") and blocks:
            prev = blocks[-1]
            if prev.kind == "heading":  # a teaser's own title line goes with it
                blocks[-1] = Block(prev.start, prev.end, "dropped", "", "title of a teaser")
        if kind in ("facet", "paragraph"):
            key = normalise_key(piece)
            if key in seen:
                kind, label, reason = "dropped", "", "repeats an earlier block"
            seen.add(key)
        blocks.append(Block(a, b, kind, label, reason))
    return _fragments(doc.text, blocks)


def _fragments(text: str, blocks: list[Block]) -> list[Block]:
    """Runs of four or more short lines (a flattened table or list) become one fragment."""
    out: list[Block] = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and blocks[j].kind == "heading":
            j += 1
        run = blocks[i:j]
        if j < len(blocks) and blocks[j].kind in ("facet", "paragraph") and run:
            run = run[:-1]  # the last short line heads the paragraph after it
        words = sum(len(text[r.start : r.end].split()) for r in run)
        if len(run) >= 4 and words >= 16:
            out.append(Block(run[0].start, run[-1].end, "fragment"))
            out.extend(blocks[i + len(run) : j])
            i = j
            continue
        out.extend(blocks[i : max(j, i + 1)])
        i = max(j, i + 1)
    return out


def clean_blocks(documents: Iterable[SourceDocument]) -> dict[str, list[Block]]:
    """Blocks of every document, repeats detected across the corpus in file-name order."""
    seen: set[str] = set()
    return {doc.source: document_blocks(doc, seen) for doc in documents}
