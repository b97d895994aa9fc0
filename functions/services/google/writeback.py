"""What a check writes back into a unit's Google Sheet, as the requests of ONE batchUpdate.

The status area (google_layout: result, check time, main problems) and a note on every cell with a
problem. Notes from the previous check are cleared first, in the same batchUpdate, over the data area
only (header notes are the help text provisioning put there), so a fixed cell loses its note and nothing
has to remember which cells had one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.report import Issue, ValidationReport
from sheets_templates import google_layout as gl
from sheets_templates import layout
from sheets_templates.google_unit_sheet import INSTRUCTIONS_SHEET_ID, a1_grid, grid, sheet_ids

SheetState = Literal["valid", "errors", "draft", "empty"]
Request = dict[str, Any]

# Problems listed in the status area; every one of them also has its note on its cell.
LISTED = 5
_BG: dict[SheetState, dict[str, float]] = {
    "valid": {"red": 0.776, "green": 0.937, "blue": 0.808},  # C6EFCE, as the master's 已通过
    "errors": {"red": 1.0, "green": 0.78, "blue": 0.808},  # FFC7CE
    "draft": {"red": 1.0, "green": 0.922, "blue": 0.612},  # FFEB9C
    "empty": {"red": 0.95, "green": 0.95, "blue": 0.95},
}


def sheet_state(report: ValidationReport | None, *, submitted: bool, empty: bool) -> SheetState:
    if empty and not submitted:
        return "empty"
    if not submitted:
        return "draft"
    return "valid" if report is not None and report.valid else "errors"


def status_text(campaign: Campaign, state: SheetState, report: ValidationReport | None) -> str:
    lang = campaign.language
    errors = len(report.errors) if report is not None else 0
    if state == "errors":
        return gl.STATUS_TEXT["errors"][lang].format(n=errors)
    text = gl.STATUS_TEXT[state][lang]
    if state == "draft" and errors:
        text += t(lang, f"（有{errors}个问题）", f" ({errors} problem(s))")
    return text


def _where(issue: Issue) -> str:
    if issue.sheet and issue.cell:
        return f"{issue.sheet} {issue.cell}："
    return f"{issue.sheet}：" if issue.sheet else ""


def problems_text(campaign: Campaign, report: ValidationReport | None) -> str:
    if report is None:
        return ""
    issues = [*report.errors, *report.warnings]
    lines = [_where(i) + i.message for i in issues[:LISTED]]
    more = len(issues) - LISTED
    if more > 0:
        lines.append(
            t(
                campaign.language,
                f"……另有 {more} 个问题，见各单元格的批注",
                f"… {more} more: see the cell notes",
            )
        )
    return "\n".join(lines)


def _note_text(campaign: Campaign, issues: list[Issue]) -> str:
    lang = campaign.language
    out = []
    for issue in issues:
        tag = t(lang, "【错误】", "[Error] ") if issue.severity == "error" else t(lang, "【提醒】", "[Note] ")
        out.append(tag + issue.message)
    return "\n".join(out)


def value_cell(a1: str, value: str, fields: str, **fmt: Any) -> Request:
    """One cell of the 填写说明 tab set to `value` as a literal string (stringValue: text that starts with
    "=" stays text, never a formula), with `fmt` as its userEnteredFormat."""
    g = a1_grid(INSTRUCTIONS_SHEET_ID, a1)
    cell: dict[str, Any] = {"userEnteredValue": {"stringValue": value}}
    if fmt:
        cell["userEnteredFormat"] = fmt
    return {
        "updateCells": {
            "start": {
                "sheetId": INSTRUCTIONS_SHEET_ID,
                "rowIndex": g["startRowIndex"],
                "columnIndex": g["startColumnIndex"],
            },
            "rows": [{"values": [cell]}],
            "fields": fields,
        }
    }


def _clear_notes(campaign: Campaign, deliverable: str, ids: dict[str, int]) -> list[Request]:
    lang = campaign.language
    out: list[Request] = []
    for table in campaign.tables_of(deliverable):
        sid = ids[table.title(lang)]
        if table.kind == "rows":
            area = grid(sid, layout.ROWS_FIRST_DATA_ROW - 1, 0, rows=None, cols=None)
        else:
            value_col = column_index_from_string(layout.RECORD_VALUE_COLUMN) - 1
            area = grid(sid, layout.RECORD_FIRST_FIELD_ROW - 1, value_col, rows=None)
        # An empty cell with fields="note" removes the note and touches nothing else.
        out.append({"repeatCell": {"range": area, "cell": {}, "fields": "note"}})
    return out


def writeback_requests(
    campaign: Campaign,
    deliverable: str,
    report: ValidationReport | None,
    *,
    state: SheetState,
    checked_at: dt.datetime,
) -> list[Request]:
    """The status area, then notes cleared, then a note on each problem cell: one batchUpdate's requests."""
    ids = sheet_ids(campaign, deliverable)
    stamp = checked_at.astimezone(campaign.tz).strftime("%Y-%m-%d %H:%M")
    out: list[Request] = [
        value_cell(
            gl.STATUS_CELL,
            status_text(campaign, state, report),
            "userEnteredValue,userEnteredFormat.backgroundColorStyle",
            # backgroundColor is deprecated in Sheets v4 in favour of the style form.
            backgroundColorStyle={"rgbColor": _BG[state]},
        ),
        value_cell(gl.CHECKED_AT_CELL, stamp, "userEnteredValue"),
        value_cell(gl.ISSUES_CELL, problems_text(campaign, report), "userEnteredValue"),
    ]
    out.extend(_clear_notes(campaign, deliverable, ids))
    if report is None:
        return out
    by_cell: dict[tuple[int, str], list[Issue]] = defaultdict(list)
    for issue in [*report.errors, *report.warnings]:
        if issue.sheet in ids and issue.cell and ids[issue.sheet] != INSTRUCTIONS_SHEET_ID:
            by_cell[(ids[issue.sheet], issue.cell)].append(issue)
    for (sid, a1), issues in sorted(by_cell.items(), key=lambda kv: (kv[0][0], _row_col(kv[0][1]))):
        row, col = _row_col(a1)
        out.append(
            {
                "updateCells": {
                    "start": {"sheetId": sid, "rowIndex": row, "columnIndex": col},
                    "rows": [{"values": [{"note": _note_text(campaign, issues)}]}],
                    "fields": "note",
                }
            }
        )
    return out


def _row_col(a1: str) -> tuple[int, int]:
    letters, row = coordinate_from_string(a1)
    return row - 1, column_index_from_string(letters) - 1
