"""EventBridge Scheduler, daily at the campaign's hour: ingest nothing, just remind (claims make a repeat safe)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.handlers import runtime


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from functions.services.loop import remind

    app = runtime.app()
    result = remind(app, now=dt.datetime.now(app.campaign.tz))
    runtime.log_event(
        "reminders",
        campaign=app.campaign.id,
        sent=result.sent,
        refused=result.refused,
        uncertain=result.uncertain,
        digest=result.digest_sent,
    )
    return {"sent": result.sent, "refused": result.refused, "uncertain": result.uncertain}
