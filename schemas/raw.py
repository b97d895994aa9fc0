"""What a reader hands the validator: cells as found, with where they were found.

The xlsx reader, the Google Sheet reader and the form webhook all produce a RawSubmission, so
one validator serves every channel and every issue can name its sheet and cell.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from schemas.report import Issue
from schemas.submission import SourceKind, VersionStatus

RawValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None


class RawCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: RawValue = None
    cell: str | None = None  # A1 reference where the value was read; None for form answers
    # The cell's number format, when a spreadsheet told us (to spot dates stored as numbers).
    number_format: str | None = None
    # A spreadsheet cell holding a formula: its text after "=" (value is then the cached result, or None
    # when the file has not calculated it), and the cached error value such as "#NAME?" (value None).
    # Neither is ever stored as data: the validator reports them.
    formula: str | None = None
    error: str | None = None


class RawRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    row: int | None = None  # the row number as the user sees it
    cells: dict[str, RawCell] = Field(default_factory=dict)


class RawTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    sheet: str
    records: list[RawRecord] = Field(default_factory=list)
    # field key -> the column letter (rows tables) or row number (record tables) where it was found
    columns: dict[str, str] = Field(default_factory=dict)


class ClaimedIdentity(BaseModel):
    """Who the workbook says it is, as written, before the roster is consulted: the identity rule
    compares these with the roster entry of the code the submission is stored under."""

    model_config = ConfigDict(extra="forbid")

    hidden_code: str | None = None  # the hidden _huizong sheet (written by the template)
    hidden_name: str | None = None  # the unit name the template was made for (same sheet)
    visible_code: str | None = None  # 单位编码 typed on the instructions sheet
    visible_name: str | None = None  # 单位名称 typed on the instructions sheet
    sheet: str | None = None  # the instructions sheet the visible values were read from


class RawSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    source_kind: SourceKind = "file"
    status: VersionStatus = "submitted"
    campaign_id: str | None = None
    unit_code: str | None = None
    unit_name: str | None = None
    deliverable: str | None = None
    template_version: str | None = None
    tables: dict[str, RawTable] = Field(default_factory=dict)
    # Problems the reader found (unknown template, missing sheet, unknown unit...).
    issues: list[Issue] = Field(default_factory=list)
    # True when the unit identity came from the unit name only (a warning is due).
    identity_from_name: bool = False
    claimed: ClaimedIdentity = Field(default_factory=ClaimedIdentity)
