"""What one submission, each channel, the unit statuses and one validation cost as the campaign grows
(issue 13 §6).

    .venv/bin/python bench/bench_scale.py --units 1000,4000 --json

For each size a fresh campaign folder gets a realistic SQLite store, built through the Store interface
(add_version with parsed submissions and reports, never raw SQL): every unit a plan of 10–40 varied
activities, two thirds a summary with statistics, one in five an earlier version (history), one in six
a report with errors and one in three with warnings. Then, CPU time (time.process_time, which a machine
shared with other work disturbs less than wall time), median of --repeat runs after one warm-up:

- submission_cpu_ms: one more submission through ingest_raw (what a form response, a webhook delivery,
  an ingested file or a polled sheet costs): peer figures, validation, report files, add_version;
- statuses_cpu_ms: unit_statuses over the whole roster (status, reminders, digest, 总览);
- remind_cpu_ms: a reminder run (`huizong remind --dry-run`: statuses, the remind/ claims, the plan) once
  an earlier run has reminded every unit then missing (two claims each), measured after the others;
- validate_cpu_ms: validate_file of one 50-row plan workbook against the filled store (`huizong validate`
  in process);
- openpyxl_load_cpu_ms: openpyxl.load_workbook(read_only=True) of that same file, every cell read.

Then each channel end to end (measured after the figures above, since they add versions to the store):

- form_response_cpu_ms: one signed Google Form response (the summary form, as the Apps Script sends it)
  answered by the webhook service (form_webhook.handle_webhook: signature, schema, mapping, ingest), a
  different unit and response each run, each storing a new version;
- ingest_file_cpu_ms: one 12-row plan workbook dropped into the inbox and taken by the folder channel
  (ingest_all: the inbox scan, reading, digest, validation, store, report files), a different unit's
  each run; the inbox still holds the earlier runs' files, as a real one does;
- poll_sheet_cpu_ms: one Google poll cycle (run_poll) in which exactly one unit's sheet changed (five
  activities, the plan documents, 提交 ticked), a different one each run, against the tests' in-memory
  Google (tests/fakes/google.py behind `responses`, as bench_google_calls.py): the Drive folder and the
  registry hold a sheet per unit. The fake's HTTP handling is inside the figure;
  poll_sheet_fake_cpu_ms is its share (FakeGoogle.handle, whose listing walks every file of the folder);
- ingest_files_per_s: --ingest-files workbooks (`ingest_files`, of as many units) dropped at once and taken
  by one ingest_all, in files per second of CPU; each timed batch finds only its own files in the inbox;
- empty_scan_cpu_ms: ingest_all with nothing pending (what `huizong serve` does every minute) over an
  inbox holding every file ingested above (`empty_scan_inbox_files`), each hashed and recognised.

This script is also copied into older checkouts to measure a baseline side by side: a channel whose API
the checkout lacks (ImportError, TypeError, AttributeError) gives null for its keys and a reason under
"skipped" instead of failing the run.

Without --json a table is printed. Each size runs in its own process so one does not warm the next.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPES = ["中小学", "镇（街道）社区教育中心", "非学历教育机构", "区社区教育委员会成员单位"]
AREAS = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "南夏墅街道", "西湖街道"]
CATEGORIES = ["讲座", "展览", "培训", "比赛", "参观"]


def _campaign_folder(base: Path, units: int) -> Path:
    from functions.services.setup.examples import write_example

    folder = base / f"campaign-{units}"
    write_example(folder, "wujin-2022")
    with (folder / "units.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "单位类型", "所属镇街", "联系人", "邮箱", "电话"])
        for i in range(units):
            w.writerow([f"U{i:05d}", f"测试单位{i:05d}", TYPES[i % 4], AREAS[i % 6], "张老师",
                        f"u{i:05d}@example.org", "13812345678"])  # fmt: skip
    return folder


def _activity(i: int, unit_index: int, day: dt.date) -> dict[str, Any]:
    return {
        "seq": i, "name": f"终身学习活动{unit_index}-{i}", "category": CATEGORIES[(i + unit_index) % 5],
        "start_date": day + dt.timedelta(days=i % 7), "venue": f"社区活动室{i % 9}",
        "mode": "线下" if i % 3 else "线上", "audience": ["社区居民", "老年人"][: 1 + i % 2],
        "expected_participants": 20 + (i * 37 + unit_index * 11) % 400, "free": "是",
        "host": "测试单位", "lead": "张老师", "phone": "13812345678", "notes": "" if i % 4 else "需预约",
    }  # fmt: skip


def _report(source: str, unit: str, deliverable: str, index: int) -> Any:
    from functions.validate import codes
    from schemas.report import Issue, ValidationReport

    errors = [Issue(code=codes.MISSING_VALUE.code, severity="error", sheet="活动安排", cell=f"B{5 + index % 30}",
                    message="“活动名称”为必填项，请填写。")] if index % 6 == 0 else []  # fmt: skip
    warnings = [Issue(code=codes.OUTLIER.code, severity="warning", sheet="活动安排", cell=f"I{5 + index % 30}",
                      value="9999", message="预计参与人数远高于同类单位。")] if index % 3 == 0 else []  # fmt: skip
    return ValidationReport(file=source, unit=unit, deliverable=deliverable, valid=not errors,
                            errors=errors, warnings=warnings)  # fmt: skip


def _fill(app: Any, units: int, activity_rows: tuple[int, int] = (10, 40)) -> None:
    """`activity_rows`: the fewest and most activities in a plan (varied between units)."""
    from schemas.submission import ParsedSubmission

    day = app.campaign.week.start
    at = dt.datetime(2022, 11, 20, 10, tzinfo=app.campaign.tz)
    for index, u in enumerate(app.roster.units[:units]):
        rows = activity_rows[0] + (index * 7) % (activity_rows[1] - activity_rows[0] + 1)
        versions = 2 if index % 5 == 0 else 1
        for v in range(versions):
            source = f"inbox/{u.code}-{v}.xlsx"
            acts = [_activity(i, index + v, day) for i in range(1, rows + 1)]
            sub = ParsedSubmission(unit=u.code, deliverable="plan", source=source, source_kind="file",
                                   tables={"activities": acts,
                                           "plan_materials": [{"work_plan_url": "https://example.org/p"}]})  # fmt: skip
            app.store.add_version(sub, _report(source, u.code, "plan", index + v), received_at=at, late=False)
        if index % 3 != 2:
            stats = {"total_sessions": 5 + index % 20, "total_participants": 200 + (index * 13) % 3000}
            sub = ParsedSubmission(unit=u.code, deliverable="summary", source=f"inbox/{u.code}-s.xlsx",
                                   source_kind="file", tables={"statistics": [stats]})  # fmt: skip
            app.store.add_version(
                sub, _report(sub.source, u.code, "summary", index), received_at=at, late=False
            )


def _workbook(app: Any, path: Path, rows: int, salt: int = 0, unit_index: int = 0) -> Path:
    from functions.services.setup.workbook_fill import fill_workbook
    from sheets_templates.xlsx_unit_workbook import build_unit_workbook

    unit = app.roster.units[unit_index]
    wb = build_unit_workbook(app.campaign, "plan", unit)
    acts = [_activity(i, salt, app.campaign.week.start) for i in range(1, rows + 1)]
    for a in acts:
        a["audience"] = "、".join(a["audience"])
    materials = {"work_plan_url": "https://e.org/p", "filled_by": "张", "phone": "13812345678"}
    fill_workbook(wb, app.campaign, "plan", {"activities": acts, "plan_materials": [materials]})
    wb.save(path)
    return path


def _interleaved_median_cpu_ms(
    first: Callable[[int], object], second: Callable[[int], object], repeat: int
) -> tuple[float, float]:
    """Two measurements whose ratio is the point (validation against an openpyxl load of the same file):
    run alternately, so both see the same state of a shared machine (sequential runs of the same
    openpyxl load differed by up to 1.2x between moments of one process)."""
    first(-1), second(-1)
    a: list[float] = []
    b: list[float] = []
    for i in range(repeat):
        for work, runs in ((first, a), (second, b)):
            t0 = time.process_time()
            work(i)
            runs.append((time.process_time() - t0) * 1000)
    return round(statistics.median(a), 1), round(statistics.median(b), 1)


def _median_cpu_ms(
    work: Callable[[int], object], repeat: int, prepare: Callable[[int], object] | None = None
) -> float:
    """`prepare(i)`, when given, runs untimed before each `work(i)` (the warm-up is i = -1)."""
    if prepare is not None:
        prepare(-1)
    work(-1)  # warm-up: imports, caches, and on a store from before issue 13 its one-time peer rebuild
    runs = []
    for i in range(repeat):
        if prepare is not None:
            prepare(i)
        t0 = time.process_time()
        work(i)
        runs.append((time.process_time() - t0) * 1000)
    return round(statistics.median(runs), 1)


def _remind_after_earlier_run(app: Any, remind: Callable[[int], object], repeat: int) -> float:
    """A reminder run's CPU once an earlier run has reminded every unit then missing or in draft
    (two steps each, claimed through the Store as run_reminders claims them)."""
    from functions.services.status.unit_states import unit_statuses

    at = dt.datetime(2022, 11, 21, 9, tzinfo=app.campaign.tz)
    for s in unit_statuses(app.campaign, app.roster, app.store):
        if s.state in ("missing", "draft"):
            for step in (-3, 1):
                app.store.claim(f"remind/{s.deliverable.key}/{s.unit.code}/{step:+d}", {
                    "unit": s.unit.code, "unit_name": s.unit.name, "deliverable": s.deliverable.key,
                    "step": step, "step_label": "截止前3天", "overdue_days": None, "address": "u@example.org",
                    "state": s.state, "result": "已发送", "sent": True, "sending_since": at.isoformat(),
                }, at=at)  # fmt: skip
    return _median_cpu_ms(remind, repeat)


# --- the channels a submission arrives by (issue 13 §6) -------------------------------------------------
# Each is measured only where the checkout has its API: this script is copied into older trees to measure
# a baseline side by side, and a channel a tree lacks gives null and a "skipped" reason, not a failed run.
_MISSING_API = (ImportError, TypeError, AttributeError)
WEBHOOK_SECRET = b"bench-scale-webhook-secret-0123456789"
GOOGLE_TOKEN = "bench-scale-token"


def _spread(i: int, units: int, offset: int) -> int:
    """A unit index for run i, spread over the roster so successive runs hit different units."""
    return (offset + 7919 * (i + 2)) % units


def _ingest_all() -> Callable[..., Any]:
    """The folder channel's ingest_all: in ingest_folder since a59aaf1, in ingest before."""
    try:
        from functions.services.intake.ingest_folder import ingest_all
    except ImportError:
        from functions.services.intake.ingest import ingest_all
    return ingest_all


def form_response_bodies(app: Any, count: int, prefix: str = "bench-scale") -> list[bytes]:
    """`count` bodies of the summary form as the Apps Script sends them (bench_cold_start's body), each a
    different unit and new figures so each stores a new version; the first is a run's warm-up."""
    from functions.services.google.form_spec import form_questions

    questions = form_questions(app.campaign, "summary")
    submitted = dt.datetime.combine(app.campaign.week.start, dt.time(10), tzinfo=app.campaign.tz)
    bodies = []
    for i in range(-1, count - 1):
        unit = app.roster.units[_spread(i, len(app.roster.units), 11)]
        values = {"total_sessions": str(12 + i), "lecture_sessions": "3", "training_sessions": "2",
                  "total_participants": str(3000 + i), "online_participants": "200", "filled_by": "李老师",
                  "phone": "13912345678", "summary_url": "https://example.org/s.docx", "photo_count": "6"}  # fmt: skip
        answers = [{"title": q.title, "value": unit.code if q.role == "unit_code" else values[q.field]}
                   for q in questions if q.role == "unit_code" or q.field in values]  # fmt: skip
        body = {"kind": "form_response", "campaign_id": app.campaign.id, "deliverable": "summary",
                "form_id": "FORM1", "response_id": f"{prefix}-{i + 1}", "answers": answers,
                "respondent_email": unit.emails[0], "submitted_at": submitted.isoformat()}  # fmt: skip
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    return bodies


def _form_response(app: Any, now: dt.datetime, repeat: int) -> dict[str, Any]:
    """One signed Google Form response (summary form, every answer valid) through handle_webhook, a
    different unit and response each run, as the Apps Script sends it (bench_cold_start's body)."""
    from functions.services.intake.form_webhook import handle_webhook
    from functions.services.intake.signature import HEADER, sign

    bodies = form_response_bodies(app, repeat + 1)
    stamp = int(now.timestamp())

    def respond(i: int) -> None:
        body = bodies[i + 1]
        headers = {"content-type": "application/json", HEADER: sign(WEBHOOK_SECRET, body, timestamp=stamp)}
        result = handle_webhook(app, body=body, headers=headers, secret=WEBHOOK_SECRET, now=now)
        assert result.status == 200 and result.body["stored"], result

    return {"form_response_cpu_ms": _median_cpu_ms(respond, repeat)}


def _ingest_file(app: Any, base: Path, now: dt.datetime, repeat: int) -> dict[str, Any]:
    """One workbook dropped into the inbox and taken by ingest_all, a different unit's each run. The
    inbox still holds the earlier runs' files (already stored: hashed and passed over), as a real one does."""
    ingest_all = _ingest_all()
    inbox = app.paths.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    (base / "drops").mkdir()
    drops = [_workbook(app, base / "drops" / f"drop{i + 1}.xlsx", 12, salt=i + 101,
                       unit_index=_spread(i, len(app.roster.units), 23)) for i in range(-1, repeat)]  # fmt: skip

    def drop(i: int) -> None:
        drops[i + 1].replace(inbox / drops[i + 1].name)

    def take(_: int) -> None:
        outcomes = ingest_all(app, now=now)
        assert sum(o.stored for o in outcomes) == 1, outcomes

    return {"ingest_file_cpu_ms": _median_cpu_ms(take, repeat, prepare=drop)}


def _ingest_files(app: Any, base: Path, now: dt.datetime, repeat: int, count: int) -> dict[str, Any]:
    """`count` workbooks (different units) dropped at once and taken by one ingest_all, then an ingest_all
    with nothing pending. Each timed batch finds only its own files in the inbox (the earlier batches are
    moved aside, untimed); the empty scan finds every file stored so far, as `huizong serve` does."""
    ingest_all = _ingest_all()
    inbox, aside = app.paths.inbox, base / "taken"
    inbox.mkdir(parents=True, exist_ok=True)
    aside.mkdir()
    units = len(app.roster.units)
    batches = []
    for b in range(repeat + 1):
        folder = base / f"batch{b}"
        folder.mkdir()
        batches.append([_workbook(app, folder / f"b{b}-{k}.xlsx", 12, salt=1000 + b * count + k,
                                  unit_index=(b * count + k) * 31 % units) for k in range(count)])  # fmt: skip

    def drop(i: int) -> None:
        for path in inbox.iterdir():
            path.replace(aside / path.name)
        for path in batches[i + 1]:
            path.replace(inbox / path.name)

    def take(_: int) -> None:
        outcomes = ingest_all(app, now=now)
        assert sum(o.stored for o in outcomes) == count, [o for o in outcomes if not o.stored][:3]

    cpu_ms = _median_cpu_ms(take, repeat, prepare=drop)
    for path in aside.iterdir():
        path.replace(inbox / path.name)
    waiting = sum(1 for _ in inbox.iterdir())

    def scan(_: int) -> None:
        assert not any(o.stored for o in ingest_all(app, now=now))

    return {"ingest_files_per_s": round(count / (cpu_ms / 1000), 1), "ingest_files": count,
            "empty_scan_cpu_ms": _median_cpu_ms(scan, repeat), "empty_scan_inbox_files": waiting}  # fmt: skip


def _poll_sheet(app: Any, now: dt.datetime, repeat: int) -> dict[str, Any]:
    """One poll cycle (run_poll) in which exactly one unit's Google sheet changed, a different one each run,
    against the tests' in-memory Google (tests/fakes/google.py behind `responses`): the registry and the
    Drive folder hold a sheet per unit. The fake's own request handling is inside the figure;
    poll_sheet_fake_cpu_ms is its share (FakeGoogle.handle, which lists the folder by walking every file)."""
    import dataclasses

    import responses
    from google.oauth2.credentials import Credentials

    from functions.adapters.google.session import build_session
    from functions.services.google.poll import CURSOR_META, run_poll
    from functions.services.google.registry import SheetRecord, claim_sheet, save_sheet
    from schemas.google import GoogleSettings
    from sheets_templates import google_layout as gl
    from sheets_templates import layout
    from sheets_templates.google_unit_sheet import build_unit_sheet_requests
    from tests.fakes.google import FakeGoogle, serial

    settings = GoogleSettings(folder_id="FOLDER123", call_budget=1000)
    gapp = dataclasses.replace(app, campaign=app.campaign.model_copy(update={"google": settings}))
    campaign, lang, units = gapp.campaign, gapp.campaign.language, gapp.roster.units
    activities, materials = campaign.tables_of("plan")
    changed = [_spread(i, len(units), 41) for i in range(-1, repeat)]
    fake_ms: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google = FakeGoogle(mock, token=GOOGLE_TOKEN)
        google.clock = dt.datetime(2022, 11, 20, 0, 0, tzinfo=dt.UTC)  # provisioned before the cursor
        for n, u in enumerate(units):
            sid, title = f"1Unit{n:05d}", f"{campaign.title}-{u.name}-plan"
            google.spreadsheet(sid, title, parents=[google.folder_id], owner=google.SA_EMAIL)
            claim_sheet(gapp.store, u.code, "plan", at=now)
            save_sheet(gapp.store, SheetRecord(unit=u.code, deliverable="plan", spreadsheet_id=sid,
                                               url=f"https://docs.google.com/spreadsheets/d/{sid}/edit",
                                               title=title, created_at=now))  # fmt: skip
        for n in changed:
            google.apply(f"1Unit{n:05d}", build_unit_sheet_requests(campaign, "plan", units[n],
                                                                    service_account_email=google.SA_EMAIL))  # fmt: skip
        gapp.store.set_meta(CURSOR_META, "2022-11-22T12:00:00.000Z")
        google.clock = dt.datetime(2022, 11, 23, 0, 0, tzinfo=dt.UTC)  # the units' edits, after it
        handle = google.handle
        spent = [0.0]

        def timed_handle(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return handle(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - t0

        google.handle = timed_handle  # type: ignore[method-assign]

        def edit(i: int) -> None:
            n = changed[i + 1]
            sid, email = f"1Unit{n:05d}", units[n].emails[0]
            rows = []
            for k in range(1, 6):
                a = _activity(k, n + i + 3, campaign.week.start)
                a |= {"start_date": serial(a["start_date"]), "audience": "、".join(a["audience"])}
                rows.append([a.get(f.key, "") for f in activities.fields])
            google.user_rows(sid, activities.title(lang), layout.ROWS_FIRST_DATA_ROW, rows, email=email)
            answers = {
                "work_plan_url": "https://example.org/plan",
                "filled_by": "张老师",
                "phone": "13812345678",
            }
            cells = {f"{layout.RECORD_VALUE_COLUMN}{layout.RECORD_FIRST_FIELD_ROW + k}": answers[f.key]
                     for k, f in enumerate(materials.fields) if f.key in answers}  # fmt: skip
            google.user_edit(sid, materials.title(lang), cells, email=email)
            google.user_edit(sid, layout.INSTRUCTIONS_SHEET[lang], {gl.SUBMIT_CELL: True}, email=email)

        def poll(i: int) -> None:
            before = spent[0]
            session = build_session(Credentials(token=GOOGLE_TOKEN), settings)
            session.http.sleep = lambda _s: None
            result = run_poll(gapp, session, now=now)
            assert result.versions_created == 1 and not result.stopped, result
            if i >= 0:
                fake_ms.append((spent[0] - before) * 1000)

        cpu_ms = _median_cpu_ms(poll, repeat, prepare=edit)
    return {"poll_sheet_cpu_ms": cpu_ms, "poll_sheet_fake_cpu_ms": round(statistics.median(fake_ms), 1)}


def _channels(app: Any, base: Path, now: dt.datetime, repeat: int, ingest_files: int) -> dict[str, Any]:
    """Every channel's keys; a channel the checkout lacks gives null for its keys and a reason."""
    measured: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    channels: list[tuple[list[str], Callable[[], dict[str, Any]]]] = [
        (["form_response_cpu_ms"], lambda: _form_response(app, now, repeat)),
        (["ingest_file_cpu_ms"], lambda: _ingest_file(app, base, now, repeat)),
        (["poll_sheet_cpu_ms", "poll_sheet_fake_cpu_ms"], lambda: _poll_sheet(app, now, repeat)),
        (["ingest_files_per_s", "ingest_files", "empty_scan_cpu_ms", "empty_scan_inbox_files"],
         lambda: _ingest_files(app, base, now, repeat, ingest_files)),
    ]  # fmt: skip
    for keys, run in channels:
        try:
            measured.update(run())
        except _MISSING_API as exc:
            for key in keys:
                measured[key] = None
                skipped[key] = f"{type(exc).__name__}: {exc}"
    if skipped:
        measured["skipped"] = skipped
    return measured


def measure(units: int, repeat: int, ingest_files: int = 200) -> dict[str, Any]:
    import openpyxl

    from functions.bootstrap import open_app
    from functions.services.intake.ingest import ingest_raw
    from functions.services.intake.validate_file import validate_file
    from functions.services.reminders.send_reminders import run_reminders
    from functions.services.status.unit_states import unit_statuses

    with tempfile.TemporaryDirectory(prefix="huizong-bench-scale-") as tmp:
        base = Path(tmp)
        folder = _campaign_folder(base, units)
        app = open_app(folder)
        t0 = time.perf_counter()
        _fill(app, units)
        build_s = time.perf_counter() - t0
        path50 = _workbook(app, base / "fifty.xlsx", 50)
        now = dt.datetime(2022, 11, 23, 10, tzinfo=app.campaign.tz)
        # One raw submission per run, each different so every run stores a new version.
        raws = [app.read_workbook(_workbook(app, base / f"sub{i}.xlsx", 12, salt=i + 7), app.campaign, app.roster)
                for i in range(-1, repeat)]  # fmt: skip

        def submit(i: int) -> None:
            outcome = ingest_raw(app, raws[i + 1], received_at=now, now=now)
            assert outcome.stored, outcome

        def statuses(_: int) -> None:
            assert len(unit_statuses(app.campaign, app.roster, app.store)) >= units

        def remind(_: int) -> None:
            # `huizong remind --dry-run`: statuses, the remind/ claims twice (due, stuck), the plan.
            later = dt.datetime(2022, 12, 10, 10, tzinfo=app.campaign.tz)
            assert run_reminders(app.campaign, app.roster, app.store, None, now=later, dry_run=True).planned

        def validate(_: int) -> None:
            assert validate_file(app, path50).unit == app.roster.units[0].code

        def load(_: int) -> None:
            wb = openpyxl.load_workbook(path50, read_only=True)
            for ws in wb.worksheets:
                for _row in ws.iter_rows(values_only=True):
                    pass
            wb.close()

        validate_ms, load_ms = _interleaved_median_cpu_ms(validate, load, repeat)
        return {
            "units": units,
            "submission_cpu_ms": _median_cpu_ms(submit, repeat),
            "statuses_cpu_ms": _median_cpu_ms(statuses, repeat),
            "remind_cpu_ms": _remind_after_earlier_run(app, remind, repeat),
            "validate_cpu_ms": validate_ms,
            "openpyxl_load_cpu_ms": load_ms,
            "store_build_s": round(build_s, 1),
            # After the measurements above, so they see the store as before (these add versions).
            **_channels(app, base, now, repeat, ingest_files),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", default="1000,4000", help="campaign sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per size")
    parser.add_argument("--ingest-files", type=int, default=200,
                        help="workbooks dropped at once for ingest_files_per_s")  # fmt: skip
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.repeat, args.ingest_files)))
        return
    results = []
    for size in (int(s) for s in args.units.split(",") if s.strip()):
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--repeat", str(args.repeat),
             "--ingest-files", str(args.ingest_files)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    keys = ["units", "submission_cpu_ms", "statuses_cpu_ms", "validate_cpu_ms", "openpyxl_load_cpu_ms"]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in results:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
