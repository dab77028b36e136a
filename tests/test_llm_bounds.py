"""Issue 13, item 7: a language model cannot hold an answer open, flood it, or make a
follow-up wait twice. Real OpenAI-compatible servers on 127.0.0.1 (a drip-feeding one
and a hung one) and the real langchain-openai client."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from roleguide import RoleGuide
from roleguide.ask import llm as llm_module

QUESTION = "Who handles customs compliance?"


class Drip(BaseHTTPRequestHandler):
    """Streams a long reply one word every ``pause`` seconds; ``pause=None`` never answers."""

    pause: ClassVar[float | None] = 2.0
    bodies: ClassVar[list] = []
    closed_at: ClassVar[list] = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).bodies.append(body)
        if self.pause is None:
            time.sleep(60)  # hung: accepts the request, never replies
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for _ in range(45):
                chunk = {
                    "id": "c1",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "delta": {"content": "logistics "}}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.pause)
            self.wfile.write(b"data: [DONE]\n\n")
        except OSError:
            type(self).closed_at.append(time.monotonic())  # the client hung up


@pytest.fixture
def model_server(monkeypatch):
    Drip.bodies, Drip.closed_at = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ROLEGUIDE_LLM", "openai:drip")
    monkeypatch.setenv("ROLEGUIDE_LLM_BASE_URL", f"http://127.0.0.1:{server.server_port}/v1")
    monkeypatch.setenv("ROLEGUIDE_LLM_TIMEOUT", "5")
    yield server
    server.shutdown()


@pytest.mark.slow  # waits out the 5 s model timeout
def test_a_drip_feeding_model_is_cut_at_the_timeout(model_server, built_home, corpus_dir):
    Drip.pause = 2.0
    guide = RoleGuide(corpus_dir=corpus_dir, home=built_home)
    began = time.monotonic()
    answer = guide.ask(QUESTION)
    seconds = time.monotonic() - began
    print(f"drip model (a word every 2 s, 90 s in all), timeout 5 s: answered in {seconds:.1f} s")
    assert seconds < 9.5  # the drip alone would take 90 s; 9.5 leaves room for a loaded machine
    assert answer.answerer == "extractive" and answer.citations
    assert any("within 5 s" in note for note in answer.notes)
    assert Drip.bodies[-1]["max_completion_tokens"] == llm_module.MAX_TOKENS
    deadline = time.monotonic() + 10
    while not Drip.closed_at and time.monotonic() < deadline:
        time.sleep(0.2)
    assert Drip.closed_at, "the connection to the model was left open"


@pytest.mark.slow
def test_a_hung_model_costs_a_follow_up_the_timeout_once(model_server, built_home, corpus_dir):
    Drip.pause = None
    guide = RoleGuide(corpus_dir=corpus_dir, home=built_home)
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "The Logistics Manager."},
    ]
    began = time.monotonic()
    answer = guide.ask("And what degree do they usually have?", history)
    seconds = time.monotonic() - began
    print(f"hung model, follow-up, timeout 5 s: answered in {seconds:.1f} s")
    # Not 2 x 5 s: rewriting and answering share one budget. The margin is for a loaded
    # machine (7.9 s seen at load 16 on 2 cores); two budgets would take 10 s or more.
    assert seconds < 9.5
    assert answer.answerer == "extractive"


@pytest.mark.parametrize("cap", [4000, pytest.param(400_000, marks=pytest.mark.slow)])
def test_a_300_kb_run_on_reply_costs_linear_time(guide, built_home, corpus_dir, monkeypatch, cap):
    monkeypatch.setattr(llm_module, "MAX_REPLY_CHARS", cap, raising=False)
    run_on = "the logistics manager handles customs and " * 7200  # ~300 KB, no full stop
    model = GenericFakeChatModel(messages=iter([AIMessage(content=run_on + "[1].")]))
    llm_guide = RoleGuide(corpus_dir=corpus_dir, home=built_home, llm=model)
    began = time.process_time()
    answer = llm_guide.ask(QUESTION)
    cpu = time.process_time() - began
    print(f"300 KB run-on reply, cap {cap:,}: {cpu:.1f} s of CPU")
    assert cpu < 20
    assert answer.citations  # whatever was kept or fallen back to is cited
    if cap < len(run_on):
        assert any("cut at" in note for note in answer.notes) or answer.answerer == "extractive"
