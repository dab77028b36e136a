"""A plain "X vs Y" question is answered with the careers comparison table (one cited
quote per facet and role) when the table says enough; anything else goes to retrieval."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from roleguide.ask.query import is_comparison
from roleguide.errors import InvalidQuestionError
from roleguide.models import Answer
from roleguide.store.lexical import tokenize

if TYPE_CHECKING:
    from roleguide.ask.answer import ExtractiveAnswerer
    from roleguide.ask.roles import RoleCatalog
    from roleguide.careers.tools import CareerMap

__all__ = ["MIN_COMPARED_ROWS", "comparison_pair", "table_answer"]

_COMPARISON_WORDS = frozenset(
    tokenize(
        [
            "difference differences different differ compare comparison versus vs between "
            "main key contrast distinguish better choose"
        ]
    )[0]
)
MIN_COMPARED_ROWS = 2  # a comparison table needs this many facets stated for both roles


def _compared_rows(answer: Answer) -> int:
    rows = answer.comparison.rows if answer.comparison is not None else ()
    return sum(all(c.citation is not None for c in row.cells) for row in rows)


def comparison_pair(
    query: str, catalog: RoleCatalog, answerer: ExtractiveAnswerer, careers: CareerMap
) -> tuple[str, str] | None:
    """The two roles of a plain "X vs Y" question (nothing asked beyond comparing them)."""
    named = catalog.roles_in(query)
    if len(named) != 2 or not (is_comparison(query) or re.search(r"\bor\b", query)):
        return None
    if answerer.topic_tokens(query) - _COMPARISON_WORDS:
        return None  # "How do their budgets differ?": answered from the budget passages
    try:
        careers.resolve(named[0])
        careers.resolve(named[1])
    except InvalidQuestionError:
        return None
    return named[0], named[1]


def _comparison_answer(careers: CareerMap, question: str, query: str, a: str, b: str) -> Answer:
    table = careers.compare(a, b)
    text = f"{a} vs {b}, facet by facet — each cell quotes the articles:\n\n" + table.to_markdown()
    return Answer(
        question=question,
        query=query,
        text=text,
        citations=table.citations,
        comparison=table,
    )


def table_answer(
    question: str,
    query: str,
    catalog: RoleCatalog,
    answerer: ExtractiveAnswerer,
    careers: CareerMap,
) -> Answer | None:
    """The comparison table answering a plain "X vs Y" ``query``, or None when the query
    asks something else or the table states fewer than ``MIN_COMPARED_ROWS`` facets."""
    pair = comparison_pair(query, catalog, answerer, careers)
    table = _comparison_answer(careers, question, query, *pair) if pair is not None else None
    if table is not None and _compared_rows(table) >= MIN_COMPARED_ROWS:
        return table
    return None  # no side-by-side facets for these roles: quote what the articles say
