"""The small interfaces services depend on. Adapters implement them; the composition root wires them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from schemas.raw import RawSubmission
from schemas.report import ValidationReport
from schemas.submission import ParsedSubmission, Version, VersionStatus


class Claim(BaseModel):
    """A once-only effect (a reminder, a digest, a processed delivery), recorded before it happens."""

    model_config = ConfigDict(extra="forbid")

    key: str
    claimed_at: dt.datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class Store(Protocol):
    """The source of truth. Versions are append-only; claims are create-if-absent."""

    def add_version(
        self,
        submission: ParsedSubmission,
        report: ValidationReport,
        *,
        received_at: dt.datetime,
        late: bool,
    ) -> tuple[Version, bool]:
        """Store a new version unless its content equals the latest one of that unit and deliverable.

        Returns the version now latest and whether it was created.
        """
        ...

    def latest(self, unit: str, deliverable: str, status: VersionStatus | None = None) -> Version | None: ...

    def latest_versions(self, status: VersionStatus | None = None) -> list[Version]:
        """The latest version of every (unit, deliverable), optionally only of one status."""
        ...

    def iter_latest_versions(self, status: VersionStatus | None = None) -> Iterator[Version]:
        """The same as latest_versions, one at a time, so a caller can keep memory flat."""
        ...

    def history(self, unit: str, deliverable: str) -> list[Version]:
        """Every version of one unit and deliverable, oldest first."""
        ...

    def claim(self, key: str, payload: dict[str, Any], *, at: dt.datetime) -> bool:
        """Record `key` if nobody has; True when this caller got it."""
        ...

    def update_claim(self, key: str, payload: dict[str, Any]) -> None:
        """Replace the payload of a claim this caller holds (e.g. to record the send result)."""
        ...

    def release(self, key: str) -> None:
        """Forget a claim so a later run may try again (only after a failure known to be clean)."""
        ...

    def claims(self, prefix: str = "") -> list[Claim]: ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


class IntakeItem(BaseModel):
    """One thing found by an intake: a file path, a sheet id... and how to read it."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    source: str
    received_at: dt.datetime


class Intake(Protocol):
    """Where submissions come from (a folder of workbooks, Google Sheets, form responses)."""

    def pending(self) -> Iterator[IntakeItem]: ...

    def read(self, item: IntakeItem) -> RawSubmission: ...


class Mailer(Protocol):
    def send(self, message: Any) -> str:
        """Send one email.message.EmailMessage; returns a transport id. Raises MailRefused when the
        server refused it before accepting (safe to retry) and MailUncertain otherwise."""
        ...


class MasterPublisher(Protocol):
    def publish(self, path: Any) -> str:
        """Publish a built master workbook; returns where it went."""
        ...


class MailRefused(Exception):
    """The transport refused the message before accepting it: nothing was sent, retry later."""


class MailUncertain(Exception):
    """The transport failed after the message may have been accepted: never retry automatically."""
