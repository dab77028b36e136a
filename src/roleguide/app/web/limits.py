"""Limits of the web app's HTTP server: request bodies, uploads, ``Host`` headers and
slow clients. Gradio runs on FastAPI/uvicorn, which bound none of these by default.

- bodies over ``max_bytes`` get 413 (by ``Content-Length`` or while streaming in);
- ``/gradio_api/upload`` is refused while the app has no upload component, and from
  another site's page (an ``Origin`` other than the app's own) when it has one;
- on a loopback bind, a ``Host`` other than 127.0.0.1/localhost/::1 gets 421 (DNS
  rebinding: a web page whose name resolves to 127.0.0.1 cannot talk to the app);
- a connection that has not sent a whole request within ``SLOW_CLIENT_SECONDS`` is
  closed (slowloris), by a watchdog over uvicorn's open connections.
"""

from __future__ import annotations

import json
import threading
import time
from ipaddress import ip_address

__all__ = ["SLOW_CLIENT_SECONDS", "RequestLimits", "is_loopback", "reap_slow_clients"]

SLOW_CLIENT_SECONDS = 10.0
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.1, ::1 and localhost: the app is for this machine only."""
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _same_origin(headers: dict[bytes, bytes]) -> bool:
    """True unless the browser says the request comes from another site's page: its
    ``Origin`` names a host and port other than the ``Host`` it was sent to."""
    origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
    if not origin:
        return True  # not sent by a browser page (a script, curl): no cross-site risk
    netloc = origin.split("://", 1)[-1].rstrip("/")
    return netloc == headers.get(b"host", b"").decode("latin-1").strip().lower()


class RequestLimits:
    """ASGI middleware: body cap, upload policy, ``Host`` check (see module docstring)."""

    def __init__(self, app, *, max_bytes: int, uploads: bool, loopback_only: bool) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.loopback_only = loopback_only

    async def _refuse(self, send, status: int, message: str) -> None:
        body = json.dumps({"detail": message}).encode()  # what the HTTP API's clients read
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.loopback_only:
            host = _host_name(headers.get(b"host", b"").decode("latin-1"))
            if host and host not in _LOOPBACK_NAMES and not is_loopback(host):
                if scope["type"] == "websocket":
                    return await send({"type": "websocket.close", "code": 1008})
                return await self._refuse(send, 421, "unexpected Host header")
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].rstrip("/").endswith("/upload"):
            if not self.uploads:
                return await self._refuse(send, 403, "this app takes no file uploads")
            if not _same_origin(headers):  # a form on another site posting to this app
                return await self._refuse(send, 403, "uploads are taken from this app's page only")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send, 413, f"request body over {self.max_bytes} bytes")
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        # Read the body here, at most max_bytes of it (chunked bodies declare no size),
        # then hand it on: a flood costs the cap, not the flood.
        pieces, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._refuse(send, 413, f"request body over {self.max_bytes} bytes")
            pieces.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(pieces)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def reap_slow_clients(server, seconds: float = SLOW_CLIENT_SECONDS) -> threading.Thread:
    """Close connections of ``server`` (a running ``uvicorn.Server``) that have not
    completed a request's headers and body within ``seconds``."""

    def watch() -> None:
        seen: dict[int, tuple[object, float]] = {}
        while not getattr(server, "should_exit", False):
            now = time.monotonic()
            try:
                connections = list(server.server_state.connections)
            except RuntimeError:  # the set changed under us: look again
                time.sleep(0.1)
                continue
            alive = set()
            for conn in connections:
                if not hasattr(conn, "cycle"):  # not an HTTP/1 connection (websocket)
                    continue
                alive.add(id(conn))
                cycle = conn.cycle
                waiting = (
                    cycle is None
                    or cycle.response_complete
                    or (cycle.more_body and not cycle.response_started)
                )
                key = id(cycle)
                state, since = seen.get(id(conn), (None, now))
                if state != key:
                    since = now
                seen[id(conn)] = (key, since)
                if waiting and now - since > seconds and conn.transport is not None:
                    conn.loop.call_soon_threadsafe(conn.transport.close)
            for gone in set(seen) - alive:
                del seen[gone]
            time.sleep(1.0)

    thread = threading.Thread(target=watch, daemon=True, name="roleguide-slow-clients")
    thread.start()
    return thread
