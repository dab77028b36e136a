"""The faster role-mention regex and quote truncation find exactly what the plain ones did."""

from __future__ import annotations

import random
import re

from roleguide.ask.answer import MAX_QUOTE_WORDS, quote_span
from roleguide.ask.roles import RoleCatalog, _surface_pattern
from roleguide.ingest.chunks import Chunk

ROLES = [
    "Buyer",
    "Buying Agent",
    "Supply Chain Manager",
    "Supply Planner",
    "Stock Controller",
    "Sourcing Specialist",
    "Inventory Manager",
    "Import/Export Coordinator",
    "3PL Manager",
    "Kitting Lead",
]
ALIASES = {"Supply Chain Manager": ["SCM", "chain boss"], "Buyer": ["purchaser"]}


def _plain(catalog: RoleCatalog) -> re.Pattern:
    """The alternation as it was: every form, longest first, no grouping."""
    ordered = sorted(catalog._forms, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(_surface_pattern(f) for f in ordered) + r")\b", re.I)


def test_grouped_alternation_matches_like_the_plain_one():
    catalog = RoleCatalog(ROLES, ALIASES)
    assert catalog._pattern is not None and catalog._pattern.pattern != _plain(catalog).pattern
    plain = _plain(catalog)
    words = [w for f in catalog._forms for w in f.split()]
    pieces = [*words, *(w.upper() for w in words), "s", "es", "'s", "’", "ſ", "K", "İ", "ı"]
    pieces += [" ", "  ", "\n", "-", "/", ",", "SUPPLY CHAIN MANAGERS'", "buyers’"]
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(1, 9)))
        got = [(m.start(), m.end()) for m in catalog._pattern.finditer(text)]
        assert got == [(m.start(), m.end()) for m in plain.finditer(text)], text


def test_non_ascii_first_letters_keep_the_plain_alternation():
    catalog = RoleCatalog(["Économiste", "Buyer"])
    assert catalog._pattern is not None
    assert catalog._pattern.pattern == _plain(catalog).pattern
    assert [m.role for m in catalog.mentions("ÉCONOMISTES and buyers")] == ["Économiste", "Buyer"]


def _truncated(text: str, start: int, end: int) -> int:
    """``quote_span``'s end as it was computed: every word listed."""
    words = list(re.finditer(r"\S+", text))
    return start + words[MAX_QUOTE_WORDS - 1].end() if len(words) > MAX_QUOTE_WORDS else end


def test_quote_truncation_unchanged_around_the_word_limit():
    rng = random.Random(3)
    for _ in range(400):
        n = rng.randint(MAX_QUOTE_WORDS - 3, MAX_QUOTE_WORDS + 3)
        text = rng.choice(["", " "]) + " ".join(
            rng.choice(["a", "bb", "c\u00a0d", "e\tf"]) for _ in range(n)
        )
        chunk = Chunk(
            "id", "s.md", "T", "S", "paragraph", text, 10, 10 + len(text), ((10, 10 + len(text)),)
        )
        assert quote_span(chunk, 0) == (10, _truncated(text, 10, 10 + len(text))), text


def test_statement_table_agrees_with_its_statements(guide):
    """The per-role lists and unit lookup worked out once equal a scan of every statement."""
    table = guide.careers.statements()
    every = list(table)
    assert len(every) == len(table) and every[:3] == table[:3] and every[-1] == table[-1]
    assert [(s.chunk.source, s.chunk.start) for s in every] == sorted(
        (s.chunk.source, s.chunk.start) for s in every
    )
    for role, (passages, sources) in table.roles.items():
        about = [s for s in every if role in s.subject]
        assert passages == len({s.chunk.id for s in about})
        assert sources == tuple(sorted({s.chunk.source for s in about}))
        assert [table.statement(k) for k in table.about(role)] == [s for s in about if s.facet]
    for s in every:
        found = table.unit(s.chunk.id, s.position)
        if not s.cell:
            assert found == (s if s.subject else None)
    assert table.unit("no such chunk", 0) is None
