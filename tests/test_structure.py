"""Article structure on real article shapes: headings, bullets, tables, Q&A, key-value lines.

The fixtures are verbatim excerpts of public pages (tests/articles, addresses in its
README); only the HTML page's tags are ours, around that page's own words.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from roleguide.ingest.chunks import MAX_CHUNK_TOKENS, chunk_corpus, count_tokens
from roleguide.ingest.cleaning import document_blocks
from roleguide.ingest.corpus import SourceDocument, load_document

ARTICLES = Path(__file__).parent / "articles"  # verbatim excerpts; addresses in README.md


def _read(name: str) -> str:
    return (ARTICLES / name).read_text(encoding="utf-8")


YARDSTICK = _read("yardstick-scm-vs-logistics.txt")
WAREHOUSE = _read("resumegeni-warehouse-manager.txt")
INVENTORY = _read("study-inventory-manager.txt")
BUYER = _read("energy-career-map-buyer.txt")
PROJECT_TABLE = _read("study-project-vs-operations-table.md")


def _doc(text: str, name: str = "a.md", title: str = "") -> SourceDocument:
    return SourceDocument(name, title or name, (), text, 0, "digest")


def _units(doc: SourceDocument) -> list[tuple[str, str, str, str]]:
    return [
        (c.kind, c.section, c.context, c.sentence_text(i))
        for c in chunk_corpus([doc])
        for i in range(len(c.sentences))
    ]


def _assert_verbatim(doc: SourceDocument) -> None:
    for c in chunk_corpus([doc]):
        assert doc.text[c.start : c.end] == c.text
        for a, b in c.sentences:
            assert c.start <= a < b <= c.end


def test_bullets_under_lead_in_lines_keep_their_role_heading_and_the_toc_goes():
    doc = _doc(YARDSTICK, "yardstick.txt", "Supply Chain Manager vs Logistics Manager")
    units = _units(doc)
    texts = [u[3] for u in units]
    assert "Key responsibilities and focus areas" not in texts  # the table of contents
    item = next(u for u in units if u[3] == "Developing supply chain strategies")
    assert item[:3] == (
        "list",
        "Key responsibilities include",
        "Supply Chain Manager: The Strategic Orchestrator",
    )
    logistics = next(u for u in units if u[3] == "Planning and managing transportation")
    assert logistics[2] == "Logistics Manager: The Operational Mastermind"
    _assert_verbatim(doc)


def test_question_headings_are_headings_and_reference_markers_stay_text():
    doc = _doc(WAREHOUSE, "warehouse.txt")
    blocks = document_blocks(doc)
    question = next(b for b in blocks if doc.text[b.start : b.end].endswith("?"))
    assert question.kind == "heading"
    units = _units(doc)
    assert all(not u[3].endswith("?") for u in units)
    salary = next(u for u in units if "$102,010 per year" in u[3])
    assert salary[0] == "list" and salary[1] == "Key Takeaways"
    assert salary[3].endswith("[1].")
    lead = next(u for u in units if u[3].startswith("A Warehouse Manager's job"))
    assert lead[1] == "What Are the Typical Responsibilities of a Warehouse Manager?"
    assert not any(u[3].startswith("Here are the core") for u in units)  # the lead-in goes
    _assert_verbatim(doc)


def test_short_key_value_lines_stay_content():
    doc = _doc(INVENTORY, "inventory.txt", "Inventory Manager: Job Description & Requirements")
    texts = [u[3] for u in _units(doc)]
    assert "Average Salary (2014) $111,810" in texts
    assert "Required Education Bachelor's degree" in texts
    buyer = _doc(BUYER, "buyer.txt", "Career Map: Buyer")
    units = _units(buyer)
    education = next(u for u in units if "Bachelor's degree" in u[3])
    assert education[1] == "Minimum Education Requirements"
    duty = next(u for u in units if u[3].startswith("Negotiate contracts"))
    assert duty[2] == "Job Duties"
    _assert_verbatim(buyer)


def test_table_rows_are_units_embedded_with_their_column_headers():
    doc = _doc(PROJECT_TABLE, "project.md", "Project Manager Vs. Operations Manager")
    chunk = next(c for c in chunk_corpus([doc]) if c.kind == "table")
    assert chunk.section == "Comparing Project Managers to Operations Managers"
    assert chunk.sentence_text(1).startswith("Operations Managers | Bachelor's Degree")
    embedded = chunk.embedding_texts()[1]
    assert "Job Title: Operations Managers" in embedded
    assert "Median Salary (May 2019): $100,780" in embedded
    _assert_verbatim(doc)


def test_html_headings_lists_and_tables_become_structure(tmp_path):
    page = tmp_path / "buyer.html"
    page.write_text(
        "<html><head><title>Career Map: Buyer | Department of Energy</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li></ul></nav>"
        "<h1>Career Map: Buyer</h1><h2>Job Duties</h2>"
        "<p>Buyers and purchasing agents typically do the following:</p>"
        "<ul><li>Negotiate contracts on behalf of their organization</li>"
        "<li>Work out agreements with suppliers, such as when products will be delivered</li></ul>"
        "<table><tr><th>Role</th><th>Minimum Education Requirements</th></tr>"
        "<tr><td>Buyer</td><td>Bachelor's degree</td></tr></table></body></html>",
        encoding="utf-8",
    )
    doc = load_document(page, "buyer.html")
    assert doc.title == "Career Map: Buyer"
    units = _units(doc)
    duty = next(u for u in units if u[3].startswith("Negotiate contracts"))
    assert duty[0] == "list" and duty[2] == "Job Duties"
    row = next(u for u in units if u[0] == "table")
    assert row[2] == "Role | Minimum Education Requirements"
    assert not any(u[3] == "Home" for u in units)
    _assert_verbatim(doc)


def test_titles_skip_reading_time_lines_and_fall_back_to_the_file_name(tmp_path):
    # https://zenoot.com/articles/careers-in-the-supply-chain-industry-plus-salaries-and-job-outlook
    a = tmp_path / "careers.txt"
    a.write_text(
        "3 minute read\nCareers in the supply chain industry, plus salaries and job outlook\n"
        "The supply chain is a big topic in the news all around the world today.\n",
        encoding="utf-8",
    )
    assert load_document(a, "careers.txt").title == (
        "Careers in the supply chain industry, plus salaries and job outlook"
    )
    # https://jsroos.com.au/?p=269 starts with its first paragraph, no title line
    b = tmp_path / "demand-planner-vs-supply-planner.txt"
    b.write_text(
        "In the realm of supply chain management, the roles of Demand Planners and Supply "
        "Planners are crucial yet distinctly different.\nCore Focus\nThe primary focus of a "
        "demand planner is the prediction of future demand.\n",
        encoding="utf-8",
    )
    assert load_document(b, b.name).title == "Demand Planner vs Supply Planner"


@pytest.mark.slow
def test_a_multi_megabyte_single_line_article_chunks_in_linear_time():
    line = (
        "Logistics managers coordinate freight carriers and customs brokers across regions "
        "while tracking on-time delivery metrics "
    )
    sizes = {}
    for mb in (1, 6):
        text = (line * (mb * 2**20 // len(line) + 1))[: mb * 2**20]
        doc = _doc(text, "big.md", "Big")
        began = time.perf_counter()
        chunks = chunk_corpus([doc])
        sizes[mb] = time.perf_counter() - began
        assert chunks[-1].end == len(text.rstrip())
        for c in chunks[:: max(1, len(chunks) // 20)]:
            assert doc.text[c.start : c.end] == c.text
            assert count_tokens(c.text) <= MAX_CHUNK_TOKENS
    # 6x the text: about 6x the time (it took 441 s for 5.8 MB when fitting was quadratic)
    assert sizes[6] < 12 * max(sizes[1], 0.5), sizes
    assert sizes[6] < 120, sizes
