"""What the web app shows, as escaped Markdown and HTML built from ``Answer`` objects.

No Gradio: HTML comes from the autoescaping templates in ``templates/`` (the whole article
around a quote through ``RoleGuide.article_text``), chat Markdown passes through
``md_escape``; so an article holding ``<script>``, ``onerror=`` or a remote Markdown image
shows as text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from roleguide.app.web.assets import APP_CSS, APP_JS
from roleguide.app.web.templating import render_template
from roleguide.errors import ArticleError
from roleguide.ingest.cleaning import Block
from roleguide.models import Answer, ArticleInfo, Citation, Comparison

if TYPE_CHECKING:
    from roleguide.api import RoleGuide

__all__ = [
    "APP_CSS",
    "APP_JS",
    "ArticleView",
    "CardView",
    "Highlight",
    "Piece",
    "answer_markdown",
    "answer_plaintext",
    "card_view",
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


class Highlight(NamedTuple):
    """A stretch of text with one part marked (``<mark>``)."""

    before: str
    marked: str
    after: str


class Piece(NamedTuple):
    """Article text; with a ``label`` it is a block the index left out, labelled so."""

    text: str
    label: str = ""


_NO_PASSAGE = Highlight("", "", "")


@dataclass(frozen=True)
class ArticleView:
    """The whole article around a passage, or the ``problem`` that stops showing it."""

    problem: str = ""
    title: str = ""
    before: tuple[Piece, ...] = ()
    passage: Highlight = _NO_PASSAGE
    after: tuple[Piece, ...] = ()


@dataclass(frozen=True)
class CardView:
    """What a source card shows (``templates/cards.html``)."""

    anchor: str
    label: str
    related: bool
    title: str
    section: str
    quote: Highlight
    source: str
    start: int
    end: int
    article: ArticleView


def _highlight(text: str, start: int, end: int, a: int, b: int) -> Highlight:
    """``text[start:end]`` with ``text[a:b]`` (inside it) marked."""
    a, b = max(a, start), min(b, end)
    return Highlight(text[start:a], text[a:b], text[b:end])


_NOT_ARTICLE = ("teaser", "title of a teaser", "form")


def _with_dropped(text: str, start: int, end: int, dropped: tuple[Block, ...]) -> list[Piece]:
    """``text[start:end]`` in pieces; blocks the index dropped are labelled as such."""
    out, pos = [], start
    for block in dropped:
        a, b = max(block.start, pos), min(block.end, end)
        if a >= b:
            continue
        reason = block.reason
        what = "not part of the article" if reason.startswith(_NOT_ARTICLE) else "not indexed"
        out += [Piece(text[pos:a]), Piece(text[a:b], f"{what}: {reason}")]
        pos = b
    out.append(Piece(text[pos:end]))
    return out


def _article_view(c: Citation, guide: RoleGuide) -> ArticleView:
    try:
        article = guide.article_text(c.source)
    except ArticleError:
        return ArticleView("The article file is no longer in the corpus folder.")
    text, dropped = article.text, article.dropped
    p_start, p_end = c.passage_start, c.passage_start + len(c.passage)
    if text[p_start:p_end] != c.passage:
        return ArticleView("The article changed since it was indexed: re-ingest.")
    return ArticleView(
        title=c.title,
        before=tuple(_with_dropped(text, article.body_start, p_start, dropped)),
        passage=_highlight(text, p_start, p_end, c.start, c.end),
        after=tuple(_with_dropped(text, p_end, len(text), dropped)),
    )


def card_view(c: Citation, turn: int | str, guide: RoleGuide, related: bool = False) -> CardView:
    """A source card for ``c``; its anchor ``rg-<turn>-<n>`` is what ``[n]`` links to."""
    quote = _highlight(
        c.passage, 0, len(c.passage), c.start - c.passage_start, c.end - c.passage_start
    )
    return CardView(
        anchor=f"rg-{turn}-r{c.number}" if related else f"rg-{turn}-{c.number}",
        label="•" if related else f"[{c.number}]",
        related=related,
        title=c.title,
        section=c.section,
        quote=quote,
        source=c.source,
        start=c.start,
        end=c.end,
        article=_article_view(c, guide),
    )


def sources_html(turns: list[tuple[str, Answer]], guide: RoleGuide) -> str:
    """Source cards for each answer, newest first: the quote highlighted in its paragraph."""
    corpus_dir = Path(guide.settings.corpus_dir)
    groups = []
    for turn in range(len(turns) - 1, -1, -1):
        question, answer = turns[turn]
        cited = answer.related if answer.abstained else answer.citations
        groups.append(
            {
                "turn": turn,
                "question": question,
                "abstained": answer.abstained,
                "cards": [card_view(c, turn, guide, answer.abstained) for c in cited],
                "plaintext": answer_plaintext(answer, corpus_dir),
            }
        )
    return render_template("sources.html", groups=groups)


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
        room = f"Up to about {_word_limit(0, 0, max_tokens):,} words."
        return render_template("counter.html", text=room)
    problem = length_problem(text, max_chars, max_tokens)
    if problem:
        return render_template("counter.html", text=problem, over=True)
    tokens, words = count_tokens(text), len(text.split())
    left = _word_limit(tokens, words, max_tokens) - words
    return render_template("counter.html", text=f"Room for about {max(0, left):,} more words.")


def corpus_table(sources: list[ArticleInfo]) -> str:
    """The articles in the index with their roles and chunk counts."""
    return render_template("corpus.html", sources=sources)
