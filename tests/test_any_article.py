"""Any article, any role: plain articles with no front matter, with the real model and index.

The plain articles are verbatim excerpts of public pages (tests/articles, addresses in its
README); the questions on the bundled corpus are the ones the issue reported failing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from roleguide import RoleGuide
from roleguide.app.cli.main import app

ARTICLES = Path(__file__).parent / "articles"


@pytest.fixture(scope="module")
def plain_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("plain") / "corpus"
    corpus.mkdir()
    for path in ARTICLES.iterdir():
        if path.suffix in (".txt", ".md") and path.name != "README.md":
            shutil.copy(path, corpus / path.name)
    # a plain file naming no job title at all: ingest warns about it
    (corpus / "notes.txt").write_text(
        "Shipping notes\n\nPallets are stacked two high in aisle four.\n", encoding="utf-8"
    )
    return corpus


@pytest.fixture(scope="module")
def plain_guide(plain_corpus, tmp_path_factory) -> RoleGuide:
    return RoleGuide(corpus_dir=plain_corpus, home=tmp_path_factory.mktemp("plain-home"))


@pytest.mark.slow  # its own index of the plain articles, with the real model
def test_ingest_prints_the_roles_found_per_article_and_warns_about_none(plain_corpus, tmp_path):
    result = CliRunner().invoke(
        app, ["ingest", "--corpus", str(plain_corpus), "--home", str(tmp_path / "home")]
    )
    assert result.exit_code == 0, result.output
    assert "resumegeni-warehouse-manager.txt: Warehouse Manager" in result.output
    assert "study-project-vs-operations-table.md: Project Manager, Operations Manager" in (
        result.output
    )
    assert "no roles found in notes.txt" in result.output


@pytest.mark.slow  # builds a real index of the plain articles (module fixture)
def test_roles_lists_every_plain_articles_roles(plain_guide):
    names = {r.name for r in plain_guide.roles()}
    assert {
        "Supply Chain Manager",
        "Logistics Manager",
        "Warehouse Manager",
        "Buyer",
        "Project Manager",
        "Operations Manager",
        "Inventory Manager",
    } <= names


@pytest.mark.slow  # builds a real index of the plain articles (module fixture)
def test_plain_articles_answer_who_questions_with_the_role(plain_guide):
    a = plain_guide.ask("Which manager takes a holistic view of the entire product lifecycle?")
    assert not a.abstained and a.lead_role == "Supply Chain Manager"
    assert a.citations[0].quote == "Takes a holistic view of the entire product lifecycle"
    b = plain_guide.ask("Who plans and manages transportation?")
    assert b.lead_role == "Logistics Manager"


@pytest.mark.slow  # builds a real index of the plain articles (module fixture)
def test_a_salary_question_is_answered_from_that_roles_row(plain_guide):
    a = plain_guide.ask("How much do operations managers earn?")
    assert not a.abstained
    assert "$100,780" in a.citations[0].quote
    assert "$110,630" not in a.citations[0].quote  # the project managers' row


@pytest.mark.slow  # builds a real index of the plain articles (module fixture)
def test_an_articles_reference_markers_are_not_citations(plain_guide):
    a = plain_guide.ask("What is the median salary of a warehouse manager?")
    assert not a.abstained
    assert any("[1]" in c.quote or "[6]" in c.quote for c in a.citations)
    assert len(a.citations) == len(a.markers)
    for start, end, n in a.markers:
        assert a.text[start:end] == f"[{n}]"


@pytest.mark.slow  # builds a real index of the plain articles (module fixture)
def test_table_of_contents_bullets_do_not_answer(plain_guide):
    a = plain_guide.ask("What is the historical context of both roles?")
    assert all("historical context" not in c.quote for c in a.citations)


@pytest.mark.parametrize(
    "question",
    [
        "Which manager deals with import and export laws?",
        "What is a COO?",
        "What KPIs is a logistics manager measured on?",
    ],
)
def test_questions_that_used_to_abstain_are_answered(guide, question):
    answer = guide.ask(question)
    assert not answer.abstained, answer.text
    if question.startswith("Which manager"):
        assert answer.lead_role == "Logistics Manager"
    if "COO" in question:
        assert "Chief Operating Officer (COO)" in answer.citations[0].quote


def test_titles_the_corpus_does_not_cover_abstain_naming_what_it_covers(guide):
    fleet = guide.ask("What does a fleet manager do?")
    assert fleet.abstained and "fleet manager" in fleet.text
    assert "Operations Manager" in fleet.text and "Logistics Manager" in fleet.text
    scm = guide.ask("What does a supply chain manager do?")
    assert scm.abstained and "supply chain manager" in scm.text
    assert "the chain manager" not in scm.text
    coo = guide.ask("What does a Chief Operating Officer do all day?")
    assert coo.abstained and "only in passing" in coo.text
