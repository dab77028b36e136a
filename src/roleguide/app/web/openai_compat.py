"""roleguide answers in the OpenAI chat-completions format (``POST /v1/chat/completions``).

How citations travel (documented in the README): the message content is the answer text
with its ``[n]`` markers, then a blank line, ``Sources:`` and one line per citation
(``[n] Title — Section (file, chars a–b)``), so any chat front-end shows them; the
response (the last chunk when streamed) also has a ``citations`` field — the ``Citation``
objects as JSON — and ``abstained``, for clients that read more than the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from roleguide.ask.conversation import Message
from roleguide.errors import InvalidQuestionError
from roleguide.models import Answer, Citation

__all__ = [
    "MODEL_ID",
    "SOURCES_HEADER",
    "chat_completion",
    "completion_chunks",
    "messages_to_question",
    "model_list",
    "reply_text",
    "sources_text",
]

MODEL_ID = "roleguide"
SOURCES_HEADER = "\n\nSources:\n"
_CREATED = 1_767_225_600  # 2026-01-01: a fixed "created" for the one model


def model_list() -> dict:
    """``GET /v1/models``: the one model, ``roleguide``."""
    model = {"id": MODEL_ID, "object": "model", "created": _CREATED, "owned_by": "roleguide"}
    return {"object": "list", "data": [model]}


def _text(content) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidQuestionError("a message's content must be a string or a list of parts")
    parts = [
        p["text"]
        for p in content
        if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
    ]
    if len(parts) != len(content):
        raise InvalidQuestionError("messages may only hold text (no images, audio or files)")
    return "".join(parts)


def messages_to_question(messages: list[dict]) -> tuple[str, list[Message]]:
    """The question (the last message, which must be the user's) and the history before it.

    System and developer messages are ignored (roleguide's behaviour is fixed); the Sources
    list roleguide appended to its own earlier replies is dropped from the history.

    >>> messages_to_question([{"role": "user", "content": "Who buys?"}])
    ('Who buys?', [])
    """
    turns = [m for m in messages if m.get("role") not in ("system", "developer")]
    if not turns or turns[-1].get("role") != "user":
        raise InvalidQuestionError("the last message must be the user's question")
    history: list[Message] = []
    for i, message in enumerate(turns[:-1]):
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise InvalidQuestionError(
                f"messages[{i}] has role {role!r}; roleguide takes system, user and assistant"
            )
        text = _text(message.get("content"))
        if role == "assistant":
            text = text.split(SOURCES_HEADER, 1)[0]
        history.append(Message(role=role, content=text))
    return _text(turns[-1].get("content")), history


def _source_line(c: Citation) -> str:
    return f"[{c.number}] {c.title} — {c.section} ({c.source}, chars {c.start}–{c.end})"


def sources_text(citations: Iterable[Citation]) -> str:
    lines = [_source_line(c) for c in citations]
    return SOURCES_HEADER + "\n".join(lines) if lines else ""


def reply_text(answer: Answer) -> str:
    """The answer text with its [n] markers, then the Sources list they point at."""
    return answer.text + sources_text(answer.citations)


def _extras(answer: Answer) -> dict:
    return {
        "citations": [c.model_dump(mode="json") for c in answer.citations],
        "abstained": answer.abstained,
    }


def chat_completion(answer: Answer, completion_id: str, created: int) -> dict:
    """A ``chat.completion`` object for one answer."""
    message = {"role": "assistant", "content": reply_text(answer), "refusal": None}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        **_extras(answer),
    }


def _chunk(completion_id: str, created: int, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def completion_chunks(
    answers: Iterable[Answer], completion_id: str, created: int
) -> Iterator[dict]:
    """``chat.completion.chunk`` objects as the answer grows: the text as deltas, then the
    Sources list with ``finish_reason: stop`` and the ``citations`` field."""
    yield _chunk(completion_id, created, {"role": "assistant", "content": ""})
    sent, final = "", None
    for answer in answers:
        final = answer
        if answer.text.startswith(sent) and len(answer.text) > len(sent):
            yield _chunk(completion_id, created, {"content": answer.text[len(sent) :]})
            sent = answer.text
    if final is None:
        return
    tail = sources_text(final.citations)
    if not final.text.startswith(sent):  # the answerer revised what it had streamed
        tail = "\n\n(revised) " + final.text + tail
    last = _chunk(completion_id, created, {"content": tail} if tail else {}, "stop")
    yield {**last, **_extras(final)}
