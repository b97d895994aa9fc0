"""EventBridge Scheduler, every few minutes: the Google poll, stopped before the function's time runs out."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from functions.handlers import runtime

# Leave this much of the function's time for the write-back in flight and a clean stop.
SAFETY_MS = 20_000


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    app = runtime.app()
    if app.campaign.google is None:
        return {"skipped": "campaign has no google settings"}
    from functions.adapters.google_session import connect  # type: ignore[import-not-found]
    from functions.services.google_poll import run_poll  # type: ignore[import-not-found]

    remaining_ms = context.get_remaining_time_in_millis() if context is not None else 300_000
    deadline = time.monotonic() + max(0, remaining_ms - SAFETY_MS) / 1000
    session = connect(app.campaign, app.folder, deadline=deadline)
    result = run_poll(app, session, now=dt.datetime.now(dt.UTC), deadline=deadline)
    runtime.log_event("poll", campaign=app.campaign.id, result=str(result))
    return {"ok": True}
