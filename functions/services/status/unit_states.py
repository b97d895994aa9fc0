"""Who has sent what: the state of every expected (unit, deliverable), computed from the store."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from functions.gc_pause import collector_paused
from functions.ports import Store
from functions.services.intake.unread import UnreadFile, unread_files
from functions.services.review.records import Review, ReviewState, all_records, fold
from functions.validate.identity import IDENTITY_CODES
from schemas.campaign import Campaign, Deliverable
from schemas.report import Issue
from schemas.roster import Roster, Unit
from schemas.submission import UnitState, Version


@dataclass(frozen=True)
class UnitStatus:
    unit: Unit
    deliverable: Deliverable
    state: UnitState
    version: Version | None  # the version that decides the state (latest submitted, else latest draft)
    # A newer submission whose identity disagrees with the roster (unit-name-mismatch, unit-code-mismatch):
    # kept out of the master while an earlier valid version stands, until the organiser decides.
    held: Version | None = None
    # Files recorded for this unit that could not be read (only when nothing was stored: state "missing").
    unread: tuple[UnreadFile, ...] = ()
    # The organiser's review (issue 15): its state, the comment of the last approve/return, and the
    # errors of `version` waived (still shown, no longer blocking "valid").
    review: ReviewState = ""
    review_comment: str = ""
    waived: tuple[Issue, ...] = ()

    @property
    def late(self) -> bool:
        return bool(self.version and self.version.status == "submitted" and self.version.late)

    @property
    def done(self) -> bool:
        return self.state in ("valid", "errors")


@dataclass(frozen=True)
class DeliverableCounts:
    deliverable: Deliverable
    expected: int
    submitted: int
    valid: int
    errors: int
    drafts: int
    missing: int
    late: int

    @property
    def reporting_rate(self) -> float:
        return self.submitted / self.expected if self.expected else 0.0

    @property
    def on_time_rate(self) -> float:
        return (self.submitted - self.late) / self.expected if self.expected else 0.0


def light(version: Version, drop: set[str]) -> Version:
    """A version without its row tables (activities): statuses of 2,000 units stay small; whoever needs
    the rows reads them from the store one unit at a time (see full_version)."""
    if drop.isdisjoint(version.tables):
        return version
    return version.model_copy(update={"tables": {k: v for k, v in version.tables.items() if k not in drop}})


def full_version(store: Store, version: Version) -> Version:
    """The stored version with all its tables (the one `light` trimmed)."""
    for candidate in (store.latest(version.unit, version.deliverable, version.status),):
        if candidate is not None and candidate.id == version.id:
            return candidate
    for candidate in store.history(version.unit, version.deliverable):
        if candidate.id == version.id:
            return candidate
    return version


def unit_statuses(campaign: Campaign, roster: Roster, store: Store) -> list[UnitStatus]:
    """One status for every unit and every deliverable that applies to it (the expected reports)."""
    # Bulk, acyclic and bounded: see functions/gc_pause.py for why the collector waits.
    with collector_paused():
        return _unit_statuses(campaign, roster, store)


def _unit_statuses(campaign: Campaign, roster: Roster, store: Store) -> list[UnitStatus]:
    # Called for every status page, reminder run, digest and master over the whole roster, so what does
    # not change per unit is worked out once (issue 13 §2): which deliverables apply to a unit type, the
    # review setting, an empty review.
    rows_tables = {t.key for t in campaign.form_spec.tables if t.kind == "rows"}
    submitted = {
        (v.unit, v.deliverable): light(v, rows_tables) for v in store.iter_latest_summaries("submitted")
    }
    drafts = {(v.unit, v.deliverable): light(v, rows_tables) for v in store.iter_latest_summaries("draft")}
    unread: dict[str, list[UnreadFile]] = defaultdict(list)
    for record in unread_files(store):
        if record.unit:
            unread[record.unit].append(record)
    reviews = {key: fold(records) for key, records in all_records(store).items()}
    review_none = campaign.review == "none"
    applicable: dict[str, list[Deliverable]] = {}
    out: list[UnitStatus] = []
    for unit in roster.units:
        deliverables = applicable.get(unit.type)
        if deliverables is None:
            deliverables = applicable[unit.type] = [
                d for d in campaign.deliverables if d.applies_to(unit.type)
            ]
        for d in deliverables:
            key = (unit.code, d.key)
            sub, draft = submitted.get(key), drafts.get(key)
            held, accepted = None, False
            review = reviews.get(key, _NO_REVIEW)
            latest = sub
            approved = _approved(store, review, sub) if review.approved_id is not None else None
            if approved is not None:
                # 已通过: the approved version is the one counted until the organiser reopens it; a later
                # submission is stored but does not replace it.
                sub = light(approved, rows_tables)
            elif sub is not None and sub.report.errors and _identity_errors(sub):
                decision = identity_decision(store, sub)
                # The organiser confirmed it is this unit's own (`huizong assign FILE <this unit>`).
                accepted = decision is not None and decision.get("assigned_to") == unit.code
                if decision is None:
                    earlier = last_valid(store, unit.code, d.key, before=sub.seq)
                    if earlier is not None:
                        held, sub = sub, light(earlier, rows_tables)
                elif decision.get("assigned_to") != unit.code:
                    # The organiser gave that file to another unit: this unit's own earlier version stands.
                    mine = last_submitted(store, unit.code, d.key, before=sub.seq)
                    sub = light(mine, rows_tables) if mine is not None else None
            if sub is not None:
                # Accepted: its identity errors are answered; a waived error no longer blocks; any other
                # error still counts.
                waived = tuple(review.waived_in(sub)) if review.waived else ()
                report = sub.report
                ok = report.valid or all(
                    e in waived or (accepted and e.code in IDENTITY_CODES) for e in report.errors
                )
                state = review.state(latest, ok)
                if state == "pending" and review_none:
                    state = ""
                out.append(
                    UnitStatus(unit, d, "valid" if ok else "errors", sub, held,
                               review=state, review_comment=review.comment, waived=waived)
                )  # fmt: skip
            elif draft is not None:
                out.append(UnitStatus(unit, d, "draft", draft))
            else:
                own = unread.get(unit.code)
                files = tuple(r for r in own if r.deliverable in (None, d.key)) if own else ()
                out.append(UnitStatus(unit, d, "missing", None, unread=files))
    return out


# What a (unit, deliverable) without review actions folds to; shared, as nothing changes a Review.
_NO_REVIEW = Review()


DECIDED_PREFIX = "identity-decided/"


def _approved(store: Store, review: Review, latest: Version | None) -> Version | None:
    """The approved version, read from the history only when a later one was stored since."""
    if review.approved_id is None:
        return None
    if latest is not None and latest.id == review.approved_id:
        return latest
    return next((v for v in store.history(latest.unit, latest.deliverable) if v.id == review.approved_id),
                None) if latest is not None else None  # fmt: skip


def _identity_errors(version: Version) -> bool:
    return any(e.code in IDENTITY_CODES for e in version.report.errors)


def identity_decision(store: Store, version: Version) -> dict[str, object] | None:
    """What the organiser decided about a version held for its identity (`huizong assign`), or None."""
    key = DECIDED_PREFIX + version.id
    return next((dict(c.payload) for c in store.claims(key) if c.key == key), None)


def last_submitted(store: Store, unit: str, deliverable: str, *, before: int) -> Version | None:
    """The newest submitted version older than `before`."""
    found = None
    for v in store.history(unit, deliverable):
        if v.seq < before and v.status == "submitted":
            found = v
    return found


def last_valid(store: Store, unit: str, deliverable: str, *, before: int) -> Version | None:
    """The newest valid submitted version older than `before` (what the master keeps while one is held)."""
    found = None
    for v in store.history(unit, deliverable):
        if v.seq < before and v.status == "submitted" and v.report.valid:
            found = v
    return found


def count_by_deliverable(campaign: Campaign, statuses: list[UnitStatus]) -> list[DeliverableCounts]:
    groups: dict[str, list[UnitStatus]] = defaultdict(list)
    for s in statuses:
        groups[s.deliverable.key].append(s)
    out = []
    for d in campaign.deliverables:
        rows = groups.get(d.key, [])
        c = Counter(s.state for s in rows)
        out.append(
            DeliverableCounts(
                deliverable=d,
                expected=len(rows),
                submitted=c["valid"] + c["errors"],
                valid=c["valid"],
                errors=c["errors"],
                drafts=c["draft"],
                missing=c["missing"],
                late=sum(1 for s in rows if s.late),
            )
        )
    return out


def rate_by(statuses: list[UnitStatus], attr: str) -> dict[str, dict[str, tuple[int, int]]]:
    """group value (area or unit type) -> deliverable key -> (submitted, expected)."""
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for s in statuses:
        group = getattr(s.unit, attr) or "—"
        cell = out[group][s.deliverable.key]
        cell[1] += 1
        if s.done:
            cell[0] += 1
    return {g: {k: (v[0], v[1]) for k, v in d.items()} for g, d in out.items()}


def overdue_missing(campaign: Campaign, statuses: list[UnitStatus], now: dt.datetime) -> dict[str, int]:
    """deliverable key -> units that have not submitted (missing or only a draft) although the due time
    has passed: 逾期未报, as opposed to `late` (逾期已报, sent after the due time). Zero before the due."""
    out: dict[str, int] = {d.key: 0 for d in campaign.deliverables}
    for s in statuses:
        if s.state in ("missing", "draft") and now > campaign.due_at(s.deliverable.key):
            out[s.deliverable.key] += 1
    return out
