"""Validate one file against a campaign without storing anything (`huizong validate`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from functions.app import App
from functions.services.intake.peers import PeerStats
from functions.validate import codes
from functions.validate.messages import make_issue
from functions.validate.validator import validate_submission
from schemas.report import ValidationReport


def validate_file(app: App, path: Path, *, expected_deliverable: str | None = None) -> ValidationReport:
    raw = app.read_workbook(path, app.campaign, app.roster)
    lang = app.campaign.language
    if expected_deliverable and raw.deliverable and raw.deliverable != expected_deliverable:
        found = app.campaign.deliverable(raw.deliverable).title(lang)
        try:
            wanted = app.campaign.deliverable(expected_deliverable).title(lang)
        except KeyError:
            wanted = expected_deliverable
        raw.issues.append(make_issue(codes.WRONG_DELIVERABLE_NOT_EXPECTED, lang, found=found, wanted=wanted))
    ctx = PeerStats(app.store, [d.key for d in app.campaign.deliverables]).context_for(
        raw.unit_code, checked_at=dt.datetime.now(app.campaign.tz)
    )
    _, report = validate_submission(raw, app.campaign, app.roster, ctx)
    return report
