"""The Google poll at the HTTP level, end to end against the in-memory Drive + Sheets (tests/fakes/google.py).

Provision → a unit edits → the poll annotates the cells → the unit ticks 提交 → a receipt → the master
Google Sheet shows it. Every step checks the exact requests and counts calls per operation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from functions.bootstrap import App, open_app
from functions.ports import MailRefused
from functions.services.google.poll import CURSOR_META, LIST_FIELDS, list_query, run_poll
from functions.services.google.provision import provision
from functions.services.google.publish_master import publish_master
from functions.services.google.registry import all_sheets
from sheets_templates import layout
from tests.fakes.google import FakeGoogle, serial
from tests.helpers.google import enable_google
from tests.helpers.google_poll import (
    NOW,
    SCHOOLS,
    fill,
    outbox,
    provisioned,
    session_for,
    sheet_of,
    status,
    tick,
)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle) -> App:
    return provisioned(wujin_dir, google)


def test_provision_edit_poll_annotate_submit_receipt_master(google: FakeGoogle, app: App) -> None:
    unit = app.roster.units[0]
    sid = sheet_of(app, unit)
    activities_title = app.campaign.tables_of("plan")[0].title("zh")

    # Right after provisioning every sheet was last changed by the system: nothing is read.
    first = run_poll(app, session_for(app), now=NOW)
    assert first.listed == SCHOOLS and first.own_changes == SCHOOLS and first.checks == []
    assert google.counts() == {"drive.files.list": 1}
    (q,) = google.queries("drive.files.list")
    assert q["q"] == [list_query("FOLDER123", None)] and q["orderBy"] == ["modifiedTime"]
    assert q["fields"] == [LIST_FIELDS] and q["pageSize"] == ["1000"]
    assert app.store.get_meta(CURSOR_META) == first.cursor != ""

    # The unit types its plan with one bad date and does not tick 提交.
    google.reset_counts()
    fill(google, app, unit, break_date=True)
    second = run_poll(app, session_for(app), now=NOW)
    assert google.counts() == {"drive.files.list": 1, "sheets.values.batchGet": 1, "sheets.batchUpdate": 1}
    assert google.queries("drive.files.list")[0]["q"] == [list_query("FOLDER123", first.cursor)]
    (get,) = google.queries("sheets.values.batchGet")
    assert get["ranges"] == ["'填写说明'!A1:E40", f"'{activities_title}'!A1:Q", "'方案材料'!A1:C11"]
    assert get["valueRenderOption"] == ["UNFORMATTED_VALUE"] and get["dateTimeRenderOption"] == [
        "SERIAL_NUMBER"
    ]
    (check,) = second.checks
    assert check.state == "draft" and check.stored and check.errors >= 1 and check.receipt is None
    state, checked_at, problems = status(google, app, unit)
    assert state.startswith("已填写未提交") and f"有{check.errors}个问题" in state
    assert checked_at == "2022-11-20 10:00" and "D3" in problems
    bad = google.tab(sid, activities_title).note("D3")  # the second activity's start date
    assert bad is not None and bad.startswith("【错误】") and "日期" in bad
    assert app.store.latest(unit.code, "plan").status == "draft"  # type: ignore[union-attr]
    assert outbox(app) == []

    # The write-back changed the file: the next poll sees that the change is its own and reads nothing.
    google.reset_counts()
    again = run_poll(app, session_for(app), now=NOW)
    assert again.own_changes >= 1 and again.checks == [] and again.versions_created == 0
    assert google.counts() == {"drive.files.list": 1}
    assert len(app.store.history(unit.code, "plan")) == 1

    # The unit fixes the date: the note goes, the status says filled in but not submitted.
    google.user_edit(sid, activities_title, {"D3": serial(app.campaign.week.start + dt.timedelta(days=1))},
                     email=unit.emails[0])  # fmt: skip
    fixed = run_poll(app, session_for(app), now=NOW)
    assert [c.state for c in fixed.checks] == ["draft"] and fixed.checks[0].errors == 0
    assert google.tab(sid, activities_title).note("D3") is None
    assert status(google, app, unit)[0] == "已填写未提交"
    # Header help notes are not touched by the clearing of problem notes.
    assert google.tab(sid, activities_title).note("B1")

    # The unit ticks 提交: a submitted version, 已通过, and one receipt with the report attached.
    tick(google, app, unit)
    submitted = run_poll(app, session_for(app), now=NOW)
    (check,) = submitted.checks
    assert check.state == "valid" and check.stored and check.receipt == "sent"
    assert submitted.version_ids == [app.store.latest(unit.code, "plan").id]  # type: ignore[union-attr]
    assert status(google, app, unit)[0] == "已通过" and status(google, app, unit)[2] == ""
    (receipt,) = outbox(app)
    assert receipt["To"] == unit.emails[0] and receipt["Subject"].startswith("【回执】")
    body = receipt.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "已收到贵单位报送的" in body and "已通过" in body and sid in body
    (attachment,) = list(receipt.iter_attachments())
    assert "结果：通过" in attachment.get_content()

    # Nothing new: no receipt twice, no version twice.
    assert run_poll(app, session_for(app), now=NOW).checks == []
    assert len(outbox(app)) == 1 and len(app.store.history(unit.code, "plan")) == 3

    # The master Google Sheet shows the unit's submission.
    google.reset_counts()
    published = publish_master(app, session_for(app), now=NOW)
    assert published.complete
    master_id = published.spreadsheet_id
    rows = [r for grid in google.tabs[master_id].values() for r in grid.grid()]
    assert any(unit.code in row and "已通过" in row for row in rows)
    assert sum(google.counts().values()) <= 10


def test_unticking_makes_a_draft_and_a_cleared_sheet_is_not_submitted(google: FakeGoogle, app: App) -> None:
    unit = app.roster.units[1]
    fill(google, app, unit)
    tick(google, app, unit)
    assert run_poll(app, session_for(app), now=NOW).checks[0].state == "valid"
    tick(google, app, unit, value=False)
    checked = run_poll(app, session_for(app), now=NOW).checks[0]
    assert checked.state == "draft" and checked.stored
    assert app.store.latest(unit.code, "plan").status == "draft"  # type: ignore[union-attr]
    assert len(outbox(app)) == 1  # one receipt, for the one submission


def test_budget_runs_out_mid_poll_and_the_next_poll_resumes_without_repeating(
    google: FakeGoogle, wujin_dir: Path
) -> None:
    enable_google(wujin_dir, schools=6, sheet_deliverables=["plan"], call_budget=5)
    app = open_app(wujin_dir)
    app.campaign.google.call_budget = 1000  # type: ignore[union-attr]
    provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    app.campaign.google.call_budget = 5  # type: ignore[union-attr]
    for unit in app.roster.units:
        fill(google, app, unit)
    google.reset_counts()

    first = run_poll(app, session_for(app), now=NOW)  # 1 list + 2 sheets x 2 calls = 5
    assert first.stopped and len(first.checks) == 2 and first.versions_created == 2
    assert sum(google.counts().values()) == 5
    checked = [c.unit for c in first.checks]
    second = run_poll(app, session_for(app), now=NOW)
    third = run_poll(app, session_for(app), now=NOW)
    checked += [c.unit for c in second.checks] + [c.unit for c in third.checks]
    assert sorted(checked) == sorted(u.code for u in app.roster.units)  # each once, none lost
    assert not third.stopped
    fourth = run_poll(app, session_for(app), now=NOW)
    assert fourth.checks == [] and fourth.versions_created == 0
    assert all(len(app.store.history(u.code, "plan")) == 1 for u in app.roster.units)


def test_a_deadline_during_the_write_back_loses_nothing(google: FakeGoogle, app: App) -> None:
    unit = app.roster.units[0]
    fill(google, app, unit, break_date=True)
    google.failing("sheets.batchUpdate", 503, times=10)
    session = session_for(app)
    session.http.max_retries = 1
    stopped = run_poll(app, session, now=NOW)
    assert stopped.stopped and stopped.checks == []
    assert app.store.latest(unit.code, "plan") is not None  # stored before the write-back failed
    google.fail.clear()
    resumed = run_poll(app, session_for(app), now=NOW)
    (check,) = resumed.checks
    assert not check.stored and check.state == "draft"  # same content: no second version
    assert status(google, app, unit)[0].startswith("已填写未提交")
    assert len(app.store.history(unit.code, "plan")) == 1


def test_a_deleted_sheet_is_reported_and_the_others_are_checked(google: FakeGoogle, app: App) -> None:
    gone, kept = app.roster.units[0], app.roster.units[1]
    fill(google, app, gone)
    fill(google, app, kept)
    del google.tabs[sheet_of(app, gone)]
    result = run_poll(app, session_for(app), now=NOW)
    by_unit = {c.unit: c for c in result.checks}
    assert by_unit[gone.code].problem.startswith("404") and by_unit[kept.code].state == "draft"
    assert not result.stopped


def test_files_that_are_no_units_sheet_are_passed_over(google: FakeGoogle, app: App) -> None:
    google.spreadsheet("stray", "别人的表格", parents=["FOLDER123"], owner="someone@example.org")
    result = run_poll(app, session_for(app), now=NOW)
    assert result.not_ours == 1 and result.checks == []
    assert google.counts() == {"drive.files.list": 1}


def test_registry_is_what_identifies_the_unit(google: FakeGoogle, app: App) -> None:
    unit, other = app.roster.units[0], app.roster.units[1]
    fill(google, app, unit)
    # The unit overwrites the hidden identity tab with another unit's code: the registry still decides.
    google.user_edit(sheet_of(app, unit), layout.META_SHEET, {"B2": other.code}, email=unit.emails[0])
    run_poll(app, session_for(app), now=NOW)
    assert app.store.latest(unit.code, "plan") is not None
    assert app.store.latest(other.code, "plan") is None
    assert {r.unit for r in all_sheets(app.store)} == {u.code for u in app.roster.units}


class RefusingOnce:
    """A transport that refuses its first message before accepting it (a full mailbox, a 4xx), then delivers."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.refused = 0

    def send(self, message: Any) -> str:
        if not self.refused:
            self.refused += 1
            raise MailRefused("451 try again later")
        self.sent.append(message)
        return f"id-{len(self.sent)}"


def test_a_refused_receipt_is_sent_by_the_next_poll_without_reading_the_sheet(
    google: FakeGoogle, app: App
) -> None:
    mailer = RefusingOnce()
    app.use_mailer(mailer)
    unit = app.roster.units[0]
    fill(google, app, unit)
    tick(google, app, unit)
    first = run_poll(app, session_for(app), now=NOW)
    assert first.checks[0].receipt == "refused" and mailer.sent == []
    google.reset_counts()
    second = run_poll(app, session_for(app), now=NOW)
    assert second.checks == [] and second.receipts_sent == 1
    assert google.counts() == {"drive.files.list": 1}  # the sheet is not read again for it
    (receipt,) = mailer.sent
    assert receipt["Subject"].startswith("【回执】") and unit.name in receipt["Subject"]
    assert run_poll(app, session_for(app), now=NOW).receipts_sent == 0 and len(mailer.sent) == 1
