"""Unit workbooks: exact headers, identity inside the file, validations, protection, LibreOffice."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from functions.adapters.xlsx.reader import read_workbook
from functions.config.loading import load_campaign, load_roster
from functions.services.setup.unit_templates import write_templates
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import ACTIVITY_HEADERS, saved_workbook, unit_of_type

PLAN_MATERIAL_LABELS = ["工作方案链接", "启动仪式方案链接", "填报人", "联系电话"]
STATISTICS_LABELS = [
    "活动总场次", "讲座场次", "培训场次", "展览展示场次", "读书活动场次", "线上活动场次", "参与总人次",
    "线上参与人次", "智慧助老培训人次", "免费惠民培训班期数", "免费惠民培训人次", "志愿者人数",
    "发放宣传资料份数", "宣传标语条数", "展板块数", "媒体报道篇数", "推荐百姓学习之星人数",
    "推荐终身学习品牌项目数", "开放学习场所数", "填报人", "联系电话",
]  # fmt: skip
SUMMARY_MATERIAL_LABELS = ["工作总结链接", "典型案例链接", "照片张数", "照片链接", "视频链接"]
CATEGORIES = [
    "启动仪式", "讲座", "培训", "论坛", "展览展示", "读书活动", "学习体验", "文艺展演", "志愿服务",
    "宣传活动", "国旗下讲话", "主题班会", "主题板报", "其他",
]  # fmt: skip


def _column_a(ws: Worksheet, first: int = 2) -> list[str]:
    return [
        ws.cell(row=r, column=1).value for r in range(first, ws.max_row + 1) if ws.cell(row=r, column=1).value
    ]


def _validation_at(ws: Worksheet, cell: str) -> object:
    hits = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(hits) == 1, f"{ws.title}!{cell}: {len(hits)} validations"
    return hits[0]


def _list_values(wb: object, formula: str) -> list[str]:
    sheet, _, ref = formula.partition("!")
    ws = wb[sheet.strip("'")]  # type: ignore[index]
    return [c.value for row in ws[ref.replace("$", "")] for c in row]


def _instructions(ws: Worksheet) -> dict[str, str]:
    return {str(r[0].value): str(r[1].value or "") for r in ws.iter_rows(min_row=2) if r[0].value}


def test_plan_workbook_layout_and_identity(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", school))
    assert wb.sheetnames == ["填写说明", "主要活动安排表", "方案材料", "_huizong"]
    assert wb.active.title == "填写说明"
    assert wb["_huizong"].sheet_state == "hidden"
    assert [wb["_huizong"].cell(row=r, column=1).value for r in range(1, 7)] == [
        "campaign_id", "unit_code", "unit_name", "deliverable", "template_version", "language",
    ]  # fmt: skip
    meta = {r[0].value: r[1].value for r in wb["_huizong"].iter_rows(max_col=2) if r[0].value}
    assert (meta["campaign_id"], meta["unit_code"], meta["deliverable"]) == (
        "wujin-2022",
        school.code,
        "plan",
    )
    dest = dict(wb.defined_names["HZ_UNIT_CODE"].destinations)
    assert wb[next(iter(dest))][dest["_huizong"].replace("$", "")].value == school.code

    acts = wb["主要活动安排表"]
    assert [c.value for c in acts[1]] == ACTIVITY_HEADERS
    assert acts.freeze_panes == "A2"
    assert [c.value for c in wb["方案材料"][1]][:3] == ["填报项目", "填写内容", "填写说明"]
    assert _column_a(wb["方案材料"]) == PLAN_MATERIAL_LABELS

    info = _instructions(wb["填写说明"])
    assert info["单位编码"] == school.code and info["单位名称"] == school.name
    assert "2022年11月24日" in info["截止时间"]
    assert "wjsqjy@example.org" in info["联系方式"] and "0519-86312345" in info["联系方式"]
    # A school is told its 四个一 items; it has no free-class rule.
    assert all(x in info["必办活动"] for x in ("国旗下讲话", "主题讲座", "主题班会", "主题板报"))
    assert "免费惠民" not in info


def test_summary_workbook_labels(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    wb = load_workbook(saved_workbook(tmp_path, campaign, "summary", roster.units[0]))
    assert wb.sheetnames[1:3] == ["活动周情况统计表", "总结材料"]
    assert _column_a(wb["活动周情况统计表"]) == STATISTICS_LABELS
    assert _column_a(wb["总结材料"]) == SUMMARY_MATERIAL_LABELS
    assert "5张照片" in _instructions(wb["填写说明"])["照片视频"]


def test_validations_and_input_messages(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", roster.units[0]))
    acts = wb["主要活动安排表"]
    category = _validation_at(acts, "C2")
    assert category.type == "list" and _list_values(wb, category.formula1) == CATEGORIES
    assert _validation_at(acts, "C201") is category  # prepared rows are covered
    assert _list_values(wb, _validation_at(acts, "G2").formula1) == ["线下", "线上", "线上线下结合"]
    assert _list_values(wb, _validation_at(acts, "J2").formula1) == ["是", "否"]
    start = _validation_at(acts, "D2")
    assert start.type == "date" and start.showInputMessage and "2022-12-02" in start.prompt
    people = _validation_at(acts, "I2")
    assert people.type == "whole" and (people.formula1, people.formula2) == ("1", "1000000")
    assert "社区居民" in _validation_at(acts, "H2").prompt  # several choices: a hint, not a dropdown
    assert acts.column_dimensions["M"].number_format == "@"  # phones keep their leading 0

    wb = load_workbook(saved_workbook(tmp_path, campaign, "summary", roster.units[0]))
    stats = wb["活动周情况统计表"]
    total = _validation_at(stats, "B2")
    assert total.type == "whole" and total.errorStyle == "stop" and "必填" in total.prompt
    assert _validation_at(wb["总结材料"], "B4").type == "whole"


def test_widths_fit_chinese_labels(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", roster.units[0]))
    acts = wb["主要活动安排表"]
    for cell in acts[1]:
        width = acts.column_dimensions[cell.column_letter].width
        assert width >= 2 * len(cell.value), (cell.value, width)
    stats = load_workbook(saved_workbook(tmp_path, campaign, "summary", roster.units[0]))["活动周情况统计表"]
    assert stats.column_dimensions["A"].width >= 2 * len("推荐终身学习品牌项目数")


def test_protection_locks_identity_and_headers_only(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    unit = roster.units[0]
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", unit))
    intro = wb["填写说明"]
    assert intro.protection.sheet
    code_cell = next(r[1] for r in intro.iter_rows() if r[0].value == "单位编码")
    assert code_cell.value == unit.code and code_cell.protection.locked
    acts = wb["主要活动安排表"]
    assert acts.protection.sheet and not acts.protection.insertRows
    assert acts["B1"].protection.locked
    assert acts.column_dimensions["B"].protection.locked is False  # the rows below stay editable
    record = wb["方案材料"]
    assert record["A2"].protection.locked and record["B2"].protection.locked is False

    blank = load_workbook(saved_workbook(tmp_path, campaign, "plan", None))
    intro = blank["填写说明"]
    code_cell = next(r[1] for r in intro.iter_rows() if r[0].value == "单位编码")
    assert code_cell.value is None and code_cell.protection.locked is False
    assert "空白模板" in _instructions(intro)


def test_personal_rules_in_instructions(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    institution = unit_of_type(roster, "非学历教育机构")
    info = _instructions(load_workbook(saved_workbook(tmp_path, campaign, "plan", institution))["填写说明"])
    assert "免费惠民" in info and "必办活动" not in info


def test_templates_for_every_unit_and_renamed_file_still_identified(
    tmp_path: Path, wujin_dir: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    paths = write_templates(wujin_dir, campaign, roster)
    for d in campaign.deliverables:
        folder = wujin_dir / "templates" / d.key
        expected = {f"{u.code}-{u.name}.xlsx" for u in roster.units if d.applies_to(u.type)}
        expected.add(f"空白模板-{d.key}.xlsx")
        assert {p.name for p in folder.iterdir()} == expected
    assert len(paths) == sum(
        len(list((wujin_dir / "templates" / d.key).iterdir())) for d in campaign.deliverables
    )
    unit = roster.units[3]
    renamed = tmp_path / "新建 Microsoft Excel 工作表 (2).xlsx"
    shutil.copy(wujin_dir / "templates" / "summary" / f"{unit.code}-{unit.name}.xlsx", renamed)
    raw = read_workbook(renamed, campaign, roster)
    assert (raw.unit_code, raw.deliverable, raw.campaign_id) == (unit.code, "summary", "wujin-2022")
    assert not [i for i in raw.issues if i.severity == "error"]


def test_organiser_customisation_reaches_the_workbook(tmp_path: Path, wujin_dir: Path) -> None:
    cfg_path = wujin_dir / "campaign.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["form"] = {
        "fields": {
            "activities.venue": {"label_zh": "活动场地"},
            "activities.category": {"add_choices": ["研学"]},
        },
        "extra_fields": {
            "activities": [
                {"key": "livestream_url", "label_zh": "直播链接", "label_en": "Stream", "type": "url"}
            ]
        },
    }
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", roster.units[0]))
    headers = [c.value for c in wb["主要活动安排表"][1]]
    assert headers[5] == "活动场地" and headers[-1] == "直播链接"
    assert _list_values(wb, _validation_at(wb["主要活动安排表"], "C2").formula1)[-1] == "研学"


def test_english_campaign_gets_english_workbook(tmp_path: Path, wujin_dir: Path) -> None:
    cfg_path = wujin_dir / "campaign.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["language"] = "en"
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    wb = load_workbook(saved_workbook(tmp_path, campaign, "plan", roster.units[0]))
    assert wb.sheetnames[:3] == ["Instructions", "Activities", "Plan documents"]
    assert [c.value for c in wb["Activities"][1]][:3] == ["No.", "Activity", "Category"]
    assert _instructions(wb["Instructions"])["Unit code"] == roster.units[0].code
