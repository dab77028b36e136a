"""Career tools on articles nobody here wrote (evals/general): compare, profile and match
for roles found in headed sections, bullet lists and key–value lines, with and without
front matter (real model, real Chroma on disk)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from roleguide.app.cli.main import app

GENERAL = "evals/general"
DP, SP = "Demand Planner", "Supply Planner"
SCM, IM, PM, BUYER = "Supply Chain Manager", "Inventory Manager", "Procurement Manager", "Buyer"
PLANNERS = "demand-planner-vs-supply-planner.txt"
SCM_JD = "supply-chain-manager-job-description-salary.txt"
IM_JD = "inventory-manager-job-description.txt"
BUYER_JD = "career-map-buyer.txt"

pytestmark = pytest.mark.slow  # the general corpus indexed twice with the real model


@pytest.fixture(scope="module")
def homes(corpus_dir, tmp_path_factory):
    """The general corpus as found and with front matter, each indexed in its own home."""
    from roleguide import RoleGuide
    from roleguide.evaluation.front_matter import front_matter_corpus

    plain = corpus_dir.parent / GENERAL / "corpus"
    with_fm = front_matter_corpus(plain, tmp_path_factory.mktemp("fm") / "corpus")
    out = {}
    for name, corpus in (("as-found", plain), ("front-matter", with_fm)):
        home = tmp_path_factory.mktemp(f"careers-{name}")
        out[name] = (RoleGuide(corpus_dir=corpus, home=home), corpus, home)
    return out


@pytest.fixture(scope="module", params=["as-found", "front-matter"])
def guide(request, homes):
    return homes[request.param][0]


def cells(table, facet):
    row = next(r for r in table.rows if r.facet == facet)
    return [[x.quote for x in c.citations] for c in row.cells], row


def test_planners_compared_on_the_articles_headed_sections(guide):
    table = guide.compare("demand planner", "Supply Planners")
    assert table.roles == (DP, SP) and table.note == ""
    assert [r.facet for r in table.shared] == [
        "Core Focus",
        "Team Composition",
        "Approach and Perspective",
        "Handling Demand",
    ]
    quotes, _ = cells(table, "Core Focus")
    assert quotes == [
        [
            "The primary focus of a demand planner is the prediction of future demand; This "
            "involves anticipating end-user needs."
        ],
        [
            "In contrast, a supply planner’s focus is on optimising resources to fulfil the "
            "demand plan."
        ],
    ]
    quotes, _ = cells(table, "Handling Demand")
    assert quotes[0][0].startswith("Demand Planners deal with unconstrained demand")
    assert quotes[1][0].startswith("Supply Planners, however, take this unconstrained demand")
    quotes, _ = cells(table, "Team Composition")
    assert "Plant Maintenance" in quotes[0][0] and "Supply Chain Team" in quotes[1][0]
    assert {c.source for c in table.citations} == {PLANNERS}
    numbers = [c.number for c in table.citations]
    assert numbers == list(range(1, len(numbers) + 1))


def test_across_two_job_descriptions_salary_and_duties(guide):
    table = guide.compare("Supply Chain Manager", "Inventory Manager")
    quotes, row = cells(table, "Salary")
    assert quotes == [["Median Salary (2019)* $81,409"], ["Average Salary (2014) $111,810"]]
    assert [c.citation.source for c in row.cells] == [SCM_JD, IM_JD]
    quotes, row = cells(table, "Duties")
    assert quotes[0][:2] == [
        "Developing supply chain strategies",
        "Managing supplier relationships",
    ]
    assert quotes[1][0] == (
        "Most inventory managers maintain daily records of shipments and invoices to see "
        "what products need to be replenished."
    )
    assert row.cells[1].citation.source == IM_JD
    # facets only one article covers come after the shared ones, folded in the web app
    assert table.rows[: len(table.shared)] == table.shared
    assert cells(table, "Projected Job Growth")[0] == [[], ["Projected Job Growth (2012-2022) 4%"]]


def test_a_job_description_role_against_a_compared_one(guide):
    table = guide.compare("buyer", "procurement manager")
    assert table.roles == (BUYER, PM)
    quotes, row = cells(table, "Duties")
    assert quotes[0][0] == (
        "Evaluate suppliers on the basis of the price, quality, and speed of delivery of their "
        "products and services"
    )
    assert quotes[1][0] == (
        "A Procurement Manager is pivotal in managing an organizationโ€™s supply chain and "
        "procurement activities."
    )
    assert [c.citation.source for c in row.cells] == [
        BUYER_JD,
        "procurement-manager-vs-purchasing-manager.txt",
    ]


def test_profile_of_a_job_description_role_has_its_duty_bullets(guide):
    found = guide.profile("Buyers")
    duties = next(s for s in found.sections if s.facet == "Duties")
    assert [c.quote for c in duties.citations] == [
        "Evaluate suppliers on the basis of the price, quality, and speed of delivery of their "
        "products and services",
        "Interview vendors and visit suppliers’ plants and distribution centers to examine and "
        "learn about products, services, and prices",
        "Attend meetings, trade shows, and conferences to learn about new industry trends and "
        "make contacts with suppliers",
        "Analyze price proposals, financial reports, and other information to determine "
        "reasonable prices",
        "Negotiate contracts on behalf of their organization",
        "Work out agreements with suppliers, such as when products will be delivered",
        "Meet with staff and vendors to discuss defective or unacceptable goods or services "
        "and determine corrective action",
        "Evaluate and monitor contracts to be sure that vendors and supplies comply with the "
        "terms and conditions of the contract and to determine the need for changes",
    ]
    facets = [s.facet for s in found.sections]
    assert len(facets) == len(set(facets)) and "Skills" in facets
    quotes = [c.quote for s in found.sections for c in s.citations]
    assert len(quotes) == len(set(quotes))
    assert not any(q.rstrip().endswith("?") for q in quotes)


def test_profile_lists_related_roles_and_no_question_headings(guide):
    found = guide.profile("Demand Planner")
    assert found.related == (SP,)
    warehouse = guide.profile("Warehouse Manager")
    quotes = [c.quote for s in warehouse.sections for c in s.citations]
    assert "Overseeing Daily Warehouse Operations" in quotes
    assert not any("Typical Responsibilities of a Warehouse Manager" in q for q in quotes)


def test_match_ranks_the_analyst_first_and_says_why(guide):
    result = guide.match(["freight cost modeling", "SQL"])
    top = result.matches[0]
    assert top.role == "Supply Chain Analyst"
    assert top.matched == 2 and top.summary.startswith("2 of your 2 interests matched")
    sql = next(h for h in top.hits if h.interest == "SQL")
    assert sql.matched and "SQL" in sql.citation.quote
    assert top.matched > result.matches[1].matched or top.score > result.matches[1].score
    for m in result.matches:
        quotes = [c.quote for c in m.evidence]
        assert len(quotes) == len(set(quotes))
        assert all(h.citation is None or h.citation.quote in quotes for h in m.hits)


def test_plain_articles_compare_as_with_front_matter(homes):
    def rows(guide, a, b):
        table = guide.compare(a, b)
        return [
            (r.facet, [[(x.source, x.section, x.quote) for x in c.citations] for c in r.cells])
            for r in table.rows
        ]

    plain, with_fm = homes["as-found"][0], homes["front-matter"][0]
    for a, b in ((DP, SP), (SCM, IM), ("Warehouse Manager", SCM)):
        assert rows(plain, a, b) == rows(with_fm, a, b), (a, b)


def test_nothing_to_compare_says_so_in_one_line(homes, monkeypatch):
    guide, corpus, home = homes["as-found"]
    table = guide.compare("Supply Chain Analyst", "Business Analyst")
    assert not table.shared and table.note.startswith("Nothing to compare")
    assert table.to_markdown().splitlines()[0] == table.note
    monkeypatch.setenv("ROLEGUIDE_HOME", str(home))
    monkeypatch.setenv("ROLEGUIDE_CORPUS", str(corpus))
    result = CliRunner().invoke(app, ["compare", "Supply Chain Analyst", "Business Analyst"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("Nothing to compare: no article states")


TABLES = """---
title: "Fleet Coordinator vs Dispatch Supervisor"
roles: [Fleet Coordinator, Dispatch Supervisor]
---
# Fleet Coordinator vs Dispatch Supervisor

Fleet coordinators and dispatch supervisors both keep vehicles moving.

## At a glance

| Aspect | Fleet Coordinator | Dispatch Supervisor |
| --- | --- | --- |
| Main duty | Schedules vehicle maintenance and routes. | Assigns drivers to daily loads. |
| Typical degree | Associate degree in logistics. | High school diploma plus experience. |

## Pay and outlook

| Role | Median salary | Job growth |
| --- | --- | --- |
| Fleet Coordinator | $52,000 | 5% |
| Dispatch Supervisor | $48,000 | 3% |
"""


def test_table_columns_are_cells_per_role(tmp_path):
    from roleguide import RoleGuide

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fleet.md").write_text(TABLES, encoding="utf-8")
    guide = RoleGuide(corpus_dir=corpus, home=tmp_path / "home")
    table = guide.compare("fleet coordinator", "dispatch supervisors")
    assert cells(table, "Main duty")[0] == [
        ["Schedules vehicle maintenance and routes."],
        ["Assigns drivers to daily loads."],
    ]
    assert cells(table, "Typical degree")[0] == [
        ["Associate degree in logistics."],
        ["High school diploma plus experience."],
    ]
    assert cells(table, "Median salary")[0] == [["$52,000"], ["$48,000"]]
    assert cells(table, "Job growth")[0] == [["5%"], ["3%"]]
    profile = guide.profile("Dispatch Supervisor")
    facets = {s.facet: [c.quote for c in s.citations] for s in profile.sections}
    assert facets["Median salary"] == ["$48,000"]
