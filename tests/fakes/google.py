"""The one in-memory Google Drive v3 + Sheets v4 of the tests and the benches.

It keeps what the real services keep and the code depends on: files with parents, modifiedTime and
lastModifyingUser (``me`` for the service account, a unit's address for a unit's edit); tabs with grid
sizes, values, notes, number formats, conditional-format rules and a basic filter; permissions; the values
API's A1 ranges (open-ended rows, trailing empties left out, "values" omitted when a range is empty). Every
write moves the file's modifiedTime forward. A batchUpdate is applied all or nothing, and what the real API
refuses is refused the same way (values beyond the grid, freezing every row, deleting the last tab or a
rule that is not there, a second tab of the same name). A request it does not know is answered 501, so a
request shaped wrongly fails the test instead of passing silently.

Every request is also checked against Google's discovery documents of Sheets v4 and Drive v3
(tests/helpers/google_discovery.py): method and path, query parameters, body schema, enums, deprecated
fields, update masks. One the real API would refuse is answered 400 and kept in DISCOVERY_VIOLATIONS, which
tests/conftest.py turns into a failure of the test that sent it, even where the code swallows the 400.

Two ways in, one state:

* over HTTP: ``FakeGoogle(mock)`` answers every www/sheets.googleapis.com request of a
  ``responses.RequestsMock`` (which refuses any URL not registered, so nothing leaves the machine), for the
  integration tests that exercise gspread, google-auth and requests as well;
* in memory: ``FakeGoogle().session(settings)`` is the real ``GoogleSession`` (budget, retries, counts
  included) whose requests' Session is replaced by :class:`InMemoryTransport`: the request is prepared by
  requests exactly as it would be sent, then answered by the same fake, without any HTTP library mock.

tests/contract/google_contract.py holds the behaviours both ways must show (and a real Google with them).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import responses
from google.oauth2.credentials import Credentials
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from functions.adapters.google.http import operation_name
from functions.adapters.google.session import GoogleSession, build_session
from schemas.google import GoogleSettings
from tests.helpers.google_discovery import check_request

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
TOKEN = "test-token"
SA_EMAIL = "huizong@wujin-test.iam.gserviceaccount.com"
EPOCH = dt.date(1899, 12, 30)
GOOGLE_URLS = re.compile(r"https://(www|sheets)\.googleapis\.com/.*")
# Requests any FakeGoogle of this process got that the real API would refuse (see the module docstring).
DISCOVERY_VIOLATIONS: list[str] = []
_RANGE = re.compile(r"^'((?:[^']|'')+)'!([A-Z]+)(\d+)?(?::([A-Z]+)(\d+)?)?$")
# Requests the fake accepts without keeping what they set (the tests read them from the request bodies).
_SIMPLE_KINDS = {
    "updateDimensionProperties",
    "setDataValidation",
    "mergeCells",
    "updateBorders",
    "autoResizeDimensions",
}

Reply = tuple[int, dict[str, Any]]
Cell = tuple[int, int]


def serial(day: dt.date) -> int:
    """A date as Sheets stores it (UNFORMATTED_VALUE + SERIAL_NUMBER)."""
    return (day - EPOCH).days


def _error(code: int, message: str, status: str = "INVALID_ARGUMENT") -> Reply:
    return code, {"error": {"code": code, "message": message, "status": status}}


def _cell(a1: str) -> Cell:
    m = re.match(r"^([A-Z]+)(\d+)$", a1)
    assert m, a1
    return int(m.group(2)) - 1, column_index_from_string(m.group(1)) - 1


def _entered(cell: dict[str, Any]) -> Any:
    v = cell.get("userEnteredValue")
    if not v:
        return None
    ((kind, value),) = v.items()
    return value if kind != "formulaValue" else f"={value.lstrip('=')}"


def _mask(fields: str) -> set[str]:
    """A field mask as a set of paths; "userEnteredFormat(a,b)" becomes userEnteredFormat.a, .b."""
    if fields.strip() == "*":
        return {"*"}
    out: set[str] = set()
    for m in re.finditer(r"([A-Za-z.]+)(?:\(([^)]*)\))?", fields):
        if m.group(2) is None:
            out.add(m.group(1))
        else:
            out.update(f"{m.group(1)}.{sub.strip()}" for sub in m.group(2).split(","))
    return out


def _covers(mask: set[str], path: str) -> bool:
    """Whether the mask names `path` or a field containing it ("*" names everything)."""
    parts = path.split(".")
    return "*" in mask or any(".".join(parts[: i + 1]) in mask for i in range(len(parts)))


class Call(NamedTuple):
    """One request as the fake received it: operation name, URL, query, parsed JSON body, body size."""

    op: str
    url: str
    query: dict[str, list[str]]
    body: Any
    size: int


@dataclass
class Tab:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    hidden: bool = False
    frozen: int = 0
    values: dict[Cell, Any] = field(default_factory=dict)
    notes: dict[Cell, str] = field(default_factory=dict)
    number_formats: dict[Cell, dict[str, str]] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    filter: dict[str, Any] | None = None

    def copy(self) -> Tab:
        return replace(self, values=dict(self.values), notes=dict(self.notes),
                       number_formats=dict(self.number_formats), rules=list(self.rules))  # fmt: skip

    def grid(self) -> list[list[Any]]:
        """The values as rows, None for an empty cell, trailing empties cut (as a reader sees the tab)."""
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

    def number_format(self, a1: str) -> dict[str, str] | None:
        return self.number_formats.get(_cell(a1))

    def _drop_outside(self) -> None:
        for kept in (self.values, self.notes, self.number_formats):
            for rc in [rc for rc in kept if rc[0] >= self.rows or rc[1] >= self.cols]:
                del kept[rc]


def _area(tab: Tab, g: dict[str, int]) -> tuple[int, int, int, int]:
    return (g.get("startRowIndex", 0), min(g.get("endRowIndex", tab.rows), tab.rows),
            g.get("startColumnIndex", 0), min(g.get("endColumnIndex", tab.cols), tab.cols))  # fmt: skip


def _inside(rc: Cell, area: tuple[int, int, int, int]) -> bool:
    r0, r1, c0, c1 = area
    return r0 <= rc[0] < r1 and c0 <= rc[1] < c1


class FakeGoogle:
    SA_EMAIL = SA_EMAIL
    TOKEN = TOKEN

    def __init__(
        self,
        mock: responses.RequestsMock | None = None,
        *,
        folder_id: str = "FOLDER123",
        token: str = TOKEN,
        file_prefix: str = "1Sheet",
        check_discovery: bool = True,
    ) -> None:
        self.mock = mock
        # Off only for a test that sends a non-conforming request on purpose (the check's own tests).
        self.check_discovery = check_discovery
        self.violations: list[str] = []
        self.sent: list[tuple[str, str, Any]] = []  # every request as sent: HTTP method, URL, JSON body
        self.token = token
        self.file_prefix = file_prefix
        self.folder: dict[str, Any] = {"id": folder_id, "name": "活动周报送", "driveId": "0AShared",
                                       "capabilities": {"canAddChildren": True}}  # fmt: skip
        self.files: dict[str, dict[str, Any]] = {}
        self.tabs: dict[str, dict[int, Tab]] = {}
        self.permissions: list[dict[str, Any]] = []
        self.batches: dict[str, list[list[dict[str, Any]]]] = {}  # applied batchUpdates, per spreadsheet
        self.requests: list[Call] = []
        self.fail: dict[str, list[Reply]] = {}
        self.checks: dict[str, list[Callable[[Call], None]]] = {}
        self.clock = dt.datetime(2022, 11, 15, 1, 0, tzinfo=dt.UTC)
        self._created = 0
        if mock is not None:
            self.install(mock)

    @property
    def folder_id(self) -> str:
        return str(self.folder["id"])

    # --- the two ways in ------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> None:
        """Answer every Google API request made while `mock` is active."""
        self.mock = mock
        for method in ("GET", "POST", "PATCH", "DELETE"):
            mock.add_callback(method, GOOGLE_URLS, callback=self._answer)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        assert request.headers["Authorization"] == f"Bearer {self.token}"
        status, reply = self.handle(request.method, request.url, request.body)
        return status, {"Content-Type": "application/json"}, json.dumps(reply, ensure_ascii=False)

    def transport(self) -> InMemoryTransport:
        return InMemoryTransport(self)

    def session(self, settings: GoogleSettings, *, service_account_email: str = SA_EMAIL) -> GoogleSession:
        """The production GoogleSession over this fake, in memory; backoff waits are skipped."""
        session = build_session(
            Credentials(token=self.token), settings, service_account_email=service_account_email
        )
        session.http.session = self.transport()  # type: ignore[assignment]
        session.http.sleep = lambda _s: None
        return session

    def handle(self, method: str, url: str, body: bytes | str | None) -> Reply:
        """One request, as sent: recorded, then failed on purpose or answered."""
        op = operation_name(method, url)
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        parsed = json.loads(raw) if raw else None
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        self.requests.append(Call(op, url, query, parsed, len(raw)))
        self.sent.append((method.upper(), url, parsed))
        for check in self.checks.get(op, []):
            check(self.requests[-1])
        if self.check_discovery and (problems := check_request(method, url, parsed)):
            self.violations.extend(problems)
            DISCOVERY_VIOLATIONS.extend(problems)
            return _error(400, "discovery: " + "; ".join(problems))
        if self.fail.get(op):
            return self.fail[op].pop(0)
        path = unquote(urlsplit(url).path)
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
            return _error(501, f"not faked: {op}", "UNIMPLEMENTED")
        return handler(path, query, parsed)

    # --- what tests use ---------------------------------------------------------------------------

    def counts(self) -> Counter[str]:
        return Counter(r.op for r in self.requests)

    def reset_counts(self) -> None:
        self.requests.clear()

    def ops(self) -> list[str]:
        return [r.op for r in self.requests]

    def bodies(self, op: str) -> list[Any]:
        return [r.body for r in self.requests if r.op == op]

    def queries(self, op: str) -> list[dict[str, list[str]]]:
        return [r.query for r in self.requests if r.op == op]

    def expect(self, op: str, check: Callable[[Call], None]) -> None:
        """Run `check` on every `op` request before answering it: a test's stricter idea of a right request.

        An AssertionError raised there fails the request (and so the test) where it was made."""
        self.checks.setdefault(op, []).append(check)

    def expect_query(self, op: str, *, exact: bool = False, **params: str) -> None:
        """Every `op` request must carry these query parameters (and, if exact, no others)."""
        wanted = {k: [v] for k, v in params.items()}

        def check(call: Call) -> None:
            got = call.query if exact else {k: call.query.get(k) for k in wanted}
            assert got == wanted, f"{op}: query {call.query} is not {wanted}"

        self.expect(op, check)

    def failing(self, op: str, status: int, times: int = 1, reason: str = "backendError") -> None:
        err = {"error": {"code": status, "message": f"{reason} (test)", "errors": [{"reason": reason}]}}
        self.fail.setdefault(op, []).extend([(status, err)] * times)

    def created(self) -> list[dict[str, Any]]:
        """The spreadsheets created through Drive, oldest first."""
        return [f for f in self.files.values() if f.get("created")]

    def tab(self, sid: str, title: str) -> Tab:
        return next(t for t in self.tabs[sid].values() if t.title == title)

    def titles(self, sid: str) -> list[str]:
        return [t.title for t in sorted(self.tabs[sid].values(), key=lambda t: t.index)]

    def grids(self, sid: str) -> dict[str, list[list[Any]]]:
        return {t.title: t.grid() for t in sorted(self.tabs[sid].values(), key=lambda t: t.index)}

    def tick(self, seconds: float = 1.0) -> dt.datetime:
        self.clock += dt.timedelta(seconds=seconds)
        return self.clock

    def spreadsheet(
        self,
        sid: str,
        title: str = "组织方的表格",
        tabs: Iterable[str] = ("Sheet1",),
        *,
        parents: Iterable[str] = (),
        owner: str = "organiser@example.org",
    ) -> None:
        """A spreadsheet that exists already, last changed by `owner` (the service account: `me`); not recorded."""
        link = f"https://docs.google.com/spreadsheets/d/{sid}/edit?usp=drivesdk"
        self.files[sid] = {"id": sid, "name": title, "mimeType": SPREADSHEET_MIME, "parents": list(parents),
                           "webViewLink": link}  # fmt: skip
        self.tabs[sid] = {i: Tab(i, name, i) for i, name in enumerate(tabs)}
        self._touched(sid, me=owner == self.SA_EMAIL, email=owner)

    def apply(self, sid: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
        """A batchUpdate applied directly (not recorded, not counted); raises if the API would refuse it."""
        status, reply = self._batch_update(f"/v4/spreadsheets/{sid}:batchUpdate", {}, {"requests": requests})
        assert status == 200, reply
        return reply

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

    def _sid(self, path: str) -> str:
        return path.split("/")[3].split(":")[0]

    def _missing(self, sid: str) -> Reply | None:
        if sid not in self.tabs or self.files.get(sid, {}).get("trashed"):
            return _error(404, "Requested entity was not found.", "NOT_FOUND")
        return None

    # --- Drive ------------------------------------------------------------------------------------

    def _files_get(self, path: str, q: dict[str, list[str]], _b: Any) -> Reply:
        fid = path.rsplit("/", 1)[1]
        if fid == self.folder["id"]:
            return 200, self.folder
        f = self.files.get(fid)
        if f is None or f.get("trashed"):
            return 404, {"error": {"code": 404, "message": f"File not found: {fid}.",
                                   "errors": [{"reason": "notFound"}]}}  # fmt: skip
        return 200, self._listed(f)

    def _listed(self, f: dict[str, Any]) -> dict[str, Any]:
        when = f["modifiedTime"]
        return {
            "id": f["id"],
            "name": f["name"],
            "mimeType": f["mimeType"],
            "parents": f["parents"],
            "webViewLink": f["webViewLink"],
            "modifiedTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "lastModifyingUser": {**f["lastModifyingUser"], "kind": "drive#user"},
        }

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

    def _files_list(self, _p: str, q: dict[str, list[str]], _b: Any) -> Reply:
        assert q["supportsAllDrives"] == ["true"] and q["includeItemsFromAllDrives"] == ["true"]
        clauses = q["q"][0].split(" and ")
        found = [f for f in self.files.values() if all(self._matches(f, c) for c in clauses)]
        if q.get("orderBy") == ["modifiedTime"]:
            found.sort(key=lambda f: f["modifiedTime"])
        size = int(q.get("pageSize", ["100"])[0])
        start = int(q.get("pageToken", ["0"])[0])
        out: dict[str, Any] = {"files": [self._listed(f) for f in found[start : start + size]]}
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        return 200, out

    def _files_create(self, _p: str, q: dict[str, list[str]], body: Any) -> Reply:
        if body.get("mimeType") != SPREADSHEET_MIME:
            return _error(501, f"not faked: creating a {body.get('mimeType')}", "UNIMPLEMENTED")
        self._created += 1
        fid = f"{self.file_prefix}{self._created:04d}Abc"
        link = f"https://docs.google.com/spreadsheets/d/{fid}/edit?usp=drivesdk"
        self.files[fid] = {"id": fid, "name": body["name"], "mimeType": SPREADSHEET_MIME,
                           "parents": body.get("parents", []), "webViewLink": link, "created": True}  # fmt: skip
        self.tabs[fid] = {0: Tab(0, "Sheet1", 0)}  # what Drive gives a new spreadsheet
        self._touched(fid, me=True)
        return 200, {"id": fid, "name": body["name"], "webViewLink": link}

    def _permissions_create(self, path: str, q: dict[str, list[str]], body: Any) -> Reply:
        self.permissions.append({"file": path.split("/")[-2], "query": q, "body": body})
        return 200, {"kind": "drive#permission", "id": f"perm{len(self.permissions)}", "type": body["type"],
                     "role": body["role"]}  # fmt: skip

    # --- Sheets -----------------------------------------------------------------------------------

    def _sheets_get(self, path: str, _q: dict[str, list[str]], _b: Any) -> Reply:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        sheets = []
        for t in sorted(self.tabs[sid].values(), key=lambda t: t.index):
            props = {"sheetId": t.sheet_id, "title": t.title, "index": t.index,
                     "gridProperties": {"rowCount": t.rows, "columnCount": t.cols}}  # fmt: skip
            entry: dict[str, Any] = {"properties": props}
            if t.rules:  # the API leaves out empty repeated fields
                entry["conditionalFormats"] = [{"ranges": r["ranges"]} for r in t.rules]
            sheets.append(entry)
        return 200, {"spreadsheetId": sid, "sheets": sheets}

    def _set_cell(self, tab: Tab, rc: Cell, cell: dict[str, Any], mask: set[str]) -> None:
        if _covers(mask, "userEnteredValue"):
            value = _entered(cell)
            if value is None:
                tab.values.pop(rc, None)
            else:
                tab.values[rc] = value
        if _covers(mask, "note"):
            if cell.get("note"):
                tab.notes[rc] = cell["note"]
            else:
                tab.notes.pop(rc, None)
        if _covers(mask, "userEnteredFormat.numberFormat"):
            fmt = cell.get("userEnteredFormat", {}).get("numberFormat")
            if fmt:
                tab.number_formats[rc] = fmt
            else:
                tab.number_formats.pop(rc, None)

    def _fill(self, tab: Tab, g: dict[str, int], cell: dict[str, Any], mask: set[str]) -> None:
        """repeatCell, and updateCells without rows: the cell (or nothing) over a range."""
        kept = [(tab.values, "userEnteredValue", _entered(cell)), (tab.notes, "note", cell.get("note")),
                (tab.number_formats, "userEnteredFormat.numberFormat",
                 cell.get("userEnteredFormat", {}).get("numberFormat"))]  # fmt: skip
        kept = [k for k in kept if _covers(mask, k[1])]
        if not kept:
            return  # formats the fake does not keep (colours, fonts, wrapping)
        area = _area(tab, g)
        if all(new is None for _, _, new in kept):
            # Clearing: only the cells that hold something (an open-ended range has many).
            for cells, _, _ in kept:
                for rc in [rc for rc in cells if _inside(rc, area)]:
                    del cells[rc]
            return
        r0, r1, c0, c1 = area
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._set_cell(tab, (r, c), cell, mask)

    def _batch_update(self, path: str, _q: dict[str, list[str]], body: Any) -> Reply:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        # Google applies a batchUpdate atomically: work on copies, keep them only if every request applies.
        staged = {k: t.copy() for k, t in self.tabs[sid].items()}
        replies: list[dict[str, Any]] = []
        for n, req in enumerate(body["requests"]):
            ((kind, spec),) = req.items()
            status, reply = self._one(staged, kind, spec, f"Invalid requests[{n}].{kind}", n)
            if status != 200:
                return status, reply
            replies.append(reply)
        # Kept in place, so a Tab a test holds stays the tab it names.
        live = self.tabs[sid]
        for key in [k for k in live if k not in staged]:
            del live[key]
        for key, tab in staged.items():
            if key in live:
                live[key].__dict__.update(tab.__dict__)
            else:
                live[key] = tab
        self.batches.setdefault(sid, []).append(body["requests"])
        self._touched(sid, me=True)
        return 200, {"spreadsheetId": sid, "replies": replies}

    def _one(self, staged: dict[int, Tab], kind: str, spec: dict[str, Any], where: str, n: int) -> Reply:
        if kind == "addSheet":
            p = spec["properties"]
            sheet_id = p.get("sheetId", max(staged, default=0) + 1)
            title = p.get("title", f"Sheet{len(staged) + 1}")
            if sheet_id in staged or any(t.title == title for t in staged.values()):
                return _error(400, f'{where}: A sheet with the name "{title}" already exists.')
            g = p.get("gridProperties", {})
            tab = Tab(sheet_id, title, p.get("index", len(staged)), g.get("rowCount", 1000),
                      g.get("columnCount", 26), p.get("hidden", False), g.get("frozenRowCount", 0))  # fmt: skip
            for other in staged.values():
                other.index += other.index >= tab.index
            staged[sheet_id] = tab
            return 200, {"addSheet": {"properties": {**p, "sheetId": sheet_id, "title": title,
                                                     "sheetType": "GRID"}}}  # fmt: skip
        if kind == "updateSheetProperties":
            p = spec["properties"]
            tab = staged.get(p["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {p['sheetId']}")
            mask = _mask(spec["fields"])
            g = p.get("gridProperties", {})
            if _covers(mask, "title"):
                if any(t.title == p["title"] and t is not tab for t in staged.values()):
                    return _error(400, f'{where}: A sheet with the name "{p["title"]}" already exists.')
                tab.title = p["title"]
            if _covers(mask, "hidden"):
                tab.hidden = p.get("hidden", False)
            for key, attr in (("rowCount", "rows"), ("columnCount", "cols"), ("frozenRowCount", "frozen")):
                if _covers(mask, f"gridProperties.{key}"):
                    setattr(tab, attr, g.get(key, 0 if key == "frozenRowCount" else getattr(tab, attr)))
            if tab.frozen >= tab.rows:
                return _error(400, f"{where}: You can't freeze all visible rows on the sheet.")
            tab._drop_outside()
            if _covers(mask, "index"):
                old = tab.index
                for other in staged.values():
                    if other is not tab:
                        other.index -= other.index > old
                        other.index += other.index >= p["index"]
                tab.index = p["index"]
            return 200, {}
        if kind == "updateCells":
            mask = _mask(spec["fields"])
            if "rows" not in spec:
                tab = staged.get(spec["range"]["sheetId"])
                if tab is None:
                    return _error(400, f"{where}: No grid with id: {spec['range']['sheetId']}")
                self._fill(tab, spec["range"], {}, mask)
                return 200, {}
            start = spec["start"]
            tab = staged.get(start["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {start['sheetId']}")
            for r, row in enumerate(spec["rows"]):
                for c, cell in enumerate(row.get("values", [])):
                    rc = (start.get("rowIndex", 0) + r, start.get("columnIndex", 0) + c)
                    if rc[0] >= tab.rows or rc[1] >= tab.cols:
                        return _error(400, f"{where}: Range exceeds grid limits.")
                    self._set_cell(tab, rc, cell, mask)
            return 200, {}
        if kind == "repeatCell":
            tab = staged.get(spec["range"]["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {spec['range']['sheetId']}")
            self._fill(tab, spec["range"], spec["cell"], _mask(spec["fields"]))
            return 200, {}
        if kind == "deleteSheet":
            if spec["sheetId"] not in staged:
                return _error(400, f"{where}: No grid with id: {spec['sheetId']}")
            if len(staged) == 1:
                return _error(400, f"{where}: You can't remove all the sheets in a document.")
            gone = staged.pop(spec["sheetId"])
            for other in staged.values():
                other.index -= other.index > gone.index
            return 200, {}
        if kind == "addConditionalFormatRule":
            rule = spec["rule"]
            tab = staged.get(rule["ranges"][0]["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {rule['ranges'][0]['sheetId']}")
            tab.rules.insert(spec.get("index", 0), rule)
            return 200, {}
        if kind == "deleteConditionalFormatRule":
            tab = staged.get(spec["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {spec['sheetId']}")
            if spec["index"] >= len(tab.rules):
                return _error(400, f"{where}: No conditional format on sheet {tab.sheet_id} at index {spec['index']}")  # fmt: skip
            tab.rules.pop(spec["index"])
            return 200, {}
        if kind == "setBasicFilter":
            tab = staged.get(spec["filter"]["range"]["sheetId"])
            if tab is None:
                return _error(400, f"{where}: No grid with id: {spec['filter']['range']['sheetId']}")
            tab.filter = spec["filter"]
            return 200, {}
        if kind == "addProtectedRange":
            return 200, {"addProtectedRange": {"protectedRange": {**spec["protectedRange"], "protectedRangeId": n}}}  # fmt: skip
        if kind == "addNamedRange":
            return 200, {"addNamedRange": {"namedRange": {**spec["namedRange"], "namedRangeId": f"nr{n}"}}}
        if kind in _SIMPLE_KINDS:
            return 200, {}
        return _error(400, f"{where}: not faked")

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

    def _values_get(self, path: str, q: dict[str, list[str]], _b: Any) -> Reply:
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
            # Google refuses the whole batch when one range reaches past its tab's grid (it does not
            # clamp): a sheet read that way is never ingested.
            if (c1 or c0 + 1) > tab.cols or (r1 if r1 is not None else r0 + 1) > tab.rows:
                return _error(400, f"Range ({a1}) exceeds grid limits. Max rows: {tab.rows}, "
                                   f"max columns: {tab.cols}")  # fmt: skip
            r1 = tab.rows if r1 is None else r1
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

    def _values_update(self, path: str, _q: dict[str, list[str]], body: Any) -> Reply:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        if body["valueInputOption"] != "RAW":
            return _error(501, f"not faked: valueInputOption {body['valueInputOption']}", "UNIMPLEMENTED")
        writes: list[tuple[Tab, int, int, list[list[Any]]]] = []
        out = []
        for block in body["data"]:
            if block.get("majorDimension", "ROWS") != "ROWS":
                return _error(501, "not faked: majorDimension COLUMNS", "UNIMPLEMENTED")
            found = self._range(sid, block["range"])
            if found is None:
                return _error(400, f"Unable to parse range: {block['range']}")
            tab, r0, c0, _r1, _c1 = found
            rows = block["values"]
            width = max((len(r) for r in rows), default=0)
            if r0 + len(rows) > tab.rows or c0 + width > tab.cols:
                return _error(400, f"Range ({block['range']}) exceeds grid limits. Max rows: {tab.rows}, "
                                   f"max columns: {tab.cols}")  # fmt: skip
            writes.append((tab, r0, c0, rows))
            out.append({"spreadsheetId": sid, "updatedRange": block["range"], "updatedRows": len(rows),
                        "updatedColumns": width, "updatedCells": sum(len(r) for r in rows)})  # fmt: skip
        for tab, r0, c0, rows in writes:  # all blocks checked first: nothing is half-written
            for r, row in enumerate(rows):
                for c, v in enumerate(row):
                    if v == "" or v is None:
                        tab.values.pop((r0 + r, c0 + c), None)
                    else:
                        tab.values[(r0 + r, c0 + c)] = v
        self._touched(sid, me=True)
        return 200, {"spreadsheetId": sid, "totalUpdatedRows": sum(o["updatedRows"] for o in out),
                     "totalUpdatedColumns": max([o["updatedColumns"] for o in out] or [0]),
                     "totalUpdatedCells": sum(o["updatedCells"] for o in out),
                     "totalUpdatedSheets": len({o["updatedRange"].split("!")[0] for o in out}),
                     "responses": out}  # fmt: skip

    def _values_clear(self, path: str, _q: dict[str, list[str]], body: Any) -> Reply:
        sid = self._sid(path)
        if (missing := self._missing(sid)) is not None:
            return missing
        for a1 in body["ranges"]:
            found = self._range(sid, a1)
            if found is None:
                continue
            tab, r0, c0, r1, c1 = found
            area = (r0, r1 or tab.rows, c0, c1 or tab.cols)
            for rc in [rc for rc in tab.values if _inside(rc, area)]:
                del tab.values[rc]
        self._touched(sid, me=True)
        return 200, {"spreadsheetId": sid, "clearedRanges": body["ranges"]}


class InMemoryTransport:
    """Stands where requests' Session stands in the session's HTTP client, and answers from the fake.

    The request is prepared by requests itself (the URL with its encoded query, the body bytes), so the
    fake sees exactly what would go over the wire; the reply is a real requests.Response.
    """

    def __init__(self, google: FakeGoogle) -> None:
        self.google = google

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        files: Any = None,
        headers: Any = None,
        timeout: Any = None,
    ) -> requests.Response:
        assert files is None, "not faked: uploads"
        prepared = requests.Request(
            method, url, params=params, data=data, json=json, headers=headers
        ).prepare()
        assert prepared.method is not None and prepared.url is not None
        status, reply = self.google.handle(prepared.method, prepared.url, prepared.body)
        response = requests.Response()
        response.status_code = status
        response._content = _json_bytes(reply)
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
        response.encoding = "utf-8"
        response.url = prepared.url
        response.request = prepared
        response.reason = "OK" if status < 400 else "Error"
        return response

    def close(self) -> None:
        pass


def _json_bytes(reply: Any) -> bytes:
    return json.dumps(reply, ensure_ascii=False).encode("utf-8")
