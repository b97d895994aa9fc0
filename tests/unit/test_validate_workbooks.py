"""Validation of real workbooks: each mistake people make gets the right code at the right cell."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.report import Issue, ValidationReport
from schemas.roster import Roster
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook


def check(
    path: Path, campaign: Campaign, roster: Roster, ctx: ValidationContext | None = None
) -> ValidationReport:
    raw = read_workbook(path, campaign, roster)
    _, report = validate_submission(raw, campaign, roster, ctx)
    return report


def find(report: ValidationReport, code: str, cell: str | None = None) -> Issue:
    hits = [i for i in report.issues if i.code == code and (cell is None or i.cell == cell)]
    assert hits, f"no {code} at {cell}; got {[(i.code, i.cell) for i in report.issues]}"
    return hits[0]


def test_a_correct_school_plan_is_valid(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "a.xlsx", campaign, "plan", school, school_plan(campaign, school))
    report = check(path, campaign, roster)
    assert report.errors == [] and report.warnings == []
    assert report.valid and report.unit == school.code and report.deliverable == "plan"


def test_plan_mistakes_each_at_its_cell(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    entries = school_plan(campaign, school)
    acts = entries["activities"]
    week = campaign.week
    # rows 2..5 are the four good ones; the mistakes follow, one per row from row 6
    acts[1]["name"] = "家庭教育讲座"  # still satisfies 主题讲座 through its category 讲座
    acts[2]["category"] = "讲座"  # the 主题班会 is gone -> missing-required-activity
    acts[2]["name"] = "书香伴成长班会"
    extra = [
        {"start_date": week.end + dt.timedelta(days=10)},  # row 6: out of week, beyond grace -> error
        {"start_date": week.end + dt.timedelta(days=1)},  # row 7: within grace -> warning
        {"start_date": week.start + dt.timedelta(days=2), "end_date": week.start},  # row 8: end before start
        {"expected_participants": "3000余"},  # row 9: approximate
        {"expected_participants": "若干"},  # row 10: bad number
        {"phone": "8631123"},  # row 11: no area code
        {"mode": "现场"},  # row 12: not a choice
        {"name": None},  # row 13: required missing
        {"audience": "学生、市民"},  # row 14: one bad choice among several
        {"start_date": "2022年12月4日", "name": "读书会A"},  # row 15: typed date, fine
        {"start_date": "12月5日", "name": "读书会B"},  # row 16: no year: campaign year
        {"start_date": "2022/12/6", "name": "读书会C"},  # row 17
        {"start_date": "待定", "name": "读书会D"},  # row 18: bad date
        {"work": None, "name": "读书会A", "start_date": "2022-12-04"},  # row 19: duplicate of row 15
        {"name": "长" * 120},  # row 20: too long
        {"expected_participants": -5},  # row 21: out of range
    ]
    for i, change in enumerate(extra):
        row = dict(acts[3])
        row["name"] = f"活动{i}"
        change = {k: v for k, v in change.items() if k != "work"}
        row.update(change)
        acts.append(row)
    entries["plan_materials"][0]["work_plan_url"] = "见附件"
    path = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", school, entries)
    report = check(path, campaign, roster)
    assert not report.valid
    sheet = "主要活动安排表"
    e = find(report, "out-of-week", "D6")
    assert e.severity == "error" and e.sheet == sheet and e.row == 6 and e.column == "开始日期"
    assert find(report, "out-of-week", "D7").severity == "warning"
    assert find(report, "end-before-start", "E8").severity == "error"
    w = find(report, "approximate-number", "I9")
    assert w.severity == "warning" and w.value == "3000余" and "3000" in w.message
    assert find(report, "bad-number", "I10").value == "若干"
    assert find(report, "bad-phone", "M11").column == "联系电话"
    choice = find(report, "bad-choice", "G12")
    assert "线上线下结合" in choice.message and choice.value == "现场"
    assert find(report, "missing-value", "B13").column == "活动名称"
    assert find(report, "bad-choice", "H14").value == "市民"
    assert not [i for i in report.issues if i.cell in ("D15", "D16", "D17")]
    assert find(report, "bad-date", "D18").value == "待定"
    dup = find(report, "duplicate-activity", "B19")
    assert dup.severity == "warning" and "15" in dup.message
    assert find(report, "too-long", "B20").severity == "error"
    assert find(report, "out-of-range", "I21").severity == "error"
    missing = find(report, "missing-required-activity")
    assert missing.value == "主题班会" and missing.sheet == sheet
    assert [i.value for i in report.issues if i.code == "missing-required-activity"] == ["主题班会"]
    url = find(report, "bad-url", "B2")
    assert url.sheet == "方案材料" and url.column == "工作方案链接"
    for issue in report.issues:
        assert issue.message and issue.sheet


def test_english_campaign_messages_are_english(tmp_path: Path, wujin_dir: Path) -> None:
    import yaml

    from functions.config.loading import load_campaign, load_roster

    data = yaml.safe_load((wujin_dir / "campaign.yaml").read_text(encoding="utf-8"))
    data["language"] = "en"
    (wujin_dir / "campaign.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    school = unit_of_type(roster, "中小学")
    entries = school_plan(campaign, school)
    entries["activities"][0]["expected_participants"] = "many"
    path = write_workbook(tmp_path / "en.xlsx", campaign, "plan", school, entries)
    report = check(path, campaign, roster)
    issue = find(report, "bad-number", "I2")
    assert issue.sheet == "Activities" and issue.column == "Expected participants"
    assert "must be a number" in issue.message


def test_free_class_rule_by_unit_type(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    inst = unit_of_type(roster, "非学历教育机构")
    entries = school_plan(campaign, inst)
    for r in entries["activities"]:
        r["free"] = "否"
    report = check(write_workbook(tmp_path / "i.xlsx", campaign, "plan", inst, entries), campaign, roster)
    assert [i.code for i in report.errors] == ["no-free-class"]
    # The 四个一 rule is for schools only: an institution without 主题班会 is fine.
    entries["activities"][0]["free"] = "是"
    report = check(write_workbook(tmp_path / "j.xlsx", campaign, "plan", inst, entries), campaign, roster)
    assert report.valid


def test_summary_cross_checks(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    centre = unit_of_type(roster, "镇（街道）社区教育中心")
    entries = summary_entries(
        total_sessions=5, lecture_sessions=3, training_sessions=3, online_sessions=2,
        total_participants="3000余", online_participants=5000, free_classes=0, free_class_trainees=40,
    )  # fmt: skip
    entries["summary_materials"][0]["photo_count"] = 2
    path = write_workbook(tmp_path / "s.xlsx", campaign, "summary", centre, entries)
    report = check(path, campaign, roster, ValidationContext(planned_activities=40))
    sheet = "活动周情况统计表"
    parts = find(report, "parts-exceed-total", "B2")
    assert parts.sheet == sheet and "（9）" in parts.message and "场次场次" not in parts.message
    assert find(report, "approximate-number", "B8").severity == "warning"
    assert find(report, "online-exceeds-total", "B9").severity == "error"
    assert find(report, "free-class-mismatch", "B11").severity == "error"
    photos = find(report, "too-few-photos", "B4")
    assert photos.sheet == "总结材料" and "5" in photos.message
    assert find(report, "fewer-than-planned", "B2").severity == "warning"


def test_video_makes_up_for_photos_and_online_sessions_checked(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    centre = unit_of_type(roster, "镇（街道）社区教育中心")
    entries = summary_entries(online_sessions=11)
    entries["summary_materials"][0].update(photo_count=0, video_url="https://v.example.org/1")
    report = check(
        write_workbook(tmp_path / "v.xlsx", campaign, "summary", centre, entries), campaign, roster
    )
    assert [(i.code, i.cell) for i in report.errors] == [("parts-exceed-total", "B7")]


def test_outliers_warn_but_do_not_block(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    entries = school_plan(campaign, school)
    entries["activities"][1]["expected_participants"] = 9000
    ctx = ValidationContext(median_participants_per_activity=100, activity_peers=10)
    report = check(
        write_workbook(tmp_path / "o.xlsx", campaign, "plan", school, entries), campaign, roster, ctx
    )
    assert report.valid
    assert find(report, "outlier", "I3").severity == "warning"


def test_file_level_problems_never_raise(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    text = tmp_path / "notes.xlsx"
    text.write_text("活动名称,日期\n", encoding="utf-8")
    assert [i.code for i in check(text, campaign, roster).errors] == ["not-xlsx"]
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert [i.code for i in check(xls, campaign, roster).errors] == ["legacy-xls"]
    enc = tmp_path / "secret.xlsx"
    enc.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 100
    )
    assert [i.code for i in check(enc, campaign, roster).errors] == ["encrypted"]
    docx = tmp_path / "plan.docx.xlsx"
    import zipfile

    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
    assert [i.code for i in check(docx, campaign, roster).errors] == ["not-xlsx"]
    other = tmp_path / "other.xlsx"
    wb = Workbook()
    wb.active.append(["姓名", "年龄"])
    wb.save(other)
    report = check(other, campaign, roster)
    assert "unknown-template" in [i.code for i in report.errors]
    big = campaign.model_copy(
        update={"submission": campaign.submission.model_copy(update={"max_file_mb": 0.001})}
    )
    school = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "big.xlsx", campaign, "plan", school, school_plan(campaign, school))
    assert [i.code for i in check(path, big, roster).errors] == ["too-large"]


def test_missing_sheet_and_column_name_what_is_missing(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "p.xlsx", campaign, "plan", school, school_plan(campaign, school))
    wb = load_workbook(path)
    del wb["方案材料"]
    wb["主要活动安排表"]["G1"] = "形式"
    wb.save(path)
    report = check(path, campaign, roster)
    messages = " ".join(i.message for i in report.errors if i.code == "unknown-template")
    assert "方案材料" in messages and "活动形式" in messages


def test_unknown_unit_and_identity_by_name(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "p.xlsx", campaign, "plan", school, school_plan(campaign, school))
    wb = load_workbook(path)
    ws = wb["_huizong"]
    for row in ws.iter_rows():
        if row[0].value == "unit_code":
            row[1].value = "ZZ999"
    wb.save(path)
    report = check(path, campaign, roster)
    assert find(report, "unknown-unit").value == "ZZ999"
    assert read_workbook(path, campaign, roster) is not None

    blank = write_workbook(tmp_path / "blank.xlsx", campaign, "plan", None, school_plan(campaign, school))
    wb = load_workbook(blank)
    ws = wb["填写说明"]
    for row in ws.iter_rows():
        if row[0].value == "单位名称":
            ws.cell(row=row[0].row, column=2, value=school.name)
    wb.save(blank)
    raw = read_workbook(blank, campaign, roster)
    parsed, report = validate_submission(raw, campaign, roster)
    assert parsed is not None and parsed.unit == school.code
    assert find(report, "unit-by-name").severity == "warning" and report.valid


def test_wrong_deliverable_for_unit_type(tmp_path: Path, wujin_dir: Path) -> None:
    import yaml

    from functions.config.loading import load_campaign, load_roster

    data = yaml.safe_load((wujin_dir / "campaign.yaml").read_text(encoding="utf-8"))
    data["deliverables"][1]["unit_types"] = ["中小学"]
    (wujin_dir / "campaign.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    school = unit_of_type(roster, "中小学")
    centre = unit_of_type(roster, "镇（街道）社区教育中心")
    path = write_workbook(tmp_path / "s.xlsx", campaign, "summary", school, summary_entries())
    wb = load_workbook(path)
    for row in wb["_huizong"].iter_rows():
        if row[0].value == "unit_code":
            row[1].value = centre.code
    wb.save(path)
    raw = read_workbook(path, campaign, roster)
    parsed, report = validate_submission(raw, campaign, roster)
    assert parsed is None and "wrong-deliverable" in [i.code for i in report.errors]
