"""The whole loop a cron job or a cloud function runs: ingest, consolidate, remind."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from functions.app import App
from functions.services.console.coordinator_digest import send_coordinator_digests
from functions.services.intake.ingest import IngestOutcome
from functions.services.intake.ingest_folder import ingest_all
from functions.services.master.master_sheets import MasterResult, build_master
from functions.services.reminders.send_reminders import RemindResult, run_reminders
from functions.services.review.actions import retry_return_mails


@dataclass
class LoopResult:
    ingested: list[IngestOutcome]
    master: MasterResult
    reminders: RemindResult


def consolidate(app: App, *, now: dt.datetime) -> MasterResult:
    return build_master(
        app.campaign, app.roster, app.store, app.paths.master, now=now, write=app.write_master
    )


def remind(
    app: App, *, now: dt.datetime, dry_run: bool = False, hold: AbstractContextManager[Any] | None = None
) -> RemindResult:
    """`hold`: `huizong serve`'s lock, which every step below takes for its store work only and releases
    while it mails, so a slow SMTP server does not hold the web form for the whole run (None elsewhere)."""
    result = run_reminders(
        app.campaign,
        app.roster,
        app.store,
        None if dry_run else app.mailer,
        now=now,
        dry_run=dry_run,
        master_link=str(app.paths.master.resolve()),
        link_secret=app.link_secret,
        hold=hold,
    )
    if not dry_run:
        # 退回 mails a server refused earlier (issue 15): claimed again and sent, once.
        result.lines.extend(retry_return_mails(app, now=now, hold=hold))
        # Each area coordinator's digest of their own units (issue 15), claimed per day like the organiser's.
        result.lines.extend(send_coordinator_digests(app, now=now, hold=hold))
    return result


def run_loop(app: App, *, now: dt.datetime, dry_run: bool = False) -> LoopResult:
    ingested = ingest_all(app, now=now)
    # Remind before consolidating so the master's 催报记录 shows what this run sent.
    reminders = remind(app, now=now, dry_run=dry_run)
    master = consolidate(app, now=now)
    return LoopResult(ingested, master, reminders)
