"""EventBridge Scheduler, daily at the campaign's hour: reminders and the organiser's digest.

Scheduler may deliver an invocation twice, and retries a failed one; every reminder and the digest are
claimed in the store before they are sent, so a repeat sends nothing new. The schedule's input carries
the time it was meant for (<aws.scheduler.scheduled-time>, see infra/template.yaml), and that time is
the run's "now": a retry that arrives late still runs the day the schedule meant.

The digest links the master with a presigned S3 URL: no login, and the bucket stays private.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.app import App
from functions.handlers import runtime
from functions.services.reminders.send_reminders import run_reminders

# Long enough for the day the digest is read; a URL signed with the function's temporary credentials
# stops working earlier anyway, when those credentials expire.
LINK_SECONDS = 24 * 3600
# A scheduled time further away than this is not this run's (a hand-made test event, a clock problem).
MAX_LAG = dt.timedelta(hours=12)


class ScheduledEvent(BaseModel):
    """The input infra/template.yaml gives the schedule; an EventBridge rule's event also fits."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    scheduled_time: dt.datetime | None = None
    rule_time: dt.datetime | None = Field(default=None, alias="time")
    execution_id: str | None = None
    attempt: int | None = None


class MailPermissionError(RuntimeError):
    """The mail transport may not send (IAM, region): the run finished, but its mail did not go out."""


def run_time(event: dict[str, Any], now: dt.datetime) -> dt.datetime:
    parsed = ScheduledEvent.model_validate(event)
    meant = parsed.scheduled_time or parsed.rule_time
    if meant is None or meant.tzinfo is None or abs(now - meant) > MAX_LAG:
        return now
    return meant


def master_link(app: App) -> str:
    if not runtime.settings().data_bucket:
        return ""
    # Signing is local: no request, and a link to a master not built yet just answers 404.
    return app.artifacts.link(app.master_key, expires_s=LINK_SECONDS)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("remind", context):
        app = runtime.app()
        now = run_time(event or {}, runtime.clock()).astimezone(app.campaign.tz)
        if now.hour < app.campaign.reminders.hour:
            runtime.log_event(
                "the schedule fires before reminders.hour: no reminder is due yet today",
                level=logging.WARNING,
                hour=now.hour,
                reminders_hour=app.campaign.reminders.hour,
            )
        if app.campaign.mail.transport == "outbox":
            runtime.log_event("mail.transport is outbox: messages stay in /tmp", level=logging.WARNING)
        result = run_reminders(
            app.campaign,
            app.roster,
            app.store,
            app.mailer,
            now=now,
            master_link=master_link(app),
            link_secret=app.link_secret,
        )
        counts = {
            "planned": len(result.planned),
            "sent": result.sent,
            "refused": result.refused,
            "uncertain": result.uncertain,
            "no_address": result.no_address,
            "not_permitted": result.not_permitted,
            "digest": result.digest_sent,
        }
        runtime.log_event("reminders", run_for=now.isoformat(), **counts)
        if result.not_permitted_error:
            # Everything this run could do is done and recorded; failing the invocation is what raises
            # RemindFailedAlarm (infra/template.yaml), since the digest itself may not have gone out.
            raise MailPermissionError(result.not_permitted_error)
        return counts
