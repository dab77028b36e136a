"""The career tabs on the general corpus in Chromium: a new pair's comparison at desktop and
phone width (screenshots in tests/artifacts/), facet rows first, sources behind a toggle,
no horizontal scrolling on a phone."""

from __future__ import annotations

import pytest
from test_web import ARTIFACTS, browser_page, start

pytestmark = [pytest.mark.web, pytest.mark.browser]


@pytest.fixture(scope="module")
def general_web(corpus_dir, tmp_path_factory):
    from roleguide import RoleGuide

    corpus = corpus_dir.parent / "evals" / "general" / "corpus"
    guide = RoleGuide(corpus_dir=corpus, home=tmp_path_factory.mktemp("careers-web"))
    app, url = start(guide)
    yield url
    app.close()


def pick(page, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input")
    box.click()
    box.fill(value)
    page.wait_for_timeout(300)  # the option list filters as one types
    page.locator(f"li[role=option][aria-label='{value}']:visible").first.click()
    page.wait_for_function(
        f"() => document.querySelector('{selector} input').value === '{value}'", timeout=30_000
    )


@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_new_pair_compared_readably_at_both_widths(general_web, name, width, height):
    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page(width, height) as page:
        page.goto(general_web + "/")
        page.get_by_role("tab", name="Compare roles").click()
        pick(page, "#rg-role-a", "Demand Planner")
        pick(page, "#rg-role-b", "Supply Planner")
        table = page.locator("#rg-compare-table table.rg-cmp").first
        page.wait_for_function(
            "() => [...document.querySelectorAll('#rg-compare-table table.rg-cmp th')]"
            ".some(th => th.textContent === 'Supply Planner')",
            timeout=60_000,
        )
        rows = table.locator("tbody th").all_text_contents()
        assert rows[:4] == [
            "Core Focus",
            "Team Composition",
            "Approach and Perspective",
            "Handling Demand",
        ]
        text = page.locator("#rg-compare-table").inner_text()
        assert text.index("Core Focus") < text.index("Sources (")
        sources = page.locator("#rg-compare-table details.rg-src")
        assert sources.count() == 1 and not sources.evaluate("d => d.open")
        fold = page.locator("#rg-compare-table details.rg-fold summary")
        assert "only one article covers — show" in fold.inner_text()
        overflow = page.evaluate(
            "() => { const t = document.querySelector('#rg-compare-table');"
            " return [document.documentElement.scrollWidth - innerWidth,"
            " t.scrollWidth - t.clientWidth]; }"
        )
        assert overflow[0] <= 0 and overflow[1] <= 0, overflow
        page.locator("body").press("Escape")  # no option list fading out over the table
        page.wait_for_timeout(600)
        table.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"compare-planners-{name}.png"))
