"""`huizong serve`: the cloud functions' jobs on one machine, for an organiser without AWS.

- the webhook (signed Google Form responses and sheet-change pings) on a loopback HTTP port, handled by
  the same service the Lambda function uses (functions/services/intake/form_webhook.py);
- consolidation queued in process: one worker thread, requests coalesced, so a burst of fifty responses
  makes a handful of rebuilds, never two at once (the FIFO queue's single message group, locally);
- a scheduler: the inbox folder ingested every minute, the Google poll every few minutes when the campaign
  uses Google, reminders once a day at the campaign's hour (claims make a repeat harmless anyway).

Service calls are serialised by one lock: one machine, one campaign, and the store stays simple. The
scheduled jobs and rebuilds also hold the campaign folder's lock (functions/folder_lock.py), so a manual
`huizong ingest` or a cron `huizong run` beside `serve` waits for the job instead of interleaving with it.
The jobs that mail (reminders, the mailbox's replies, the poll's receipts) hold the folder's lock for the
whole job but take this one only for their store steps, never while a mail is sent: a slow or hanging
SMTP server must not hold every web-form save and webhook for as long as a run to a thousand units takes.

Abuse on the port (issue 11 §2.11), within the standard library's server: a listen backlog for bursts,
a cap on connections handled at once (more are answered 503 at once), a socket timeout per read and a
deadline for the whole request, so a client sending a byte now and then (slowloris) is cut off; stop()
does not wait for a long ingest, which ends at the next file boundary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from functions.app import App
from functions.services.intake.signature import MAX_BODY_BYTES

log = logging.getLogger("huizong.serve")

WEBHOOK_PATHS = ("/webhook", "/webhook/form", "/webhook/sheet")


@dataclass
class ServerStats:
    requests: int = 0
    accepted: int = 0
    refused: int = 0
    rebuilds: int = 0
    ingests: int = 0
    polls: int = 0
    reminder_runs: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": self.errors[-5:]}


class ConsolidationWorker:
    """Rebuilds the master whenever asked; asks made while a rebuild runs fold into one more rebuild."""

    def __init__(self, rebuild: Callable[[], None], stats: ServerStats) -> None:
        self._rebuild = rebuild
        self._stats = stats
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="huizong-consolidate", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(self) -> None:
        self._idle.clear()
        self._wanted.set()

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                break
            self._wanted.clear()
            try:
                self._rebuild()
                self._stats.rebuilds += 1
            except Exception as exc:  # a failed rebuild keeps the previous master; the next ask retries
                log.exception("consolidation failed")
                self._stats.errors.append(f"consolidate: {type(exc).__name__}: {exc}")
            if not self._wanted.is_set():
                self._idle.set()


@dataclass
class Schedule:
    ingest_every: float = 60.0
    poll_every: float = 300.0
    mail_every: float = 120.0  # the units' mailbox (issue 16), when campaign.yaml has mail_intake
    tick: float = 5.0


@dataclass(frozen=True)
class Limits:
    """What one client may take of the server. The webhook's senders (Apps Script, a form) send one small
    request at once, so these only bite on abuse or a broken network."""

    backlog: int = 128  # connections the kernel queues before accept (the stdlib's default is 5)
    connections: int = 64  # handled at once; more are answered 503 at once, not queued behind them
    read_timeout: float = 10.0  # seconds one socket read may wait
    request_deadline: float = 20.0  # seconds to send the whole request (line, headers, body)
    stop_wait: float = 5.0  # seconds stop() gives a running job to reach a boundary


class _Stopping(Exception):
    """Raised between two files of an ingest when the server is stopping."""


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer with a backlog and a cap on connections handled at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], limits: Limits):
        # The backlog is read by server_activate() inside the base __init__: set it first.
        self.request_queue_size = limits.backlog
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.connections)
        self.busy_refusals = 0
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            # Every slot taken (a flood, or slow clients not yet cut off): answer now and close, so the
            # accept loop never blocks and the backlog keeps draining.
            self.busy_refusals += 1
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(
                    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    b"Retry-After: 5\r\nContent-Length: 17\r\nConnection: close\r\n\r\n"
                    b'{"error": "busy"}'
                )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class LocalServer:
    def __init__(
        self,
        app: App,
        *,
        secret: bytes,
        host: str = "127.0.0.1",
        port: int = 8787,
        schedule: Schedule | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.secret = secret
        self.schedule = schedule or Schedule()
        self.clock = clock or (lambda: dt.datetime.now(app.campaign.tz))
        self.stats = ServerStats()
        self.lock = threading.Lock()
        self.worker = ConsolidationWorker(self._rebuild, self.stats)
        self._stop = threading.Event()
        self._scheduler = threading.Thread(target=self._schedule_loop, name="huizong-scheduler", daemon=True)
        self._last_ingest = float("-inf")
        self._last_poll = float("-inf")
        self._last_mail = float("-inf")
        self._reminded_on: dt.date | None = None
        # Inbox files whose version is stored, with how they looked (ingest_all's `settled`).
        self._settled_files: dict[str, tuple[tuple[str, int, int], ...]] = {}
        self.httpd = _Server((host, port), _handler_for(self), self.limits)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self, *, scheduler: bool = True) -> None:
        self.worker.start()
        if scheduler:
            self._scheduler.start()
        threading.Thread(target=self.httpd.serve_forever, name="huizong-http", daemon=True).start()

    def stop(self) -> None:
        """Stop taking requests and jobs, and return within about `limits.stop_wait` seconds: a running
        ingest stops at its next file (every file before it is stored and reported, the rest waits for
        the next start); a rebuild writes to a temp file, so leaving it keeps the previous master."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.worker.stop(timeout=self.limits.stop_wait)
        if self._scheduler.is_alive():
            self._scheduler.join(timeout=self.limits.stop_wait)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @contextlib.contextmanager
    def _job(self, what: str) -> Iterator[None]:
        """A scheduled job or a rebuild: the campaign folder's lock (a CLI run beside serve), then this
        process's. In that order, so webhooks are not held up while a job waits for a CLI run to end."""
        with self._folder_job(what), self.lock:
            yield

    @contextlib.contextmanager
    def _folder_job(self, what: str) -> Iterator[None]:
        """A job that mails: the campaign folder's lock for the whole job (a CLI run still waits for
        it), while the job takes `self.lock` itself, as its `hold`, around each store step."""
        from functions.folder_lock import folder_lock

        with folder_lock(self.app.folder, what=f"huizong serve: {what}", wait=3600.0):
            yield

    # --- jobs ------------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        from functions.services.loop import consolidate

        if self.stopping:
            return
        with self._job("consolidate"):
            consolidate(self.app, now=self.clock())

    def handle_webhook(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        from functions.services.intake.form_webhook import handle_webhook

        with self.lock:
            result = handle_webhook(
                self.app, body=body, headers=headers, secret=self.secret, now=self.clock()
            )
        if 200 <= result.status < 300:
            self.stats.accepted += 1
            if result.versions:
                self.worker.request()
        else:
            self.stats.refused += 1
        return result.status, result.body

    def ingest_inbox(self) -> int:
        from functions.services.intake.ingest_folder import ingest_all

        def between_files() -> None:
            if self.stopping:
                raise _Stopping

        try:
            with self._job("ingest"):
                outcomes = ingest_all(
                    self.app, now=self.clock(), progress=between_files, settled=self._settled_files
                )
        except _Stopping:
            return 0
        self.stats.ingests += 1
        created = sum(1 for o in outcomes if o.stored)
        if created:
            self.worker.request()
        return created

    def poll_google(self) -> None:
        if self.app.google is None:
            return
        from functions.services.google.poll import DeferredReceipt, deliver_receipts, run_poll

        now = self.clock()
        receipts: list[DeferredReceipt] = []
        with self._folder_job("poll"):
            try:
                with self.lock:
                    session = self.app.google()
                    result = run_poll(self.app, session, now=now, defer_receipts=receipts)
            finally:
                # Claimed under the lock, sent with it released (even when the poll stopped on an
                # error): a claim left at "sending" would keep its receipt from ever going.
                sent = deliver_receipts(self.app, receipts, now=now, hold=self.lock)
            result.receipts_sent += sent
        self.stats.polls += 1
        if result.versions_created:
            self.worker.request()

    def read_mailbox(self) -> int:
        """The units' mailbox (issue 16): new mail ingested and answered; returns the versions created."""
        if self.app.mailbox_factory is None:
            return 0
        from functions.services.mail_intake.process import read_mailbox

        with self._folder_job("mail"):
            result = read_mailbox(self.app, now=self.clock(), hold=self.lock)
        if result is not None and result.error:
            log.warning("mail intake: %s", result.error)
        created = sum(w.stored for m in (result.messages if result else []) for w in m.workbooks)
        if created:
            self.worker.request()
        return created

    def remind_if_due(self) -> bool:
        now = self.clock()
        if now.hour < self.app.campaign.reminders.hour or self._reminded_on == now.date():
            return False
        from functions.services.loop import remind

        with self._folder_job("remind"):
            remind(self.app, now=now, hold=self.lock)
        self._reminded_on = now.date()
        self.stats.reminder_runs += 1
        return True

    def _schedule_loop(self) -> None:
        import time

        while not self._stop.wait(self.schedule.tick):
            mono = time.monotonic()
            for name, job, every, last_attr in (
                ("ingest", self.ingest_inbox, self.schedule.ingest_every, "_last_ingest"),
                ("poll", self.poll_google, self.schedule.poll_every, "_last_poll"),
                ("mail", self.read_mailbox, self.schedule.mail_every, "_last_mail"),
            ):
                if mono - getattr(self, last_attr) >= every:
                    setattr(self, last_attr, mono)
                    self._safely(name, job)
            self._safely("remind", self.remind_if_due)

    def _safely(self, name: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception as exc:  # one failing job must not stop the server; it is retried next tick
            log.exception("%s failed", name)
            self.stats.errors.append(f"{name}: {type(exc).__name__}: {exc}")


_DRAIN_LIMIT = 8 * MAX_BODY_BYTES


def _discard(stream: Any, length: int) -> None:
    left = length
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            return
        left -= len(chunk)


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    limits = server.limits

    class Handler(BaseHTTPRequestHandler):
        server_version = "huizong"
        # Per socket read (socketserver.StreamRequestHandler applies it in setup()).
        timeout = limits.read_timeout

        def setup(self) -> None:
            super().setup()
            # A read timeout alone does not stop a client that sends one byte every few seconds: the
            # whole request must arrive before the deadline, or the connection is cut.
            self._deadline = threading.Timer(limits.request_deadline, self._cut_off)
            self._deadline.daemon = True
            self._deadline.start()

        def _cut_off(self) -> None:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _request_read(self) -> None:
            # Handling (an ingest behind the lock) may take long: only receiving has a deadline.
            self._deadline.cancel()

        def finish(self) -> None:
            self._deadline.cancel()
            with contextlib.suppress(OSError):
                super().finish()

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._request_read()
            if self.path.rstrip("/") in ("/healthz", ""):
                self._reply(200, {"ok": True, "campaign": server.app.campaign.id} | server.stats.as_dict())
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            server.stats.requests += 1
            if self.path.split("?", 1)[0].rstrip("/") not in WEBHOOK_PATHS:
                self._reply(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if length < 0:
                self._reply(400, {"error": "bad Content-Length"})
                return
            if length > MAX_BODY_BYTES:
                # Refused without keeping it: a huge body never reaches memory. A body up to a few MB
                # is read and thrown away so the sender gets the 413 instead of a broken pipe.
                server.stats.refused += 1
                if length <= _DRAIN_LIMIT:
                    try:
                        _discard(self.rfile, length)
                    except OSError:
                        self.close_connection = True
                        return
                self._reply(413, {"error": "body too large"})
                self.close_connection = True
                return
            try:
                body = self.rfile.read(length)
            except OSError:  # the read timeout (TimeoutError) or the deadline's cut
                self.close_connection = True
                return
            if len(body) < length:  # cut off or gave up before sending what it announced
                self.close_connection = True
                return
            self._request_read()
            try:
                status, payload = server.handle_webhook(body, {k: v for k, v in self.headers.items()})
            except Exception as exc:
                log.exception("webhook failed")
                server.stats.errors.append(f"webhook: {type(exc).__name__}: {exc}")
                status, payload = 500, {"error": "internal error"}
            self._reply(status, payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return Handler
