"""A unit's workbook for one deliverable, built from the form spec and the campaign.

Layout contract: sheets_templates/layout.py (the reader uses the same constants). What makes it
pleasant for unit staff in Excel, WPS and LibreOffice: dropdowns for choices, whole-number and date
validation with input hints, frozen headers, widths that fit Chinese, required headers highlighted,
required cells turning red in a row that has been started, and protection that locks only what the
unit must not change (identity, headers, labels) while leaving rows insertable.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from functions.atomic_file import write_atomically
from functions.sheet_model import SPREADSHEET_EPOCH, display_width
from schemas.campaign import Campaign, Week
from schemas.formspec import FieldSpec, TableSpec
from schemas.i18n import Language, t
from schemas.roster import Unit
from sheets_templates import layout
from sheets_templates.field_hints import field_hint
from sheets_templates.instructions import instruction_lines, sheet_heading

_INT_MAX = 2_147_483_647
# Excel limits for a validation's input message.
_PROMPT_TITLE_MAX = 32
_PROMPT_MAX = 255
# Column of the hidden sheet where dropdown lists start (A and B hold the identity).
_LIST_FIRST_COLUMN = 4

_THIN = Side(style="thin", color="FFB7B7B7")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_REQUIRED_FILL = PatternFill("solid", fgColor="FFF4B183")
_OPTIONAL_FILL = PatternFill("solid", fgColor="FFDDEBF7")
_IDENTITY_FILL = PatternFill("solid", fgColor="FFFFF2CC")
_MISSING_FILL = PatternFill("solid", fgColor="FFFFC7CE")
# 宋体 is on every Chinese Windows and in WPS, so Excel, WPS and LibreOffice lay the form out alike;
# charset 134 (GB2312) names the script and family 2 lets a suite without it fall back to a sans serif.
CJK_FONT = "宋体"


def _font(**style: object) -> Font:
    return Font(name=CJK_FONT, charset=134, family=2, **style)  # type: ignore[arg-type]


_HEADER_FONT = _font(bold=True, size=11)
_LOCKED = Protection(locked=True)
_UNLOCKED = Protection(locked=False)

_NUMBER_FORMATS: dict[str, str] = {
    "date": "yyyy-mm-dd",
    "integer": "0",
    "number": "General",
    "phone": "@",
    "url": "@",
    "text": "@",
    "choice": "@",
    "multi_choice": "@",
    "serial": "General",
}


def column_width(field: FieldSpec, lang: Language) -> float:
    return float(max(field.width or 0, display_width(field.label(lang)) + 3, 8))


def _serial(day: dt.date) -> int:
    return (day - SPREADSHEET_EPOCH).days


class _Lists:
    """Dropdown choices written to the hidden sheet: inline lists are capped at 255 characters."""

    def __init__(self, meta: Worksheet) -> None:
        self.meta = meta
        self.next_column = _LIST_FIRST_COLUMN
        self.ranges: dict[tuple[str, ...], str] = {}

    def range_for(self, choices: list[str]) -> str:
        key = tuple(choices)
        if key not in self.ranges:
            col = get_column_letter(self.next_column)
            self.next_column += 1
            for i, choice in enumerate(choices, start=1):
                self.meta[f"{col}{i}"] = choice
            self.ranges[key] = f"{quote_sheetname(self.meta.title)}!${col}$1:${col}${len(choices)}"
        return self.ranges[key]


def _prompt(field: FieldSpec, lang: Language, campaign: Campaign, window: Week | None = None) -> str:
    # Excel refuses an input message over 255 characters.
    text = field_hint(field, campaign, window)
    return text if len(text) <= _PROMPT_MAX else text[: _PROMPT_MAX - 1] + "…"


def _validation(
    field: FieldSpec, campaign: Campaign, lists: _Lists, window: Week | None = None
) -> DataValidation:
    lang = campaign.language
    title = field.label(lang)[:_PROMPT_TITLE_MAX]
    common = {
        "allow_blank": True,
        "showInputMessage": True,
        "promptTitle": title,
        "prompt": _prompt(field, lang, campaign, window),
        "errorTitle": title,
    }
    if field.type == "choice":
        return DataValidation(
            type="list",
            formula1=lists.range_for(field.choices),
            showErrorMessage=True,
            errorStyle="stop",
            error=t(lang, "请从下拉列表中选择。", "Pick a value from the list."),
            **common,
        )
    if field.type == "integer":
        low = int(field.min) if field.min is not None else 0
        high = int(field.max) if field.max is not None else _INT_MAX
        return DataValidation(
            type="whole",
            operator="between",
            formula1=str(low),
            formula2=str(high),
            showErrorMessage=True,
            errorStyle="stop",
            error=t(
                lang, f"请填写 {low} 到 {high} 之间的整数。", f"Enter a whole number from {low} to {high}."
            ),
            **common,
        )
    if field.type == "number":
        low_f = field.min if field.min is not None else -1e15
        high_f = field.max if field.max is not None else 1e15
        return DataValidation(
            type="decimal",
            operator="between",
            formula1=repr(low_f),
            formula2=repr(high_f),
            showErrorMessage=True,
            errorStyle="stop",
            error=t(lang, "请填写数字。", "Enter a number."),
            **common,
        )
    if field.type == "date":
        # Wide bounds and a warning only: people type dates many ways and the validator reads them all;
        # this catches the obvious slip (wrong year) while typing.
        # The unit's window (campaign.windows) when its type has one, else the week.
        w = window or campaign.week
        low_d = w.start - dt.timedelta(days=120)
        high_d = w.end + dt.timedelta(days=120)
        return DataValidation(
            type="date",
            operator="between",
            formula1=str(_serial(low_d)),
            formula2=str(_serial(high_d)),
            showErrorMessage=True,
            errorStyle="warning",
            error=t(
                lang,
                f"日期应接近活动时间（{w.start:%Y-%m-%d} 至 {w.end:%Y-%m-%d}），格式如 {w.start:%Y-%m-%d}。",
                f"The date should be near the activity dates ({w.start} to {w.end}).",
            ),
            **common,
        )
    if field.max_length:
        return DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(field.max_length),
            showErrorMessage=True,
            errorStyle="stop",
            error=t(lang, f"最多 {field.max_length} 个字。", f"At most {field.max_length} characters."),
            **common,
        )
    return DataValidation(showErrorMessage=False, **common)


def _protect(ws: Worksheet) -> None:
    """Lock what is locked, but let people format, sort, filter and insert or delete rows."""
    p = ws.protection
    p.sheet = True
    for attr in (
        "formatCells",
        "formatColumns",
        "formatRows",
        "insertRows",
        "deleteRows",
        "sort",
        "autoFilter",
    ):
        setattr(p, attr, False)


def _print_setup(ws: Worksheet, landscape: bool) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _header_cell(ws: Worksheet, row: int, col: int, text: str, required: bool) -> None:
    c = ws.cell(row=row, column=col, value=text)
    c.font = _HEADER_FONT
    c.fill = _REQUIRED_FILL if required else _OPTIONAL_FILL
    c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    c.border = _BORDER
    c.protection = _LOCKED


def _rows_sheet(
    ws: Worksheet, table: TableSpec, campaign: Campaign, lists: _Lists, window: Week | None = None
) -> None:
    lang = campaign.language
    hr = layout.ROWS_HEADER_ROW
    first = layout.ROWS_FIRST_DATA_ROW
    last = first + layout.ROWS_PREPARED - 1
    for ci, field in enumerate(table.fields, start=1):
        letter = get_column_letter(ci)
        _header_cell(ws, hr, ci, field.label(lang), field.required)
        dim = ws.column_dimensions[letter]
        dim.width = column_width(field, lang)
        # Column-level style: cells the unit creates later inherit the format and stay editable.
        dim.number_format = _NUMBER_FORMATS[field.type]
        dim.protection = _UNLOCKED
        if field.type != "serial":
            dv = _validation(field, campaign, lists, window)
            dv.add(f"{letter}{first}:{letter}{last}")
            ws.add_data_validation(dv)
    ws.row_dimensions[hr].height = 32
    ws.freeze_panes = f"A{first}"
    data_cols = [i for i, f in enumerate(table.fields, start=1) if f.type != "serial"]
    if data_cols:
        span = f"${get_column_letter(data_cols[0])}{first}:${get_column_letter(data_cols[-1])}{first}"
        for ci, field in enumerate(table.fields, start=1):
            if not field.required:
                continue
            letter = get_column_letter(ci)
            ws.conditional_formatting.add(
                f"{letter}{first}:{letter}{last}",
                FormulaRule(formula=[f"AND(COUNTA({span})>0,LEN({letter}{first})=0)"], fill=_MISSING_FILL),
            )
    ws.print_title_rows = f"{hr}:{hr}"
    _print_setup(ws, landscape=True)
    _protect(ws)


def _record_sheet(
    ws: Worksheet, table: TableSpec, campaign: Campaign, lists: _Lists, window: Week | None = None
) -> None:
    lang = campaign.language
    label_col = layout.RECORD_LABEL_COLUMN
    value_col = layout.RECORD_VALUE_COLUMN
    help_col = layout.RECORD_HELP_COLUMN
    hr = layout.RECORD_HEADER_ROW
    for ci, text in enumerate(layout.RECORD_HEADER[lang], start=1):
        _header_cell(ws, hr, ci, text, required=False)
    labels = [f.label(lang) for f in table.fields]
    ws.column_dimensions[label_col].width = max(14, max(display_width(x) for x in labels) + 4)
    ws.column_dimensions[value_col].width = max(24, *(f.width or 0 for f in table.fields))
    ws.column_dimensions[help_col].width = 48
    ws.column_dimensions[value_col].protection = _UNLOCKED
    for offset, field in enumerate(table.fields):
        r = layout.RECORD_FIRST_FIELD_ROW + offset
        label = ws[f"{label_col}{r}"]
        label.value = field.label(lang)
        label.font = _font(bold=field.required)
        label.fill = _REQUIRED_FILL if field.required else _OPTIONAL_FILL
        label.border = _BORDER
        label.protection = _LOCKED
        value = ws[f"{value_col}{r}"]
        value.number_format = _NUMBER_FORMATS[field.type]
        value.border = _BORDER
        value.protection = _UNLOCKED
        hint = ws[f"{help_col}{r}"]
        hint.value = _prompt(field, lang, campaign, window) or None
        hint.font = _font(color="FF7F7F7F", size=10)
        hint.alignment = Alignment(wrap_text=True, vertical="top")
        hint.protection = _LOCKED
        dv = _validation(field, campaign, lists, window)
        dv.add(f"{value_col}{r}")
        ws.add_data_validation(dv)
        if field.required:
            ws.conditional_formatting.add(
                f"{value_col}{r}",
                FormulaRule(formula=[f"LEN({value_col}{r})=0"], fill=_MISSING_FILL),
            )
    ws.freeze_panes = f"A{layout.RECORD_FIRST_FIELD_ROW}"
    _print_setup(ws, landscape=False)
    _protect(ws)


_INSTRUCTION_CHARS = 88  # column B's 90 units, less padding


def _instructions_sheet(
    ws: Worksheet, campaign: Campaign, deliverable_key: str, unit: Unit | None, form_link: str | None = None
) -> None:
    ws["A1"] = sheet_heading(campaign, deliverable_key)
    ws["A1"].font = _font(bold=True, size=14)
    ws.merge_cells("A1:B1")
    ws.row_dimensions[1].height = 28
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 90
    value_col = layout.IDENTITY_VALUE_COLUMN
    row = 3
    for line in instruction_lines(campaign, deliverable_key, unit, form_link=form_link):
        label = ws[f"A{row}"]
        label.value = line.label
        label.font = _font(bold=True)
        label.alignment = Alignment(vertical="top")
        value = ws[f"{value_col}{row}"]
        value.value = line.text or None
        value.alignment = Alignment(wrap_text=True, vertical="top")
        if line.text:
            # Neither Excel nor LibreOffice grows a row for wrapped text when opening a file.
            lines = sum(
                max(1, -(-display_width(part) // _INSTRUCTION_CHARS)) for part in line.text.split("\n")
            )
            if lines > 1:
                ws.row_dimensions[row].height = 15 * lines + 2
        if line.link is not None:
            value.hyperlink = line.link
        if line.identity_key is not None:
            value.font = _font(bold=True, size=12)
            value.fill = _IDENTITY_FILL
            value.border = _BORDER
            value.number_format = "@"
            # Prefilled identity is locked; on the blank template the unit types it in.
            value.protection = _LOCKED if unit is not None else _UNLOCKED
        row += 1
    _print_setup(ws, landscape=False)
    _protect(ws)


def _meta_sheet(wb: Workbook, campaign: Campaign, deliverable_key: str, unit: Unit | None) -> Worksheet:
    ws = wb.create_sheet(layout.META_SHEET)
    values = {
        "campaign_id": campaign.id,
        "unit_code": unit.code if unit else "",
        "unit_name": unit.name if unit else "",
        "deliverable": deliverable_key,
        "template_version": layout.TEMPLATE_VERSION,
        "language": campaign.language,
    }
    for r, key in enumerate(layout.META_KEYS, start=1):
        ws[f"A{r}"] = key
        ws[f"B{r}"] = values[key]
        ws[f"B{r}"].number_format = "@"
        if key in layout.DEFINED_NAMES:
            name = layout.DEFINED_NAMES[key]
            wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(ws.title)}!$B${r}")
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ws


def build_unit_workbook(
    campaign: Campaign, deliverable_key: str, unit: Unit | None, *, form_link: str | None = None
) -> Workbook:
    """The workbook a unit fills for one deliverable; ``unit=None`` gives the blank template."""
    lang = campaign.language
    deliverable = campaign.deliverable(deliverable_key)
    wb = Workbook()
    # The workbook's default font (index 0: every cell without its own font, and the cells a unit adds
    # later) is the CJK one, not openpyxl's Calibri. openpyxl has no public setting for it.
    wb._fonts = IndexedList([_font(size=11)])
    wb._named_styles["Normal"].font = _font(size=11)
    intro = wb.active
    assert intro is not None  # a new Workbook always has one sheet
    intro.title = layout.INSTRUCTIONS_SHEET[lang]
    _instructions_sheet(intro, campaign, deliverable_key, unit, form_link)
    unit_type = unit.type if unit else None
    window = campaign.window_for(unit_type)
    table_sheets = [
        (wb.create_sheet(t.title(lang)), t) for t in campaign.tables_of(deliverable_key, unit_type)
    ]
    meta = _meta_sheet(wb, campaign, deliverable_key, unit)
    lists = _Lists(meta)
    for ws, table in table_sheets:
        if table.kind == "rows":
            _rows_sheet(ws, table, campaign, lists, window)
        else:
            _record_sheet(ws, table, campaign, lists, window)
    wb.active = 0
    props = wb.properties
    props.title = f"{campaign.title} {deliverable.title(lang)}"
    props.subject = unit.name if unit else t(lang, "空白模板", "Blank template")
    props.creator = "huizong"
    props.keywords = f"{campaign.id};{deliverable_key};{unit.code if unit else ''}"
    return wb


def save_workbook_atomically(wb: Workbook, path: Path) -> None:
    """Write the whole workbook, then replace the file: a reader never sees half a workbook."""
    buffer = io.BytesIO()
    wb.save(buffer)
    write_atomically(path, buffer.getvalue())
