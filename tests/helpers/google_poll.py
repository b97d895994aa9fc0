"""The poll's world: a few schools with provisioned Google sheets, and units typing into them.

Shared by the poll tests (integration), the poll handler's (integration, with moto) and the poll command's
(e2e). Every edit goes into tests/fakes/google.py the way a person's edit in the browser would.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path
from typing import Any

from functions.adapters.google.session import GoogleSession
from functions.bootstrap import App, open_app
from functions.services.google.provision import provision
from functions.services.google.registry import sheet_for
from schemas.campaign import Campaign
from schemas.roster import Unit
from sheets_templates import google_layout as gl
from sheets_templates import layout
from tests.fakes.google import SA_EMAIL, FakeGoogle, serial
from tests.helpers.google import enable_google, google_session
from tests.helpers.workbooks import school_plan

NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SCHOOLS = 3


def session_for(app: App) -> GoogleSession:
    return google_session(app.campaign.google, service_account_email=SA_EMAIL)


def provisioned(folder: Path, google: FakeGoogle) -> App:
    """The example campaign cut to SCHOOLS schools, Google on, every plan sheet provisioned; counts reset."""
    enable_google(folder, schools=SCHOOLS, sheet_deliverables=["plan"], publish_master=True)
    opened = open_app(folder)
    result = provision(opened.campaign, opened.roster, opened.store, session_for(opened), now=NOW)
    assert result.count("created") == SCHOOLS and not result.stopped
    google.reset_counts()
    return opened


def sheet_of(app: App, unit: Unit) -> str:
    record = sheet_for(app.store, unit.code, "plan")
    assert record is not None and record.spreadsheet_id
    return record.spreadsheet_id


def activity_rows(campaign: Campaign, activities: list[dict[str, Any]]) -> list[list[Any]]:
    """Rows as a person types them into the sheet: the columns of the form spec, dates as Sheets keeps them."""
    fields = campaign.tables_of("plan")[0].fields
    out = []
    for a in activities:
        row = []
        for f in fields:
            v = a.get(f.key, "")
            row.append(serial(v) if isinstance(v, dt.date) else v)
        out.append(row)
    return out


def fill(google: FakeGoogle, app: App, unit: Unit, *, break_date: bool = False) -> dict[str, Any]:
    """The unit fills the activities tab and the plan documents; returns the plan it typed."""
    plan = school_plan(app.campaign, unit)
    if break_date:
        plan["activities"][1]["start_date"] = "下周二"
    sid = sheet_of(app, unit)
    activities, materials = app.campaign.tables_of("plan")
    lang = app.campaign.language
    google.user_rows(sid, activities.title(lang), layout.ROWS_FIRST_DATA_ROW,
                     activity_rows(app.campaign, plan["activities"]), email=unit.emails[0])  # fmt: skip
    record = plan["plan_materials"][0]
    cells = {
        f"{layout.RECORD_VALUE_COLUMN}{layout.RECORD_FIRST_FIELD_ROW + i}": record[f.key]
        for i, f in enumerate(materials.fields)
        if f.key in record
    }
    google.user_edit(sid, materials.title(lang), cells, email=unit.emails[0])
    return plan


def tick(google: FakeGoogle, app: App, unit: Unit, value: bool = True) -> None:
    title = layout.INSTRUCTIONS_SHEET[app.campaign.language]
    google.user_edit(sheet_of(app, unit), title, {gl.SUBMIT_CELL: value}, email=unit.emails[0])


def status(google: FakeGoogle, app: App, unit: Unit) -> tuple[Any, Any, Any]:
    tab = google.tab(sheet_of(app, unit), layout.INSTRUCTIONS_SHEET[app.campaign.language])
    return tab.value(gl.STATUS_CELL), tab.value(gl.CHECKED_AT_CELL), tab.value(gl.ISSUES_CELL)


def outbox(app: App) -> list[email.message.EmailMessage]:
    folder = app.paths.outbox
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]
