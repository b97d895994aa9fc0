"""SQS FIFO → one rebuild of the master per batch, uploaded to S3; partial batch failures reported.

Every message asks for the same thing (a master that includes its version), and the rebuild reads the
store, not the messages, so one rebuild serves the whole batch. The queue has a single message group,
so Lambda hands this function one batch at a time and rebuilds never overlap.

What goes back to the queue (batchItemFailures): a message whose body is not a consolidation request
(it will reach the dead-letter queue and its alarm), or every message when the rebuild or the upload
failed. Reporting only some messages of a FIFO batch is safe here because the messages commute: any
later rebuild covers the earlier ones.

The per-unit reports of the versions named in the batch are uploaded next to the master, and the
Google master is published when the campaign asks for one; a failure there is logged, not retried
through the queue, since master.xlsx in the bucket is the record and the next submission publishes again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import posixpath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.app import App
from functions.handlers import runtime
from functions.services.master.master_sheets import build_master
from functions.services.messages.report_text import render_report
from schemas.i18n import t

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Leave this much of the invocation for the upload after the Google publish stops.
GOOGLE_RESERVE_MS = 60_000


class SqsRecord(BaseModel):
    """The parts of an SQS event record this handler reads."""

    model_config = ConfigDict(extra="ignore")

    messageId: str
    body: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)


def _failures(ids: list[str]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}


def _parse(records: list[SqsRecord]) -> tuple[list[tuple[str, runtime.ConsolidateRequest]], list[str]]:
    good: list[tuple[str, runtime.ConsolidateRequest]] = []
    bad: list[str] = []
    for record in records:
        try:
            good.append((record.messageId, runtime.ConsolidateRequest.model_validate_json(record.body)))
        except ValidationError:
            bad.append(record.messageId)
    return good, bad


def _download_name(app: App) -> str:
    # The link in the digest downloads under the campaign's own title, not "master.xlsx".
    return app.campaign.title + t(app.campaign.language, "汇总表", " master") + ".xlsx"


def _upload(app: App, requests: list[runtime.ConsolidateRequest]) -> int:
    """The master and the reports of the versions named in the batch, to the artifact store."""
    key = app.master_key
    app.artifacts.put(
        key, app.paths.master.read_bytes(), content_type=XLSX_TYPE, download_name=_download_name(app)
    )
    reports = posixpath.join(posixpath.dirname(key), "reports")
    uploaded = 0
    seen: set[tuple[str, str]] = set()
    for request in requests:
        if request.unit is None or request.deliverable is None:
            continue
        pair = (request.unit, request.deliverable)
        version = app.store.latest(*pair) if pair not in seen else None
        seen.add(pair)
        if version is None:
            continue
        base = f"{reports}/{request.unit}-{request.deliverable}"
        text = render_report(version.report, app.campaign.language)
        app.artifacts.put(base + ".txt", text.encode(), content_type="text/plain; charset=utf-8")
        body = json.dumps(version.report.model_dump(mode="json"), ensure_ascii=False).encode()
        app.artifacts.put(base + ".json", body, content_type="application/json")
        uploaded += 1
    return uploaded


def _publish_google(app: App, context: Any, now: dt.datetime) -> str:
    google = app.campaign.google
    if google is None or not google.publish_master or app.google is None:
        return "off"
    try:
        from functions.services.google.publish_master import publish_master

        session = app.google(deadline=runtime.deadline_from(context, reserve_ms=GOOGLE_RESERVE_MS))
        publish_master(app, session, now=now)
    except Exception:
        runtime.logger().exception(
            "google master not published", extra={"fields": {"handler": "consolidate"}}
        )
        return "failed"
    return "published"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("consolidate", context):
        records = [SqsRecord.model_validate(r) for r in event.get("Records") or []]
        good, bad = _parse(records)
        if bad:
            runtime.log_event("not a consolidation request", level=logging.ERROR, messages=bad)
        if not good:
            return _failures(bad)
        app = runtime.app()
        now = runtime.clock().astimezone(app.campaign.tz)
        requests = [r for _, r in good]
        try:
            # Not services.loop.consolidate: loop also imports ingest and the mail templates.
            result = build_master(
                app.campaign, app.roster, app.store, app.paths.master, now=now, write=app.write_master
            )
            bucket = runtime.settings().data_bucket or None
            reports = _upload(app, requests) if bucket else 0
        except Exception:
            runtime.logger().exception("consolidation failed", extra={"fields": {"messages": len(good)}})
            # The whole batch goes back to the queue (and after maxReceiveCount to the dead-letter queue).
            return _failures([message_id for message_id, _ in good] + bad)
        if bucket is None:
            runtime.log_event(
                "HUIZONG_DATA_BUCKET is not set: master kept in /tmp only", level=logging.WARNING
            )
        google = _publish_google(app, context, now)
        runtime.log_event(
            "consolidated",
            messages=len(good),
            units=result.units,
            activity_rows=result.activity_rows,
            issue_rows=result.issue_rows,
            reports=reports,
            google=google,
        )
        return _failures(bad)
