"""Validation reports: each problem found in a submission, with a stable code and its place."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning"]


class Issue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z]+(-[a-z]+)*$")
    severity: Severity
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    message: str


class ValidationReport(BaseModel):
    """What `huizong validate --json` prints and what every stored version keeps."""

    model_config = ConfigDict(extra="forbid")

    file: str
    unit: str | None = None
    unit_name: str | None = None
    deliverable: str | None = None
    valid: bool
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    checked_at: dt.datetime | None = None

    @property
    def issues(self) -> list[Issue]:
        return [*self.errors, *self.warnings]

    def public_json(self) -> dict[str, Any]:
        """The documented JSON shape: file, unit, deliverable, valid, errors, warnings."""
        return self.model_dump(
            mode="json", include={"file", "unit", "deliverable", "valid", "errors", "warnings"}
        )
