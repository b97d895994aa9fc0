"""Saving and submitting the web form: the same validator and ingest as every channel, then the receipt.

A save stores a draft version, 提交 a submitted one (source `web:<unit>/<deliverable>`), both through
ingest_raw, so versions, reports, status, reminders and the master see the web form like a workbook.
What the unit typed is also kept in the store's meta next to the version it made: a value the validator
could not read ("3000余") is not in the version, but the page must show it again for the unit to fix it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any, Literal

from functions.app import App
from functions.services.intake.attachments import IncomingFile
from functions.services.intake.ingest import ingest_raw
from functions.services.intake.receipt import (
    ClaimedReceipt,
    ReceiptOutcome,
    claim_receipt,
    deliver_receipt,
    send_receipt,
)
from functions.services.web.form_fields import (
    FormValues,
    raw_submission,
    values_of_version,
)
from schemas.i18n import t
from schemas.report import Issue, ValidationReport
from schemas.roster import Unit
from schemas.submission import Version

TYPED_PREFIX = "web/typed/"
FormState = Literal["missing", "draft", "draft-errors", "submitted", "errors"]


@dataclass(frozen=True)
class SaveResult:
    report: ValidationReport
    stored: bool  # a new version was made (an unchanged save makes none)
    version: Version | None
    receipt: ReceiptOutcome | None = None
    # With defer_receipt: the receipt claimed and built, for the caller to send after its lock is
    # released (deliver_saved_receipt); `receipt` is then None until it is sent.
    pending_receipt: ClaimedReceipt | None = None


def receipt_for(
    app: App, version: Version, *, link: str, now: dt.datetime, defer: bool
) -> tuple[ReceiptOutcome | None, ClaimedReceipt | None]:
    """Send the version's receipt now, or (`defer`) only claim and build it: (outcome, pending)."""
    if not defer:
        return send_receipt(app, version, link=link, now=now), None
    got = claim_receipt(app, version, link=link, now=now)
    return (None, got) if isinstance(got, ClaimedReceipt) else (got, None)


def deliver_saved_receipt(
    app: App, result: SaveResult, *, now: dt.datetime, hold: AbstractContextManager[Any] | None = None
) -> SaveResult:
    """Send a save's deferred receipt (outside the caller's lock; `hold` is taken to record it)."""
    if result.pending_receipt is None:
        return result
    outcome = deliver_receipt(app, result.pending_receipt, now=now, hold=hold)
    return replace(result, receipt=outcome, pending_receipt=None)


def typed_key(unit: str, deliverable: str) -> str:
    return f"{TYPED_PREFIX}{unit}/{deliverable}"


def save_form(
    app: App,
    unit: Unit,
    deliverable: str,
    values: FormValues,
    *,
    submit: bool,
    now: dt.datetime,
    link: str,
    files: Sequence[IncomingFile] | None = None,
    issues: Sequence[Issue] = (),
    defer_receipt: bool = False,
) -> SaveResult:
    """`files`: the evidence files the form holds after this save (form_files.files_for_save), checked
    and kept with the version by the same entry as every channel's; None leaves the rules unchecked.
    `issues`: file-level problems the channel found before the check (an upload that never arrived).
    `defer_receipt`: claim the receipt but leave the sending to the caller (deliver_saved_receipt)."""
    raw = raw_submission(app.campaign, unit, deliverable, values, status="submitted" if submit else "draft")
    raw.issues.extend(issues)
    outcome = ingest_raw(app, raw, received_at=now, now=now, files=files)
    assert outcome.report is not None  # ingest_raw always reports
    version = app.store.latest(unit.code, deliverable)
    if version is not None:
        # The report goes with the text: two texts may parse to the same content ("3000余" and "3000"),
        # which is one version, but the page must show the check of what was typed last.
        kept = {"version": version.id, "values": values, "report": outcome.report.model_dump(mode="json")}
        app.store.set_meta(typed_key(unit.code, deliverable), json.dumps(kept, ensure_ascii=False))
    receipt: ReceiptOutcome | None = None
    pending: ClaimedReceipt | None = None
    if submit and version is not None and version.status == "submitted":
        # Claimed per version, so submitting the same content twice mails once.
        receipt, pending = receipt_for(app, version, link=link, now=now, defer=defer_receipt)
    return SaveResult(report=outcome.report, stored=outcome.stored, version=version, receipt=receipt,
                      pending_receipt=pending)  # fmt: skip


@dataclass(frozen=True)
class FormStart:
    """What the page starts from: the unit's latest values and their report, and where it stands."""

    values: FormValues
    report: ValidationReport | None
    version: Version | None


def form_start(app: App, unit: Unit, deliverable: str) -> FormStart:
    version = app.store.latest(unit.code, deliverable)
    if version is None:
        return FormStart(values={}, report=None, version=None)
    typed = app.store.get_meta(typed_key(unit.code, deliverable))
    if typed:
        kept = json.loads(typed)
        if kept.get("version") == version.id:
            report = ValidationReport.model_validate(kept["report"]) if "report" in kept else version.report
            return FormStart(values=kept["values"], report=report, version=version)
    # The latest version came from another channel (a workbook, a Google Sheet): show its values.
    values = values_of_version(app.campaign, deliverable, version.tables)
    report = version.report
    if version.source_kind != "web":
        report = sheet_rows_to_tables(app, deliverable, report)
    return FormStart(values=values, report=report, version=version)


def sheet_rows_to_tables(app: App, deliverable: str, report: ValidationReport) -> ValidationReport:
    """Another channel's report numbers a row issue by its sheet row (主要活动安排表!C7), not by the form's
    card (blank sheet rows are skipped, so the two cannot be matched from the stored tables): the issue is
    shown with its table and its cell, never next to a card it does not belong to."""
    lang = app.campaign.language
    row_tables = {tb.title(lang) for tb in app.campaign.tables_of(deliverable) if tb.kind == "rows"}

    def at_table(issue: Issue) -> Issue:
        if issue.row is None or issue.sheet not in row_tables:
            return issue
        return issue.model_copy(update={"row": None})

    return report.model_copy(
        update={
            "errors": [at_table(i) for i in report.errors],
            "warnings": [at_table(i) for i in report.warnings],
        }
    )


def form_state(app: App, unit: Unit, deliverable: str, version: Version | None, now: dt.datetime) -> str:
    """未提交 / 草稿 / 已提交 / 有问题, with 逾期 when the due time passed without an on-time submission.

    Like `huizong status`, a submission decides the state over a later draft; the draft is mentioned.
    """
    lang = app.campaign.language
    submitted = app.store.latest(unit.code, deliverable, status="submitted")
    overdue = now > app.campaign.due_at(deliverable) and (submitted is None or submitted.late)
    if submitted is not None:
        text = t(lang, "已提交", "submitted") if submitted.report.valid else t(lang, "有问题", "has problems")
        if version is not None and version.status == "draft" and version.seq > submitted.seq:
            text += t(lang, "，另有未提交的草稿", "; a newer draft is not submitted")
    elif version is not None and version.status == "draft":
        text = (
            t(lang, "草稿（有问题）", "draft (with problems)")
            if version.report.errors
            else t(lang, "草稿", "draft")
        )
    else:
        text = t(lang, "未提交", "not submitted")
    if overdue:
        text += t(lang, "（逾期）", " (overdue)")
    return text
