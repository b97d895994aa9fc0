"""The webhook, independent of how the request arrived (Lambda function URL or `huizong serve`).

Checks in the order that costs least: size, signature (constant time, with a freshness window), then
the payload against its schema. A form response is ingested at once (one response is quick), and the
ids of new versions are returned so the caller queues one consolidation; a sheet-change ping is only
noted, for the next poll to pick up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.bootstrap import App
from functions.webhook.signature import HEADER, MAX_BODY_BYTES, SignatureError, verify
from schemas.webhook import WEBHOOK_ADAPTER, FormResponsePayload, SheetChangePayload

SHEET_CHANGED_PREFIX = "google-changed:"


class WebhookResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int
    body: dict[str, Any]
    versions: list[str] = Field(default_factory=list)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _refuse(status: int, error: str, **extra: Any) -> WebhookResult:
    return WebhookResult(status=status, body={"ok": False, "error": error, **extra})


def handle_webhook(
    app: App, *, body: bytes, headers: Mapping[str, str], secret: bytes, now: dt.datetime
) -> WebhookResult:
    if len(body) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    try:
        verify(secret, body, _header(headers, HEADER), now=now.timestamp())
    except SignatureError as exc:
        # The reason never contains the secret; it tells an honest sender what to fix.
        return _refuse(exc.status, exc.reason)
    try:
        payload = WEBHOOK_ADAPTER.validate_json(body)
    except ValidationError as exc:
        details = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        return _refuse(400, "payload does not match the schema", details=details)
    if payload.campaign_id != app.campaign.id:
        return _refuse(422, f"campaign {payload.campaign_id!r} is not served here ({app.campaign.id!r})")
    if isinstance(payload, FormResponsePayload):
        return _form_response(app, payload, now)
    return _sheet_change(app, payload)


def _form_response(app: App, payload: FormResponsePayload, now: dt.datetime) -> WebhookResult:
    from functions.services.form_intake import FormPayloadError, ingest_form_response

    try:
        result = ingest_form_response(app, payload, now=now)
    except FormPayloadError as exc:
        return _refuse(422, str(exc))
    versions: list[str] = []
    if result.stored and result.unit is not None:
        latest = app.store.latest(result.unit, result.deliverable)
        if latest is not None:
            versions.append(latest.id)
    report = result.report
    body: dict[str, Any] = {
        "ok": True,
        "response_id": result.response_id,
        "unit": result.unit,
        "deliverable": result.deliverable,
        "valid": result.valid,
        "stored": result.stored,
        "duplicate": result.duplicate,
        "unidentified": result.unidentified,
        "errors": [i.message for i in report.errors[:10]] if report else [],
        "warnings": [i.message for i in report.warnings[:10]] if report else [],
    }
    return WebhookResult(status=200, body=body, versions=versions)


def _sheet_change(app: App, payload: SheetChangePayload) -> WebhookResult:
    key = SHEET_CHANGED_PREFIX + payload.spreadsheet_id
    previous = app.store.get_meta(key)
    stamp = payload.changed_at.isoformat()
    if previous is None or previous < stamp:
        app.store.set_meta(key, stamp)
    return WebhookResult(status=202, body={"ok": True, "noted": payload.spreadsheet_id})
