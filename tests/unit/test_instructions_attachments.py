"""The 填写说明 sheet tells a unit which evidence files its deliverable asks for (issue 12 §4), in the
words the attachment checks will hold it to: count, types, size, and a video instead of photos."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from functions.bootstrap import open_app
from sheets_templates.xlsx_unit_workbook import build_unit_workbook
from tests.helpers.evidence import with_issue_rules
from tests.helpers.workbooks import unit_of_type


def _instructions(folder: Path, deliverable: str, *, english: bool = False) -> dict[str, str]:
    if english:
        path = folder / "campaign.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\nlanguage: en\n", encoding="utf-8")
    app = open_app(folder)
    school = unit_of_type(app.roster, "中小学")
    buffer = io.BytesIO()
    build_unit_workbook(app.campaign, deliverable, school).save(buffer)
    sheet = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    return {str(a): str(b) for a, b in sheet.iter_rows(min_col=1, max_col=2, values_only=True) if a and b}


def test_each_attachment_rule_is_a_line_of_the_instructions(wujin_dir: Path) -> None:
    lines = _instructions(with_issue_rules(wujin_dir), "summary")
    assert lines["附件：工作方案"] == "1个，格式 docx、pdf、wps，每个不超过 20MB。"
    assert lines["附件：活动照片"] == "4至5个，格式 jpg、png、heic，每个不超过 20MB。"
    assert lines["附件：活动视频"] == "可选，格式 mp4、mov，每个不超过 500MB；已发送活动照片的可不发送。"


def test_each_deliverable_lists_only_its_own_files_and_english_campaigns_read_english(
    wujin_dir: Path,
) -> None:
    folder = with_issue_rules(wujin_dir)
    plan = _instructions(folder, "plan")
    assert [k for k in plan if k.startswith("附件")] == ["附件：工作方案"]
    assert plan["附件：工作方案"] == "可选，最多1个，格式 docx、doc、wps、pdf，每个不超过 20MB。"
    lines = _instructions(folder, "summary", english=True)
    assert lines["File: Photos"] == "4 to 5; types jpg, png, heic; up to 20 MB each."
