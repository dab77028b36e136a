"""The web app as people use it, in Chromium at desktop and phone width: one conversation
state, readable citations, honest limits, one notice at a time, both colour schemes."""

from __future__ import annotations

import pytest
from test_web import ARTIFACTS, IDLE, browser_page, start

pytestmark = [pytest.mark.web, pytest.mark.browser]
SIZES = [("desktop", 1280, 900), ("phone", 390, 844)]
FIRST = "Who handles customs compliance?"
FOLLOW = "And what degree do they usually have?"

# WCAG relative luminance contrast of an element's text against its own background.
CONTRAST_JS = """(el) => {
  const rgb = (s) => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const cs = getComputedStyle(el);
  const [a, b] = [lum(rgb(cs.color)), lum(rgb(cs.backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture(scope="module")
def web(guide):
    app, url = start(guide)
    yield url
    app.close()


def ask(page, question: str, turn: int) -> None:
    box = page.locator("#rg-question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator(f"#rg-sources .rg-group[data-turn='{turn}']").wait_for(timeout=30_000)
    page.wait_for_function(IDLE, timeout=30_000)


def open_app(page, web: str) -> None:
    page.goto(web + "/")
    page.locator("#rg-question textarea").wait_for()


@pytest.mark.parametrize("how", ["chat-trash", "clear-button"])
@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_every_way_of_clearing_forgets_chat_sources_and_followups(web, how, size, width, height):
    with browser_page(width, height) as page:
        open_app(page, web)
        ask(page, FIRST, 0)
        page.locator("#rg-suggest button").first.wait_for(timeout=30_000)
        if how == "chat-trash":
            page.locator("#rg-chat button[aria-label='Clear']").click()
        else:
            page.locator("#rg-clear").click()
        page.wait_for_function("!document.querySelector('#rg-sources .rg-group')")
        assert page.locator("#rg-sources .rg-empty").is_visible()
        assert page.locator("#rg-suggest button:visible").count() == 0
        assert page.locator("#rg-chat .message-row").count() == 0
        ask(page, FOLLOW, 0)  # "they" has nobody to refer to any more: searched as asked
        assert "Searched for" not in page.locator("#rg-chat .bot-row").last.inner_text()
        assert page.locator("#rg-sources .rg-group").count() == 1


def test_dark_mode_highlight_and_passage_are_readable(web):
    with browser_page(1280, 900, "dark") as page:
        open_app(page, web)
        assert page.evaluate("document.body.classList.contains('dark')")
        ask(page, FIRST, 0)
        card = page.locator("#rg-0-1")
        card.locator("summary").click()
        for selector in (".rg-article .rg-passage", ".rg-article mark", ".rg-quote mark"):
            ratio = card.locator(selector).first.evaluate(CONTRAST_JS)
            assert ratio >= 4.5, (selector, ratio)
        page.screenshot(path=str(ARTIFACTS / "dark-article-desktop.png"))


@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_copy_gives_plain_text_and_a_numbered_source_list(web, size, width, height):
    grant = {"permissions": ["clipboard-read", "clipboard-write"]}
    with browser_page(width, height, **grant) as page:
        open_app(page, web)
        ask(page, FIRST, 0)
        title = page.locator("#rg-0-1 .rg-title").inner_text()
        section = page.locator("#rg-0-1 .rg-section").inner_text()
        page.locator(
            "#rg-chat .message-buttons-left button[aria-label='Copy message']"
        ).first.click()
        page.wait_for_function("navigator.clipboard.readText().then(t => t.includes('Sources:'))")
        text = page.evaluate("navigator.clipboard.readText()")
        assert page.locator("#rg-chat button[data-rg-copied='Copied']").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"copied-{size}.png"))
    assert "\\" not in text and "](#rg-" not in text and "[[" not in text
    answer, sources = text.split("\n\nSources:\n")
    assert answer.startswith("The Logistics Manager") and "[1]" in answer
    assert sources.startswith(f"[1] {title} — {section}\n")
    assert "corpus/" in sources and "characters " in sources
    assert "[2] " in sources


def test_counter_tells_the_limit_and_nothing_is_cut_silently(web):
    long_question = ("Which manager negotiates supplier contracts and pricing terms? " * 50)[:3000]
    with browser_page() as page:
        open_app(page, web)
        counter = page.locator("#rg-counter")
        assert "words" in counter.inner_text()
        box = page.locator("#rg-question textarea")
        box.fill("Who negotiates contracts with suppliers?")
        page.wait_for_function(
            "/Room for about \\d+ more words/.test(document.querySelector('#rg-counter').innerText)"
        )
        box.fill(long_question)
        page.wait_for_function(
            "/Too long to search/.test(document.querySelector('#rg-counter').innerText)"
        )
        assert len(box.input_value()) == 3000  # nothing cut on the way in
        for _ in range(3):
            box.press("Enter")
            page.locator("#rg-notice .rg-notice").wait_for(timeout=30_000)
            page.wait_for_timeout(300)
        assert page.locator("#rg-notice .rg-notice").count() == 1
        assert "words over the limit of about" in page.locator("#rg-notice").inner_text()
        assert not page.locator("#rg-counter").is_visible()  # said once, not twice
        box.press("Backspace")  # editing retires the notice; the counter speaks again
        page.locator("#rg-notice .rg-notice").wait_for(state="detached")
        assert "Too long to search" in page.locator("#rg-counter").inner_text()
        assert page.locator(".toast-body, .toast-wrap .toast").count() == 0
        ask(page, FIRST, 0)
        assert page.locator("#rg-notice .rg-notice").count() == 0  # a good answer clears it
        page.screenshot(path=str(ARTIFACTS / "counter-desktop.png"))


def test_hover_preview_and_sticky_sources_on_desktop(web):
    with browser_page() as page:
        open_app(page, web)
        for turn, question in enumerate(
            [FIRST, FOLLOW, "Who negotiates contracts with suppliers?"]
        ):
            ask(page, question, turn)
        column = page.locator("#rg-sources-col")
        style = column.evaluate(
            "e => [getComputedStyle(e).position, getComputedStyle(e).overflowY]"
        )
        assert style == ["sticky", "auto"]
        assert column.evaluate("e => e.scrollHeight > e.clientHeight")  # its own scroll
        page.locator("#rg-suggest button").first.wait_for(timeout=30_000)  # the last update
        page.wait_for_timeout(300)
        marker = page.locator("#rg-chat a[href='#rg-0-1']").first
        marker.scroll_into_view_if_needed()
        marker.hover()
        page.locator("#rg-preview").wait_for()
        shown = page.locator("#rg-preview").inner_text()
        assert page.locator("#rg-0-1 .rg-quote").inner_text() in shown
        assert page.locator("#rg-0-1 .rg-title").inner_text() in shown
        page.screenshot(path=str(ARTIFACTS / "preview-desktop.png"))
        marker.click()
        page.wait_for_function("document.querySelector('#rg-0-1').open")
        page.wait_for_timeout(800)
        box = page.locator("#rg-0-1").bounding_box()
        assert 0 <= box["y"] < 900, box  # the card is in view, in its panel
        assert page.locator("#rg-question textarea").is_visible()


def test_phone_tap_opens_a_sheet_with_a_way_back(web):
    with browser_page(390, 844) as page:
        open_app(page, web)
        ask(page, FIRST, 0)
        marker = page.locator("#rg-chat a[href='#rg-0-1']").first
        marker.scroll_into_view_if_needed()
        before = page.evaluate("window.scrollY")
        marker.click()
        sheet = page.get_by_role("dialog")
        sheet.wait_for()
        assert page.locator("#rg-0-1 .rg-title").inner_text() in sheet.inner_text()
        assert sheet.locator(".rg-article mark").is_visible()
        page.screenshot(path=str(ARTIFACTS / "sheet-phone.png"))
        for _ in range(3):  # the focus stays in the sheet
            page.keyboard.press("Tab")
            assert page.evaluate("!!document.activeElement.closest('#rg-sheet')")
        page.get_by_role("button", name="Back to the answer").click()
        assert page.locator("#rg-sheet").count() == 0
        assert page.evaluate("window.scrollY") == before  # back where the reader was
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#rg-0-1"


@pytest.mark.parametrize(("size", "width", "height"), SIZES)
def test_rewritten_followup_shows_what_was_searched_and_suggests_answerable_ones(
    web, guide, size, width, height
):
    with browser_page(width, height) as page:
        open_app(page, web)
        ask(page, FIRST, 0)
        assert "Searched for" not in page.locator("#rg-chat").inner_text()
        ask(page, FOLLOW, 1)
        last = page.locator("#rg-chat .bot-row").last.inner_text()
        assert "Searched for: “And what degree do Logistics Managers usually have?”" in last
        buttons = page.locator("#rg-suggest button:visible")
        buttons.first.wait_for(timeout=30_000)
        suggestions = buttons.all_inner_texts()
        assert 2 <= len(suggestions) <= 3
        for question in suggestions:
            assert "Logistics Manager" in question
            assert not guide.ask(question).abstained, question
        buttons.first.click()
        page.locator("#rg-sources .rg-group[data-turn='2']").wait_for(timeout=30_000)
        assert page.locator("#rg-sources .rg-group[data-turn='2'] .rg-abstain").count() == 0
        page.screenshot(path=str(ARTIFACTS / f"followups-{size}.png"), full_page=True)


def test_phone_layout_tabs_dropdowns_and_abstention_wording(web):
    with browser_page(390, 844) as page:
        open_app(page, web)
        for name in ("Chat", "Compare roles", "Role profile", "Which role fits me?"):
            assert page.get_by_role("tab", name=name).is_visible(), name
        assert page.locator(".overflow-menu:visible").count() == 0
        page.get_by_role("tab", name="Compare roles").click()
        for field in ("#rg-role-a input", "#rg-role-b input"):
            page.locator(field).wait_for()
            fits = page.locator(field).evaluate("e => e.scrollWidth <= e.clientWidth")
            assert fits, field
        page.screenshot(path=str(ARTIFACTS / "compare-phone.png"), full_page=True)
        page.get_by_role("tab", name="Chat").click()
        box = page.locator("#rg-question textarea")
        box.fill("What is the salary of a logistics manager in Germany?")
        box.press("Enter")
        page.locator("#rg-sources .rg-abstain").wait_for(timeout=30_000)
        chat = page.locator("#rg-chat").inner_text()
        assert "beside" not in chat and "under Sources" in chat
        assert page.evaluate("document.documentElement.scrollWidth") <= 391


TEASERS = """---
title: "Warehouse careers"
roles: [Warehouse Manager]
---
Warehouse Managers run the loading dock and plan the night shifts for the whole site.

Warehouse Managers count stock every week and report shrinkage to the finance team.

Five signs your forklift fleet needs replacing
Fleet managers across the country are discovering that older forklifts cost more than…
"""


def test_article_viewer_marks_teasers_the_index_dropped(tmp_path):
    from roleguide import RoleGuide

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "warehouse.md").write_text(TEASERS, encoding="utf-8")
    app, url = start(RoleGuide(corpus_dir=corpus, home=tmp_path / "home"))
    try:
        with browser_page() as page:
            open_app(page, url)
            ask(page, "When do warehouse managers count stock?", 0)
            page.locator("#rg-0-1 summary").click()
            dropped = page.locator("#rg-0-1 .rg-article .rg-dropped")
            assert dropped.count() == 2  # the teaser and its title line
            text = " ".join(dropped.all_inner_texts())
            assert "not part of the article" in text
            assert "older forklifts cost more" in text and "Five signs" in text
            kept = page.locator("#rg-0-1 .rg-article").inner_text()
            assert "loading dock" in kept
    finally:
        app.close()
