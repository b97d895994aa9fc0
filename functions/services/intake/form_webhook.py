"""The webhook, independent of how the request arrived (Lambda function URL or `huizong serve`).

Checks run in the order that costs least: size, signature (constant time, with a freshness window), then
the payload against its schema. A form response is ingested at once (one response takes milliseconds)
and the ids of new versions are returned, so the caller queues one consolidation per version; a
sheet-change ping is only noted in the store for the next poll. Nothing here rebuilds the master: the
Apps Script waits for this answer, and a burst of responses must not mean a burst of rebuilds.

Every refusal carries a stable `code` for machines and an `error` in the campaign's language: the Apps
Script writes the answer into its log sheet, which the organiser reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.app import App
from functions.services.intake.signature import HEADER, MAX_BODY_BYTES, SignatureError, verify
from schemas.i18n import Language, t
from schemas.webhook import WEBHOOK_ADAPTER, FormResponsePayload, SheetChangePayload

SHEET_CHANGED_PREFIX = "google-changed:"
# Where the Apps Script posts (the function URL or the local server, plus one of these paths).
WEBHOOK_PATHS = ("/webhook", "/webhook/form", "/webhook/sheet")

RefusalCode = Literal[
    "too-large",
    "signature",
    "bad-json",
    "schema",
    "wrong-campaign",
    "bad-payload",
    "method",
    "not-found",
    "busy",
]
# Seconds the sender is asked to wait when another delivery of the same response is being ingested.
BUSY_RETRY_SECONDS = 30

# signature.py's reasons are English and stable; what a person reads is chosen here.
_SIGNATURE_TEXT: dict[str, tuple[str, str]] = {
    "missing signature": (
        "请求缺少 X-Huizong-Signature 签名头：请检查 Apps Script 是否为最新版本。",
        "The X-Huizong-Signature header is missing: check that the Apps Script is up to date.",
    ),
    "malformed signature header": (
        "签名头格式不正确（应为 t=时间戳,v1=签名）。",
        "The signature header is malformed (expected t=<timestamp>,v1=<signature>).",
    ),
    "bad timestamp": ("签名中的时间戳不是整数。", "The signature's timestamp is not an integer."),
    "timestamp outside tolerance": (
        "签名时间与服务器时间相差超过 5 分钟：请求过期或被重放，已拒收。",
        "The signature is more than 5 minutes away from the server's clock: stale or replayed, refused.",
    ),
    "signature mismatch": (
        "签名不正确：Apps Script 的 HUIZONG_WEBHOOK_SECRET 与服务器保存的密钥不一致，或请求内容被改动。",
        "Signature mismatch: the Apps Script's HUIZONG_WEBHOOK_SECRET differs from the server's secret, "
        "or the body was altered.",
    ),
}


class WebhookResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int
    body: dict[str, Any]
    versions: list[str] = Field(default_factory=list)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Header names arrive in any case (function URLs lower-case them, http.server keeps them)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def refusal(status: int, code: RefusalCode, error: str, **extra: Any) -> WebhookResult:
    """A refused request: `code` for the Apps Script, `error` (already in the campaign's language, from
    t()) for the organiser reading its log sheet."""
    return WebhookResult(status=status, body={"ok": False, "code": code, "error": error, **extra})


def too_large(app: App | None, lang: Language | None = None) -> WebhookResult:
    """413; without an app (a refusal before the campaign is opened) in `lang`, or both languages."""
    limit = MAX_BODY_BYTES // 1024
    language = app.campaign.language if app is not None else lang
    text = t(language, f"请求内容超过 {limit} KB，已拒收。", f"The body is over {limit} KB: refused.")
    return refusal(413, "too-large", text)


def signature_refusal(lang: Language | None, exc: SignatureError) -> WebhookResult:
    zh, en = _SIGNATURE_TEXT.get(exc.reason, ("签名校验未通过。", "The signature check failed."))
    # `reason` never contains the secret; it tells an honest sender what to fix.
    return refusal(exc.status, "signature", t(lang, zh, en), reason=exc.reason)


def handle_webhook(
    app: App, *, body: bytes, headers: Mapping[str, str], secret: bytes, now: dt.datetime
) -> WebhookResult:
    lang = app.campaign.language
    if len(body) > MAX_BODY_BYTES:
        return too_large(app)
    try:
        verify(secret, body, header(headers, HEADER), now=now.timestamp())
    except SignatureError as exc:
        if exc.status == 413:
            return too_large(app)
        return signature_refusal(lang, exc)
    try:
        payload = WEBHOOK_ADAPTER.validate_json(body)
    except ValidationError as exc:
        return _invalid(app, exc)
    if payload.campaign_id != app.campaign.id:
        return refusal(
            422,
            "wrong-campaign",
            t(
                lang,
                f"请求属于活动“{payload.campaign_id}”，此处只接收活动“{app.campaign.id}”：请检查 Apps Script 的地址。",
                f"The request is for campaign {payload.campaign_id!r}; this endpoint serves {app.campaign.id!r}: "
                "check the Apps Script's URL.",
            ),
        )
    if isinstance(payload, FormResponsePayload):
        return _form_response(app, payload, now)
    return _sheet_change(app, payload)


def _invalid(app: App, exc: ValidationError) -> WebhookResult:
    lang = app.campaign.language
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        text = t(lang, "请求内容不是有效的 JSON。", "The body is not valid JSON.")
        return refusal(400, "bad-json", text, details=[str(errors[0]["msg"])])
    # Field paths and pydantic's message only: the input may hold a respondent's answers.
    details = [f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in errors[:5]]
    text = t(
        lang,
        "请求内容不符合约定的格式（schemas/webhook.schema.json）：" + "；".join(details),
        "The body does not match the schema (schemas/webhook.schema.json): " + "; ".join(details),
    )
    return refusal(400, "schema", text, details=details)


def _form_response(app: App, payload: FormResponsePayload, now: dt.datetime) -> WebhookResult:
    # Imported here: the validator behind it is only needed once a request has proved genuine.
    from functions.services.intake.form_responses import (
        FormIntakeBusy,
        FormPayloadError,
        ingest_form_response,
    )

    try:
        result = ingest_form_response(app, payload, now=now)
    except FormIntakeBusy:
        # Not a success: the Apps Script must keep the response and deliver it again, since the
        # delivery in flight may still fail.
        text = t(
            app.campaign.language,
            f"同一份表单回复正在处理中，请 {BUSY_RETRY_SECONDS} 秒后重试。",
            f"The same response is being processed; retry in {BUSY_RETRY_SECONDS} s.",
        )
        return refusal(503, "busy", text, retry_after=BUSY_RETRY_SECONDS)
    except FormPayloadError as exc:
        text = t(
            app.campaign.language,
            f"表单与本次活动的设置不符（{exc}）：请用 huizong google form-spec 重新生成表单设置。",
            f"The form does not match this campaign ({exc}): regenerate it with huizong google form-spec.",
        )
        return refusal(422, "bad-payload", text)
    versions: list[str] = []
    if result.stored and result.unit is not None:
        # A repeated delivery repeats the first answer, so its caller re-queues the same version: the
        # queue's deduplication absorbs it, and a first queueing that failed gets its second chance.
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
        "note": result.note,
        "errors": [i.message for i in report.errors[:10]] if report else [],
        "warnings": [i.message for i in report.warnings[:10]] if report else [],
    }
    return WebhookResult(status=200, body=body, versions=versions)


def _sheet_change(app: App, payload: SheetChangePayload) -> WebhookResult:
    key = SHEET_CHANGED_PREFIX + payload.spreadsheet_id
    previous = app.store.get_meta(key)
    changed = payload.changed_at
    if changed.tzinfo is None:
        changed = changed.replace(tzinfo=app.campaign.tz)
    # One clock for every note, so comparing the text compares the times.
    stamp = changed.astimezone(dt.UTC).isoformat()
    if previous is None or previous < stamp:
        app.store.set_meta(key, stamp)
    return WebhookResult(status=202, body={"ok": True, "noted": payload.spreadsheet_id})
