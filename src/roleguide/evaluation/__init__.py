"""Evaluation question sets: schema, runner and metrics (``roleguide eval``)."""

from roleguide.evaluation.runner import TurnResult, answer_metrics, check_answer, run_answers
from roleguide.evaluation.schema import Case, QuestionSet, QuestionSetError, Turn, load_question_set
from roleguide.evaluation.suite import RETRIEVERS, EvalReport, RetrieverResult, evaluate

__all__ = [
    "RETRIEVERS",
    "Case",
    "EvalReport",
    "QuestionSet",
    "QuestionSetError",
    "RetrieverResult",
    "Turn",
    "TurnResult",
    "answer_metrics",
    "check_answer",
    "evaluate",
    "load_question_set",
    "run_answers",
]
