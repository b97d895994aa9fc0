"""`huizong demo`: a whole campaign in one command — example, templates, filled workbooks, the loop."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from functions.app import App
from functions.services.loop import LoopResult, run_loop
from functions.services.setup.demo_data import DemoFile, demo_files
from functions.services.setup.examples import write_example
from functions.services.setup.unit_templates import write_templates
from functions.services.setup.workbook_fill import fill_workbook
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, save_workbook_atomically

EXAMPLE = "wujin-2022"


@dataclass
class DemoResult:
    folder: Path
    app: App
    files: list[DemoFile]
    loop: LoopResult
    now: dt.datetime


def default_folder(base: Path) -> Path:
    candidate = base / "huizong-demo"
    n = 2
    while candidate.exists():
        candidate = base / f"huizong-demo-{n}"
        n += 1
    return candidate


def _write_inbox(app: App, files: list[DemoFile]) -> None:
    campaign = app.campaign
    for f in files:
        day = f.received.astimezone(campaign.tz).date().isoformat()
        path = app.paths.inbox / day / f.name
        if f.attachments and f.unit is not None:
            # Files travel in the unit's own folder, next to its workbook (issue 12 §4).
            path = app.paths.inbox / day / f.unit.code / f.name
        path.parent.mkdir(parents=True, exist_ok=True)
        for name, data in f.attachments:
            (path.parent / name).write_bytes(data)
            stamp = f.received.timestamp()
            os.utime(path.parent / name, (stamp, stamp))
        if f.raw_bytes is not None:
            path.write_bytes(f.raw_bytes)
        else:
            wb = build_unit_workbook(campaign, f.deliverable, None if f.blank_template else f.unit)
            if f.blank_template and f.unit is not None:
                _type_identity_by_hand(wb, campaign.language, f.unit.name)
            fill_workbook(wb, campaign, f.deliverable, f.entries)
            save_workbook_atomically(wb, path)
        stamp = f.received.timestamp()
        os.utime(path, (stamp, stamp))


def _type_identity_by_hand(wb: object, lang: str, unit_name: str) -> None:
    """What a person does with the blank template: types the unit's name (and forgets the code)."""
    from sheets_templates import layout

    ws = wb[layout.INSTRUCTIONS_SHEET[lang]]  # type: ignore[index]
    label = layout.IDENTITY_LABELS["unit_name"][lang]  # type: ignore[index]
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == label:
            ws[f"{layout.IDENTITY_VALUE_COLUMN}{row[0].row}"] = unit_name
            return


def run_demo(folder: Path, open_app: Callable[[Path], App], *, today: dt.date | None = None) -> DemoResult:
    """`open_app` is the composition root's, given by the entry point: the demo wires nothing itself."""
    write_example(folder, EXAMPLE)
    app = open_app(folder)
    campaign = app.campaign
    write_templates(folder, campaign, app.roster)
    files = demo_files(campaign, app.roster)
    _write_inbox(app, files)
    # Inside the reminder window: the summary is one day overdue, the plan long overdue.
    day = today or campaign.deliverable("summary").due + dt.timedelta(days=1)
    now = dt.datetime.combine(day, dt.time(campaign.reminders.hour, 5), tzinfo=campaign.tz)
    loop = run_loop(app, now=now)
    return DemoResult(folder=folder, app=app, files=files, loop=loop, now=now)
