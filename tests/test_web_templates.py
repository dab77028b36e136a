"""The web page's templates escape every string from articles and users, and fail loudly
on a misspelt name: checked on the HTML itself, without a browser."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError
from markupsafe import escape

from roleguide.app.web.articles import articles_html, gaps_html
from roleguide.app.web.careers import profile_html
from roleguide.app.web.render import corpus_table, sources_html
from roleguide.app.web.templating import render_template
from roleguide.errors import ArticleError
from roleguide.ingest.cleaning import Block
from roleguide.ingest.reading import ArticleText
from roleguide.models import GapGroup, GapReport

EVIL = "<script>alert(1)</script><img src=x onerror='a(2)'>\"&"
SAFE = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#39;a(2)&#39;&gt;&#34;&amp;"


def _raw_markup_only_ours(html: str) -> None:
    assert "<script" not in html and "<img" not in html and "onerror='" not in html


class HostileArticles:
    """The façade's view of the corpus, with every article hostile (or gone)."""

    def __init__(self, guide, article: ArticleText | None = None) -> None:
        self.settings = guide.settings
        self.article = article

    def article_text(self, source: str) -> ArticleText:
        if self.article is None:
            raise ArticleError(f"{source}: gone")
        return self.article


def _hostile(answer):
    """The answer with its first citation's every field, and its article, made hostile."""
    c = answer.citations[0]
    passage = f"{EVIL} {c.quote} {EVIL}"
    text = f"{EVIL}\n\n{passage}\n\n{EVIL}"
    p_start = len(EVIL) + 2
    cited = c.model_copy(
        update={
            "title": EVIL,
            "section": EVIL,
            "source": EVIL,
            "passage": passage,
            "passage_start": p_start,
            "start": p_start + len(EVIL) + 1,
            "end": p_start + len(EVIL) + 1 + len(c.quote),
        }
    )
    dropped = (Block(0, len(EVIL), "dropped", reason=f"teaser {EVIL}"),)
    return answer.model_copy(update={"citations": (cited,)}), ArticleText(EVIL, text, 0, dropped)


def test_source_cards_escape_the_article_and_every_field(guide):
    answer, article = _hostile(guide.ask("Who handles customs compliance?", record=False))
    html = sources_html([(EVIL, answer)], HostileArticles(guide, article))  # type: ignore[arg-type]
    _raw_markup_only_ours(html)
    assert f"<div class='rg-q'>{SAFE}</div>" in html
    assert f"<span class='rg-title'>{SAFE}</span><span class='rg-section'>{SAFE}</span>" in html
    assert f"aria-label='{SAFE}, the whole article'" in html
    assert f"<span class='rg-dropped-label'>not part of the article: teaser {SAFE}</span>" in html
    assert f"<mark>{escape(answer.citations[0].quote)}</mark>" in html  # the quote marked in place
    assert 'data-copy="' in html and f"[1] {SAFE} — {SAFE}" in html


def test_a_card_whose_article_is_gone_says_so(guide):
    answer = guide.ask("Who handles customs compliance?", record=False)
    html = sources_html([("q", answer)], HostileArticles(guide))  # type: ignore[arg-type]
    assert "The article file is no longer in the corpus folder." in html


def test_career_and_corpus_tables_escape(guide):
    profile = guide.profile(guide.roles()[0].name)
    hostile = profile.model_copy(update={"role": EVIL, "related": (EVIL,)})
    facade = HostileArticles(guide)
    html = profile_html(hostile, facade)  # type: ignore[arg-type]
    _raw_markup_only_ours(html)
    assert f"<h2>{SAFE}</h2>" in html and f"Compared with: {SAFE}" in html
    info = guide.sources()[0].model_copy(
        update={"title": EVIL, "source": EVIL, "roles": (EVIL,), "origin": EVIL, "added": EVIL}
    )
    for table in (corpus_table([info]), articles_html([info])):
        _raw_markup_only_ours(table)
        assert f"<td>{SAFE}<div class='rg-file'>{SAFE}</div></td>" in table
    group = GapGroup(
        count=2, example=EVIL, questions=(EVIL,), abstained=1, thumbs_down=1, last_asked=EVIL
    )
    gaps = gaps_html(GapReport(since=None, questions=2, groups=(group,), threshold=0.5))
    _raw_markup_only_ours(gaps)
    assert f"<td>{SAFE}</td>" in gaps


def test_messages_escape_and_a_misspelt_name_fails():
    notice = render_template("notice.html", kind="rg-notice", text=EVIL)
    assert notice == f"<div class='rg-notice' role='alert'>{SAFE}</div>"
    assert render_template("career_error.html", text=EVIL) == f"<p class='rg-none'>{SAFE}</p>"
    with pytest.raises(UndefinedError):
        render_template("notice.html", kind="rg-notice")
