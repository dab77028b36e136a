"""The OpenAI chat format: messages in, answers out as completions and streamed chunks."""

from __future__ import annotations

import pytest

from roleguide.app.web.openai_compat import (
    SOURCES_HEADER,
    chat_completion,
    completion_chunks,
    messages_to_question,
    reply_text,
)
from roleguide.errors import InvalidQuestionError
from roleguide.models import Answer


def answer(text: str) -> Answer:
    return Answer(question="q", query="q", text=text)


def test_messages_become_a_question_and_its_history():
    question, history = messages_to_question(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Who buys?"}]},
            {"role": "assistant", "content": "The buyer [1]." + SOURCES_HEADER + "[1] A — B"},
            {"role": "user", "content": "And what degree do they have?"},
        ]
    )
    assert question == "And what degree do they have?"
    assert history == [
        {"role": "user", "content": "Who buys?"},
        {"role": "assistant", "content": "The buyer [1]."},  # our Sources list dropped
    ]


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([{"role": "assistant", "content": "hi"}], "last message"),
        ([{"role": "system", "content": "hi"}], "last message"),
        ([{"role": "tool", "content": "x"}, {"role": "user", "content": "hi"}], "tool"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], "text"),
    ],
)
def test_unusable_messages_are_refused_with_the_reason(messages, reason):
    with pytest.raises(InvalidQuestionError, match=reason):
        messages_to_question(messages)


def test_a_completion_carries_text_sources_and_citations():
    plain = chat_completion(answer("Nothing cited."), "id", 1)
    assert plain["choices"][0]["message"]["content"] == "Nothing cited."
    assert plain["citations"] == [] and plain["abstained"] is False
    assert reply_text(answer("x")) == "x"


def test_streamed_chunks_add_up_to_the_reply_and_end_with_citations():
    growing = [answer("One."), answer("One. Two."), answer("One. Two. Three.")]
    chunks = list(completion_chunks(growing, "id", 1))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == reply_text(growing[-1])
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert "citations" in chunks[-1] and "citations" not in chunks[1]


def test_a_revised_answer_is_sent_whole_rather_than_spliced():
    chunks = list(completion_chunks([answer("Draft."), answer("Final.")], "id", 1))
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.endswith("(revised) Final.")
