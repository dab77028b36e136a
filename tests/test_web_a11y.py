"""Accessibility checked by a real auditor: axe-core (npm, tests/package.json) injected by
Playwright into every tab, after an answer, at desktop and phone width, light and dark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_web import ARTIFACTS, browser_page, start

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
TABS = [
    ("chat", "Chat", "#rg-question textarea"),
    ("compare", "Compare", "#rg-compare-table table"),
    ("profile", "Profile", "#rg-profile h3"),
    ("match", "Fit", "#rg-interests textarea"),
]
# Names for every control: these rules fail at any impact, not only serious/critical.
NAME_RULES = {
    "button-name",
    "link-name",
    "label",
    "select-name",
    "aria-input-field-name",
    "aria-command-name",
    "aria-toggle-field-name",
    "input-button-name",
    "summary-name",
    "nested-interactive",
}

pytestmark = [pytest.mark.web, pytest.mark.browser]


@pytest.fixture(scope="module")
def web(guide):
    app, url = start(guide)
    yield url
    app.close()


def audit(page, name: str) -> dict:
    """axe-core's WCAG 2.x A/AA run over the whole page, saved as tests/artifacts/axe-NAME.json."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` runs `npm ci` in tests/")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {
             runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                             'wcag22aa', 'best-practice']},
             resultTypes: ['violations']})"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    kept = {
        "url": result["url"],
        "testEngine": result["testEngine"],
        "violations": result["violations"],
    }
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(kept, indent=1), encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / f"axe-{name}.png"), full_page=True)
    return result


def summary(result: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in result["violations"]:
        counts[v["impact"] or "none"] = counts.get(v["impact"] or "none", 0) + len(v["nodes"])
    return counts


def blocking(result: dict) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']} {v['nodes'][0]['failureSummary']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] in NAME_RULES
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_axe_finds_no_serious_violation(web, size, width, height, scheme):
    found: dict[str, list[str]] = {}
    counts: dict[str, dict[str, int]] = {}
    with browser_page(width, height, scheme) as page:
        page.goto(web + "/")
        page.locator("#rg-question textarea").wait_for()
        for key, label, ready in TABS:
            tab = page.get_by_role("tab", name=label)
            if not tab.is_visible():  # older layout: the tab sits in the overflow menu
                page.locator(".overflow-menu button, button.overflow-menu").first.click()
                tab = page.get_by_role("tab", name=label).or_(
                    page.get_by_role("button", name=label)
                )
            tab.first.click()
            page.locator(ready).first.wait_for(timeout=30_000)
            page.wait_for_timeout(300)
            result = audit(page, f"{key}-{size}-{scheme}")
            found[key], counts[key] = blocking(result), summary(result)
        page.get_by_role("tab", name="Chat").first.click()
        box = page.locator("#rg-question textarea")
        box.fill("Who handles customs compliance?")
        box.press("Enter")
        page.locator("#rg-sources details#rg-0-1").wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        result = audit(page, f"answer-{size}-{scheme}")
        found["answer"], counts["answer"] = blocking(result), summary(result)
        page.locator("#rg-chat a[href='#rg-0-1']").first.click()  # a card, or a sheet on a phone
        opened = "#rg-sheet .rg-article" if size == "phone" else "#rg-0-1[open] .rg-article"
        page.locator(opened).wait_for()
        page.wait_for_timeout(800)
        result = audit(page, f"citation-{size}-{scheme}")
        found["citation"], counts["citation"] = blocking(result), summary(result)
    (ARTIFACTS / f"axe-summary-{size}-{scheme}.json").write_text(json.dumps(counts, indent=1))
    assert not any(found.values()), json.dumps(found, indent=1)
