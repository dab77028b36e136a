"""The project's own question set as a regression gate: a change that makes answers or
retrieval worse than the project has reached fails CI. Thresholds sit just below the
figures of the last committed run (evals/results/report.md)."""

from __future__ import annotations

import pytest

from roleguide.evaluation import evaluate

QUESTIONS = "evals/questions.yaml"

pytestmark = pytest.mark.slow  # every case of three question sets, on indexes of their own


@pytest.fixture(scope="module")
def report(guide, corpus_dir):
    report = evaluate(corpus_dir.parent / QUESTIONS, guide, ["hybrid"])
    for r in report.primary.results:
        if not r.passed:
            print(f"{r.label}: {'; '.join(r.failures)}")
    return report


def test_pass_rate(report):
    assert report.primary_answers["pass_rate"] >= 0.92


def test_answering_passage_is_the_first_citation(report):
    assert report.primary_answers["evidence_in_citation_1"] >= 0.91


def test_abstention(report):
    assert report.primary_answers["abstention_precision"] >= 0.93
    assert report.primary_answers["abstention_recall"] >= 0.93
    assert report.primary_answers["false_abstentions"] <= 2


def test_who_questions_name_the_role(report):
    assert report.primary_answers["lead_role_accuracy"] >= 0.95


def test_every_citation_is_verbatim(report):
    assert report.primary_answers["citations_verbatim"] == 1.0


def test_follow_ups(report):
    assert report.primary_answers["followup_success"] >= 0.90


def test_retrieval(report):
    assert report.primary.retrieval["hit@1"] >= 0.88
    assert report.primary.retrieval["mrr"] >= 0.92


# --- the general set: ten public articles nobody here wrote (evals/general) ---------------
# Run as found and with front matter generated from evals/general/front_matter.yaml, with
# issue 12's "done when" thresholds on all cases and on the test split (tuning looked only
# at the dev split). The "before" figures are in evals/general/BEFORE.md.

GENERAL = "evals/general"


@pytest.fixture(scope="module", params=["as-found", "front-matter"])
def general(request, corpus_dir, tmp_path_factory):
    """The general set's report for one corpus variant, each in its own temp home."""
    from roleguide import RoleGuide
    from roleguide.evaluation.front_matter import front_matter_corpus

    root = corpus_dir.parent / GENERAL
    corpus = root / "corpus"
    if request.param == "front-matter":
        corpus = front_matter_corpus(corpus, tmp_path_factory.mktemp("front-matter") / "corpus")
    guide = RoleGuide(corpus_dir=corpus, home=tmp_path_factory.mktemp(f"home-{request.param}"))
    report = evaluate(root / "questions.yaml", guide, ["hybrid", "baseline"])
    for r in report.primary.results:
        if not r.passed:
            print(f"[{request.param}] {r.label}: {'; '.join(r.failures)}")
    return report


def _answers(report, part: str) -> dict:
    hybrid = report.retrievers["hybrid"]
    return hybrid.answers if part == "all" else hybrid.by_split[part]["answers"]


PARTS = pytest.mark.parametrize("part", ["all", "test"])


def test_general_set_runs_on_both_splits(general):
    hybrid, baseline = general.retrievers["hybrid"], general.retrievers["baseline"]
    assert set(hybrid.by_split) == set(baseline.by_split) == {"dev", "test"}
    assert hybrid.answers["questions"] == len(hybrid.results) >= 60
    for result in (hybrid, baseline):
        for part in ("dev", "test"):
            assert 0 < result.by_split[part]["retrieval"]["mrr"] <= 1


@PARTS
def test_general_pass_rate(general, part):
    assert _answers(general, part)["pass_rate"] >= 0.85


@PARTS
def test_general_answering_passage_is_the_first_citation(general, part):
    assert _answers(general, part)["evidence_in_citation_1"] >= 0.80


@PARTS
def test_general_out_of_scope_abstention(general, part):
    assert _answers(general, part)["abstention_recall"] >= 0.90


@PARTS
def test_general_no_false_abstentions(general, part):
    assert _answers(general, part)["false_abstentions"] == 0


def test_general_citations_are_verbatim(general):
    assert general.primary_answers["citations_verbatim"] == 1.0


def test_general_retrieval_ahead_of_the_tutorial_baseline_on_test(general):
    hybrid = general.retrievers["hybrid"].by_split["test"]["retrieval"]
    baseline = general.retrievers["baseline"].by_split["test"]["retrieval"]
    assert hybrid["hit@1"] > baseline["hit@1"]
    assert hybrid["mrr"] > baseline["mrr"]
