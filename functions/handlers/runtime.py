"""The Lambda handlers' shared state for one execution environment: the app, opened once per cold start
(functions/bootstrap.py wires it), the clock, and the AWS pieces the handlers call (adapters under
functions/adapters/aws/: clients, secrets, JSON logs, the consolidation queue).

Configuration comes from the HUIZONG_* environment (functions/settings.py). Secrets are SSM SecureString
parameters named there, read by the first request (never at import) and scrubbed from every log line.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from functions.adapters.aws import clients as _clients
from functions.adapters.aws import logs as _logs
from functions.adapters.aws import queue as _queue
from functions.adapters.aws import secrets as _secrets
from functions.adapters.aws.clients import PlainJsonFileLoader, client, clients_created
from functions.adapters.aws.logs import invocation, log_event, logger
from functions.adapters.aws.queue import MESSAGE_GROUP, ConsolidateRequest
from functions.adapters.aws.secrets import (
    DEFAULT_EXTENSION_PORT,
    EXTENSION_PORT_ENV,
    SECRETS_EXTENSION_ENV,
    parameter,
    secret,
    secrets_extension_port,
)
from functions.app import App
from functions.bootstrap import forget_cold_start, open_lambda_app
from functions.settings import (
    GOOGLE_CREDENTIALS_PARAM,
    QUEUE_URL_ENV,
    WEBHOOK_SECRET_PARAM,
    RuntimeConfigError,
    Settings,
)

__all__ = [
    "DEFAULT_EXTENSION_PORT",
    "EXTENSION_PORT_ENV",
    "GOOGLE_CREDENTIALS_PARAM",
    "MESSAGE_GROUP",
    "QUEUE_URL_ENV",
    "SECRETS_EXTENSION_ENV",
    "WEBHOOK_SECRET_PARAM",
    "ConsolidateRequest",
    "PlainJsonFileLoader",
    "RuntimeConfigError",
    "app",
    "client",
    "clients_created",
    "clock",
    "deadline_from",
    "invocation",
    "log_event",
    "logger",
    "parameter",
    "queue_consolidation",
    "reset",
    "secret",
    "secrets_extension_port",
    "settings",
]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The handlers' clock; tests set it to a campaign's dates (the reminder plan depends on the day).
clock: Callable[[], dt.datetime] = _utc_now


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def app() -> App:
    started = time.perf_counter()
    opened = open_lambda_app(settings())
    _logs.name_campaign(opened.campaign.id)
    log_event(
        "campaign opened",
        campaign=opened.campaign.id,
        units=len(opened.roster.units),
        roster_problems=len(opened.roster_problems),
        ms=round((time.perf_counter() - started) * 1000),
    )
    return opened


def deadline_from(context: Any, *, reserve_ms: int, default_ms: int = 300_000) -> float:
    """A time.monotonic() deadline that leaves `reserve_ms` of the invocation for a clean stop."""
    remaining = context.get_remaining_time_in_millis() if context is not None else default_ms
    return time.monotonic() + max(0, remaining - reserve_ms) / 1000


def queue_consolidation(requests: list[ConsolidateRequest]) -> int:
    """One FIFO message per new version, deduplicated by the version id (functions/adapters/aws/queue.py)."""
    return _queue.queue_consolidation(settings().queue_url, requests)


def reset() -> None:
    """Forget everything a cold start read (tests; a warm instance never needs it)."""
    settings.cache_clear()
    app.cache_clear()
    forget_cold_start()
    _secrets.reset()
    _clients.reset()
    _logs.reset()
