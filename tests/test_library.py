"""Adding and removing articles for real: local HTTP server, reportlab PDFs, the CLI, the
bundled model and Chroma on disk; every refusal leaves corpus and index byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from articles_fixtures import (
    HTML_PAGE,
    MARKDOWN_ARTICLE,
    PDF_PARAGRAPHS,
    Site,
    copy_built,
    handbook_pages,
    make_pdf,
    tree_hashes,
)

from roleguide.errors import ArticleError
from roleguide.ingest.articles import extract, fetch_url

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def site():
    s = Site()
    page = HTML_PAGE.encode()
    s.routes["/careers/warehouse-vs-planner"] = (200, "text/html; charset=utf-8", page)
    s.routes["/nav-only"] = (
        200,
        "text/html",
        b"<html><body><nav><a href=/>Home</a></nav><footer>(c) 2026</footer></body></html>",
    )
    s.routes["/logo.png"] = (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    yield s
    s.close()


@pytest.fixture
def private(tmp_path, corpus_dir, built_home):
    return copy_built(corpus_dir, built_home, tmp_path)


def roleguide_cli(*args: str, home: Path, corpus: Path, timeout: float = 240):
    env = {**os.environ, "PYTHONPATH": str(SRC), "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "roleguide", *args, "--home", str(home), "--corpus", corpus],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_html_keeps_main_text_and_structure_and_drops_boilerplate():
    got = extract(HTML_PAGE.encode(), "html", "http://x/page", from_url=True)
    assert got.title.startswith("Warehouse Supervisor vs Inventory Planner")
    assert "## Daily Work" in got.body and "- Warehouse Supervisors need forklift" in got.body
    for noise in ("Sponsored", "Leave a reply", "Post comment", "Subscribe", "About us"):
        assert noise not in got.body


def test_pdf_text_per_page_paragraphs_rejoined(tmp_path):
    title = "Customs Broker vs Freight Forwarder"
    pdf = make_pdf(tmp_path / "a.pdf", title, PDF_PARAGRAPHS, pages=3)
    got = extract(pdf.read_bytes(), "pdf", "a.pdf", from_url=False)
    assert got.title == "Customs Broker vs Freight Forwarder" and got.pages == 3
    assert "## Responsibilities 2" in got.body
    assert "so that goods clear the border without delay." in got.body  # wrapped line rejoined


def test_scanned_pdf_is_refused_with_the_reason(tmp_path):
    pdf = make_pdf(tmp_path / "scan.pdf", "Scan", [], pages=2, text=False)
    with pytest.raises(ArticleError, match=r"no text layer .*2 pages.*OCR"):
        extract(pdf.read_bytes(), "pdf", "scan.pdf", from_url=False)


def test_fetch_bounds(site):
    with pytest.raises(ArticleError, match="only http:// and https://"):
        fetch_url("file:///etc/passwd")
    with pytest.raises(ArticleError, match="more than 5 redirects"):
        fetch_url(site.url + "/loop0")
    with pytest.raises(ArticleError, match="within 1 s"):
        fetch_url(site.url + "/slow", timeout=1)
    with pytest.raises(ArticleError, match="larger than 20 MB; not downloaded"):
        fetch_url(site.url + "/huge")
    with pytest.raises(ArticleError, match="unsupported content type image/png"):
        fetch_url(site.url + "/logo.png")
    with pytest.raises(ArticleError, match="HTTP 404"):
        fetch_url(site.url + "/nothing-here")
    data, kind, final = fetch_url(site.url + "/careers/warehouse-vs-planner")
    assert kind == "html" and final.endswith("/careers/warehouse-vs-planner") and b"<h1>" in data


@pytest.mark.slow  # a `roleguide` process per article
def test_cli_adds_html_pdf_markdown_each_cited_then_removes_one(tmp_path, private, site):
    corpus, home = private
    pdf = make_pdf(tmp_path / "brokers.pdf", "Customs Broker vs Freight Forwarder", PDF_PARAGRAPHS)
    md = tmp_path / "fleet.md"
    md.write_text(MARKDOWN_ARTICLE)
    url = site.url + "/careers/warehouse-vs-planner"
    done = roleguide_cli("add", url, str(pdf), str(md), home=home, corpus=corpus)
    assert done.returncode == 0, done.stderr
    for name in (
        "warehouse-supervisor-vs-inventory-planner.md",
        "customs-broker-vs-freight-forwarder.md",
        "fleet-manager-vs-route-planner.md",
    ):
        assert f"Added {name}" in done.stdout
    assert done.stdout.count("roles found:") == 3

    text = (corpus / "customs-broker-vs-freight-forwarder.md").read_text()
    assert text.startswith("---\ntitle: Customs Broker vs Freight Forwarder\n")
    assert "original_file: brokers.pdf\nadded: '20" in text
    page = (corpus / "warehouse-supervisor-vs-inventory-planner.md").read_text()
    assert f"source_url: {url}\n" in page and "## Daily Work" in page and "Sponsored" not in page

    from roleguide import RoleGuide

    guide = RoleGuide(corpus_dir=corpus, home=home)
    listed = {a.source: a for a in guide.sources()}
    assert listed["fleet-manager-vs-route-planner.md"].origin == "fleet.md"
    assert listed["customs-broker-vs-freight-forwarder.md"].chunks >= 2
    for question, source in (
        ("Who sets reorder points and safety stock?", "warehouse-supervisor"),
        ("Who prepares import declarations and pays duties?", "customs-broker"),
        ("Who draws up the daily delivery routes?", "fleet-manager"),
    ):
        answer = guide.ask(question)
        assert not answer.abstained, question
        assert answer.citations[0].source.startswith(source), (question, answer.citations[0])

    question = "Who services and replaces delivery trucks?"
    asked = roleguide_cli("ask", question, home=home, corpus=corpus)
    assert "fleet-manager-vs-route-planner.md" in asked.stdout

    gone = roleguide_cli("remove", "fleet-manager-vs-route-planner", home=home, corpus=corpus)
    assert gone.returncode == 0 and "Removed fleet-manager-vs-route-planner.md" in gone.stdout
    assert not (corpus / "fleet-manager-vs-route-planner.md").exists()
    guide = RoleGuide(corpus_dir=corpus, home=home)
    assert "fleet-manager-vs-route-planner.md" not in {a.source for a in guide.sources()}
    answer = guide.ask("Who draws up the daily delivery routes?")
    assert all(c.source != "fleet-manager-vs-route-planner.md" for c in answer.citations)


@pytest.mark.slow
def test_every_refusal_is_one_line_exit_2_and_changes_no_byte(tmp_path, private, site):
    corpus, home = private
    existing = sorted(corpus.glob("*.md"))[0]
    big = tmp_path / "big.md"
    with big.open("wb") as f:
        f.truncate(21 * 2**20)
    (tmp_path / "cv.docx").write_bytes(b"PK\x03\x04 not really")
    copy = tmp_path / "copy.md"
    copy.write_text(existing.read_text().replace("\n\n", "\n\n\n"))  # same words, other spacing
    colliding = tmp_path / "colliding.md"
    title = existing.stem.replace("-", " ")
    colliding.write_text(f"# {title}\n\nA different text entirely, about something else.\n")
    scan = make_pdf(tmp_path / "scan.pdf", "Scan", [], pages=2, text=False)
    cases = {
        "collision": ([str(colliding)], "already in the corpus; remove it first"),
        "duplicate": ([str(copy)], f"same text is already in the corpus as {existing.name}"),
        "empty": ([site.url + "/nav-only"], "no article text found"),
        "over cap": ([str(big)], "larger than 20 MB"),
        "url over cap": ([site.url + "/huge"], "larger than 20 MB"),
        "unsupported file": ([str(tmp_path / "cv.docx")], "unsupported file type .docx"),
        "unsupported url": ([site.url + "/logo.png"], "unsupported content type image/png"),
        "scheme": (["ftp://127.0.0.1/a.md"], "only http:// and https://"),
        "scanned pdf": ([str(scan)], "no text layer"),
        "missing": ([str(tmp_path / "nope.md")], "no such file"),
    }
    before = tree_hashes(corpus, home)
    for case, (args, message) in cases.items():
        done = roleguide_cli("add", *args, home=home, corpus=corpus)
        assert done.returncode == 2, (case, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error:"), (case, done.stderr)
        assert message in " ".join(done.stderr.split()), (case, done.stderr)
        assert tree_hashes(corpus, home) == before, case
    removed = roleguide_cli("remove", "no-such-article", home=home, corpus=corpus)
    assert removed.returncode == 2 and "roleguide sources" in removed.stderr
    assert tree_hashes(corpus, home) == before


def test_one_bad_item_adds_none_of_the_batch(tmp_path, private):
    from roleguide import RoleGuide

    corpus, home = private
    md = tmp_path / "fleet.md"
    md.write_text(MARKDOWN_ARTICLE)
    guide = RoleGuide(corpus_dir=corpus, home=home)
    before = tree_hashes(corpus)
    with pytest.raises(ArticleError, match=r"cv\.docx: unsupported"):
        guide.add(md, tmp_path / "cv.docx")
    assert tree_hashes(corpus) == before


def test_twenty_page_pdf_is_added_in_seconds(tmp_path, private):
    from roleguide import RoleGuide

    corpus, home = private
    per_page = handbook_pages(20)
    pdf = make_pdf(
        tmp_path / "long.pdf", "Customs Broker Handbook", [], pages=20, per_page=per_page
    )
    guide = RoleGuide(corpus_dir=corpus, home=home)
    began = time.perf_counter()
    result = guide.add(pdf)
    seconds = time.perf_counter() - began
    print(f"\n20-page PDF: {result.articles[0].chunks} chunks in {seconds:.1f} s (shared machine)")
    assert result.articles[0].chunks >= 20
    assert seconds < 120
    answer = guide.ask("How much duty is charged on solar panels?")
    assert answer.citations and answer.citations[0].source == "customs-broker-handbook.md"


def test_an_ingest_that_cannot_run_puts_the_corpus_back(tmp_path, private):
    from filelock import FileLock

    from roleguide import RoleGuide
    from roleguide.errors import IndexLockedError

    corpus, home = private
    md = tmp_path / "fleet.md"
    md.write_text(MARKDOWN_ARTICLE)
    guide = RoleGuide(corpus_dir=corpus, home=home)
    other_writer = FileLock(str(home / "write.lock"), timeout=0)
    other_writer.acquire()  # as if another process were ingesting
    before = tree_hashes(corpus, home)
    try:
        with pytest.raises(IndexLockedError):
            guide.add(md)
        assert tree_hashes(corpus, home) == before
    finally:
        other_writer.release()
    assert guide.add(md).articles[0].source == "fleet-manager-vs-route-planner.md"


def test_an_unwritable_log_costs_a_warning_not_the_answer(tmp_path, guide, caplog):
    from roleguide.feedback.log import QuestionLog

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    original = guide.log
    guide.log = QuestionLog(blocked)  # its parent "folder" is a file: SQLite cannot open it
    try:
        answer = guide.ask("Who handles customs compliance?")
    finally:
        guide.log = original
    assert not answer.abstained
    assert "question not logged" in caplog.text
