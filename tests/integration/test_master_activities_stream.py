"""The master's activities sheet (issue 13 §4): every unit's activity rows come from one streamed read of
the store (Store.iter_versions), in the statuses' order, instead of one query per unit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any, cast

from functions.adapters.store.sqlite import SqliteStore
from functions.adapters.xlsx.reader import read_workbook
from functions.ports import Store
from functions.services.master.master_sheets import master_sheets
from functions.services.status.unit_states import unit_statuses
from functions.validate.validator import validate_submission
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import good_activity, school_plan, unit_of_type, write_workbook


class CountingStore:
    """A real store whose calls are counted: the test checks how the sheet reads, not what it reads."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self.inner, name)


def test_activities_sheet_reads_every_plan_in_one_streamed_read(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    inner = SqliteStore(tmp_path / "huizong.sqlite3")
    received = dt.datetime(2022, 11, 25, 9, tzinfo=dt.UTC)
    expected: dict[str, list[str]] = {}
    for i in range(3):
        school = unit_of_type(roster, "中小学", i)
        entries = school_plan(campaign, school)
        extra = good_activity(school, f"第{i}校读书会", "读书会", campaign.week.start)
        entries["activities"] = entries["activities"][: 2 + i] + [extra]
        path = write_workbook(tmp_path / f"{school.code}.xlsx", campaign, "plan", school, entries)
        parsed, report = validate_submission(read_workbook(path, campaign, roster), campaign, roster)
        assert parsed is not None, report
        inner.add_version(parsed, report, received_at=received, late=False)
        expected[school.code] = [a["name"] for a in entries["activities"]]
    store = CountingStore(inner)
    statuses = unit_statuses(campaign, roster, cast(Store, store))
    sheets = master_sheets(campaign, roster, cast(Store, store), now=received, statuses=statuses)
    (activities,) = [s for s in sheets if s.key == "activities"]
    store.calls.clear()

    rows = [list(r) for r in activities.rows]

    assert store.calls == Counter({"iter_versions": 1}), store.calls
    names = {a for names in expected.values() for a in names}
    got: dict[str, list[str]] = {}
    for row in rows:
        code = next(c for c in row if isinstance(c, str) and c in expected)
        got.setdefault(code, []).append(next(c for c in row if isinstance(c, str) and c in names))
    assert got == expected  # every unit's rows, whole, each unit once
    order = [s.unit.code for s in statuses if s.unit.code in expected and s.deliverable.key == "plan"]
    assert list(got) == order  # in the statuses' order, as before
    inner.close()
