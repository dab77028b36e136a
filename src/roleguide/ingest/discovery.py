"""Roles from the text: which roles an article covers, found without front matter.

An article covers the job titles its title names ("X vs Y", "X Job Description",
"Career Map: Buyer"), the titles its headings name, and the multi-word titles its text
keeps coming back to. ``roles:`` front matter, when present, overrides what is found.
Every title the kept text mentions is recorded too, with the abbreviations the text
defines ("Chief Operating Officer (COO)"), so a question about a title the corpus only
mentions is not mistaken for one about a title it never mentions.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from roleguide.ingest.cleaning import Block
from roleguide.ingest.corpus import SourceDocument
from roleguide.ingest.titles import (
    OCCUPATIONS,
    abbreviations,
    canonical_title,
    job_titles,
    title_key,
)

__all__ = ["MIN_REPEATS", "Discovery", "discover", "merge_discoveries"]

MIN_REPEATS = 3  # a multi-word title the text names this often is one of its roles
_CONTENT = ("facet", "paragraph", "fragment", "bullet", "row", "value")


@dataclass
class Discovery:
    """What one article (or the corpus, merged) says about roles."""

    roles: list[str] = field(default_factory=list)
    """the roles the article covers, canonical names, most prominent first"""
    found: list[str] = field(default_factory=list)
    """the roles found in the text (same as ``roles`` unless front matter overrides)"""
    mentioned: set[str] = field(default_factory=set)
    """keys of every job title the kept text mentions ("chief operating officer")"""
    abbreviations: dict[str, str] = field(default_factory=dict)
    """abbreviations the text defines: {"COO": "Chief Operating Officer"}"""


def _titles(text: str, *, single: bool) -> list[str]:
    """Title keys in ``text``: multi-word titles, and lone occupations when ``single``."""
    return [
        m.key
        for m in job_titles(text)
        if len(m.key.split()) > 1 or (single and m.head in OCCUPATIONS)
    ]


def discover(doc: SourceDocument, blocks: list[Block]) -> Discovery:
    """The roles ``doc`` covers, from its title, headings and repeated job titles."""
    text = doc.text
    surfaces: dict[str, str] = {}

    def remember(key: str, start: int, end: int, source: str) -> None:
        surface = source[start:end]
        if key not in surfaces or (surface[:1].isupper() and not surfaces[key][:1].isupper()):
            surfaces[key] = surface

    order: list[str] = []
    for m in job_titles(doc.title):
        if len(m.key.split()) > 1 or m.head in OCCUPATIONS:
            remember(m.key, m.start, m.end, doc.title)
            order.append(m.key)
    counts: Counter[str] = Counter()
    mentioned: set[str] = set()
    defined: dict[str, str] = {}
    for block in blocks:
        piece = text[block.start : block.end]
        if block.kind == "heading":
            for m in job_titles(piece):
                if len(m.key.split()) > 1 or m.head in OCCUPATIONS:
                    remember(m.key, m.start, m.end, piece)
                    order.append(m.key)
                    mentioned.add(m.key)
        elif block.kind in _CONTENT:
            for m in job_titles(piece):
                mentioned.add(m.key)
                if len(m.key.split()) > 1:
                    counts[m.key] += 1
                    remember(m.key, m.start, m.end, piece)
            defined.update(abbreviations(piece))
    order += [k for k, n in counts.most_common() if n >= MIN_REPEATS]
    found = [canonical_title(surfaces.get(k, k)) for k in dict.fromkeys(order)]
    found = _without_generic(found)
    mentioned |= {title_key(v) for v in defined.values()}
    mentioned |= {k.casefold() for k in defined}
    roles = list(doc.roles) or found
    return Discovery(roles, found, mentioned, defined)


def _without_generic(roles: list[str]) -> list[str]:
    """Drop a title that only repeats the end of a longer one found with it
    ("Chain Manager" beside "Supply Chain Manager")."""
    keys = [title_key(r) for r in roles]
    return [
        r
        for r, k in zip(roles, keys, strict=True)
        if not any(o != k and o.endswith(" " + k) for o in keys)
    ]


def merge_discoveries(found: dict[str, Discovery]) -> Discovery:
    """The corpus' view: every article's roles, mentioned titles and abbreviations."""
    merged = Discovery()
    for d in found.values():
        merged.roles += [r for r in d.roles if r not in merged.roles]
        merged.found += [r for r in d.found if r not in merged.found]
        merged.mentioned |= d.mentioned
        for short, long in d.abbreviations.items():
            merged.abbreviations.setdefault(short, long)
    return merged
