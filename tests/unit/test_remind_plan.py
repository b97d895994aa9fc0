"""Reminder planning: which step is due, for whom, and never a burst after missed days."""

from __future__ import annotations

import datetime as dt

from functions.services.reminders.plan import current_step, digest_window, plan_reminders, reminder_claim_key
from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign
from schemas.roster import Roster


def _at(campaign: Campaign, day: str, hour: int) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=campaign.tz)


def test_current_step_follows_policy_and_hour(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    plan = campaign.deliverable("plan")  # due 2022-11-24, steps -3 -1 0 +1 +3 +5 at 09:00
    assert current_step(campaign, plan, _at(campaign, "2022-11-20", 12)) is None
    assert current_step(campaign, plan, _at(campaign, "2022-11-21", 8)) is None
    assert current_step(campaign, plan, _at(campaign, "2022-11-21", 9)) == -3
    assert current_step(campaign, plan, _at(campaign, "2022-11-22", 12)) == -3
    assert current_step(campaign, plan, _at(campaign, "2022-11-24", 10)) == 0
    assert current_step(campaign, plan, _at(campaign, "2022-11-26", 10)) == 1
    assert current_step(campaign, plan, _at(campaign, "2023-03-01", 10)) == 5
    # 09:00 Shanghai is 01:00 UTC: an aware UTC clock gives the same answer
    utc = dt.datetime(2022, 11, 21, 1, 0, tzinfo=dt.UTC)
    assert current_step(campaign, plan, utc) == -3


def test_plan_only_for_missing_draft_or_errors_and_unclaimed(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    plan = campaign.deliverable("plan")
    units = roster.units[:4]
    statuses = [
        UnitStatus(units[0], plan, "missing", None),
        UnitStatus(units[1], plan, "valid", None),
        UnitStatus(units[2], plan, "errors", None),
        UnitStatus(units[3], plan, "draft", None),
    ]
    now = _at(campaign, "2022-11-23", 10)  # step -1
    planned = plan_reminders(campaign, statuses, set(), now)
    assert [r.unit.code for r in planned] == [units[0].code, units[2].code, units[3].code]
    assert all(r.items[0].step == -1 for r in planned)
    claimed = {reminder_claim_key("plan", units[0].code, -1)}
    again = plan_reminders(campaign, statuses, claimed, now)
    assert [r.unit.code for r in again] == [units[2].code, units[3].code]


def test_two_deliverables_due_together_make_one_email(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    statuses = [UnitStatus(unit, d, "missing", None) for d in campaign.deliverables]
    now = _at(campaign, "2022-12-10", 10)
    planned = plan_reminders(campaign, statuses, set(), now)
    assert len(planned) == 1 and [i.step for i in planned[0].items] == [5, 1]


def test_digest_window(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    assert digest_window(campaign) == (dt.date(2022, 11, 21), dt.date(2022, 12, 14))
