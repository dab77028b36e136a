"""Chroma server mode, for real: `chroma run` on a loopback port, several roleguide
processes sharing it, one ingesting while another asks."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from roleguide import RoleGuide

pytestmark = pytest.mark.server
QUESTIONS = [
    "Who handles customs compliance?",
    "What degree do logistics managers have?",
    "Who negotiates contracts with suppliers?",
    "How do I bake sourdough bread?",
    "What is logistics?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    """A real `chroma run` on a free loopback port, answering its heartbeat; (process, URL)."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2):
                return server, url
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("`chroma run` did not start")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    server, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    server.terminate()
    server.wait(timeout=30)


def summary(answer) -> tuple:
    return answer.text, answer.abstained, [(c.source, c.start, c.end) for c in answer.citations]


def test_server_mode_gives_the_same_answers_as_embedded(
    chroma_url, guide, corpus_dir, tmp_path, corpus_chunk_count
):
    served = RoleGuide(corpus_dir=corpus_dir, home=tmp_path / "a", chroma_url=chroma_url)
    assert served.last_ingest.added == corpus_chunk_count
    for q in QUESTIONS:
        assert summary(served.ask(q)) == summary(guide.ask(q))
    # A replica with its own (empty) data directory and no corpus folder: it reads the
    # manifest from the server and rebuilds its BM25 cache from the server's chunks.
    replica = RoleGuide(
        corpus_dir=tmp_path / "no-corpus-here", home=tmp_path / "b", chroma_url=chroma_url
    )
    assert replica.last_ingest is None
    for q in QUESTIONS:
        assert summary(replica.ask(q)) == summary(guide.ask(q))


def test_incremental_reingest_on_the_server(
    chroma_url, corpus_copy, tmp_path, monkeypatch, corpus_chunk_count
):
    monkeypatch.setenv("ROLEGUIDE_COLLECTION", "incremental")
    guide = RoleGuide(corpus_dir=corpus_copy, home=tmp_path / "h", chroma_url=chroma_url)
    assert guide.last_ingest.added == corpus_chunk_count
    again = guide.ingest()
    assert (again.added, again.removed, again.sentences_embedded) == (0, 0, 0)
    path = corpus_copy / "operations-manager-vs-procurement-manager.md"
    path.write_text(path.read_text("utf-8").replace("contract law", "commercial law"), "utf-8")
    edited = guide.ingest()
    assert (edited.added, edited.removed) == (1, 1)
    assert "commercial law" in guide.ask("What skills does a procurement manager need?").text


ASKER = """
import json, sys, time
from roleguide import RoleGuide
url, home, corpus, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
guide = RoleGuide(corpus_dir=corpus, home=home, chroma_url=url, auto_ingest=False)
guide.ask("Who handles customs compliance?")  # models load on first use: ready means warm
print(json.dumps({"ready": True}), flush=True)
answers, errors, end = [], [], time.monotonic() + seconds
while True:
    for q in ["Who handles customs compliance?", "Who negotiates contracts with suppliers?"]:
        try:
            answers.append(guide.ask(q).lead_role)
        except Exception as e:
            errors.append(repr(e))
    if time.monotonic() > end:
        break
print(json.dumps({"answers": answers, "errors": errors}), flush=True)
"""


def start_asker(url: str, home: Path, corpus: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", ASKER, url, str(home), str(corpus), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert json.loads(process.stdout.readline())["ready"], process.stderr.read()
    return process


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_processes_share_the_server_while_one_ingests(chroma_url, corpus_copy, tmp_path):
    import os

    os.environ["ROLEGUIDE_COLLECTION"] = "shared"
    try:
        writer = RoleGuide(corpus_dir=corpus_copy, home=tmp_path / "w", chroma_url=chroma_url)
        askers = [start_asker(chroma_url, tmp_path / f"r{i}", corpus_copy, 8) for i in range(2)]
        shutil.copy(corpus_copy / "operations-vs-logistics-guide.md", corpus_copy / "guide-copy.md")
        extra = corpus_copy / "warehouse.md"
        extra.write_text(
            "---\ntitle: Warehouse notes\nroles: [Warehouse Manager]\n---\nWarehouse Managers "
            "run the loading docks and keep stock counts accurate across every shift.\n",
            encoding="utf-8",
        )
        report = writer.ingest()  # while both askers keep asking
        results = [finish(a) for a in askers]
    finally:
        del os.environ["ROLEGUIDE_COLLECTION"]
    assert (report.added, report.removed) == (1, 0)  # the copied article adds nothing
    for result in results:
        assert result["errors"] == []
        assert len(result["answers"]) >= 4
        assert set(result["answers"]) == {"Logistics Manager", "Procurement Manager"}
    assert len(writer.index.chunk_ids()) == 50


@pytest.mark.server
def test_a_chroma_server_that_stops_is_named_in_one_line(corpus_dir, tmp_path):
    """Issue 13, item 10: the server stops under a running guide (it was a raw
    httpx.ConnectError, shown as a null error on the web)."""
    from roleguide.errors import StoreUnavailableError

    server, url = start_chroma(tmp_path / "chroma")
    try:
        guide = RoleGuide(corpus_dir=corpus_dir, home=tmp_path / "home", chroma_url=url)
        assert guide.ask("Who handles customs compliance?").citations
    finally:
        server.terminate()
        server.wait(timeout=30)
    with pytest.raises(StoreUnavailableError, match="Chroma server") as raised:
        guide.ask("What degree do logistics managers have?")
    assert "\n" not in str(raised.value) and "chroma run" in str(raised.value)
