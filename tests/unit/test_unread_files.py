"""Nothing unreadable left unseen: recorded, shown in status, digest, master and the unit's reminder;
`assign` attaches a file to a unit."""

from __future__ import annotations

import datetime as dt
import email
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.app import App
from functions.bootstrap import open_app
from functions.services.intake.assign import AssignError, assign_file
from functions.services.intake.ingest_folder import ingest_all
from functions.services.intake.unread import guess_unit, unread_files
from functions.services.master.master_sheets import master_sheets
from functions.services.messages.compose import build_digest, build_reminder
from functions.services.reminders.plan import DueItem, UnitReminder, timing
from functions.services.status.status_table import status_json, status_table
from functions.services.status.unit_states import count_by_deliverable, unit_statuses
from schemas.roster import Unit
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook


def _now(app: App) -> dt.datetime:
    return dt.datetime.combine(app.campaign.week.end, dt.time(12), tzinfo=app.campaign.tz)


def _text(msg: EmailMessage) -> str:
    parsed = email.message_from_bytes(msg.as_bytes())
    return "".join(
        part.get_payload(decode=True).decode("utf-8")
        for part in parsed.walk()
        if part.get_content_type() == "text/plain"
    )


def _school(app: App) -> Unit:
    return unit_of_type(app.roster, "中小学")


def test_unreadable_files_are_recorded_and_shown_everywhere(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    school = _school(app)
    # A Word document in a folder named after the unit, and a text file nobody can place.
    word = app.paths.inbox / school.name / "活动方案.docx"
    word.parent.mkdir(parents=True)
    word.write_bytes(b"PK\x03\x04 not really a workbook")
    stray = app.paths.inbox / "说明.txt"
    stray.write_text("请查收", encoding="utf-8")

    outcomes = ingest_all(app, now=_now(app))
    # The example asks for evidence files (issue 12 §4): a file in a unit's folder without a workbook
    # waits for it, recorded meanwhile as an unread file of that unit.
    assert sorted(o.note for o in outcomes) == ["no-workbook", "unreadable"]
    again = ingest_all(app, now=_now(app))  # a second run records nothing twice
    assert len(again) == 2

    records = {r.name: r for r in unread_files(app.store)}
    assert set(records) == {"活动方案.docx", "说明.txt"}
    docx = records["活动方案.docx"]
    assert docx.unit == school.code and docx.unit_by == "folder"
    assert (
        docx.codes == ["attachments-without-workbook"] and len(docx.sha256) == 64 and docx.source == str(word)
    )
    assert records["说明.txt"].unit is None
    # Kept in the store (SQLite in the folder): a new process sees the same records.
    assert {r.name for r in unread_files(open_app(wujin_dir).store)} == set(records)

    data = status_json(app)
    assert {f["name"] for f in data["unread_files"]} == {"活动方案.docx", "说明.txt"}
    mine = [u for u in data["units"] if u["unit"] == school.code and u["deliverable"] == "plan"]
    assert mine[0]["unread_files"] == ["活动方案.docx"] and mine[0]["state"] == "missing"
    table = status_table(app)
    assert "说明.txt" in table and "无法读取" in table and "huizong assign" in table

    sheets = {s.key: s for s in master_sheets(app.campaign, app.roster, app.store, now=_now(app))}
    issue_rows = [list(r) for r in sheets["issues"].rows]
    names = [r[3] for r in issue_rows if len(r) > 3]
    assert "活动方案.docx" in names and "说明.txt" in names

    statuses = unit_statuses(app.campaign, app.roster, app.store)
    status = next(s for s in statuses if s.unit.code == school.code and s.deliverable.key == "plan")
    reminder = build_reminder(
        app.campaign,
        UnitReminder(school, [DueItem(status, 0, timing(app.campaign, status.deliverable, _now(app)))]),
        now=_now(app),
    )
    body = _text(reminder)
    assert "收到您的文件（活动方案.docx），但无法读取" in body and "尚未收到" not in body
    other = next(s for s in statuses if s.unit.code != school.code and s.state == "missing")
    assert "尚未收到" in _text(
        build_reminder(
            app.campaign,
            UnitReminder(other.unit, [DueItem(other, 0, timing(app.campaign, other.deliverable, _now(app)))]),
            now=_now(app),
        )
    )

    digest = build_digest(
        app.campaign, statuses, count_by_deliverable(app.campaign, statuses), day=_now(app).date(),
        sent=0, master_link="out/master.xlsx", now=_now(app), unread=unread_files(app.store),
    )  # fmt: skip
    text = _text(digest)
    assert "无法读取或无法识别单位的文件" in text and "说明.txt" in text and "活动方案.docx" in text


def test_guessing_the_unit_from_names(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = app.roster.units[:2]
    inbox = app.paths.inbox
    assert guess_unit(inbox / f"{a.code}-方案.xls", inbox, app.roster)[0] == a
    assert guess_unit(inbox / f"{a.code.lower()}_plan.doc", inbox, app.roster)[0] == a
    assert guess_unit(inbox / a.name / "x.doc", inbox, app.roster) == (a, "folder")
    # Clues that disagree identify nobody: a wrong guess would tell the wrong unit.
    assert guess_unit(inbox / a.name / f"{b.code}.doc", inbox, app.roster) == (None, "")
    assert guess_unit(inbox / "报表.doc", inbox, app.roster) == (None, "")


def test_assign_stores_an_unidentified_workbook_as_the_units_version(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    school = _school(app)
    path = write_workbook(
        app.paths.inbox / "无名.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    # The unit wiped its code and name: nobody can tell whose it is.
    wb = load_workbook(path)
    del wb["_huizong"]
    ws = wb["填写说明"]
    for row in ws.iter_rows():
        if row[0].value in ("单位编码", "单位名称"):
            row[1].value = None  # ws.cell(value=None) would leave the old value
    wb.save(path)
    [outcome] = ingest_all(app, now=_now(app))
    assert outcome.seq is None and outcome.note == "unidentified"
    assert [r.reason for r in unread_files(app.store)] == ["unidentified"]

    with pytest.raises(AssignError, match="不在单位名单中"):
        assign_file(app, path, "NOPE", deliverable=None, now=_now(app))
    with pytest.raises(AssignError, match="不是本次活动的材料"):
        assign_file(app, path, school.code, deliverable="budget", now=_now(app))

    result = assign_file(app, path, school.code, deliverable=None, now=_now(app))
    assert result.outcome is not None and result.outcome.seq == 1 and result.outcome.valid
    latest = app.store.latest(school.code, "plan")
    assert latest is not None and latest.source == str(path)
    [record] = unread_files(app.store)
    assert record.assigned and record.unit == school.code
    # The next ingest sees the file as stored (for the assigned unit), not as unidentified again.
    [again] = ingest_all(app, now=_now(app))
    assert again.unit == school.code and again.note == "unchanged" and again.valid
    assert "无名.xlsx" not in status_table(app)


def test_assign_an_unreadable_file_records_it_for_the_unit(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    school = _school(app)
    path = app.paths.inbox / "scan.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 a scan")
    ingest_all(app, now=_now(app))
    result = assign_file(app, path, school.code, deliverable="plan", now=_now(app))
    assert result.outcome is None and result.recorded_unreadable
    status = next(
        s for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == school.code and s.deliverable.key == "plan"
    )  # fmt: skip
    assert [r.name for r in status.unread] == ["scan.pdf"]
    # Its summary is another deliverable: not told that this file was its summary.
    summary = next(
        s for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == school.code and s.deliverable.key == "summary"
    )  # fmt: skip
    assert summary.unread == ()


def test_assign_decides_a_held_version(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    summary = app.campaign.deliverable("summary")
    a, b = [u for u in app.roster.units if summary.applies_to(u.type)][:2]
    write_workbook(app.paths.inbox / "a.xlsx", app.campaign, "summary", a, summary_entries())
    ingest_all(app, now=_now(app))
    held = write_workbook(
        app.paths.inbox / "b-in-a.xlsx", app.campaign, "summary", a, summary_entries(total_participants=4321)
    )
    wb = load_workbook(held)
    ws = wb["填写说明"]
    for row in ws.iter_rows():
        if row[0].value == "单位名称":
            ws.cell(row=row[0].row, column=2, value=b.name)
    wb.save(held)
    ingest_all(app, now=_now(app))
    [held_status] = [
        s for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == a.code and s.deliverable.key == "summary"
    ]  # fmt: skip
    assert held_status.held is not None

    result = assign_file(app, held, b.code, deliverable=None, now=_now(app))
    assert result.outcome is not None and result.outcome.valid
    statuses = {
        (s.unit.code, s.deliverable.key): s for s in unit_statuses(app.campaign, app.roster, app.store)
    }
    assert statuses[(a.code, "summary")].held is None and statuses[(a.code, "summary")].state == "valid"
    b_version = statuses[(b.code, "summary")].version
    assert b_version is not None and b_version.tables["statistics"][0]["total_participants"] == 4321
    data = json.loads(json.dumps(status_json(app)))
    assert all(u["held_version"] is None for u in data["units"])


def test_assign_to_the_coded_unit_confirms_a_held_version(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    summary = app.campaign.deliverable("summary")
    a, _ = [u for u in app.roster.units if summary.applies_to(u.type)][:2]
    write_workbook(app.paths.inbox / "a.xlsx", app.campaign, "summary", a, summary_entries())
    ingest_all(app, now=_now(app))
    typo = write_workbook(
        app.paths.inbox / "a2.xlsx", app.campaign, "summary", a, summary_entries(total_participants=999)
    )
    wb = load_workbook(typo)
    for row in wb["填写说明"].iter_rows():
        if row[0].value == "单位名称":
            row[1].value = a.name + "（错字）"
    wb.save(typo)
    ingest_all(app, now=_now(app))

    def status() -> object:
        return next(
            s for s in unit_statuses(app.campaign, app.roster, app.store)
            if s.unit.code == a.code and s.deliverable.key == "summary"
        )  # fmt: skip

    before = status()
    assert before.held is not None and before.version.seq == 1  # type: ignore[attr-defined]
    assign_file(app, typo, a.code, deliverable=None, now=_now(app))
    after = status()
    assert after.held is None and after.state == "valid"  # type: ignore[attr-defined]
    assert after.version.seq == 2 and after.version.tables["statistics"][0]["total_participants"] == 999  # type: ignore[attr-defined]
