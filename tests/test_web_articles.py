"""The Articles tab and 👍/👎 for real: Gradio over HTTP, the token rule on a non-loopback
bind (this machine's own address, nothing leaves it), Chromium, and a CLI add picked up
by a running app."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from articles_fixtures import (
    HTML_PAGE,
    MARKDOWN_ARTICLE,
    PDF_PARAGRAPHS,
    Site,
    copy_built,
    make_pdf,
)

pytestmark = pytest.mark.web
ROOT = Path(__file__).resolve().parents[1]
PAGE = "/careers/warehouse-vs-planner"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def own_address() -> str | None:
    """This machine's first non-loopback IPv4 address (``hostname -I``), if it has one."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    return next((a for a in found if "." in a and not a.startswith("127.")), None)


@pytest.fixture(scope="module")
def site():
    s = Site()
    s.routes[PAGE] = (200, "text/html; charset=utf-8", HTML_PAGE.encode())
    s.routes["/fleet.md"] = (200, "text/markdown", MARKDOWN_ARTICLE.encode())
    yield s
    s.close()


@pytest.fixture
def private_guide(tmp_path, corpus_dir, built_home):
    from roleguide import RoleGuide

    corpus, home = copy_built(corpus_dir, built_home, tmp_path)
    return RoleGuide(corpus_dir=corpus, home=home)


def serve_on(guide, host: str = "127.0.0.1", **kwargs):
    from roleguide.app.web.ui import serve

    app, url = serve(guide, host, free_port(host), block=False, **kwargs)
    return app, url.rstrip("/")


def client_for(url: str):
    from gradio_client import Client

    return Client(url + "/", verbose=False)


def test_loopback_adds_by_url_and_removes_without_a_token(private_guide, site):
    app, url = serve_on(private_guide)
    try:
        client = client_for(url)
        status, table, _ = client.predict(site.url + PAGE, "", api_name="/articles_add_url")
        assert "warehouse-supervisor-vs-inventory-planner.md" in status
        assert "Warehouse Supervisor vs Inventory Planner" in table and site.url in table
        answer = client.predict("Who sets reorder points and safety stock?", [], api_name="/ask")
        assert answer["citations"][0]["source"] == "warehouse-supervisor-vs-inventory-planner.md"
        status, table, _ = client.predict(
            "warehouse-supervisor-vs-inventory-planner.md", "", api_name="/articles_remove"
        )
        assert status.startswith("Removed") and "Warehouse Supervisor" not in table
    finally:
        app.close()


def test_token_rule_over_http_on_a_non_loopback_bind(private_guide, site):
    from gradio_client.exceptions import AppError

    host = own_address()
    if host is None:
        pytest.skip("this machine has no non-loopback address")
    corpus = Path(private_guide.settings.corpus_dir)
    before = sorted(p.name for p in corpus.iterdir())

    app, url = serve_on(private_guide, host, admin_token="")  # no token: hidden AND refused
    try:
        page = urllib.request.urlopen(url + "/config", timeout=10).read().decode()
        assert "rg-tab-chat" in page and "rg-tab-articles" not in page and "Admin token" not in page
        client = client_for(url)
        for endpoint in ("/articles_add_url", "/articles_remove", "/articles_gaps"):
            # hidden: the client finds no such endpoint (a ValueError, not the app's AppError)
            with pytest.raises(ValueError, match="Cannot find a function") as raised:
                client.predict(site.url + PAGE, "", api_name=endpoint)
            assert not isinstance(raised.value, AppError)
        request = urllib.request.Request(
            url + "/gradio_api/call/articles_add_url",
            data=b'{"data": ["http://127.0.0.1/", ""]}',
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)
    finally:
        app.close()
    assert sorted(p.name for p in corpus.iterdir()) == before

    app, url = serve_on(private_guide, host, admin_token="s3cret-token")
    try:
        client = client_for(url)
        for wrong in ("", "s3cret", "s3cret-token-x"):
            with pytest.raises(AppError, match="admin token"):
                client.predict(site.url + PAGE, wrong, api_name="/articles_add_url")
            with pytest.raises(AppError, match="admin token"):
                client.predict(wrong, api_name="/articles_gaps")
        assert sorted(p.name for p in corpus.iterdir()) == before
        status, _, _ = client.predict(site.url + PAGE, "s3cret-token", api_name="/articles_add_url")
        assert "warehouse-supervisor-vs-inventory-planner.md" in status
    finally:
        app.close()


def test_share_without_token_hides_the_tab(private_guide):
    from roleguide.app.web.articles import admin_mode

    assert admin_mode("127.0.0.1", False, "") == "open"
    assert admin_mode("127.0.0.1", True, "") == "hidden"
    assert admin_mode("0.0.0.0", False, "") == "hidden"
    assert admin_mode("0.0.0.0", False, "t") == "token"
    assert admin_mode("127.0.0.1", False, "t") == "token"


def test_running_app_picks_up_an_article_added_from_the_cli(private_guide, tmp_path):
    from gradio_client.exceptions import AppError

    corpus = Path(private_guide.settings.corpus_dir)
    home = Path(private_guide.settings.home)
    app, url = serve_on(private_guide)
    try:
        client = client_for(url)
        before = client.predict("Who draws up the daily delivery routes?", [], api_name="/ask")
        assert all(c["source"] != "fleet-manager-vs-route-planner.md" for c in before["citations"])
        md = tmp_path / "fleet.md"
        md.write_text(MARKDOWN_ARTICLE)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
        done = subprocess.run(
            [sys.executable, "-m", "roleguide", "add", str(md), "--home", str(home),
             "--corpus", str(corpus)],
            capture_output=True, text=True, env=env, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        deadline, cited, failure = time.monotonic() + 30, [], ""
        while time.monotonic() < deadline:
            try:
                after = client.predict(
                    "Who draws up the daily delivery routes?", [], api_name="/ask"
                )
            except AppError as e:  # e.g. Chroma "Error finding id" in the reading process
                failure = str(e)
            else:
                cited = [c["source"] for c in after["citations"]]
                if "fleet-manager-vs-route-planner.md" in cited:
                    break
            time.sleep(2)
        assert "fleet-manager-vs-route-planner.md" in cited, (
            f"the running app did not answer from the CLI's ingest within 30 s (cited "
            f"{cited}; error {failure[:200]!r})"
        )
    finally:
        app.close()


@pytest.mark.browser
def test_browser_upload_add_url_feedback_and_remove(private_guide, site, tmp_path):
    from test_web import IDLE, browser_page

    md = tmp_path / "fleet.md"
    md.write_text(MARKDOWN_ARTICLE)
    pdf = make_pdf(tmp_path / "brokers.pdf", "Customs Broker vs Freight Forwarder", PDF_PARAGRAPHS)
    home = Path(private_guide.settings.home)
    app, url = serve_on(private_guide)
    errors: list[str] = []
    try:
        with browser_page() as page:
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url + "/")
            page.get_by_role("tab", name="Articles").click()
            page.locator("#rg-upload input[type=file]").set_input_files([str(md), str(pdf)])
            page.wait_for_timeout(1500)
            page.locator("#rg-upload-add").click()
            status = page.locator("#rg-articles-status")
            status.get_by_text("customs-broker-vs-freight-forwarder.md").wait_for(timeout=90_000)
            assert "fleet-manager-vs-route-planner.md" in status.inner_text()
            page.locator("#rg-add-url textarea, #rg-add-url input").first.fill(site.url + PAGE)
            page.locator("#rg-add-url-button").click()
            status.get_by_text("warehouse-supervisor-vs-inventory-planner.md").wait_for(
                timeout=90_000
            )
            table = page.locator("#rg-articles-table").inner_text()
            for title in ("Fleet Manager vs Route Planner", "Customs Broker vs Freight Forwarder"):
                assert title in table
            assert "brokers.pdf" in table and site.url + PAGE in table

            page.get_by_role("tab", name="Chat").click()
            box = page.locator("#rg-question textarea")
            for question, source in (
                ("Who prepares import declarations and pays duties?", "customs-broker"),
                ("Who draws up the daily delivery routes?", "fleet-manager"),
                ("Who sets reorder points and safety stock?", "warehouse-supervisor"),
            ):
                box.fill(question)
                box.press("Enter")
                page.locator("#rg-sources").get_by_text(source).first.wait_for(
                    state="attached", timeout=60_000
                )
                # The answer's suggested follow-ups are still being checked: Gradio ignores a
                # submit until that event ends (seen under load: the next question dropped).
                page.wait_for_function(IDLE, timeout=60_000)
            page.locator("#rg-chat button[aria-label='Dislike']").last.click()
            page.locator("#rg-feedback-comment textarea").fill("wanted the salary too")
            page.locator("#rg-feedback-send").click()
            page.wait_for_timeout(1500)

            page.get_by_role("tab", name="Articles").click()
            page.locator("#rg-remove input").click()
            page.get_by_role("option", name="fleet-manager-vs-route-planner.md").click()
            page.locator("#rg-remove-button").click()
            status.get_by_text("Removed").wait_for(timeout=60_000)
            assert "Fleet Manager" not in page.locator("#rg-articles-table").inner_text()
    finally:
        app.close()
    assert not errors
    with sqlite3.connect(home / "log.sqlite3") as conn:
        rows = conn.execute(
            "SELECT q.question, f.helpful, f.comment FROM feedback f "
            "JOIN questions q ON q.answer_id = f.answer_id"
        ).fetchall()
    assert rows == [("Who sets reorder points and safety stock?", 0, "wanted the salary too")]
