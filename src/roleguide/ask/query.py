"""Questions in: validation with messages that say what to do, and what kind of question it is."""

from __future__ import annotations

import re
import unicodedata

from roleguide.errors import InvalidQuestionError
from roleguide.ingest.titles import HEADS, OCCUPATIONS

__all__ = [
    "INTENT_SUFFIX",
    "MAX_QUESTION_TOKENS",
    "clean_question",
    "expand_intent",
    "is_comparison",
    "is_who_question",
    "without_intent",
]

MAX_QUESTION_TOKENS = 254
_ROLE_WORDS = frozenset("role job position one person people professional title team".split())
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
# "which/what/whose (kind of) (supply chain) manager/role/planner/person…": the answer is a role
_ASKED_ROLE = (
    r"(kind\s+of\s+|type\s+of\s+|sort\s+of\s+)?"
    r"((?!(is|are|was|were|a|an|the|does|do|did|can|should|would|will)\b)[a-z]+\s+){0,2}"
    rf"({'|'.join(sorted(HEADS | OCCUPATIONS | _ROLE_WORDS))})(e?s)?\b"
)
_WHO = re.compile(
    rf"^\s*(and\s+|so\s+|then\s+)?(who|whom|whose\b|which\s+of\s+(the|these|them)\b|"
    rf"which\s+{_ASKED_ROLE}|what\s+{_ASKED_ROLE}(?!\s+(does|do|did|is|are)\b))",
    re.I,
)
_COMPARISON = re.compile(
    r"\b(differ\w*|compare\w*|comparison|versus|vs\.?|contrast|distinguish\w*|"
    r"similarit\w*|in common|same as)\b",
    re.I,
)


# "What does X do?" asks for X's responsibilities; say so, so the search finds them.
INTENT_SUFFIX = " (scope of responsibilities)"
_WHAT_DO = re.compile(
    r"^\s*(and\s+)?what\s+(does|do)\b.+\bdo"
    r"(?P<idiom>\s+(all|each|every)\s+day|\s+day[- ]to[- ]day|\s+daily|\s+at\s+work)?\s*\??\s*$",
    re.I,
)


def expand_intent(query: str) -> str:
    """Spell out what a terse question asks for.

    >>> expand_intent("What does a procurement manager do?")
    'What does a procurement manager do? (scope of responsibilities)'
    >>> expand_intent("What does a buyer do all day?")
    'What does a buyer do? (scope of responsibilities)'
    """
    m = _WHAT_DO.search(query)
    if m:
        if m["idiom"]:  # "do all day" asks the same: what the job's duties are
            query = query[: m.start("idiom")] + query[m.end("idiom") :]
        return f"{query}{INTENT_SUFFIX}"
    return query


def without_intent(query: str) -> str:
    """The query as asked, without what ``expand_intent`` spelled out."""
    return query.removesuffix(INTENT_SUFFIX)


def clean_question(text: object, max_chars: int) -> str:
    """The question as it will be searched, or ``InvalidQuestionError`` saying what to fix.

    Control characters, NUL bytes, lone surrogates and invisible formatting characters
    are removed; white space is collapsed. Nothing is silently cut short.
    """
    if not isinstance(text, str):
        raise InvalidQuestionError("the question must be text")
    if len(text) > max_chars:
        raise InvalidQuestionError(
            f"the question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Ask about one thing at a time, in a sentence or two."
        )
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    text = _INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        raise InvalidQuestionError(
            "the question is empty: ask something like 'Who handles customs compliance?'"
        )
    if not re.search(r"[^\W\d_]{2,}", text):
        raise InvalidQuestionError(
            "the question has no words to search for: ask something like "
            "'What does a procurement manager do?'"
        )
    from roleguide.ingest.chunks import count_tokens

    tokens = count_tokens(text)
    if tokens > MAX_QUESTION_TOKENS:
        raise InvalidQuestionError(
            f"the question is too long to search as a whole ({tokens} word pieces; the "
            f"embedding model reads {MAX_QUESTION_TOKENS}). Ask about one thing at a time."
        )
    return text


def is_who_question(question: str) -> bool:
    """'Who handles…?', 'Which role…?', 'Whose job is it…?', 'Which manager deals with…?',
    'What kind of planner…?': the answer is a role.

    >>> is_who_question("Which manager deals with import and export laws?")
    True
    >>> is_who_question("What does a supply chain manager do?")
    False
    """
    return bool(_WHO.search(question))


def is_comparison(question: str) -> bool:
    """'What is the difference between…', 'X vs Y', 'compare…'."""
    return bool(_COMPARISON.search(question))
