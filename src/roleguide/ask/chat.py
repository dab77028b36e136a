"""Talking to a chat model: loading one by name, and calls and streams that give up at a
deadline (a hung model is left behind in its thread, never waited for).

Used by the LLM answerer (``llm``) and by the follow-up rewriter (``understand``).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from roleguide.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from roleguide.config import Settings

__all__ = [
    "MAX_REPLY_CHARS",
    "MAX_TOKENS",
    "call_within",
    "chat_model",
    "load_chat_model",
    "stream_reply",
]

MAX_TOKENS = 400
"""Asked of the model: a short answer is one to four sentences."""
MAX_REPLY_CHARS = 4000
"""Read at most this much of a reply (a model that ignores ``max_tokens`` is cut here)."""

log = logging.getLogger("roleguide")
T = TypeVar("T")


def load_chat_model(spec: str, base_url: str | None = None, timeout: float = 20.0) -> BaseChatModel:
    """A LangChain chat model for ``openai:<model>`` or ``ollama:<model>``."""
    provider, _, model = spec.partition(":")
    if not model:
        raise ConfigError(
            f"ROLEGUIDE_LLM must look like 'openai:<model>' or 'ollama:<model>', got {spec!r}"
        )
    try:
        if provider == "openai":
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(
                model=model,
                base_url=base_url,
                api_key=os.environ.get("OPENAI_API_KEY") or "not-needed",  # pyright: ignore[reportArgumentType]
                timeout=timeout,
                max_retries=0,
                temperature=0,
                max_tokens=MAX_TOKENS,  # pyright: ignore[reportCallIssue] (its alias)
            )
        if provider == "ollama":
            from langchain_ollama import ChatOllama  # pyright: ignore[reportMissingImports]

            return ChatOllama(
                model=model,
                base_url=base_url,
                temperature=0,
                num_predict=MAX_TOKENS,
                client_kwargs={"timeout": timeout},
            )
    except ImportError as e:
        raise ConfigError(
            f"the {provider} backend is not installed: pip install 'roleguide[llm]'"
        ) from e
    raise ConfigError(
        f"unknown LLM provider {provider!r}: use 'openai:<model>' or 'ollama:<model>'"
    )


def chat_model(llm: str | BaseChatModel | None, settings: Settings) -> BaseChatModel | None:
    """The chat model to use: ``llm`` when it is one, else the one ``settings.llm`` names
    (``llm`` as a string is already in the settings); None when there is none."""
    model = None if isinstance(llm, str) else llm
    if model is None and settings.llm:
        model = load_chat_model(settings.llm, settings.llm_base_url or None, settings.llm_timeout)
    return model


def call_within(
    seconds: float, call: Callable[[], T], what: str = "the language model call"
) -> T | None:
    """``call()`` in a daemon thread; its result, or None (with a warning that says why)
    when it takes longer than ``seconds`` (a hung model is left behind, not waited for) or
    fails. Every exception is caught: each provider raises its own (httpx, openai, ollama
    errors, a malformed reply), and the caller always has an answer without the model."""
    box: list[T] = []

    def run() -> None:
        try:
            box.append(call())
        except Exception as e:
            log.warning("%s failed (%s: %s); going on without it", what, type(e).__name__, e)

    worker = threading.Thread(target=run, daemon=True, name="roleguide-llm-call")
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        log.warning("%s took longer than %.1f s; going on without it", what, seconds)
    return box[0] if box else None


def stream_reply(model, messages, deadline: float, timeout: float) -> Iterator[str]:
    """The reply's text pieces as they come; ``TimeoutError`` at ``deadline`` however
    slowly the model drips (it streams in a thread that stops at the next piece)."""
    pieces: queue.Queue = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for chunk in model.stream(messages):
                if stop.is_set():
                    return
                pieces.put(("text", str(chunk.content)))
            pieces.put(("end", None))
        except Exception as e:
            pieces.put(("error", e))

    threading.Thread(target=pump, daemon=True, name="roleguide-llm-stream").start()
    try:
        while True:
            try:
                kind, value = pieces.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no complete reply within {timeout:g} s") from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
