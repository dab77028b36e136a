"""Suggested follow-up questions: the facets the corpus covers for the role under discussion.

Each suggestion is asked through the same ``RoleGuide`` before it is shown and kept only
when the answer is not an abstention and cites the facet it names — so a suggestion never
leads to "the articles don't cover this". Verdicts are cached per (role, facet).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from roleguide.errors import RoleGuideError
from roleguide.models import Answer

__all__ = ["FollowupSuggester"]

_MAX_FACET_WORDS = 5  # longer "facets" are article titles used as section names


class FollowupSuggester:
    """Up to ``limit`` questions about facets of the answer's role not yet covered."""

    def __init__(self, guide, limit: int = 3) -> None:
        self.guide = guide
        self.limit = limit
        self._verdicts: dict[tuple[str, str], bool] = {}
        self._lock = threading.Lock()

    @staticmethod
    def question(role: str, facet: str) -> str:
        """'What about the Logistics Manager's budget control?'"""
        words = [w if w.isupper() else w.lower() for w in facet.split()]
        return f"What about the {role}'s {' '.join(words)}?"

    def role_of(self, answer: Answer) -> str | None:
        """The role being discussed: the lead role, else the first role the query names."""
        if answer.lead_role:
            return answer.lead_role
        named = self.guide.catalog.roles_in(answer.query)
        return named[0] if named else None

    def _answers(self, role: str, facet: str) -> bool:
        key = (role, facet)
        with self._lock:
            if key in self._verdicts:
                return self._verdicts[key]
        try:
            found = self.guide.ask(self.question(role, facet), record=False)
            good = not found.abstained and any(c.section == facet for c in found.citations[:2])
        except RoleGuideError:
            good = False
        with self._lock:
            self._verdicts[key] = good
        return good

    def suggest(self, answer: Answer, covered: Iterable[str] = ()) -> list[str]:
        """Questions for ``answer``'s role; ``covered`` are sections already cited."""
        role = self.role_of(answer)
        if role is None or answer.comparison is not None:
            return []
        try:
            sections = self.guide.profile(role).sections
        except RoleGuideError:
            return []
        seen = set(covered) | {c.section for c in answer.citations}
        out: list[str] = []
        for section in sections:
            facet = section.facet
            if facet in seen or len(facet.split()) > _MAX_FACET_WORDS or ":" in facet:
                continue
            if self._answers(role, facet):
                out.append(self.question(role, facet))
                if len(out) == self.limit:
                    break
        return out
