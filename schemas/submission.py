"""Submissions as parsed from a workbook, sheet or form, and the versions the store keeps."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.attachments import AttachmentRef
from schemas.report import ValidationReport

# A parsed cell value: text, whole or decimal number, date, several choices, or empty.
CellValue = str | int | float | dt.date | list[str] | None
# table key -> list of records (field key -> value); a one-record table is a list of one.
TableData = dict[str, list[dict[str, CellValue]]]

SourceKind = Literal["file", "sheet", "form", "web"]
VersionStatus = Literal["submitted", "draft"]
UnitState = Literal["valid", "errors", "draft", "missing"]


class ParsedSubmission(BaseModel):
    """What a reader (xlsx, Google Sheet, form) produced, before it is stored."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    deliverable: str
    tables: TableData
    source_kind: SourceKind = "file"
    source: str
    status: VersionStatus = "submitted"
    # Evidence files sent with it (issue 12 §4); the store keeps them with the version it creates
    # (Store.attachments(version_id)), the bytes once per content (Store.put_blob).
    attachments: list[AttachmentRef] = Field(default_factory=list)

    def content_hash(self) -> str:
        """Hash of what the unit said, not of where or when: the same content is the same version."""
        said: dict[str, object] = {
            "unit": self.unit,
            "deliverable": self.deliverable,
            "status": self.status,
            "tables": self.tables,
        }
        if self.attachments:
            # Only when there are files, so every hash stored before attachments existed stays the same
            # (a workbook re-read is still "unchanged"); the name is left out: renaming a photo is no news.
            said["attachments"] = sorted((a.rule, a.sha256) for a in self.attachments)
        payload = json.dumps(
            said,
            ensure_ascii=False,
            sort_keys=True,
            default=_json_default,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _json_default(o: object) -> str:
    if isinstance(o, dt.date):
        return o.isoformat()
    raise TypeError(type(o).__name__)


class Version(BaseModel):
    """One stored submission. Versions are never changed or deleted."""

    model_config = ConfigDict(extra="forbid")

    id: str
    unit: str
    deliverable: str
    seq: int = Field(ge=1)
    received_at: dt.datetime
    source_kind: SourceKind
    source: str
    content_hash: str
    status: VersionStatus = "submitted"
    late: bool = False
    tables: TableData
    report: ValidationReport

    @property
    def error_count(self) -> int:
        return len(self.report.errors)

    @property
    def warning_count(self) -> int:
        return len(self.report.warnings)

    @property
    def state(self) -> UnitState:
        if self.status == "draft":
            return "draft"
        return "valid" if self.report.valid else "errors"


def version_id(unit: str, deliverable: str, seq: int, content_hash: str) -> str:
    """Deterministic, so a delivery replayed anywhere names the same version."""
    return hashlib.sha256(f"{unit}\x1f{deliverable}\x1f{seq}\x1f{content_hash}".encode()).hexdigest()[:32]
