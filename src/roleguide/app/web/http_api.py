"""A plain HTTP API on the web app's own server: JSON routes and an OpenAI-compatible chat.

Gradio runs on FastAPI; ``mount`` adds these routes to that same app (no second server):

- ``POST /api/ask`` (question, history → ``Answer``), ``GET /api/roles``,
  ``POST /api/compare``, ``GET /api/health``; docs at ``/api/docs`` (``/api/openapi.json``).
- ``POST /v1/chat/completions`` (``model: "roleguide"``, streamed or not) and
  ``GET /v1/models``, so the ``openai`` client and chat front-ends can use roleguide.

Questions go through the same ``RoleGuide`` as the web app, with its limits and messages;
a bad request gets a 4xx with the reason, never a traceback.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from roleguide import __version__
from roleguide.api import RoleGuide
from roleguide.app.web.openai_compat import (
    MODEL_ID,
    chat_completion,
    completion_chunks,
    messages_to_question,
    model_list,
)
from roleguide.ask.conversation import Message as Turn
from roleguide.errors import ArticleError, InvalidQuestionError, RoleGuideError
from roleguide.models import Answer, Comparison, RoleInfo

__all__ = ["mount"]

log = logging.getLogger("roleguide.http")
# Waiting requests hold one of FastAPI's 40 worker threads each: keep some free for
# /api/health and /api/roles, which take no slot.
MAX_WAITING = 32
SLOT_WAIT_SECONDS = 60.0


class ApiError(Exception):
    """A refusal with an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for item in error.errors()[:3]:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def _error_body(path: str, status: int, message: str, kind: str) -> dict:
    if path.startswith("/v1/"):  # the shape OpenAI clients read
        return {"error": {"message": message, "type": kind, "param": None, "code": status}}
    return {"detail": message}


class _Route(APIRoute):
    """Every refusal of these routes as ``{"detail": reason}`` (or OpenAI's error shape under
    /v1), never a traceback; Gradio's own routes keep their handlers."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def guarded(request: Request):
            path = request.url.path
            try:
                size = int(request.headers.get("content-length") or 0)
                limit = request.app.state.roleguide_max_body
                if size > limit:
                    raise ApiError(413, f"the request body is over {limit:,} bytes")
                return await handler(request)
            except ApiError as e:
                return JSONResponse(_error_body(path, e.status, e.message, e.kind), e.status)
            except RequestValidationError as e:
                message = _validation_message(e)
                return JSONResponse(_error_body(path, 400, message, "invalid_request_error"), 400)
            except (InvalidQuestionError, ArticleError) as e:  # the request: fix and resend
                return JSONResponse(_error_body(path, 400, str(e), "invalid_request_error"), 400)
            except RoleGuideError as e:  # the server's index or store: retry later
                return JSONResponse(_error_body(path, 503, str(e), "server_error"), 503)
            except Exception:
                log.exception("HTTP API error on %s", path)
                message = "roleguide failed to answer; the server log has the details"
                return JSONResponse(_error_body(path, 500, message, "server_error"), 500)

        return guarded


class _Gate:
    """At most ``concurrency`` answers at once and ``queue`` waiting, as in the web app."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._room = threading.BoundedSemaphore(concurrency + min(queue, MAX_WAITING))

    def __enter__(self):
        if not self._room.acquire(blocking=False):
            raise ApiError(503, "roleguide is busy; retry in a moment", "server_error")
        if not self._slots.acquire(timeout=SLOT_WAIT_SECONDS):
            self._room.release()
            raise ApiError(503, "roleguide is busy; retry in a moment", "server_error")
        return self

    def __exit__(self, *exc) -> None:
        self._slots.release()
        self._room.release()


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="the question (at most the server's question limit)")
    history: list[Message] = Field(
        default_factory=list, description="the conversation so far, for follow-ups"
    )


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: str = Field(description="a role name or alias")
    second: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    chunks: int
    built: str | None
    query_model: str = Field(
        description="what embeds questions: onnxruntime or sentence-transformers"
    )


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The OpenAI chat request; sampling parameters are accepted and ignored (extractive)."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


def _router(guide: RoleGuide, gate: _Gate) -> APIRouter:
    router = APIRouter(route_class=_Route)

    @router.post("/api/ask", response_model=Answer, tags=["roleguide"])
    def ask(body: AskRequest) -> dict:
        """Answer a question; every sentence is a quote with an [n] citation."""
        with gate:
            history = [Turn(role=m.role, content=m.content) for m in body.history]
            answer = guide.ask(body.question, history)
        return answer.model_dump(mode="json")

    @router.get("/api/roles", response_model=list[RoleInfo], tags=["roleguide"])
    def roles() -> list[dict]:
        """The roles the articles cover, with aliases and passage counts."""
        return [r.model_dump(mode="json") for r in guide.roles()]

    @router.post("/api/compare", response_model=Comparison, tags=["roleguide"])
    def compare(body: CompareRequest) -> dict:
        """Two roles side by side, one row per facet, each cell a cited quote."""
        with gate:
            return guide.compare(body.first, body.second).model_dump(mode="json")

    @router.get("/api/health", response_model=Health, tags=["roleguide"])
    def health() -> dict:
        """Whether the server is up, and what it serves."""
        backend = getattr(guide.index.embeddings, "query_backend", "langchain")
        manifest = guide.manifest
        return Health(
            version=__version__,
            chunks=manifest.chunks if manifest else 0,
            built=manifest.built if manifest else None,
            query_model=backend,
        ).model_dump()

    @router.get("/v1/models", tags=["openai"])
    def models() -> dict:
        """The one model this server offers: ``roleguide``."""
        return model_list()

    @router.post("/v1/chat/completions", tags=["openai"])
    def chat(body: ChatRequest):
        """OpenAI-compatible chat: the last user message is the question, earlier turns the
        history. The reply text carries [n] markers and a Sources list; the structured
        citations are in the ``citations`` field (of the last chunk when streamed)."""
        if body.model != MODEL_ID:
            raise ApiError(
                404, f"model {body.model!r} does not exist; use {MODEL_ID!r}", "not_found_error"
            )
        question, history = messages_to_question([m.model_dump() for m in body.messages])
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if not body.stream:
            with gate:
                answer = guide.ask(question, history)
            return chat_completion(answer, completion_id, created)
        gate.__enter__()
        release = _once(gate.__exit__)
        try:
            answers = guide.ask_stream(question, history)
            first = next(answers)  # a bad question is refused before the stream starts
        except BaseException:
            release()
            raise

        def events() -> Iterator[str]:
            try:
                chunks = completion_chunks(_chain(first, answers), completion_id, created)
                for chunk in chunks:
                    yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                release()

        # A client gone before the stream starts never runs events()' finally: the
        # background task releases the slot then (once, whichever comes first).
        return StreamingResponse(
            events(), media_type="text/event-stream", background=BackgroundTask(release)
        )

    return router


def _once(action: Callable[[], Any]) -> Callable[[], None]:
    """``action`` made safe to call from several places: it runs the first time only."""
    lock, done = threading.Lock(), []

    def run() -> None:
        with lock:
            if done:
                return
            done.append(True)
        action()

    return run


def _chain(first: Answer, rest: Iterator[Answer]) -> Iterator[Answer]:
    yield first
    yield from rest


def mount(app: FastAPI, guide: RoleGuide, *, concurrency: int = 4, queue: int = 64) -> None:
    """Add the HTTP API to ``app`` (the Gradio app's FastAPI), with its own OpenAPI docs.
    Bodies are capped like the web app's (``ROLEGUIDE_MAX_REQUEST_BYTES``)."""
    app.state.roleguide_max_body = guide.settings.max_request_bytes
    router = _router(guide, _Gate(concurrency, queue))
    app.include_router(router)
    schema: dict = {}

    def openapi_json() -> JSONResponse:
        if not schema:
            schema.update(
                get_openapi(
                    title="roleguide HTTP API",
                    version=__version__,
                    description=__doc__ or "",
                    routes=router.routes,
                )
            )
        return JSONResponse(schema)

    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="roleguide HTTP API")

    app.add_api_route("/api/openapi.json", openapi_json, include_in_schema=False)
    app.add_api_route("/api/docs", docs, include_in_schema=False)
