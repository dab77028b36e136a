"""Facets: what a passage is about ("Skills", "Salary", "Key responsibilities"), read off
the article's structure and merged across articles by meaning.

A unit's facet is its labelled paragraph's label, its table column's header, or the
nearest heading above it with the role names and question words taken out ("What Are the
Typical Responsibilities of a Warehouse Manager?" → "Typical Responsibilities"). A heading
that only names a role, or restates the article's title, says which role a passage is
about, not what about it: its passages are the role's "Overview". Labels from different
articles merge when their embeddings are at least ``MERGE_THRESHOLD`` alike (measured on
hand-labelled pairs from both corpora, ``evals/facets/pairs.yaml``), or when they differ
only in spelling (``facet_key``). Mixing in the similarity of the facets' content was
measured too (weights 0.5–0.8 for the name): no better on the test pairs, so names alone.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from roleguide.ask.roles import RoleCatalog
from roleguide.ingest.structure import META_LINE, plain

__all__ = [
    "MERGE_THRESHOLD",
    "OVERVIEW",
    "Calibration",
    "calibrate",
    "facet_key",
    "facet_label",
    "merge_counted",
    "merge_labels",
]

OVERVIEW = "Overview"
MERGE_THRESHOLD = 0.551
"""Cosine similarity of two facet names' embeddings at and above which they are one facet
(calibrated on the dev half of ``evals/facets/pairs.yaml``; see ``calibrate``)."""

_LITTLE = {"of", "the", "and", "vs", "versus", "in", "a", "an"}
# words at the edges of a heading that say nothing about the facet once roles are taken out
_EDGE = {
    *_LITTLE,
    "what",
    "are",
    "is",
    "do",
    "does",
    "how",
    "for",
    "to",
    "as",
    "s",
    "their",
    "your",
    "include",
    "includes",
    "including",
    "comparing",
    "compared",
    "between",
    "both",
    "job",
    "description",
}
_WORD = re.compile(r"[^\W_][\w'’]*")


def facet_key(label: str) -> str:
    """Merge key for facet labels: case, punctuation, plurals and little words ignored.

    >>> facet_key("Scope of Responsibilities") == facet_key("Scope of Responsibility")
    True
    >>> facet_key("Strategic vs. Tactical")
    'strategic tactical'
    """
    words = re.findall(r"[a-z0-9]+", label.casefold())
    stems = []
    for w in (w for w in words if w not in _LITTLE):
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        stems.append(w)
    return " ".join(stems)


def _content_words(text: str) -> set[str]:
    return {facet_key(w) for w in _WORD.findall(text.casefold()) if w not in _EDGE} - {""}


def _strip_heading(catalog: RoleCatalog, heading: str) -> str:
    """``heading`` without the role names it mentions and the little words at its edges:
    the longest part that still has a content word, or ``""``."""
    text = plain(heading).rstrip("?:").strip()
    spans = [(m.start, m.end) for m in catalog.mentions(text)]
    parts, pos = [], 0
    for a, b in [*spans, (len(text), len(text))]:
        part = text[pos:a]
        if part.endswith("/"):  # "Distribution/Logistics Manager": one title
            part = ""
        parts.append(part)
        pos = b
    best = ""
    for part in parts:
        words = [m for m in _WORD.finditer(part)]
        keep = [m for m in words if m.group().casefold() not in _EDGE]
        if not keep:
            continue
        first, last = keep[0], keep[-1]
        candidate = part[first.start() : last.end()].strip(" :-–—,.&")
        if len(candidate) > len(best):
            best = candidate
    return best


def _names_role(catalog: RoleCatalog, heading: str) -> bool:
    return bool(catalog.mentions(plain(heading)))


def facet_label(catalog: RoleCatalog, chunk, title: str) -> str:
    """The facet a passage (``chunk``) speaks to, from its label or headings (innermost
    first); ``OVERVIEW`` when no heading names one."""
    if chunk.kind == "facet" and chunk.section:
        return chunk.section
    context = getattr(chunk, "context", "")
    headings = [] if chunk.kind == "table" else (context.split(" › ") if context else [])
    title_words = _content_words(title)
    for heading in [chunk.section, *reversed(headings)]:
        if not heading or META_LINE.match(heading.strip()):
            continue
        label = _strip_heading(catalog, heading)
        words = _content_words(label)
        if label[:1].islower():  # "Buyers … typically do the following": a lead-in line
            continue
        if not words:
            if _names_role(catalog, heading):
                return OVERVIEW  # "Business Analyst", "A Supply Chain Manager:"
            continue
        if words <= title_words or plain(heading).casefold() == plain(title).casefold():
            return OVERVIEW  # "Inventory Manager Job Description" under that title
        if _names_role(catalog, heading) and catalog.mentions(plain(heading))[0].start == 0:
            # "Supply Chain Manager: The Strategic Orchestrator": a role's own heading
            return OVERVIEW if ":" in heading or len(words) > 3 else label
        return label
    return OVERVIEW


def merge_labels(
    labels: Sequence[tuple[str, str]],
    embed: Callable[[list[str]], list[list[float]]],
    threshold: float = MERGE_THRESHOLD,
) -> dict[str, str]:
    """``{label: the label of its merged facet}`` for ``(label, source)`` pairs.

    Labels are taken most widely used first (articles, then units); each joins the facet
    with the same ``facet_key``, else the most similar one when at least ``threshold``
    alike and no article of its own uses that one (an article with two headings means two
    things), else starts its own.
    """
    sources: dict[str, set[str]] = {}
    for label, source in labels:
        sources.setdefault(label, set()).add(source)
    return merge_counted(sources, Counter(label for label, _ in labels), embed, threshold)


def merge_counted(
    sources: dict[str, set[str]],
    counts: Mapping[str, int],
    embed: Callable[[list[str]], list[list[float]]],
    threshold: float = MERGE_THRESHOLD,
) -> dict[str, str]:
    """``merge_labels`` of labels already tallied (a corpus has few labels, many units):
    ``sources`` maps each label, in order of first use, to its articles; ``counts`` to
    how many units use it."""
    if not sources:
        return {}
    order = sorted(sources, key=lambda x: (x != OVERVIEW, -len(sources[x]), -counts[x]))
    vectors = dict(zip(order, _unit(embed(order)), strict=True))
    members: dict[str, set[str]] = {}  # facet head → the sources of its labels
    out: dict[str, str] = {}
    for label in order:
        same = [h for h in members if facet_key(h) == facet_key(label)]
        scored = [(_dot(vectors[label], vectors[h]), h) for h in members]
        best = max(scored, default=(0.0, ""))
        # nearest to a facet its own article tells apart from it: a facet of its own
        near = best[0] >= threshold and not members[best[1]] & sources[label]
        head = same[0] if same else best[1] if near else label
        members.setdefault(head, set()).update(sources[label])
        out[label] = head
    return out


def _unit(vectors) -> list[list[float]]:
    out = []
    for v in vectors:
        norm = sum(x * x for x in v) ** 0.5 or 1.0
        out.append([x / norm for x in v])
    return out


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Calibration:
    """A merge threshold chosen on the dev pairs and how it does on the test pairs."""

    threshold: float
    dev_accuracy: float
    test_accuracy: float
    dev_pairs: int
    test_pairs: int
    test_errors: tuple[tuple[str, str, bool, float], ...]


def calibrate(
    pairs: Sequence[tuple[str, str, bool, str]],
    embed: Callable[[list[str]], list[list[float]]],
) -> Calibration:
    """Pick the threshold that best separates same/different facet-name pairs on the
    ``dev`` pairs (midway between neighbouring similarities), judged on the ``test`` pairs.

    ``pairs`` are ``(name, name, same?, split)`` with split ``"dev"`` or ``"test"``.
    """
    names = list(dict.fromkeys(n for a, b, _, _ in pairs for n in (a, b)))
    vectors = dict(zip(names, _unit(embed(names)), strict=True))
    scored = [(_dot(vectors[a], vectors[b]), same, split, a, b) for a, b, same, split in pairs]
    dev = [(s, same) for s, same, split, _, _ in scored if split == "dev"]
    test = [row for row in scored if row[2] == "test"]
    values = sorted({s for s, _ in dev})
    candidates = [(x + y) / 2 for x, y in itertools.pairwise(values)] or values

    def accuracy(rows, t):
        return sum((s >= t) == same for s, same in rows) / max(1, len(rows))

    best = max(candidates, key=lambda t: (accuracy(dev, t), -abs(t - 0.6)))
    errors = tuple((a, b, same, round(s, 3)) for s, same, _, a, b in test if (s >= best) != same)
    return Calibration(
        threshold=round(best, 3),
        dev_accuracy=accuracy(dev, best),
        test_accuracy=accuracy([(s, same) for s, same, *_ in test], best),
        dev_pairs=len(dev),
        test_pairs=len(test),
        test_errors=errors,
    )
