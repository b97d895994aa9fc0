"""Provisioning the units' Google sheets at the HTTP level: exact requests, API-shaped replies, no network.

The shared in-memory Google (tests/fakes/google.py) answers through `responses`; any request it does not
know fails, so nothing leaves the machine. The `provision` and `check` commands: tests/e2e/test_cli_google.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter

from functions.adapters.google.session import GoogleSession
from functions.adapters.store.memory import MemoryStore
from functions.config.loading import load_campaign, load_roster
from functions.services.google.provision import provision, summary_lines
from functions.services.google.registry import all_sheets, sheet_for, sheet_key
from schemas.campaign import Campaign
from schemas.google import SPREADSHEET_MIME
from schemas.roster import Roster
from sheets_templates import google_layout as gl
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, save_workbook_atomically
from tests.fakes.google import FakeGoogle
from tests.helpers.google import SA_EMAIL, enable_google, expect_provision_requests, google_session
from tests.helpers.paths import EXAMPLES

NOW = dt.datetime(2022, 11, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


# --- a campaign that uses Google ----------------------------------------------------------------------


def load(folder: Path) -> tuple[Campaign, Roster]:
    campaign = load_campaign(folder)
    roster, problems = load_roster(folder, campaign)
    assert problems == []
    return campaign, roster


def session_for(campaign: Campaign) -> GoogleSession:
    return google_session(campaign.google, service_account_email=SA_EMAIL)


# --- the shared in-memory Google, with what this module expects of every request --------------------------


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield expect_provision_requests(FakeGoogle(mock))


# --- reading the build back like a spreadsheet --------------------------------------------------------


def cells_written(requests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Apply the updateCells requests to an empty grid: tab title → {A1: value}."""
    titles: dict[int, str] = {}
    grid: dict[str, dict[str, Any]] = {}
    for req in requests:
        if "addSheet" in req:
            titles[req["addSheet"]["properties"]["sheetId"]] = req["addSheet"]["properties"]["title"]
        if "updateSheetProperties" in req:
            titles[req["updateSheetProperties"]["properties"]["sheetId"]] = req["updateSheetProperties"]["properties"]["title"]  # fmt: skip
        if "updateCells" in req:
            u = req["updateCells"]
            tab = grid.setdefault(titles[u["start"]["sheetId"]], {})
            for r, row in enumerate(u["rows"]):
                for c, cell in enumerate(row["values"]):
                    v = cell.get("userEnteredValue", {})
                    value = v.get("stringValue", v.get("boolValue"))
                    if value not in (None, ""):
                        tab[f"{get_column_letter(u['start']['columnIndex'] + c + 1)}{u['start']['rowIndex'] + r + 1}"] = value  # fmt: skip
    return grid


def of_kind(requests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r[kind] for r in requests if kind in r]


# --- tests ---------------------------------------------------------------------------------------------


def test_provision_creates_builds_and_shares_each_sheet(
    google: FakeGoogle, wujin_dir: Path, tmp_path: Path
) -> None:
    enable_google(wujin_dir, units=2)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    session = session_for(campaign)
    result = provision(campaign, roster, store, session, now=NOW)

    assert [s.action for s in result.slots] == ["created"] * 4
    assert session.http.counts == {
        "drive.files.create": 4,
        "sheets.batchUpdate": 4,
        "drive.permissions.create": 4,
    }
    unit = roster.units[0]
    plan = next(
        f
        for f in google.created()
        if f["name"] == f"武进区2022年全民终身学习活动周-{unit.name}-工作方案及主要活动安排表"
    )
    assert {k: plan[k] for k in ("mimeType", "parents")} == {
        "mimeType": SPREADSHEET_MIME,
        "parents": ["FOLDER123"],
    }

    # Shared with the unit's address as writer, with a Chinese message giving the due date.
    perm = next(p for p in google.permissions if p["file"] == plan["id"])
    assert perm["body"] == {"type": "user", "role": "writer", "emailAddress": unit.emails[0]}
    assert perm["query"]["sendNotificationEmail"] == ["true"]
    message = perm["query"]["emailMessage"][0]
    assert "2022年11月24日 23:59" in message and unit.name in message and "提交" in message

    # Recorded in the registry with its id and url.
    record = sheet_for(store, unit.code, "plan")
    assert record is not None and record.spreadsheet_id == plan["id"]
    assert record.url == plan["webViewLink"] and record.shared_with == list(unit.emails)

    # ONE batchUpdate builds it; its tabs and fixed cells are the xlsx workbook's.
    [requests] = google.batches[plan["id"]]
    path = tmp_path / "plan.xlsx"
    save_workbook_atomically(build_unit_workbook(campaign, "plan", unit), path)
    wb = load_workbook(path)
    assert (
        google.titles(plan["id"]) == wb.sheetnames == ["填写说明", "主要活动安排表", "方案材料", "_huizong"]
    )
    written = cells_written(requests)
    for title in ("主要活动安排表", "方案材料", "_huizong"):
        xlsx = {
            c.coordinate: c.value for row in wb[title].iter_rows() for c in row if c.value not in (None, "")
        }
        if title == "_huizong":  # identity in A:B; the xlsx keeps its dropdown lists further right
            xlsx = {k: v for k, v in xlsx.items() if k[0] in "AB"}
        assert written[title] == xlsx, title
    intro = written["填写说明"]
    assert (intro["A3"], intro["B3"], intro["A4"], intro["B4"]) == (
        "单位编码",
        unit.code,
        "单位名称",
        unit.name,
    )
    assert intro[gl.SUBMIT_LABEL_CELL] == gl.SUBMIT_LABEL["zh"] and intro[gl.SUBMIT_CELL] is False
    assert intro[gl.STATUS_LABEL_CELL] == "校验结果" and intro[gl.STATUS_CELL] == "未提交"
    assert intro[gl.CHECKED_AT_LABEL_CELL] == "检查时间" and intro[gl.ISSUES_LABEL_CELL] == "主要问题"
    assert "勾选" in " ".join(str(v) for v in intro.values())  # the Google way of returning it

    # Dropdowns, whole numbers, dates and the submit checkbox.
    rules = {(v["range"]["sheetId"], v["range"]["startColumnIndex"], v["range"]["startRowIndex"]): v["rule"] for v in of_kind(requests, "setDataValidation")}  # fmt: skip
    category = rules[(101, 2, 1)]
    assert category["condition"]["type"] == "ONE_OF_LIST" and category["strict"] and category["showCustomUi"]
    assert [v["userEnteredValue"] for v in category["condition"]["values"]][:2] == ["启动仪式", "讲座"]
    assert rules[(101, 8, 1)]["condition"] == {"type": "NUMBER_BETWEEN", "values": [{"userEnteredValue": "1"}, {"userEnteredValue": "1000000"}]}  # fmt: skip
    assert rules[(101, 3, 1)]["condition"] == {"type": "DATE_IS_VALID"}
    assert rules[(0, 4, 2)] == {"condition": {"type": "BOOLEAN"}, "strict": True}
    activities_range = next(
        v["range"] for v in of_kind(requests, "setDataValidation") if v["range"]["sheetId"] == 101
    )
    assert "endRowIndex" not in activities_range  # rows a unit adds keep the dropdowns

    # Locks that mean it, editable by the service account only; the checkbox stays free.
    protected = [p["protectedRange"] for p in of_kind(requests, "addProtectedRange")]
    assert {p["range"]["sheetId"] for p in protected} == {0, 101, 102, 999}
    assert all(p["warningOnly"] is False and p["editors"] == {"users": [SA_EMAIL]} for p in protected)
    intro_lock = next(p for p in protected if p["range"] == {"sheetId": 0})
    assert intro_lock["unprotectedRanges"] == [{"sheetId": 0, "startRowIndex": 2, "endRowIndex": 3, "startColumnIndex": 4, "endColumnIndex": 5}]  # fmt: skip
    header_lock = next(p for p in protected if p["range"]["sheetId"] == 101)
    assert header_lock["range"] == {
        "sheetId": 101,
        "startRowIndex": 0,
        "endRowIndex": 1,
        "startColumnIndex": 0,
    }

    # Help as notes on the headers, frozen headers, widths that fit Chinese, a hidden identity tab.
    header = next(u for u in of_kind(requests, "updateCells") if u["start"] == {"sheetId": 101, "rowIndex": 0, "columnIndex": 0})  # fmt: skip
    notes = [c.get("note", "") for c in header["rows"][0]["values"]]
    assert "从下拉列表中选择" in notes[2] and notes[0] == "可不填"
    added = {a["properties"]["sheetId"]: a["properties"] for a in of_kind(requests, "addSheet")}
    assert added[101]["gridProperties"]["frozenRowCount"] == 1 and added[999]["hidden"] is True
    widths = {(w["range"]["sheetId"], w["range"]["startIndex"]): w["properties"]["pixelSize"] for w in of_kind(requests, "updateDimensionProperties")}  # fmt: skip
    assert widths[(101, 1)] > widths[(101, 0)] and widths[(101, 8)] >= 7 * 2 * len("预计参与人数")
    named = {n["namedRange"]["name"] for n in of_kind(requests, "addNamedRange")}
    assert named == {"HZ_CAMPAIGN", "HZ_UNIT_CODE", "HZ_DELIVERABLE", "HZ_TEMPLATE_VERSION"}


def test_running_again_makes_no_new_files_and_roster_changes_are_handled(
    google: FakeGoogle, wujin_dir: Path
) -> None:
    enable_google(wujin_dir, units=3)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert len(google.created()) == 6

    again = session_for(campaign)
    second = provision(campaign, roster, store, again, now=NOW)
    assert again.http.counts.get("drive.files.create", 0) == 0
    assert again.http.counts == {} and [s.action for s in second.slots] == ["done"] * 6

    # One unit joins, one leaves: the newcomer gets its sheets; the leaver is reported, never deleted.
    rows = (wujin_dir / "units.csv").read_text(encoding="utf-8").splitlines()
    full = (EXAMPLES / "wujin-2022" / "units.csv").read_text(encoding="utf-8")
    newcomer = full.splitlines()[4]
    (wujin_dir / "units.csv").write_text("\n".join([*rows[:3], newcomer]) + "\n", encoding="utf-8")
    campaign, roster = load(wujin_dir)
    third_session = session_for(campaign)
    third = provision(campaign, roster, store, third_session, now=NOW)
    assert third_session.http.counts["drive.files.create"] == 2
    assert {s.unit for s in third.slots if s.action == "created"} == {newcomer.split(",")[0]}
    leaver = rows[3].split(",")[0]
    assert {(r.unit, r.deliverable) for r in third.orphans} == {(leaver, "plan"), (leaver, "summary")}
    assert len(all_sheets(store)) == 8 and not [r for r in google.requests if r[0].startswith("DELETE")]
    text = "\n".join(summary_lines(third, campaign))
    assert f"名单中已无此单位，表格保留未删除：{leaver}" in text


def test_failure_before_the_sheet_exists_releases_the_claim(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=1, sheet_deliverables=["plan"], max_retries=0)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    google.failing("drive.files.create", 500)
    first = provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert [s.action for s in first.slots] == ["failed"] and "500" in first.slots[0].problems[0]
    assert sheet_for(store, roster.units[0].code, "plan") is None  # released: the next run retries

    second = provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert [s.action for s in second.slots] == ["created"] and len(google.created()) == 1


def test_failure_after_the_sheet_exists_is_continued_without_a_duplicate(
    google: FakeGoogle, wujin_dir: Path
) -> None:
    enable_google(wujin_dir, units=1, sheet_deliverables=["plan"], max_retries=0)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    google.failing("sheets.batchUpdate", 503)
    first = provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert [s.action for s in first.slots] == ["failed"]
    record = sheet_for(store, roster.units[0].code, "plan")
    assert record is not None and record.spreadsheet_id and record.shared_with == []

    google.failing("drive.permissions.create", 500)
    second_session = session_for(campaign)
    second = provision(campaign, roster, store, second_session, now=NOW)
    # Looked before building (the build might have landed), built, then sharing failed.
    assert second_session.http.counts == {
        "sheets.get": 1,
        "sheets.batchUpdate": 1,
        "drive.permissions.create": 1,
    }
    assert second.slots[0].action == "failed"

    third_session = session_for(campaign)
    third = provision(campaign, roster, store, third_session, now=NOW)
    assert third_session.http.counts == {"drive.permissions.create": 1}  # built already: only the sharing
    assert third.slots[0].action == "continued" and third.slots[0].shared == list(roster.units[0].emails)
    assert len(google.created()) == 1 and len(google.batches[record.spreadsheet_id]) == 1


def test_budget_exhaustion_stops_cleanly_and_the_next_run_finishes(
    google: FakeGoogle, wujin_dir: Path
) -> None:
    enable_google(wujin_dir, units=2, call_budget=5)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    first = provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert first.stopped and sum(first.calls.values()) == 5
    assert "下次运行将继续" in "\n".join(summary_lines(first, campaign))
    runs = 1
    while any(
        s.action != "done" for s in provision(campaign, roster, store, session_for(campaign), now=NOW).slots
    ):
        runs += 1
        assert runs < 6
    # Every sheet once, every invitation once, however the work was split across runs.
    assert len(google.created()) == 4 and len(google.permissions) == 4
    assert sorted(len(b) for b in google.batches.values()) == [1, 1, 1, 1]


def test_a_run_that_died_after_creating_adopts_the_file(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=1, sheet_deliverables=["plan"])
    campaign, roster = load(wujin_dir)
    unit = roster.units[0]
    store = MemoryStore()
    # A run claimed the slot and created the file an hour ago, then died before recording it.
    first = session_for(campaign)
    orphan = first.create_spreadsheet(
        f"武进区2022年全民终身学习活动周-{unit.name}-工作方案及主要活动安排表", "FOLDER123"
    )
    store.claim(sheet_key(unit.code, "plan"), {"unit": unit.code, "deliverable": "plan"}, at=NOW - dt.timedelta(hours=1))  # fmt: skip
    # A claim that fresh may be a run still going: left alone.
    store.claim(sheet_key("WJ999", "plan"), {"unit": "WJ999", "deliverable": "plan"}, at=NOW)

    session = session_for(campaign)
    result = provision(campaign, roster, store, session, now=NOW)
    assert session.http.counts == {"drive.files.list": 1, "sheets.get": 1, "sheets.batchUpdate": 1, "drive.permissions.create": 1}  # fmt: skip
    list_query = next(r[2] for r in google.requests if r[0] == "drive.files.list")
    assert list_query["q"] == [f"name = '{orphan['name']}' and 'FOLDER123' in parents and mimeType = '{SPREADSHEET_MIME}' and trashed = false"]  # fmt: skip
    assert result.slots[0].spreadsheet_id == orphan["id"] and len(google.created()) == 1


def test_english_campaign_gets_english_tabs_and_message(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=1, sheet_deliverables=["plan"])
    path = wujin_dir / "campaign.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("language: zh", "language: en"), encoding="utf-8"
    )
    campaign, roster = load(wujin_dir)
    provision(campaign, roster, MemoryStore(), session_for(campaign), now=NOW)
    [sheet] = google.created()
    assert sheet["name"].endswith("-Work plan and activity schedule")
    assert google.titles(sheet["id"]) == [
        "Instructions",
        "Activities",
        "Plan documents",
        "_huizong",
    ]
    message = google.permissions[0]["query"]["emailMessage"][0]
    assert "24 November 2022, 23:59" in message and "submit" in message


# --- the CLI with a real service-account key, its token exchange intercepted -----------------------------


def test_a_folder_where_files_cannot_be_created_stops_the_run(google: FakeGoogle, wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=2)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    google.failing("drive.files.create", 403, reason="storageQuotaExceeded")
    session = session_for(campaign)
    result = provision(campaign, roster, store, session, now=NOW)
    # One refusal is enough: the other three slots are not tried, and nothing stays claimed.
    assert result.stopped and session.http.counts == {"drive.files.create": 1}
    assert [s.action for s in result.slots] == ["planned"] * 4 and all_sheets(store) == []
    text = "\n".join(summary_lines(result, campaign))
    assert "不能在个人“我的云端硬盘”的文件夹中新建表格" in text and "下次运行将继续" in text

    google.failing("drive.files.create", 404, reason="notFound")
    missing = provision(campaign, roster, store, session_for(campaign), now=NOW)
    assert missing.stopped and "huizong google check" in "\n".join(summary_lines(missing, campaign))
