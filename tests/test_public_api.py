"""The public names are pinned: a reshuffle of modules must not drop or rename one, and
every error roleguide raises on purpose is a ``RoleGuideError`` (what the CLI and the web
app turn into one-line messages)."""

from __future__ import annotations

import importlib
import inspect

import pytest

import roleguide
from roleguide import errors

PUBLIC = {
    "roleguide": {
        "Answer",
        "ArticleError",
        "Citation",
        "ConfigError",
        "CorpusError",
        "IndexLockedError",
        "IndexMismatchError",
        "IndexUnavailableError",
        "InvalidQuestionError",
        "RoleGuide",
        "RoleGuideError",
        "StorageFullError",
        "StoreUnavailableError",
    },
    "roleguide.api": {"RoleGuide"},
    "roleguide.config": {"DEFAULTS", "ENV_PREFIX", "Settings", "env_name", "resolve_settings"},
    "roleguide.errors": {
        "ArticleError",
        "ConfigError",
        "CorpusError",
        "IndexLockedError",
        "IndexMismatchError",
        "IndexUnavailableError",
        "InvalidQuestionError",
        "RoleGuideError",
        "StorageFullError",
        "StoreUnavailableError",
    },
    "roleguide.models": {
        "AddResult",
        "Answer",
        "ArticleInfo",
        "Cell",
        "Citation",
        "Comparison",
        "FacetRow",
        "GapGroup",
        "GapReport",
        "InterestHit",
        "MatchResult",
        "ProfileSection",
        "RemoveResult",
        "RoleInfo",
        "RoleMatch",
        "RoleProfile",
    },
    "roleguide.evaluation": {
        "Case",
        "EvalReport",
        "QuestionSet",
        "QuestionSetError",
        "RETRIEVERS",
        "RetrieverResult",
        "Turn",
        "TurnResult",
        "answer_metrics",
        "check_answer",
        "evaluate",
        "load_question_set",
        "run_answers",
    },
    "roleguide.ask.conversation": {"Message", "resolve_followup"},
    "roleguide.app.cli.main": {"app", "main"},
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_all_is_pinned_and_every_name_resolves(module):
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    assert len(mod.__all__) == len(set(mod.__all__)), "a name listed twice"
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"


def test_the_documented_import_works():
    from roleguide import Answer, Citation, ConfigError, RoleGuide, RoleGuideError  # noqa: F401

    assert RoleGuide is importlib.import_module("roleguide.api").RoleGuide
    assert Answer.__module__ == "roleguide.models" and Citation.__module__ == "roleguide.models"


def test_every_error_is_a_roleguide_error():
    classes = [getattr(errors, n) for n in errors.__all__]
    assert all(inspect.isclass(c) and issubclass(c, errors.RoleGuideError) for c in classes)
    assert {c.__name__ for c in classes} == {
        c.__name__
        for c in vars(errors).values()
        if inspect.isclass(c) and issubclass(c, BaseException)
    }, "an error class is defined but not exported"


def test_errors_callers_catch_as_valueerror_still_are():
    """Refusals of a bad value stay ``ValueError``s, so existing ``except ValueError`` holds."""
    for cls in (
        errors.ConfigError,
        errors.InvalidQuestionError,
        errors.CorpusError,
        errors.ArticleError,
    ):
        assert issubclass(cls, ValueError)
    assert issubclass(errors.StoreUnavailableError, errors.IndexUnavailableError)
    assert not issubclass(errors.IndexUnavailableError, errors.IndexMismatchError)


def test_evaluation_errors_are_roleguide_errors():
    from roleguide.evaluation import QuestionSetError
    from roleguide.evaluation.front_matter import FrontMatterError

    assert issubclass(QuestionSetError, errors.RoleGuideError)
    assert issubclass(FrontMatterError, errors.RoleGuideError)


def test_the_version_is_a_string():
    assert isinstance(roleguide.__version__, str) and roleguide.__version__


def test_a_failing_follow_up_rewrite_is_logged_not_silent(caplog):
    """The rule-based rewrite takes over, and the log says why the model's was not used."""
    import logging

    from roleguide.ask.understand import rewrite_followup

    class Broken:
        def invoke(self, prompt):
            raise ConnectionError("refused")

    history = [{"role": "user", "content": "Who buys?"}, {"role": "assistant", "content": "x"}]
    with caplog.at_level(logging.WARNING, logger="roleguide"):
        assert rewrite_followup(Broken(), "And their degree?", history, 5.0) is None  # type: ignore[arg-type]
    assert "ConnectionError: refused" in caplog.text
