"""Count the Google API calls of one poll cycle and of one master publish; prints a Markdown table.

    .venv/bin/python bench/bench_google_calls.py [--units 2000] [--changed 50] [--rows 5 10 20]

No network: the tests' in-memory Google (tests/fakes/google.py, behind `responses` callbacks) keeps the
folder, the sheets and their tabs, answers every request with a reply shaped like the Drive v3 / Sheets v4
reference, and refuses anything else. The numbers come from the budgeted
HTTP client's own per-operation counts, the same ones a real run reports. Targets (issue 4): a poll over
2,000 unit sheets with 50 changed costs at most 2 Drive list calls, 50 reads and 50 writes; publishing a
2,000-unit master costs at most 10 calls. The table goes into docs/benchmarks-google.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import responses
from google.oauth2.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.adapters.google.session import GoogleSession, build_session  # noqa: E402
from functions.adapters.store.memory import MemoryStore  # noqa: E402
from functions.bootstrap import App, open_app  # noqa: E402
from functions.services.google.poll import CURSOR_META, run_poll  # noqa: E402
from functions.services.google.publish_master import publish_master  # noqa: E402
from functions.services.google.registry import MASTER_META, SheetRecord, claim_sheet, save_sheet  # noqa: E402
from functions.services.setup.examples import write_example  # noqa: E402
from schemas.report import ValidationReport  # noqa: E402
from schemas.submission import ParsedSubmission  # noqa: E402
from sheets_templates import google_layout as gl  # noqa: E402
from sheets_templates import layout  # noqa: E402
from sheets_templates.google_unit_sheet import build_unit_sheet_requests  # noqa: E402
from tests.fakes.google import Call, FakeGoogle, serial  # noqa: E402

NOW = dt.datetime(2022, 11, 23, 10, 0, tzinfo=dt.UTC)
CURSOR = "2022-11-23T01:00:00.000Z"
TOKEN = "bench-token"


# --- a synthetic Google-enabled campaign -------------------------------------------------------------------


def campaign_folder(base: Path, units: int) -> Path:
    """The wujin example with `units` synthetic units and a `google:` section."""
    folder = base / f"google-{units}"
    if folder.exists():
        return folder
    write_example(folder, "wujin-2022")
    path = folder / "campaign.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\ngoogle:\n  folder_id: "FOLDER123"\n  credentials_env: "HUIZONG_GOOGLE_CREDENTIALS"\n'
        + "  call_budget: 1000\n",
        encoding="utf-8",
    )
    types = ["中小学", "镇（街道）社区教育中心", "非学历教育机构", "区社区教育委员会成员单位"]
    areas = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "南夏墅街道", "西湖街道"]
    with (folder / "units.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "单位类型", "所属镇街", "联系人", "邮箱", "电话"])
        for i in range(units):
            w.writerow([f"U{i:05d}", f"测试单位{i:05d}", types[i % 4], areas[i % 6], "张老师",
                        f"u{i:05d}@example.org", "13812345678"])  # fmt: skip
    return folder


def activity(i: int, day: dt.date) -> dict[str, Any]:
    return {"seq": i, "name": f"终身学习活动{i}", "category": "讲座", "start_date": day, "venue": "社区活动室",
            "mode": "线下", "audience": ["社区居民", "老年人"], "expected_participants": 50 + i, "free": "是",
            "host": "测试单位", "lead": "张老师", "phone": "13812345678", "notes": ""}  # fmt: skip


def session_for(app: App) -> GoogleSession:
    assert app.campaign.google is not None
    session = build_session(Credentials(token=TOKEN), app.campaign.google)
    session.http.sleep = lambda _s: None
    return session


# --- the fake: tests/fakes/google.py, the tests' own in-memory Google --------------------------------------


def unit_sheets(google: FakeGoogle, app: App, changed: int) -> list[str]:
    """Every unit's sheet in the folder and the registry; `changed` of them filled and ticked since the cursor.

    The changed ones are built with the provisioning requests (so the write-back finds its tabs) and then
    edited the way a unit does in the browser: five activities, the plan documents, the 提交 box.
    """
    campaign, lang = app.campaign, app.campaign.language
    units = app.roster.units
    step = max(1, len(units) // changed)
    chosen = set(range(0, step * changed, step))
    google.clock = dt.datetime(2022, 11, 22, 1, 0, tzinfo=dt.UTC)  # provisioned the day before the cursor
    for i, u in enumerate(units):
        sid = f"1Unit{i:05d}"
        title = f"{campaign.title}-{u.name}-plan"
        google.spreadsheet(sid, title, parents=[google.folder_id], owner=google.SA_EMAIL)
        if i in chosen:
            google.apply(
                sid, build_unit_sheet_requests(campaign, "plan", u, service_account_email=google.SA_EMAIL)
            )
        claim_sheet(app.store, u.code, "plan", at=NOW)
        save_sheet(app.store, SheetRecord(unit=u.code, deliverable="plan", spreadsheet_id=sid,
                                          url=f"https://docs.google.com/spreadsheets/d/{sid}/edit",
                                          title=title, created_at=NOW))  # fmt: skip
    google.clock = dt.datetime(2022, 11, 23, 9, 0, tzinfo=dt.UTC)  # the units' edits, after the cursor
    activities, materials = campaign.tables_of("plan")
    answers = {"work_plan_url": "https://example.org/plan", "filled_by": "张老师", "phone": "13812345678"}
    out = []
    for i in sorted(chosen):
        u, sid = units[i], f"1Unit{i:05d}"
        rows = []
        for n in range(1, 6):
            record = activity(n, campaign.week.start) | {"start_date": serial(campaign.week.start),
                                                         "audience": "社区居民、老年人"}  # fmt: skip
            rows.append([record.get(f.key, "") for f in activities.fields])
        google.user_rows(sid, activities.title(lang), layout.ROWS_FIRST_DATA_ROW, rows, email=u.emails[0])
        cells = {f"{layout.RECORD_VALUE_COLUMN}{layout.RECORD_FIRST_FIELD_ROW + k}": answers[f.key]
                 for k, f in enumerate(materials.fields) if f.key in answers}  # fmt: skip
        google.user_edit(sid, materials.title(lang), cells, email=u.emails[0])
        google.user_edit(sid, layout.INSTRUCTIONS_SHEET[lang], {gl.SUBMIT_CELL: True}, email=u.emails[0])
        out.append(sid)
    return out


def sizes(calls: list[Call]) -> dict[str, float]:
    values = [c for c in calls if c.op == "sheets.values.batchUpdate"]
    compact = sum(len(json.dumps(c.body, ensure_ascii=False, separators=(",", ":")).encode()) for c in values)
    return {"largest_body": max((c.size for c in calls), default=0),
            "values_mb": sum(c.size for c in values) / 1e6, "compact_mb": compact / 1e6}  # fmt: skip


# --- scenarios ---------------------------------------------------------------------------------------------


def poll_cycle(base: Path, units: int, changed: int) -> list[dict[str, Any]]:
    app = open_app(campaign_folder(base, units), store=MemoryStore())
    out = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google = FakeGoogle(mock, token=TOKEN)
        unit_sheets(google, app, changed)
        app.store.set_meta(CURSOR_META, CURSOR)
        # The next cycle lists the same files again, now last changed by the poll's own write-back.
        for label in (f"poll: {units} unit sheets, {changed} changed",
                      f"poll again: {units} unit sheets, only its own {changed} write-backs changed"):  # fmt: skip
            google.reset_counts()
            session = session_for(app)
            t0 = time.perf_counter()
            result = run_poll(app, session, now=NOW)
            seconds = time.perf_counter() - t0
            out.append({"scenario": label, "calls": dict(session.http.counts), "seconds": seconds,
                        "largest_body": sizes(google.requests)["largest_body"], "result": str(result)[:200]})  # fmt: skip
    return out


def fill_master_store(app: App, rows: int) -> None:
    """Nine units in ten sent a plan of `rows` activities; every fifth of those also a summary."""
    day = app.campaign.week.start
    stats = {"total_sessions": 12, "lecture_sessions": 4, "total_participants": 600, "filled_by": "张老师",
             "phone": "13812345678"}  # fmt: skip
    for n, u in enumerate(app.roster.units):
        if n % 10 == 0:
            continue
        tables = {"activities": [activity(i, day) for i in range(1, rows + 1)],
                  "plan_materials": [{"work_plan_url": "https://example.org/p"}]}  # fmt: skip
        for deliverable, data in (("plan", tables), ("summary", {"statistics": [stats]})):
            if deliverable == "summary" and n % 5:
                continue
            sub = ParsedSubmission(
                unit=u.code, deliverable=deliverable, source=f"bench:{u.code}", tables=data
            )
            report = ValidationReport(file=sub.source, unit=u.code, deliverable=deliverable, valid=True)
            app.store.add_version(sub, report, received_at=NOW, late=False)


def publish(base: Path, units: int, rows: int) -> list[dict[str, Any]]:
    app = open_app(campaign_folder(base, units), store=MemoryStore())
    fill_master_store(app, rows)
    out = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google = FakeGoogle(mock, token=TOKEN)
        for label in (f"publish master, first time: {units} units × {rows} activities",
                      f"publish master again: {units} units × {rows} activities"):  # fmt: skip
            session = session_for(app)
            google.reset_counts()
            t0 = time.perf_counter()
            result = publish_master(app, session, now=NOW)
            seconds = time.perf_counter() - t0
            assert result.complete, result.stopped
            out.append({"scenario": label, "calls": dict(session.http.counts), "seconds": seconds,
                        "rows": sum(result.rows.values()), **sizes(google.requests)})  # fmt: skip
        assert app.store.get_meta(MASTER_META)
    return out


# --- the table ---------------------------------------------------------------------------------------------

COLUMNS = [
    ("drive.files.list", "files.list"),
    ("sheets.values.batchGet", "values.batchGet"),
    ("sheets.batchUpdate", "batchUpdate"),
    ("sheets.values.batchUpdate", "values.batchUpdate"),
    ("sheets.get", "spreadsheets.get"),
]


def target(row: dict[str, Any], changed: int) -> tuple[str, bool]:
    calls = row["calls"]
    total = sum(calls.values())
    if row["scenario"].startswith("poll:"):
        ok = (calls.get("drive.files.list", 0) <= 2 and calls.get("sheets.values.batchGet", 0) <= changed
              and calls.get("sheets.batchUpdate", 0) <= changed)  # fmt: skip
        return f"≤2 list, ≤{changed} reads, ≤{changed} writes", ok
    if row["scenario"].startswith("poll again"):
        return "1 list, nothing else", total == calls.get("drive.files.list", 0) == 1
    return "≤10 calls", total <= 10


def _mb(row: dict[str, Any]) -> str:
    return f"{row['values_mb']:.1f} ({row['compact_mb']:.1f})" if "values_mb" in row else "–"


def markdown(rows: list[dict[str, Any]], changed: int) -> str:
    head = [
        "scenario",
        *(c[1] for c in COLUMNS),
        "other",
        "total",
        "largest body KB",
        "values MB sent (as compact UTF-8)",
        "seconds",
        "target",
        "met",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        calls = row["calls"]
        known = {c[0] for c in COLUMNS}
        other = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()) if k not in known) or "0"
        goal, ok = target(row, changed)
        cells = [row["scenario"], *(str(calls.get(c[0], 0)) for c in COLUMNS), other, str(sum(calls.values())),
                 f"{row['largest_body'] / 1024:,.0f}", _mb(row), f"{row['seconds']:.2f}", goal,
                 "yes" if ok else "**no**"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--changed", type=int, default=50)
    ap.add_argument("--rows", type=int, nargs="+", default=[5, 10, 20], help="activities per unit's plan")
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="huizong-bench-google-"))
    rows = poll_cycle(base, a.units, a.changed)
    for n in a.rows:
        rows += publish(base, a.units, n)
    print(markdown(rows, a.changed))
    for row in rows:
        if "result" in row:
            print(f"\n{row['scenario']}: {row['result']}", file=sys.stderr)


if __name__ == "__main__":
    main()
