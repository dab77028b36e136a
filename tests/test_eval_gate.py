"""The project's own question set as a regression gate: a change that makes answers or
retrieval worse than the project has reached fails CI. Thresholds sit just below the
figures of the last committed run (evals/results/report.md)."""

from __future__ import annotations

import pytest

from roleguide.evaluation import evaluate

QUESTIONS = "evals/questions.yaml"


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
