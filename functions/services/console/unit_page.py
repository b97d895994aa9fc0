"""One unit's page in the console: its versions, problems, review records and the mails it got."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions.ports import Store
from functions.services.review.records import ReviewRecord, all_records
from functions.services.status.unit_states import UnitStatus, full_version
from schemas.report import Issue
from schemas.submission import Version


@dataclass(frozen=True)
class MailLine:
    """A reminder or 退回 mail the unit was sent (or that was tried)."""

    at: dt.datetime
    kind: str  # "remind" or "return"
    deliverable: str
    step: str  # the reminder's step (-3, +1…), or the return's record number
    result: str


@dataclass(frozen=True)
class ProblemLine:
    issue: Issue
    waived: bool


@dataclass(frozen=True)
class DeliverableDetail:
    status: UnitStatus
    versions: list[Version]  # oldest first
    problems: list[ProblemLine]  # of the counted version, waived ones marked
    records: list[ReviewRecord]


def deliverable_detail(store: Store, status: UnitStatus) -> DeliverableDetail:
    versions = store.history(status.unit.code, status.deliverable.key)
    problems: list[ProblemLine] = []
    if status.version is not None:
        counted = full_version(store, status.version)
        waived = list(status.waived)
        problems = [ProblemLine(e, e in waived) for e in (*counted.report.errors, *counted.report.warnings)]
    records = all_records(store).get((status.unit.code, status.deliverable.key), [])
    return DeliverableDetail(status, versions, problems, records)


def unit_mails(store: Store, unit: str) -> list[MailLine]:
    """Reminders (`remind/<deliverable>/<unit>/<step>`) and 退回 mails (`review-mail/review/<unit>/…`)."""
    out: list[MailLine] = []
    for c in store.claims("remind/"):
        parts = c.key.split("/")
        if len(parts) == 4 and parts[2] == unit:
            out.append(MailLine(c.claimed_at, "remind", parts[1], parts[3], str(c.payload.get("result", ""))))
    for c in store.claims(f"review-mail/review/{unit}/"):
        parts = c.key.split("/")
        if len(parts) == 5:
            out.append(
                MailLine(
                    c.claimed_at, "return", parts[3], parts[4].lstrip("0"), str(c.payload.get("result", ""))
                )
            )
    return sorted(out, key=lambda m: m.at)


def version_of(versions: list[Version], seq: int) -> Version | None:
    return next((v for v in versions if v.seq == seq), None)
