"""Career tools: facets, sentence-to-role attribution, compare, profile, match, chat routing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from roleguide import InvalidQuestionError
from roleguide.app.cli.main import app
from roleguide.careers.tools import facet_key

OM, LM, PM = "Operations Manager", "Logistics Manager", "Procurement Manager"
OLM = "operations-manager-vs-logistics-manager.md"
OPM = "operations-manager-vs-procurement-manager.md"
LOM = "logistics-vs-operations-management.md"

# Who each sentence of every facet paragraph speaks about, read off the articles by hand.
EXPECTED_SUBJECTS = {
    (LOM, "Key difference"): [(), (), ()],
    (OLM, "Scope of Responsibilities"): [(OM,), (OM,), (LM,)],
    (OLM, "Skill Set"): [(OM,), (LM,)],
    (OLM, "Decision-making"): [(OM,), (LM,)],
    (OLM, "Stakeholder Interaction"): [(OM,), (LM,)],
    (OLM, "Performance Metrics"): [(OM,), (LM,)],
    (OLM, "Budget Control"): [(OM,), (LM,)],
    (OLM, "Strategic vs. Tactical"): [(OM,), (LM,)],
    (OLM, "Crisis Management"): [(OM,), (LM,)],
    (OLM, "Reporting Structure"): [(LM,), ()],
    (OLM, "Industry Variance"): [(OM,), (LM,)],
    (OLM, "Educational Requirements"): [(OM,), (LM,)],
    (OLM, "Regulatory Compliance"): [(LM,), (OM,)],
    (OPM, "Scope of Responsibilities"): [(OM,), (OM,), (PM,)],
    (OPM, "Role in the Supply Chain"): [(OM,), (PM,)],
    (OPM, "Vendor Relationship"): [(PM,), (OM,)],
    (OPM, "Employee Management"): [(OM,), (PM,)],
    (OPM, "Strategic vs. Tactical"): [(OM,), (PM,)],
    (OPM, "Financial Oversight"): [(OM,), (PM,)],
    (OPM, "Quality Control"): [(OM,), (PM,)],
    (OPM, "Risk Management"): [(PM,), (OM,)],
    (OPM, "Data Analysis"): [(OM, PM), (OM,), (PM,)],
    (OPM, "Regulatory Compliance"): [(OM,), (PM,)],
    (OPM, "Technology Utilization"): [(OM,), (PM,)],
    (OPM, "Customer Focus"): [(OM,), (PM,)],
    (OPM, "Communication Channels"): [(OM,), (PM,)],
    (OPM, "Skill Set"): [(OM,), (PM,)],
    (OPM, "Career Path"): [(), (OM,), (PM,)],
}


def test_facet_labels_merge_across_articles():
    assert facet_key("Scope of Responsibility") == facet_key("Scope of Responsibilities")
    assert facet_key("Skill Set") == facet_key("Skill sets")
    assert facet_key("Budget Control") != facet_key("Quality Control")


def test_every_facet_sentence_is_attributed_to_its_role(guide):
    found: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for s in guide.careers.statements():
        if s.chunk.kind == "facet":
            found.setdefault((s.chunk.source, s.chunk.section), []).append(s.subject)
    assert found == EXPECTED_SUBJECTS


def test_roles_with_aliases_and_passage_counts(guide):
    roles = {r.name: r for r in guide.roles()}
    assert set(roles) == {OM, LM, PM}
    assert "purchasing manager" in roles[PM].aliases
    assert roles[OM].passages > roles[PM].passages > 0
    assert roles[PM].sources == (OPM,)


def cells(table, facet):
    row = next(r for r in table.rows if r.facet == facet)
    return [c.citation.quote if c.citation else None for c in row.cells], row


def test_compare_budget_control_operations_vs_logistics(guide):
    table = guide.compare("Operations Manager", "Logistics Manager")
    assert table.roles == (OM, LM)
    quotes, row = cells(table, "Budget Control")
    assert quotes == [
        "Operations Managers often have control over a larger budget that encompasses multiple "
        "departments or the entire organization.",
        "Logistics Managers typically manage a more focused budget related to transportation, "
        "warehousing, and inventory.",
    ]
    assert all(c.citation.source == OLM for c in row.cells)
    assert cells(table, "Reporting Structure")[0][0] is None  # about the Logistics Manager only
    numbers = [c.number for c in table.citations]
    assert numbers == list(range(1, len(numbers) + 1))


def test_compare_operations_vs_procurement_by_alias_and_case(guide):
    table = guide.compare("OPS MANAGER", "purchasing manager")
    assert table.roles == (OM, PM)
    assert table.rows[0].facet == "Scope of Responsibilities"
    quotes, _ = cells(table, "Vendor Relationship")
    assert quotes[0].startswith("Operations Managers may interact with vendors")
    assert quotes[1].startswith("Procurement Managers often have a more direct relationship")
    quotes, _ = cells(table, "Career Path")
    assert "Chief Operating Officer (COO)" in quotes[0]
    assert "Chief Procurement Officer (CPO)" in quotes[1]


def test_compare_across_articles(guide):
    table = guide.compare("Logistics Manager", "Procurement Manager")
    quotes, row = cells(table, "Skill Set")
    assert "transportation management, inventory control" in quotes[0]
    assert "negotiation, contract law" in quotes[1]
    assert [c.citation.source for c in row.cells] == [OLM, OPM]
    assert cells(table, "Budget Control")[0][1] is None  # not stated for procurement
    markdown = table.to_markdown()
    assert markdown.splitlines()[0] == f"| Facet | {LM} | {PM} |"
    assert "*not stated in the articles*" in markdown


def test_unknown_and_identical_roles_are_refused(guide):
    with pytest.raises(InvalidQuestionError, match=r"unknown role 'Fleet Manager'.*Logistics"):
        guide.compare("Fleet Manager", "Operations Manager")
    with pytest.raises(InvalidQuestionError, match="two different roles"):
        guide.compare("ops manager", "Operations Manager")


def test_profile_groups_everything_about_the_role(guide):
    found = guide.profile("logistics managers")
    assert found.role == LM
    facets = [s.facet for s in found.sections]
    assert facets[:3] == ["Scope of Responsibilities", "Skill Set", "Decision-making"]
    quotes = [c.quote for s in found.sections for c in s.citations]
    assert any("customs and import/export laws" in q for q in quotes)
    assert not any(q.startswith("Operations Managers") for q in quotes)


@pytest.mark.parametrize(
    ("interests", "first"),
    [
        (["negotiating with suppliers", "contract law"], PM),
        (["transportation and warehousing", "inventory control"], LM),
        (["leading people across departments", "strategic planning", "budgets"], OM),
    ],
)
def test_match_ranks_the_fitting_role_first(guide, interests, first):
    result = guide.match(interests)
    assert result.matches[0].role == first
    assert result.matches[0].score > result.matches[1].score
    assert result.matches[0].evidence and "not career advice" in result.note
    for c in result.matches[0].evidence:
        assert c.quote in c.passage


def test_match_refuses_empty_interests(guide):
    with pytest.raises(InvalidQuestionError):
        guide.match(["", "  "])


@pytest.mark.parametrize(
    "question",
    [
        "Operations Manager vs Procurement Manager",
        "What is the difference between a logistics manager and an operations manager?",
        "compare operations and procurement managers",
    ],
)
def test_chat_routes_role_comparisons_to_the_table(guide, question):
    answer = guide.ask(question)
    assert answer.comparison is not None
    assert "| Facet |" in answer.text
    assert answer.citations == answer.comparison.citations


def test_specific_comparisons_are_answered_from_passages(guide):
    answer = guide.ask("How do the budgets of operations and logistics managers differ?")
    assert answer.comparison is None
    assert "budget" in answer.citations[0].quote


@pytest.fixture
def cli_env(built_home, corpus_dir, monkeypatch):
    monkeypatch.setenv("ROLEGUIDE_HOME", str(built_home))
    monkeypatch.setenv("ROLEGUIDE_CORPUS", str(corpus_dir))


def test_cli_career_commands(cli_env):
    runner = CliRunner()
    roles = runner.invoke(app, ["roles"])
    assert roles.exit_code == 0 and "purchasing manager" in roles.stdout
    md = runner.invoke(app, ["compare", "Operations Manager", "Logistics Manager", "--markdown"])
    assert md.exit_code == 0
    assert "| Budget Control | “Operations Managers often have control over a larger" in md.stdout
    as_json = runner.invoke(app, ["compare", "ops manager", "purchasing manager", "--json"])
    assert json.loads(as_json.stdout)["roles"] == [OM, PM]
    profile = runner.invoke(app, ["profile", "Procurement Manager"])
    assert profile.exit_code == 0 and "Vendor Relationship" in profile.stdout
    match = runner.invoke(app, ["match", "negotiating with suppliers", "contract law"])
    assert match.exit_code == 0 and match.stdout.startswith("1. Procurement Manager")
    assert "2 of your 2 interests matched" in match.stdout  # a score people can read
    assert "contract law → “Procurement Managers require specialized skills" in match.stdout
    unknown = runner.invoke(app, ["compare", "Fleet Manager", "Operations Manager"])
    assert unknown.exit_code == 2 and "unknown role" in unknown.stderr
