"""Every issue code with its message template, in each language. Codes are stable; texts may improve."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from schemas.i18n import Language, t
from schemas.report import Issue, Severity

# code -> (zh, en). Placeholders are filled from the issue's params; unknown ones print empty.
MESSAGES: dict[str, tuple[str, str]] = {
    # file level
    "not-xlsx": (
        "文件不是 Excel 工作簿（.xlsx），无法读取。请用下发的模板填写，并保存为 .xlsx 格式后重新报送。",
        "This file is not an Excel workbook (.xlsx). Fill in the template and save it as .xlsx.",
    ),
    "legacy-xls": (
        "这是旧版 .xls 文件，无法读取。请在 Excel 或 WPS 中选择“另存为”→“Excel 工作簿（*.xlsx）”后重新报送。",
        "This is an old .xls file. Use Save As → Excel Workbook (*.xlsx) and send it again.",
    ),
    "encrypted": (
        "文件设置了打开密码，系统无法读取。请取消密码（文件→信息→保护工作簿）后重新报送。",
        "The file is password-protected. Remove the password and send it again.",
    ),
    "too-large": (
        "文件大小 {size_mb} MB，超过上限 {limit_mb} MB。请删除表格中插入的图片（照片请通过链接提供）后重新报送。",
        "The file is {size_mb} MB, over the {limit_mb} MB limit. Remove embedded pictures (give photo links).",
    ),
    "unknown-template": (
        "不是本次活动的报送模板：{missing}。请使用组织方下发的模板填写，不要删除或改名工作表和表头。",
        "Not this campaign's template: {missing}. Use the template you were sent; keep its sheets and headers.",
    ),
    "unknown-unit": (
        "单位编码“{value}”不在本次活动的单位名单中。请核对“填写说明”页的单位编码，或联系组织方。",
        "Unit code '{value}' is not in the roster. Check the code on the Instructions sheet or ask the organiser.",
    ),
    "unit-by-name": (
        "工作簿中没有单位编码，已按单位名称“{value}”识别为 {unit_code}。请使用本单位的专属模板。",
        "No unit code in the workbook; identified as {unit_code} by the unit name '{value}'. Use your own template.",
    ),
    "wrong-deliverable": (
        "这份表格是“{found}”，{reason}",
        "This workbook is '{found}': {reason}",
    ),
    "unknown-column": (
        "表头“{value}”不是模板中的列，其内容已忽略。",
        "Header '{value}' is not a template column; its content was ignored.",
    ),
    "empty-table": (
        "“{sheet}”没有填写任何内容。请至少填写一行。",
        "Nothing has been filled in on '{sheet}'. Fill in at least one row.",
    ),
    # cell level
    "missing-value": ("“{column}”为必填项，请填写。", "'{column}' is required."),
    "bad-number": (
        "“{column}”应填数字，现为“{value}”。请只填阿拉伯数字，如 120。",
        "'{column}' must be a number, found '{value}'. Type digits only, e.g. 120.",
    ),
    "approximate-number": (
        "“{column}”填的是约数“{value}”，已按 {number} 计入。如有准确数字，请改为准确数字。",
        "'{column}' is approximate ('{value}'); counted as {number}. Give the exact figure if you have it.",
    ),
    "bad-date": (
        "“{column}”不是有效日期：“{value}”。请按 {example} 的格式填写。",
        "'{column}' is not a valid date: '{value}'. Use the form {example}.",
    ),
    "bad-choice": (
        "“{column}”的“{value}”不在可选项中。可选：{choices}。",
        "'{value}' is not allowed in '{column}'. Allowed: {choices}.",
    ),
    "bad-phone": (
        "“{column}”的“{value}”不是有效的电话号码。请填写11位手机号，或带区号的座机号，如 0519-86311234。",
        "'{value}' in '{column}' is not a valid phone number. Give an 11-digit mobile or a landline with area code.",
    ),
    "bad-url": (
        "“{column}”应为网址链接（以 http:// 或 https:// 开头），现为“{value}”。请把文件上传到网盘后填写分享链接。",
        "'{column}' must be a link starting with http:// or https://, found '{value}'.",
    ),
    "too-long": (
        "“{column}”超过 {max} 个字（现为 {length} 个字），请精简。",
        "'{column}' is longer than {max} characters ({length}). Please shorten it.",
    ),
    "out-of-range": (
        "“{column}”的值 {value} 超出允许范围（{min}～{max}）。",
        "'{column}' = {value} is outside the allowed range ({min}–{max}).",
    ),
    # row level
    "end-before-start": (
        "结束日期 {end} 早于开始日期 {start}。请检查两个日期。",
        "End date {end} is before start date {start}.",
    ),
    "out-of-week": (
        "活动日期 {date} 不在活动周（{week_start} 至 {week_end}）内{grace_note}。",
        "Activity date {date} is outside the week ({week_start} to {week_end}){grace_note}.",
    ),
    "duplicate-activity": (
        "与第 {other_row} 行的活动名称和开始日期相同，是否重复填写？",
        "Same name and start date as row {other_row}: entered twice?",
    ),
    # table and cross-table
    "parts-exceed-total": (
        "{parts_label}（{parts}）超过活动总场次（{total}）。请核对各分项场次与总场次。",
        "{parts_label} ({parts}) exceed the total sessions ({total}).",
    ),
    "online-exceeds-total": (
        "线上参与人次（{online}）超过参与总人次（{total}）。参与总人次应包含线上人次。",
        "Online participant visits ({online}) exceed the total ({total}); the total includes online.",
    ),
    "free-class-mismatch": ("{detail}", "{detail}"),
    "fewer-than-planned": (
        "统计表的活动总场次（{total}）远少于本单位活动安排表中计划的 {planned} 项活动，请核实。",
        "Total sessions ({total}) are far fewer than the {planned} activities in your plan. Please check.",
    ),
    "too-few-photos": (
        "照片张数为 {count}，少于要求的 {minimum} 张，且未提供视频链接。请补充照片或填写视频链接。",
        "{count} photos, fewer than the {minimum} required, and no video link.",
    ),
    # unit type
    "missing-required-activity": (
        "{unit_type}须开展“{item}”活动，活动安排表中没有找到。请补充一行（活动类别选“{category}”，或活动名称中写明“{item}”）。",
        "{unit_type} must hold '{item}'; none found in the activity table. Add a row (category '{category}' "
        "or '{item}' in the name).",
    ),
    "no-free-class": (
        "{unit_type}须至少开展一项免费惠民培训，活动安排表中没有“{column}”为“是”的活动。",
        "{unit_type} must hold at least one free public class; no activity has '{column}' = yes.",
    ),
    "outlier": (
        "{what} {value} 远高于全区同类中位数 {median}，请核实是否填错。",
        "{what} {value} is far above the campaign median {median}. Please check.",
    ),
}

_SEVERITY: dict[str, Severity] = {
    "approximate-number": "warning",
    "unit-by-name": "warning",
    "unknown-column": "warning",
    "duplicate-activity": "warning",
    "fewer-than-planned": "warning",
    "outlier": "warning",
}


def default_severity(code: str) -> Severity:
    return _SEVERITY.get(code, "error")


def render(code: str, lang: Language, **params: Any) -> str:
    zh, en = MESSAGES[code]
    template = t(lang, zh, en)
    values: defaultdict[str, str] = defaultdict(
        str, {k: "" if v is None else str(v) for k, v in params.items()}
    )
    return template.format_map(values)


def make_issue(
    code: str,
    lang: Language,
    *,
    severity: Severity | None = None,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: Any = None,
    **params: Any,
) -> Issue:
    shown = None if value is None else _show(value)
    return Issue(
        code=code,
        severity=severity or default_severity(code),
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=shown,
        message=render(code, lang, column=column, value=shown, sheet=sheet, **params),
    )


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"
