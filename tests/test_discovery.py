"""Roles from the text, attribution, who-questions and unknown titles, on real article shapes.

Fast: no model. The articles are verbatim excerpts of public pages (tests/articles, with
their addresses) and the bundled corpus with its front matter taken off.
"""

from __future__ import annotations

from pathlib import Path

from roleguide.app.web.render import answer_markdown
from roleguide.ask.attribution import unit_subjects
from roleguide.ask.query import is_who_question
from roleguide.ask.roles import RoleCatalog, load_aliases
from roleguide.ingest.chunks import chunk_document
from roleguide.ingest.cleaning import clean_blocks
from roleguide.ingest.corpus import SourceDocument, load_document
from roleguide.ingest.discovery import discover, merge_discoveries
from roleguide.ingest.titles import abbreviations, job_titles
from roleguide.models import Answer

ARTICLES = Path(__file__).parent / "articles"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _plain(path: Path, name: str | None = None) -> SourceDocument:
    """The article as a plain file: front matter (and its roles) left out."""
    doc = load_document(path, name or path.name)
    body = doc.text[doc.body_start :]
    first = body.strip().splitlines()[0].strip()
    return SourceDocument(doc.source, first, (), body, 0, doc.digest)


def _found(*docs: SourceDocument):
    blocks = clean_blocks(list(docs))
    return {d.source: discover(d, blocks[d.source]) for d in docs}, blocks


def _article(name: str) -> SourceDocument:
    return load_document(ARTICLES / name, name)


def test_roles_come_from_titles_headings_and_repeated_titles():
    docs = [
        _article("yardstick-scm-vs-logistics.txt"),
        _article("resumegeni-warehouse-manager.txt"),
        _article("energy-career-map-buyer.txt"),
        _article("study-project-vs-operations-table.md"),
        _article("study-inventory-manager.txt"),
    ]
    found, _ = _found(*docs)
    roles = {s: d.roles for s, d in found.items()}
    # this excerpt has no title line: the title comes from the file name
    assert roles["yardstick-scm-vs-logistics.txt"][:2] == [
        "Supply Chain Manager",
        "Logistics Manager",
    ]
    assert roles["resumegeni-warehouse-manager.txt"] == ["Warehouse Manager"]
    assert roles["energy-career-map-buyer.txt"][0] == "Buyer"
    assert roles["study-project-vs-operations-table.md"] == [
        "Project Manager",
        "Operations Manager",
    ]
    assert roles["study-inventory-manager.txt"] == ["Inventory Manager"]


def test_the_bundled_articles_without_front_matter_name_their_roles_and_define_coo():
    doc = _plain(CORPUS / "operations-manager-vs-procurement-manager.md")
    found, _ = _found(doc)
    d = found[doc.source]
    assert set(d.roles) == {"Operations Manager", "Procurement Manager"}
    assert d.abbreviations["COO"] == "Chief Operating Officer"
    assert "chief operating officer" in d.mentioned
    # front matter overrides what is found
    fm = load_document(CORPUS / "operations-manager-vs-procurement-manager.md", "opm.md")
    assert _found(fm)[0]["opm.md"].roles == ["Operations Manager", "Procurement Manager"]


def test_job_titles_are_whole_titles_not_question_words():
    q = "Which manager deals with import and export laws?"
    assert job_titles(q) == []
    keys = [m.key for m in job_titles("What does a supply chain manager do?")]
    assert keys == ["supply chain manager"]
    assert [m.key for m in job_titles("How do I become a nurse?")] == ["nurse"]
    assert abbreviations("such as Chief Operating Officer (COO), or") == {
        "COO": "Chief Operating Officer"
    }


def test_aliases_are_not_merged_when_the_corpus_distinguishes_the_titles():
    aliases = load_aliases(CORPUS)  # maps "purchasing manager" to Procurement Manager
    merged = RoleCatalog(["Operations Manager", "Procurement Manager"], aliases)
    assert merged.canonical("purchasing manager") == "Procurement Manager"
    apart = RoleCatalog(["Procurement Manager", "Purchasing Manager"], aliases)
    assert apart.canonical("purchasing managers") == "Purchasing Manager"
    assert apart.canonical("procurement lead") == "Procurement Manager"


def test_unknown_titles_are_real_job_titles_the_corpus_never_mentions():
    cat = RoleCatalog(
        ["Operations Manager", "Logistics Manager"],
        mentioned={"chief operating officer", "supply chain manager"},
        abbreviations={"COO": "Chief Operating Officer"},
    )
    assert cat.unknown_roles("Which manager deals with import and export laws?") == []
    assert cat.unknown_roles("What does a supply chain manager do?") == []
    assert cat.passing_roles("What does a supply chain manager do?") == ["supply chain manager"]
    assert cat.unknown_roles("What does a fleet manager do?") == ["fleet manager"]
    assert cat.unknown_roles("How do I become a nurse?") == []  # a career destination
    assert cat.unknown_roles("Do nurses work nights?") == ["nurse"]
    assert cat.unknown_roles("What is a COO?") == []
    assert "Chief Operating Officer (COO)" in cat.expand_abbreviations("What is a COO?")
    assert cat.normalise("What does an ops manager focus on?") == (
        "What does an Operations Manager focus on?"
    )


def test_which_manager_planner_role_and_person_are_who_questions():
    for q in (
        "Which manager deals with import and export laws?",
        "Which planner deals with unconstrained demand?",
        "What kind of role negotiates with suppliers?",
        "Which person handles vendor contracts?",
        "Whose job is it to plan routes?",
    ):
        assert is_who_question(q), q
    for q in (
        "What does a supply chain manager do?",
        "What is a COO?",
        "Which KPIs are used to evaluate an operations manager?",
    ):
        assert not is_who_question(q), q


def _subjects(doc: SourceDocument, catalog: RoleCatalog, roles: list[str]):
    blocks = clean_blocks([doc])[doc.source]
    out = {}
    for chunk in chunk_document(doc, blocks):
        texts = [chunk.sentence_text(i) for i in range(len(chunk.sentences))]
        for text, subject in zip(texts, unit_subjects(catalog, chunk, texts, roles), strict=True):
            out[text] = subject
    return out


def test_units_are_attributed_by_name_heading_article_or_reference_and_never_guessed():
    scm = _article("yardstick-scm-vs-logistics.txt")
    found, _ = _found(scm)
    roles = found[scm.source].roles
    cat = RoleCatalog(roles)
    got = _subjects(scm, cat, roles)
    assert got["Developing supply chain strategies"] == ("Supply Chain Manager",)
    assert got["Overseeing warehouse operations"] == ("Logistics Manager",)
    assert got["Let's dive in and decode these vital business roles!"] == ()

    warehouse = _article("resumegeni-warehouse-manager.txt")
    one = RoleCatalog(["Warehouse Manager"])
    got = _subjects(warehouse, one, ["Warehouse Manager"])
    salary = next(t for t in got if "$102,010" in t)
    assert got[salary] == ("Warehouse Manager",)  # a one-role job description

    table = _article("study-project-vs-operations-table.md")
    pair = RoleCatalog(["Project Manager", "Operations Manager"])
    got = _subjects(table, pair, ["Project Manager", "Operations Manager"])
    row = next(t for t in got if t.startswith("Operations Managers |"))
    assert got[row] == ("Operations Manager",)


def test_discoveries_merge_across_the_corpus():
    docs = [_article("yardstick-scm-vs-logistics.txt"), _article("study-inventory-manager.txt")]
    found, _ = _found(*docs)
    merged = merge_discoveries(found)
    assert {"Supply Chain Manager", "Logistics Manager", "Inventory Manager"} <= set(merged.roles)


def test_an_articles_own_reference_markers_are_text_not_citations():
    quote = "The median salary sits at $102,010 per year [1]."
    text = f"“{quote}” [1]"
    answer = Answer(question="q", query="q", text=text, markers=((len(text) - 3, len(text), 1),))
    md = answer_markdown(answer, 7)
    assert md.count("](#rg-7-1)") == 1
    assert "per year \\[1\\]" in md


def test_amount_questions_and_duty_idioms():
    from roleguide.ask.paraphrase import asks_amount, has_amount
    from roleguide.ask.query import expand_intent, without_intent

    assert asks_amount("How much do operations managers earn?")
    assert asks_amount("What's the typical pay for someone running a warehouse?")
    assert not asks_amount("What does a buyer do?")
    assert has_amount("Operations Managers Bachelor's Degree $100,780 (General and Operations)")
    assert not has_amount("Projected Job Growth (2012-2022) 4%")
    expanded = expand_intent("What does a purchasing agent do all day?")
    assert without_intent(expanded) == "What does a purchasing agent do?"


def test_a_name_the_passages_never_mention_is_found():
    from roleguide.ask.names import unmentioned_name

    doc = _article("resumegeni-warehouse-manager.txt")
    chunks = chunk_document(doc, clean_blocks([doc])[doc.source])
    cat = RoleCatalog(["Warehouse Manager"])
    q = "What is the salary of a warehouse manager in Germany?"
    assert unmentioned_name(cat, q, chunks) == "Germany"
    assert unmentioned_name(cat, "What do Warehouse Managers own?", chunks) is None
    assert unmentioned_name(cat, "How many work in this field in the US?", chunks) is None


def test_a_title_an_article_covers_is_not_passing_though_front_matter_lists_others():
    cat = RoleCatalog(
        ["Buyer"], mentioned={"purchasing agent"}, found=["Buyer", "Purchasing Agent"]
    )
    assert cat.passing_roles("What does a purchasing agent do all day?") == []
    passing = RoleCatalog(["Buyer"], mentioned={"purchasing agent"})
    assert passing.passing_roles("What does a purchasing agent do?") == ["purchasing agent"]
