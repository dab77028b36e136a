"""The HTTP API and the OpenAI-compatible chat, over real HTTP against `roleguide serve`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.web

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Who handles customs compliance?"
HI = [{"role": "user", "content": "hi"}]
ONLY_ASSISTANT = [{"role": "assistant", "content": "hi"}]
NULL_TEXT = [{"role": "user", "content": [{"type": "text", "text": None}]}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built_home, corpus_dir):
    """`roleguide serve` as a user starts it; yields its base URL, stops it with Ctrl-C."""
    port = _free_port()
    command = [sys.executable, "-m", "roleguide", "serve", "--port", str(port)]
    command += ["--home", str(built_home), "--corpus", str(corpus_dir)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the server did not answer within 180 s"
        time.sleep(0.25)
    yield url
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert "Traceback" not in stderr, stderr[-3000:]


def test_ask_returns_the_answer_json_and_follows_up(server):
    answer = httpx.post(server + "/api/ask", json={"question": QUESTION}, timeout=30).json()
    assert answer["lead_role"] == "Logistics Manager"
    assert answer["citations"][0]["quote"] in answer["text"]
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": answer["text"]},
    ]
    follow = httpx.post(
        server + "/api/ask",
        json={"question": "And what degree do they usually have?", "history": history},
        timeout=30,
    ).json()
    assert "Logistics Manager" in follow["query"]


def test_roles_compare_health_and_docs(server):
    roles = httpx.get(server + "/api/roles", timeout=30).json()
    names = [r["name"] for r in roles]
    assert len(names) >= 2
    table = httpx.post(
        server + "/api/compare", json={"first": names[0], "second": names[1]}, timeout=30
    ).json()
    assert table["roles"] == [names[0], names[1]] and table["rows"]
    health = httpx.get(server + "/api/health", timeout=10).json()
    assert health["status"] == "ok" and health["chunks"] > 0
    assert health["query_model"] == "onnxruntime"
    spec = httpx.get(server + "/api/openapi.json", timeout=10).json()
    assert {"/api/ask", "/api/roles", "/api/compare", "/v1/chat/completions"} <= set(spec["paths"])
    assert "swagger" in httpx.get(server + "/api/docs", timeout=10).text.lower()


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        ("/api/ask", {"question": ""}, 400, "empty"),
        ("/api/ask", {"question": "x" * 2001}, 400, "2,000"),
        ("/api/ask", {"question": 3}, 400, "question"),
        ("/api/ask", {}, 400, "question"),
        ("/api/ask", {"question": "hi", "history": "nope"}, 400, "history"),
        ("/api/ask", b"{not json", 400, "json"),
        ("/api/compare", {"first": "Astronaut", "second": "Logistics Manager"}, 400, "Astronaut"),
        ("/v1/chat/completions", {"model": "gpt-4", "messages": HI}, 404, "roleguide"),
        ("/v1/chat/completions", {"model": "roleguide", "messages": []}, 400, "messages"),
        ("/v1/chat/completions", {"model": "roleguide", "messages": ONLY_ASSISTANT}, 400, "last"),
        ("/v1/chat/completions", {"model": "roleguide", "messages": NULL_TEXT}, 400, "text"),
    ],
)  # fmt: skip
def test_bad_requests_get_a_4xx_with_the_reason(server, path, body, status, reason):
    if isinstance(body, bytes):
        reply = httpx.post(
            server + path, content=body, headers={"content-type": "application/json"}
        )
    else:
        reply = httpx.post(server + path, json=body, timeout=30)
    assert reply.status_code == status, reply.text
    payload = reply.json()
    message = payload["error"]["message"] if path.startswith("/v1/") else payload["detail"]
    assert isinstance(message, str) and reason.lower() in message.lower()
    assert "Traceback" not in reply.text and "\n" not in message


def test_oversized_bodies_are_refused(server):
    """Over the web app's cap (ROLEGUIDE_MAX_REQUEST_BYTES, 8 MiB): 413, said as JSON."""
    reply = httpx.post(server + "/api/ask", content=b"x" * (8 * 2**20 + 1), timeout=30)
    assert reply.status_code == 413 and "bytes" in reply.json()["detail"]


def test_a_million_character_question_gets_the_length_message(server):
    """Under the body cap, the question's own limit speaks (as in the web app)."""
    reply = httpx.post(server + "/api/ask", json={"question": "x" * 1_000_000}, timeout=30)
    assert reply.status_code == 400 and "2,000" in reply.json()["detail"]


def test_openai_client_chat_completion_with_citations(server):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["roleguide"]
    completion = client.chat.completions.create(
        model="roleguide",
        messages=[
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": QUESTION},
        ],
    )
    content = completion.choices[0].message.content
    assert "[1]" in content and "\n\nSources:\n[1] " in content
    citations = completion.model_extra["citations"]
    assert citations[0]["quote"] in content and citations[0]["number"] == 1
    assert completion.choices[0].finish_reason == "stop"
    # the follow-up carries the conversation, the Sources block included, as chat UIs send it
    follow = client.chat.completions.create(
        model="roleguide",
        messages=[
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": content},
            {"role": "user", "content": "And what degree do they usually have?"},
        ],
    )
    assert follow.model_extra["citations"]


def test_openai_client_streams_the_same_reply(server):
    from openai import OpenAI

    client = OpenAI(base_url=server + "/v1", api_key="unused")
    whole = client.chat.completions.create(
        model="roleguide", messages=[{"role": "user", "content": QUESTION}]
    )
    stream = client.chat.completions.create(
        model="roleguide", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]


def test_streaming_over_raw_http_is_server_sent_events(server):
    body = {"model": "roleguide", "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.stream(
        "POST", server + "/v1/chat/completions", json={**body, "stream": True}, timeout=30
    ) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in reply.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    bad = httpx.post(
        server + "/v1/chat/completions",
        json={**body, "stream": True, "messages": [{"role": "user", "content": " "}]},
    )
    assert bad.status_code == 400 and "empty" in bad.json()["error"]["message"]


def test_the_api_binds_loopback_only(server, listening_addresses):
    """The listening socket of the server (web app and API alike) is 127.0.0.1's."""
    assert listening_addresses(int(server.rsplit(":", 1)[1])) == ["127.0.0.1"]
