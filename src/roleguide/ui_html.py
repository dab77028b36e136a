"""What the web app shows, as escaped Markdown and HTML built from ``Answer`` objects.

Pure functions, no Gradio: every piece of corpus or user text passes through
``html.escape`` (HTML) or ``md_escape`` (chat Markdown) before it is shown, so an
article holding ``<script>``, ``onerror=`` or a remote Markdown image shows as text.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from .corpus import load_document
from .models import Answer, ArticleInfo, Citation, Comparison, MatchResult, RoleProfile

__all__ = [
    "APP_CSS",
    "APP_JS",
    "answer_markdown",
    "comparison_html",
    "comparison_markdown",
    "corpus_table",
    "match_html",
    "md_escape",
    "profile_html",
    "sentences_for_streaming",
    "sources_html",
]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_escape(text: str) -> str:
    """Text that Markdown shows literally: no links, images, emphasis or raw HTML."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _marker_links(escaped: str, turn: int) -> str:
    """Turn escaped ``\\[n\\]`` markers into links to the citation cards of this turn."""
    return re.sub(r"\\\[(\d+)\\\]", rf"[[\1]](#rg-{turn}-\1)", escaped)


def comparison_markdown(table: Comparison, turn: int) -> str:
    """A comparison as a Markdown table whose cells are escaped quotes with clickable [n]."""

    def cell(c) -> str:
        if c.citation is None:
            return "*not stated in the articles*"
        quote = md_escape(c.citation.quote).replace("\\|", "&#124;")
        return f"“{quote}” [[{c.citation.number}]](#rg-{turn}-{c.citation.number})"

    head = f"| Facet | {md_escape(table.roles[0])} | {md_escape(table.roles[1])} |"
    rows = [
        f"| {md_escape(r.facet)} | " + " | ".join(cell(c) for c in r.cells) + " |"
        for r in table.rows
    ]
    intro = f"**{md_escape(table.roles[0])} vs {md_escape(table.roles[1])}**, facet by facet:"
    return "\n".join([intro, "", head, "| --- | --- | --- |", *rows])


def answer_markdown(answer: Answer, turn: int) -> str:
    """The chat message for an answer: escaped text, clickable ``[n]`` markers, notes."""
    notes = "".join(f"\n\n*Note: {md_escape(n)}*" for n in answer.notes)
    return _answer_body(answer, turn) + notes


def _answer_body(answer: Answer, turn: int) -> str:
    if answer.comparison is not None:
        return comparison_markdown(answer.comparison, turn)
    if answer.abstained:
        rest = answer.text.removeprefix("The articles don't cover this.").strip()
        body = "**The articles don't cover this.**"
        if rest:
            body += " " + md_escape(rest)
        if answer.related:
            body += "\n\n*See “related reading” beside the chat: closest passages, not an answer.*"
        return body
    return _marker_links(md_escape(answer.text), turn)


def sentences_for_streaming(markdown: str) -> list[str]:
    """Growing prefixes of a chat message, one more sentence (ending in a marker) each."""
    if markdown.lstrip().startswith("**") and "\n| Facet |" in markdown:
        return [markdown]  # a table streams as a whole
    cuts = [m.end() for m in re.finditer(r"\[\[\d+\]\]\(#rg-\d+-\d+\)", markdown)]
    prefixes = [markdown[:c] for c in cuts if c < len(markdown)]
    return [*prefixes, markdown]


@lru_cache(maxsize=64)
def _article(corpus_dir: str, source: str, digest_hint: float) -> tuple[str, int]:
    doc = load_document(Path(corpus_dir) / source, source)
    return doc.text, doc.body_start


def _highlight(text: str, start: int, end: int, a: int, b: int) -> str:
    """``text[start:end]`` escaped, with ``text[a:b]`` (inside it) marked."""
    a, b = max(a, start), min(b, end)
    return (
        html.escape(text[start:a])
        + f"<mark>{html.escape(text[a:b])}</mark>"
        + html.escape(text[b:end])
    )


def _article_view(c: Citation, corpus_dir: Path) -> str:
    path = corpus_dir / c.source
    try:
        text, body = _article(str(corpus_dir), c.source, path.stat().st_mtime)
    except (OSError, ValueError):
        return "<p class='rg-missing'>The article file is no longer in the corpus folder.</p>"
    p_start, p_end = c.passage_start, c.passage_start + len(c.passage)
    if text[p_start:p_end] != c.passage:
        return "<p class='rg-missing'>The article changed since it was indexed: re-ingest.</p>"
    return (
        "<div class='rg-article'>"
        + html.escape(text[body:p_start])
        + "<span class='rg-passage'>"
        + _highlight(text, p_start, p_end, c.start, c.end)
        + "</span>"
        + html.escape(text[p_end:])
        + "</div>"
    )


def _card(c: Citation, turn: int | str, corpus_dir: Path, related: bool = False) -> str:
    anchor = f"rg-{turn}-{c.number}" if not related else f"rg-{turn}-r{c.number}"
    passage = _highlight(
        c.passage, 0, len(c.passage), c.start - c.passage_start, c.end - c.passage_start
    )
    label = "•" if related else f"[{c.number}]"
    return (
        f"<details class='rg-card{' rg-related' if related else ''}' id='{anchor}'>"
        f"<summary><span class='rg-num'>{label}</span> "
        f"<span class='rg-title'>{html.escape(c.title)}</span>"
        f"<span class='rg-section'>{html.escape(c.section)}</span>"
        f"<span class='rg-quote'>{passage}</span>"
        f"<span class='rg-open'>Open the article ▸</span></summary>"
        f"<div class='rg-source'>{html.escape(c.source)}, characters {c.start}–{c.end}</div>"
        f"{_article_view(c, corpus_dir)}</details>"
    )


def sources_html(turns: list[tuple[str, Answer]], corpus_dir: Path) -> str:
    """Source cards for each answer, newest first: the quote highlighted in its paragraph."""
    if not turns:
        return (
            "<div class='rg-sources rg-empty'>Sources appear here: every answer's quotes, "
            "highlighted in their paragraph. Click one to read the whole article.</div>"
        )
    groups = []
    for turn in range(len(turns) - 1, -1, -1):
        question, answer = turns[turn]
        head = f"<div class='rg-q'>{html.escape(question)}</div>"
        if answer.abstained:
            cards = "".join(_card(c, turn, corpus_dir, True) for c in answer.related)
            body = (
                "<div class='rg-abstain'>Not covered by the articles. Related reading — the "
                f"closest passages, not support for an answer:</div>{cards}"
            )
        else:
            body = "".join(_card(c, turn, corpus_dir, False) for c in answer.citations)
        groups.append(f"<section class='rg-group'>{head}{body}</section>")
    return "<div class='rg-sources'>" + "".join(groups) + "</div>"


def _link(c: Citation, prefix: str) -> str:
    return f"<a href='#rg-{prefix}-{c.number}' class='rg-marker'>[{c.number}]</a>"


def comparison_html(table: Comparison, corpus_dir: Path) -> str:
    """The compare tab: the table (each cell a quote and its [n]) and the cards below."""
    head = "".join(f"<th>{html.escape(r)}</th>" for r in table.roles)
    rows = []
    for row in table.rows:
        cells = []
        for c in row.cells:
            if c.citation is None:
                cells.append("<td class='rg-none'>not stated in the articles</td>")
            else:
                cells.append(f"<td>“{html.escape(c.citation.quote)}” {_link(c.citation, 'c')}</td>")
        rows.append(f"<tr><th scope='row'>{html.escape(row.facet)}</th>{''.join(cells)}</tr>")
    cards = "".join(_card(c, "c", corpus_dir) for c in table.citations)
    return (
        "<div class='rg-compare'><table class='rg-table'><thead><tr><th>Facet</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h4>Sources</h4><div class='rg-sources'>{cards}</div></div>"
    )


def profile_html(found: RoleProfile, corpus_dir: Path) -> str:
    """The profile tab: every statement about the role, grouped by facet, as cards."""
    parts = [f"<div class='rg-profile'><h3>{html.escape(found.role)}</h3>"]
    for section in found.sections:
        cards = "".join(_card(c, "p", corpus_dir) for c in section.citations)
        parts.append(f"<h4>{html.escape(section.facet)}</h4>{cards}")
    return "".join(parts) + "</div>"


def match_html(result: MatchResult, corpus_dir: Path) -> str:
    """The match tab: roles ranked, each with the passages that justify its place."""
    parts = ["<div class='rg-match'>"]
    top = max((m.score for m in result.matches), default=1.0) or 1.0
    for rank, m in enumerate(result.matches, start=1):
        width = int(100 * m.score / top)
        cards = "".join(_card(c, f"m{rank}", corpus_dir) for c in m.evidence)
        parts.append(
            f"<section class='rg-group'><div class='rg-q'>{rank}. {html.escape(m.role)} "
            f"<span class='rg-section'>score {m.score:.2f}</span></div>"
            f"<div class='rg-bar' style='width:{width}%'></div>{cards}</section>"
        )
    parts.append(f"<p class='rg-note'>{html.escape(result.note)}</p></div>")
    return "".join(parts)


def corpus_table(sources: list[ArticleInfo]) -> str:
    """The articles in the index with their roles and chunk counts."""
    rows = "".join(
        f"<tr><td>{html.escape(s.title)}<div class='rg-file'>{html.escape(s.source)}</div>"
        f"</td><td>{html.escape(', '.join(s.roles) or '—')}</td><td>{s.chunks}</td></tr>"
        for s in sources
    )
    return (
        "<table class='rg-corpus'><thead><tr><th>Article</th><th>Roles</th><th>Chunks</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


APP_CSS = """
.rg-sources { font-size: 0.95rem; }
.rg-empty { color: var(--body-text-color-subdued); padding: 0.5rem; }
.rg-group { margin-bottom: 1rem; }
.rg-q { font-weight: 600; margin: 0.25rem 0 0.4rem; }
.rg-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.5rem 0.7rem; margin-bottom: 0.5rem; background: var(--background-fill-secondary); }
.rg-card summary { cursor: pointer; list-style: none; }
.rg-card summary::-webkit-details-marker { display: none; }
.rg-num { font-weight: 700; color: var(--color-accent); }
.rg-title { font-weight: 600; }
.rg-section { display: block; font-size: 0.85em; color: var(--body-text-color-subdued); }
.rg-quote { display: block; margin-top: 0.3rem; line-height: 1.45; }
.rg-quote mark, .rg-article mark { background: #fde68a; color: #1f2937; padding: 0 2px; }
.rg-open { display: block; font-size: 0.8em; color: var(--color-accent); margin-top: 0.2rem; }
.rg-card[open] .rg-open { display: none; }
.rg-related { opacity: 0.85; border-style: dashed; }
.rg-abstain { color: #92400e; margin-bottom: 0.4rem; }
.rg-source { font-size: 0.8em; color: var(--body-text-color-subdued); margin: 0.4rem 0; }
.rg-article { white-space: pre-wrap; max-height: 50vh; overflow-y: auto; font-size: 0.9em;
  border-top: 1px solid var(--border-color-primary); padding-top: 0.4rem; }
.rg-passage { background: #fef3c7; }
.rg-corpus { width: 100%; font-size: 0.9em; }
.rg-table { width: 100%; border-collapse: collapse; font-size: 0.92em; }
.rg-table th, .rg-table td { border: 1px solid var(--border-color-primary); padding: 0.4rem;
  vertical-align: top; text-align: left; }
.rg-table tbody th { width: 18%; }
.rg-none { color: var(--body-text-color-subdued); font-style: italic; }
.rg-marker { color: var(--color-accent); font-weight: 700; text-decoration: none; }
.rg-bar { height: 6px; background: var(--color-accent); border-radius: 3px;
  margin: 0.2rem 0 0.5rem; }
.rg-note { color: var(--body-text-color-subdued); font-size: 0.9em; }
@media (max-width: 700px) { .rg-table { font-size: 0.8em; } .rg-table tbody th { width: auto; } }
.rg-file { font-size: 0.8em; color: var(--body-text-color-subdued); }
.rg-flash { outline: 3px solid var(--color-accent); }
#rg-chat table td, #rg-chat table th { word-break: normal; overflow-wrap: normal; hyphens: auto; }
#rg-chat table td:first-child { min-width: 7em; }
#rg-chat a[href^="#rg-"] { color: var(--color-accent); font-weight: 700; text-decoration: none; }
@media (max-width: 700px) { .rg-article { max-height: 40vh; } }
"""

# Clicking an [n] marker in the chat opens its card and scrolls the article to the quote.
APP_JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#rg-"]');
    if (!link) return;
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    card.open = true;
    card.scrollIntoView({behavior: 'smooth', block: 'start'});
    const mark = card.querySelector('.rg-article mark');
    if (mark) mark.scrollIntoView({behavior: 'smooth', block: 'center'});
    card.classList.add('rg-flash');
    setTimeout(() => card.classList.remove('rg-flash'), 1500);
  }, true);
  document.addEventListener('toggle', (event) => {
    const card = event.target;
    if (!card.classList || !card.classList.contains('rg-card') || !card.open) return;
    const mark = card.querySelector('.rg-article mark');
    if (mark) mark.scrollIntoView({behavior: 'smooth', block: 'center'});
  }, true);
}
"""
