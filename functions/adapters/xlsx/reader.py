"""Read a unit's workbook as the unit left it: which unit, which deliverable, and every cell with its place.

Never raises for a bad file: problems become file-level issues on the RawSubmission. The workbook is
opened by its content (any file name), parsed by workbook_xml under the limits of zip_guard, and every
row is read whatever the sheet's <dimension> claims.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from functions.adapters.xlsx.workbook_xml import Book, UnreadablePart, XCell
from functions.adapters.xlsx.xls_reader import XlsBook, open_xls
from functions.adapters.xlsx.zip_guard import (
    DEFAULT_LIMITS,
    Budget,
    LimitExceeded,
    ReadLimits,
    check_directory,
)
from functions.validate import codes
from functions.validate.codes import IssueKind
from functions.validate.messages import make_issue
from schemas.campaign import Campaign
from schemas.formspec import TableSpec
from schemas.i18n import Language, t
from schemas.raw import ClaimedIdentity, RawCell, RawRecord, RawSubmission, RawTable
from schemas.roster import Roster
from sheets_templates import layout

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# How far down a sheet a moved header row is still looked for.
_HEADER_SCAN_ROWS = 10


def read_workbook(
    path: Path, campaign: Campaign, roster: Roster, *, limits: ReadLimits = DEFAULT_LIMITS
) -> RawSubmission:
    lang = campaign.language
    raw = RawSubmission(source=str(path), source_kind="file")
    try:
        problem = _sniff(path, campaign)
    except (OSError, ValueError, EOFError) as exc:  # unreadable from disk, or a zip directory that lies
        raw.issues.append(make_issue(codes.NOT_XLSX, lang, value=type(exc).__name__))
        return raw
    xls: XlsBook | None = None
    if problem is not None and problem[0] is codes.LEGACY_XLS:
        # An old .xls that python-calamine can read is read like an .xlsx; legacy-xls only otherwise.
        xls = open_xls(path)
        problem = None if xls is not None else problem
    if problem is not None:
        kind, params = problem
        raw.issues.append(make_issue(kind, lang, **params))
        return raw
    budget = Budget(limits)
    try:
        if xls is not None:
            _read_book(xls, raw, campaign, roster)
        else:
            with zipfile.ZipFile(path) as zf:
                check_directory(zf, limits)
                _read_book(Book(zf, budget), raw, campaign, roster)
    except LimitExceeded as exc:
        raw.tables.clear()  # a workbook cut short is refused whole: half a table would mislead
        raw.issues.append(make_issue(exc.kind, lang, **exc.params))
    except UnreadablePart as exc:
        raw.tables.clear()
        raw.issues.append(
            make_issue(codes.UNREADABLE_SHEET, lang, part=exc.part[:80] or "?", reason=exc.reason(lang))
        )
    except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
        # A damaged zip or an unsupported compression method: the unit must re-save the file.
        raw.tables.clear()
        raw.issues.append(make_issue(codes.NOT_XLSX, lang, value=type(exc).__name__))
    except Exception as exc:  # MemoryError, RecursionError, anything a hostile file provokes
        # The port promises never to raise for bad input: whatever else a file provokes is that file's
        # problem, reported as such (the type only: no path or library detail leaks to the unit).
        raw.tables.clear()
        raw.issues.append(make_issue(codes.READ_FAILED, lang, error=type(exc).__name__))
    return raw


def _read_book(wb: Book | XlsBook, raw: RawSubmission, campaign: Campaign, roster: Roster) -> None:
    lang = campaign.language
    _read_identity(wb, raw, campaign, roster)
    if raw.deliverable is None:
        raw.deliverable = _infer_deliverable(wb, campaign)
    if raw.deliverable is None:
        wanted = "、".join(
            table.title(lang) for d in campaign.deliverables for table in campaign.tables_of(d.key)
        )
        raw.issues.append(make_issue(codes.UNKNOWN_TEMPLATE_NO_KNOWN_SHEET, lang, expected=wanted))
        return
    for table in campaign.tables_of(raw.deliverable):
        _read_table(wb, table, raw, lang)


def _sniff(path: Path, campaign: Campaign) -> tuple[IssueKind, dict[str, Any]] | None:
    size = path.stat().st_size
    limit = campaign.submission.max_file_mb
    if size > limit * 1024 * 1024:
        return codes.TOO_LARGE, {"size_mb": f"{size / 1024 / 1024:.1f}", "limit_mb": f"{limit:g}"}
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(_OLE_MAGIC):
        # Encrypted OOXML is wrapped in an OLE container with an EncryptionInfo stream; a real .xls is not.
        data = path.read_bytes()
        if "EncryptionInfo".encode("utf-16-le") in data or b"EncryptedPackage" in data:
            return codes.ENCRYPTED, {}
        return codes.LEGACY_XLS, {}
    if not head.startswith(_ZIP_MAGIC):
        return codes.NOT_XLSX, {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError):
        # NotImplementedError: a zip "version" or feature Python cannot read (a damaged or exotic file).
        return codes.NOT_XLSX, {}
    if "xl/workbook.xml" not in names:
        return codes.NOT_XLSX, {}
    return None


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _read_identity(wb: Book | XlsBook, raw: RawSubmission, campaign: Campaign, roster: Roster) -> None:
    lang = campaign.language
    meta: dict[str, str] = {}
    if layout.META_SHEET in wb.sheetnames:
        for cells in wb.rows(layout.META_SHEET):
            row = _values(cells, 2)
            if row[0]:
                meta[_text(row[0])] = _text(row[1])
    instructions = _identity_from_instructions(wb)
    code = meta.get("unit_code") or instructions.get("unit_code", "")
    name = meta.get("unit_name") or instructions.get("unit_name", "")
    raw.campaign_id = meta.get("campaign_id") or None
    raw.template_version = meta.get("template_version") or None
    deliverable = meta.get("deliverable") or None
    raw.unit_name = name or None
    # Kept as written: the identity rule (functions/validate/identity.py) compares them with the roster.
    raw.claimed = ClaimedIdentity(
        hidden_code=meta.get("unit_code") or None,
        hidden_name=meta.get("unit_name") or None,
        visible_code=instructions.get("unit_code") or None,
        visible_name=instructions.get("unit_name") or None,
        sheet=next((s for s in layout.INSTRUCTIONS_SHEET.values() if s in wb.sheetnames), None),
    )

    if raw.campaign_id and raw.campaign_id != campaign.id:
        raw.issues.append(
            make_issue(
                codes.UNKNOWN_TEMPLATE_OTHER_CAMPAIGN, lang, found=raw.campaign_id, campaign=campaign.id
            )
        )
    if deliverable is not None:
        keys = [d.key for d in campaign.deliverables]
        if deliverable not in keys:
            raw.issues.append(make_issue(codes.WRONG_DELIVERABLE_NOT_IN_CAMPAIGN, lang, found=deliverable))
        else:
            raw.deliverable = deliverable

    if code:
        unit = roster.get(code.upper()) or roster.get(code)
        if unit is None:
            raw.issues.append(make_issue(codes.UNKNOWN_UNIT, lang, value=code))
            raw.unit_code = code
            return
        raw.unit_code = unit.code
        raw.unit_name = unit.name
    elif name:
        unit = roster.find_by_name(name)
        if unit is None:
            raw.issues.append(make_issue(codes.UNKNOWN_UNIT, lang, value=name))
            return
        raw.unit_code = unit.code
        raw.identity_from_name = True
        raw.issues.append(make_issue(codes.UNIT_BY_NAME, lang, value=name, unit_code=unit.code))
    else:
        sheet = layout.INSTRUCTIONS_SHEET[lang]
        raw.issues.append(
            make_issue(
                codes.UNKNOWN_UNIT_NO_IDENTITY,
                lang,
                sheet=sheet,
                value="",
                column=layout.IDENTITY_LABELS["unit_code"][lang],
            )
        )
        return

    if raw.deliverable is not None and unit is not None:
        d = campaign.deliverable(raw.deliverable)
        if not d.applies_to(unit.type):
            raw.issues.append(
                make_issue(
                    codes.WRONG_DELIVERABLE_NOT_REQUIRED, lang, found=d.title(lang), unit_type=unit.type
                )
            )


def _identity_from_instructions(wb: Book | XlsBook) -> dict[str, str]:
    out: dict[str, str] = {}
    labels = {
        layout.normalise_label(text): key
        for key, by_lang in layout.IDENTITY_LABELS.items()
        for text in by_lang.values()
    }
    for title in layout.INSTRUCTIONS_SHEET.values():
        if title not in wb.sheetnames:
            continue
        value_col = _col_index(layout.IDENTITY_VALUE_COLUMN)
        for cells in wb.rows(title)[:60]:
            row = _values(cells, value_col)
            key = labels.get(layout.normalise_label(row[0]))
            if key and row[value_col - 1] not in (None, ""):
                out[key] = _text(row[value_col - 1])
    return out


def _values(cells: tuple[XCell | None, ...], width: int) -> list[Any]:
    """The first `width` values of a row, padded with None."""
    return [c.value if c is not None else None for c in cells[:width]] + [None] * (width - len(cells))


def _col_index(letter: str) -> int:
    return ord(letter.upper()) - ord("A") + 1


def _sheet_titles(table: TableSpec) -> set[str]:
    return {layout.normalise_label(table.title_zh), layout.normalise_label(table.title_en)}


def _find_sheet(wb: Book | XlsBook, table: TableSpec) -> str | None:
    wanted = _sheet_titles(table)
    for name in wb.sheetnames:
        if layout.normalise_label(name) in wanted:
            return name
    return None


def _infer_deliverable(wb: Book | XlsBook, campaign: Campaign) -> str | None:
    """A workbook without identity (not made from our template): the deliverable whose sheets it has."""
    best: tuple[int, str] | None = None
    for d in campaign.deliverables:
        found = sum(1 for t in campaign.tables_of(d.key) if _find_sheet(wb, t) is not None)
        if found and (best is None or found > best[0]):
            best = (found, d.key)
    return best[1] if best else None


def _label_index(table: TableSpec) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in table.fields:
        out[layout.normalise_label(f.label_zh)] = f.key
        out[layout.normalise_label(f.label_en)] = f.key
    return out


def _read_table(wb: Book | XlsBook, table: TableSpec, raw: RawSubmission, lang: Language) -> None:
    sheet = _find_sheet(wb, table)
    if sheet is None:
        raw.issues.append(make_issue(codes.UNKNOWN_TEMPLATE_SHEET_MISSING, lang, table=table.title(lang)))
        return
    rows: list[tuple[Any, ...]] = list(wb.rows(sheet))
    if table.kind == "rows":
        read_rows_grid(rows, table, sheet, raw, lang)
    else:
        read_record_grid(rows, table, sheet, raw, lang)


def _cell_value(cell: Any) -> tuple[Any, str | None]:
    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", None)
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            value = None
    return value, fmt


def _raw_cell(cell: Any, ref: str) -> RawCell:
    """A cell for the validator; a formula's text and a cached error travel beside the value."""
    value, fmt = _cell_value(cell)
    return RawCell(
        value=value,
        cell=ref,
        number_format=fmt,
        formula=getattr(cell, "formula", None),
        error=getattr(cell, "error", None),
    )


def read_rows_grid(
    rows: list[tuple[Any, ...]], table: TableSpec, sheet: str, raw: RawSubmission, lang: Language
) -> None:
    index = _label_index(table)
    header_at, best = None, 0
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        hits = sum(1 for c in row if layout.normalise_label(_cell_value(c)[0]) in index)
        if hits > best:
            header_at, best = i, hits
    if header_at is None:
        raw.issues.append(make_issue(codes.UNKNOWN_TEMPLATE_NO_HEADER, lang, sheet=sheet))
        return
    columns: dict[str, int] = {}
    extra: list[tuple[int, str]] = []
    for ci, c in enumerate(rows[header_at]):
        label = layout.normalise_label(_cell_value(c)[0])
        if not label:
            continue
        key = index.get(label)
        if key is None:
            extra.append((ci, str(_cell_value(c)[0])))
        elif key not in columns:
            columns[key] = ci
    missing = [f.label(lang) for f in table.fields if f.required and f.key not in columns]
    if missing:
        raw.issues.append(
            make_issue(
                codes.UNKNOWN_TEMPLATE_LACKS_COLUMNS,
                lang,
                sheet=sheet,
                labels=t(lang, "、", ", ").join(missing),
            )
        )
        return
    header_row = header_at + 1
    for ci, text in extra:
        raw.issues.append(
            make_issue(
                codes.UNKNOWN_COLUMN,
                lang,
                sheet=sheet,
                cell=f"{get_column_letter(ci + 1)}{header_row}",
                row=header_row,
                value=text,
            )
        )
    rt = RawTable(
        key=table.key, sheet=sheet, columns={k: get_column_letter(ci + 1) for k, ci in columns.items()}
    )
    for ri in range(header_at + 1, len(rows)):
        row = rows[ri]
        excel_row = ri + 1
        cells: dict[str, RawCell] = {}
        for key, ci in columns.items():
            cells[key] = _raw_cell(
                row[ci] if ci < len(row) else None, f"{get_column_letter(ci + 1)}{excel_row}"
            )
        # A row with nothing but a serial number is an unused template row (a formula or an error value
        # is something the unit put there, so such a row is read).
        if all(
            c.value is None and c.formula is None and c.error is None
            for k, c in cells.items()
            if table.field(k).type != "serial"
        ):
            continue
        rt.records.append(RawRecord(row=excel_row, cells=cells))
    raw.tables[table.key] = rt


def read_record_grid(
    rows: list[tuple[Any, ...]], table: TableSpec, sheet: str, raw: RawSubmission, lang: Language
) -> None:
    index = _label_index(table)
    label_ci = _col_index(layout.RECORD_LABEL_COLUMN) - 1
    value_ci = _col_index(layout.RECORD_VALUE_COLUMN) - 1
    cells: dict[str, RawCell] = {}
    where: dict[str, str] = {}
    for ri, row in enumerate(rows):
        if label_ci >= len(row):
            continue
        key = index.get(layout.normalise_label(_cell_value(row[label_ci])[0]))
        if key is None or key in cells:
            continue
        ref = f"{layout.RECORD_VALUE_COLUMN}{ri + 1}"
        cells[key] = _raw_cell(row[value_ci] if value_ci < len(row) else None, ref)
        where[key] = str(ri + 1)
    missing = [f.label(lang) for f in table.fields if f.required and f.key not in cells]
    if missing:
        raw.issues.append(
            make_issue(
                codes.UNKNOWN_TEMPLATE_LACKS_ITEMS,
                lang,
                sheet=sheet,
                labels=t(lang, "、", ", ").join(missing),
            )
        )
        return
    row_of = {k: int(v) for k, v in where.items()}
    raw.tables[table.key] = RawTable(
        key=table.key,
        sheet=sheet,
        columns=where,
        records=[RawRecord(row=min(row_of.values()) if row_of else None, cells=cells)],
    )
