"""A loopback stand-in for S3's presigned POST, for the real-browser test of static/direct_upload.js: an
UploadTarget whose URL is an HTTP server on 127.0.0.1 (another origin than the app's, so the page's CSP
and the bucket's CORS are exercised as in the cloud).

The server takes a multipart POST as S3 does (the fields, then the file part last), refuses one whose
key or size the signed "policy" does not allow (403), answers 204 with CORS headers for the page's origin,
and answers the browser's CORS preflight. No AWS code runs: the S3 adapter itself is tested on moto.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from functions.ports import PresignedPost, TakenUpload
from functions.serve.web_server import WebFormServer


@dataclass
class LoopbackUploads:
    url: str = ""
    objects: dict[str, bytes] = field(default_factory=dict)
    policies: dict[str, tuple[str, int]] = field(default_factory=dict)  # token -> (key, max bytes)
    posts: list[int] = field(default_factory=list)  # the status of every POST the browser made
    delay_s: float = 0.0  # how long each POST takes to answer (a phone on a slow network)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def presign(self, key_prefix: str, max_bytes: int, content_type: str | None = None) -> PresignedPost:
        key = key_prefix + secrets.token_urlsafe(16)
        token = secrets.token_urlsafe(16)
        with self._lock:
            self.policies[token] = (key, max_bytes)
        fields = {"key": key, "policy": token, "Content-Type": content_type or "application/octet-stream"}
        return PresignedPost(url=self.url, fields=fields, key=key)

    def take(self, key: str, *, max_bytes: int) -> TakenUpload | None:
        with self._lock:
            data = self.objects.pop(key, None)
        if data is None:
            return None
        return TakenUpload(size=len(data), data=data if len(data) <= max_bytes else None)

    def asgi(self) -> Starlette:
        def cors(request: Request) -> dict[str, str]:
            return {
                "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "content-type",
            }

        async def preflight(request: Request) -> Response:
            return Response(status_code=200, headers=cors(request))

        async def post(request: Request) -> Response:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            form = await request.form()
            token, key, upload = str(form.get("policy", "")), str(form.get("key", "")), form.get("file")
            data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
            with self._lock:
                allowed = self.policies.get(token)
                ok = allowed is not None and allowed[0] == key and 1 <= len(data) <= allowed[1]
                if ok:
                    self.objects[key] = data
                self.posts.append(204 if ok else 403)
            return Response(status_code=204 if ok else 403, headers=cors(request))

        return Starlette(
            routes=[Route("/", preflight, methods=["OPTIONS"]), Route("/", post, methods=["POST"])]
        )


@contextmanager
def loopback_uploads() -> Iterator[LoopbackUploads]:
    """The target with its server running on 127.0.0.1 (a free port); stopped after."""
    target = LoopbackUploads()
    server = WebFormServer(host="127.0.0.1", port=0)
    host, port = server.address
    target.url = f"http://{host}:{port}/"
    server.start(target.asgi())
    try:
        yield target
    finally:
        server.stop()
