"""Sentence boundaries as character spans, so every quote stays a verbatim slice of its source."""

from __future__ import annotations

import itertools
import re

__all__ = ["Span", "sentence_spans", "trim_span", "word_spans"]

Span = tuple[int, int]

# Abbreviations whose final period does not end a sentence (compared case-insensitively).
_ABBREVIATIONS = frozenset(
    "vs v e.g i.e etc mr mrs ms dr prof st inc ltd co corp jr sr no approx dept est "
    "fig al u.s u.k a.m p.m ca cf".split()
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9À-Ý])")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


def trim_span(text: str, start: int, end: int) -> Span:
    """Shrink [start, end) so it neither starts nor ends with white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, dot_end: int) -> bool:
    match = _WORD_BEFORE.search(text[max(0, dot_end - 12) : dot_end])
    if not match:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(
    text: str, start: int = 0, end: int | None = None, *, lines: bool = False
) -> list[Span]:
    """Split ``text[start:end]`` into sentences; spans are absolute offsets into ``text``.

    With ``lines=True`` every line break also ends a sentence (for list-like fragments).

    >>> t = "Strategic vs. Tactical: A is broad. B is narrow!"
    >>> [t[a:b] for a, b in sentence_spans(t)]
    ['Strategic vs. Tactical: A is broad.', 'B is narrow!']
    """
    end = len(text) if end is None else end
    cuts = [start]
    segment = text[start:end]
    for match in _BOUNDARY.finditer(segment):
        cut = start + match.end()
        if text[cut - 1] == "." and _is_abbreviation(text, cut):
            continue
        cuts.append(cut)
    if lines:
        cuts.extend(start + m.end() for m in re.finditer(r"\n", segment))
    cuts = [*sorted(set(cuts)), end]
    spans = []
    for a, b in itertools.pairwise(cuts):
        a, b = trim_span(text, a, b)
        if b > a:
            spans.append((a, b))
    return spans


def word_spans(text: str, start: int, end: int) -> list[Span]:
    """Spans of the white-space separated words in ``text[start:end]``."""
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+", text[start:end])]
