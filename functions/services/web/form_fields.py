"""The web form's fields ↔ the validator's RawSubmission, and the report's issues back to their fields.

Field names in the page are `<table>.<field>` for a one-record table and `<table>.<n>.<field>` for row n of
a table of rows (n as the browser numbered it; only the order counts). What a unit typed goes to the
validator as text, exactly like a cell typed in a workbook or a Google Form answer, so "3000余" gets the
same `bad-number` issue with the same message on every channel.

Each table is given its title as sheet name and each row its position (1, 2, …) as row number, so every
issue the validator raises can be put back next to its field: sheet → table, column (the field's label)
→ field, row → row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from schemas.campaign import Campaign
from schemas.formspec import FieldSpec, TableSpec
from schemas.raw import RawCell, RawRecord, RawSubmission, RawTable
from schemas.report import Issue, ValidationReport
from schemas.roster import Unit
from schemas.submission import CellValue, TableData, VersionStatus

# A rows table never needs more in a form; a longer post is someone else's script.
MAX_ROWS = 500
MAX_VALUE_CHARS = 2000
MULTI_JOIN = "、"
_ROW_NAME = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,4})\.([a-z][a-z0-9_]*)$")
_RECORD_NAME = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")

# What the page shows per field: one text, or several choices of a multi-choice field.
FieldValue = str | list[str]
FormRecord = dict[str, FieldValue]
# table key -> records as the page shows them (a one-record table has one)
FormValues = dict[str, list[FormRecord]]


class FormTooLarge(ValueError):
    """More rows than a form ever needs."""


def web_source(unit: str, deliverable: str) -> str:
    return f"web:{unit}/{deliverable}"


def _clean(text: str) -> str:
    # Control characters other than line breaks are never meant; a value is capped so one field cannot
    # carry a megabyte into the store and the master.
    text = "".join(c for c in text if c in "\n\t" or ord(c) >= 32)
    return text[:MAX_VALUE_CHARS]


def _blank(value: FieldValue) -> bool:
    return not value or (isinstance(value, str) and not value.strip())


def form_values(campaign: Campaign, deliverable: str, fields: Mapping[str, Sequence[str]]) -> FormValues:
    """The posted fields, grouped per table and row; unknown names are dropped, empty rows left out."""
    tables = campaign.tables_of(deliverable)
    by_key = {tb.key: tb for tb in tables}
    out: FormValues = {tb.key: [] for tb in tables}
    record: dict[str, FormRecord] = {tb.key: {} for tb in tables if tb.kind == "record"}
    rows: dict[str, dict[int, FormRecord]] = {tb.key: {} for tb in tables if tb.kind == "rows"}
    for name, given in fields.items():
        if m := _ROW_NAME.match(name):
            table_key, index, field_key = m.group(1), int(m.group(2)), m.group(3)
            tb = by_key.get(table_key)
            if tb is None or tb.kind != "rows" or not tb.has_field(field_key):
                continue
            rows[table_key].setdefault(index, {})[field_key] = _value(tb.field(field_key), given)
        elif m := _RECORD_NAME.match(name):
            table_key, field_key = m.group(1), m.group(2)
            tb = by_key.get(table_key)
            if tb is None or tb.kind != "record" or not tb.has_field(field_key):
                continue
            record[table_key][field_key] = _value(tb.field(field_key), given)
    for key, rec in record.items():
        out[key] = [rec]
    for key, numbered in rows.items():
        kept = [numbered[i] for i in sorted(numbered) if not all(_blank(v) for v in numbered[i].values())]
        if len(kept) > MAX_ROWS:
            raise FormTooLarge(f"{key}: {len(kept)} rows")
        out[key] = kept
    return out


def _value(spec: FieldSpec, given: Sequence[str]) -> FieldValue:
    if spec.type == "multi_choice":
        return [_clean(v).strip() for v in given if v.strip()][:50]
    return _clean(given[-1]) if given else ""


def raw_submission(
    campaign: Campaign,
    unit: Unit,
    deliverable: str,
    values: FormValues,
    *,
    status: VersionStatus,
) -> RawSubmission:
    """What the validator takes from the form: every cell as typed, each table under its title."""
    lang = campaign.language
    tables: dict[str, RawTable] = {}
    for tb in campaign.tables_of(deliverable):
        records = values.get(tb.key, [])
        raw_records: list[RawRecord] = []
        if tb.kind == "record":
            # A one-record table always has its record, so a required field left empty is reported.
            rec = records[0] if records else {}
            raw_records.append(RawRecord(row=None, cells=_cells(tb, rec, row=None)))
        else:
            for n, rec in enumerate(records, start=1):
                raw_records.append(RawRecord(row=n, cells=_cells(tb, rec, row=n)))
        tables[tb.key] = RawTable(
            key=tb.key,
            sheet=tb.title(lang),
            records=raw_records,
            columns={f.key: f.label(lang) for f in tb.fields},
        )
    return RawSubmission(
        source=web_source(unit.code, deliverable),
        source_kind="web",
        status=status,
        campaign_id=campaign.id,
        unit_code=unit.code,
        unit_name=unit.name,
        deliverable=deliverable,
        tables=tables,
    )


def _cells(tb: TableSpec, rec: FormRecord, *, row: int | None) -> dict[str, RawCell]:
    cells: dict[str, RawCell] = {}
    for f in tb.fields:
        if f.type == "serial":
            # The page numbers its rows itself; the number is the row's place.
            cells[f.key] = RawCell(value=str(row) if row is not None else None)
            continue
        given = rec.get(f.key, "")
        text = MULTI_JOIN.join(given) if isinstance(given, list) else given
        cells[f.key] = RawCell(value=text if text.strip() else None)
    return cells


def values_of_version(campaign: Campaign, deliverable: str, tables: TableData) -> FormValues:
    """A stored version's values as the page shows them (for a version from another channel)."""
    out: FormValues = {}
    for tb in campaign.tables_of(deliverable):
        out[tb.key] = [
            {f.key: _shown(f, rec.get(f.key)) for f in tb.fields} for rec in tables.get(tb.key, [])
        ]
    return out


def _shown(spec: FieldSpec, value: CellValue) -> FieldValue:
    if spec.type == "multi_choice":
        if isinstance(value, list):
            return [str(v) for v in value]
        return [value] if isinstance(value, str) and value else []
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class PlacedIssues:
    """A report's issues sorted by where the page shows them."""

    # (table, field) for one-record tables, (table, row, field) for rows
    fields: dict[tuple[str, int | None, str], list[Issue]] = field(default_factory=dict)
    rows: dict[tuple[str, int], list[Issue]] = field(default_factory=dict)  # a row, no single field
    tables: dict[str, list[Issue]] = field(default_factory=dict)  # a table, no row or field
    other: list[Issue] = field(default_factory=list)  # the submission as a whole

    def at(self, table: str, row: int | None, field_key: str) -> list[Issue]:
        return self.fields.get((table, row, field_key), [])


def place_issues(campaign: Campaign, deliverable: str, report: ValidationReport) -> PlacedIssues:
    lang = campaign.language
    by_title = {tb.title(lang): tb for tb in campaign.tables_of(deliverable)}
    placed = PlacedIssues()
    for issue in report.issues:
        tb = by_title.get(issue.sheet or "")
        if tb is None:
            placed.other.append(issue)
            continue
        labels = {f.label(lang): f.key for f in tb.fields}
        field_key = labels.get(issue.column or "")
        row = issue.row if tb.kind == "rows" else None
        if field_key is not None and (tb.kind == "record" or row is not None):
            placed.fields.setdefault((tb.key, row, field_key), []).append(issue)
        elif row is not None:
            placed.rows.setdefault((tb.key, row), []).append(issue)
        else:
            placed.tables.setdefault(tb.key, []).append(issue)
    return placed
