"""Names in a question that the evidence never mentions ("in Germany", "of Amazon").

A question that restricts itself to a place, a company or a product the retrieved
passages never name cannot be answered from them, however close the rest of it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from roleguide.ask.roles import RoleCatalog

__all__ = ["unmentioned_name"]

_NAME = re.compile(r"\b[A-Z][A-Za-z]+\b")
_NOT_NAMES = frozenset("i i'm i've what who which how when where why is are do does".split())
_CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")


def unmentioned_name(catalog: RoleCatalog, question: str, chunks: Sequence) -> str | None:
    """A name in ``question`` that none of ``chunks`` mentions, if any.

    A name is a capitalised word not opening the question and not part of a role; an
    all-capital one also counts as mentioned as the initials of words ("US": United
    States).
    """
    for m in reversed(catalog.mentions(question)):
        question = question[: m.start] + " " + question[m.end :]
    opening = len(question) - len(question.lstrip())
    names = [
        m.group(0)
        for m in _NAME.finditer(question)
        if m.start() != opening and m.group(0).casefold() not in _NOT_NAMES
    ]
    if not names or not chunks:
        return None
    seen = " ".join(f"{c.title} {c.section} {getattr(c, 'context', '')} {c.text}" for c in chunks)
    words = set(re.findall(r"[a-z0-9]+", seen.casefold()))
    initials = {"".join(w[0] for w in run.split()) for run in _CAPITALISED_RUN.findall(seen)}
    for name in names:
        key = name.casefold()
        if key in words or key.rstrip("s") in words or name in initials:
            continue
        return name
    return None
