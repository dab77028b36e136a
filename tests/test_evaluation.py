"""The eval runner itself: schema errors, metric values on a tiny set, the reports."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from roleguide.app.cli.main import app
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


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- the general set (evals/general): splits, the front-matter variant -------------------


@pytest.fixture(scope="module")
def general_dir(corpus_dir):
    return corpus_dir.parent / "evals" / "general"


def _draw_module(general_dir):
    import importlib.util

    spec = importlib.util.spec_from_file_location("assign_split", general_dir / "assign_split.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_general_set_is_valid_large_and_drawn_into_splits(general_dir):
    import yaml

    corpus = general_dir / "corpus"
    qset = load_question_set(general_dir / "questions.yaml", corpus)
    turns = [t for c in qset.cases for t in c.as_turns()]
    assert len(qset.cases) >= 60
    assert sum(t.abstain for t in turns) >= 12
    assert sum(c.type == "conversation" for c in qset.cases) >= 6
    assert sum(t.type == "who" for t in turns) >= 15
    articles = sorted(p.name for p in corpus.iterdir())
    assert len(articles) >= 8
    assert {s for t in turns for s in t.sources} == set(articles)
    # the articles stay as found: no front matter, and every one has its address recorded
    sources_md = (general_dir / "SOURCES.md").read_text(encoding="utf-8")
    for name in articles:
        assert not (corpus / name).read_text(encoding="utf-8").startswith("---")
        assert f"`{name}` | http" in sources_md
    # the split is the seeded draw, not a hand-picked one, and both halves hold every type
    raw = yaml.safe_load((general_dir / "questions.yaml").read_text(encoding="utf-8"))
    drawn = _draw_module(general_dir).draw(raw["cases"])
    assert {c.id: c.split for c in qset.cases} == drawn
    assert 0.4 <= sum(c.split == "test" for c in qset.cases) / len(qset.cases) <= 0.6
    for kind in {c.type for c in qset.cases}:
        assert {c.split for c in qset.cases if c.type == kind} == {"dev", "test"}


def test_split_is_checked_and_selects_cases(tmp_path):
    body = "cases:\n  - id: a\n    split: train\n    question: Q?\n    type: out_of_scope\n"
    with pytest.raises(QuestionSetError, match=r"case 'a' \(#1\): field 'split'"):
        load_question_set(write_set(tmp_path, body))
    body = (
        "cases:\n  - id: a\n    split: dev\n    question: Q?\n    type: out_of_scope\n"
        "  - id: b\n    split: test\n    question: R?\n    type: out_of_scope\n"
        "  - id: c\n    split: dev\n    question: S?\n    type: out_of_scope\n"
    )
    qset = load_question_set(write_set(tmp_path, body))
    assert qset.splits == ("dev", "test")
    assert [c.id for c in qset.select("dev").cases] == ["a", "c"]
    assert [c.id for c in qset.select("all").cases] == ["a", "b", "c"]
    with pytest.raises(QuestionSetError, match="unknown split 'train'"):
        qset.select("train")
    only_dev = load_question_set(write_set(tmp_path, body.replace("split: test", "split: dev")))
    with pytest.raises(QuestionSetError, match="no case has split: test"):
        only_dev.select("test")


def test_front_matter_variant_copies_the_corpus_with_titles_and_roles(general_dir, tmp_path):
    from roleguide.evaluation.front_matter import FrontMatterError, front_matter_corpus
    from roleguide.ingest.corpus import load_document

    corpus = general_dir / "corpus"
    before = {p.name: p.read_bytes() for p in corpus.iterdir()}
    copy = front_matter_corpus(corpus, tmp_path / "fm")
    assert {p.name: p.read_bytes() for p in corpus.iterdir()} == before  # untouched
    assert sorted(p.name for p in copy.iterdir()) == sorted(before)
    doc = load_document(copy / "career-map-buyer.txt", "career-map-buyer.txt")
    assert doc.roles == ("Buyer",)
    assert doc.title == "Career Map: Buyer"
    assert doc.text[doc.body_start :].startswith("Career Map: Buyer\n")
    # the set's evidence is still found in the copy
    load_question_set(general_dir / "questions.yaml", copy)

    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "corpus").mkdir()
    (partial / "corpus" / "a.txt").write_text("Some article.\n", encoding="utf-8")
    with pytest.raises(FrontMatterError, match="no front-matter mapping"):
        front_matter_corpus(partial / "corpus", tmp_path / "out1")
    (partial / "front_matter.yaml").write_text(
        "articles:\n  b.txt: {title: B, roles: [Buyer]}\n", encoding="utf-8"
    )
    with pytest.raises(FrontMatterError, match=r"no entry for 'a\.txt'"):
        front_matter_corpus(partial / "corpus", tmp_path / "out2")
    (partial / "front_matter.yaml").write_text(
        "articles:\n  a.txt: {title: A, roles: Buyer}\n", encoding="utf-8"
    )
    with pytest.raises(FrontMatterError, match=r"article 'a\.txt': field 'roles'"):
        front_matter_corpus(partial / "corpus", tmp_path / "out3")


def test_evaluate_scores_each_split(guide, tiny, tmp_path):
    text = tiny.read_text(encoding="utf-8")
    for case_id, split in [("customs", "dev"), ("customs-wrong-role", "test"), ("bread", "test")]:
        text = text.replace(f"- id: {case_id}\n", f"- id: {case_id}\n    split: {split}\n")
    text = text.replace("- id: degree-followup\n", "- id: degree-followup\n    split: dev\n")
    path = tmp_path / "split.yaml"
    path.write_text(text, encoding="utf-8")

    report = evaluate(path, guide, ["hybrid", "baseline"])
    hybrid = report.retrievers["hybrid"]
    assert set(hybrid.by_split) == {"dev", "test"}
    assert hybrid.by_split["dev"]["answers"]["questions"] == 3
    assert hybrid.by_split["dev"]["answers"]["pass_rate"] == 1.0
    assert hybrid.by_split["test"]["answers"]["pass_rate"] == pytest.approx(0.5)
    assert hybrid.by_split["test"]["answers"]["abstention_recall"] == 1.0
    assert report.retrievers["baseline"].by_split["test"]["answers"] is None
    assert 0 < report.retrievers["baseline"].by_split["dev"]["retrieval"]["mrr"] <= 1
    write_markdown(report, tmp_path / "r.md")
    markdown = (tmp_path / "r.md").read_text()
    assert "**dev split**" in markdown and "**test split**" in markdown
    assert json.loads(json.dumps(report.to_dict()))["retrievers"]["hybrid"]["by_split"]

    only_test = evaluate(path, guide, ["hybrid"], split="test")
    assert only_test.split == "test"
    assert [r.label for r in only_test.primary.results] == ["customs-wrong-role", "bread"]
    assert only_test.primary.by_split == {}


def test_cli_eval_rejects_a_bad_split_and_a_missing_mapping(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["eval", "--split", "train"])
    assert bad.exit_code == 2
    assert "unknown split 'train'; choose dev, test or all" in bad.output
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Some article.\n", encoding="utf-8")
    missing = runner.invoke(app, ["eval", "--front-matter", "--corpus", str(corpus)])
    assert missing.exit_code == 2
    assert "no front-matter mapping" in missing.output
    assert not (tmp_path / "home").exists()
