"""Consolidation against a plain SQL-to-XML floor and openpyxl write-only (issue 13 §4).

    .venv/bin/python bench/bench_consolidate_floor.py --units 2000 --rows 40 --repeat 3 --json

One realistic SQLite store is built through the Store interface, as bench_scale.py builds it (plans of
varied activities, `--rows` on average, between half and one and a half times that; two thirds of the
units a summary with statistics; one in five an earlier version; reports with errors and warnings).
Then three ways of writing the master's data sheets from it, each run in its own process (so each peak
RSS is its own), interleaved --repeat times so a change in the shared machine's load hits all three:

- master: `huizong consolidate` (functions.services.loop.consolidate): the whole styled master, six
  tabs with charts, through the Store port;
- floor: the least any program could do for the same rows. ONE SQL query for every (unit, deliverable)'s
  latest versions, json.loads of their tables and reports, and the same data sheets (报送情况, 活动安排,
  统计, 问题清单: every row the master's have, with their values) written as sheet XML by plain string
  building into a deflated zip (zipfile, level 6 like the master). No styles, no charts, no overview or
  reminders tab, no review or identity rules: what a hand-written export would do;
- openpyxl: the floor's rows (same SQL query and decoding) written by openpyxl in write-only mode.

CPU time (time.process_time) of each, median over --repeat; `master_over_floor` (goal ≤ 1.5) and
`openpyxl_over_master` (goal ≥ 5) are ratios of those medians. Each writer's activity row count is
checked equal, and the floor's file is opened with openpyxl once, so a broken floor cannot look fast.

--instructions also counts the instructions of the master and the floor with valgrind's callgrind, which
a shared machine's load does not change (CPU time on a busy 2-core machine varies by ±15 %): each writer
runs once under callgrind, and so does an idle child that imports and opens the same campaign and writes
nothing; the idle count is subtracted from each. openpyxl is not counted (it would take half an hour).
With --repeat 0 only the instructions are measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_scale  # noqa: E402  (a sibling script, not a package)

NOW = dt.datetime(2022, 11, 23, 10, tzinfo=dt.UTC)
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()

# ---- the plain data pipeline: one query, json.loads, rows as lists ----------------------------------

_LATEST = """
SELECT v.unit, v.deliverable, v.status, v.seq, v.received_at, v.tables_json, v.report_json
FROM versions AS v JOIN (
    SELECT unit, deliverable, status, MAX(seq) AS seq FROM versions GROUP BY unit, deliverable, status
) AS m ON v.unit = m.unit AND v.deliverable = m.deliverable AND v.status = m.status AND v.seq = m.seq
"""


def _plain(value: Any) -> Any:
    """A decoded JSON value as a cell: tagged dates back to dates, lists joined as the master joins them."""
    if isinstance(value, dict):
        if "$date" in value:
            return dt.date.fromisoformat(value["$date"])
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
    if isinstance(value, list):
        return "、".join(str(x) for x in value)
    return value


def plain_sheets(app: Any) -> list[tuple[str, list[str], Iterator[list[Any]]]]:
    """The four data sheets' rows from one SQL query. The activities sheet comes first and streams from
    the cursor; the other three, small, are gathered on the way and written after it."""
    campaign, roster, tz = app.campaign, app.roster, app.campaign.tz
    activity_fields = [f.key for f in campaign.form_spec.table("activities").fields]
    stat_fields = [f.key for f in campaign.form_spec.table("statistics").fields]
    deliverables = [d.key for d in campaign.deliverables]
    units = {u.code: u for u in roster.units}
    latest: dict[tuple[str, str], dict[str, tuple[Any, ...]]] = {}
    issues: list[list[Any]] = []
    stats: dict[str, list[Any]] = {}
    conn = sqlite3.connect(app.paths.root / "huizong.sqlite3")

    def activities() -> Iterator[list[Any]]:
        # The roster's order, as the master's: the query sorts by unit, then deliverable.
        cursor = conn.execute(_LATEST + " ORDER BY v.unit, v.deliverable, v.status")
        for unit, deliverable, status, seq, received_at, tables_json, report_json in cursor:
            report = json.loads(report_json)
            latest.setdefault((unit, deliverable), {})[status] = (seq, received_at, report)
            if status != "submitted":
                continue
            u = units[unit]
            cells = [u.code, u.name, u.type, u.area]
            for issue in report["errors"] + report["warnings"]:
                issues.append([u.code, u.name, deliverable, issue["sheet"], issue["cell"], issue["code"],
                               issue["severity"], issue["message"]])  # fmt: skip
            tables = json.loads(tables_json)
            for record in tables.get("statistics", ()):
                stats[unit] = (
                    cells
                    + ["通过" if report["valid"] else "有错误"]
                    + [_plain(record.get(k)) for k in stat_fields]
                )
            for record in tables.get("activities", ()):
                yield cells + [_plain(record.get(k)) for k in activity_fields]
        conn.close()

    def status() -> Iterator[list[Any]]:
        for u in roster.units:
            row: list[Any] = [u.code, u.name, u.type, u.area]
            for d in deliverables:
                found = latest.get((u.code, d), {})
                if "submitted" in found:
                    seq, received_at, report = found["submitted"]
                    state = "通过" if report["valid"] else "有错误"
                elif "draft" in found:
                    seq, received_at, report = found["draft"]
                    state = "已填写未提交"
                else:
                    row += ["未报", None, None, None, None]
                    continue
                when = dt.datetime.fromisoformat(received_at).astimezone(tz).replace(tzinfo=None)
                row += [state, when, seq, len(report["errors"]), len(report["warnings"])]
            yield row

    head = ["单位编码", "单位名称", "单位类型", "所属镇街"]
    status_head = head + [
        f"{d} {x}" for d in deliverables for x in ("状态", "报送时间", "版本", "错误数", "提醒数")
    ]
    return [
        ("活动安排", head + activity_fields, activities()),
        ("报送情况", status_head, status()),
        ("统计", head + ["状态"] + stat_fields, (stats[u.code] for u in roster.units if u.code in stats)),
        ("问题清单", head[:2] + ["材料", "工作表", "单元格", "代码", "级别", "问题说明"], iter(issues)),
    ]


# ---- the floor writer: sheet XML by string building, zipfile ----------------------------------------


def _column(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{_escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (
            value.toordinal() - _EXCEL_EPOCH + (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        )
        return f'<c r="{ref}"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}"><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def write_floor(sheets: list[tuple[str, list[str], Iterator[list[Any]]]], path: Path) -> int:
    """Returns the first sheet's data rows (the activities)."""
    counts = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for i, (_name, header, rows) in enumerate(sheets, start=1):
            letters = [_column(c) for c in range(1, len(header) + 30)]
            n = 0
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as fh:
                fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet {_NS}><sheetData>'.encode())
                chunk: list[str] = []
                for r, row in enumerate(_with_header(header, rows), start=1):
                    cells = "".join(_cell(f"{letters[c]}{r}", v) for c, v in enumerate(row))
                    chunk.append(f'<row r="{r}">{cells}</row>')
                    n += 1
                    if len(chunk) >= 1000:
                        fh.write("".join(chunk).encode())
                        chunk.clear()
                fh.write(("".join(chunk) + "</sheetData></worksheet>").encode())
            counts.append(n - 1)
        names = [name for name, _h, _r in sheets]
        zf.writestr("[Content_Types].xml", (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
                      for i in range(1, len(names) + 1))
            + "</Types>"
        ))  # fmt: skip
        zf.writestr("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ))  # fmt: skip
        zf.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<workbook {_NS} {_NS_R}><sheets>'
            + "".join(f'<sheet name="{n}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1))
            + "</sheets></workbook>"
        ))  # fmt: skip
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(names) + 1))
            + "</Relationships>"
        ))  # fmt: skip
    return counts[0]


def _with_header(header: list[str], rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield header
    yield from rows


def write_openpyxl(sheets: list[tuple[str, list[str], Iterator[list[Any]]]], path: Path) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    counts = []
    for name, header, rows in sheets:
        ws = wb.create_sheet(name)
        ws.append(header)
        n = 0
        for row in rows:
            ws.append(row)
            n += 1
        counts.append(n)
    wb.save(path)
    return counts[0]


# ---- measurements, each in its own process -----------------------------------------------------------


def child(kind: str, folder: Path, out: Path) -> dict[str, Any]:
    from functions.bootstrap import open_app
    from functions.services.loop import consolidate

    app = open_app(folder)
    if kind == "master":
        app.paths.master.unlink(missing_ok=True)
    t0 = time.process_time()
    if kind == "idle":  # everything but the writing: what --instructions subtracts
        rows = 0
    elif kind == "master":
        rows = consolidate(app, now=NOW).activity_rows
    elif kind == "floor":
        rows = write_floor(plain_sheets(app), out)
    else:
        rows = write_openpyxl(plain_sheets(app), out)
    cpu_ms = (time.process_time() - t0) * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"cpu_ms": round(cpu_ms, 1), "activity_rows": rows, "peak_mb": round(peak_mb, 1)}


def _run_child(kind: str, folder: Path, out: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--folder", str(folder), "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _instructions(kind: str, folder: Path, out: Path) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--child", kind, "--folder", str(folder), "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{kind} under callgrind failed:\n{done.stderr[-3000:]}")
    return int(found.group(1))


def count_instructions(folder: Path, base: Path) -> dict[str, Any]:
    idle = _instructions("idle", folder, base / "idle.xlsx")
    master = _instructions("master", folder, base / "master-instr.xlsx") - idle
    floor = _instructions("floor", folder, base / "floor-instr.xlsx") - idle
    return {
        "master_instructions": master,
        "floor_instructions": floor,
        "idle_instructions": idle,
        "master_over_floor_instructions": round(master / floor, 3),
    }


def _check_floor_file(path: Path) -> None:
    """The floor's file is a workbook openpyxl opens, with the sheets and header it should have."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["活动安排", "报送情况", "统计", "问题清单"], wb.sheetnames
    first = next(wb["活动安排"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[0] and first[4], first
    wb.close()


def measure(units: int, rows: int, repeat: int, base: Path, instructions: bool = False) -> dict[str, Any]:
    from functions.bootstrap import open_app

    folder = bench_scale._campaign_folder(base, units)
    app = open_app(folder)
    t0 = time.perf_counter()
    bench_scale._fill(app, units, (rows // 2, rows + rows // 2))
    build_s = time.perf_counter() - t0
    app.store.close()
    counted = count_instructions(folder, base) if instructions else {}
    if repeat == 0:
        return {"units": units, **counted, "store_build_s": round(build_s, 1)}
    runs: dict[str, list[dict[str, Any]]] = {"master": [], "floor": [], "openpyxl": []}
    for i in range(repeat):
        for kind in runs:
            runs[kind].append(_run_child(kind, folder, base / f"{kind}-{i}.xlsx"))
    _check_floor_file(base / "floor-0.xlsx")
    counts = {kind: {r["activity_rows"] for r in rs} for kind, rs in runs.items()}
    assert counts["master"] == counts["floor"] == counts["openpyxl"], counts
    cpu = {kind: statistics.median(r["cpu_ms"] for r in rs) for kind, rs in runs.items()}
    return {
        "units": units,
        "activity_rows": counts["master"].pop(),
        "master_cpu_ms": round(cpu["master"], 1),
        "floor_cpu_ms": round(cpu["floor"], 1),
        "openpyxl_write_only_cpu_ms": round(cpu["openpyxl"], 1),
        "master_over_floor": round(cpu["master"] / cpu["floor"], 2),
        "openpyxl_over_master": round(cpu["openpyxl"] / cpu["master"], 2),
        "master_peak_mb": max(r["peak_mb"] for r in runs["master"]),
        "floor_peak_mb": max(r["peak_mb"] for r in runs["floor"]),
        "openpyxl_peak_mb": max(r["peak_mb"] for r in runs["openpyxl"]),
        "runs_cpu_ms": {kind: [r["cpu_ms"] for r in rs] for kind, rs in runs.items()},
        "runs_peak_mb": {kind: [r["peak_mb"] for r in rs] for kind, rs in runs.items()},
        **counted,
        "store_build_s": round(build_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=40, help="activities per plan, on average")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each writer (median); 0: none")
    parser.add_argument(
        "--instructions", action="store_true", help="also count master's and floor's instructions (callgrind)"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--child", choices=["master", "floor", "openpyxl", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder, args.out)))
        return
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: --instructions counts with its callgrind tool")
    if args.repeat == 0 and not args.instructions:
        raise SystemExit("--repeat 0 measures nothing without --instructions")
    with tempfile.TemporaryDirectory(prefix="huizong-bench-floor-") as tmp:
        result = measure(args.units, args.rows, args.repeat, Path(tmp), args.instructions)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else result)


if __name__ == "__main__":
    main()
