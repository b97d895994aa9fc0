"""The in-memory Google (tests/fakes/google.py) itself: it refuses what it does not know, holds a test's
stricter expectations, fails on request, and records what was sent. Through its in-memory session, as a
unit test would use it; what it must do like Google is tests/contract/google_contract.py's business.
"""

from __future__ import annotations

import pytest

from functions.adapters.google.http import DRIVE_FILES_API, GoogleCallFailed
from functions.adapters.google.session import compact_json
from functions.ports import GoogleRefused
from schemas.google import GoogleSettings
from tests.fakes.google import FakeGoogle

SETTINGS = GoogleSettings(folder_id="FOLDER123", max_retries=1)


@pytest.fixture
def google() -> FakeGoogle:
    return FakeGoogle()


def test_an_operation_it_does_not_fake_is_refused(google: FakeGoogle) -> None:
    session = google.session(SETTINGS)
    with pytest.raises(GoogleRefused) as refused:
        session.http.json_request("PATCH", f"{DRIVE_FILES_API}/FOLDER123", json={"name": "x"})
    assert refused.value.status == 501 and "not faked: drive.files.update" in refused.value.message
    with pytest.raises(GoogleRefused) as folder:
        session.http.json_request(
            "POST", DRIVE_FILES_API, json={"name": "d", "mimeType": "application/vnd.google-apps.folder"}
        )
    assert folder.value.status == 501


def test_a_request_against_a_modules_expectation_fails_the_test(google: FakeGoogle) -> None:
    google.expect_query("drive.files.get", fields="id")
    session = google.session(SETTINGS)
    assert session.get_file("FOLDER123", "id")["id"] == "FOLDER123"
    with pytest.raises(AssertionError, match=r"drive\.files\.get: query"):
        session.get_file("FOLDER123", "id,name")
    google.expect_query("sheets.get", exact=True, fields="sheets")
    sid = session.create_spreadsheet("表", "FOLDER123")["id"]
    with pytest.raises(AssertionError, match=r"sheets\.get: query"):
        session.http.json_request("GET", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}",
                                  params={"fields": "sheets", "extra": "1"})  # fmt: skip


def test_failures_on_request_are_retried_by_the_session_and_counted(google: FakeGoogle) -> None:
    google.failing("drive.files.create", 503)
    session = google.session(SETTINGS)
    created = session.create_spreadsheet("表", "FOLDER123")
    assert created["id"] in google.files and session.http.counts == {"drive.files.create": 2}
    assert google.ops() == ["drive.files.create", "drive.files.create"]
    google.failing("drive.files.create", 503, times=2)
    with pytest.raises(GoogleCallFailed, match="503"):
        google.session(SETTINGS).create_spreadsheet("表二", "FOLDER123")
    assert [f["name"] for f in google.created()] == ["表"]


def test_requests_are_recorded_as_sent(google: FakeGoogle) -> None:
    session = google.session(SETTINGS)
    sid = session.create_spreadsheet("表", "FOLDER123")["id"]
    data = [{"range": "'Sheet1'!A1", "values": [["长文本", 1]]}]
    session.values_batch_update(sid, data)
    call = google.requests[-1]
    assert call.op == "sheets.values.batchUpdate" and call.body == {"valueInputOption": "RAW", "data": data}
    assert call.size == len(compact_json(call.body))  # the bytes requests put on the wire
    assert google.tab(sid, "Sheet1").value("B1") == 1 and google.grids(sid) == {"Sheet1": [["长文本", 1]]}


def test_a_units_edit_is_someone_elses_later_change(google: FakeGoogle) -> None:
    session = google.session(SETTINGS)
    sid = session.create_spreadsheet("表", "FOLDER123")["id"]
    mine = google.files[sid]["modifiedTime"]
    assert google.files[sid]["lastModifyingUser"]["me"] is True
    google.user_edit(sid, "Sheet1", {"A2": "单位填写"}, email="unit@example.org")
    changed = google.files[sid]
    assert changed["modifiedTime"] > mine and changed["lastModifyingUser"] == {
        "me": False,
        "emailAddress": "unit@example.org",
    }
    [got] = session.values_batch_get(sid, ["'Sheet1'!A1:A2"])["valueRanges"]
    assert got["values"] == [[], ["单位填写"]]
