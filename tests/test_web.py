"""The web app, for real: a Gradio server on a loopback port, its HTTP API, and Chromium."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(guide):
    from roleguide.app.web.ui import serve

    app, url = serve(guide, "127.0.0.1", free_port(), block=False)
    return app, url.rstrip("/")


@pytest.fixture(scope="module")
def web(guide):
    app, url = start(guide)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(web):
    from gradio_client import Client

    return Client(web + "/", verbose=False)


def test_serve_binds_loopback_without_share_link_by_default(guide, listening_addresses):
    """``serve`` with no host listens on 127.0.0.1 only, and makes no public share link."""
    from roleguide.app.web.ui import serve

    port = free_port()
    app, url = serve(guide, port=port, block=False)
    try:
        assert url.rstrip("/") == f"http://127.0.0.1:{port}"
        assert listening_addresses(port) == ["127.0.0.1"]
        assert app.share_url is None
    finally:
        app.close()


def test_api_answers_follows_up_and_abstains(client):
    first = client.predict("Who handles customs compliance?", [], api_name="/ask")
    assert first["abstained"] is False
    assert first["text"].startswith("The Logistics Manager")
    assert first["citations"][0]["section"] == "Regulatory Compliance"
    assert "customs" in first["citations"][0]["quote"]

    history = [
        {"role": "user", "content": "Who handles customs compliance?"},
        {"role": "assistant", "content": first["text"]},
    ]
    second = client.predict("And what degree do they usually have?", history, api_name="/ask")
    assert "Logistics Manager" in second["query"]
    assert "degrees in logistics" in second["citations"][0]["quote"]

    third = client.predict("How do I bake sourdough bread?", [], api_name="/ask")
    assert third["abstained"] is True and third["citations"] == []


def test_api_refuses_long_questions_with_a_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="2,001 characters"):
        client.predict("x" * 2001, [], api_name="/ask")
    with pytest.raises(AppError, match="empty"):
        client.predict("   ", [], api_name="/ask")
    assert client.predict("What is logistics?", [], api_name="/ask")["abstained"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file=corpus/operations-vs-logistics-guide.md",
        "/file=/etc/passwd",
        "/gradio_api/file=http://example.com/x.png",
    ],
)
def test_no_file_outside_the_app_is_served(web, path):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(web + path, timeout=10)
        status, body = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, b""
        location = e.headers.get("location", "")
        assert not location.startswith(("http://", "https://")) or "127.0.0.1" in location
    assert status != 200, body[:200]
    assert b"root:" not in body


@contextmanager
def browser_page(width: int = 1280, height: int = 900, color_scheme: str = "light", **options):
    """A page in Debian's Chromium at this viewport and OS colour scheme, closed on exit."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as manager:
        browser = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            viewport = {"width": width, "height": height}
            yield browser.new_page(viewport=viewport, color_scheme=color_scheme, **options)
        finally:
            browser.close()


# Gradio hides the chat column's status trackers once every event (suggestions too) is done.
IDLE = """() => [...document.querySelectorAll('#rg-chat [data-testid="status-tracker"]')]
  .every((t) => t.classList.contains('hide'))"""


@pytest.mark.browser
@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 900), ("phone", 390, 844)])
def test_browser_chat_shows_cited_answer_and_source(web, name, width, height):
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with browser_page(width, height) as page:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(web + "/")
        box = page.locator("#rg-question textarea")
        box.wait_for()
        box.fill("Who handles customs compliance?")
        box.press("Enter")
        card = page.locator("#rg-sources details#rg-0-1")
        card.wait_for(timeout=30_000)
        marker = page.locator("#rg-chat a[href='#rg-0-1']")
        marker.wait_for(timeout=30_000)
        assert marker.inner_text() == "[1]"
        assert "The Logistics Manager" in page.locator("#rg-chat").inner_text()
        highlighted = card.locator(".rg-quote mark").inner_text()
        assert "customs and import/export laws" in highlighted
        assert "Regulatory Compliance" in card.locator(".rg-section").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"chat-{name}.png"), full_page=True)

        marker.click()
        if name == "phone":  # a tapped [n] opens the card in a sheet over the answer
            page.locator("#rg-sheet .rg-article mark").wait_for()
            page.get_by_role("button", name="Back to the answer").click()
            card.locator("summary").click()
        page.wait_for_function("document.querySelector('#rg-0-1').open === true")
        article_mark = card.locator(".rg-article mark")
        assert "customs and import/export laws" in article_mark.inner_text()
        assert article_mark.is_visible()
        page.screenshot(path=str(ARTIFACTS / f"source-{name}.png"), full_page=True)

        page.evaluate("document.querySelector('#rg-0-1').open = false")
        card.locator("summary").click()
        assert page.evaluate("document.querySelector('#rg-0-1').open")
        if name == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        assert not errors, errors


@pytest.mark.browser
def test_abstention_shows_related_reading_not_support(web):
    with browser_page() as page:
        page.goto(web + "/")
        box = page.locator("#rg-question textarea")
        box.wait_for()
        box.fill("What is the salary of a logistics manager in Germany?")
        box.press("Enter")
        page.locator("#rg-sources .rg-abstain").wait_for(timeout=30_000)
        assert "The articles don't cover this." in page.locator("#rg-chat").inner_text()
        assert page.locator("#rg-sources .rg-related").count() >= 1
        assert page.locator("#rg-chat a[href^='#rg-']").count() == 0
        page.locator("#rg-clear").click()
        page.wait_for_function("!document.querySelector('#rg-sources .rg-abstain')")


HOSTILE = """---
title: "Hostile <b>title</b>"
roles: [Warehouse Manager]
---
Warehouse Managers run the loading dock <script>window.__pwned = 1</script> every day.

Warehouse Managers count stock <img src=x onerror="window.__pwned = 2"> at night.

Warehouse Managers document pallets ![tracker](http://127.0.0.2:9/pixel.png) with photos.
"""


@pytest.mark.browser
def test_hostile_article_is_shown_as_text(tmp_path):
    from roleguide import RoleGuide

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    guide = RoleGuide(corpus_dir=corpus, home=tmp_path / "home")
    app, url = start(guide)
    requests: list[str] = []
    try:
        with browser_page() as page:
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url + "/")
            for turn, question in enumerate(
                (
                    "When do warehouse managers run the loading dock?",
                    "When do warehouse managers count stock?",
                    "How do warehouse managers document pallets?",
                )
            ):
                box = page.locator("#rg-question textarea")
                box.fill(question)
                box.press("Enter")
                # answered, and its follow-up suggestions checked: Gradio ignores a submit
                # until that event ends
                page.locator(f"#rg-sources .rg-group[data-turn='{turn}']").wait_for(timeout=30_000)
                page.wait_for_function(IDLE, timeout=30_000)
            page.locator("#rg-sources details#rg-2-1").wait_for(timeout=30_000)
            page.locator("#rg-sources details#rg-0-1 summary").click()
            page.wait_for_timeout(500)
            chat = page.locator("#rg-chat").inner_text()
            sources = page.locator("#rg-sources").inner_text()
            assert "<script>" in chat or "<script>" in sources
            assert 'onerror="window.__pwned = 2"' in sources
            assert "![tracker](http://127.0.0.2:9/pixel.png)" in sources
            assert page.evaluate("window.__pwned") is None
            assert page.locator("#rg-chat img, #rg-sources img").count() == 0
            assert not [r for r in requests if "127.0.0.2" in r]
    finally:
        app.close()


@pytest.mark.browser
def test_career_tabs_compare_profile_and_match(web):
    with browser_page() as page:
        page.goto(web + "/")
        page.get_by_role("tab", name="Compare roles").click()
        table = page.locator("#rg-compare-table table.rg-table").first
        table.wait_for(timeout=30_000)
        headers = table.locator("thead th").all_inner_texts()
        assert headers == ["Facet", "Logistics Manager", "Operations Manager"]
        budget = table.locator("tr", has_text="Budget Control")
        assert "more focused budget" in budget.inner_text()
        assert "larger budget" in budget.inner_text()
        budget.locator("a.rg-marker").first.click()
        page.wait_for_function(
            "[...document.querySelectorAll('#rg-compare-table details')].some(d => d.open)"
        )
        page.screenshot(path=str(ARTIFACTS / "compare-desktop.png"))

        page.get_by_role("tab", name="Role profile").click()
        page.locator("#rg-profile h3", has_text="Regulatory Compliance").wait_for(timeout=30_000)

        page.get_by_role("tab", name="Which role fits me?").click()
        page.locator("#rg-interests textarea").fill("negotiating with suppliers\ncontract law")
        page.locator("#rg-match").click()
        first = page.locator("#rg-matches .rg-group .rg-q").first
        first.wait_for(timeout=30_000)
        assert first.inner_text().startswith("1. Procurement Manager")
        assert "not career advice" in page.locator("#rg-matches").inner_text()
        page.screenshot(path=str(ARTIFACTS / "match-desktop.png"))


def test_oversized_questions_are_refused_and_the_server_stays_up(web, client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="1,000,000 characters"):
        client.predict("x" * 1_000_000, [], api_name="/ask")
    huge_history = [{"role": "user", "content": "y" * 100_000}] * 50
    answer = client.predict("Who handles customs compliance?", huge_history, api_name="/ask")
    assert answer["citations"]
    with urllib.request.urlopen(web + "/", timeout=10) as response:
        assert response.status == 200


def test_a_burst_of_200_questions_from_20_clients(web, client):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = [
        ("Who handles customs compliance?", "Logistics Manager"),
        ("Who negotiates contracts with suppliers?", "Procurement Manager"),
        ("Who manages a larger budget?", "Operations Manager"),
        ("How do I bake sourdough bread?", None),
    ]

    def one_client(n: int) -> list:
        own = Client(web + "/", verbose=False)
        out = []
        for i in range(10):
            q, role = questions[(n + i) % len(questions)]
            try:
                result = own.predict(q, [], api_name="/ask")
                out.append(("ok", result["lead_role"] == role))
            except Exception as e:  # a clean refusal by the bounded queue is allowed
                out.append(("refused", "queue" in str(e).lower() or "full" in str(e).lower()))
        return out

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [r for batch in pool.map(one_client, range(20)) for r in batch]
    elapsed = time.monotonic() - began
    assert len(results) == 200
    assert all(good for _, good in results), results
    answered = sum(kind == "ok" for kind, _ in results)
    assert answered >= 180, f"{answered} answered in {elapsed:.0f} s"
    assert client.predict("What is logistics?", [], api_name="/ask")["abstained"] is False


@pytest.mark.parametrize(
    "question",
    [
        "\x00Who handles customs compliance?",
        "Who handles \ud800 customs compliance?",
        "מי אחראי על עמידה בדרישות המכס?",
        "Who\u200b handles\u200d customs?",
        "'; DROP TABLE chunks; --",
        "<img src=x onerror=alert(1)> who buys?",
        "🙂🚚📦",
        "",
    ],
)
def test_strange_questions_over_http_get_an_answer_or_a_message(web, question):
    """Raw HTTP with ASCII-escaped JSON, so even a lone surrogate reaches the server
    (httpx, under gradio_client, cannot encode one)."""
    body = json.dumps({"data": [question, []]}, ensure_ascii=True).encode()
    request = urllib.request.Request(
        web + "/gradio_api/call/ask", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{web}/gradio_api/call/ask/{event_id}", timeout=60) as reply:
        stream = reply.read().decode("utf-8")
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.M)
    kind, data = events[-1]
    if kind == "error":
        assert "question" in data and "Traceback" not in data
    else:
        assert kind == "complete"
        result = json.loads(data)[0]
        assert isinstance(result["text"], str) and result["text"]


def test_the_serve_command_starts_the_app_and_answers(built_home, corpus_dir):
    """`roleguide serve` as `make run` starts it: a process, a port, an answer, a clean stop."""
    from gradio_client import Client

    port = free_port()
    command = [sys.executable, "-m", "roleguide", "serve", "--port", str(port)]
    command += ["--home", str(built_home), "--corpus", str(corpus_dir)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said: list[str] = []
    ready = f"roleguide is ready at http://127.0.0.1:{port}/"
    hung = threading.Timer(180, server.kill)  # a server that never says ready ends its stderr
    hung.start()
    try:
        url = f"http://127.0.0.1:{port}/"
        assert server.stderr is not None
        for line in server.stderr:  # up to the line that says it is ready (or its exit)
            said.append(line)
            if ready in line:
                break
        hung.cancel()
        assert any(ready in line for line in said), "".join(said)[-2000:]
        with urllib.request.urlopen(url, timeout=10) as page:  # ready means ready: no retry
            assert page.status == 200
        answer = Client(url, verbose=False).predict(
            "Who handles customs compliance?", [], api_name="/ask"
        )
        assert answer["lead_role"] == "Logistics Manager"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, rest = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    stderr = "".join(said) + rest
    assert stderr.count(ready) == 1
    assert "Traceback" not in stderr
