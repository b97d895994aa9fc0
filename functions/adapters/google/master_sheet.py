"""The master's tabs as Sheets API requests: values, formats, tab structure, bodies under the size limit.

The Google master service (publish_master) decides which spreadsheet and when; this
adapter turns the neutral sheet model (functions/sheet_model.py) into the one get, the batchUpdate and
the values:batchUpdate calls that write it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from functions.adapters.google.json_body import compact_json
from functions.ports import GoogleBudgetExhausted, MasterWriteStats, PreparedMaster
from functions.sheet_model import SPREADSHEET_EPOCH, Cell, MasterSheet, Style
from sheets_templates.google_layout import a1_tab

if TYPE_CHECKING:
    from functions.adapters.google.session import GoogleSession

# Google recommends at most 2 MB per request; staying at 1.5 MB leaves room for what the estimate of
# a body's size cannot know (headers, a proxy's re-encoding) and still packs a 2,000-unit master into
# a few calls.
MAX_BODY_BYTES = 1_500_000
MAX_CELLS = 10_000_000  # Google's limit per spreadsheet
MAX_CELL_CHARS = 50_000  # Google's limit per cell
_EXACT_INT = 10**15  # Sheets keeps 15 significant digits: longer codes would be rounded, so send text
_EPOCH = dt.datetime.combine(SPREADSHEET_EPOCH, dt.time())  # Sheets shares Excel's serial numbers

# Enough of each tab to plan the batchUpdate: ids, titles, grid size and the number of colour rules
# (old rules are deleted by index before the new ones are added, so they never pile up).
GET_FIELDS = (
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)),conditionalFormats(ranges))"
)


# --- values --------------------------------------------------------------------------------------------

_NUMBER_FORMATS: dict[str, dict[str, str]] = {
    "percent": {"type": "PERCENT", "pattern": "0.0%"},
    "date": {"type": "DATE", "pattern": "yyyy-mm-dd"},
    "datetime": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm"},
    "int": {"type": "NUMBER", "pattern": "0"},
    "number": {"type": "NUMBER", "pattern": "0.00"},
}
_STYLE_FORMAT = {Style.PERCENT: "percent", Style.DATE: "date", Style.DATETIME: "datetime", Style.INT: "int",
                 Style.NUMBER: "number"}  # fmt: skip


def _serial(value: dt.date) -> float | int:
    if isinstance(value, dt.datetime):
        naive = value.replace(tzinfo=None)
        return round((naive - _EPOCH).total_seconds() / 86400, 8)
    return (value - _EPOCH.date()).days


def plain_value(value: Any) -> tuple[Any, str | None]:
    """A master cell as the JSON Sheets stores with RAW input, and the number format a date needs.

    Text stays text (RAW never parses "=…" as a formula nor "2024-05-01" as a date); dates become serial
    numbers, shown as dates by the number format the batchUpdate sets on their cells.
    """
    if value is None:
        return "", None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int):
        return (str(value), None) if abs(value) >= _EXACT_INT else (value, None)
    if isinstance(value, float | Decimal):
        number = float(value)
        return (number, None) if math.isfinite(number) else ("", None)
    if isinstance(value, dt.datetime):
        return _serial(value), "datetime"
    if isinstance(value, dt.date):
        return _serial(value), "date"
    text = value if isinstance(value, str) else str(value)
    return text[:MAX_CELL_CHARS], None


# --- looks ---------------------------------------------------------------------------------------------


def _rgb(hex6: str) -> dict[str, float]:
    r, g, b = (int(hex6[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(r, 4), "green": round(g, 4), "blue": round(b, 4)}


# The xlsx writer's colours, so both masters look alike.
STATE_COLOURS: dict[Style, str] = {
    Style.STATE_VALID: "C6EFCE",  # green
    Style.STATE_ERRORS: "FFC7CE",  # red
    Style.STATE_DRAFT: "FFEB9C",  # amber
    Style.STATE_MISSING: "D9D9D9",  # grey
}
_LOOKS: dict[Style, dict[str, Any]] = {
    Style.HEADER: {"textFormat": {"bold": True}, "backgroundColorStyle": {"rgbColor": _rgb("DDEBF7")}, "wrapStrategy": "WRAP",
                   "verticalAlignment": "MIDDLE"},
    Style.TITLE: {"textFormat": {"bold": True, "fontSize": 14}},
    Style.TOTAL: {"textFormat": {"bold": True}},
    Style.NOTE: {"textFormat": {"italic": True, "foregroundColorStyle": {"rgbColor": _rgb("595959")}}, "wrapStrategy": "WRAP",
                 "verticalAlignment": "TOP"},
    Style.LATE: {"textFormat": {"foregroundColorStyle": {"rgbColor": _rgb("C65911")}}},
    Style.WRAP: {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"},
} | {s: {"backgroundColorStyle": {"rgbColor": _rgb(c)}} for s, c in STATE_COLOURS.items()}  # fmt: skip
# One mask for every look: a cell has one style, and the number format is set under its own path.
# Colours go in the *ColorStyle fields: Sheets deprecates backgroundColor/foregroundColor.
_LOOK_FIELDS = "userEnteredFormat(textFormat,backgroundColorStyle,wrapStrategy,verticalAlignment)"
# In a table's data rows these styles follow the text (a state, a severity), so they become conditional
# rules on the column: a handful of rules instead of one request per unit, and the colour stays right
# when an organiser sorts or filters.
_KEYED = frozenset(STATE_COLOURS) | {Style.NOTE, Style.LATE}


def _conditional_format(style: Style) -> dict[str, Any]:
    # Conditional formats take only colours and bold/italic, not wrapping.
    look = _LOOKS[style]
    return {k: v for k, v in look.items() if k in ("textFormat", "backgroundColorStyle")}


# --- one tab, rendered ---------------------------------------------------------------------------------


@dataclass
class RenderedTab:
    key: str
    name: str
    is_table: bool
    widths: list[float | None]
    rows: list[list[Any]] = field(default_factory=list)  # the header (tables) is row 0
    formats: dict[int, list[tuple[int, str | None]]] = field(default_factory=dict)  # col -> numeric cells
    looks: list[tuple[int, int, Style]] = field(default_factory=list)
    keyed: dict[int, dict[str, Style]] = field(default_factory=dict)  # col -> text -> style

    @property
    def ncols(self) -> int:
        return max([len(self.widths), *(len(r) for r in self.rows), 1])

    @property
    def nrows(self) -> int:
        # A frozen header needs a row below it; an empty tab still has one row.
        return max(len(self.rows), 2 if self.is_table else 1)

    @property
    def data_rows(self) -> int:
        return len(self.rows) - 1 if self.is_table else len(self.rows)


def render_tab(sheet: MasterSheet) -> RenderedTab:
    """Turn a publisher-independent tab into JSON values plus the formats the batchUpdate sets."""
    tab = RenderedTab(sheet.key, sheet.name, sheet.is_table, [c.width for c in sheet.columns])
    if sheet.header is not None:
        tab.rows.append([plain_value(h)[0] for h in sheet.header])
        tab.looks.extend((0, c, Style.HEADER) for c in range(len(sheet.header)))
    for row in sheet.rows:
        _render_row(tab, len(tab.rows), row)
    return tab


def _render_row(tab: RenderedTab, r: int, row: Sequence[Any]) -> None:
    out: list[Any] = []
    for c, cell in enumerate(row):
        value, style = (cell.value, cell.style) if isinstance(cell, Cell) else (cell, None)
        plain, date_format = plain_value(value)
        out.append(plain)
        if isinstance(plain, int | float) and not isinstance(plain, bool):
            # A date keeps a date format under every style but the two date styles (as in the xlsx).
            chosen = _STYLE_FORMAT.get(style) if style is not None else None
            if date_format and chosen not in ("date", "datetime"):
                chosen = date_format
            tab.formats.setdefault(c, []).append((r, chosen))
        if style is None or style not in _LOOKS:
            continue
        if tab.is_table and style in _KEYED and isinstance(plain, str) and plain:
            tab.keyed.setdefault(c, {}).setdefault(plain, style)
        else:
            tab.looks.append((r, c, style))
    while out and out[-1] == "":
        out.pop()  # trailing blanks cost bytes and the tab was cleared anyway
    tab.rows.append(out)


def _grid(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict[str, int]:
    return {"sheetId": sheet_id, "startRowIndex": r0, "endRowIndex": r1, "startColumnIndex": c0,
            "endColumnIndex": c1}  # fmt: skip


def _look_rectangles(looks: Iterable[tuple[int, int, Style]]) -> list[tuple[int, int, int, int, Style]]:
    """Styled cells merged into rectangles: runs along a row, then identical runs down the rows."""
    by_row: dict[int, list[tuple[int, Style]]] = {}
    for r, c, s in looks:
        by_row.setdefault(r, []).append((c, s))
    open_rects: dict[tuple[int, int, Style], list[int]] = {}  # (c0, c1, style) -> [r0, r1]
    done: list[tuple[int, int, int, int, Style]] = []
    for r in sorted(by_row):
        runs: list[tuple[int, int, Style]] = []
        for c, s in sorted(by_row[r], key=lambda x: x[0]):
            if runs and runs[-1][1] == c and runs[-1][2] == s:
                runs[-1] = (runs[-1][0], c + 1, s)
            else:
                runs.append((c, c + 1, s))
        for c0, c1, s in runs:
            span = open_rects.get((c0, c1, s))
            if span is not None and span[1] == r:
                span[1] = r + 1
            else:
                if span is not None:
                    done.append((span[0], span[1], c0, c1, s))
                open_rects[(c0, c1, s)] = [r, r + 1]
    done.extend((r0, r1, c0, c1, s) for (c0, c1, s), (r0, r1) in open_rects.items())
    return sorted(done, key=lambda x: (x[0], x[2]))


def _format_runs(cells: list[tuple[int, str | None]]) -> list[tuple[int, int, str]]:
    """Numeric cells of one column grouped into row spans of one number format (text between is fine:
    a number format does not change how text shows)."""
    runs: list[tuple[int, int, str | None]] = []
    for r, fmt in cells:
        if runs and runs[-1][2] == fmt:
            runs[-1] = (runs[-1][0], r + 1, fmt)
        else:
            runs.append((r, r + 1, fmt))
    return [(r0, r1, fmt) for r0, r1, fmt in runs if fmt is not None]


def format_requests(tab: RenderedTab, sheet_id: int) -> list[dict[str, Any]]:
    """Widths, looks, number formats, filter and colour rules for a freshly cleared tab."""
    requests: list[dict[str, Any]] = []
    widths = tab.widths
    c = 0
    while c < len(widths):
        end = c
        while end + 1 < len(widths) and widths[end + 1] == widths[c]:
            end += 1
        if widths[c] is not None:
            # Excel character units to pixels, as Excel converts them for the default font.
            pixels = round(float(widths[c] or 0) * 7 + 5)
            requests.append({"updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": c, "endIndex": end + 1},
                "properties": {"pixelSize": pixels}, "fields": "pixelSize"}})  # fmt: skip
        c = end + 1
    for r0, r1, c0, c1, style in _look_rectangles(tab.looks):
        requests.append({"repeatCell": {"range": _grid(sheet_id, r0, r1, c0, c1),
                                        "cell": {"userEnteredFormat": _LOOKS[style]}, "fields": _LOOK_FIELDS}})  # fmt: skip
    for col in sorted(tab.formats):
        for r0, r1, fmt in _format_runs(tab.formats[col]):
            requests.append({"repeatCell": {"range": _grid(sheet_id, r0, r1, col, col + 1),
                                            "cell": {"userEnteredFormat": {"numberFormat": _NUMBER_FORMATS[fmt]}},
                                            "fields": "userEnteredFormat.numberFormat"}})  # fmt: skip
    if tab.is_table:
        requests.append(
            {"setBasicFilter": {"filter": {"range": _grid(sheet_id, 0, tab.nrows, 0, tab.ncols)}}}
        )
    index = 0
    for col in sorted(tab.keyed):
        for text, style in sorted(tab.keyed[col].items()):
            rule = {
                # Open-ended downwards: the whole column below the header.
                "ranges": [{"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": col,
                            "endColumnIndex": col + 1}],
                "booleanRule": {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": text}]},
                                "format": _conditional_format(style)},
            }  # fmt: skip
            requests.append({"addConditionalFormatRule": {"rule": rule, "index": index}})
            index += 1
    return requests


# --- the plan: structure, then values --------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingTab:
    sheet_id: int
    title: str
    rules: int


def existing_tabs(spreadsheet: dict[str, Any]) -> list[ExistingTab]:
    tabs = []
    for s in spreadsheet.get("sheets", []):
        p = s.get("properties", {})
        tabs.append(
            ExistingTab(
                int(p.get("sheetId", 0)), str(p.get("title", "")), len(s.get("conditionalFormats", []))
            )
        )
    return tabs


def structure_requests(
    tabs: list[RenderedTab], existing: list[ExistingTab], *, drop_others: bool
) -> list[dict[str, Any]]:
    """Add missing tabs, order and size all, clear old values and formats, then format each.

    `drop_others`: delete tabs that are not the master's (only in a spreadsheet this module created,
    where the only other tab is the empty one Drive puts in a new file).
    """
    by_title = {e.title: e for e in existing}
    next_id = max([e.sheet_id for e in existing] + [0]) + 1
    ids: dict[str, int] = {}
    requests: list[dict[str, Any]] = []
    for index, tab in enumerate(tabs):
        grid = {"rowCount": tab.nrows, "columnCount": tab.ncols, "frozenRowCount": 1 if tab.is_table else 0}
        old = by_title.get(tab.name)
        if old is None:
            ids[tab.name] = next_id
            props = {"sheetId": next_id, "title": tab.name, "index": index, "gridProperties": grid}
            requests.append({"addSheet": {"properties": props}})
            next_id += 1
            continue
        ids[tab.name] = old.sheet_id
        requests.append({"updateSheetProperties": {
            "properties": {"sheetId": old.sheet_id, "index": index, "gridProperties": grid},
            "fields": "index,gridProperties.rowCount,gridProperties.columnCount,gridProperties.frozenRowCount"}})  # fmt: skip
        requests.append({"updateCells": {"range": {"sheetId": old.sheet_id},
                                         "fields": "userEnteredValue,userEnteredFormat"}})  # fmt: skip
        requests.extend({"deleteConditionalFormatRule": {"sheetId": old.sheet_id, "index": 0}}
                        for _ in range(old.rules))  # fmt: skip
    if drop_others:
        ours = {tab.name for tab in tabs}
        requests.extend({"deleteSheet": {"sheetId": e.sheet_id}} for e in existing if e.title not in ours)
    for tab in tabs:
        requests.extend(format_requests(tab, ids[tab.name]))
    return requests


def body_bytes(body: Any) -> int:
    """The size of a JSON body as the session sends it (compact UTF-8, see google_session.compact_json)."""
    return len(compact_json(body))


def chunk_requests(requests: list[dict[str, Any]], limit: int = MAX_BODY_BYTES) -> list[list[dict[str, Any]]]:
    """batchUpdate request lists in order, each body under `limit` (normally all fit in one)."""
    chunks: list[list[dict[str, Any]]] = [[]]
    size = body_bytes({"requests": []})
    for request in requests:
        n = body_bytes(request) + 2
        if chunks[-1] and size + n > limit:
            chunks.append([])
            size = body_bytes({"requests": []})
        chunks[-1].append(request)
        size += n
    return [c for c in chunks if c]


def value_chunks(tabs: list[RenderedTab], limit: int = MAX_BODY_BYTES) -> list[list[dict[str, Any]]]:
    """The `data` of each values:batchUpdate: row blocks of the tabs, each request body under `limit`.

    Sizes are counted as they will be sent, row by row, so a body is never built twice; a tab may
    continue in the next request from the row where the previous one stopped.
    """
    empty_body = body_bytes({"valueInputOption": "RAW", "data": []})
    chunks: list[list[dict[str, Any]]] = []
    data: list[dict[str, Any]] = []
    size = empty_body

    def flush() -> None:
        nonlocal data, size
        if data:
            chunks.append(data)
        data, size = [], empty_body

    for tab in tabs:
        start = 0
        while start < len(tab.rows):
            block = {"range": f"{a1_tab(tab.name)}!A{start + 1}", "majorDimension": "ROWS", "values": []}
            overhead = body_bytes(block) + 2
            if data and size + overhead + body_bytes(tab.rows[start]) + 2 > limit:
                flush()
            size += overhead
            end = start
            while end < len(tab.rows):
                n = body_bytes(tab.rows[end]) + 2
                if end > start and size + n > limit:
                    break
                size += n
                end += 1
            block["values"] = tab.rows[start:end]
            data.append(block)
            start = end
            if start < len(tab.rows):
                flush()
    flush()
    return chunks


# --- the spreadsheet and who sees it ---------------------------------------------------------------------


def prepare_master(sheets: Sequence[MasterSheet], *, max_body_bytes: int = MAX_BODY_BYTES) -> PreparedMaster:
    """Every tab rendered in memory: the grid sizes must be known before the first value is sent, and a
    master that fits Google's 10 million cells fits in memory too."""
    tabs = [render_tab(s) for s in sheets]
    values = value_chunks(tabs, max_body_bytes)
    return PreparedMaster(
        rows={tab.key: tab.data_rows for tab in tabs},
        tab_names={tab.key: tab.name for tab in tabs},
        cells=sum(tab.nrows * tab.ncols for tab in tabs),
        max_cells=MAX_CELLS,
        value_calls=len(values),
        payload=(tabs, values, max_body_bytes),
    )


def write_master(
    session: GoogleSession, spreadsheet_id: str, prepared: PreparedMaster, *, drop_others: bool
) -> MasterWriteStats:
    """One get, the structure batchUpdate(s), then the values; refuses to start what the budget cannot end."""
    tabs, values, max_body_bytes = prepared.payload
    out = MasterWriteStats()
    existing = existing_tabs(session.get_spreadsheet(spreadsheet_id, GET_FIELDS))
    batches = chunk_requests(structure_requests(tabs, existing, drop_others=drop_others), max_body_bytes)
    remaining = session.remaining_calls()
    if remaining is not None and remaining < len(batches) + len(values):
        raise GoogleBudgetExhausted(f"{len(batches) + len(values)} calls needed, {remaining} left")
    for requests in batches:
        out.largest_body_bytes = max(out.largest_body_bytes, body_bytes({"requests": requests}))
        session.batch_update(spreadsheet_id, requests)
        out.batch_requests += 1
    for data in values:
        size = body_bytes({"valueInputOption": "RAW", "data": data})
        out.largest_body_bytes = max(out.largest_body_bytes, size)
        session.values_batch_update(spreadsheet_id, data, input_option="RAW")
        out.value_requests += 1
    return out
