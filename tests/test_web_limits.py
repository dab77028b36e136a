"""Issue 13, item 8 (and the HTTP side of items 1 and 10): the real `roleguide serve` in
its own process under hostile clients — body floods, uploads, DNS-rebinding Host
headers, slow clients — and errors that always carry a message."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def served(built_home, corpus_dir, tmp_path_factory):
    port = free_port()
    env = {**os.environ, "ROLEGUIDE_HOME": str(built_home), "ROLEGUIDE_CORPUS": str(corpus_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "roleguide", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.5)
    yield proc, port
    proc.terminate()
    proc.wait(timeout=30)


def request(port, method, path, body=None, headers=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def flood(port: int, size: int, results: list) -> None:
    """POST a ``size``-byte JSON body, streamed in 1 MiB pieces (chunked)."""
    piece = b"x" * 2**20

    def body():
        yield b'{"data": ["'
        for _ in range(size // len(piece)):
            yield piece
        yield b'", []]}'

    try:
        results.append(
            request(
                port,
                "POST",
                "/gradio_api/call/ask",
                body=body(),
                headers={"Content-Type": "application/json"},
                timeout=120,
            )[0]
        )
    except OSError as e:  # the server may hang up once the cap is reached
        results.append(type(e).__name__)


def test_body_floods_are_refused_and_memory_stays_flat(served):
    proc, port = served
    before = peak_rss_mib(proc.pid)
    results: list = []
    threads = [threading.Thread(target=flood, args=(port, 200 * 2**20, results)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = peak_rss_mib(proc.pid)
    print(f"peak RSS before {before:.0f} MiB, after four 200 MB bodies {after:.0f} MiB: {results}")
    assert all(r == 413 or isinstance(r, str) for r in results), results
    assert after - before < 100
    one: list = []
    flood(port, 10 * 2**20, one)  # one body just over the cap: refused too
    assert one[0] in (413, "ConnectionResetError", "BrokenPipeError"), one


def test_uploads_come_from_the_apps_own_page_only(served):
    """On 127.0.0.1 the Articles tab takes uploads; another site's page may not post one."""
    _, port = served
    boundary = "rgboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{'x' * 1000}\r\n--{boundary}--\r\n"
    ).encode()

    def upload(origin: str) -> int:
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Origin": origin}
        return request(port, "POST", "/gradio_api/upload", body=body, headers=headers)[0]

    assert upload("http://evil.example") == 403
    assert upload(f"http://127.0.0.1:{port}") == 200


def test_unexpected_host_headers_are_rejected(served):
    _, port = served
    assert request(port, "GET", "/", headers={"Host": f"127.0.0.1:{port}"})[0] == 200
    assert request(port, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    assert request(port, "GET", "/", headers={"Host": f"rebind.evil.example:{port}"})[0] == 421
    status, _ = request(
        port,
        "POST",
        "/gradio_api/call/ask",
        body=json.dumps({"data": ["Who?", []]}),
        headers={"Host": "rebind.evil.example", "Content-Type": "application/json"},
    )
    assert status == 421


def test_slow_clients_are_closed(served):
    _, port = served
    sockets = []
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        sockets.append(s)
    time.sleep(14)
    closed = 0
    for s in sockets:
        s.settimeout(2)
        try:
            closed += s.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except TimeoutError:
            pass
        s.close()
    print(f"slow clients closed by the server after 14 s: {closed}/100")
    assert closed == 100
    assert request(port, "GET", "/")[0] == 200  # the app still serves others


def test_ask_over_http_with_one_argument_or_a_bad_one_gets_a_message(served):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    _, port = served
    client = Client(f"http://127.0.0.1:{port}/", verbose=False)
    answer = client.predict("Who handles customs compliance?", api_name="/ask")
    assert answer["citations"]
    with pytest.raises(AppError, match="the question is empty"):
        client.predict("", [], api_name="/ask")


def test_raw_http_ask_with_one_value_gets_a_message_not_null(served):
    _, port = served
    status, data = request(
        port,
        "POST",
        "/gradio_api/call/ask",
        body=json.dumps({"data": ["Who buys?"]}),
        headers={"Content-Type": "application/json"},
    )
    assert status == 200
    event = json.loads(data)["event_id"]
    _, stream = request(port, "GET", f"/gradio_api/call/ask/{event}")
    payload = json.loads(stream.decode().split("data: ", 1)[1].splitlines()[0])
    assert payload["error"] and "needed: 2, got: 1" in payload["error"]
