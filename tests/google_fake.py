"""An in-memory Google Drive v3 + Sheets v4, answering through `responses`, for the poll's end-to-end tests.

It keeps what the real services keep and the poll depends on: files with parents, modifiedTime and
lastModifyingUser (``me`` for the service account, a unit's address for a unit's edit); tabs with values
and notes; the values API's A1 ranges (open-ended rows, trailing empties left out, "values" omitted when a
range is empty). Every write moves the file's modifiedTime forward. A request it does not know is refused
with 400/501, so a request shaped wrongly fails the test instead of passing silently, and nothing leaves
the machine (responses refuses any URL not registered).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import responses
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from functions.adapters.google.http import operation_name

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
EPOCH = dt.date(1899, 12, 30)
_RANGE = re.compile(r"^'((?:[^']|'')+)'!([A-Z]+)(\d+)?(?::([A-Z]+)(\d+)?)?$")
_SIMPLE_KINDS = {
    "updateDimensionProperties",
    "setDataValidation",
    "addProtectedRange",
    "addNamedRange",
    "mergeCells",
    "updateBorders",
    "autoResizeDimensions",
}


def serial(day: dt.date) -> int:
    """A date as Sheets stores it (UNFORMATTED_VALUE + SERIAL_NUMBER)."""
    return (day - EPOCH).days


def _error(code: int, message: str, status: str = "INVALID_ARGUMENT") -> tuple[int, dict[str, Any]]:
    return code, {"error": {"code": code, "message": message, "status": status}}


@dataclass
class Tab:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    hidden: bool = False
    frozen: int = 0
    values: dict[tuple[int, int], Any] = field(default_factory=dict)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    filter: dict[str, Any] | None = None

    def grid(self) -> list[list[Any]]:
        last = max((r for r, _ in self.values), default=-1)
        out = []
        for r in range(last + 1):
            row = [self.values.get((r, c)) for c in range(self.cols)]
            while row and row[-1] is None:
                row.pop()
            out.append(row)
        return out

    def note(self, a1: str) -> str | None:
        return self.notes.get(_cell(a1))

    def value(self, a1: str) -> Any:
        return self.values.get(_cell(a1))


def _cell(a1: str) -> tuple[int, int]:
    m = re.match(r"^([A-Z]+)(\d+)$", a1)
    assert m, a1
    return int(m.group(2)) - 1, column_index_from_string(m.group(1)) - 1


def _entered(cell: dict[str, Any]) -> Any:
    v = cell.get("userEnteredValue")
    if not v:
        return None
    ((kind, value),) = v.items()
    return value if kind != "formulaValue" else f"={value.lstrip('=')}"


class FakeGoogle:
    SA_EMAIL = "huizong@wujin-test.iam.gserviceaccount.com"

    def __init__(self, mock: responses.RequestsMock, *, folder_id: str = "FOLDER123") -> None:
        self.mock = mock
        self.folder_id = folder_id
        self.folder = {"id": folder_id, "name": "活动周报送", "driveId": "0AShared",
                       "capabilities": {"canAddChildren": True}}  # fmt: skip
        self.files: dict[str, dict[str, Any]] = {}
        self.tabs: dict[str, dict[int, Tab]] = {}
        self.permissions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]], Any]] = []
        self.fail: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.clock = dt.datetime(2022, 11, 15, 1, 0, tzinfo=dt.UTC)
        self._created = 0
        pattern = re.compile(r"https://(www|sheets)\.googleapis\.com/.*")
        for method in ("GET", "POST", "PATCH", "DELETE"):
            mock.add_callback(method, pattern, callback=self._answer)

    # --- what tests use ---------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        return Counter(r[0] for r in self.requests)

    def reset_counts(self) -> None:
        self.requests.clear()

    def bodies(self, op: str) -> list[Any]:
        return [r[3] for r in self.requests if r[0] == op]

    def queries(self, op: str) -> list[dict[str, list[str]]]:
        return [r[2] for r in self.requests if r[0] == op]

    def failing(self, op: str, status: int, times: int = 1, reason: str = "backendError") -> None:
        err = {"error": {"code": status, "message": f"{reason} (test)", "errors": [{"reason": reason}]}}
        self.fail.setdefault(op, []).extend([(status, err)] * times)

    def tab(self, sid: str, title: str) -> Tab:
        return next(t for t in self.tabs[sid].values() if t.title == title)

    def tick(self, seconds: float = 1.0) -> dt.datetime:
        self.clock += dt.timedelta(seconds=seconds)
        return self.clock

    def user_edit(self, sid: str, title: str, cells: dict[str, Any], *, email: str) -> None:
        """A unit typing into its sheet in the browser: values change, the file's last modifier is the unit."""
        tab = self.tab(sid, title)
        for a1, value in cells.items():
            if isinstance(value, dt.date):
                value = serial(value)
            if value is None or value == "":
                tab.values.pop(_cell(a1), None)
            else:
                tab.values[_cell(a1)] = value
        self._touched(sid, me=False, email=email)

    def user_rows(self, sid: str, title: str, first_row: int, rows: list[list[Any]], *, email: str) -> None:
        cells = {
            f"{get_column_letter(c + 1)}{first_row + r}": v
            for r, row in enumerate(rows)
            for c, v in enumerate(row)
        }
        self.user_edit(sid, title, cells, email=email)

    def trash(self, sid: str) -> None:
        self.files[sid]["trashed"] = True

    # --- plumbing ---------------------------------------------------------------------------------

    def _touched(self, sid: str, *, me: bool, email: str = "") -> None:
        f = self.files[sid]
        f["modifiedTime"] = self.tick()
        f["lastModifyingUser"] = {"me": me, "emailAddress": self.SA_EMAIL if me else email}

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        assert request.headers["Authorization"] == "Bearer test-token"
        op = operation_name(request.method, request.url)
        raw = request.body or b""
        body = json.loads(raw) if raw else None
        query = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
        self.requests.append((op, request.url, query, body))
        if self.fail.get(op):
            status, err = self.fail[op].pop(0)
            return status, {"Content-Type": "application/json"}, json.dumps(err)
        path = unquote(urlsplit(request.url).path)
        handler = {
            "drive.files.get": self._files_get,
            "drive.files.list": self._files_list,
            "drive.files.create": self._files_create,
            "drive.permissions.create": self._permissions_create,
            "sheets.get": self._sheets_get,
            "sheets.batchUpdate": self._batch_update,
            "sheets.values.batchGet": self._values_get,
            "sheets.values.batchUpdate": self._values_update,
            "sheets.values.batchClear": self._values_clear,
        }.get(op)
        if handler is None:
            return 501, {}, json.dumps({"error": {"code": 501, "message": f"not faked: {op}"}})
        status, reply = handler(path, query, body)
        return status, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False)

    def _sid(self, path: str) -> str:
        return path.split("/")[3].split(":")[0]

    def _missing(self, sid: str) -> tuple[int, dict[str, Any]] | None:
        if sid not in self.tabs or self.files[sid].get("trashed"):
            return _error(404, "Requested entity was not found.", "NOT_FOUND")
        return None

    # --- Drive ------------------------------------------------------------------------------------

    def _files_get(self, path: str, q: dict[str, list[str]], _b: Any) -> tuple[int, dict[str, Any]]:
        if path.rsplit("/", 1)[1] != self.folder_id:
            return 404, {
                "error": {"code": 404, "message": "File not found.", "errors": [{"reason": "notFound"}]}
            }
        return 200, self.folder

    def _matches(self, f: dict[str, Any], clause: str) -> bool:
        clause = clause.strip()
        if m := re.fullmatch(r"'([^']+)' in parents", clause):
            return m.group(1) in f["parents"]
        if m := re.fullmatch(r"mimeType = '([^']+)'", clause):
            return f["mimeType"] == m.group(1)
        if clause == "trashed = false":
            return not f.get("trashed")
        if m := re.fullmatch(r"name = '((?:[^'\\]|\\.)*)'", clause):
            return f["name"] == re.sub(r"\\(.)", r"\1", m.group(1))
        if m := re.fullmatch(r"modifiedTime (>|>=) '([^']+)'", clause):
            since = dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
            return f["modifiedTime"] > since if m.group(1) == ">" else f["modifiedTime"] >= since
        raise AssertionError(f"query clause not understood: {clause!r}")

    def _files_list(self, _p: str, q: dict[str, list[str]], _b: Any) -> tuple[int, dict[str, Any]]:
        assert q["supportsAllDrives"] == ["true"] and q["includeItemsFromAllDrives"] == ["true"]
        clauses = q["q"][0].split(" and ")
        found = [f for f in self.files.values() if all(self._matches(f, c) for c in clauses)]
        if q.get("orderBy") == ["modifiedTime"]:
            found.sort(key=lambda f: f["modifiedTime"])
        size = int(q.get("pageSize", ["100"])[0])
        start = int(q.get("pageToken", ["0"])[0])
        page = found[start : start + size]
        out: dict[str, Any] = {
            "files": [
                {
                    "id": f["id"],
                    "name": f["name"],
                    "webViewLink": f["webViewLink"],
                    "modifiedTime": f["modifiedTime"].strftime("%Y-%m-%dT%H:%M:%S.")
                    + f"{f['modifiedTime'].microsecond // 1000:03d}Z",
                    "lastModifyingUser": {**f["lastModifyingUser"], "kind": "drive#user"},
                }
                for f in page
            ]
        }
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        return 200, out

    def _files_create(self, _p: str, q: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        assert body["mimeType"] == SPREADSHEET_MIME
        self._created += 1
        fid = f"1Sheet{self._created:04d}Abc"
        link = f"https://docs.google.com/spreadsheets/d/{fid}/edit?usp=drivesdk"
        self.files[fid] = {"id": fid, "name": body["name"], "mimeType": SPREADSHEET_MIME,
                           "parents": body.get("parents", []), "webViewLink": link}  # fmt: skip
        self.tabs[fid] = {0: Tab(0, "工作表1", 0)}  # what Drive gives a new spreadsheet
        self._touched(fid, me=True)
        return 200, {"id": fid, "name": body["name"], "webViewLink": link}

    def _permissions_create(
        self, path: str, q: dict[str, list[str]], body: Any
    ) -> tuple[int, dict[str, Any]]:
        self.permissions.append({"file": path.split("/")[-2], "query": q, "body": body})
        return 200, {"kind": "drive#permission", "id": f"perm{len(self.permissions)}", "type": "user",
                     "role": body["role"]}  # fmt: skip

    # --- Sheets -----------------------------------------------------------------------------------

    def _sheets_get(self, path: str, _q: dict[str, list[str]], _b: Any) -> tuple[int, dict[str, Any]]:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        sheets = []
        for t in sorted(self.tabs[sid].values(), key=lambda t: t.index):
            props = {"sheetId": t.sheet_id, "title": t.title, "index": t.index,
                     "gridProperties": {"rowCount": t.rows, "columnCount": t.cols}}  # fmt: skip
            entry: dict[str, Any] = {"properties": props}
            if t.rules:
                entry["conditionalFormats"] = [{"ranges": r["ranges"]} for r in t.rules]
            sheets.append(entry)
        return 200, {"spreadsheetId": sid, "sheets": sheets}

    def _area(self, tab: Tab, g: dict[str, int]) -> list[tuple[int, int]]:
        r0, r1 = g.get("startRowIndex", 0), g.get("endRowIndex", tab.rows)
        c0, c1 = g.get("startColumnIndex", 0), g.get("endColumnIndex", tab.cols)
        return [(r, c) for r in range(r0, r1) for c in range(c0, c1)]

    def _set_cell(self, tab: Tab, rc: tuple[int, int], cell: dict[str, Any], fields: str) -> None:
        if fields == "*" or "userEnteredValue" in fields.split(","):
            value = _entered(cell)
            if value is None:
                tab.values.pop(rc, None)
            else:
                tab.values[rc] = value
        if fields == "*" or "note" in fields.split(","):
            if cell.get("note"):
                tab.notes[rc] = cell["note"]
            else:
                tab.notes.pop(rc, None)

    def _batch_update(self, path: str, _q: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        tabs = self.tabs[sid]
        replies: list[dict[str, Any]] = []
        # Google applies a batchUpdate atomically: work on copies, keep them only if every request applies.
        staged = {k: Tab(**{**t.__dict__, "values": dict(t.values), "notes": dict(t.notes),
                            "rules": list(t.rules)}) for k, t in tabs.items()}  # fmt: skip
        for n, req in enumerate(body["requests"]):
            ((kind, spec),) = req.items()
            where = f"Invalid requests[{n}].{kind}"
            if kind == "addSheet":
                p = spec["properties"]
                if p["sheetId"] in staged or any(t.title == p["title"] for t in staged.values()):
                    return _error(400, f'{where}: A sheet with the name "{p["title"]}" already exists.')
                g = p.get("gridProperties", {})
                tab = Tab(p["sheetId"], p["title"], p.get("index", len(staged)), g.get("rowCount", 1000),
                          g.get("columnCount", 26), p.get("hidden", False), g.get("frozenRowCount", 0))  # fmt: skip
                for other in staged.values():
                    other.index += other.index >= tab.index
                staged[tab.sheet_id] = tab
                replies.append({"addSheet": {"properties": {**p, "sheetType": "GRID"}}})
                continue
            if kind == "updateSheetProperties":
                p = spec["properties"]
                tab = staged[p["sheetId"]]
                fields = spec["fields"].split(",")
                if "title" in fields:
                    tab.title = p["title"]
                g = p.get("gridProperties", {})
                if any(f.startswith("gridProperties") for f in fields):
                    tab.rows = g.get("rowCount", tab.rows)
                    tab.cols = g.get("columnCount", tab.cols)
                    tab.frozen = g.get("frozenRowCount", tab.frozen)
                    tab.values = {k: v for k, v in tab.values.items() if k[0] < tab.rows and k[1] < tab.cols}
                if "index" in fields:
                    old = tab.index
                    for other in staged.values():
                        if other is not tab:
                            other.index -= other.index > old
                            other.index += other.index >= p["index"]
                    tab.index = p["index"]
            elif kind == "updateCells":
                fields = spec["fields"]
                if "rows" in spec:
                    start = spec["start"]
                    tab = staged.get(start["sheetId"])
                    if tab is None:
                        return _error(400, f"{where}: No grid with id: {start['sheetId']}")
                    for r, row in enumerate(spec["rows"]):
                        for c, cell in enumerate(row.get("values", [])):
                            rc = (start["rowIndex"] + r, start["columnIndex"] + c)
                            if rc[0] >= tab.rows or rc[1] >= tab.cols:
                                return _error(400, f"{where}: Range exceeds grid limits.")
                            self._set_cell(tab, rc, cell, fields)
                else:
                    tab = staged[spec["range"]["sheetId"]]
                    for rc in self._area(tab, spec["range"]):
                        self._set_cell(tab, rc, {}, fields)
            elif kind == "repeatCell":
                tab = staged.get(spec["range"]["sheetId"])
                if tab is None:
                    return _error(400, f"{where}: No grid with id: {spec['range']['sheetId']}")
                fields = spec["fields"]
                if "note" in fields.split(",") or "userEnteredValue" in fields.split(","):
                    for rc in self._area(tab, spec["range"]):
                        self._set_cell(tab, rc, spec["cell"], fields)
            elif kind == "deleteSheet":
                if len(staged) == 1:
                    return _error(400, f"{where}: You can't remove all the sheets in a document.")
                gone = staged.pop(spec["sheetId"])
                for other in staged.values():
                    other.index -= other.index > gone.index
            elif kind == "addConditionalFormatRule":
                rule = spec["rule"]
                staged[rule["ranges"][0]["sheetId"]].rules.insert(spec["index"], rule)
            elif kind == "deleteConditionalFormatRule":
                tab = staged[spec["sheetId"]]
                if spec["index"] >= len(tab.rules):
                    return _error(400, f"{where}: No conditional format on sheet {tab.sheet_id}")
                tab.rules.pop(spec["index"])
            elif kind == "setBasicFilter":
                staged[spec["filter"]["range"]["sheetId"]].filter = spec["filter"]
            elif kind not in _SIMPLE_KINDS:
                return _error(400, f"{where}: not faked")
            replies.append({})
        self.tabs[sid] = staged
        self._touched(sid, me=True)
        return 200, {"spreadsheetId": sid, "replies": replies}

    def _range(self, sid: str, a1: str) -> tuple[Tab, int, int, int | None, int | None] | None:
        m = _RANGE.match(a1)
        assert m, a1
        title = m.group(1).replace("''", "'")
        tab = next((t for t in self.tabs[sid].values() if t.title == title), None)
        if tab is None:
            return None
        c0 = column_index_from_string(m.group(2)) - 1
        r0 = int(m.group(3)) - 1 if m.group(3) else 0
        c1 = column_index_from_string(m.group(4)) if m.group(4) else c0 + 1
        r1 = int(m.group(5)) if m.group(5) else (None if m.group(4) else r0 + 1)
        return tab, r0, c0, r1, c1

    def _values_get(self, path: str, q: dict[str, list[str]], _b: Any) -> tuple[int, dict[str, Any]]:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        assert q["valueRenderOption"] == ["UNFORMATTED_VALUE"] and q["majorDimension"] == ["ROWS"]
        out = []
        for a1 in q["ranges"]:
            found = self._range(sid, a1)
            if found is None:
                return _error(400, f"Unable to parse range: {a1}")
            tab, r0, c0, r1, c1 = found
            r1 = tab.rows if r1 is None else min(r1, tab.rows)
            rows = []
            for r in range(r0, r1):
                row = [tab.values.get((r, c), "") for c in range(c0, c1 or tab.cols)]
                while row and row[-1] == "":
                    row.pop()
                rows.append(row)
            while rows and not rows[-1]:
                rows.pop()
            entry: dict[str, Any] = {"range": a1, "majorDimension": "ROWS"}
            if rows:
                entry["values"] = rows
            out.append(entry)
        return 200, {"spreadsheetId": sid, "valueRanges": out}

    def _values_update(self, path: str, _q: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        assert body["valueInputOption"] == "RAW"
        for block in body["data"]:
            found = self._range(sid, block["range"])
            assert found is not None, block["range"]
            tab, r0, c0, _r1, _c1 = found
            rows = block["values"]
            if r0 + len(rows) > tab.rows or c0 + max((len(r) for r in rows), default=0) > tab.cols:
                return _error(400, f"Range ({block['range']}) exceeds grid limits.")
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v == "":
                        tab.values.pop((r0 + r, c0 + c), None)
                    else:
                        tab.values[(r0 + r, c0 + c)] = v
        self._touched(sid, me=True)
        return 200, {
            "spreadsheetId": sid,
            "totalUpdatedCells": sum(len(r) for b in body["data"] for r in b["values"]),
        }

    def _values_clear(self, path: str, _q: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        sid = self._sid(path)
        for a1 in body["ranges"]:
            found = self._range(sid, a1)
            if found is None:
                continue
            tab, r0, c0, r1, c1 = found
            for rc in self._area(tab, {"startRowIndex": r0, "endRowIndex": r1 or tab.rows,
                                       "startColumnIndex": c0, "endColumnIndex": c1 or tab.cols}):  # fmt: skip
                tab.values.pop(rc, None)
        self._touched(sid, me=True)
        return 200, {"spreadsheetId": sid, "clearedRanges": body["ranges"]}
