"""What a Google (Drive v3 + Sheets v4) must do for huizong, through the session API the code uses.

Every Google helper (provision, poll, master publish) speaks to Google only through
functions/adapters/google/session.py's `GoogleSession`: drive_list, get_file, create_spreadsheet, share,
get_spreadsheet, batch_update, values_batch_get, values_batch_update. This suite
states the behaviours of those calls the code relies on, as observed through the same calls, so that any
Google behind a session can be checked against it: the in-memory fake over HTTP and in memory
(tests/contract/test_google_contract.py), and one day the real service in a test folder.

Use it by subclassing `GoogleSessionContract` in a module that provides a `google_port` fixture returning
a `GooglePort`: a session, the id of a folder it may create spreadsheets in (and that holds nothing the
suite does not create), and an address that can be invited to a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from functions.adapters.google.session import GoogleSession
from functions.ports import GoogleRefused
from functions.services.google.poll import LIST_FIELDS
from schemas.google import SPREADSHEET_MIME

TABS = (
    "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)),conditionalFormats(ranges))"
)
FOLDER_FIELDS = "id,name,driveId,capabilities(canAddChildren)"


@dataclass
class GooglePort:
    session: GoogleSession
    folder_id: str
    invitee: str  # an address that may be invited to a file


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace("'", "\\'")


def _tabs(port: GooglePort, sid: str) -> list[dict[str, Any]]:
    sheets: list[dict[str, Any]] = port.session.get_spreadsheet(sid, TABS)["sheets"]
    return sheets


def _titles(port: GooglePort, sid: str) -> list[str]:
    return [
        s["properties"]["title"] for s in sorted(_tabs(port, sid), key=lambda s: s["properties"]["index"])
    ]


def _a1(title: str, cells: str) -> str:
    return "'" + title.replace("'", "''") + "'!" + cells


def _refused(call: Any, status: int) -> GoogleRefused:
    with pytest.raises(GoogleRefused) as refused:
        call()
    assert refused.value.status == status, refused.value.message
    return refused.value


class GoogleSessionContract:
    """Subclass in a module that defines a `google_port` fixture."""

    @pytest.fixture
    def sheet(self, google_port: GooglePort, request: pytest.FixtureRequest) -> str:
        """A new spreadsheet in the folder, named after the test."""
        created = google_port.session.create_spreadsheet(f"契约 {request.node.name}", google_port.folder_id)
        return str(created["id"])

    # -- Drive --------------------------------------------------------------------------------------------

    def test_the_folder_can_take_new_files_and_an_unknown_file_is_not_found(
        self, google_port: GooglePort
    ) -> None:
        folder = google_port.session.get_file(google_port.folder_id, FOLDER_FIELDS)
        assert folder["id"] == google_port.folder_id and folder["capabilities"]["canAddChildren"] is True
        _refused(lambda: google_port.session.get_file("no-such-file-0000", "id"), 404)

    def test_a_new_spreadsheet_is_in_the_folder_with_one_empty_tab(self, google_port: GooglePort) -> None:
        session, folder = google_port.session, google_port.folder_id
        created = session.create_spreadsheet("契约 新表格", folder)
        assert created["name"] == "契约 新表格" and created["id"] in created["webViewLink"]
        [tab] = _tabs(google_port, created["id"])
        assert tab["properties"]["index"] == 0 and "conditionalFormats" not in tab
        [empty] = session.values_batch_get(created["id"], [_a1(tab["properties"]["title"], "A1:Z100")])[
            "valueRanges"
        ]
        assert "values" not in empty  # an empty range comes back without "values"
        q = f"name = '契约 新表格' and '{folder}' in parents and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
        listed = session.drive_list(q, "files(id,name,webViewLink)")["files"]
        assert [(f["id"], f["name"]) for f in listed] == [(created["id"], "契约 新表格")]
        got = session.get_file(created["id"], "id,name,parents")
        assert got["name"] == "契约 新表格" and got["parents"] == [folder]

    def test_a_name_with_quotes_and_backslashes_is_found_exactly(self, google_port: GooglePort) -> None:
        session, folder = google_port.session, google_port.folder_id
        odd = "O'Brien 的 \\ 表"
        created = session.create_spreadsheet(odd, folder)
        session.create_spreadsheet("O'Brien 的 表", folder)  # almost the same name
        q = f"name = '{_quoted(odd)}' and '{folder}' in parents and trashed = false"
        assert [f["id"] for f in session.drive_list(q, "files(id,name)")["files"]] == [created["id"]]

    def test_changes_are_listed_after_a_cursor_oldest_first_and_own_ones_are_marked(
        self, google_port: GooglePort
    ) -> None:
        session, folder = google_port.session, google_port.folder_id
        first = session.create_spreadsheet("契约 先", folder)
        in_folder = f"'{folder}' in parents and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
        [seen] = session.drive_list(f"name = '契约 先' and {in_folder}", LIST_FIELDS)["files"]
        cursor = seen["modifiedTime"]
        second = session.create_spreadsheet("契约 后", folder)
        after = f"{in_folder} and modifiedTime > '{cursor}'"
        listed = session.drive_list(after, LIST_FIELDS, order_by="modifiedTime")["files"]
        assert [f["id"] for f in listed] == [second["id"]]
        assert listed[0]["lastModifyingUser"]["me"] is True  # the session's own change

        title = _titles(google_port, first["id"])[0]
        session.values_batch_update(first["id"], [{"range": _a1(title, "A1"), "values": [["改"]]}])
        listed = session.drive_list(after, LIST_FIELDS, order_by="modifiedTime")["files"]
        assert [f["id"] for f in listed] == [second["id"], first["id"]]  # a write moves modifiedTime on
        assert listed[0]["modifiedTime"] < listed[1]["modifiedTime"]

    def test_sharing_returns_the_permission(self, google_port: GooglePort, sheet: str) -> None:
        writer = google_port.session.share(sheet, google_port.invitee, "writer", "请填写", notify=False)
        assert writer["role"] == "writer" and writer["id"]

    # -- Sheets: structure ----------------------------------------------------------------------------------

    def test_tabs_are_added_renamed_and_listed_in_order(self, google_port: GooglePort, sheet: str) -> None:
        session = google_port.session
        first_id = _tabs(google_port, sheet)[0]["properties"]["sheetId"]
        grid = {"rowCount": 20, "columnCount": 5, "frozenRowCount": 1}
        reply = session.batch_update(sheet, [
            {"addSheet": {"properties": {"sheetId": 101, "title": "活动", "index": 1, "gridProperties": grid}}},
            {"addSheet": {"properties": {"sheetId": 999, "title": "_huizong", "index": 2, "hidden": True}}},
            {"updateSheetProperties": {"properties": {"sheetId": first_id, "title": "说明"}, "fields": "title"}},
        ])  # fmt: skip
        assert [r.get("addSheet", {}).get("properties", {}).get("sheetId") for r in reply["replies"]] == [
            101,
            999,
            None,
        ]
        assert _titles(google_port, sheet) == ["说明", "活动", "_huizong"]
        activities = next(t for t in _tabs(google_port, sheet) if t["properties"]["sheetId"] == 101)
        assert activities["properties"]["gridProperties"] == {"rowCount": 20, "columnCount": 5}

    def test_a_batch_update_is_all_or_nothing(self, google_port: GooglePort, sheet: str) -> None:
        before = _titles(google_port, sheet)
        add = {"addSheet": {"properties": {"title": "新表"}}}
        error = _refused(lambda: google_port.session.batch_update(sheet, [add, add]), 400)
        assert "already exists" in error.message
        assert _titles(google_port, sheet) == before  # the first addSheet was not kept either

    def test_the_last_tab_cannot_be_deleted(self, google_port: GooglePort, sheet: str) -> None:
        only = _tabs(google_port, sheet)[0]["properties"]["sheetId"]
        _refused(lambda: google_port.session.batch_update(sheet, [{"deleteSheet": {"sheetId": only}}]), 400)
        assert len(_tabs(google_port, sheet)) == 1

    def test_freezing_every_row_is_refused(self, google_port: GooglePort, sheet: str) -> None:
        only = _tabs(google_port, sheet)[0]["properties"]["sheetId"]
        props = {"sheetId": only, "gridProperties": {"rowCount": 3, "frozenRowCount": 3}}
        fields = "gridProperties.rowCount,gridProperties.frozenRowCount"
        request = {"updateSheetProperties": {"properties": props, "fields": fields}}
        _refused(lambda: google_port.session.batch_update(sheet, [request]), 400)

    def test_conditional_rules_are_listed_and_a_missing_one_cannot_be_deleted(
        self, google_port: GooglePort, sheet: str
    ) -> None:
        session = google_port.session
        only = _tabs(google_port, sheet)[0]["properties"]["sheetId"]
        rule = {"ranges": [{"sheetId": only, "startRowIndex": 1, "startColumnIndex": 4, "endColumnIndex": 5}],
                "booleanRule": {"condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": "已通过"}]},
                                "format": {"backgroundColorStyle": {"rgbColor": {"red": 0.78, "green": 0.94, "blue": 0.81}}}}}  # fmt: skip
        session.batch_update(sheet, [{"addConditionalFormatRule": {"rule": rule, "index": 0}}])
        [tab] = _tabs(google_port, sheet)
        assert [r["ranges"] for r in tab["conditionalFormats"]] == [rule["ranges"]]
        missing = {"deleteConditionalFormatRule": {"sheetId": only, "index": 1}}
        _refused(lambda: session.batch_update(sheet, [missing]), 400)
        session.batch_update(sheet, [{"deleteConditionalFormatRule": {"sheetId": only, "index": 0}}])
        assert "conditionalFormats" not in _tabs(google_port, sheet)[0]

    def test_an_unknown_spreadsheet_is_not_found(self, google_port: GooglePort) -> None:
        session = google_port.session
        _refused(lambda: session.get_spreadsheet("no-such-spreadsheet-0000", TABS), 404)
        _refused(lambda: session.values_batch_get("no-such-spreadsheet-0000", ["'Sheet1'!A1"]), 404)
        _refused(
            lambda: session.batch_update("no-such-spreadsheet-0000", [{"deleteSheet": {"sheetId": 0}}]), 404
        )

    # -- Sheets: values -------------------------------------------------------------------------------------

    def test_raw_values_come_back_as_written_without_trailing_blanks(
        self, google_port: GooglePort, sheet: str
    ) -> None:
        session, title = google_port.session, _titles(google_port, sheet)[0]
        rows = [["=1+1", "2024-05-01", 42, True, "长文本"], ["x", "", "", "", ""], ["", "", "", "", ""]]
        session.values_batch_update(
            sheet, [{"range": _a1(title, "A1"), "majorDimension": "ROWS", "values": rows}]
        )
        [got, empty] = session.values_batch_get(sheet, [_a1(title, "A1:E10"), _a1(title, "G1:H2")])[
            "valueRanges"
        ]
        # RAW: a formula-looking text and a date-looking text stay text; trailing empty cells and rows go.
        assert got["values"] == [["=1+1", "2024-05-01", 42, True, "长文本"], ["x"]]
        assert "values" not in empty
        [open_ended] = session.values_batch_get(sheet, [_a1(title, "B1:C")])["valueRanges"]
        assert open_ended["values"] == [["2024-05-01", 42]]  # no end row: to the end of the grid

    def test_values_beyond_the_grid_are_refused_and_nothing_is_written(
        self, google_port: GooglePort, sheet: str
    ) -> None:
        session = google_port.session
        grid = {"rowCount": 3, "columnCount": 2}
        session.batch_update(
            sheet, [{"addSheet": {"properties": {"sheetId": 7, "title": "小", "gridProperties": grid}}}]
        )
        fits = {"range": _a1("小", "A1"), "values": [["a", "b"]]}
        too_long = {"range": _a1("小", "A2"), "values": [["1"], ["2"], ["3"]]}
        _refused(lambda: session.values_batch_update(sheet, [fits, too_long]), 400)
        too_wide = {"range": _a1("小", "B1"), "values": [["1", "2"]]}
        _refused(lambda: session.values_batch_update(sheet, [too_wide]), 400)
        [got] = session.values_batch_get(sheet, [_a1("小", "A1:B3")])["valueRanges"]
        assert "values" not in got

    def test_shrinking_a_tab_drops_the_values_outside_it(self, google_port: GooglePort, sheet: str) -> None:
        session, tab = google_port.session, _tabs(google_port, sheet)[0]["properties"]
        rows = [[f"r{i}", i] for i in range(1, 11)]
        session.values_batch_update(sheet, [{"range": _a1(tab["title"], "A1"), "values": rows}])
        shrink = {"sheetId": tab["sheetId"], "gridProperties": {"rowCount": 5}}
        session.batch_update(sheet, [{"updateSheetProperties": {"properties": shrink, "fields": "gridProperties.rowCount"}}])  # fmt: skip
        shrink["gridProperties"]["rowCount"] = 20
        session.batch_update(sheet, [{"updateSheetProperties": {"properties": shrink, "fields": "gridProperties.rowCount"}}])  # fmt: skip
        [got] = session.values_batch_get(sheet, [_a1(tab["title"], "A1:B20")])["valueRanges"]
        assert got["values"] == rows[:5]

    def test_cells_written_and_cleared_by_batch_update(self, google_port: GooglePort, sheet: str) -> None:
        session, tab = google_port.session, _tabs(google_port, sheet)[0]["properties"]
        cells = [{"userEnteredValue": {"stringValue": "单位编码"}, "note": "可不填"},
                 {"userEnteredValue": {"numberValue": 7}}, {"userEnteredValue": {"boolValue": False}}]  # fmt: skip
        start = {"sheetId": tab["sheetId"], "rowIndex": 2, "columnIndex": 1}
        session.batch_update(sheet, [{"updateCells": {"start": start, "rows": [{"values": cells}],
                                                      "fields": "userEnteredValue,note"}}])  # fmt: skip
        [got] = session.values_batch_get(sheet, [_a1(tab["title"], "A1:D3")])["valueRanges"]
        assert got["values"] == [[], [], ["", "单位编码", 7, False]]
        clear = {"updateCells": {"range": {"sheetId": tab["sheetId"]}, "fields": "userEnteredValue"}}
        session.batch_update(sheet, [clear])
        [got] = session.values_batch_get(sheet, [_a1(tab["title"], "A1:D3")])["valueRanges"]
        assert "values" not in got
