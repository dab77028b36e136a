"""Follow-up questions without an LLM: carry the role under discussion into the next query.

"Who handles customs compliance?" → (answer names the Logistics Manager) →
"And what degree do they usually have?" is searched as
"And what degree do Logistics Managers usually have?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, TypedDict

from roleguide.ask.query import is_who_question
from roleguide.ask.roles import RoleCatalog

__all__ = ["Message", "resolve_followup"]


class Message(TypedDict):
    """One turn of a conversation, as the API, the CLI and the web app pass it (a plain
    dict at run time: ``{"role": "user", "content": "Who buys?"}``)."""

    role: Literal["user", "assistant"]
    content: str


_ELLIPTIC = re.compile(r"^\s*(and\s+)?(what|how)\s+about\b|^\s*and\s+(for|the)\b", re.I)
_DEMONSTRATIVE = re.compile(r"\b(that|this|it)\b(?!\s+(role|job|career|position))", re.I)
_PLURAL_REF = re.compile(r"\b(they|them)\b", re.I)
_POSSESSIVE_REF = re.compile(r"\b(their|his|her)\b", re.I)
_SINGULAR_REF = re.compile(r"\b(he|she)\b", re.I)
_THING_REF = re.compile(
    r"\b(?:this|that|such\s+a|the\s+same)\s+(role|job|career|position|profession|manager)\b", re.I
)


def _join(roles: list[str], plural: bool) -> str:
    names = [f"{r}s" if plural and not r.endswith("s") else r for r in roles]
    return " and ".join(names)


def _substitute(question: str, roles: list[str]) -> str | None:
    """Replace the first reference to a role; None when the question has none."""
    for pattern, render in (
        (_THING_REF, lambda m: f"the {_join(roles, False)} {m.group(1)}"),
        (_PLURAL_REF, lambda m: _join(roles, True)),
        (_POSSESSIVE_REF, lambda m: f"{_join(roles, True)}'"),
        (_SINGULAR_REF, lambda m: f"the {_join(roles, False)}"),
    ):
        new, n = pattern.subn(render, question, count=1)
        if n:
            return new
    return None


def _swap_roles(previous: str, roles: list[str], catalog: RoleCatalog) -> str:
    mentions = catalog.mentions(previous)
    if not mentions:
        return f"{previous.rstrip(' ?')} for the {_join(roles, False)}?"
    first = mentions[0]
    plural = re.search(r"s['’]?$", previous[first.start : first.end]) is not None
    return previous[: first.start] + _join(roles, plural) + previous[first.end :]


def _resolve_one(question: str, previous: str | None, context: list[str], catalog) -> str:
    named = catalog.roles_in(question)
    if named:
        if previous and _ELLIPTIC.search(question) and len(question.split()) <= 7:
            return _swap_roles(previous, named, catalog)
        return question
    if not context or is_who_question(question):
        return question
    substituted = _substitute(question, context)
    if substituted is not None:
        return substituted
    if _ELLIPTIC.search(question) or len(question.split()) <= 4:
        return f"{question.rstrip(' ?')} for the {_join(context, False)}?"
    if previous and _DEMONSTRATIVE.search(question) and len(question.split()) <= 7:
        return f"{question} ({previous.rstrip()})"
    return question


def resolve_followup(question: str, history: Sequence[Message] | None, catalog: RoleCatalog) -> str:
    """The query to search for ``question`` given the conversation so far."""
    previous: str | None = None
    context: list[str] = []
    asked_roles = False
    for message in history or ():
        content = str(message.get("content") or "")
        if message.get("role") == "user":
            previous = _resolve_one(content, previous, context, catalog)
            context = catalog.roles_in(previous) or context
            asked_roles = bool(catalog.roles_in(previous))
        elif message.get("role") == "assistant" and previous is not None and not asked_roles:
            lead = re.split(r"(?<=[.!?”])\s", content.strip(), maxsplit=1)[0]
            context = catalog.roles_in(lead)[:1] or context
    return _resolve_one(question, previous, context, catalog)
