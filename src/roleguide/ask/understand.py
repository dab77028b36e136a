"""Understanding the question: from what was typed (and the conversation so far) to the
query that is searched. The one entry point for the steps kept in their own modules:

1. ``query.clean_question`` validates the text (the caller runs it first, so a bad
   question is refused before anything else happens);
2. ``check_history`` takes the recent turns of the conversation, bounded;
3. a follow-up becomes stand-alone: rewritten by the chat model when there is one
   (``rewrite_followup``), otherwise by ``conversation.resolve_followup``;
4. role names are normalised and abbreviations spelled out (``roles.RoleCatalog``);
5. a terse question's intent is spelled out (``query.expand_intent``).

>>> from roleguide.ask.roles import RoleCatalog
>>> catalog = RoleCatalog(["Logistics Manager"], {})
>>> history = [{"role": "user", "content": "What does a logistics manager do?"}]
>>> understand("What degree do they need?", history, catalog)
'What degree do Logistics Managers need?'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from roleguide.ask.chat import MAX_REPLY_CHARS, call_within
from roleguide.ask.conversation import Message, resolve_followup
from roleguide.ask.prompts import rewrite_prompt
from roleguide.ask.query import expand_intent
from roleguide.ask.roles import RoleCatalog
from roleguide.errors import InvalidQuestionError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "MAX_HISTORY_CHARS",
    "MAX_HISTORY_MESSAGES",
    "check_history",
    "rewrite_followup",
    "understand",
]

MAX_HISTORY_MESSAGES = 20
MAX_HISTORY_CHARS = 4000


def check_history(history: Sequence[Message] | None) -> list[Message]:
    """The conversation's last turns as plain messages, or ``InvalidQuestionError``."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestionError("history must be a list of {'role', 'content'} messages")
    out = []
    history = list(history)[-MAX_HISTORY_MESSAGES:]  # older turns cannot change the role carried
    for i, message in enumerate(history):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InvalidQuestionError(
                f"history[{i}] must be a dict with role 'user' or 'assistant' and a content string"
            )
        content = message.get("content")
        content = content[:MAX_HISTORY_CHARS] if isinstance(content, str) else ""
        out.append({"role": message["role"], "content": content})
    return out


def rewrite_followup(
    model: BaseChatModel, question: str, history: Sequence[Message], seconds: float = 20.0
) -> str | None:
    """A stand-alone version of a follow-up question, or None when the model fails or
    takes longer than ``seconds`` (logged; the rule-based rewrite is used instead)."""
    prompt = rewrite_prompt(question, history)
    reply = call_within(
        seconds,
        lambda: str(model.invoke(prompt).content)[:MAX_REPLY_CHARS],
        "rewriting the follow-up question with the language model",
    )
    lines = (reply or "").strip().splitlines()
    text = lines[0].strip() if lines else ""
    return text if 3 <= len(text) <= 400 else None


def understand(
    question: str,
    history: Sequence[Message] | None,
    catalog: RoleCatalog,
    model=None,
    deadline: float | None = None,
    timeout: float = 20.0,
) -> str:
    """The query to search for a cleaned ``question``: follow-ups made stand-alone (by
    ``model`` when given, within ``deadline`` or else ``timeout`` seconds), role aliases
    normalised, abbreviations and intent spelled out."""
    checked = check_history(history)
    resolved = None
    if checked and model is not None:
        if deadline is None:
            deadline = time.monotonic() + timeout
        seconds = deadline - time.monotonic()
        resolved = rewrite_followup(model, question, checked, seconds)
    if resolved is None:
        resolved = resolve_followup(question, checked, catalog)
    return expand_intent(catalog.expand_abbreviations(catalog.normalise(resolved)))
