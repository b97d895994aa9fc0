"""The web form's ASGI wrappers on their own: the body limit (declared and streamed) and the headers."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from starlette.responses import PlainTextResponse, Response

from functions.web.app import body_limit, security_headers


async def _echo(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await PlainTextResponse(f"got {len(body)}")(scope, receive, send)


def _run(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None) -> list[Any]:
    sent: list[Any] = []
    queue = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/form/plan", "headers": headers or [],
             "query_string": b""}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return sent


def _too_large() -> Response:
    return PlainTextResponse("too large", status_code=413)


def test_a_streamed_body_over_the_limit_is_refused_before_the_handler_runs() -> None:
    reached: list[bool] = []

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)
        await _echo(scope, receive, send)

    sent = _run(body_limit(handler, 100, _too_large), [b"x" * 60, b"x" * 60])
    assert sent[0]["status"] == 413 and not reached


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    sent = _run(body_limit(_echo, 100, _too_large), [b"x"], [(b"content-length", b"1000")])
    assert sent[0]["status"] == 413
    sent = _run(body_limit(_echo, 100, _too_large), [b"x"], [(b"content-length", b"-1")])
    assert sent[0]["status"] == 413


def test_a_body_within_the_limit_reaches_the_handler_whole() -> None:
    sent = _run(body_limit(_echo, 100, _too_large), [b"x" * 40, b"y" * 40])
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"got 80"


def test_every_response_gets_the_security_headers() -> None:
    sent = _run(security_headers(_echo), [b""])
    headers = dict(sent[0]["headers"])
    assert headers[b"content-security-policy"].startswith(b"default-src 'self'")
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert headers[b"referrer-policy"] == b"no-referrer"
    assert headers[b"cache-control"] == b"no-store"
