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

from roleguide.app.web.assets import APP_CSS, APP_JS
from roleguide.ingest.cleaning import document_blocks
from roleguide.ingest.corpus import load_document
from roleguide.models import Answer, ArticleInfo, Citation, Comparison

__all__ = [
    "APP_CSS",
    "APP_JS",
    "answer_markdown",
    "answer_plaintext",
    "comparison_markdown",
    "corpus_table",
    "counter_html",
    "length_problem",
    "md_escape",
    "rewritten",
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
        quotes = [(md_escape(x.quote).replace("\\|", "&#124;"), x.number) for x in c.citations]
        return "<br>".join(f"“{q}” [[{n}]](#rg-{turn}-{n})" for q, n in quotes)

    head = f"| Facet | {md_escape(table.roles[0])} | {md_escape(table.roles[1])} |"
    rows = [
        f"| {md_escape(r.facet)} | " + " | ".join(cell(c) for c in r.cells) + " |"
        for r in table.rows
    ]
    intro = f"**{md_escape(table.roles[0])} vs {md_escape(table.roles[1])}**, facet by facet:"
    return "\n".join([intro, "", head, "| --- | --- | --- |", *rows])


def rewritten(answer: Answer) -> bool:
    """Whether the search differs from the question in words (a resolved follow-up)."""

    def words(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.casefold()))

    return words(answer.query) != words(answer.question)


def answer_markdown(answer: Answer, turn: int) -> str:
    """The chat message for an answer: escaped text, clickable ``[n]`` markers, notes, and
    what was searched for when the question was rewritten (so a wrong "they" shows)."""
    notes = "".join(f"\n\n*Note: {md_escape(n)}*" for n in answer.notes)
    searched = f"\n\n*Searched for: “{md_escape(answer.query)}”*" if rewritten(answer) else ""
    return _answer_body(answer, turn) + notes + searched


def _answer_body(answer: Answer, turn: int) -> str:
    if answer.comparison is not None:
        return comparison_markdown(answer.comparison, turn)
    if answer.abstained:
        rest = answer.text.removeprefix("The articles don't cover this.").strip()
        body = "**The articles don't cover this.**"
        if rest:
            body += " " + md_escape(rest)
        if answer.related:
            body += (
                "\n\n*See “Related reading” under Sources: the closest passages, not an answer.*"
            )
        return body
    if not answer.markers:
        return _marker_links(md_escape(answer.text), turn)
    # Only the answer's own markers link to sources; a "[1]" inside a quote is the
    # article's text and is shown as such.
    out, pos = [], 0
    for start, end, number in answer.markers:
        out.append(md_escape(answer.text[pos:start]))
        out.append(f"[[{number}]](#rg-{turn}-{number})")
        pos = end
    out.append(md_escape(answer.text[pos:]))
    return "".join(out)


def sentences_for_streaming(markdown: str) -> list[str]:
    """Growing prefixes of a chat message, one more sentence (ending in a marker) each."""
    if markdown.lstrip().startswith("**") and "\n| Facet |" in markdown:
        return [markdown]  # a table streams as a whole
    cuts = [m.end() for m in re.finditer(r"\[\[\d+\]\]\(#rg-\d+-\d+\)", markdown)]
    prefixes = [markdown[:c] for c in cuts if c < len(markdown)]
    return [*prefixes, markdown]


@lru_cache(maxsize=64)
def _article(corpus_dir: str, source: str, digest_hint: float) -> tuple[str, int, tuple]:
    """The article's text, where its body starts, and the blocks the index left out."""
    doc = load_document(Path(corpus_dir) / source, source)
    dropped = tuple((b.start, b.end, b.reason) for b in document_blocks(doc) if b.kind == "dropped")
    return doc.text, doc.body_start, dropped


def _highlight(text: str, start: int, end: int, a: int, b: int) -> str:
    """``text[start:end]`` escaped, with ``text[a:b]`` (inside it) marked."""
    a, b = max(a, start), min(b, end)
    return (
        html.escape(text[start:a])
        + f"<mark>{html.escape(text[a:b])}</mark>"
        + html.escape(text[b:end])
    )


_NOT_ARTICLE = ("teaser", "title of a teaser", "form")


def _with_dropped(text: str, start: int, end: int, dropped: tuple) -> str:
    """``text[start:end]`` escaped; blocks the index dropped are labelled as such."""
    out, pos = [], start
    for a, b, reason in dropped:
        a, b = max(a, pos), min(b, end)
        if a >= b:
            continue
        what = "not part of the article" if reason.startswith(_NOT_ARTICLE) else "not indexed"
        out.append(html.escape(text[pos:a]))
        out.append(
            f"<span class='rg-dropped'><span class='rg-dropped-label'>{what}: "
            f"{html.escape(reason)}</span>{html.escape(text[a:b])}</span>"
        )
        pos = b
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def _article_view(c: Citation, corpus_dir: Path) -> str:
    path = corpus_dir / c.source
    try:
        text, body, dropped = _article(str(corpus_dir), c.source, path.stat().st_mtime)
    except (OSError, ValueError):
        return "<p class='rg-missing'>The article file is no longer in the corpus folder.</p>"
    p_start, p_end = c.passage_start, c.passage_start + len(c.passage)
    if text[p_start:p_end] != c.passage:
        return "<p class='rg-missing'>The article changed since it was indexed: re-ingest.</p>"
    return (
        "<div class='rg-article' tabindex='0' role='region' "
        f"aria-label='{html.escape(c.title, quote=True)}, the whole article'>"
        + _with_dropped(text, body, p_start, dropped)
        + "<span class='rg-passage'>"
        + _highlight(text, p_start, p_end, c.start, c.end)
        + "</span>"
        + _with_dropped(text, p_end, len(text), dropped)
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
        copy = html.escape(answer_plaintext(answer, corpus_dir), quote=True)
        groups.append(
            f"<section class='rg-group' data-turn='{turn}' data-copy=\"{copy}\">{head}{body}"
            "</section>"
        )
    return "<div class='rg-sources'>" + "".join(groups) + "</div>"


def answer_plaintext(answer: Answer, corpus_dir: Path) -> str:
    """What the copy button copies: the answer as plain text and a numbered source list."""
    head = [answer.text.strip(), *(f"Note: {n}" for n in answer.notes)]
    if rewritten(answer):
        head.append(f"Searched for: {answer.query}")
    parts = ["\n".join(head)]
    cited = answer.related if answer.abstained else answer.citations
    if cited:
        entries = [
            f"[{c.number}] {c.title} — {c.section}\n    “{c.quote}”\n"
            f"    {corpus_dir.name}/{c.source}, characters {c.start}–{c.end}"
            for c in cited
        ]
        label = "Related reading (not an answer):" if answer.abstained else "Sources:"
        parts.append("\n".join([label, *entries]))
    return "\n\n".join(parts)


_PIECES_PER_WORD = 1.3  # typical English; the text's own ratio takes over as it grows
_PRIOR_WORDS = 20


def _word_limit(tokens: int, words: int, max_tokens: int) -> int:
    """How many words of this kind of text fit in ``max_tokens`` word pieces."""
    ratio = (tokens + _PIECES_PER_WORD * _PRIOR_WORDS) / (words + _PRIOR_WORDS)
    return int(max_tokens / max(1.0, ratio))


def length_problem(text: str, max_chars: int, max_tokens: int) -> str | None:
    """Why ``text`` is too long to ask, in words people count in (None when it fits)."""
    from roleguide.ingest.chunks import count_tokens

    if len(text) > 50 * max_chars:
        return f"Too long to search: {len(text):,} characters. Ask in a sentence or two."
    tokens, words = count_tokens(text), len(text.split())
    limit = _word_limit(tokens, words, max_tokens)
    if tokens > max_tokens:
        return (
            f"Too long to search: about {max(1, words - limit):,} words over the limit of "
            f"about {limit:,} words. Shorten it, or ask about one thing at a time."
        )
    if len(text) > max_chars:
        return f"Too long: {len(text):,} characters; the limit is {max_chars:,}."
    return None


def counter_html(text: str, max_chars: int, max_tokens: int) -> str:
    """The input's counter, in plain words: room left, or by how much it is too long."""
    from roleguide.ingest.chunks import count_tokens

    text = text or ""
    if not text.strip():
        return f"<span>Up to about {_word_limit(0, 0, max_tokens):,} words.</span>"
    problem = length_problem(text, max_chars, max_tokens)
    if problem:
        return f"<span class='rg-over'>{html.escape(problem)}</span>"
    tokens, words = count_tokens(text), len(text.split())
    left = _word_limit(tokens, words, max_tokens) - words
    return f"<span>Room for about {max(0, left):,} more words.</span>"


def _link(c: Citation, prefix: str) -> str:
    return f"<a href='#rg-{prefix}-{c.number}' class='rg-marker'>[{c.number}]</a>"


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
