"""Review actions as create-once claims, and what they add up to for one (unit, deliverable).

Every action is a claim `review/<unit>/<deliverable>/<n>` (n = 1, 2, … in order): a claim is never
changed or deleted by the review loop, so the record is append-only in every store (SQLite, S3, memory)
without a new Store method, and two organisers acting at once cannot both take the same number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ports import Store
from schemas.i18n import Language, t
from schemas.report import Issue
from schemas.submission import Version

PREFIX = "review/"
Action = Literal["approve", "return", "waive", "reopen"]
# "" when review does not apply (nothing submitted, or errors and no decision yet).
ReviewState = Literal["", "pending", "approved", "returned"]
REVIEW_STATES: tuple[ReviewState, ...] = ("pending", "approved", "returned")

_LABELS: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "pending": ("待审核", "awaiting review"),
    "approved": ("已通过", "approved"),
    "returned": ("已退回", "returned"),
}
_ACTION_LABELS: dict[str, tuple[str, str]] = {
    "approve": ("通过", "approve"),
    "return": ("退回", "return"),
    "waive": ("豁免", "waive"),
    "reopen": ("重新打开", "reopen"),
}


def review_label(lang: Language, state: str) -> str:
    zh, en = _LABELS[state]
    return t(lang, zh, en)


def action_label(lang: Language, action: str) -> str:
    zh, en = _ACTION_LABELS[action]
    return t(lang, zh, en)


class ReviewRecord(BaseModel):
    """One action, as stored. `version_id`/`seq` name the version it applies to."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=1)
    action: Action
    unit: str
    deliverable: str
    version_id: str
    seq: int = Field(ge=1)
    by: str = Field(min_length=1, max_length=200)
    at: dt.datetime
    comment: str = Field(default="", max_length=2000)
    code: str = ""  # waive: the validation code
    cell: str = ""  # waive: where (sheet!cell or cell), as the issue says


def record_key(unit: str, deliverable: str, n: int) -> str:
    return f"{PREFIX}{unit}/{deliverable}/{n:06d}"


def all_records(store: Store) -> dict[tuple[str, str], list[ReviewRecord]]:
    """Every action, per (unit, deliverable), in the order they were taken."""
    out: dict[tuple[str, str], list[ReviewRecord]] = defaultdict(list)
    for c in store.claims(PREFIX):
        try:
            r = ReviewRecord.model_validate(c.payload)
        except ValidationError:
            # A record this version cannot read (written by a newer one) must not hide the others.
            continue
        out[(r.unit, r.deliverable)].append(r)
    for records in out.values():
        records.sort(key=lambda r: r.n)
    return dict(out)


def append_record(store: Store, record: ReviewRecord, *, attempts: int = 20) -> ReviewRecord:
    """Store `record` under the next free number; another reviewer's concurrent action takes the next."""
    taken = {c.key for c in store.claims(f"{PREFIX}{record.unit}/{record.deliverable}/")}
    n = len(taken) + 1
    for _ in range(attempts):
        r = record.model_copy(update={"n": n})
        if store.claim(record_key(r.unit, r.deliverable, n), r.model_dump(mode="json"), at=r.at):
            return r
        n += 1
    raise RuntimeError(f"could not record a review action for {record.unit}/{record.deliverable}")


def issue_place(issue: Issue) -> str:
    """How a waiver names an issue's place: the cell, with its sheet when it has one."""
    if issue.sheet and issue.cell:
        return f"{issue.sheet}!{issue.cell}"
    return issue.cell or issue.sheet or ""


def matches(issue: Issue, code: str, cell: str) -> bool:
    """A waiver's CELL may be given with or without the sheet (B5 or 统计!B5)."""
    return issue.code == code and cell in {issue_place(issue), issue.cell or ""}


@dataclass(frozen=True)
class Review:
    """What the actions on one (unit, deliverable) add up to."""

    approved_id: str | None = None  # the version the master counts while approved
    returned_seq: int | None = None  # returned at this version; cleared by a newer submission
    comment: str = ""  # of the last approve or return
    # version id -> waived (code, cell) pairs
    waived: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    records: tuple[ReviewRecord, ...] = ()

    def waived_in(self, version: Version) -> list[Issue]:
        pairs = self.waived.get(version.id)
        if not pairs:
            return []  # nothing waived (almost every unit): no walk over its errors, statuses call this per unit
        return [e for e in version.report.errors if any(matches(e, c, p) for c, p in pairs)]

    def open_errors(self, version: Version) -> list[Issue]:
        waived = self.waived_in(version)
        return [e for e in version.report.errors if e not in waived]

    def state(self, latest: Version | None, valid: bool) -> ReviewState:
        if self.approved_id is not None:
            return "approved"
        if self.returned_seq is not None and latest is not None and latest.seq <= self.returned_seq:
            return "returned"
        if latest is not None and latest.status == "submitted" and valid:
            return "pending"
        return ""


def fold(records: list[ReviewRecord]) -> Review:
    approved: str | None = None
    returned: int | None = None
    comment = ""
    waived: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in records:
        if r.action == "approve":
            approved, returned, comment = r.version_id, None, r.comment
        elif r.action == "return":
            approved, returned, comment = None, r.seq, r.comment
        elif r.action == "reopen":
            approved, returned, comment = None, None, r.comment
        else:
            waived[r.version_id].add((r.code, r.cell))
    return Review(approved, returned, comment, dict(waived), tuple(records))
