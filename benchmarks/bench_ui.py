"""Web app benchmark: cold start of `roleguide serve` (command to UI ready) and the HTTP
round trip of one question through the `/ask` API. Appends to docs/benchmarks.md."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from docs_section import write_section

SECTION = "## Web app"


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
            time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {limit} s")


def main() -> None:
    from gradio_client import Client

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ROLEGUIDE_HOME": tmp}
        subprocess.run(
            [sys.executable, "-m", "roleguide.cli", "ingest"],
            env=env,
            check=True,
            capture_output=True,
        )
        began = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "roleguide.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/")
            cold = time.perf_counter() - began
            page_began = time.perf_counter()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
            page_ms = (time.perf_counter() - page_began) * 1000
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            trips = []
            for question in ["Who handles customs compliance?", "What is logistics?"] * 10:
                t = time.perf_counter()
                client.predict(question, [], api_name="/ask")
                trips.append((time.perf_counter() - t) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
    lines = [
        SECTION,
        "",
        "| what | result |",
        "| --- | --- |",
        f"| `roleguide serve` cold start (command → page answers 200; model, index, warm-up) "
        f"| {cold:.1f} s |",
        f"| first page load after ready | {page_ms:.0f} ms |",
        f"| one question through the HTTP API (`gradio_client`, `/ask`), median of "
        f"{len(trips)} | {statistics.median(trips):.0f} ms |",
        "",
    ]
    write_section(SECTION, lines)


if __name__ == "__main__":
    main()
