"""EventBridge Scheduler, every few minutes: the Google poll, stopped before the invocation's time runs out.

gspread and google-auth are imported only here, and only when the campaign uses Google. The poll keeps
its own cursor in the store, so a repeated or overlapping invocation finds nothing new to do. New
versions are queued for consolidation exactly as the webhook queues them.
"""

from __future__ import annotations

from typing import Any

from functions.handlers import runtime

# Leave this much of the invocation for the write-back in flight and a clean stop.
SAFETY_MS = 20_000


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("poll", context):
        app = runtime.app()
        if app.campaign.google is None or app.google is None:
            runtime.log_event("poll skipped: the campaign has no google section")
            return {"skipped": True}
        from functions.services.google.poll import run_poll

        session = app.google(deadline=runtime.deadline_from(context, reserve_ms=SAFETY_MS))
        result = run_poll(app, session, now=runtime.clock())
        queued = runtime.queue_consolidation(
            [runtime.ConsolidateRequest(version=v) for v in result.version_ids]
        )
        runtime.log_event("poll", queued=queued, **result.model_dump(mode="json"))
        return {"skipped": False, "queued": queued}
