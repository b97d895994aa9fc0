"""Lambda function URL (payload 2.0): verify, ingest one response, queue one consolidation."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from typing import Any

from functions.handlers import runtime
from functions.webhook.signature import MAX_BODY_BYTES


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps(body, ensure_ascii=False),
    }


def queue_consolidation(version_ids: list[str]) -> None:
    """One FIFO message per new version: one message group so rebuilds run one at a time, and the
    version id as the deduplication id so a delivery seen twice queues nothing new."""
    url = os.environ.get("HUIZONG_QUEUE_URL")
    if not url or not version_ids:
        return
    sqs = runtime.boto3_client("sqs")
    for vid in version_ids:
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"version": vid}),
            MessageGroupId="consolidate",
            MessageDeduplicationId=vid[:128],
        )


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from functions.services.webhook_service import handle_webhook

    raw = event.get("body") or ""
    if len(raw) > MAX_BODY_BYTES * 4 // 3 + 4:  # refuse before decoding a huge body
        return _reply(413, {"ok": False, "error": "body too large"})
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items()}
    app = runtime.app()
    result = handle_webhook(
        app,
        body=body,
        headers=headers,
        secret=runtime.secret("HUIZONG_WEBHOOK_SECRET_PARAM"),
        now=dt.datetime.now(dt.UTC),
    )
    queue_consolidation(result.versions)
    runtime.log_event(
        "webhook",
        status=result.status,
        versions=result.versions,
        campaign=app.campaign.id,
        request_id=getattr(context, "aws_request_id", None),
    )
    return _reply(result.status, result.body)
