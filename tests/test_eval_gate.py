"""The project's own question set as a regression gate: answers may not get worse."""

from __future__ import annotations

import pytest

from roleguide.evaluation import answer_metrics, load_question_set, run_answers

QUESTIONS = "evals/questions.yaml"


@pytest.fixture(scope="module")
def metrics(guide, corpus_dir):
    question_set = load_question_set(corpus_dir.parent / QUESTIONS, corpus_dir)
    assert len(question_set.cases) >= 80
    results = run_answers(guide, question_set)
    failing = [f"{r.label}: {'; '.join(r.failures)}" for r in results if not r.passed]
    print("\n".join(failing))
    return answer_metrics(results)


def test_pass_rate(metrics):
    assert metrics["pass_rate"] >= 0.90


def test_answering_passage_is_the_first_citation(metrics):
    assert metrics["evidence_in_citation_1"] >= 0.90


def test_abstention(metrics):
    assert metrics["abstention_precision"] >= 0.90
    assert metrics["abstention_recall"] >= 0.90


def test_who_questions_name_the_role(metrics):
    assert metrics["lead_role_accuracy"] >= 0.95


def test_every_citation_is_verbatim(metrics):
    assert metrics["citations_verbatim"] == 1.0
