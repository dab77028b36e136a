"""Evaluation question sets: schema, runner and metrics (``roleguide eval``)."""

from .runner import TurnResult, answer_metrics, check_answer, run_answers
from .schema import Case, QuestionSet, QuestionSetError, Turn, load_question_set

__all__ = [
    "Case",
    "QuestionSet",
    "QuestionSetError",
    "Turn",
    "TurnResult",
    "answer_metrics",
    "check_answer",
    "load_question_set",
    "run_answers",
]
