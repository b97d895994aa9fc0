"""The folder channel: every workbook in the intake, with the photos and documents beside it.

A file already stored byte for byte is skipped without parsing; one that fails to read becomes its own
report; files waiting for their workbook are listed as unread until it comes. Each workbook then goes
through ingest_raw (ingest.py), as every other channel's submissions do."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from functions.app import App
from functions.ports import IntakeItem
from functions.services.intake.attachments import IncomingFile, files_digest, incoming, safe_name
from functions.services.intake.ingest import IngestOutcome, ingest_raw, write_report_files
from functions.services.intake.kept_workbook import ReceivedWorkbook
from functions.services.intake.peers import PeerStats
from functions.services.intake.unread import get_unread, record_unread
from functions.services.intake.unread import key_of as unread_key
from functions.validate import codes
from functions.validate.messages import make_issue
from functions.validate.validator import ValidationContext, validate_submission
from schemas.raw import RawSubmission
from schemas.report import ValidationReport


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MB chunks: how a file already stored is recognised."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


ScanMemo = dict[str, tuple[tuple[str, int, int], ...]]


def ingest_all(
    app: App,
    *,
    now: dt.datetime,
    progress: Callable[[], object] | None = None,
    settled: ScanMemo | None = None,
) -> list[IngestOutcome]:
    """Every file in the intake. A file already stored byte-for-byte is skipped without parsing.

    `settled`: kept by a caller that scans the same inbox again and again (`huizong serve`, every
    minute): a file whose version is stored is remembered with its size and modification time (and its
    evidence files'), and skipped unread while they stay the same, so a scan with nothing new costs a
    stat per file instead of hashing each one and reading its version back. Files that stored nothing
    (unidentified, unreadable) are never remembered: a roster edit may make them readable next time.
    """
    peers = PeerStats(app.store, [d.key for d in app.campaign.deliverables])
    outcomes: list[IngestOutcome] = []
    for item in app.intake.pending():
        mark = _file_mark(item) if settled is not None else None
        if settled is not None and mark is not None and settled.get(item.source) == mark:
            continue
        outcome = _ingest_item(app, item, now=now, peers=peers)
        outcomes.append(outcome)
        if settled is not None and mark is not None and outcome.seq is not None:
            settled[item.source] = mark
        if progress is not None:
            progress()
    return outcomes


def _file_mark(item: IntakeItem) -> tuple[tuple[str, int, int], ...] | None:
    """What a file and its evidence files look like from outside: changed content changes it."""
    try:
        mark = []
        for name in [item.source, *(item.attachments or [])]:
            st = Path(name).stat()
            mark.append((name, st.st_size, st.st_mtime_ns))
    except OSError:
        return None
    return tuple(mark)


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
        # That one version by its key: decoding the unit's whole history to find it made every scan
        # cost, per unit, the square of the files it sent (each kept in the inbox, each seen again).
        version = next(iter(app.store.iter_versions([(unit, deliverable, seq)])), None)
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
