"""A unit's Google Sheet for one deliverable, as the Sheets batchUpdate requests that build it.

The tabs and cells are the xlsx ones (layout.py), so the same reader logic understands both; the Google
sheet adds the 提交 checkbox and status area (google_layout.py). Everything goes into ONE batchUpdate
(which Google applies atomically: a failed build leaves the sheet untouched and can simply be retried).

Sheet ids are chosen here, not by Google, so the poller can address cells (notes on problem cells) by
gridRange without first fetching the spreadsheet: see :func:`sheet_ids`.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils.cell import column_index_from_string as col_index
from openpyxl.utils.cell import coordinate_from_string

from functions.sheet_model import display_width
from schemas.campaign import Campaign, Week
from schemas.formspec import FieldSpec, TableSpec
from schemas.i18n import Language, t
from schemas.roster import Unit
from sheets_templates import google_layout as gl
from sheets_templates import layout
from sheets_templates.field_hints import field_hint
from sheets_templates.instructions import InstructionLine, instruction_lines, sheet_heading

# A spreadsheet created through Drive starts with one tab whose id is 0: it becomes the instructions.
INSTRUCTIONS_SHEET_ID = 0
FIRST_TABLE_SHEET_ID = 101  # the deliverable's tables, in order: 101, 102, …
META_SHEET_ID = 999
DEFAULT_COLUMNS = 26  # a new tab's grid; widened when a table has more fields
DEFAULT_ROWS = 1000

Request = dict[str, Any]

_REQUIRED_BG = {"red": 0.957, "green": 0.694, "blue": 0.514}  # the xlsx's F4B183
_OPTIONAL_BG = {"red": 0.867, "green": 0.922, "blue": 0.969}  # DDEBF7
_IDENTITY_BG = {"red": 1.0, "green": 0.949, "blue": 0.8}  # FFF2CC
_STATUS_BG = {"red": 0.95, "green": 0.95, "blue": 0.95}
_HINT_FG = {"red": 0.5, "green": 0.5, "blue": 0.5}

# Google's number formats per field type: TEXT keeps a phone's leading 0 and a code's digits as typed.
_NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "integer": {"type": "NUMBER", "pattern": "0"},
    "phone": {"type": "TEXT"},
    "url": {"type": "TEXT"},
    "text": {"type": "TEXT"},
    "choice": {"type": "TEXT"},
    "multi_choice": {"type": "TEXT"},
}
_INT_MAX = 2_147_483_647


def pixel_width(chars: float) -> int:
    # About 7 px per Latin character in Sheets' default font, plus the cell's padding.
    return round(chars * 7 + 16)


def sheet_ids(campaign: Campaign, deliverable_key: str) -> dict[str, int]:
    """Tab title → sheetId in every unit sheet of this deliverable (instructions, tables, identity)."""
    lang = campaign.language
    ids = {layout.INSTRUCTIONS_SHEET[lang]: INSTRUCTIONS_SHEET_ID}
    for i, table in enumerate(campaign.tables_of(deliverable_key)):
        ids[table.title(lang)] = FIRST_TABLE_SHEET_ID + i
    ids[layout.META_SHEET] = META_SHEET_ID
    return ids


# --- small builders of API objects -------------------------------------------------------------------


def grid(sheet_id: int, row: int, col: int, rows: int | None = 1, cols: int | None = 1) -> dict[str, int]:
    """A GridRange from zero-based row/col; None leaves that end open (to the grid's edge)."""
    g = {"sheetId": sheet_id, "startRowIndex": row, "startColumnIndex": col}
    if rows is not None:
        g["endRowIndex"] = row + rows
    if cols is not None:
        g["endColumnIndex"] = col + cols
    return g


def a1_grid(sheet_id: int, a1: str) -> dict[str, int]:
    """The GridRange of one A1 cell, e.g. google_layout.SUBMIT_CELL."""
    letters, row = coordinate_from_string(a1)
    return grid(sheet_id, row - 1, col_index(letters) - 1)


def _text(
    value: str, *, bold: bool = False, bg: dict[str, float] | None = None, **fmt: Any
) -> dict[str, Any]:
    cell: dict[str, Any] = {"userEnteredValue": {"stringValue": value}}
    f: dict[str, Any] = dict(fmt)
    if bold:
        f["textFormat"] = {**f.get("textFormat", {}), "bold": True}
    if bg is not None:
        # backgroundColor is deprecated in Sheets v4; the style form carries the same RGB.
        f["backgroundColorStyle"] = {"rgbColor": bg}
    if f:
        cell["userEnteredFormat"] = f
    return cell


def _cells(sheet_id: int, row: int, col: int, rows: list[list[dict[str, Any]]], fields: str) -> Request:
    return {
        "updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
            "rows": [{"values": r} for r in rows],
            "fields": fields,
        }
    }


def _width(sheet_id: int, col: int, pixels: int) -> Request:
    return {
        "updateDimensionProperties": {
            "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col, "endIndex": col + 1},
            "properties": {"pixelSize": pixels},
            "fields": "pixelSize",
        }
    }


def _protect(
    range_: dict[str, int],
    description: str,
    editor: str,
    unprotected: list[dict[str, int]] | None = None,
) -> Request:
    # warningOnly=false: a real lock. Only the service account (and the spreadsheet's owner, which
    # Google always keeps) may edit, so a unit cannot break headers, labels or identity by accident.
    protected: dict[str, Any] = {
        "range": range_,
        "description": description,
        "warningOnly": False,
        "editors": {"users": [editor] if editor else []},
    }
    if unprotected:
        protected["unprotectedRanges"] = unprotected
    return {"addProtectedRange": {"protectedRange": protected}}


def _format(range_: dict[str, int], number_format: dict[str, str]) -> Request:
    return {
        "repeatCell": {
            "range": range_,
            "cell": {"userEnteredFormat": {"numberFormat": number_format}},
            "fields": "userEnteredFormat.numberFormat",
        }
    }


# --- validation and help -------------------------------------------------------------------------------


def validation_rule(
    field: FieldSpec, campaign: Campaign, window: Week | None = None
) -> dict[str, Any] | None:
    """The DataValidationRule for a field's cells, or None where the validator alone checks it."""
    hint = field_hint(field, campaign, window)
    condition: dict[str, Any]
    strict = True
    if field.type == "choice":
        condition = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in field.choices]}
    elif field.type in ("integer", "number"):
        whole = field.type == "integer"
        low = field.min if field.min is not None else (0 if whole else -1e15)
        high = field.max if field.max is not None else (_INT_MAX if whole else 1e15)
        bounds = [int(low), int(high)] if whole else [low, high]
        condition = {"type": "NUMBER_BETWEEN", "values": [{"userEnteredValue": str(b)} for b in bounds]}
    elif field.type == "date":
        condition = {"type": "DATE_IS_VALID"}
        # A warning, not a refusal: people type dates many ways and the validator reads them all.
        strict = False
    else:
        return None
    rule: dict[str, Any] = {"condition": condition, "strict": strict, "showCustomUi": True}
    if hint:
        rule["inputMessage"] = hint
    return rule


def _validate(range_: dict[str, int], rule: dict[str, Any]) -> Request:
    return {"setDataValidation": {"range": range_, "rule": rule}}


# --- the tabs --------------------------------------------------------------------------------------------


def rows_tab_columns(table: TableSpec) -> int:
    """A rows tab's grid width: every field plus the columns the poller reads beyond them. Sheets built
    before this rule are max(26, fields) wide; the poller reads what a tab really has (services/google/grid.py)."""
    return max(DEFAULT_COLUMNS, len(table.fields) + gl.EXTRA_COLUMNS)


def _add_sheet(sheet_id: int, title: str, index: int, *, columns: int, hidden: bool = False) -> Request:
    props: dict[str, Any] = {
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "gridProperties": {"rowCount": DEFAULT_ROWS, "columnCount": columns, "frozenRowCount": 1},
    }
    if hidden:
        props["hidden"] = True
        props["gridProperties"] = {"rowCount": 20, "columnCount": 4}
    return {"addSheet": {"properties": props}}


def _header_cell(text: str, required: bool, note: str = "") -> dict[str, Any]:
    cell = _text(
        text,
        bold=True,
        bg=_REQUIRED_BG if required else _OPTIONAL_BG,
        horizontalAlignment="CENTER",
        verticalAlignment="MIDDLE",
        wrapStrategy="WRAP",
    )
    if note:
        cell["note"] = note
    return cell


_HEADER_FIELDS = "userEnteredValue,note,userEnteredFormat(textFormat,backgroundColorStyle,horizontalAlignment,verticalAlignment,wrapStrategy)"


def rows_table_requests(
    sheet_id: int, table: TableSpec, campaign: Campaign, editor: str, window: Week | None = None
) -> list[Request]:
    lang = campaign.language
    hr = layout.ROWS_HEADER_ROW - 1
    first = layout.ROWS_FIRST_DATA_ROW - 1
    header = [_header_cell(f.label(lang), f.required, field_hint(f, campaign, window)) for f in table.fields]
    out: list[Request] = [_cells(sheet_id, hr, 0, [header], _HEADER_FIELDS)]
    for ci, field in enumerate(table.fields):
        chars = max(field.width or 0, display_width(field.label(lang)) + 3, 8)
        out.append(_width(sheet_id, ci, pixel_width(chars)))
        # Open-ended rows: rows a unit inserts or appends keep the format and the validation.
        column = grid(sheet_id, first, ci, rows=None)
        if field.type in _NUMBER_FORMATS:
            out.append(_format(column, _NUMBER_FORMATS[field.type]))
        rule = validation_rule(field, campaign, window)
        if rule is not None:
            out.append(_validate(column, rule))
    description = t(lang, "表头（请勿修改）", "Header (do not change)")
    out.append(_protect(grid(sheet_id, hr, 0, rows=1, cols=None), description, editor))
    return out


def record_table_requests(
    sheet_id: int, table: TableSpec, campaign: Campaign, editor: str, window: Week | None = None
) -> list[Request]:
    lang = campaign.language
    hr = layout.RECORD_HEADER_ROW - 1
    first = layout.RECORD_FIRST_FIELD_ROW - 1
    label_col = col_index(layout.RECORD_LABEL_COLUMN) - 1
    value_col = col_index(layout.RECORD_VALUE_COLUMN) - 1
    help_col = col_index(layout.RECORD_HELP_COLUMN) - 1
    header = [_header_cell(text, required=False) for text in layout.RECORD_HEADER[lang]]
    rows: list[list[dict[str, Any]]] = [header]
    for field in table.fields:
        hint = field_hint(field, campaign, window)
        label = _text(
            field.label(lang), bold=field.required, bg=_REQUIRED_BG if field.required else _OPTIONAL_BG
        )
        if hint:
            label["note"] = hint
        help_cell = _text(
            hint,
            textFormat={"foregroundColorStyle": {"rgbColor": _HINT_FG}, "fontSize": 9},
            wrapStrategy="WRAP",
        )
        rows.append([label, {}, help_cell])
    out: list[Request] = [_cells(sheet_id, hr, label_col, rows, _HEADER_FIELDS)]
    labels = [display_width(f.label(lang)) for f in table.fields]
    out.append(_width(sheet_id, label_col, pixel_width(max(14, max(labels, default=0) + 4))))
    out.append(_width(sheet_id, value_col, pixel_width(max(24, *(f.width or 0 for f in table.fields)))))
    out.append(_width(sheet_id, help_col, pixel_width(48)))
    for offset, field in enumerate(table.fields):
        cell = grid(sheet_id, first + offset, value_col)
        if field.type in _NUMBER_FORMATS:
            out.append(_format(cell, _NUMBER_FORMATS[field.type]))
        rule = validation_rule(field, campaign, window)
        if rule is not None:
            out.append(_validate(cell, rule))
    values = grid(sheet_id, first, value_col, rows=len(table.fields))
    description = t(lang, "表头和填报项目（请勿修改）", "Header and labels (do not change)")
    out.append(_protect({"sheetId": sheet_id}, description, editor, unprotected=[values]))
    return out


def _google_how(lang: Language) -> str:
    return t(
        lang,
        "直接在本表格中填写，无需发送文件。系统每隔几分钟自动检查，结果显示在右侧“校验结果”，"
        "有问题的单元格会加上批注。填写完成后勾选右侧“提交”复选框即完成报送；提交后仍可修改，修改后会重新检查。",
        "Fill in this spreadsheet directly; no file to send. It is checked every few minutes: the result "
        "appears under 'Check result' on the right and cells with problems get a note. When done, tick the "
        "submit box on the right; you can still correct it afterwards and it is checked again.",
    )


def _instruction_rows(campaign: Campaign, deliverable_key: str, unit: Unit) -> list[InstructionLine]:
    how = campaign.submission.how(campaign.language)
    lines = instruction_lines(campaign, deliverable_key, unit)
    # The campaign's "how to return" speaks of files; in a shared sheet there is nothing to send.
    return [
        line.model_copy(update={"text": _google_how(campaign.language)}) if line.text == how else line
        for line in lines
    ]


def instructions_requests(campaign: Campaign, deliverable_key: str, unit: Unit, editor: str) -> list[Request]:
    lang = campaign.language
    sid = INSTRUCTIONS_SHEET_ID
    out: list[Request] = [
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": sid,
                    "title": layout.INSTRUCTIONS_SHEET[lang],
                    "index": 0,
                    "gridProperties": {"frozenRowCount": 1},
                },
                "fields": "title,index,gridProperties.frozenRowCount",
            }
        },
        _cells(
            sid,
            0,
            0,
            [[_text(sheet_heading(campaign, deliverable_key), textFormat={"bold": True, "fontSize": 14})]],
            "userEnteredValue,userEnteredFormat.textFormat",
        ),
    ]
    value_col = col_index(layout.IDENTITY_VALUE_COLUMN) - 1
    rows: list[list[dict[str, Any]]] = []
    for line in _instruction_rows(campaign, deliverable_key, unit):
        label = _text(line.label, bold=True, verticalAlignment="TOP")
        if line.identity_key is not None:
            value = _text(line.text, bold=True, bg=_IDENTITY_BG, numberFormat={"type": "TEXT"})
        else:
            value = _text(line.text, wrapStrategy="WRAP", verticalAlignment="TOP")
        rows.append([label, *([{}] * (value_col - 1)), value])
    out.append(
        _cells(
            sid,
            2,
            0,
            rows,
            "userEnteredValue,userEnteredFormat(textFormat,backgroundColorStyle,numberFormat,wrapStrategy,verticalAlignment)",
        )
    )
    out.extend(_status_area_requests(lang))
    for col, px in ((0, 130), (1, 420), (2, 24), (3, 170), (4, 240)):
        out.append(_width(sid, col, px))
    submit = a1_grid(sid, gl.SUBMIT_CELL)
    out.append(_validate(submit, {"condition": {"type": "BOOLEAN"}, "strict": True}))
    # The whole tab is the system's except the 提交 checkbox: identity, text and status stay intact.
    description = t(
        lang,
        "填写说明、单位信息和校验结果（由系统维护）",
        "Instructions, identity and check result (kept by the system)",
    )
    out.append(_protect({"sheetId": sid}, description, editor, unprotected=[submit]))
    return out


def _status_area_requests(lang: Language) -> list[Request]:
    sid = INSTRUCTIONS_SHEET_ID
    out: list[Request] = []
    for label_cell, labels in (
        (gl.SUBMIT_LABEL_CELL, gl.SUBMIT_LABEL),
        (gl.STATUS_LABEL_CELL, gl.STATUS_LABEL),
        (gl.CHECKED_AT_LABEL_CELL, gl.CHECKED_AT_LABEL),
        (gl.ISSUES_LABEL_CELL, gl.ISSUES_LABEL),
    ):
        g = a1_grid(sid, label_cell)
        out.append(
            _cells(
                sid,
                g["startRowIndex"],
                g["startColumnIndex"],
                [[_text(labels[lang], bold=True, horizontalAlignment="RIGHT")]],
                "userEnteredValue,userEnteredFormat(textFormat,horizontalAlignment)",
            )
        )
    submit = a1_grid(sid, gl.SUBMIT_CELL)
    out.append(
        _cells(
            sid,
            submit["startRowIndex"],
            submit["startColumnIndex"],
            [[{"userEnteredValue": {"boolValue": False}}]],
            "userEnteredValue",
        )
    )
    status = a1_grid(sid, gl.STATUS_CELL)
    empty = _text(gl.STATUS_TEXT["empty"][lang], bold=True, bg=_STATUS_BG)
    out.append(
        _cells(
            sid,
            status["startRowIndex"],
            status["startColumnIndex"],
            [[empty]],
            "userEnteredValue,userEnteredFormat(textFormat,backgroundColorStyle)",
        )
    )
    return out


def meta_requests(
    campaign: Campaign, deliverable_key: str, unit: Unit, index: int, editor: str
) -> list[Request]:
    sid = META_SHEET_ID
    values = {
        "campaign_id": campaign.id,
        "unit_code": unit.code,
        "unit_name": unit.name,
        "deliverable": deliverable_key,
        "template_version": layout.TEMPLATE_VERSION,
        "language": campaign.language,
    }
    rows = [[_text(key), _text(values[key])] for key in layout.META_KEYS]
    out: list[Request] = [
        _add_sheet(sid, layout.META_SHEET, index, columns=4, hidden=True),
        _cells(sid, 0, 0, rows, "userEnteredValue"),
    ]
    for r, key in enumerate(layout.META_KEYS):
        if key in layout.DEFINED_NAMES:
            out.append(
                {
                    "addNamedRange": {
                        "namedRange": {"name": layout.DEFINED_NAMES[key], "range": grid(sid, r, 1)}
                    }
                }
            )
    description = t(campaign.language, "表格身份（请勿修改）", "Sheet identity (do not change)")
    out.append(_protect({"sheetId": sid}, description, editor))
    return out


def build_unit_sheet_requests(
    campaign: Campaign, deliverable_key: str, unit: Unit, *, service_account_email: str
) -> list[Request]:
    """Every request that turns a new, empty spreadsheet into the unit's sheet, in order, for ONE batchUpdate."""
    lang = campaign.language
    # The unit's own form and dates: fields `required_for` its type, its type's window.
    tables = campaign.tables_of(deliverable_key, unit.type)
    window = campaign.window_for(unit.type)
    out = instructions_requests(campaign, deliverable_key, unit, service_account_email)
    for i, table in enumerate(tables):
        sid = FIRST_TABLE_SHEET_ID + i
        columns = rows_tab_columns(table) if table.kind == "rows" else DEFAULT_COLUMNS
        out.append(_add_sheet(sid, table.title(lang), i + 1, columns=columns))
        if table.kind == "rows":
            out.extend(rows_table_requests(sid, table, campaign, service_account_email, window))
        else:
            out.extend(record_table_requests(sid, table, campaign, service_account_email, window))
    out.extend(meta_requests(campaign, deliverable_key, unit, len(tables) + 1, service_account_email))
    return out
