"""Lambda function URL (payload format 2.0): verify, ingest one response, queue its consolidation.

The function URL has AuthType NONE: the HMAC signature is the authentication, checked by the same
service `huizong serve` uses. The body is decoded exactly as received (base64 when isBase64Encoded), so
the signature covers the bytes the Apps Script signed.

The services a genuine request needs are imported with this module, during the cold start's init phase,
rather than inside the first request.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

import functions.services.intake.form_responses  # noqa: F401  (see the module docstring)
from functions.config.loading import ConfigError
from functions.handlers import runtime
from functions.services.intake.form_webhook import (
    WEBHOOK_PATHS,
    WebhookResult,
    handle_webhook,
    refusal,
    signature_refusal,
    too_large,
)
from functions.services.intake.signature import MAX_BODY_BYTES, SignatureError, check_header, header_value
from schemas.i18n import Language, t

# A base64 body is a third longer than the bytes it carries.
MAX_ENCODED_CHARS = (MAX_BODY_BYTES + 2) // 3 * 4


class HttpInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    method: str = "POST"
    path: str = "/"


class RequestContext(BaseModel):
    model_config = ConfigDict(extra="ignore")

    http: HttpInfo = Field(default_factory=HttpInfo)
    requestId: str | None = None


class FunctionUrlEvent(BaseModel):
    """The parts of a function URL request (payload 2.0) this handler reads."""

    model_config = ConfigDict(extra="ignore")

    rawPath: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    isBase64Encoded: bool = False
    requestContext: RequestContext = Field(default_factory=RequestContext)


def _reply(result: WebhookResult) -> dict[str, Any]:
    return {
        "statusCode": result.status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps(result.body, ensure_ascii=False),
    }


def _unavailable(language: Language | None) -> dict[str, Any]:
    # Apps Script retries 5xx; nothing about the configuration leaks to the caller.
    text = t(language, "服务暂时不可用，请稍后重试。", "Service unavailable, retry later.")
    return _reply(WebhookResult(status=503, body={"ok": False, "code": "unavailable", "error": text}))


def _open_language() -> Language | None:
    """The campaign's language if this instance has opened it already; None (both languages) on a cold
    start, where a refusal must not open the campaign just to choose its words."""
    return runtime.app().campaign.language if runtime.app.cache_info().currsize else None


def precheck(event: dict[str, Any], *, now: float) -> tuple[FunctionUrlEvent, bytes] | WebhookResult:
    """Everything a request can be refused for without the secret or the campaign: the method, the path,
    the size, the body's encoding and the signature header's presence, shape and age. The URL is public
    (AuthType NONE), so noise and floods are answered here, before S3 and SSM are read."""
    lang = _open_language()
    try:
        request = FunctionUrlEvent.model_validate(event)
    except ValidationError:
        return refusal(400, "bad-payload", t(lang, "请求格式不正确。", "The request is malformed."))
    path = request.rawPath.rstrip("/") or "/"
    if request.requestContext.http.method.upper() != "POST":
        return refusal(405, "method", t(lang, "只接受 POST 请求。", "Only POST is accepted."))
    if path not in WEBHOOK_PATHS:
        paths = t(lang, "、", ", ").join(WEBHOOK_PATHS)
        return refusal(
            404, "not-found", t(lang, f"地址应以 {paths} 结尾。", f"The path must be one of {paths}.")
        )
    raw = request.body or ""
    # Refuse before decoding, so an oversized body is never copied again.
    if len(raw) > (MAX_ENCODED_CHARS if request.isBase64Encoded else MAX_BODY_BYTES):
        return too_large(None, lang)
    try:
        body = base64.b64decode(raw, validate=True) if request.isBase64Encoded else raw.encode()
    except (binascii.Error, ValueError):
        return refusal(400, "bad-json", t(lang, "请求内容无法解码。", "The body cannot be decoded."))
    if len(body) > MAX_BODY_BYTES:
        return too_large(None, lang)
    try:
        check_header(header_value(request.headers), now=now)
    except SignatureError as exc:
        return signature_refusal(lang, exc)
    return request, body


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("webhook", context):
        checked = precheck(event, now=runtime.clock().timestamp())
        if isinstance(checked, WebhookResult):
            runtime.log_event("webhook", status=checked.status, code=checked.body.get("code"), opened=False)
            return _reply(checked)
        request, body = checked
        try:
            app = runtime.app()
            secret = runtime.secret(runtime.WEBHOOK_SECRET_PARAM)
        except (runtime.RuntimeConfigError, ConfigError):
            runtime.logger().exception("webhook is not configured")
            return _unavailable(None)  # no campaign, so no language: both
        lang = app.campaign.language
        result = handle_webhook(app, body=body, headers=request.headers, secret=secret, now=runtime.clock())
        queued = 0
        if result.versions:
            unit, deliverable = result.body.get("unit"), result.body.get("deliverable")
            requests = [
                runtime.ConsolidateRequest(version=v, unit=unit, deliverable=deliverable)
                for v in result.versions
            ]
            try:
                queued = runtime.queue_consolidation(requests)
            except Exception:
                # The version is stored; the sender's retry is a duplicate that queues it again.
                runtime.logger().exception(
                    "consolidation not queued", extra={"fields": {"versions": result.versions}}
                )
                return _reply(
                    WebhookResult(
                        status=503,
                        body={
                            "ok": False,
                            "code": "unavailable",
                            "error": t(
                                lang,
                                "已收到并保存，但汇总排队失败，请稍后重试（重试不会重复计入）。",
                                "Received and stored, but the rebuild could not be queued: retry later "
                                "(a retry is not counted twice).",
                            ),
                        },
                    )
                )
        runtime.log_event(
            "webhook",
            status=result.status,
            code=result.body.get("code"),
            unit=result.body.get("unit"),
            stored=result.body.get("stored"),
            duplicate=result.body.get("duplicate"),
            versions=len(result.versions),
            queued=queued,
            bytes=len(body),
        )
        return _reply(result)
