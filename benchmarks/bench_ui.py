"""Web app benchmark: cold start of `roleguide serve` (command to page ready), with the ONNX
question model and, in the same run, without it (the sentence-transformers path); then one
question over HTTP: the plain API (`POST /api/ask`), the OpenAI-compatible
`/v1/chat/completions`, Gradio's `/ask` through `gradio_client`, and in-process `ask` on
the same index, side by side. Writes the Web app section of docs/benchmarks.md and rows of
its Targets section. Runs alone: `python benchmarks/bench_ui.py`.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from docs_section import ROOT, record_targets, write_section

SECTION = "## Web app"
QUESTIONS = ["Who handles customs compliance?", "What is logistics?"] * 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, limit: float = 180.0) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - began
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {limit} s")


def start(home: Path) -> tuple[subprocess.Popen, str, float]:
    """`roleguide serve` on ``home``; returns the process, its URL and the seconds until the
    page answered 200 (model, index, warm-up, app)."""
    port = free_port()
    env = {**os.environ, "ROLEGUIDE_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "roleguide", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/")
    return server, url, time.perf_counter() - began


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def served_rss(server: subprocess.Popen, url: str) -> float:
    """The server's resident memory after answering the benchmark questions over HTTP."""
    import httpx

    with httpx.Client(base_url=url, timeout=60) as http:
        for question in QUESTIONS:
            http.post("/api/ask", json={"question": question}).raise_for_status()
    return rss_mib(server.pid)


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def trips(call) -> list[float]:
    call(QUESTIONS[0])  # connection and caches warm
    out = []
    for question in QUESTIONS:
        began = time.perf_counter()
        call(question)
        out.append((time.perf_counter() - began) * 1000)
    return out


def main() -> None:
    import httpx
    from gradio_client import Client

    from roleguide import RoleGuide
    from roleguide.store.onnx_query import EXPORT_DIR

    with tempfile.TemporaryDirectory() as tmp:
        home, old_home = Path(tmp) / "home", Path(tmp) / "home-without-export"
        env = {**os.environ, "ROLEGUIDE_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
        subprocess.run(
            [sys.executable, "-m", "roleguide", "ingest"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        shutil.copytree(home, old_home, ignore=shutil.ignore_patterns(EXPORT_DIR))
        server, old_url, cold_old = start(old_home)
        try:
            rss_old = served_rss(server, old_url)
        finally:
            stop(server)
        server, url, cold = start(home)
        try:
            rss = served_rss(server, url)
            page_began = time.perf_counter()
            urllib.request.urlopen(url + "/", timeout=10).read()
            page_ms = (time.perf_counter() - page_began) * 1000
            with httpx.Client(base_url=url, timeout=30) as http:

                def plain(q: str) -> None:
                    http.post("/api/ask", json={"question": q}).raise_for_status()

                def openai(q: str) -> None:
                    body = {"model": "roleguide", "messages": [{"role": "user", "content": q}]}
                    http.post("/v1/chat/completions", json=body).raise_for_status()

                api, chat = trips(plain), trips(openai)
            client = Client(url + "/", verbose=False)
            gradio = trips(lambda q: client.predict(q, [], api_name="/ask"))
            guide = RoleGuide(corpus_dir=ROOT / "corpus", home=home)
            local = trips(guide.ask)  # same index, same questions, in this process
        finally:
            stop(server)
    med = statistics.median
    lines = [
        SECTION,
        "",
        "| what | result |",
        "| --- | --- |",
        f"| `roleguide serve` cold start (command → page answers 200; index, question "
        f"model, warm-up, app) | {cold:.1f} s (without the ONNX export, the "
        f"sentence-transformers path: {cold_old:.1f} s, same run) |",
        f"| first page load after ready | {page_ms:.0f} ms |",
        f"| serve RSS after {len(QUESTIONS)} questions, bundled corpus | {rss:.0f} MiB "
        f"(sentence-transformers path: {rss_old:.0f} MiB, same run) |",
        f"| one question, in-process `ask` on the same index, median of {len(local)} "
        f"| {med(local):.1f} ms |",
        f"| one question, `POST /api/ask` (httpx, keep-alive), median of {len(api)} "
        f"| {med(api):.1f} ms |",
        f"| one question, `POST /v1/chat/completions` (not streamed), median of {len(chat)} "
        f"| {med(chat):.1f} ms |",
        f"| one question through Gradio's `/ask` (`gradio_client`), median of {len(gradio)} "
        f"| {med(gradio):.0f} ms |",
        "",
    ]
    write_section(SECTION, lines)
    record_targets(
        {"serve_ready_s": cold, "http_over_inprocess_ms": med(api) - med(local)},
        note=(
            f"bench_ui; same run: serve without the export {cold_old:.1f} s; /api/ask "
            f"{med(api):.1f} ms vs in-process {med(local):.1f} ms; gradio_client "
            f"{med(gradio):.0f} ms"
        ),
    )


if __name__ == "__main__":
    main()
