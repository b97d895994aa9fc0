"""The organiser's review in the unit's Google sheet (issue 15), at the HTTP level against tests/fakes/google.py.

Every request goes through requests + responses into the fake, which checks it against Google's discovery
documents (a request the real API would refuse fails the test, see tests/conftest.py). The review actions
are the real ones (functions/services/review/actions.py); the sheet is updated by the next poll.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from functions.bootstrap import App, open_app
from functions.services.google.poll import run_poll, summary_lines
from functions.services.google.provision import provision
from functions.services.google.review_status import (
    ACTIONS_META,
    COMMENT_CELL,
    COMMENT_LABEL_CELL,
    REVIEW_CELL,
    REVIEW_LABEL_CELL,
)
from functions.services.review.actions import approve, reopen, return_submission
from sheets_templates import layout
from tests.fakes.google import FakeGoogle
from tests.helpers.google import enable_google
from tests.helpers.google_poll import NOW, SCHOOLS, fill, session_for, sheet_of, status, tick

# Untrusted text as an organiser might paste it: a formula must stay text in the unit's sheet.
COMMENT = '=HYPERLINK("http://evil.example/","点此") 请补充活动照片，并写明地点'


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


def _provisioned(folder: Path, google: FakeGoogle, review: str) -> App:
    enable_google(folder, schools=SCHOOLS, sheet_deliverables=["plan"])
    path = folder / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"review: {review}\n", encoding="utf-8")
    app = open_app(folder)
    assert app.campaign.review == review
    result = provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    assert result.count("created") == SCHOOLS and not result.stopped
    return app


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle) -> App:
    return _provisioned(wujin_dir, google, "required")


def _rows(google: FakeGoogle, app: App, unit_index: int = 0) -> tuple[Any, Any, Any, Any]:
    tab = google.tab(
        sheet_of(app, app.roster.units[unit_index]), layout.INSTRUCTIONS_SHEET[app.campaign.language]
    )
    return (tab.value(REVIEW_LABEL_CELL), tab.value(REVIEW_CELL), tab.value(COMMENT_LABEL_CELL),
            tab.value(COMMENT_CELL))  # fmt: skip


def _submit(google: FakeGoogle, app: App, unit_index: int = 0) -> None:
    unit = app.roster.units[unit_index]
    fill(google, app, unit)
    tick(google, app, unit)
    (check,) = [c for c in run_poll(app, session_for(app), now=NOW).checks if c.unit == unit.code]
    assert check.state == "valid" and check.stored


def _review_cells(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells a batchUpdate writes on the instructions tab at rows 7 and 8 (the review rows)."""
    out = []
    for req in body["requests"]:
        upd = req.get("updateCells")
        if upd and upd["start"]["sheetId"] == 0 and upd["start"]["rowIndex"] in (6, 7):
            out.extend(upd["rows"][0]["values"])
    return out


def test_return_approve_reopen_show_in_the_sheet_on_the_next_poll(google: FakeGoogle, app: App) -> None:
    unit = app.roster.units[0]
    # Provisioned sheets have no review rows: they appear with the first review (old sheets too).
    assert _rows(google, app) == (None, None, None, None)

    _submit(google, app)
    # Submitted without errors in a campaign with review: 待审核, written in the check's own batchUpdate.
    assert _rows(google, app) == ("审核结果", "待审核", "审核意见", "")

    # The organiser returns it. The action touches no Google API; the sheet changes on the next poll.
    google.reset_counts()
    done = return_submission(app, unit.code, "plan", by="organiser@wujin.test", now=NOW, comment=COMMENT)
    assert google.counts() == {}
    assert done.record.comment == COMMENT
    polled = run_poll(app, session_for(app), now=NOW)
    assert polled.checks == [] and polled.reviews_shown == [f"{unit.code} plan"]
    assert google.counts() == {"drive.files.list": 1, "sheets.batchUpdate": 1}
    assert _rows(google, app) == ("审核结果", "已退回", "审核意见", COMMENT)
    # The action is recorded as handled, so idle polls do not compare the review again.
    assert json.loads(app.store.get_meta(ACTIONS_META) or "{}") == {f"{unit.code}/plan": done.record.n}
    assert any("审核结果已写入 1 个表格" in line for line in summary_lines(polled, "zh"))
    # The comment went as a literal string, never as a formula (and no values API with USER_ENTERED).
    (body,) = google.bodies("sheets.batchUpdate")
    cells = _review_cells(body)
    assert {"stringValue": COMMENT} in [c["userEnteredValue"] for c in cells]
    assert "formulaValue" not in json.dumps(body)
    assert not any(op.startswith("sheets.values.update") or "append" in op for op in google.ops())
    # Only this unit's sheet was written; the others never had a review.
    assert _rows(google, app, 1) == (None, None, None, None)

    # Nothing changed since: the next poll writes nothing (its own write is not read either).
    google.reset_counts()
    again = run_poll(app, session_for(app), now=NOW)
    assert again.reviews_shown == [] and again.checks == []
    assert google.counts() == {"drive.files.list": 1}

    # The unit fixes and sends again: the check's write-back turns 已退回 into 待审核 and drops the comment.
    activities = app.campaign.tables_of("plan")[0].title("zh")
    google.user_edit(
        sheet_of(app, unit), activities, {"F2": "社区学习中心（已补照片）"}, email=unit.emails[0]
    )
    resent = run_poll(app, session_for(app), now=NOW)
    (check,) = resent.checks
    assert check.stored and resent.reviews_shown == []
    assert _rows(google, app)[1:] == ("待审核", "审核意见", "")

    approve(app, unit.code, "plan", by="organiser@wujin.test", now=NOW, comment="同意")
    assert run_poll(app, session_for(app), now=NOW).reviews_shown == [f"{unit.code} plan"]
    assert _rows(google, app)[1::2] == ("已通过", "同意")
    reopen(app, unit.code, "plan", by="organiser@wujin.test", now=NOW)
    run_poll(app, session_for(app), now=NOW)
    assert _rows(google, app)[1::2] == ("待审核", "")
    # The check result above stays the check's: the review rows are beside it, not over it.
    assert status(google, app, unit)[0] == "已通过"


def test_a_google_outage_never_loses_the_return_and_the_next_poll_shows_it(
    google: FakeGoogle, app: App
) -> None:
    unit = app.roster.units[0]
    _submit(google, app)
    google.failing("drive.files.list", 503, times=20)
    done = return_submission(app, unit.code, "plan", by="organiser@wujin.test", now=NOW, comment="缺少照片")
    assert done.record.n == 1  # recorded, and its mail handled, while Google is down
    failed = run_poll(app, session_for(app), now=NOW)
    assert failed.stopped and failed.reviews_shown == []
    assert _rows(google, app)[1] == "待审核"
    google.fail.clear()
    recovered = run_poll(app, session_for(app), now=NOW)
    assert recovered.reviews_shown == [f"{unit.code} plan"]
    assert _rows(google, app)[1::2] == ("已退回", "缺少照片")


def test_a_sheet_that_refuses_the_write_is_reported_and_retried(google: FakeGoogle, app: App) -> None:
    gone, kept = app.roster.units[0], app.roster.units[1]
    _submit(google, app, 0)
    _submit(google, app, 1)
    for u in (gone, kept):
        return_submission(app, u.code, "plan", by="organiser@wujin.test", now=NOW, comment="请补充")
    saved = google.tabs.pop(sheet_of(app, gone))
    result = run_poll(app, session_for(app), now=NOW)
    assert result.reviews_shown == [f"{kept.code} plan"] and not result.stopped
    (problem,) = result.review_problems
    assert problem.startswith(f"{gone.code} plan: 404")
    assert any("下次轮询重试" in line for line in summary_lines(result, "zh"))
    # Back (access restored): the missed review is written then.
    google.tabs[sheet_of(app, gone)] = saved
    assert run_poll(app, session_for(app), now=NOW).reviews_shown == [f"{gone.code} plan"]
    assert _rows(google, app, 0)[1] == "已退回"


def test_no_review_campaign_adds_no_rows_until_the_organiser_returns(
    wujin_dir: Path, google: FakeGoogle
) -> None:
    app = _provisioned(wujin_dir, google, "none")
    _submit(google, app)
    assert _rows(google, app) == (None, None, None, None)  # no 待审核 where nothing is reviewed
    return_submission(app, app.roster.units[0].code, "plan", by="o@wujin.test", now=NOW, comment="请改")
    run_poll(app, session_for(app), now=NOW)
    assert _rows(google, app) == ("审核结果", "已退回", "审核意见", "请改")


def test_english_campaign_gets_english_rows(wujin_dir: Path, google: FakeGoogle) -> None:
    enable_google(wujin_dir, schools=SCHOOLS, sheet_deliverables=["plan"], language="en")
    path = wujin_dir / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "review: optional\n", encoding="utf-8")
    app = open_app(wujin_dir)
    provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    _submit(google, app)
    return_submission(app, app.roster.units[0].code, "plan", by="o@wujin.test", now=NOW, comment="fix F2")
    run_poll(app, session_for(app), now=NOW)
    assert _rows(google, app) == ("Review", "returned", "Reviewer's comment", "fix F2")
