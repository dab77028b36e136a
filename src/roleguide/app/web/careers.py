"""The career tabs' HTML: a comparison (shared facet rows first, the rest folded, the
source cards behind one "Sources (n)" toggle), a role's profile and the role match."""

from __future__ import annotations

import html
from pathlib import Path

from roleguide.app.web.render import _card, _link
from roleguide.ingest.structure import plain
from roleguide.models import Cell, Citation, Comparison, MatchResult, RoleProfile

__all__ = ["comparison_html", "match_html", "profile_html"]


def _quote(c: Citation) -> str:
    """A quote as read: the article's Markdown emphasis (``**Skills**:``) not shown as
    asterisks; the source card keeps the verbatim text."""
    return html.escape(plain(c.quote))


def _cell_html(c: Cell) -> str:
    if c.citation is None:
        return (
            f"<td class='rg-none' data-role='{html.escape(c.role)}'>not stated in the articles</td>"
        )
    quotes = "".join(f"<p>“{_quote(x)}” {_link(x, 'c')}</p>" for x in c.citations)
    return f"<td data-role='{html.escape(c.role)}'>{quotes}</td>"


def _rows_html(rows) -> str:
    return "".join(
        f"<tr><th scope='row'>{html.escape(r.facet)}</th>{''.join(map(_cell_html, r.cells))}</tr>"
        for r in rows
    )


def comparison_html(table: Comparison, corpus_dir: Path) -> str:
    """The compare tab: facets both roles have (each cell its quotes and their [n]), the
    facets only one has folded, the source cards behind one "Sources (n)" toggle."""
    head = "<thead><tr><th>Facet</th>" + "".join(f"<th>{html.escape(r)}</th>" for r in table.roles)
    parts = ["<div class='rg-compare'>"]
    if table.note:
        parts.append(f"<p class='rg-note'>{html.escape(table.note)}</p>")
    if table.shared:
        parts.append(
            f"<table class='rg-table rg-cmp'>{head}</tr></thead>"
            f"<tbody>{_rows_html(table.shared)}</tbody></table>"
        )
    if table.folded:
        n = len(table.folded)
        parts.append(
            f"<details class='rg-fold'><summary>{n} facet{'s' if n > 1 else ''} only one "
            f"article covers — show</summary><table class='rg-table rg-cmp'>{head}</tr></thead>"
            f"<tbody>{_rows_html(table.folded)}</tbody></table></details>"
        )
    if table.citations:
        cards = "".join(_card(c, "c", corpus_dir) for c in table.citations)
        parts.append(
            f"<details class='rg-src'><summary>Sources ({len(table.citations)})</summary>"
            f"<div class='rg-sources'>{cards}</div></details>"
        )
    return "".join(parts) + "</div>"


def profile_html(found: RoleProfile, corpus_dir: Path) -> str:
    """The profile tab: each facet with its statements (quote and [n]), related roles, and
    the source cards behind one "Sources (n)" toggle."""
    parts = [f"<div class='rg-profile'><h2>{html.escape(found.role)}</h2>"]
    if found.related:
        parts.append(
            "<p class='rg-note'>Compared with: "
            + ", ".join(html.escape(r) for r in found.related)
            + "</p>"
        )
    cites = []
    for section in found.sections:
        items = "".join(f"<li>“{_quote(c)}” {_link(c, 'p')}</li>" for c in section.citations)
        cites += section.citations
        parts.append(f"<h3>{html.escape(section.facet)}</h3><ul class='rg-facts'>{items}</ul>")
    if cites:
        cards = "".join(_card(c, "p", corpus_dir) for c in cites)
        parts.append(
            f"<details class='rg-src'><summary>Sources ({len(cites)})</summary>"
            f"<div class='rg-sources'>{cards}</div></details>"
        )
    return "".join(parts) + "</div>"


def match_html(result: MatchResult, corpus_dir: Path) -> str:
    """The match tab: roles ranked, each with how many interests it matched and, per
    interest, the statement that matched it; the source cards behind a toggle per role."""
    parts = ["<div class='rg-match'>"]
    top = max((m.score for m in result.matches), default=1.0) or 1.0
    for rank, m in enumerate(result.matches, start=1):
        width = int(100 * m.score / top)
        lines = []
        for h in m.hits:
            if h.citation is None:
                lines.append(
                    f"<li>{html.escape(h.interest)}: <span class='rg-none'>no statement</span></li>"
                )
                continue
            mark = "✓" if h.matched else "–"
            quiet = "" if h.matched else " class='rg-none'"
            lines.append(
                f"<li{quiet}>{mark} {html.escape(h.interest)}: “{_quote(h.citation)}” "
                f"{_link(h.citation, f'm{rank}')}</li>"
            )
        cards = "".join(_card(c, f"m{rank}", corpus_dir) for c in m.evidence)
        parts.append(
            f"<section class='rg-group'><div class='rg-q'>{rank}. {html.escape(m.role)}</div>"
            f"<div class='rg-section'>{html.escape(m.summary)}</div>"
            f"<div class='rg-bar' style='width:{width}%'></div>"
            f"<ul class='rg-facts'>{''.join(lines)}</ul>"
            f"<details class='rg-src'><summary>Sources ({len(m.evidence)})</summary>"
            f"<div class='rg-sources'>{cards}</div></details></section>"
        )
    parts.append(f"<p class='rg-note'>{html.escape(result.note)}</p></div>")
    return "".join(parts)
