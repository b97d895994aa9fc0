"""Which reminders are due now. Pure: statuses, claims and a clock in; a plan out."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign, Deliverable
from schemas.i18n import Language, t
from schemas.roster import Unit


@dataclass(frozen=True)
class DueItem:
    status: UnitStatus
    step: int  # days relative to the due date

    @property
    def deliverable(self) -> Deliverable:
        return self.status.deliverable

    @property
    def claim_key(self) -> str:
        return reminder_claim_key(self.deliverable.key, self.status.unit.code, self.step)


@dataclass(frozen=True)
class UnitReminder:
    unit: Unit
    items: list[DueItem]


def reminder_claim_key(deliverable: str, unit: str, step: int) -> str:
    return f"remind/{deliverable}/{unit}/{step:+d}"


def step_label(lang: Language, step: int) -> str:
    if step < 0:
        return t(lang, f"截止前{-step}天", f"{-step} day(s) before due")
    if step == 0:
        return t(lang, "截止当天", "due day")
    return t(lang, f"逾期{step}天", f"{step} day(s) overdue")


def step_time(campaign: Campaign, deliverable: Deliverable, step: int) -> dt.datetime:
    day = deliverable.due + dt.timedelta(days=step)
    return dt.datetime.combine(day, dt.time(campaign.reminders.hour), tzinfo=campaign.tz)


def current_step(campaign: Campaign, deliverable: Deliverable, now: dt.datetime) -> int | None:
    """The most recent step whose time has come: a run that missed days sends that one, not a burst."""
    passed = [s for s in campaign.reminders.offsets if step_time(campaign, deliverable, s) <= now]
    return max(passed) if passed else None


def plan_reminders(
    campaign: Campaign, statuses: list[UnitStatus], claimed: set[str], now: dt.datetime
) -> list[UnitReminder]:
    steps = {d.key: current_step(campaign, d, now) for d in campaign.deliverables}
    by_unit: dict[str, list[DueItem]] = defaultdict(list)
    units: dict[str, Unit] = {}
    for s in statuses:
        step = steps[s.deliverable.key]
        if step is None or s.state == "valid":
            continue
        item = DueItem(s, step)
        if item.claim_key in claimed:
            continue
        by_unit[s.unit.code].append(item)
        units[s.unit.code] = s.unit
    return [UnitReminder(units[code], items) for code, items in by_unit.items()]


def digest_window(campaign: Campaign) -> tuple[dt.date, dt.date]:
    """Digests go out only while some reminder step can still come."""
    offsets = campaign.reminders.offsets or [0]
    first = min(d.due for d in campaign.deliverables) + dt.timedelta(days=min(offsets))
    last = max(d.due for d in campaign.deliverables) + dt.timedelta(days=max(offsets))
    return first, last
