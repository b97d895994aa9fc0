"""Who sent what: a workbook naming another unit than its code's is an error and replaces nothing."""

from __future__ import annotations

import datetime as dt
import email
from pathlib import Path

from openpyxl import load_workbook

from functions.app import App
from functions.bootstrap import open_app
from functions.services.intake.ingest_folder import ingest_all
from functions.services.master.master_sheets import build_master, master_sheets
from functions.services.messages.compose import build_digest
from functions.services.status.unit_states import count_by_deliverable, unit_statuses
from functions.validate.validator import validate_submission
from schemas.roster import Unit
from tests.helpers.workbooks import summary_entries, write_workbook


def _now(app: App) -> dt.datetime:
    return dt.datetime.combine(app.campaign.week.end, dt.time(12), tzinfo=app.campaign.tz)


def _set_instruction(path: Path, label: str, value: str, sheet: str = "填写说明") -> None:
    """Type into the instructions sheet as a person would (the hidden _huizong sheet is left alone)."""
    wb = load_workbook(path)
    ws = wb[sheet]
    for row in ws.iter_rows():
        if row[0].value == label:
            ws.cell(row=row[0].row, column=2, value=value)
    wb.save(path)


def _units(app: App) -> tuple[Unit, Unit]:
    summary = app.campaign.deliverable("summary")
    a, b = [u for u in app.roster.units if summary.applies_to(u.type)][:2]
    return a, b


def _statistics_rows(app: App) -> list[list[object]]:
    sheets = {s.key: s for s in master_sheets(app.campaign, app.roster, app.store, now=_now(app))}
    return [list(r) for r in sheets["statistics"].rows]


def test_a_workbook_of_a_carrying_bs_name_is_an_error_and_keeps_as_valid_version(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = _units(app)
    first = write_workbook(
        app.paths.inbox / "a-first.xlsx", app.campaign, "summary", a, summary_entries(total_participants=800)
    )
    outcomes = ingest_all(app, now=_now(app))
    assert [o.valid for o in outcomes] == [True]

    # Unit B filled A's workbook: it changed only the unit name, and its own figures.
    second = write_workbook(
        app.paths.inbox / "a-second.xlsx",
        app.campaign,
        "summary",
        a,
        summary_entries(total_participants=5555),
    )
    _set_instruction(second, "单位名称", b.name)
    outcomes = {Path(o.source).name: o for o in ingest_all(app, now=_now(app))}
    held = outcomes["a-second.xlsx"]
    assert held.stored and not held.valid and held.unit == a.code
    issue = next(i for i in held.report.errors if i.code == "unit-name-mismatch") if held.report else None
    assert issue is not None
    # Both units are named, and which roster unit the name is.
    assert a.name in issue.message and b.name in issue.message and b.code in issue.message
    # The first file still shows its own result, not the unit's latest.
    assert outcomes["a-first.xlsx"].valid and outcomes["a-first.xlsx"].seq == 1
    assert first.exists()

    status = next(
        s for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == a.code and s.deliverable.key == "summary"
    )  # fmt: skip
    assert status.state == "valid" and status.version is not None and status.version.seq == 1
    assert status.held is not None and status.held.seq == 2

    rows = _statistics_rows(app)
    a_row = next(r for r in rows if r[0] == a.code)
    assert 800 in a_row and 5555 not in a_row
    sheets = {s.key: s for s in master_sheets(app.campaign, app.roster, app.store, now=_now(app))}
    issue_rows = [list(r) for r in sheets["issues"].rows]
    held_rows = [r for r in issue_rows if r[0] == a.code and "unit-name-mismatch" in r]
    assert held_rows and "第2版未采用，汇总仍用第1版" in held_rows[0][-1]

    # The real master workbook, written and read back.
    master = build_master(
        app.campaign, app.roster, app.store, app.paths.master, now=_now(app), write=app.write_master
    ).path
    wb = load_workbook(master, read_only=True)
    stats = [r for r in wb["统计"].iter_rows(values_only=True) if r and r[0] == a.code]
    assert len(stats) == 1 and 800 in stats[0] and 5555 not in stats[0]
    problems = [r for r in wb["问题清单"].iter_rows(values_only=True) if r and r[0] == a.code]
    assert any("unit-name-mismatch" in r for r in problems)
    wb.close()

    statuses = unit_statuses(app.campaign, app.roster, app.store)
    digest = build_digest(
        app.campaign, statuses, count_by_deliverable(app.campaign, statuses), day=_now(app).date(),
        sent=0, master_link="out/master.xlsx", now=_now(app),
    )  # fmt: skip
    body = email.message_from_bytes(digest.as_bytes())
    text = "".join(
        p.get_payload(decode=True).decode("utf-8")
        for p in body.walk()
        if p.get_content_type() == "text/plain"
    )
    assert "身份不符，未替换有效版本" in text and f"{a.code} {a.name}" in text and b.name in text


def test_hidden_and_visible_codes_that_disagree_name_both(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = _units(app)
    path = write_workbook(app.paths.inbox / "reused.xlsx", app.campaign, "summary", a, summary_entries())
    _set_instruction(path, "单位编码", b.code)
    raw = app.read_workbook(path, app.campaign, app.roster)
    parsed, report = validate_submission(raw, app.campaign, app.roster)
    assert parsed is not None and parsed.unit == a.code  # stored, but as an error version
    issue = next(i for i in report.errors if i.code == "unit-code-mismatch")
    assert a.code in issue.message and b.code in issue.message
    assert a.name in issue.message and b.name in issue.message
    assert issue.sheet == "填写说明"


def test_another_units_contact_in_the_statistics_is_a_mismatch(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = _units(app)
    assert b.phone and b.phone != a.phone
    entries = summary_entries(filled_by="某某某", phone=b.phone)
    path = write_workbook(app.paths.inbox / "c.xlsx", app.campaign, "summary", a, entries)
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    issue = next(i for i in report.errors if i.code == "unit-name-mismatch")
    assert b.code in issue.message and a.name in issue.message and issue.cell

    # The unit's own roster phone, or a phone nobody on the roster has, says nothing.
    for phone in (a.phone, "13900001111"):
        path = write_workbook(
            app.paths.inbox / "d.xlsx", app.campaign, "summary", a, summary_entries(phone=phone)
        )
        raw = app.read_workbook(path, app.campaign, app.roster)
        _, report = validate_submission(raw, app.campaign, app.roster)
        assert not [i for i in report.errors if i.code == "unit-name-mismatch"], phone


def test_english_campaign_says_it_in_english(wujin_dir: Path) -> None:
    from tests.helpers.campaigns import customise

    customise(wujin_dir, language="en")
    app = open_app(wujin_dir)
    a, b = _units(app)
    path = write_workbook(app.paths.inbox / "e.xlsx", app.campaign, "summary", a, summary_entries())
    _set_instruction(path, "Unit name", b.name, sheet="Instructions")
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    issue = next(i for i in report.errors if i.code == "unit-name-mismatch")
    assert "does not match" in issue.message and b.code in issue.message


def test_a_unit_renamed_in_the_roster_after_the_templates_is_no_mismatch(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, _ = _units(app)
    path = write_workbook(app.paths.inbox / "r.xlsx", app.campaign, "summary", a, summary_entries())
    csv = wujin_dir / "units.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace(a.name, a.name + "（新名）"), encoding="utf-8")
    app = open_app(wujin_dir)
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    assert "unit-name-mismatch" not in {e.code for e in report.errors}
    # But a name the unit typed that is neither the roster's nor the template's still is.
    _set_instruction(path, "单位名称", "另一个单位")
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    issue = next(e for e in report.errors if e.code == "unit-name-mismatch")
    assert "另一个单位" in issue.message and a.name + "（新名）" in issue.message


def test_another_units_contact_name_beside_the_units_own_phone_is_not_a_mismatch(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = _units(app)
    entries = summary_entries(filled_by=b.contact, phone=a.phone)
    path = write_workbook(app.paths.inbox / "n.xlsx", app.campaign, "summary", a, entries)
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    assert "unit-name-mismatch" not in {e.code for e in report.errors}
    entries = summary_entries(filled_by=b.contact, phone="13900001111")
    path = write_workbook(app.paths.inbox / "n.xlsx", app.campaign, "summary", a, entries)
    raw = app.read_workbook(path, app.campaign, app.roster)
    _, report = validate_submission(raw, app.campaign, app.roster)
    assert b.contact in next(e for e in report.errors if e.code == "unit-name-mismatch").message
