"""Count the Google API calls of one poll cycle and of one master publish; prints a Markdown table.

    .venv/bin/python bench/bench_google_calls.py [--units 2000] [--changed 50] [--rows 5 10 20]

No network: a counting fake transport (`responses` callbacks) answers every request with a reply shaped
like the Drive v3 / Sheets v4 reference, and refuses anything else. The numbers come from the budgeted
HTTP client's own per-operation counts, the same ones a real run reports. Targets (issue 4): a poll over
2,000 unit sheets with 50 changed costs at most 2 Drive list calls, 50 reads and 50 writes; publishing a
2,000-unit master costs at most 10 calls. The table goes into docs/benchmarks-google.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import responses
from google.oauth2.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.adapters.google.http import operation_name  # noqa: E402
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

NOW = dt.datetime(2022, 11, 23, 10, 0, tzinfo=dt.UTC)
CURSOR = "2022-11-23T01:00:00.000Z"
_EPOCH = dt.date(1899, 12, 30)
_RANGE_TAB = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))(?:!.*)?$")


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
    session = build_session(Credentials(token="bench-token"), app.campaign.google)
    session.http.sleep = lambda _s: None
    return session


# --- the counting fake transport ---------------------------------------------------------------------------


def _reply(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body, ensure_ascii=False)


class CountingGoogle:
    """Answers what a poll and a publish ask, in the reference's shapes; counts calls and body sizes."""

    def __init__(self, mock: responses.RequestsMock, app: App) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.largest_body = 0
        self.values_bytes = 0
        self.values_compact = 0
        self.changed: list[dict[str, str]] = []  # files.list answers (id, name, modifiedTime)
        self.unit_of: dict[str, str] = {}  # spreadsheet id -> unit code
        self.tabs: dict[str, list[dict[str, Any]]] = {}  # spreadsheet id -> sheets[].properties
        pattern = re.compile(r"https://(www|sheets)\.googleapis\.com/.*")
        for method in (responses.GET, responses.POST, responses.PATCH):
            mock.add_callback(method, pattern, callback=self._answer)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        op = operation_name(request.method, request.url)
        self.calls[op] += 1
        raw = request.body or b""
        self.largest_body = max(self.largest_body, len(raw))
        body = json.loads(raw) if raw else None
        if op == "sheets.values.batchUpdate":
            # What the same values would weigh as compact UTF-8 JSON instead of requests' ASCII escapes.
            self.values_bytes += len(raw)
            self.values_compact += len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
        query = parse_qs(urlsplit(request.url).query)
        path = unquote(urlsplit(request.url).path)
        sid = path.split("/")[3].split(":")[0] if "/v4/spreadsheets/" in path else ""
        if op == "drive.files.list":
            return self._files_list(query)
        if op == "drive.files.create":
            fid = f"1Master{self.calls[op]:03d}"
            self.tabs[fid] = [{"sheetId": 0, "title": "Sheet1", "index": 0,
                               "gridProperties": {"rowCount": 1000, "columnCount": 26}}]  # fmt: skip
            return _reply(200, {"id": fid, "name": body["name"],
                                "webViewLink": f"https://docs.google.com/spreadsheets/d/{fid}/edit"})  # fmt: skip
        if op == "drive.permissions.create":
            return _reply(200, {"kind": "drive#permission", "id": f"p{self.calls[op]}", "type": "user",
                                "role": body["role"]})  # fmt: skip
        if op == "drive.files.get":
            return _reply(200, {"id": path.rsplit("/", 1)[1], "modifiedTime": NOW.isoformat()})
        if op == "sheets.get":
            return _reply(200, {"sheets": [{"properties": p} for p in self.tabs.get(sid, [])]})
        if op == "sheets.batchUpdate":
            return self._batch_update(sid, body["requests"])
        if op == "sheets.values.batchGet":
            return self._batch_get(sid, query.get("ranges", []))
        if op == "sheets.values.batchUpdate":
            cells = sum(len(r) for block in body["data"] for r in block["values"])
            rows = sum(len(block["values"]) for block in body["data"])
            return _reply(200, {"spreadsheetId": sid, "totalUpdatedRows": rows, "totalUpdatedCells": cells,
                                "totalUpdatedSheets": len({b["range"].split("!")[0] for b in body["data"]}),
                                "responses": [{"spreadsheetId": sid, "updatedRange": b["range"]}
                                              for b in body["data"]]})  # fmt: skip
        return _reply(501, {"error": {"code": 501, "message": f"not faked: {op}"}})

    def _files_list(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], str]:
        size = int(query.get("pageSize", ["100"])[0])
        start = int(query.get("pageToken", ["0"])[0])
        page: dict[str, Any] = {"files": self.changed[start : start + size]}
        if start + size < len(self.changed):
            page["nextPageToken"] = str(start + size)
        return _reply(200, page)

    def _batch_update(self, sid: str, requests: list[dict[str, Any]]) -> tuple[int, dict[str, str], str]:
        replies: list[dict[str, Any]] = []
        tabs = self.tabs.setdefault(sid, [])
        for req in requests:
            kind, spec = next(iter(req.items()))
            if kind == "addSheet":
                tabs.append(spec["properties"])
                replies.append({"addSheet": {"properties": {**spec["properties"], "sheetType": "GRID"}}})
                continue
            if kind == "deleteSheet":
                tabs[:] = [t for t in tabs if t["sheetId"] != spec["sheetId"]]
            replies.append({})
        return _reply(200, {"spreadsheetId": sid, "replies": replies})

    def _batch_get(self, sid: str, ranges: list[str]) -> tuple[int, dict[str, str], str]:
        """A unit's filled sheet: identity and a ticked 提交 box on the instructions tab, data in the tables."""
        campaign, lang = self.app.campaign, self.app.campaign.language
        unit = self.app.roster.get(self.unit_of[sid])
        assert unit is not None
        day = (campaign.week.start - _EPOCH).days  # UNFORMATTED_VALUE / SERIAL_NUMBER dates
        tables = {t.title(lang): t for t in campaign.tables_of("plan")}
        out = []
        for a1 in ranges:
            m = _RANGE_TAB.match(a1)
            title = (m.group(1) or "").replace("''", "'") if m and m.group(1) else (m.group(2) if m else a1)
            values: list[list[Any]]
            if title == layout.INSTRUCTIONS_SHEET[lang]:
                values = [[campaign.title], [],
                          [layout.IDENTITY_LABELS["unit_code"][lang], unit.code, "", gl.SUBMIT_LABEL[lang], True],
                          [layout.IDENTITY_LABELS["unit_name"][lang], unit.name, "", gl.STATUS_LABEL[lang], ""]]  # fmt: skip
            elif title == layout.META_SHEET:
                meta = {"campaign_id": campaign.id, "unit_code": unit.code, "unit_name": unit.name,
                        "deliverable": "plan", "template_version": layout.TEMPLATE_VERSION, "language": lang}  # fmt: skip
                values = [[k, meta[k]] for k in layout.META_KEYS]
            elif title in tables and tables[title].kind == "rows":
                fields = tables[title].fields
                values = [[f.label(lang) for f in fields]]
                for i in range(1, 6):
                    record = activity(i, campaign.week.start) | {
                        "start_date": day,
                        "audience": "社区居民、老年人",
                    }
                    values.append([record.get(f.key, "") for f in fields])
            elif title in tables:
                answers = {
                    "work_plan_url": "https://example.org/plan",
                    "filled_by": "张老师",
                    "phone": "13812345678",
                }
                values = [list(layout.RECORD_HEADER[lang])]
                values += [[f.label(lang), answers.get(f.key, ""), ""] for f in tables[title].fields]
            else:
                values = []
            out.append({"range": a1, "majorDimension": "ROWS", "values": values})
        return _reply(200, {"spreadsheetId": sid, "valueRanges": out})


# --- scenarios ---------------------------------------------------------------------------------------------


def poll_cycle(base: Path, units: int, changed: int) -> list[dict[str, Any]]:
    app = open_app(campaign_folder(base, units), store=MemoryStore())
    out = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        google = CountingGoogle(mock, app)
        for i, u in enumerate(app.roster.units):
            sid = f"1Unit{i:05d}"
            claim_sheet(app.store, u.code, "plan", at=NOW)
            save_sheet(app.store, SheetRecord(unit=u.code, deliverable="plan", spreadsheet_id=sid,
                                              url=f"https://docs.google.com/spreadsheets/d/{sid}/edit",
                                              title=f"{app.campaign.title}-{u.name}-plan", created_at=NOW))  # fmt: skip
            google.unit_of[sid] = u.code
        app.store.set_meta(CURSOR_META, CURSOR)
        step = max(1, units // changed)
        google.changed = [
            {
                "id": f"1Unit{i:05d}",
                "name": f"sheet {i}",
                "modifiedTime": f"2022-11-23T09:{n % 60:02d}:00.000Z",
            }
            for n, i in enumerate(range(0, step * changed, step))
        ]
        # The next cycle lists the same files again, now last changed by the poll's own write-back.
        own = [f | {"modifiedTime": f"2022-11-23T10:{n % 60:02d}:00.000Z", "lastModifyingUser": {"me": True}}
               for n, f in enumerate(google.changed)]  # fmt: skip
        for label, files in ((f"poll: {units} unit sheets, {changed} changed", google.changed), (
                f"poll again: {units} unit sheets, only its own {changed} write-backs changed", own)):  # fmt: skip
            google.changed = files
            session = session_for(app)
            t0 = time.perf_counter()
            result = run_poll(app, session, now=NOW)
            seconds = time.perf_counter() - t0
            out.append({"scenario": label, "calls": dict(session.http.counts), "seconds": seconds,
                        "largest_body": google.largest_body, "result": str(result)[:200]})  # fmt: skip
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
        google = CountingGoogle(mock, app)
        for label in (f"publish master, first time: {units} units × {rows} activities",
                      f"publish master again: {units} units × {rows} activities"):  # fmt: skip
            session = session_for(app)
            google.largest_body = google.values_bytes = google.values_compact = 0
            t0 = time.perf_counter()
            result = publish_master(app, session, now=NOW)
            seconds = time.perf_counter() - t0
            assert result.complete, result.stopped
            out.append({"scenario": label, "calls": dict(session.http.counts), "seconds": seconds,
                        "largest_body": google.largest_body,
                        "rows": sum(result.rows.values()), "values_mb": google.values_bytes / 1e6,
                        "compact_mb": google.values_compact / 1e6})  # fmt: skip
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
