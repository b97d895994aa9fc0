"""Benchmark the pipeline on a synthetic campaign; prints a Markdown table (docs/benchmarks.md).

    .venv/bin/python bench/bench_pipeline.py [--units 2000] [--rows 40] [--ingest 1000] [--remind-units 10000]

Each measurement runs in a fresh subprocess so peak RSS is its own. Sizes default to the issue's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _campaign_folder(base: Path, units: int, tag: str = "") -> Path:
    """The wujin example with a roster of `units` synthetic units (`tag` keeps stores of different sizes apart)."""
    import csv

    from functions.services.setup.examples import write_example

    folder = base / f"campaign-{units}{tag}"
    if folder.exists():
        return folder
    write_example(folder, "wujin-2022")
    types = ["中小学", "镇（街道）社区教育中心", "非学历教育机构", "区社区教育委员会成员单位"]
    areas = ["湖塘镇", "牛塘镇", "洛阳镇", "遥观镇", "南夏墅街道", "西湖街道"]
    with (folder / "units.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["单位编码", "单位名称", "单位类型", "所属镇街", "联系人", "邮箱", "电话"])
        for i in range(units):
            w.writerow([f"U{i:05d}", f"测试单位{i:05d}", types[i % 4], areas[i % 6], "张老师",
                        f"u{i:05d}@example.org", "13812345678"])  # fmt: skip
    return folder


def _activity(i: int, day: Any) -> dict[str, Any]:
    return {
        "seq": i, "name": f"终身学习活动{i}", "category": "讲座", "start_date": day, "venue": "社区活动室",
        "mode": "线下", "audience": ["社区居民", "老年人"], "expected_participants": 50 + i, "free": "是",
        "host": "测试单位", "lead": "张老师", "phone": "13812345678", "notes": "",
    }  # fmt: skip


def _filled_store(folder: Path, units: int, rows: int) -> None:
    """Put `units` plan versions of `rows` activities straight into the store (no workbooks)."""
    import datetime as dt

    from functions.bootstrap import open_app
    from schemas.report import ValidationReport
    from schemas.submission import ParsedSubmission

    app = open_app(folder)
    if app.store.latest_versions():
        return
    day = app.campaign.week.start
    now = dt.datetime(2022, 11, 20, 10, tzinfo=dt.UTC)
    for u in app.roster.units[:units]:
        sub = ParsedSubmission(unit=u.code, deliverable="plan", source=f"bench:{u.code}",
                               tables={"activities": [_activity(i, day) for i in range(1, rows + 1)],
                                       "plan_materials": [{"work_plan_url": "https://example.org/p"}]})  # fmt: skip
        report = ValidationReport(file=sub.source, unit=u.code, deliverable="plan", valid=True)
        app.store.add_version(sub, report, received_at=now, late=False)


# ---- measurements (each runs in its own process) ----------------------------------------------


def m_validate_one(base: Path) -> dict[str, Any]:
    from functions.bootstrap import open_app
    from functions.services.intake.validate_file import validate_file
    from functions.services.setup.workbook_fill import fill_workbook
    from sheets_templates.xlsx_unit_workbook import build_unit_workbook

    folder = _campaign_folder(base, 100)
    app = open_app(folder)
    unit = app.roster.units[0]
    wb = build_unit_workbook(app.campaign, "plan", unit)
    acts = [_activity(i, app.campaign.week.start) for i in range(1, 51)]
    for a in acts:
        a["audience"] = "社区居民、老年人"
    fill_workbook(
        wb,
        app.campaign,
        "plan",
        {
            "activities": acts,
            "plan_materials": [
                {"work_plan_url": "https://e.org/p", "filled_by": "张", "phone": "13812345678"}
            ],
        },
    )
    path = base / "one.xlsx"
    wb.save(path)
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = validate_file(app, path)
        runs.append(time.perf_counter() - t0)
    assert report.unit == unit.code
    return {"seconds": min(runs), "peak_mb": _peak_mb()}


def m_ingest(base: Path, n: int) -> dict[str, Any]:
    import datetime as dt

    from functions.bootstrap import open_app
    from functions.services.intake.ingest_folder import ingest_all
    from functions.services.setup.workbook_fill import fill_workbook
    from sheets_templates.xlsx_unit_workbook import build_unit_workbook

    folder = _campaign_folder(base, max(n, 100))
    app = open_app(folder)
    inbox = app.paths.inbox
    if not any(inbox.rglob("*.xlsx")):
        for u in app.roster.units[:n]:
            wb = build_unit_workbook(app.campaign, "plan", u)
            acts = [_activity(i, app.campaign.week.start) for i in range(1, 11)]
            for a in acts:
                a["audience"] = "社区居民"
            fill_workbook(
                wb,
                app.campaign,
                "plan",
                {
                    "activities": acts,
                    "plan_materials": [
                        {"work_plan_url": "https://e.org/p", "filled_by": "张", "phone": "13812345678"}
                    ],
                },
            )
            wb.save(inbox / f"{u.code}.xlsx")
    t0 = time.perf_counter()
    out = ingest_all(app, now=dt.datetime(2022, 11, 23, 10, tzinfo=app.campaign.tz))
    seconds = time.perf_counter() - t0
    assert sum(o.stored for o in out) == n, "every workbook stored"
    return {"seconds": seconds, "files": n, "files_per_s": n / seconds, "peak_mb": _peak_mb()}


def m_consolidate(base: Path, units: int, rows: int) -> dict[str, Any]:
    import datetime as dt

    from functions.bootstrap import open_app
    from functions.services.master.master_sheets import build_master

    folder = _campaign_folder(base, units, f"-rows{rows}")
    _filled_store(folder, units, rows)
    app = open_app(folder)
    t0 = time.perf_counter()
    result = build_master(app.campaign, app.roster, app.store, base / f"master-{units}-{rows}.xlsx",
                          now=dt.datetime.now(dt.UTC), write=app.write_master)  # fmt: skip
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": result.activity_rows, "rows_per_s": result.activity_rows / seconds,
            "peak_mb": _peak_mb()}  # fmt: skip


def m_openpyxl_plain(base: Path, units: int, rows: int) -> dict[str, Any]:
    """The baseline: the same activity rows written by openpyxl in normal mode."""
    from openpyxl import Workbook

    from functions.bootstrap import open_app

    folder = _campaign_folder(base, units, f"-rows{rows}")
    _filled_store(folder, units, rows)
    app = open_app(folder)
    fields = app.campaign.form_spec.table("activities").fields
    t0 = time.perf_counter()
    versions = app.store.latest_versions(status="submitted")
    wb = Workbook()
    ws = wb.active
    ws.append(["单位编码", "单位名称", "单位类型", "所属镇街"] + [f.label_zh for f in fields])
    units_by = app.roster.by_code()
    n = 0
    for v in versions:
        u = units_by[v.unit]
        for rec in v.tables.get("activities", []):
            ws.append([u.code, u.name, u.type, u.area] + [
                "、".join(x) if isinstance(x := rec.get(f.key), list) else x for f in fields
            ])  # fmt: skip
            n += 1
    wb.save(base / f"plain-{units}-{rows}.xlsx")
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "rows": n, "rows_per_s": n / seconds, "peak_mb": _peak_mb()}


def m_remind_plan(base: Path, units: int) -> dict[str, Any]:
    import datetime as dt

    from functions.bootstrap import open_app
    from functions.services.reminders.plan import plan_reminders
    from functions.services.status.unit_states import unit_statuses

    folder = _campaign_folder(base, units)
    app = open_app(folder)
    now = dt.datetime(2022, 12, 10, 10, tzinfo=app.campaign.tz)
    t0 = time.perf_counter()
    statuses = unit_statuses(app.campaign, app.roster, app.store)
    claimed = {c.key for c in app.store.claims("remind/")}
    t1 = time.perf_counter()
    plan = plan_reminders(app.campaign, statuses, claimed, now)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "plan_seconds": t2 - t1, "units": len(plan), "peak_mb": _peak_mb()}


MEASURES = {
    "validate_one": m_validate_one,
    "ingest": m_ingest,
    "consolidate": m_consolidate,
    "openpyxl_plain": m_openpyxl_plain,
    "remind_plan": m_remind_plan,
}


def _child(name: str, base: str, args: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--base", base, *args]
    out = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--ingest", type=int, default=1000)
    ap.add_argument("--remind-units", type=int, default=10000)
    ap.add_argument("--base", default=None)
    ap.add_argument("--child", default=None)
    ap.add_argument("params", nargs="*")
    a = ap.parse_args()
    if a.child:
        params = [int(p) for p in a.params]
        print(json.dumps(MEASURES[a.child](Path(a.base), *params)))
        return
    base = a.base or tempfile.mkdtemp(prefix="huizong-bench-")
    r: dict[str, Any] = {}
    r["validate_one"] = _child("validate_one", base, [])
    r["ingest"] = _child("ingest", base, [str(a.ingest)])
    for rows in (a.rows // 2, a.rows, a.rows * 2):
        r[f"consolidate_{rows}"] = _child("consolidate", base, [str(a.units), str(rows)])
    r["openpyxl_plain"] = _child("openpyxl_plain", base, [str(a.units), str(a.rows)])
    r["remind_plan"] = _child("remind_plan", base, [str(a.remind_units)])
    c, p = r[f"consolidate_{a.rows}"], r["openpyxl_plain"]
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    )
    print()
    print("| measurement | size | time | throughput | peak RSS |")
    print("|---|---|---|---|---|")
    v = r["validate_one"]
    print(f"| validate one workbook | 50 rows | {v['seconds'] * 1000:.0f} ms | | {v['peak_mb']:.0f} MB |")
    i = r["ingest"]
    print(
        f"| ingest | {i['files']} workbooks × 10 rows | {i['seconds']:.1f} s | {i['files_per_s']:.0f} files/s | {i['peak_mb']:.0f} MB |"
    )
    for rows in (a.rows // 2, a.rows, a.rows * 2):
        x = r[f"consolidate_{rows}"]
        print(
            f"| consolidate (huizong) | {a.units} units × {rows} rows = {x['rows']} | {x['seconds']:.1f} s | {x['rows_per_s']:.0f} rows/s | {x['peak_mb']:.0f} MB |"
        )
    print(
        f"| openpyxl normal mode, same rows | {a.units} units × {a.rows} rows = {p['rows']} | {p['seconds']:.1f} s | {p['rows_per_s']:.0f} rows/s | {p['peak_mb']:.0f} MB |"
    )
    m = r["remind_plan"]
    print(
        f"| plan reminders | {a.remind_units} units | {m['seconds'] * 1000:.0f} ms (planning alone {m['plan_seconds'] * 1000:.0f} ms) | {m['units']} units due | {m['peak_mb']:.0f} MB |"
    )
    print()
    print(f"Consolidation speed-up over openpyxl normal mode: {c['rows_per_s'] / p['rows_per_s']:.1f}×")


if __name__ == "__main__":
    main()
