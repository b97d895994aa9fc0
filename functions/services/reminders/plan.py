"""Which reminders are due now. Pure: statuses, claims and a clock in; a plan out.

The step (an offset of the policy) only decides *whether* a reminder goes out and keys its claim. What a
mail says about time (days left, days overdue) is computed from the clock and the due date: a run that
missed days sends the most recent step, and that step's offset is not how late the unit is.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign, Deliverable
from schemas.i18n import Language, t
from schemas.roster import Unit


@dataclass(frozen=True)
class Timing:
    """Where the clock stands against a deliverable's due date, in the campaign's time zone."""

    overdue: bool  # past the due date and time
    days: int  # overdue: calendar days since the due date (0 = later on the due day); else days left

    def label(self, lang: Language) -> str:
        if self.overdue:
            if self.days == 0:
                return t(lang, "已过截止时间", "past the deadline")
            return t(lang, f"已逾期{self.days}天", f"{self.days} day(s) overdue")
        if self.days == 0:
            return t(lang, "今天截止", "due today")
        return t(lang, f"距截止还有{self.days}天", f"{self.days} day(s) left")


def timing(campaign: Campaign, deliverable: Deliverable, now: dt.datetime) -> Timing:
    today = now.astimezone(campaign.tz).date()
    if now > campaign.due_at(deliverable.key):
        return Timing(True, max(0, (today - deliverable.due).days))
    return Timing(False, max(0, (deliverable.due - today).days))


@dataclass(frozen=True)
class DueItem:
    status: UnitStatus
    step: int  # the policy's offset that made this reminder due (the claim's key), not the lateness
    timing: Timing

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


def step_time(campaign: Campaign, deliverable: Deliverable, step: int) -> dt.datetime:
    day = deliverable.due + dt.timedelta(days=step)
    return dt.datetime.combine(day, dt.time(campaign.reminders.hour), tzinfo=campaign.tz)


def current_step(campaign: Campaign, deliverable: Deliverable, now: dt.datetime) -> int | None:
    """The most recent step whose time has come: a run that missed days sends that one, not a burst.
    None before the first step and after due + stop_after_days (the organiser takes over then)."""
    policy = campaign.reminders
    stop = policy.stop_after_for(deliverable.key)
    if stop is None or now.astimezone(campaign.tz).date() > deliverable.due + dt.timedelta(days=stop):
        return None
    passed = [s for s in policy.offsets_for(deliverable.key) if step_time(campaign, deliverable, s) <= now]
    return max(passed) if passed else None


def plan_reminders(
    campaign: Campaign, statuses: list[UnitStatus], claimed: set[str], now: dt.datetime
) -> list[UnitReminder]:
    steps = {d.key: current_step(campaign, d, now) for d in campaign.deliverables}
    timings = {d.key: timing(campaign, d, now) for d in campaign.deliverables}
    by_unit: dict[str, list[DueItem]] = defaultdict(list)
    units: dict[str, Unit] = {}
    for s in statuses:
        step = steps[s.deliverable.key]
        # A returned version is valid but must be sent again: it is reminded like a pending one.
        if step is None or (s.state == "valid" and s.review != "returned"):
            continue
        item = DueItem(s, step, timings[s.deliverable.key])
        if item.claim_key in claimed:
            continue
        by_unit[s.unit.code].append(item)
        units[s.unit.code] = s.unit
    return [UnitReminder(units[code], items) for code, items in by_unit.items()]


def digest_window(campaign: Campaign) -> tuple[dt.date, dt.date]:
    """Digests go out only while some reminder step can still come."""
    policy = campaign.reminders
    firsts, lasts = [], []
    for d in campaign.deliverables:
        offsets = policy.offsets_for(d.key) or [0]
        stop = policy.stop_after_for(d.key)
        firsts.append(d.due + dt.timedelta(days=min(offsets)))
        lasts.append(d.due + dt.timedelta(days=max(0, stop if stop is not None else 0)))
    return min(firsts), max(lasts)
