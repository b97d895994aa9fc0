"""Reminder planning: which step is due, for whom, and never a burst after missed days."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from functions.services.reminders.plan import (
    current_step,
    digest_window,
    plan_reminders,
    reminder_claim_key,
    step_time,
    timing,
)
from functions.services.status.unit_states import UnitStatus, overdue_missing
from schemas.campaign import Campaign
from schemas.roster import Roster


def _at(campaign: Campaign, day: str, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=campaign.tz)


def _with_policy(campaign: Campaign, **reminders: Any) -> Campaign:
    """The campaign as if campaign.yaml's reminders block said this (validated like the file)."""
    data = campaign.model_dump()
    data["reminders"] = {**data["reminders"], **reminders}
    return Campaign.model_validate(data)


def test_current_step_follows_policy_and_hour(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    plan = campaign.deliverable("plan")  # due 2022-11-24, steps -3 -1 0 +1 +3 +5 at 09:00
    assert current_step(campaign, plan, _at(campaign, "2022-11-20", 12)) is None
    assert current_step(campaign, plan, _at(campaign, "2022-11-21", 8)) is None
    assert current_step(campaign, plan, _at(campaign, "2022-11-21", 9)) == -3
    assert current_step(campaign, plan, _at(campaign, "2022-11-22", 12)) == -3
    assert current_step(campaign, plan, _at(campaign, "2022-11-24", 10)) == 0
    assert current_step(campaign, plan, _at(campaign, "2022-11-26", 10)) == 1
    # Past due + stop_after_days (default: the last offset, 5) nothing is sent any more.
    assert current_step(campaign, plan, _at(campaign, "2022-11-29", 23)) == 5
    assert current_step(campaign, plan, _at(campaign, "2022-11-30", 9)) is None
    assert current_step(campaign, plan, _at(campaign, "2023-03-01", 10)) is None
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
    campaign = _with_policy(campaign, stop_after_days=30)
    now = _at(campaign, "2022-12-10", 10)
    planned = plan_reminders(campaign, statuses, set(), now)
    assert len(planned) == 1 and [i.step for i in planned[0].items] == [5, 1]
    # Each item says how late it really is: the plan 16 days (its step is 5), the summary 1 day.
    assert [i.timing.days for i in planned[0].items] == [16, 1]


def test_digest_window(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    assert digest_window(campaign) == (dt.date(2022, 11, 21), dt.date(2022, 12, 14))
    assert digest_window(_with_policy(campaign, stop_after_days=10)) == (
        dt.date(2022, 11, 21),
        dt.date(2022, 12, 19),
    )


def test_every_offset_starts_at_its_hour_and_lasts_until_the_next(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    for key in ("plan", "summary"):
        d = campaign.deliverable(key)
        offsets = campaign.reminders.offsets
        previous = None
        for o in offsets:
            start = step_time(campaign, d, o)
            assert start.date() == d.due + dt.timedelta(days=o)
            assert current_step(campaign, d, start - dt.timedelta(minutes=1)) == previous
            assert current_step(campaign, d, start) == o
            previous = o


def test_timing_is_computed_from_the_clock_not_the_step(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    plan = campaign.deliverable("plan")  # due 2022-11-24 23:59:59
    assert timing(campaign, plan, _at(campaign, "2022-11-23", 10)).label("zh") == "距截止还有1天"
    assert timing(campaign, plan, _at(campaign, "2022-11-24", 10)).label("zh") == "今天截止"
    assert timing(campaign, plan, _at(campaign, "2022-11-25", 9)).label("zh") == "已逾期1天"
    late = timing(campaign, plan, _at(campaign, "2023-01-04", 9))
    assert (late.overdue, late.days, late.label("zh")) == (True, 41, "已逾期41天")
    assert late.label("en") == "41 day(s) overdue"


def test_catch_up_after_missed_days_sends_one_step_with_the_true_lateness(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    campaign = _with_policy(campaign, stop_after_days=60)
    plan = campaign.deliverable("plan")
    unit = roster.units[0]
    statuses = [UnitStatus(unit, plan, "missing", None)]
    claimed = {reminder_claim_key("plan", unit.code, -3)}  # the last run was three days before the due date
    # No run for six weeks: one reminder, for the latest step, saying 41 days (the bug said 5).
    planned = plan_reminders(campaign, statuses, claimed, _at(campaign, "2023-01-04", 10))
    assert len(planned) == 1 and len(planned[0].items) == 1
    item = planned[0].items[0]
    assert item.step == 5 and item.timing.days == 41
    assert item.claim_key == reminder_claim_key("plan", unit.code, 5)
    # Once that step is claimed, nothing more until the stop.
    assert (
        plan_reminders(campaign, statuses, claimed | {item.claim_key}, _at(campaign, "2023-01-05", 10)) == []
    )
    assert plan_reminders(campaign, statuses, claimed, _at(campaign, "2023-01-23", 10))  # due + 60
    assert plan_reminders(campaign, statuses, claimed, _at(campaign, "2023-01-24", 10)) == []


def test_day_before_and_after_the_due_date(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    summary = campaign.deliverable("summary")  # due 2022-12-09
    statuses = [UnitStatus(roster.units[0], summary, "missing", None)]
    before = plan_reminders(campaign, statuses, set(), _at(campaign, "2022-12-08", 10))[0].items[0]
    after = plan_reminders(campaign, statuses, set(), _at(campaign, "2022-12-10", 10))[0].items[0]
    assert (before.step, before.timing.overdue, before.timing.days) == (-1, False, 1)
    assert (after.step, after.timing.overdue, after.timing.days) == (1, True, 1)


def test_two_deliverables_due_on_different_dates_keep_their_own_calendar(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    campaign = _with_policy(campaign, stop_after_days=20)
    unit = roster.units[0]
    statuses = [UnitStatus(unit, d, "missing", None) for d in campaign.deliverables]
    items = plan_reminders(campaign, statuses, set(), _at(campaign, "2022-12-08", 10))[0].items
    by_key = {i.deliverable.key: i for i in items}
    assert (by_key["plan"].step, by_key["plan"].timing.overdue, by_key["plan"].timing.days) == (5, True, 14)
    assert (by_key["summary"].step, by_key["summary"].timing.overdue) == (-1, False)


def test_per_deliverable_offsets_and_stop(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    campaign = _with_policy(
        campaign, deliverables={"summary": {"offsets": [0, 2], "stop_after_days": 10}}, stop_after_days=1
    )
    plan, summary = campaign.deliverable("plan"), campaign.deliverable("summary")
    assert current_step(campaign, summary, _at(campaign, "2022-12-08", 10)) is None  # no -1 step for it
    assert current_step(campaign, summary, _at(campaign, "2022-12-09", 10)) == 0
    assert current_step(campaign, summary, _at(campaign, "2022-12-19", 10)) == 2
    assert current_step(campaign, summary, _at(campaign, "2022-12-20", 10)) is None
    assert current_step(campaign, plan, _at(campaign, "2022-11-23", 10)) == -1  # the plan keeps the default
    assert current_step(campaign, plan, _at(campaign, "2022-11-26", 10)) is None  # stopped after due + 1
    assert digest_window(campaign) == (dt.date(2022, 11, 21), dt.date(2022, 12, 19))


def test_override_for_an_unknown_deliverable_is_refused(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    with pytest.raises(ValidationError, match=r"reminders\.deliverables\.sumary：没有这份材料"):
        _with_policy(campaign, deliverables={"sumary": {"offsets": [0]}})
    with pytest.raises(ValidationError):
        _with_policy(campaign, stop_after_days=-1)


def test_overdue_missing_is_zero_before_the_due_time_and_counts_missing_after(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    plan = campaign.deliverable("plan")
    u = roster.units
    statuses = [
        UnitStatus(u[0], plan, "missing", None),
        UnitStatus(u[1], plan, "draft", None),
        UnitStatus(u[2], plan, "valid", None),
        UnitStatus(u[3], plan, "errors", None),
    ]
    assert overdue_missing(campaign, statuses, _at(campaign, "2022-11-24", 23, 59))["plan"] == 0
    assert overdue_missing(campaign, statuses, _at(campaign, "2022-11-25", 0))["plan"] == 2
