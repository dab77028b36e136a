"""The eval runner itself: schema errors, metric values on a tiny set, the reports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from roleguide.cli import app
from roleguide.evaluation import QuestionSetError, evaluate, load_question_set
from roleguide.evaluation.report import write_chart, write_json, write_markdown
from roleguide.evaluation.retrieval_metrics import retrieval_metrics
from roleguide.evaluation.runner import check_answer
from roleguide.evaluation.schema import Turn
from roleguide.models import Answer, Citation

OLM = "operations-manager-vs-logistics-manager.md"

TINY = f"""
version: 1
cases:
  - id: customs
    question: Who handles customs compliance?
    type: who
    role: Logistics Manager
    sources: [{OLM}]
    evidence: customs and import/export laws
  - id: customs-wrong-role
    question: Who handles customs compliance?
    type: who
    role: Procurement Manager
    sources: [{OLM}]
    evidence: customs and import/export laws
  - id: bread
    question: How do I bake sourdough bread?
    type: out_of_scope
  - id: degree-followup
    type: conversation
    turns:
      - question: Who handles customs compliance?
        role: Logistics Manager
        sources: [{OLM}]
        evidence: customs and import/export laws
      - question: And what degree do they usually have?
        sources: [{OLM}]
        evidence: degrees in logistics
        expect_query: Logistics Manager
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def write_set(tmp_path, body: str):
    path = tmp_path / "set.yaml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "cases:\n  - id: a\n    question: Q?\n    sources: [x.md]\n",
            r"case 'a' \(#1\): field 'evidence'",
        ),
        (
            "cases:\n  - id: a\n    question: Q?\n    type: who\n    sources: [x.md]\n"
            "    evidence: e\n",
            r"case 'a' \(#1\): .*role",
        ),
        (
            "cases:\n  - id: a\n    question: Q?\n    type: out_of_scope\n"
            "  - id: a\n    question: R?\n    type: out_of_scope\n",
            r"case 'a' \(#2\): field 'id': duplicate",
        ),
        (
            "cases:\n  - id: a\n    question: Q?\n    type: out_of_scope\n    colour: red\n",
            r"case 'a' \(#1\): field 'colour'",
        ),
        (
            "cases:\n  - id: c\n    type: conversation\n    turns:\n      - question: Q?\n"
            "        type: out_of_scope\n",
            r"case 'c' \(#1\): field 'turns'",
        ),
        ("cases:\n  - question: Q?\n    type: out_of_scope\n", r"case #1: field 'id'"),
        ("cases: [", "not valid YAML"),
        ("items: []", "a 'cases' list"),
    ],
)
def test_invalid_sets_name_the_case_and_field(tmp_path, body, message):
    with pytest.raises(QuestionSetError, match=message):
        load_question_set(write_set(tmp_path, body))


def test_sources_and_evidence_are_checked_against_the_corpus(tmp_path, corpus_dir):
    body = f"cases:\n  - id: a\n    question: Q?\n    sources: [{OLM}]\n    evidence: not in it\n"
    with pytest.raises(QuestionSetError, match=r"case 'a'.*field 'evidence'.*not in any"):
        load_question_set(write_set(tmp_path, body), corpus_dir)
    body = "cases:\n  - id: b\n    question: Q?\n    sources: [missing.md]\n    evidence: x\n"
    with pytest.raises(QuestionSetError, match=r"case 'b'.*field 'sources'.*missing.md"):
        load_question_set(write_set(tmp_path, body), corpus_dir)


def test_the_project_set_is_valid_and_large_enough(corpus_dir):
    qset = load_question_set(corpus_dir.parent / "evals" / "questions.yaml", corpus_dir)
    turns = [t for c in qset.cases for t in c.as_turns()]
    assert len(qset.cases) >= 80
    assert sum(t.abstain for t in turns) >= 12
    assert sum(c.type == "conversation" for c in qset.cases) >= 8
    covered = {s for t in turns for s in t.sources}
    assert len(covered) == 4


def test_check_answer_catches_a_quote_that_is_not_verbatim(corpus_dir):
    turn = Turn(question="Q?", sources=(OLM,), evidence=("larger budget",))
    fake = Citation(
        number=1,
        source=OLM,
        title="t",
        section="s",
        quote="control over a larger budget",
        start=0,
        end=28,
        score=1.0,
        chunk_id="x",
        passage="p",
        passage_start=0,
    )
    answer = Answer(question="Q?", query="Q?", text="“…” [1] [2]", citations=(fake,))
    checked = check_answer(turn, answer, corpus_dir)
    assert checked["verbatim_ok"] is False
    assert checked["evidence_ok"] is True
    assert any("verbatim" in f for f in checked["failures"])


def test_retrieval_metrics_match_hand_computed_values(tiny):
    qset = load_question_set(tiny)
    passages = {"p1": "… customs and import/export laws …", "p2": "degrees in logistics", "p3": "x"}
    ranked = {
        "Who handles customs compliance?": ["p3", "p1"],  # relevant at rank 2
        "And what degree do they usually have?": ["p2", "p3"],  # relevant at rank 1
    }

    def search(question, history):
        return [(pid, passages[pid], 0.0) for pid in ranked[question]]

    metrics = retrieval_metrics(qset, search, passages)
    # 4 answerable turns: three customs turns at rank 2, one degree turn at rank 1
    assert metrics["hit@1"] == pytest.approx(1 / 4)
    assert metrics["hit@3"] == pytest.approx(1.0)
    assert metrics["mrr"] == pytest.approx((3 * 0.5 + 1) / 4)


def test_evaluate_on_a_tiny_set_with_a_failing_case(guide, tiny, tmp_path):
    report = evaluate(tiny, guide, ["hybrid", "baseline"])
    hybrid = report.retrievers["hybrid"]
    by_id = {r.label: r for r in hybrid.results}
    assert set(by_id) == {
        "customs",
        "customs-wrong-role",
        "bread",
        "degree-followup",
        "degree-followup#2",
    }
    assert not by_id["customs-wrong-role"].passed
    assert by_id["customs-wrong-role"].failures == [
        "first sentence does not name the Procurement Manager"
    ]
    assert hybrid.answers["pass_rate"] == pytest.approx(4 / 5)
    assert hybrid.answers["lead_role_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert hybrid.answers["abstention_precision"] == 1.0
    assert hybrid.answers["abstention_recall"] == 1.0
    assert hybrid.answers["followup_success"] == 1.0
    assert hybrid.retrieval["hit@1"] == 1.0
    assert report.retrievers["baseline"].answers is None
    assert 0 < report.retrievers["baseline"].retrieval["mrr"] <= 1

    write_json(report, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["primary"] == "hybrid"
    assert data["retrievers"]["hybrid"]["answers"]["pass_rate"] == pytest.approx(0.8)
    write_markdown(report, tmp_path / "r.md", tmp_path / "c.png")
    markdown = (tmp_path / "r.md").read_text()
    assert "| pass rate | 80.0% | — |" in markdown
    assert "**customs-wrong-role**" in markdown
    assert "first sentence does not name the Procurement Manager" in markdown
    write_chart(report, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_min_pass_sets_the_exit_status(tiny, tmp_path, built_home, corpus_dir, monkeypatch):
    monkeypatch.setenv("ROLEGUIDE_HOME", str(built_home))
    monkeypatch.setenv("ROLEGUIDE_CORPUS", str(corpus_dir))
    runner = CliRunner()
    out = tmp_path / "out"
    failing = runner.invoke(app, ["eval", str(tiny), "--min-pass", "0.9", "--out", str(out)])
    assert failing.exit_code == 1, failing.output
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "retrievers.png"}
    passing = runner.invoke(
        app, ["eval", str(tiny), "--min-pass", "0.8", "--json", str(tmp_path / "x.json")]
    )
    assert passing.exit_code == 0, passing.output
    assert json.loads((tmp_path / "x.json").read_text())["primary"] == "hybrid"
    bad = runner.invoke(app, ["eval", str(tiny), "--retriever", "magic"])
    assert bad.exit_code == 2
