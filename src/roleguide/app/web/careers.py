"""The career tabs' HTML: a comparison (shared facet rows first, the rest folded, the
source cards behind one "Sources (n)" toggle), a role's profile and the role match."""

from __future__ import annotations

from typing import TYPE_CHECKING

from roleguide.app.web.render import card_view
from roleguide.app.web.templating import render_template
from roleguide.ingest.structure import plain
from roleguide.models import Citation, Comparison, MatchResult, RoleProfile

if TYPE_CHECKING:
    from roleguide.api import RoleGuide

__all__ = ["comparison_html", "match_html", "profile_html"]


def _quote(c: Citation) -> str:
    """A quote as read: the article's Markdown emphasis (``**Skills**:``) not shown as
    asterisks; the source card keeps the verbatim text."""
    return plain(c.quote)


def comparison_html(table: Comparison, guide: RoleGuide) -> str:
    """The compare tab: facets both roles have (each cell its quotes and their [n]), the
    facets only one has folded, the source cards behind one "Sources (n)" toggle."""
    cards = [card_view(c, "c", guide) for c in table.citations]
    return render_template("compare.html", table=table, cards=cards, quote=_quote)


def profile_html(found: RoleProfile, guide: RoleGuide) -> str:
    """The profile tab: each facet with its statements (quote and [n]), related roles, and
    the source cards behind one "Sources (n)" toggle."""
    cites = [c for section in found.sections for c in section.citations]
    cards = [card_view(c, "p", guide) for c in cites]
    return render_template("profile.html", found=found, cards=cards, quote=_quote)


def match_html(result: MatchResult, guide: RoleGuide) -> str:
    """The match tab: roles ranked, each with how many interests it matched and, per
    interest, the statement that matched it; the source cards behind a toggle per role."""
    top = max((m.score for m in result.matches), default=1.0) or 1.0
    ranked = [
        {
            "rank": rank,
            "match": m,
            "width": int(100 * m.score / top),
            "cards": [card_view(c, f"m{rank}", guide) for c in m.evidence],
        }
        for rank, m in enumerate(result.matches, start=1)
    ]
    return render_template("match.html", result=result, ranked=ranked, quote=_quote)
