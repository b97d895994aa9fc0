"""The Google poll: find the unit sheets that changed, check each, write the result back, store versions.

One cycle costs, for N changed sheets among any number: one Drive files.list page per 1,000 changed files
(the folder, modifiedTime after the cursor, oldest first), then per changed sheet ONE values batchGet
(every tab) and ONE batchUpdate (status area and cell notes). Nothing else is read. Then one batchUpdate
per sheet whose review (已退回 / 已通过 / 待审核, review_status.py) changed since it was last written.

Not looping on its own writes: a write-back changes the file's modifiedTime, and the listing shows who made
the last change (lastModifyingUser.me). A file whose last change is ours is passed over without a read,
so a write-back never triggers another check, let alone another version; the content hash in the store
would refuse a second version of the same content anyway.

Resuming: files are handled oldest change first and the cursor moves past each file once it is handled.
When the call budget or the invocation's time runs out, the poll stops before the next file (it never
reads a sheet it has no calls left to annotate) and the next run lists again from the cursor. The cursor
is rewound by a small overlap on each listing, to allow for Drive's listing lagging behind a change; a
per-sheet note of the last change handled makes those files cost nothing the second time.

`huizong serve` passes `defer_receipts`: the receipts are then claimed and built during the poll (under
its lock) and sent by `deliver_receipts` after it, with the lock taken only to record each outcome, so a
slow SMTP server does not hold the web form's saves. Lambda and the CLI send them as they go.

Known limit: a unit's edit that lands between the read and the write-back of the same sheet (about a
second) is covered by the write-back's own modifiedTime, so it is checked at the unit's next edit (ticking
提交 is one).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from functions.app import App
from functions.ports import GoogleBudgetExhausted, GoogleCallFailed, GoogleClient, GoogleRefused
from functions.services.google import grid
from functions.services.google.registry import SheetRecord, sheet_by_id
from functions.services.google.review_status import (
    mark_shown,
    mark_written,
    needs_write,
    review_requests,
    shown_for,
    stale_sheets,
)
from functions.services.google.writeback import SheetState, sheet_state, writeback_requests
from functions.services.intake.ingest import ingest_raw
from functions.services.intake.peers import PeerStats
from functions.services.intake.receipt import (
    ClaimedReceipt,
    ReceiptOutcome,
    claim_receipt,
    deliver_receipt,
    retry_pending_receipts,
    send_receipt,
)
from schemas.google import SPREADSHEET_MIME
from schemas.i18n import Language, t
from sheets_templates import google_layout as gl

log = logging.getLogger(__name__)

CURSOR_META = "google-poll-cursor"
SEEN_PREFIX = "google-seen:"
LIST_FIELDS = "nextPageToken,files(id,name,modifiedTime,lastModifyingUser(me,emailAddress))"
OVERLAP = dt.timedelta(minutes=2)
CALLS_PER_SHEET = 2  # one batchGet, one batchUpdate


class SheetCheck(BaseModel):
    spreadsheet_id: str
    unit: str
    deliverable: str
    modified: str
    state: SheetState | None = None
    errors: int = 0
    warnings: int = 0
    stored: bool = False  # a new version
    seq: int | None = None
    receipt: ReceiptOutcome | None = None
    problem: str = ""


class PollResult(BaseModel):
    listed: int = 0
    own_changes: int = 0  # last changed by this system (write-backs, provisioning): not read
    already_seen: int = 0
    not_ours: int = 0  # files in the folder that are no unit's sheet (the master, others' files)
    checks: list[SheetCheck] = Field(default_factory=list)
    versions_created: int = 0
    version_ids: list[str] = Field(default_factory=list)
    receipts_sent: int = 0
    # Sheets whose review rows (已退回 + comment / 已通过 / 待审核) were written after a review action.
    reviews_shown: list[str] = Field(default_factory=list)
    review_problems: list[str] = Field(default_factory=list)
    stopped: bool = False
    stop_reason: str = ""
    cursor: str = ""
    calls: dict[str, int] = Field(default_factory=dict)


@dataclass(frozen=True)
class DeferredReceipt:
    """A receipt the poll claimed and built for `deliver_receipts` to send; `check` is the sheet's line
    (None for a refused receipt retried), which the outcome completes."""

    claimed: ClaimedReceipt
    check: SheetCheck | None


def deliver_receipts(
    app: App,
    deferred: list[DeferredReceipt],
    *,
    now: dt.datetime,
    hold: AbstractContextManager[Any] | None = None,
) -> int:
    """Send the receipts a poll deferred (`hold` taken for each outcome's record only); how many went."""
    sent = 0
    for item in deferred:
        outcome = deliver_receipt(app, item.claimed, now=now, hold=hold)
        if item.check is not None:
            item.check.receipt = outcome
        sent += outcome == "sent"
    return sent


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def list_query(folder_id: str, cursor: str | None) -> str:
    q = f"'{folder_id}' in parents and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
    if cursor:
        q += f" and modifiedTime > '{_rfc3339(_parse(cursor) - OVERLAP)}'"
    return q


def _changed_files(session: GoogleClient, folder_id: str, cursor: str | None) -> Iterator[dict[str, Any]]:
    """Files changed after the cursor, oldest change first, fetched a page at a time as they are handled."""
    token: str | None = None
    while True:
        page = session.drive_list(list_query(folder_id, cursor), LIST_FIELDS, token, order_by="modifiedTime")
        yield from page.get("files", [])
        token = page.get("nextPageToken")
        if not token:
            return


class _LazyPeers:
    """Peer figures read the latest versions of every unit: only worth it when a sheet is actually checked."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._peers: PeerStats | None = None

    def get(self) -> PeerStats:
        if self._peers is None:
            self._peers = PeerStats(self._app.store, [d.key for d in self._app.campaign.deliverables])
        return self._peers


def sheet_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


def run_poll(
    app: App,
    session: GoogleClient,
    *,
    now: dt.datetime,
    defer_receipts: list[DeferredReceipt] | None = None,
) -> PollResult:
    """One poll cycle within the session's call budget and deadline (a Lambda passes its remaining time).
    `defer_receipts`: see the module docstring (its receipts are not counted in `receipts_sent`)."""
    settings = app.campaign.google
    assert settings is not None, "run_poll needs campaign.google"
    store = app.store
    result = PollResult()
    cursor = store.get_meta(CURSOR_META)
    result.cursor = cursor or ""
    peers = _LazyPeers(app)
    lang = app.campaign.language
    # No Google call: receipts refused by the mail transport on an earlier poll.
    retried: list[ClaimedReceipt] | None = None if defer_receipts is None else []
    result.receipts_sent += sum(o == "sent" for o in retry_pending_receipts(app, now=now, defer=retried))
    if defer_receipts is not None and retried:
        defer_receipts.extend(DeferredReceipt(c, None) for c in retried)
    try:
        for file in _changed_files(session, settings.folder_id, cursor):
            result.listed += 1
            fid, modified = str(file["id"]), str(file["modifiedTime"])
            if not _handle(app, session, file, result, peers, now, defer_receipts):
                break
            store.set_meta(SEEN_PREFIX + fid, modified)
            if not result.cursor or _parse(modified) > _parse(result.cursor):
                result.cursor = modified
                store.set_meta(CURSOR_META, modified)
        # After the changed sheets, never before: a review write makes the system the sheet's last
        # modifier, so a unit's edit not yet listed would be passed over. Listed edits are handled above.
        if not result.stopped:
            _show_reviews(app, session, result)
    except GoogleBudgetExhausted as exc:
        result.stopped = True
        result.stop_reason = t(lang, f"调用次数或时间用尽（{exc}），下次轮询从断点继续。",
                               f"Call budget or time spent ({exc}); the next poll resumes.")  # fmt: skip
    except GoogleCallFailed as exc:
        # Google kept failing after the retries: stop here, the cursor still points before this sheet.
        result.stopped = True
        result.stop_reason = t(lang, f"Google 接口持续出错（{exc}），下次轮询重试。",
                               f"Google kept failing ({exc}); the next poll retries.")  # fmt: skip
    result.calls = dict(session.call_counts())
    return result


def _show_reviews(app: App, session: GoogleClient, result: PollResult) -> None:
    """Write the review rows of the sheets whose review changed (one batchUpdate each)."""
    for due in stale_sheets(app):
        record = due.record
        remaining = session.remaining_calls()
        if remaining is not None and remaining < 1:
            result.stopped = True
            result.stop_reason = t(app.campaign.language, "本次调用次数用尽，审核结果下次轮询写入表格。",
                                   "The call budget is spent; the next poll writes the review.")  # fmt: skip
            return
        where = f"{record.unit} {record.deliverable}"
        try:
            session.batch_update(record.spreadsheet_id, review_requests(app.campaign, due.shown))
        except GoogleRefused as exc:
            # This sheet refuses (deleted, access removed): the others are still written; the review
            # itself is in the store whatever Google says, and this sheet is tried again next poll.
            result.review_problems.append(f"{where}: {exc.status} {exc.message}")
            log.warning("review not written to sheet %s (%s): %s", record.spreadsheet_id, where, exc)
            continue
        mark_written(app, due)
        result.reviews_shown.append(where)


def _handle(
    app: App,
    session: GoogleClient,
    file: dict[str, Any],
    result: PollResult,
    peers: _LazyPeers,
    now: dt.datetime,
    defer: list[DeferredReceipt] | None = None,
) -> bool:
    """Handle one listed file; False when the poll must stop before it (no budget for a check)."""
    fid, modified = str(file["id"]), str(file["modifiedTime"])
    if (file.get("lastModifyingUser") or {}).get("me") is True:
        result.own_changes += 1
        return True
    if app.store.get_meta(SEEN_PREFIX + fid) == modified:
        result.already_seen += 1
        return True
    record = sheet_by_id(app.store, fid)
    deliverables = {d.key for d in app.campaign.deliverables}
    if record is None or record.deliverable not in deliverables:
        result.not_ours += 1
        return True
    remaining = session.remaining_calls()
    if remaining is not None and remaining < CALLS_PER_SHEET:
        result.stopped = True
        result.stop_reason = t(app.campaign.language, "本次调用次数用尽，下次轮询从断点继续。",
                               "The call budget is spent; the next poll resumes.")  # fmt: skip
        return False
    check = SheetCheck(
        spreadsheet_id=fid, unit=record.unit, deliverable=record.deliverable, modified=modified
    )
    try:
        _check(app, session, record, check, result, peers, now, defer)
    except GoogleRefused as exc:
        # This sheet refuses (deleted, access removed, a tab renamed past reading): report it and go
        # on; it is read again when it changes.
        check.problem = f"{exc.status} {exc.message}"
        log.warning("sheet %s (%s/%s) not checked: %s", fid, record.unit, record.deliverable, exc)
    result.checks.append(check)
    return True


def _check(
    app: App,
    session: GoogleClient,
    record: SheetRecord,
    check: SheetCheck,
    result: PollResult,
    peers: _LazyPeers,
    now: dt.datetime,
    defer: list[DeferredReceipt] | None = None,
) -> None:
    campaign = app.campaign
    unit = app.roster.get(record.unit)

    def read(columns: dict[str, int]) -> Any:
        return session.read_unit_sheet(
            record.spreadsheet_id,
            campaign,
            unit_code=record.unit,
            unit_name=unit.name if unit else record.unit,
            deliverable=record.deliverable,
            columns=columns,
        )

    try:
        content = read(grid.tab_columns(app.store, session, record.spreadsheet_id))
    except GoogleRefused as exc:
        if not grid.exceeds_grid(exc):
            raise
        # A tab lost columns since its width was recorded (a unit deleted one): measure again, once.
        content = read(grid.tab_columns(app.store, session, record.spreadsheet_id, refresh=True))
    report = None
    version_id = None
    if not (content.empty and not content.submitted):
        # The unit's change happened at modifiedTime, not when this poll noticed it: lateness uses it.
        outcome = ingest_raw(app, content.raw, received_at=_parse(check.modified), now=now, peers=peers.get())
        report = outcome.report
        version_id = outcome.version_id
        check.stored, check.seq = outcome.stored, outcome.seq
        check.errors, check.warnings = outcome.errors, outcome.warnings
        if outcome.stored and version_id:
            result.versions_created += 1
            result.version_ids.append(version_id)
    check.state = sheet_state(report, submitted=content.submitted, empty=content.empty)
    requests = writeback_requests(campaign, record.deliverable, report, state=check.state, checked_at=now)
    # The review rows ride in the same batchUpdate: a resubmission turns 已退回 into 待审核 at once.
    shown = shown_for(app, record.unit, record.deliverable)
    review_due = needs_write(app, record.spreadsheet_id, shown)
    if review_due:
        requests.extend(review_requests(campaign, shown))
    session.batch_update(record.spreadsheet_id, requests)
    if review_due:
        mark_shown(app, record.spreadsheet_id, shown)
    if content.submitted and version_id and unit is not None:
        version = app.store.latest(record.unit, record.deliverable)
        if version is not None and version.id == version_id and version.status == "submitted":
            link = record.url or sheet_url(record.spreadsheet_id)
            if defer is not None:
                claimed = claim_receipt(app, version, link=link, now=now)
                if isinstance(claimed, str):
                    check.receipt = claimed
                else:
                    defer.append(DeferredReceipt(claimed, check))
                return
            check.receipt = send_receipt(app, version, link=link, now=now)
            result.receipts_sent += check.receipt == "sent"


def _state_label(check: SheetCheck, lang: Language) -> str:
    if check.state is None:
        return ""
    return gl.STATUS_TEXT[check.state][lang].format(n=check.errors)


def summary_lines(result: PollResult, lang: Language) -> list[str]:
    calls = sum(result.calls.values())
    lines = [
        t(
            lang,
            f"列出 {result.listed} 个有变动的文件：检查 {len(result.checks)} 个，"
            f"本系统自己的改动 {result.own_changes} 个，已处理过 {result.already_seen} 个，非单位表格 {result.not_ours} 个。",
            f"{result.listed} changed file(s): {len(result.checks)} checked, {result.own_changes} changed by "
            f"this system, {result.already_seen} already handled, {result.not_ours} not a unit sheet.",
        )
    ]
    for c in result.checks:
        state = c.problem or _state_label(c, lang)
        extra = t(lang, f" 新版本 v{c.seq}", f" new version v{c.seq}") if c.stored else ""
        receipt = t(lang, f" 回执：{c.receipt}", f" receipt: {c.receipt}") if c.receipt else ""
        lines.append(f"  {c.unit} {c.deliverable}: {state}{extra}{receipt}")
    lines.append(
        t(
            lang,
            f"新版本 {result.versions_created} 个，回执 {result.receipts_sent} 封；接口调用 {calls} 次。",
            f"{result.versions_created} new version(s), {result.receipts_sent} receipt(s); {calls} API call(s).",
        )
    )
    if result.reviews_shown:
        lines.append(t(lang, f"审核结果已写入 {len(result.reviews_shown)} 个表格：{'、'.join(result.reviews_shown)}",
                       f"Review written to {len(result.reviews_shown)} sheet(s): {', '.join(result.reviews_shown)}"))  # fmt: skip
    for problem in result.review_problems:
        lines.append(t(lang, f"  审核结果未能写入（下次轮询重试）：{problem}",
                       f"  review not written (retried next poll): {problem}"))  # fmt: skip
    if result.stopped:
        lines.append(result.stop_reason)
    return lines
