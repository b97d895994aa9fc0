"""The web form under `huizong serve`: uvicorn in a thread, next to the webhook server and the scheduler.

Both servers run side by side rather than one inside the other: the webhook keeps its port, its small
stdlib server and its tests (Apps Script projects already point at it), and the form gets an ASGI server.
They share what matters: the LocalServer's lock (one service call at a time on the store) and its
consolidation worker (a submitted form rebuilds the master like a webhook delivery does).

The socket is bound here, before the thread starts, so a port in use is a clear error at start-up
rather than a thread that dies quietly.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn


class WebFormServer:
    def __init__(self, *, host: str, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(128)
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def start(self, asgi: Any) -> None:
        config = uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="huizong-web", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self.server is not None and self._thread is not None:
            self.server.should_exit = True
            self._thread.join(timeout=30)
        self.sock.close()
