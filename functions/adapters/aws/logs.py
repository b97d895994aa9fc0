"""JSON logs for CloudWatch: one object per line on stdout, with the invocation's request id and campaign.

Secrets read during the cold start are registered here and scrubbed from any line that would carry one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("huizong_request_id", default=None)
_campaign_id: list[str] = []  # set once the app is open; every later log line names the campaign
_secret_values: set[str] = set()


def remember_secret(value: str) -> None:
    """A value no log line may show (scrubbed as ***)."""
    _secret_values.add(value)


def name_campaign(campaign_id: str) -> None:
    _campaign_id[:] = [campaign_id]


def reset() -> None:
    _secret_values.clear()
    _campaign_id.clear()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "time": round(record.created, 3),
        }
        request_id = _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        if _campaign_id:
            entry["campaign"] = _campaign_id[0]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _scrub(json.dumps(entry, ensure_ascii=False, default=str))


def _scrub(line: str) -> str:
    # Belt and braces: nothing logs a secret on purpose, but an exception text might quote one.
    for value in _secret_values:
        if value and value in line:
            line = line.replace(value, "***")
    return line


class _StdoutHandler(logging.Handler):
    """Writes to whatever sys.stdout is at the time (the Lambda runtime and pytest both replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def logger() -> logging.Logger:
    log = logging.getLogger("huizong.lambda")
    if not any(isinstance(h, _StdoutHandler) for h in log.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        # The Lambda runtime's root handler would print every line a second time, as plain text.
        log.propagate = False
    return log


def log_event(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    logger().log(level, message, extra={"fields": fields})


@contextmanager
def invocation(handler: str, context: Any) -> Iterator[None]:
    """Tag every log line of one invocation with its request id; log what escapes, then re-raise."""
    token = _request_id.set(getattr(context, "aws_request_id", None))
    started = time.perf_counter()
    try:
        yield
    except Exception:
        logger().exception(f"{handler} failed", extra={"fields": {"handler": handler}})
        raise
    finally:
        log_event("done", handler=handler, ms=round((time.perf_counter() - started) * 1000))
        _request_id.reset(token)
