"""The small interfaces services depend on. Adapters implement them; the composition root wires them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from schemas.attachments import AttachmentRef
from schemas.campaign import Campaign
from schemas.google import GoogleSettings
from schemas.raw import RawSubmission
from schemas.report import ValidationReport
from schemas.roster import Roster
from schemas.submission import ParsedSubmission, Version, VersionStatus

if TYPE_CHECKING:
    from functions.sheet_model import MasterSheet


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

    def iter_latest_summaries(self, status: VersionStatus | None = None) -> Iterator[Version]:
        """The same versions as iter_latest_versions with only their small tables (at most one row each:
        totals, materials) and the report: what statuses need, without decoding the activity rows."""
        ...

    def history(self, unit: str, deliverable: str) -> list[Version]:
        """Every version of one unit and deliverable, oldest first."""
        ...

    def iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        """The stored versions named by (unit, deliverable, seq), with all their tables, in the order
        given (keys not stored are skipped): one read for all of them, streamed, so a caller that needs
        many units' rows (the master's activities sheet) neither queries per unit nor holds them all."""
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

    def put_peer_entry(self, group: str, unit: str, seq: int, entry: dict[str, Any]) -> None:
        """Record one unit's figures in a group of peer statistics (issue 13 §1).

        Kept unless the group already holds that unit's figures from a later version (a higher seq), so
        writers racing or arriving out of order leave the newest; other units' entries are never lost.
        """
        ...

    def peer_group(self, group: str) -> dict[str, dict[str, Any]]:
        """Every unit's entry of one group, in one read (empty when nothing was recorded)."""
        ...

    # -- evidence files (issue 12 §4) ---------------------------------------------------------------
    # add_version keeps the submission's attachment refs with the version it creates (none when the
    # content was unchanged); the bytes are put before, once per content, by put_blob.

    def put_blob(self, sha256: str, data: bytes) -> None:
        """Keep `data` under its SHA-256 (hex). Idempotent; ValueError when the digest does not match."""
        ...

    def get_blob(self, sha256: str) -> bytes | None:
        """The bytes kept under `sha256`, or None."""
        ...

    def attachments(self, version_id: str) -> list[AttachmentRef]:
        """The files stored with one version, in the order they were given (empty for none)."""
        ...

    def units_with_blob(self, sha256: str) -> set[str]:
        """Every unit one of whose stored versions holds this content (the duplicate-photo check)."""
        ...


class IntakeItem(BaseModel):
    """One thing found by an intake: a file path, a sheet id... and how to read it."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    source: str
    received_at: dt.datetime
    # Evidence files that came with it (paths; issue 12 §4): None for a channel that carries none, so its
    # attachment rules are not checked. A folder intake item whose source is a folder has files only.
    attachments: list[str] | None = None


class Intake(Protocol):
    """Where submissions come from (a folder of workbooks, Google Sheets, form responses)."""

    def pending(self) -> Iterator[IntakeItem]: ...

    def read(self, item: IntakeItem) -> RawSubmission: ...


class Mailer(Protocol):
    def send(self, message: Any) -> str:
        """Send one email.message.EmailMessage; returns a transport id. Raises MailRefused when the
        server refused it before accepting (safe to retry) and MailUncertain otherwise."""
        ...


class MasterWriter(Protocol):
    def __call__(
        self, sheets: Sequence[MasterSheet], path: Path, *, title: str, max_rows_per_sheet: int
    ) -> dict[str, int]:
        """Write the master's tabs to `path`, replacing it atomically; returns rows written per tab key."""
        ...


class WorkbookReader(Protocol):
    def __call__(self, path: Path, campaign: Campaign, roster: Roster) -> RawSubmission:
        """Read one unit workbook as found; never raises for bad input (problems become issues)."""
        ...


class ArtifactStore(Protocol):
    """Files the organiser downloads (the master, per-unit reports): a folder locally, a bucket in the cloud."""

    def put(self, key: str, data: bytes, *, content_type: str, download_name: str | None = None) -> str:
        """Store `data` under `key` (a relative, slash-separated name); returns where it went."""
        ...

    def get(self, key: str) -> bytes | None: ...

    def link(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
        """A link the organiser can open (a file path locally, a presigned URL in the cloud)."""
        ...


# ---- Google ------------------------------------------------------------------------------------------


class GoogleError(Exception):
    """Anything the Google port raises."""


class GoogleBudgetExhausted(GoogleError):
    """The run's call budget or deadline is spent: stop cleanly, the next run resumes."""


class GoogleCallFailed(GoogleError):
    """A call failed for good: retries exhausted, or (GoogleRefused) an answer that will not change."""

    def __init__(self, operation: str, status: int | None, message: str, reason: str = "") -> None:
        super().__init__(f"{operation}: {status} {message}")
        self.operation = operation
        self.status = status
        self.message = message
        # Google's machine-readable reason (errors[0].reason), e.g. "storageQuotaExceeded".
        self.reason = reason


class GoogleRefused(GoogleCallFailed):
    """A 4xx answer (other than rate limits): no access, not found, a bad request. Retrying won't help."""


class GoogleNotConfigured(GoogleError):
    """The campaign has no `google:` section."""


@dataclass(frozen=True)
class SheetContent:
    """One unit sheet as read: the submission found, whether 提交 is ticked, whether anything is typed."""

    raw: RawSubmission
    submitted: bool  # the 提交 checkbox is ticked
    empty: bool  # no table holds anything a unit typed


@dataclass
class PreparedMaster:
    """The master rendered for Google, before any call: what it holds and how many value calls it takes."""

    rows: dict[str, int]  # data rows per tab key
    tab_names: dict[str, str]  # tab key -> the name organisers see
    cells: int
    max_cells: int  # Google's limit per spreadsheet
    value_calls: int
    payload: Any = None  # the adapter's own rendering, handed back to write_master


@dataclass
class MasterWriteStats:
    batch_requests: int = 0  # batchUpdate calls made (normally one)
    value_requests: int = 0  # values:batchUpdate calls made
    largest_body_bytes: int = 0


class GoogleClient(Protocol):
    """The Drive and Sheets calls the Google services make; each returns the API's JSON body.

    Every call counts against the run's budget and deadline (GoogleBudgetExhausted when spent)."""

    settings: GoogleSettings
    # The address sheets are shared from; empty when the credentials are not a service account's.
    service_account_email: str

    def drive_list(
        self, q: str, fields: str, page_token: str | None = None, *, order_by: str = ""
    ) -> dict[str, Any]: ...

    def get_file(self, file_id: str, fields: str) -> dict[str, Any]: ...

    def create_spreadsheet(self, title: str, folder_id: str) -> dict[str, Any]: ...

    def share(
        self, file_id: str, email: str, role: str, message: str | None = None, *, notify: bool = True
    ) -> dict[str, Any]: ...

    def get_spreadsheet(self, spreadsheet_id: str, fields: str) -> dict[str, Any]: ...

    def batch_update(self, spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]: ...

    def values_batch_get(self, spreadsheet_id: str, ranges: list[str]) -> dict[str, Any]: ...

    def values_batch_update(
        self, spreadsheet_id: str, data: list[dict[str, Any]], input_option: str = "RAW"
    ) -> dict[str, Any]: ...

    def read_unit_sheet(
        self,
        spreadsheet_id: str,
        campaign: Campaign,
        *,
        unit_code: str,
        unit_name: str,
        deliverable: str,
        columns: Mapping[str, int] | None = None,
    ) -> SheetContent:
        """One batchGet of a unit sheet's status area and tabs, read as a submission; `columns` (tab
        title → grid width) keeps every range inside its tab's grid."""
        ...

    def prepare_master(self, sheets: Sequence[MasterSheet]) -> PreparedMaster:
        """Render the master's tabs for this API (no call is made)."""
        ...

    def write_master(
        self, spreadsheet_id: str, prepared: PreparedMaster, *, drop_others: bool
    ) -> MasterWriteStats:
        """Replace the master's tabs in the spreadsheet (`drop_others`: delete tabs that are not the master's).

        Raises GoogleBudgetExhausted before the first write when the budget cannot cover them all."""
        ...

    def call_counts(self) -> dict[str, int]:
        """Calls made so far, per operation (drive.files.list, sheets.batchUpdate…)."""
        ...

    def remaining_calls(self) -> int | None:
        """Calls left in the run's budget; None when unlimited."""
        ...


class GoogleConnector(Protocol):
    def __call__(self, *, deadline: float | None = None) -> GoogleClient:
        """A client for this run; `deadline` is a time.monotonic() value after which calls stop."""
        ...


class MailRefused(Exception):
    """The transport refused the message before accepting it: nothing was sent, retry later."""


class MailUncertain(Exception):
    """The transport failed after the message may have been accepted: never retry automatically."""


class MailNotPermitted(Exception):
    """The transport refused because the sender may not send (IAM denies it, the identity is not in the
    region): nothing was sent, and retrying cannot help until the deployment is fixed. Not a MailRefused,
    whose claim is released and retried on every run: the claim is kept and the error reported."""


# ---- Mailbox (email intake, issue 16) ----------------------------------------------------------------


@dataclass(frozen=True)
class MailboxMessage:
    """One message found in the mailbox: its UID, its size and its bytes (only the header when the
    message is larger than the limit the caller gave: it is reported, not read)."""

    uid: int
    size: int
    raw: bytes
    truncated: bool = False  # raw holds the header only (an oversized message)
    received_at: dt.datetime | None = None  # when the server received it (IMAP INTERNALDATE)


# What `Mailbox.settle` did with a message: moved to its folder, only flagged (no folder set), left
# alone, or copied to its folder and flagged \Deleted in place, not expunged: a server without MOVE or
# UIDPLUS cannot expunge one message without the organiser's other deleted mail (the run says so).
Settled = Literal["moved", "flagged", "left", "marked-deleted"]


class MailboxError(Exception):
    """The mailbox cannot be reached or refused us (login, folder); the message says what to check."""


class Mailbox(Protocol):
    """A mailbox folder read by UID (IMAP; the fake in tests/fakes/mailbox.py)."""

    def uidvalidity(self) -> int:
        """The folder's UIDVALIDITY: when it changes, every UID seen before means nothing."""
        ...

    def fetch_after(self, uid: int, *, max_bytes: int) -> Iterator[MailboxMessage]:
        """Every message with a UID above `uid`, oldest first; larger than `max_bytes`: header only."""
        ...

    def settle(self, uid: int, how: str) -> Settled:
        """Either "handled" (moved to the handled folder, or flagged), "aside" (moved to the oversized folder,
        or flagged) or "left" (untouched: unread and unflagged, for the organiser); says what it did."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class PeerIndex(Protocol):
    """A store that can answer a peer median itself (issue 13 §1): the SQLite store's ordered index, the
    S3 and memory stores' shards per (deliverable, unit type) (functions/adapters/store/peer_shards.py).

    Optional: PeerStats uses it when the store has it and otherwise reads every unit's entry
    (`Store.peer_group`). `types` maps each roster unit to its type; the index is re-typed when the roster
    (its `fingerprint`) changes. Medians follow functions/validate/peer_median.py exactly.
    """

    def peer_index_sync(self, fingerprint: str, types: dict[str, str]) -> None: ...

    def peer_index_built_for(self, fingerprint: str) -> bool: ...

    def peer_index_exact(self) -> bool: ...

    def peer_index_groups(self, kind: str) -> list[str]: ...

    def peer_index_median(
        self, groups: list[str], kind: str, unit: str, unit_type: str | None, min_peers: int
    ) -> tuple[float, int, str | None] | None: ...

    def peer_entries_of(self, unit: str, groups: list[str]) -> dict[str, dict[str, Any]]: ...


# ---- direct uploads (issue 14 §5, cloud) --------------------------------------------------------------


class PresignedPost(BaseModel):
    """What a browser needs to POST one file straight to storage: the form's URL and fields (the signed
    policy among them, the file part goes last), and the key the object will have (relative to the
    upload target's root), which the page later hands back to the app."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    fields: dict[str, str]
    key: str


@dataclass(frozen=True)
class TakenUpload:
    """An uploaded object once taken: its size, and its bytes unless it was larger than the caller allowed
    (then it is deleted unread, and the evidence check reports it as too large from its size)."""

    size: int
    data: bytes | None


class UploadTarget(Protocol):
    """Files a browser uploads itself, outside the app's request (a Lambda request is capped at 6 MB).

    Only the cloud profile has one (S3 presigned POST); locally the app receives files in its own multipart
    post and `App.uploads` is None."""

    @property
    def origin(self) -> str:
        """The scheme and host the browser posts to, for the page's Content-Security-Policy (connect-src)."""
        ...

    def presign(self, key_prefix: str, max_bytes: int, content_type: str | None = None) -> PresignedPost:
        """A POST whose signed conditions allow exactly one object: a fresh random key under `key_prefix`
        (relative, ending in "/"), 1..`max_bytes` bytes, and `content_type` when given. Signing is local."""
        ...

    def take(self, key: str, *, max_bytes: int) -> TakenUpload | None:
        """Read the object at `key` and delete it; None when there is none (never uploaded, taken already,
        or expired). Over `max_bytes` it is deleted unread. `key` is one `presign` returned, never a path."""
        ...
