"""Ingest: read what arrived, validate it, store a version when it is new, write the unit's report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from functions.app import App
from functions.atomic_file import write_atomically
from functions.ports import IntakeItem
from functions.services.intake.attachments import (
    EVIDENCE_META,
    AttachmentCheck,
    IncomingFile,
    apply_to_raw,
    check_attachments,
    files_digest,
    incoming,
    keep_attachments,
    safe_name,
)
from functions.services.intake.kept_workbook import ReceivedWorkbook, keep_workbook
from functions.services.intake.peers import PeerStats
from functions.services.intake.unread import get_unread, record_unread
from functions.services.intake.unread import key_of as unread_key
from functions.services.messages.report_text import render_report
from functions.services.status.unit_states import is_late
from functions.validate import codes
from functions.validate.messages import make_issue
from functions.validate.validator import ValidationContext, validate_submission
from schemas.raw import RawSubmission
from schemas.report import ValidationReport


@dataclass(frozen=True)
class IngestOutcome:
    source: str
    unit: str | None
    deliverable: str | None
    valid: bool
    stored: bool  # a new version was created
    seq: int | None
    errors: int
    warnings: int
    note: str = ""  # "unchanged", "unreadable", "unidentified"
    report: ValidationReport | None = None  # what the unit is told (the Google channel writes it back)
    version_id: str | None = None  # the version now current for this content


def _safe(name: str) -> str:
    # Untrusted (a file name a unit chose): no separators, no control characters, no leading dots (so
    # never `.` or `..`), bounded so the suffixes added below stay under the 255-byte name limit.
    cleaned = re.sub(r'[\\/:*?"<>|\s\x00-\x1f\x7f]+', "_", name).strip("_").lstrip(".")
    return cleaned[:80] or "file"


def report_base(reports: Path, unit: str, deliverable: str) -> Path:
    """out/reports/<unit>-<deliverable>, refusing any name that could leave `reports`.

    The roster admits only codes matching UNIT_CODE_PATTERN, so this is a second line of defence: a code
    that got past it (a store written by an older huizong) is made safe rather than trusted.
    """
    name = f"{unit}-{deliverable}"
    if _safe(name) != name or name in (".", ".."):
        name = _safe(name) + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return reports / name


def write_report_files(app: App, report: ValidationReport, *, fallback_name: str) -> Path:
    """out/reports/<unit>-<deliverable>.json/.txt; files that could not be tied to a unit go to unidentified/."""
    reports = app.paths.reports
    if report.unit and report.deliverable and app.roster.get(report.unit):
        base = report_base(reports, report.unit, report.deliverable)
    else:
        base = reports / "unidentified" / _safe(fallback_name)
    base.parent.mkdir(parents=True, exist_ok=True)
    payload = report.model_dump(mode="json")
    # Suffixes are appended, never swapped with with_suffix: that cuts at the first dot, so `WJ.24` and
    # `WJ.25` would share one file. Unique temp names (write_atomically) let two processes write at once.
    json_path = base.with_name(base.name + ".json")
    txt_path = base.with_name(base.name + ".txt")
    write_atomically(json_path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))
    write_atomically(txt_path, render_report(report, app.campaign.language).encode("utf-8"))
    return txt_path


def ingest_raw(
    app: App,
    raw: RawSubmission,
    *,
    received_at: dt.datetime,
    now: dt.datetime,
    peers: PeerStats | None = None,
    files: Sequence[IncomingFile] | None = None,
    workbook: ReceivedWorkbook | None = None,
    report_unstorable: bool = True,
) -> IngestOutcome:
    """Validate and store one submission from any channel; never raises for bad content.

    `files`: the evidence files that came with it (services/intake/attachments.py), checked against the
    deliverable's `attachments` rules and stored with the version. None for a channel that cannot carry
    files (Google sheets, forms): their rules are then not checked, rather than failed.
    `workbook`: the file the submission was read from, kept with a new version so the console can hand
    the organiser what the unit sent (kept_workbook.py); None for channels without a file.
    `report_unstorable=False`: a submission that cannot be stored writes no report file either (the web
    upload refuses it on the page instead, leaving the unit's report and the unread list untouched).
    """
    peers = peers or PeerStats(app.store, [d.key for d in app.campaign.deliverables])
    ctx = peers.context_for(raw.unit_code, checked_at=now)
    check = _check_files(app, raw, files)
    parsed, report = validate_submission(raw, app.campaign, app.roster, ctx)
    name = Path(raw.source).name
    if parsed is not None or report_unstorable:
        write_report_files(app, report, fallback_name=name)
    if parsed is None:
        note = "unidentified" if report.deliverable or raw.tables else "unreadable"
        return IngestOutcome(
            raw.source,
            report.unit,
            report.deliverable,
            False,
            False,
            None,
            len(report.errors),
            len(report.warnings),
            note,
            report,
        )
    previous = app.store.latest(parsed.unit, parsed.deliverable, status="submitted")
    late = (
        is_late(app.campaign, parsed.deliverable, received_at, previous)
        if parsed.status == "submitted"
        else False
    )
    if check is not None and check.refs:
        keep_attachments(app.store, check)
        parsed.attachments = check.refs
    version, created = app.store.add_version(parsed, report, received_at=received_at, late=late)
    if created and parsed.attachments and app.store.get_meta(EVIDENCE_META) is None:
        app.store.set_meta(EVIDENCE_META, "1")
    if created and workbook is not None:
        max_bytes = int(app.campaign.submission.max_file_mb * 1024 * 1024)
        keep_workbook(app.store, version.id, workbook, max_bytes=max_bytes)
    return IngestOutcome(
        raw.source,
        parsed.unit,
        parsed.deliverable,
        report.valid,
        created,
        version.seq,
        len(report.errors),
        len(report.warnings),
        "" if created else "unchanged",
        report,
        version.id,
    )


def _check_files(
    app: App, raw: RawSubmission, files: Sequence[IncomingFile] | None
) -> AttachmentCheck | None:
    """The attachment check, put into `raw` before validation; None when there is nothing to check (a
    channel without files, or a submission whose unit or deliverable is unknown: it is not stored)."""
    if files is None or raw.unit_code is None or raw.deliverable is None:
        return None
    unit = app.roster.get(raw.unit_code)
    try:
        app.campaign.deliverable(raw.deliverable)
    except KeyError:
        return None
    if unit is None:
        return None
    check = check_attachments(
        app.campaign,
        app.store,
        unit=unit.code,
        unit_type=unit.type,
        deliverable=raw.deliverable,
        files=files,
    )
    apply_to_raw(raw, check, app.campaign.language)
    return check


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB chunks: how a file already stored is recognised."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ingest_all(
    app: App, *, now: dt.datetime, progress: Callable[[], object] | None = None
) -> list[IngestOutcome]:
    """Every file in the intake. A file already stored byte-for-byte is skipped without parsing."""
    peers = PeerStats(app.store, [d.key for d in app.campaign.deliverables])
    outcomes: list[IngestOutcome] = []
    for item in app.intake.pending():
        outcomes.append(_ingest_item(app, item, now=now, peers=peers))
        if progress is not None:
            progress()
    return outcomes


def _ingest_item(app: App, item: IntakeItem, *, now: dt.datetime, peers: PeerStats) -> IngestOutcome:
    """One file, guarded: whatever goes wrong with it becomes its own report, and the run goes on."""
    try:
        return _ingest_item_unguarded(app, item, now=now, peers=peers)
    except Exception as exc:  # MemoryError included; one hostile file must never stop the others
        return _read_failed(app, item, exc, now=now)


def _read_failed(app: App, item: IntakeItem, exc: Exception, *, now: dt.datetime) -> IngestOutcome:
    lang = app.campaign.language
    raw = RawSubmission(source=item.source, source_kind="file")
    raw.issues.append(make_issue(codes.READ_FAILED, lang, error=type(exc).__name__))
    _, report = validate_submission(raw, app.campaign, app.roster, ValidationContext(checked_at=now))
    # The name may be what failed (too long, undecodable): the report is filed under a digest of it.
    name = "read-failed-" + hashlib.sha256(item.source.encode("utf-8", "replace")).hexdigest()[:16]
    try:
        write_report_files(app, report, fallback_name=name)
    except OSError:
        pass  # the outcome below still carries the report to the console and the digest
    return IngestOutcome(
        item.source,
        None,
        None,
        False,
        False,
        None,
        len(report.errors),
        len(report.warnings),
        "unreadable",
        report,
    )


def _ingest_item_unguarded(
    app: App, item: IntakeItem, *, now: dt.datetime, peers: PeerStats
) -> IngestOutcome:
    path = Path(item.source)
    if path.is_dir():
        waiting = [Path(p) for p in item.attachments or []]
        return _files_without_workbook(app, path, waiting, received_at=min(item.received_at, now), now=now)
    files = incoming([Path(p) for p in item.attachments]) if item.attachments is not None else None
    digest = file_digest(path) if path.is_file() else None
    workbook = ReceivedWorkbook(name=path.name, path=path, sha256=digest)
    if digest and files:
        # The workbook and its files together: the same workbook with new photos is a new submission.
        digest = hashlib.sha256(f"{digest}+{files_digest(files)}".encode()).hexdigest()
    seen_key = f"file-seen/{digest}"
    if digest and (seen := app.store.get_meta(seen_key)):
        return _seen_outcome(app, item.source, seen)
    raw = app.intake.read(item)
    received_at = min(item.received_at, now)
    outcome = ingest_raw(
        app, raw, received_at=received_at, now=now, peers=peers, files=files, workbook=workbook
    )
    if files and outcome.seq is not None:
        _forget_waiting_files(app, files)
    if digest and outcome.unit and outcome.deliverable and outcome.seq is not None:
        seen_value = {"unit": outcome.unit, "deliverable": outcome.deliverable, "seq": outcome.seq}
        app.store.set_meta(seen_key, json.dumps(seen_value, ensure_ascii=False))
    elif digest and outcome.seq is None and outcome.report is not None:
        # Nothing stored for any unit: recorded so status, the digest and the master show it.
        record_unread(
            app.store,
            path=path,
            sha256=digest,
            report=outcome.report,
            note=outcome.note or "unreadable",
            inbox=app.paths.inbox,
            roster=app.roster,
            received_at=received_at,
            now=now,
        )
    return outcome


def _files_without_workbook(
    app: App, folder: Path, paths: list[Path], *, received_at: dt.datetime, now: dt.datetime
) -> IngestOutcome:
    """A unit folder with files and no workbook: nothing is stored. The files wait in the inbox and become
    the attachments of the workbook once it is put next to them; until then each is recorded as an
    unread file of the folder's unit, so status, the digest and the master's 问题清单 show it."""
    lang = app.campaign.language
    issue = make_issue(
        codes.ATTACHMENTS_WITHOUT_WORKBOOK, lang, value=safe_name(folder.name), count=len(paths)
    )
    # No unit in the report: the unread record then says the folder told the unit, which is the truth.
    report = ValidationReport(file=str(folder), valid=False, errors=[issue])
    for path in paths:
        record_unread(
            app.store,
            path=path,
            sha256=file_digest(path),
            report=report,
            note="unreadable",
            inbox=app.paths.inbox,
            roster=app.roster,
            received_at=received_at,
            now=now,
        )
    unit = app.roster.get(folder.name) or app.roster.find_by_name(folder.name)
    return IngestOutcome(
        str(folder), unit.code if unit else None, None, False, False, None, 1, 0, "no-workbook", report
    )


def _forget_waiting_files(app: App, files: list[IncomingFile]) -> None:
    """Files recorded as waiting for their workbook are attachments now: no longer listed as unread."""
    for f in files:
        if f.data is None:
            continue
        sha = hashlib.sha256(f.data).hexdigest()
        record = get_unread(app.store, sha)
        if record is not None and record.codes == [codes.ATTACHMENTS_WITHOUT_WORKBOOK.code]:
            app.store.release(unread_key(sha))


def _seen_outcome(app: App, source: str, seen: str) -> IngestOutcome:
    """A file stored before: its own version's result (not the unit's latest, which may be another file)."""
    seq: int | None = None
    try:
        data = json.loads(seen)
        unit, deliverable, seq = str(data["unit"]), str(data["deliverable"]), int(data["seq"])
    except (ValueError, KeyError, TypeError):
        # Stores written before the version number was kept: "unit/deliverable".
        unit, _, deliverable = seen.partition("/")
    version = None
    if seq is not None:
        version = next((v for v in app.store.history(unit, deliverable) if v.seq == seq), None)
    if version is None:
        version = app.store.latest(unit, deliverable)
    return IngestOutcome(
        source,
        unit,
        deliverable,
        bool(version and version.report.valid),
        False,
        version.seq if version else None,
        version.error_count if version else 0,
        version.warning_count if version else 0,
        "unchanged",
        None,
        version.id if version else None,
    )
