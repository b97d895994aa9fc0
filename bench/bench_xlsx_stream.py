"""Benchmark: the streaming xlsx writer against openpyxl normal mode on the same rows.

Writes N rows x 14 mixed columns (text, Chinese text, dates, datetimes, ints, floats, bools, blanks,
styled state cells) with each writer, each in its own subprocess so peak RSS is separate, and prints a
Markdown table. openpyxl write-only mode is listed too, as the other streaming reference. The streaming
writer also runs on ``--scale`` times as many rows to show that its memory stays flat, and at each of
``--levels`` (zlib compression levels) to show the speed/size trade-off.

    .venv/bin/python bench/bench_xlsx_stream.py [--rows 80000] [--scale 4] [--levels 1,6,9]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from functions.adapters.xlsx.stream import Cell, Column, StreamingWorkbook, Style  # noqa: E402

HEADER = [
    "序号",
    "单位代码",
    "单位名称",
    "活动名称",
    "活动日期",
    "提交时间",
    "参与人数",
    "时长（小时）",
    "完成率",
    "是否线上",
    "活动类型",
    "联系电话",
    "备注",
    "状态",
]
_STATES = [Style.STATE_VALID, Style.STATE_ERRORS, Style.STATE_DRAFT, Style.STATE_MISSING]
_STATE_TEXT = ["已通过", "有错误", "草稿", "未提交"]
_KINDS = ["讲座", "展演", "读书会", "体验课", "志愿服务"]


def rows(n: int) -> Iterator[list[object]]:
    start = date(2022, 10, 20)
    stamp = datetime(2022, 10, 1, 8, 0)
    for i in range(n):
        unit = i // 40
        note: object = (
            None if i % 3 else ("=见附件" if i % 7 == 0 else f"第{i % 40 + 1}项活动，社区居民参与踊跃")
        )
        yield [
            i + 1,
            f"W{unit:04d}",
            f"常州市武进区第{unit}社区教育中心",
            f"全民终身学习活动周 · 活动{i % 40 + 1}：{_KINDS[i % 5]}",
            start + timedelta(days=i % 7),
            stamp + timedelta(minutes=i),
            (i * 37) % 500,
            round((i % 17) * 0.5, 1),
            (i % 100) / 100,
            i % 2 == 0,
            _KINDS[i % 5],
            f"139{i:08d}",
            note,
            Cell(_STATE_TEXT[i % 4], _STATES[i % 4]),
        ]


def write_stream(path: Path, n: int, level: int = 6) -> None:
    columns = [Column(w) for w in (8, 10, 30, 40, 12, 17, 10, 10, 8, 8, 10, 14, 30, 10)]
    with (
        StreamingWorkbook(path, title="bench", compresslevel=level) as book,
        book.sheet("活动", columns=columns, header=HEADER) as ws,
    ):
        for row in rows(n):
            ws.append(row)


def write_openpyxl(path: Path, n: int, level: int = 6) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "活动"
    ws.append(HEADER)
    for row in rows(n):
        ws.append([v.value if isinstance(v, Cell) else v for v in row])
    wb.save(path)


def write_openpyxl_write_only(path: Path, n: int, level: int = 6) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("活动")
    ws.append(HEADER)
    for row in rows(n):
        ws.append([v.value if isinstance(v, Cell) else v for v in row])
    wb.save(path)


WRITERS = {
    "xlsx_stream": write_stream,
    "openpyxl normal": write_openpyxl,
    "openpyxl write-only": write_openpyxl_write_only,
}


def worker(name: str, n: int, level: int, out: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    WRITERS[name](out, n, level)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "peak_kib": peak, "base_kib": before, "bytes": out.stat().st_size}))


def run(name: str, n: int, level: int, folder: Path) -> dict[str, float]:
    out = folder / f"{name.replace(' ', '_')}-{n}-{level}.xlsx"
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--rows",
        str(n),
        "--level",
        str(level),
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=80_000)
    parser.add_argument("--scale", type=int, default=4, help="also run the streaming writer on rows x scale")
    parser.add_argument("--levels", default="1,6,9", help="compression levels for the streaming writer")
    parser.add_argument("--worker", choices=sorted(WRITERS), help=argparse.SUPPRESS)
    parser.add_argument("--level", type=int, default=6, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rows, args.level, args.out)
        return
    # The first two entries are the ones the speed-up line compares: the default level against openpyxl.
    plan = [("xlsx_stream", args.rows, 6), ("openpyxl normal", args.rows, 6)]
    plan.append(("openpyxl write-only", args.rows, 6))
    plan += [("xlsx_stream", args.rows, int(x)) for x in args.levels.split(",") if x and int(x) != 6]
    if args.scale > 1:
        plan.append(("xlsx_stream", args.rows * args.scale, 6))
    with tempfile.TemporaryDirectory() as tmp:
        results = [(name, n, level, run(name, n, level, Path(tmp))) for name, n, level in plan]
    print("| writer | zlib level | rows | seconds | rows/s | peak RSS MiB | RSS growth MiB | file MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, level, r in results:
        shown = level if name == "xlsx_stream" else "6 (fixed)"
        print(
            f"| {name} | {shown} | {n:,} | {r['seconds']:.2f} | {n / r['seconds']:,.0f} "
            f"| {r['peak_kib'] / 1024:.1f} | {(r['peak_kib'] - r['base_kib']) / 1024:.1f} "
            f"| {r['bytes'] / 2**20:.2f} |"
        )
    stream, baseline = results[0][3], results[1][3]
    print(f"\nspeed-up over openpyxl normal mode: {baseline['seconds'] / stream['seconds']:.1f}x")


if __name__ == "__main__":
    main()
