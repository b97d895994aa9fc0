"""S3 "Object Created" (SES inbound): one unit's mail, stored raw by the SES receipt rule, processed.

SES writes each message under `<CampaignId>/mail/incoming/` in the campaign bucket (infra/template.yaml);
S3 tells EventBridge, which invokes this function. The message goes through the same code as the
IMAP intake (functions/services/mail_intake/process.py): claimed by its Message-ID (an event delivered
twice changes nothing), workbooks ingested, evidence files handed over, the reply sent through the
campaign's transport (SES). Both event shapes are accepted: EventBridge's and an S3 notification's.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from functions.handlers import runtime
from functions.services.mail_intake.process import process_message, settings_of

# What is read of a message over the limit: enough for its headers (the sender is told it was too big).
_HEAD_BYTES = 64 * 1024


def objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every object the event names."""
    found: list[tuple[str, str]] = []
    detail = event.get("detail")
    if isinstance(detail, dict):
        bucket = (detail.get("bucket") or {}).get("name")
        key = (detail.get("object") or {}).get("key")
        if bucket and key:
            found.append((str(bucket), str(key)))
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket, key = (s3.get("bucket") or {}).get("name"), (s3.get("object") or {}).get("key")
        if bucket and key:
            # S3 notifications URL-encode keys (a space arrives as "+").
            found.append((str(bucket), urllib.parse.unquote_plus(str(key))))
    return found


def _head(raw: bytes) -> bytes:
    end = raw.find(b"\r\n\r\n")
    end = raw.find(b"\n\n") if end < 0 else end
    return raw[: end if end >= 0 else len(raw)] + b"\r\n\r\n"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("mail", context):
        app = runtime.app()
        s3 = runtime.client("s3")
        limit = int(settings_of(app).max_message_mb * 1024 * 1024)
        counts = {"messages": 0, "versions": 0, "replies": 0, "duplicates": 0}
        created: list[runtime.ConsolidateRequest] = []
        for bucket, key in objects(event or {}):
            now = runtime.clock()
            head = s3.head_object(Bucket=bucket, Key=key)
            size = int(head.get("ContentLength", 0))
            received = head.get("LastModified")
            truncated = size > limit
            if truncated:
                raw = _head(
                    s3.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{_HEAD_BYTES - 1}")["Body"].read()
                )
            else:
                raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            result = process_message(
                app,
                raw,
                received_at=received if isinstance(received, dt.datetime) else now,
                now=now,
                truncated=truncated,
                size=size,
            )
            counts["messages"] += 1
            counts["duplicates"] += result.kind == "duplicate"
            counts["replies"] += result.reply == "sent"
            for book in result.workbooks:
                if book.stored and book.unit and book.deliverable:
                    counts["versions"] += 1
                    latest = app.store.latest(book.unit, book.deliverable)
                    if latest is not None:
                        created.append(
                            runtime.ConsolidateRequest(
                                version=latest.id, unit=book.unit, deliverable=book.deliverable
                            )
                        )
            runtime.log_event("mail processed", key=key, kind=result.kind, reply=result.reply, size=size)
        if created and runtime.settings().queue_url:
            try:
                runtime.queue_consolidation(created)
            except Exception:
                # The versions are stored; the next consolidation (or the next mail) picks them up.
                runtime.logger().exception("could not queue consolidation after mail")
        return counts
