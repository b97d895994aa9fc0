"""The Google HTTP door: bounded backoff, budget, deadline and counts, at the HTTP level (no network)."""

from __future__ import annotations

from collections.abc import Iterator

import gspread
import pytest
import responses
from google.oauth2.credentials import Credentials
from gspread.exceptions import APIError
from responses import matchers

from functions.adapters.google_http import (
    DRIVE_FILES_API,
    SHEETS_API,
    BudgetedHTTPClient,
    GoogleBudgetExhausted,
    GoogleCallFailed,
    operation_name,
)

SHEET = "1AbCdEf"
BATCH_GET = f"{SHEETS_API}/{SHEET}/values:batchGet"
VALUES = {"spreadsheetId": SHEET, "valueRanges": [{"range": "'填写说明'!A1:E40", "majorDimension": "ROWS"}]}
QUOTA = {"error": {"code": 429, "message": "Quota exceeded for quota metric 'Read requests'", "status": "RESOURCE_EXHAUSTED"}}  # fmt: skip


@pytest.fixture
def http() -> Iterator[tuple[BudgetedHTTPClient, list[float]]]:
    client = gspread.Client(Credentials(token="test-token"), http_client=BudgetedHTTPClient)
    slept: list[float] = []
    assert isinstance(client.http_client, BudgetedHTTPClient)
    client.http_client.configure(
        max_retries=3, base_delay=1.0, max_delay=8.0, sleep=slept.append, rng=lambda: 1.0
    )
    # The module-level mock: any request not registered fails, so nothing leaves the machine.
    responses.start()
    try:
        yield client.http_client, slept
    finally:
        responses.stop()
        responses.reset()


def test_quota_errors_are_retried_with_growing_waits(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, slept = http
    responses.add(responses.GET, BATCH_GET, json=QUOTA, status=429)
    responses.add(responses.GET, BATCH_GET, json=QUOTA, status=429)
    responses.add(responses.GET, BATCH_GET, json=VALUES, status=200)
    got = client.values_batch_get(SHEET, ["'填写说明'!A1:E40"])
    assert got["spreadsheetId"] == SHEET
    assert slept == [1.0, 2.0]
    assert client.counts["sheets.values.batchGet"] == 3
    assert responses.calls[0].request.headers["Authorization"] == "Bearer test-token"


def test_server_errors_give_up_after_max_retries(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, slept = http
    responses.add(
        responses.GET, BATCH_GET, json={"error": {"code": 503, "message": "unavailable"}}, status=503
    )
    with pytest.raises(GoogleCallFailed) as failed:
        client.values_batch_get(SHEET, ["A1"])
    assert failed.value.status == 503 and failed.value.operation == "sheets.values.batchGet"
    assert len(responses.calls) == 4 and slept == [1.0, 2.0, 4.0]


def test_retry_after_is_honoured_but_capped(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, slept = http
    responses.add(responses.GET, BATCH_GET, json=QUOTA, status=429, headers={"Retry-After": "5"})
    responses.add(responses.GET, BATCH_GET, json=QUOTA, status=429, headers={"Retry-After": "60"})
    responses.add(responses.GET, BATCH_GET, json=VALUES, status=200)
    client.values_batch_get(SHEET, ["A1"])
    assert slept == [5.0, 8.0]


def test_client_errors_are_not_retried(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, slept = http
    responses.add(responses.GET, BATCH_GET, json={"error": {"code": 404, "message": "Requested entity was not found."}}, status=404)  # fmt: skip
    with pytest.raises(APIError):
        client.values_batch_get(SHEET, ["A1"])
    assert len(responses.calls) == 1 and slept == []


def test_budget_and_deadline_stop_before_sending(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, _ = http
    client.budget = 2
    responses.add(responses.GET, BATCH_GET, json=VALUES, status=200)
    client.values_batch_get(SHEET, ["A1"])
    client.values_batch_get(SHEET, ["A1"])
    with pytest.raises(GoogleBudgetExhausted):
        client.values_batch_get(SHEET, ["A1"])
    assert len(responses.calls) == 2 and client.remaining() == 0

    client.budget = None
    now = [100.0]
    client.configure(
        deadline=105.0, clock=lambda: now[0], sleep=lambda s: None, rng=lambda: 1.0, base_delay=10
    )
    responses.replace(responses.GET, BATCH_GET, json=QUOTA, status=429)
    with pytest.raises(GoogleBudgetExhausted, match="no time left"):
        client.values_batch_get(SHEET, ["A1"])
    assert len(responses.calls) == 3  # one attempt, then no time to wait for a retry


def test_drive_list_query_goes_through_the_same_door(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, _ = http
    q = "'FOLDER123' in parents and trashed=false and modifiedTime > '2022-11-20T01:00:00Z'"
    responses.add(
        responses.GET,
        DRIVE_FILES_API,
        match=[matchers.query_param_matcher({"q": q, "fields": "nextPageToken,files(id,name,modifiedTime)"})],
        json={"files": [{"id": SHEET, "name": "x", "modifiedTime": "2022-11-21T02:00:00.000Z"}]},
    )
    body = client.json_request("GET", DRIVE_FILES_API, params={"q": q, "fields": "nextPageToken,files(id,name,modifiedTime)"})  # fmt: skip
    assert body["files"][0]["id"] == SHEET
    assert client.counts == {"drive.files.list": 1}


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("GET", f"{DRIVE_FILES_API}?q=x", "drive.files.list"),
        ("POST", f"{DRIVE_FILES_API}/abc/permissions", "drive.permissions.create"),
        ("POST", f"{SHEETS_API}/abc:batchUpdate", "sheets.batchUpdate"),
        ("POST", f"{SHEETS_API}/abc/values:batchUpdate", "sheets.values.batchUpdate"),
        ("GET", f"{SHEETS_API}/abc", "sheets.get"),
    ],
)
def test_operation_names(method: str, url: str, name: str) -> None:
    assert operation_name(method, url) == name
