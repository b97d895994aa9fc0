"""What one submission, the unit statuses and one validation cost as the campaign grows (issue 13 §6).

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


def _workbook(app: Any, path: Path, rows: int, salt: int = 0) -> Path:
    from functions.services.setup.workbook_fill import fill_workbook
    from sheets_templates.xlsx_unit_workbook import build_unit_workbook

    unit = app.roster.units[0]
    wb = build_unit_workbook(app.campaign, "plan", unit)
    acts = [_activity(i, salt, app.campaign.week.start) for i in range(1, rows + 1)]
    for a in acts:
        a["audience"] = "、".join(a["audience"])
    materials = {"work_plan_url": "https://e.org/p", "filled_by": "张", "phone": "13812345678"}
    fill_workbook(wb, app.campaign, "plan", {"activities": acts, "plan_materials": [materials]})
    wb.save(path)
    return path


def _median_cpu_ms(work: Callable[[int], object], repeat: int) -> float:
    work(-1)  # warm-up: imports, caches, and on a store from before issue 13 its one-time peer rebuild
    runs = []
    for i in range(repeat):
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


def measure(units: int, repeat: int) -> dict[str, Any]:
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

        return {
            "units": units,
            "submission_cpu_ms": _median_cpu_ms(submit, repeat),
            "statuses_cpu_ms": _median_cpu_ms(statuses, repeat),
            "remind_cpu_ms": _remind_after_earlier_run(app, remind, repeat),
            "validate_cpu_ms": _median_cpu_ms(validate, repeat),
            "openpyxl_load_cpu_ms": _median_cpu_ms(load, repeat),
            "store_build_s": round(build_s, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", default="1000,4000", help="campaign sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per size")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.repeat)))
        return
    results = []
    for size in (int(s) for s in args.units.split(",") if s.strip()):
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--repeat", str(args.repeat)],
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
