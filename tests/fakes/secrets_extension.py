"""The AWS Parameters and Secrets Lambda Extension as a real HTTP server on loopback.

It answers as the extension does (GET /systemsmanager/parameters/get?name=…&withDecryption=true, with the
X-Aws-Parameters-Secrets-Token header) and records what it was asked. `serving_extension` starts it; the
`extension` fixture (tests/integration/conftest.py) also points huizong's runtime at it.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "session-token-of-this-instance"
PARAM = "/huizong/webhook-secret"
VALUE = "the-secret-served-by-the-extension-42"


@dataclass
class FakeExtension:
    """What the extension holds and what it was asked."""

    port: int
    values: dict[str, str]
    requests: list[dict[str, str]] = field(default_factory=list)
    reply_override: bytes | None = None


def _serve(state: FakeExtension) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            token = self.headers.get("X-Aws-Parameters-Secrets-Token")
            state.requests.append({"path": url.path, "token": token or "", **query})
            if token != TOKEN:
                self._send(401, b"not authorized")
            elif url.path != "/systemsmanager/parameters/get":
                self._send(404, b"not found")
            elif query.get("name") not in state.values:
                self._send(400, b"ParameterNotFound")
            elif state.reply_override is not None:
                self._send(200, state.reply_override)
            else:
                name = query["name"]
                decrypted = query.get("withDecryption") == "true"
                parameter = {
                    "Name": name,
                    "Type": "SecureString",
                    "Value": state.values[name] if decrypted else "AQICAHencrypted==",
                    "Version": 1,
                    "ARN": f"arn:aws:ssm:ap-southeast-1:123456789012:parameter{name}",
                    "DataType": "text",
                }
                self._send(200, json.dumps({"Parameter": parameter, "ResultMetadata": {}}).encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving_extension(values: dict[str, str]) -> Iterator[FakeExtension]:
    state = FakeExtension(port=0, values=values)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _serve(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
