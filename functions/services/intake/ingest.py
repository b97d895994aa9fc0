"""Ingest: read what arrived, validate it, store a version when it is new, write the unit's report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from functions.app import App
from functions.atomic_file import write_atomically
from functions.services.intake.lateness import is_late
from functions.services.intake.peers import PeerStats
from functions.services.messages.report_text import render_report
from functions.validate.validator import validate_submission
from schemas.raw import RawSubmission
from schemas.report import ValidationReport

if TYPE_CHECKING:
    # Only the channels that carry files (the folder, the web upload, mail) use these: imported where
    # used, so a Google form response, the webhook's cold start included, does not load them.
    from functions.services.intake.attachments import AttachmentCheck, IncomingFile
    from functions.services.intake.kept_workbook import ReceivedWorkbook


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
        from functions.services.intake.attachments import keep_attachments

        keep_attachments(app.store, check)
        parsed.attachments = check.refs
    version, created = app.store.add_version(parsed, report, received_at=received_at, late=late)
    if created and parsed.attachments:
        from functions.services.intake.attachments import EVIDENCE_META

        if app.store.get_meta(EVIDENCE_META) is None:
            app.store.set_meta(EVIDENCE_META, "1")
    if created and workbook is not None:
        from functions.services.intake.kept_workbook import keep_workbook

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
    from functions.services.intake.attachments import apply_to_raw, check_attachments

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
