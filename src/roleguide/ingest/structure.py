"""Article structure: the lines of Markdown, plain or HTML-derived text as typed pieces.

A piece is a heading (``#`` Markdown or HTML h1–h6, which the HTML reader writes as ``#``),
a bullet item, a table row, a table separator, or prose (hard-wrapped lines joined back).
Every piece keeps its verbatim span: a heading's or bullet's span leaves out its marker,
so a quote of it is the article's own words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from roleguide.ingest.sentences import trim_span

__all__ = ["META_LINE", "Piece", "cells", "pieces", "plain"]

PieceKind = Literal["md_heading", "bullet", "row", "table_sep", "text", "break", "code"]

_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(?=\S)")
_BULLET = re.compile(r"([-*+•▪◦●‣–]|\d{1,3}[.)])[ \t]+(?=\S)")
_TABLE_SEP = re.compile(r"\|?[ \t]*:?-{2,}:?[ \t]*(\|[ \t]*:?-{2,}:?[ \t]*)*\|?")
_RULE = re.compile(r"([-=*_])(\s*\1){2,}")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]*_]*$")
# A line that only dates the page or says how long it takes to read.
META_LINE = re.compile(
    r"^(\d+\s+min(ute)?s?\s+read|(last\s+)?(updated|published|posted)\b.{0,40}|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2},?\s+\d{4})$",
    re.I,
)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


@dataclass(frozen=True)
class Piece:
    """One structural piece of an article: ``text[start:end]`` without its marker."""

    start: int
    end: int
    kind: PieceKind
    level: int = 0


def plain(text: str) -> str:
    """Markdown inline markup removed (links keep their words): for classifying and embedding.

    >>> plain("**Median salary:** see [BLS](https://bls.gov)")
    'Median salary: see BLS'
    """
    return " ".join(_EMPHASIS.sub("", _LINK.sub(r"\1", text)).split())


def cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The trimmed spans of a table row's cells (``| a | b |``), empty cells included.

    >>> t = "| Salary | $1 |"
    >>> [t[a:b] for a, b in cells(t, 0, len(t))]
    ['Salary', '$1']
    """
    row = text[start:end]
    pipes = [i for i, ch in enumerate(row) if ch == "|" and (i == 0 or row[i - 1] != "\\")]
    edges = [*([] if row.startswith("|") else [-1]), *pipes]
    if not row.endswith("|"):
        edges.append(len(row))
    return [trim_span(text, start + a + 1, start + b) for a, b in itertools.pairwise(edges)]


def _raw(text: str, start: int) -> Iterator[Piece]:
    """One piece per physical line; blank lines are ``break``s."""
    pos = start
    fenced = False
    for line in text[start:].splitlines(keepends=True):
        a, b = trim_span(text, pos, pos + len(line))
        pos += len(line)
        if text.startswith(("```", "~~~"), a):
            fenced = not fenced
            yield Piece(a, b, "code")
            continue
        if fenced:  # code or a diagram: not prose to quote
            yield Piece(a, b, "code")
            continue
        if a == b:
            yield Piece(a, a, "break")
            continue
        body = text[a:b]
        if m := _MD_HEADING.match(body):
            a2, b2 = trim_span(text, a + m.end(), b)
            while b2 > a2 and text[b2 - 1] == "#":  # closing hashes: "## Salary ##"
                b2 -= 1
            a2, b2 = trim_span(text, a2, b2)
            yield Piece(a2, b2, "md_heading", len(m.group(1)))
        elif body.startswith("|") and body.count("|") >= 2:
            kind = "table_sep" if _TABLE_SEP.fullmatch(body) else "row"
            yield Piece(a, b, kind)
        elif _TABLE_SEP.fullmatch(body) and "|" in body:
            yield Piece(a, b, "table_sep")
        elif (m := _BULLET.match(body)) and not _RULE.fullmatch(body):
            yield Piece(a + m.end(), b, "bullet")
        else:
            yield Piece(a, b, "text")


def pieces(text: str, start: int = 0) -> list[Piece]:
    """The article's pieces in order; prose lines wrapped mid-sentence are joined back.

    A line continues the previous prose line or bullet when that one does not end a
    sentence (nor in a colon) and this one starts in lower case. A setext underline
    (``===``/``---`` under a line) turns the line above into a heading.
    """
    out: list[Piece] = []
    for p in _raw(text, start):
        prev = out[-1] if out else None
        if p.kind == "text" and _RULE.fullmatch(text[p.start : p.end]):
            short = prev is not None and len(text[prev.start : prev.end].split()) <= 14
            if prev is not None and prev.kind == "text" and short and text[p.start] in "=-":
                level = 1 if text[p.start] == "=" else 2
                out[-1] = Piece(prev.start, prev.end, "md_heading", level)
            else:
                out.append(Piece(p.start, p.start, "break"))  # a horizontal rule
            continue
        if (
            p.kind == "text"
            and prev is not None
            and prev.kind in ("text", "bullet")
            and text[p.start].islower()
            and not _TERMINAL.search(text[prev.start : prev.end])
            and text[prev.end - 1] != ":"
        ):
            out[-1] = Piece(prev.start, p.end, prev.kind, prev.level)
            continue
        out.append(p)
    return out
