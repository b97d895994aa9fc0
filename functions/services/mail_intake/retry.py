"""A reply the mail server refused is sent again by the next run of the mail intake (issue 16).

The unit's message itself is processed once (its `mail-msg/…` claim) and is already moved to the
handled folder, so the next run cannot answer it from the mailbox again. A refusal (MailRefused: the
server said no, so nothing went out) therefore keeps the composed reply's bytes as a blob, releases the
reply's claim, and leaves a `mail-reply-retry/…` record; the next run claims the reply again and sends
the very same message (same Message-ID, same thread headers). An uncertain send (MailUncertain, a
transport that broke its contract, not permitted) keeps its claim and is never repeated: a unit must
not receive the same answer twice. After MAX_ATTEMPTS refusals it stops and the record says so.

`hold` (`huizong serve`'s lock) is taken for each store step and released while a reply is sent.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused, MailUncertain

log = logging.getLogger("huizong.mail_intake")

RETRY_PREFIX = "mail-reply-retry/"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class RetryLine:
    to: str
    message_id: str
    result: str  # "sent", "refused", "uncertain", "gave-up", "lost"


def retry_key(reply_key: str) -> str:
    return RETRY_PREFIX + reply_key.rsplit("/", 1)[-1]


def keep_for_retry(
    app: App, reply_key: str, message: EmailMessage, payload: dict[str, Any], *, now: dt.datetime
) -> None:
    """After a refusal: keep the reply, release its claim, and note it for the next run."""
    data = message.as_bytes(policy=email.policy.SMTP)
    sha = hashlib.sha256(data).hexdigest()
    app.store.put_blob(sha, data)
    key = retry_key(reply_key)
    record = {**payload, "reply_key": reply_key, "blob": sha, "state": "pending", "attempts": 1}
    if not app.store.claim(key, record, at=now):
        # Refused again on a retry: the record is this run's to update.
        earlier = next((c.payload for c in app.store.claims(key) if c.key == key), {})
        record["attempts"] = int(earlier.get("attempts", 0)) + 1
        app.store.update_claim(key, record)
    app.store.release(reply_key)


def retry_refused_replies(
    app: App, *, now: dt.datetime, hold: AbstractContextManager[Any] | None = None
) -> list[RetryLine]:
    """Send every refused reply still pending, once each; what became of each."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    out: list[RetryLine] = []
    with guard:
        pending = app.store.claims(RETRY_PREFIX)
    for claim in pending:
        record = dict(claim.payload)
        if record.get("state") != "pending":
            continue
        reply_key, to, mid = (
            str(record["reply_key"]),
            str(record.get("to", "")),
            str(record.get("message_id", "")),
        )
        payload = {"to": to, "message_id": mid, "result": "sending", "retry": True}
        with guard:
            message = _claim_retry(app, claim.key, record, reply_key, payload, out, now=now)
        if message is None:
            continue
        try:
            app.mailer.send(message)
        except MailRefused as exc:
            with guard:
                app.store.update_claim(reply_key, {**payload, "result": f"refused: {exc}"})
                keep_for_retry(app, reply_key, message, {"to": to, "message_id": mid}, now=now)
            out.append(RetryLine(to, mid, "refused"))
            continue
        except Exception as exc:  # MailUncertain, MailNotPermitted, a broken transport: never again
            if not isinstance(exc, MailUncertain | MailNotPermitted):
                log.exception("reply retry failed unexpectedly: %s", mid)
            with guard:
                app.store.update_claim(reply_key, {**payload, "result": f"uncertain: {exc}"})
                app.store.update_claim(claim.key, {**record, "state": "done"})
            out.append(RetryLine(to, mid, "uncertain"))
            continue
        with guard:
            app.store.update_claim(reply_key, {**payload, "result": "sent"})
            app.store.update_claim(claim.key, {**record, "state": "done"})
        out.append(RetryLine(to, mid, "sent"))
    return out


def _claim_retry(
    app: App,
    key: str,
    record: dict[str, Any],
    reply_key: str,
    payload: dict[str, Any],
    out: list[RetryLine],
    *,
    now: dt.datetime,
) -> EmailMessage | None:
    """The store's part before a retry's send: the reply claimed again and its kept bytes read back, or
    None (given up, taken by another run, lost) with the record saying why."""
    to, mid = str(payload["to"]), str(payload["message_id"])
    if int(record.get("attempts", 0)) >= MAX_ATTEMPTS:
        app.store.update_claim(key, {**record, "state": "gave-up"})
        out.append(RetryLine(to, mid, "gave-up"))
        return None
    if not app.store.claim(reply_key, payload, at=now):
        # Another run took it (and sent it, or is sending it): never twice.
        app.store.update_claim(key, {**record, "state": "done"})
        return None
    data = app.store.get_blob(str(record.get("blob", "")))
    if data is None:
        app.store.update_claim(reply_key, {**payload, "result": "failed: reply not kept"})
        app.store.update_claim(key, {**record, "state": "lost"})
        out.append(RetryLine(to, mid, "lost"))
        return None
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # policy.default builds EmailMessages
    return message
