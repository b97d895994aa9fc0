"""The master Google Sheet at the HTTP level: exact requests, API-shaped replies, no network.

The shared in-memory Google (tests/fakes/google.py) applies what it is sent (tabs, grid sizes, clears,
colour rules, number formats, values) the way the Sheets v4 reference describes, refusing what the real API
refuses (values beyond the grid, deleting a rule that is not there, deleting the last tab). The published
grid is then compared cell by cell with the master.xlsx written from the same store and read back with
openpyxl.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from openpyxl import load_workbook

from functions.adapters.google.master_sheet import GET_FIELDS, body_bytes, plain_value
from functions.adapters.google.session import GoogleSession
from functions.adapters.store.memory import MemoryStore
from functions.bootstrap import App, open_app
from functions.services.google.publish_master import (
    CREATE_CLAIM,
    MasterPublishResult,
    publish_master,
    summary_lines,
)
from functions.services.google.registry import MASTER_META
from functions.services.master.master_sheets import build_master
from schemas.google import SPREADSHEET_MIME
from tests.fakes.google import Call, FakeGoogle
from tests.helpers.google import enable_google, google_session
from tests.helpers.google_master import NOW, ORGANISER, activity, add, fill_store

EPOCH = dt.datetime(1899, 12, 30)
_A1 = re.compile(r"^'((?:[^']|'')+)'!A(\d+)$")


def session_for(app: App) -> GoogleSession:
    return google_session(app.campaign.google)


# --- the shared in-memory Google, with what this module expects of every request --------------------------


def _cells_cleared_whole(call: Call) -> None:
    # A tab is emptied by one updateCells over the whole sheet: values and formats, no rows sent.
    for req in call.body["requests"]:
        if "updateCells" in req:
            spec = req["updateCells"]
            assert spec["fields"] == "userEnteredValue,userEnteredFormat" and "rows" not in spec, spec


def _values_by_rows_from_column_a(call: Call) -> None:
    for block in call.body["data"]:
        assert _A1.match(block["range"]) and block["majorDimension"] == "ROWS", block["range"]


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    # Any request the fake does not answer fails (responses raises), so nothing leaves the machine.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeGoogle(mock, file_prefix="1Master")
        fake.expect_query("sheets.get", exact=True, fields=GET_FIELDS)
        fake.expect_query(
            "drive.files.create", exact=True, supportsAllDrives="true", fields="id,name,webViewLink"
        )
        fake.expect("sheets.batchUpdate", _cells_cleared_whole)
        fake.expect("sheets.values.batchUpdate", _values_by_rows_from_column_a)
        yield fake


def xlsx_grids(app: App, path: Path, now: dt.datetime = NOW) -> dict[str, list[list[Any]]]:
    """master.xlsx from the same store, read back, in the published form (dates as serial numbers)."""
    build_master(app.campaign, app.roster, app.store, path, now=now, write=app.write_master)
    wb = load_workbook(path)
    out: dict[str, list[list[Any]]] = {}
    for ws in wb.worksheets:
        rows = []
        for row in ws.iter_rows(values_only=True):
            cells = [plain_value(v)[0] if isinstance(v, dt.datetime) else v for v in row]
            cells = [None if v == "" else v for v in cells]
            while cells and cells[-1] is None:
                cells.pop()
            rows.append(cells)
        while rows and not rows[-1]:
            rows.pop()
        out[ws.title] = rows
    return out


def assert_same(published: dict[str, list[list[Any]]], xlsx: dict[str, list[list[Any]]]) -> None:
    assert list(published) == list(xlsx)
    for name, rows in xlsx.items():
        got = published[name]
        assert len(got) == len(rows), name
        for r, (a, b) in enumerate(zip(got, rows, strict=True)):
            assert len(a) == len(b), (name, r, a, b)
            for x, y in zip(a, b, strict=True):
                if isinstance(x, float) or isinstance(y, float):
                    assert x == pytest.approx(y, abs=1e-6), (name, r)  # xlsx keeps datetimes to the ms
                else:
                    assert x == y, (name, r, a, b)


# --- tests ---------------------------------------------------------------------------------------------


def test_first_publish_creates_shares_once_and_matches_the_xlsx(
    google: FakeGoogle, wujin_dir: Path, tmp_path: Path
) -> None:
    enable_google(wujin_dir, master_viewers=["leader@example.org", "WJSQJY@example.org"])
    app = open_app(wujin_dir)
    fill_store(app)
    result = publish_master(app, session_for(app), now=NOW)

    assert result.complete and result.created and result.stopped == ""
    sid = result.spreadsheet_id
    assert app.store.get_meta(MASTER_META) == sid
    assert result.url == f"https://docs.google.com/spreadsheets/d/{sid}/edit"
    assert google.ops() == ["drive.files.create", "drive.permissions.create", "drive.permissions.create",
                            "sheets.get", "sheets.batchUpdate", "sheets.values.batchUpdate"]  # fmt: skip
    assert result.calls == {"drive.files.create": 1, "drive.permissions.create": 2, "sheets.get": 1,
                            "sheets.batchUpdate": 1, "sheets.values.batchUpdate": 1}  # fmt: skip
    assert google.bodies("drive.files.create") == [
        {
            "name": "武进区2022年全民终身学习活动周 汇总表",
            "mimeType": SPREADSHEET_MIME,
            "parents": ["FOLDER123"],
        }
    ]
    # The organiser's address is listed twice (case differs): one invitation each, readers only.
    assert [p["body"] for p in google.permissions] == [
        {"type": "user", "role": "reader", "emailAddress": ORGANISER},
        {"type": "user", "role": "reader", "emailAddress": "leader@example.org"},
    ]
    assert google.permissions[0]["query"]["emailMessage"] == ["武进区2022年全民终身学习活动周报送汇总表（只读），系统每次汇总后自动更新。"]  # fmt: skip
    assert result.shared_with == [ORGANISER, "leader@example.org"]

    # Same tabs, same order, same values as master.xlsx; Drive's empty Sheet1 is gone.
    published = google.grids(sid)
    assert list(published) == ["总览", "报送情况", "活动安排", "统计", "问题清单", "催报记录"]
    assert_same(published, xlsx_grids(app, tmp_path / "master.xlsx"))

    requests = google.bodies("sheets.batchUpdate")[0]["requests"]
    kinds = [next(iter(r)) for r in requests]
    assert kinds[:6] == ["addSheet"] * 6 and kinds[6] == "deleteSheet"
    assert requests[6] == {"deleteSheet": {"sheetId": 0}}
    status = google.tab(sid, "报送情况")
    assert status.frozen == 1 and google.tab(sid, "总览").frozen == 0
    assert status.rows == 41 and status.cols == 14  # 40 units + header; 4 unit columns + 2 × 5
    assert status.filter == {"range": {"sheetId": status.sheet_id, "startRowIndex": 0, "endRowIndex": 41,
                                       "startColumnIndex": 0, "endColumnIndex": 14}}  # fmt: skip
    header = [r["repeatCell"] for r in requests if "repeatCell" in r
              and r["repeatCell"]["range"] == {"sheetId": status.sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                                               "startColumnIndex": 0, "endColumnIndex": 14}]  # fmt: skip
    assert header and header[0]["cell"]["userEnteredFormat"]["textFormat"] == {"bold": True}

    # State colours: one rule per label on each state column (E and J), not one request per unit.
    colours = {(r["ranges"][0]["startColumnIndex"], r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]):
               r["booleanRule"]["format"].get("backgroundColorStyle", {}).get("rgbColor") for r in status.rules}  # fmt: skip
    green, red = (
        {"red": 0.7765, "green": 0.9373, "blue": 0.8078},
        {"red": 1.0, "green": 0.7804, "blue": 0.8078},
    )
    amber, grey = {"red": 1.0, "green": 0.9216, "blue": 0.6118}, {"red": 0.851, "green": 0.851, "blue": 0.851}
    assert colours == {(4, "已通过"): green, (4, "有错误（逾期）"): red, (4, "已填写未提交"): amber,
                       (4, "未报送"): grey, (9, "已通过"): green, (9, "未报送"): grey}  # fmt: skip
    assert all(
        r["ranges"][0]["startRowIndex"] == 1 and "endRowIndex" not in r["ranges"][0] for r in status.rules
    )

    # Text that looks like a formula is sent RAW and arrives as text; dates are serials with a date format.
    activities = google.tab(sid, "活动安排")
    first = published["活动安排"][1]
    assert first[5] == '=HYPERLINK("http://evil.example")' and "+86 热线" in first and "@所有人 -1" in first
    start = (app.campaign.week.start - EPOCH.date()).days
    assert first[7] == start and isinstance(first[7], int)
    assert activities.number_formats[(1, 7)] == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    assert activities.number_formats[(2, 7)] == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    assert (1, 8) not in activities.number_formats  # no end date given: nothing to format
    assert status.number_formats[(1, 5)] == {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"}
    assert all(body["valueInputOption"] == "RAW" for body in google.bodies("sheets.values.batchUpdate"))


def test_second_publish_reuses_the_sheet_clears_stale_rows_and_replaces_rules(
    google: FakeGoogle, wujin_dir: Path, tmp_path: Path
) -> None:
    enable_google(wujin_dir)
    app = open_app(wujin_dir)
    fill_store(app)
    first = publish_master(app, session_for(app), now=NOW)
    sid = first.spreadsheet_id
    status = google.tab(sid, "报送情况")
    rules_before = len(status.rules)
    # Every tab's rules are replaced (报送情况's states, 统计's 状态, 问题清单's severities…).
    tabs = ["总览", "报送情况", "活动安排", "统计", "问题清单", "催报记录"]
    rules_everywhere = sum(len(google.tab(sid, name).rules) for name in tabs)
    # A unit's plan is replaced by a shorter one; the roster loses units: fewer rows everywhere.
    code = app.roster.units[0].code
    add(app, code, "plan", {"activities": [activity(9, app.campaign.week.start)]})
    units = (wujin_dir / "units.csv").read_text(encoding="utf-8").splitlines()
    (wujin_dir / "units.csv").write_text("\n".join(units[:11]) + "\n", encoding="utf-8")
    app = open_app(wujin_dir)
    google.requests.clear()

    later = NOW + dt.timedelta(hours=1)
    second = publish_master(app, session_for(app), now=later)

    assert second.complete and not second.created and second.spreadsheet_id == sid
    assert google.ops() == ["sheets.get", "sheets.batchUpdate", "sheets.values.batchUpdate"]
    assert second.shared_with == [] and google.permissions and len(google.permissions) == 1
    requests = google.bodies("sheets.batchUpdate")[0]["requests"]
    kinds = [next(iter(r)) for r in requests]
    assert "addSheet" not in kinds and "deleteSheet" not in kinds
    assert kinds.count("updateCells") == 6 and kinds.count("deleteConditionalFormatRule") == rules_everywhere
    # Old rules go (index 0, as often as there were rules) before new ones come: they never pile up.
    assert max(i for i, k in enumerate(kinds) if k == "deleteConditionalFormatRule") < kinds.index("addConditionalFormatRule")  # fmt: skip
    assert len(status.rules) == rules_before
    assert status.rows == 11
    assert_same(google.grids(sid), xlsx_grids(app, tmp_path / "master.xlsx", later))


def test_a_configured_spreadsheet_keeps_its_other_tabs_and_is_not_shared(
    google: FakeGoogle, wujin_dir: Path, tmp_path: Path
) -> None:
    enable_google(wujin_dir, language="en", master_spreadsheet_id="ORG-SHEET-1")
    google.spreadsheet("ORG-SHEET-1", tabs=("Notes", "Status"))
    google.tab("ORG-SHEET-1", "Notes").values[(0, 0)] = "the organiser's own notes"
    app = open_app(wujin_dir)
    fill_store(app)
    result = publish_master(app, session_for(app), now=NOW)

    assert result.complete and not result.created and result.spreadsheet_id == "ORG-SHEET-1"
    assert google.ops() == ["sheets.get", "sheets.batchUpdate", "sheets.values.batchUpdate"]
    assert app.store.get_meta(MASTER_META) is None and google.permissions == []
    grids = google.grids("ORG-SHEET-1")
    # The master's tabs first, in the xlsx order (the existing "Status" tab reused); the organiser's tab kept.
    assert list(grids) == ["Overview", "Status", "Activities", "Statistics", "Issues", "Reminders", "Notes"]
    assert grids["Notes"] == [["the organiser's own notes"]]
    xlsx = xlsx_grids(app, tmp_path / "master.xlsx")
    assert_same({k: v for k, v in grids.items() if k != "Notes"}, xlsx)
    assert grids["Status"][1][4] == "valid"


def test_a_2000_unit_master_is_split_under_2_mb_and_takes_at_most_10_calls(
    google: FakeGoogle, wujin_dir: Path
) -> None:
    enable_google(wujin_dir)
    types = ["中小学", "镇（街道）社区教育中心", "非学历教育机构", "区社区教育委员会成员单位"]
    rows = ["单位编码,单位名称,单位类型,所属镇街,联系人,邮箱,电话"]
    rows += [f"U{i:05d},测试单位{i:05d},{types[i % 4]},湖塘镇,张老师,u{i:05d}@example.org,13812345678"
             for i in range(2000)]  # fmt: skip
    (wujin_dir / "units.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    app = open_app(wujin_dir, store=MemoryStore())
    day = app.campaign.week.start
    for n, u in enumerate(app.roster.units):
        if n % 10:  # nine units in ten have sent a plan of ten activities
            add(app, u.code, "plan", {"activities": [activity(i, day) for i in range(1, 11)]})
    app.store.set_meta(MASTER_META, "BIG")
    google.spreadsheet("BIG", tabs=("Sheet1",))

    result = publish_master(app, session_for(app), now=NOW)

    assert result.complete
    assert sum(result.calls.values()) <= 10 and len(google.requests) == sum(result.calls.values())
    values = [r for r in google.requests if r[0] == "sheets.values.batchUpdate"]
    assert len(values) >= 2  # 18,000 activity rows do not fit one request
    assert result.value_requests == len(values) and result.batch_requests == 1
    for op, _url, _q, body, size in google.requests:
        assert size < 2_000_000
        if body is not None and op.startswith("sheets."):
            assert body_bytes(body) == size  # the size the chunking counted is the size sent
    assert result.largest_body_bytes == max(r[4] for r in google.requests)
    # The chunks join up: every row of every tab arrives once, in order.
    activities = google.tab("BIG", "活动安排")
    assert activities.rows == 18_001 and len(activities.grid()) == 18_001
    assert activities.grid()[-1][0] == "U01999" and activities.grid()[1][0] == "U00001"
    assert len(google.tab("BIG", "报送情况").grid()) == 2001
    assert result.rows["activities"] == 18_000 and result.rows["status"] == 2000


def test_a_budget_too_small_touches_nothing(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, call_budget=5)  # create + 1 share + get + batchUpdate + values = 5, plus 0 left
    app = open_app(wujin_dir)
    fill_store(app)
    session = session_for(app)
    session.http.budget = 4
    result = publish_master(app, session, now=NOW)
    assert not result.complete and google.requests == []
    assert "调用额度或时间用尽" in result.stopped and "5 calls needed, 4 left" in result.stopped
    assert app.store.get_meta(MASTER_META) is None and app.store.claims(CREATE_CLAIM) == []
    assert summary_lines(result, app.campaign)[-2] == result.stopped

    result = publish_master(app, session_for(app), now=NOW)  # the configured budget of 5 is just enough
    assert result.complete and sum(result.calls.values()) == 5


def test_a_deadline_mid_publish_stops_and_the_next_publish_rewrites_it_all(
    google: FakeGoogle, wujin_dir: Path, tmp_path: Path
) -> None:
    enable_google(wujin_dir)
    app = open_app(wujin_dir)
    fill_store(app)
    publish_master(app, session_for(app), now=NOW)
    code = app.roster.units[3].code
    add(app, code, "plan", {"activities": [activity(1, app.campaign.week.start)]})
    session = session_for(app)
    # The clock is the number of calls made: time runs out once the batchUpdate has cleared the tabs.
    session.http.configure(deadline=2, clock=lambda: float(len(google.requests)))
    google.requests.clear()
    stopped = publish_master(app, session, now=NOW)
    assert not stopped.complete and "deadline" in stopped.stopped
    assert stopped.calls == {"sheets.get": 1, "sheets.batchUpdate": 1}
    assert google.grids(stopped.spreadsheet_id)["报送情况"] == []  # cleared, not yet rewritten

    again = publish_master(app, session_for(app), now=NOW)
    assert again.complete
    assert_same(google.grids(again.spreadsheet_id), xlsx_grids(app, tmp_path / "master.xlsx"))


def test_a_refused_invitation_is_reported_and_retried_next_time(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, master_viewers=["gone@example.org"])
    app = open_app(wujin_dir)
    fill_store(app)
    refusal = {"error": {"code": 400, "message": "Bad Request. User message: \"gone@example.org 没有 Google 账号\"",
                         "errors": [{"reason": "invalidSharingRequest"}]}}  # fmt: skip
    google.fail["drive.permissions.create"] = [(400, refusal)]  # the first invitation (the organiser's)
    first = publish_master(app, session_for(app), now=NOW)
    assert first.complete and first.shared_with == ["gone@example.org"]
    assert len(first.share_failures) == 1 and first.share_failures[0].startswith(f"{ORGANISER}: 400")
    assert any("共享失败（下次重试）" in line for line in summary_lines(first, app.campaign))

    google.requests.clear()
    second = publish_master(app, session_for(app), now=NOW)
    assert second.shared_with == [ORGANISER] and second.share_failures == []
    assert google.ops().count("drive.permissions.create") == 1  # gone@example.org was invited the first time

    google.requests.clear()
    third = publish_master(app, session_for(app), now=NOW)
    assert "drive.permissions.create" not in google.ops() and third.shared_with == []


def test_publishing_turned_off_makes_no_call(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, publish_master=False)
    app = open_app(wujin_dir)
    result = publish_master(app, session_for(app), now=NOW)
    assert result == MasterPublishResult(skipped="google.publish_master 为 false，未发布。")
    assert google.requests == []


# --- the CLI with a real service-account key, its token exchange intercepted -----------------------------
