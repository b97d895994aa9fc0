"""The handling records of mail (claims `mail-msg/…`), read back for the organiser's digest."""

from __future__ import annotations

import datetime as dt

from functions.ports import Store

MESSAGE_PREFIX = "mail-msg/"
# A daily digest lists what arrived since about the previous one.
DIGEST_SPAN = dt.timedelta(days=1)


def left_for_organiser(store: Store, *, since: dt.datetime | None = None) -> list[dict[str, str]]:
    """Mail for the organiser to look at: not a submission (a question, a mail without files: left
    unread in the mailbox), too large to read (moved aside), or files with no workbook (kept, not attached). Sender, subject, kind and when, oldest
    first. Every value is one line already (reading.one_line)."""
    out = []
    for claim in store.claims(MESSAGE_PREFIX):
        kind = str(claim.payload.get("kind"))
        evidence = claim.payload.get("evidence") or {}
        if kind == "submission" and not claim.payload.get("workbooks") and evidence.get("kept"):
            # Photos or documents with no workbook (sent after it, or alone): kept, not attached to any
            # version (mail_intake/evidence.py); the organiser decides where they belong.
            kind = "files-kept"
        if kind not in ("not-submission", "oversized", "files-kept") or (
            since is not None and claim.claimed_at < since
        ):
            continue
        out.append(
            {
                "sender": str(claim.payload.get("sender") or "?"),
                "subject": str(claim.payload.get("subject") or ""),
                "kind": kind,
                "at": claim.claimed_at.isoformat(),
            }
        )
    return sorted(out, key=lambda p: p["at"])
