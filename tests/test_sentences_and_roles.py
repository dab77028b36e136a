"""Unit tests of the small pieces: sentence spans, role names, follow-ups, question checks."""

from __future__ import annotations

import pytest

from roleguide.ask.conversation import resolve_followup
from roleguide.ask.query import clean_question, expand_intent, is_comparison, is_who_question
from roleguide.ask.roles import RoleCatalog
from roleguide.errors import InvalidQuestionError
from roleguide.ingest.sentences import sentence_spans

CATALOG = RoleCatalog(
    ["Operations Manager", "Logistics Manager", "Procurement Manager"],
    {"Operations Manager": ["ops manager"], "Procurement Manager": ["purchasing manager"]},
)


def texts(text: str, **kw) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text, **kw)]


def test_sentence_spans_keep_abbreviations_and_offsets():
    text = "Strategic vs. Tactical: A is broad, e.g. planning. B is narrow! Is C? Yes."
    assert texts(text) == [
        "Strategic vs. Tactical: A is broad, e.g. planning.",
        "B is narrow!",
        "Is C?",
        "Yes.",
    ]


def test_sentence_spans_are_absolute_and_line_aware():
    text = "Intro. Part of\nSupply Chain\nBusiness Management"
    start = text.index("Part")
    assert texts(text, start=start, lines=True) == [
        "Part of",
        "Supply Chain",
        "Business Management",
    ]


def test_role_mentions_plural_alias_and_case():
    found = CATALOG.mentions("Ops managers and the purchasing manager's team; LOGISTICS MANAGERS")
    assert [m.role for m in found] == [
        "Operations Manager",
        "Procurement Manager",
        "Logistics Manager",
    ]


def test_compound_role_takes_its_first_word():
    found = CATALOG.mentions("Logistics operations managers manage distribution centers")
    assert [m.role for m in found] == ["Logistics Manager"]


def test_normalise_aliases_keeps_plural():
    assert CATALOG.normalise("what do ops managers do?") == "what do Operations Managers do?"
    assert CATALOG.normalise("a purchasing manager") == "a Procurement Manager"


def test_unknown_roles_are_detected_but_career_targets_are_not():
    assert CATALOG.unknown_roles("What does a fleet manager do?") == ["fleet manager"]
    assert CATALOG.unknown_roles("Who is the CEO of Amazon?") == ["ceo"]
    assert CATALOG.unknown_roles("What skills does a manager need?") == []
    assert CATALOG.unknown_roles("Which role can lead to becoming a Chief Operating Officer?") == []


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        (
            [
                {"role": "user", "content": "Who handles customs compliance?"},
                {
                    "role": "assistant",
                    "content": "The Logistics Manager — “Logistics Managers…” [1]",
                },
            ],
            "And what degree do they usually have?",
            "And what degree do Logistics Managers usually have?",
        ),
        (
            [
                {"role": "user", "content": "What does a procurement manager focus on?"},
                {"role": "assistant", "content": "“A Procurement Manager focuses…” [1]"},
            ],
            "Where can that career lead?",
            "Where can the Procurement Manager career lead?",
        ),
        (
            [
                {"role": "user", "content": "What degree do logistics managers have?"},
                {"role": "assistant", "content": "“Logistics Managers frequently…” [1]"},
            ],
            "What about operations managers?",
            "What degree do Operations Managers have?",
        ),
        ([], "What do they earn?", "What do they earn?"),
        (
            [
                {"role": "user", "content": "What does a logistics manager do?"},
                {"role": "assistant", "content": "“A Logistics Manager…” [1]"},
            ],
            "Who handles budgets?",
            "Who handles budgets?",
        ),
    ],
)
def test_followups_carry_the_role(history, question, expected):
    assert resolve_followup(question, history, CATALOG) == expected


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \t\n", "empty"),
        ("\u200b\u200b", "empty"),
        ("🙂🙂🙂", "no words"),
        ("x" * 2001, "2,001 characters"),
        ("word " * 300, "too long to search"),
    ],
)
def test_bad_questions_get_a_clear_error(question, message):
    with pytest.raises(InvalidQuestionError, match=message):
        clean_question(question, 2000)


def test_question_cleaning_removes_control_and_invisible_characters():
    assert clean_question("Who\x00 handles\u200b customs?\ud800", 2000) == "Who handles customs??"


def test_question_kinds():
    assert is_who_question("Who handles customs compliance?")
    assert is_who_question("Which role deals with vendors?")
    assert is_who_question("Whose job is it to get good deals?")
    assert not is_who_question("What does a logistics manager do?")
    assert is_comparison("What is the difference between logistics and operations?")
    assert is_comparison("Operations Manager vs Procurement Manager")
    assert expand_intent("What does a buyer do?").endswith("(scope of responsibilities)")
