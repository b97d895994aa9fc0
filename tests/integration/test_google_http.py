"""The Google HTTP door: bounded backoff, budget, deadline and counts, at the HTTP level (no network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import gspread
import pytest
import requests
import responses
from google.oauth2.credentials import Credentials
from moto import mock_aws
from responses import matchers

from functions.adapters.google.credentials import GoogleCredentialsError, load_credentials
from functions.adapters.google.http import (
    DRIVE_FILES_API,
    SHEETS_API,
    BudgetedHTTPClient,
)
from functions.adapters.google.session import build_session, connect
from functions.config.loading import load_campaign
from functions.ports import GoogleBudgetExhausted, GoogleCallFailed, GoogleNotConfigured, GoogleRefused
from schemas.google import GoogleSettings
from tests.helpers.google import SA_EMAIL, enable_google, service_account_json

# A request the real API accepts (an empty updateCells, with neither range nor fields, it refuses).
FREEZE_HEADER = {"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {"frozenRowCount": 1}}, "fields": "gridProperties.frozenRowCount"}}  # fmt: skip
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
    with pytest.raises(GoogleRefused):
        client.values_batch_get(SHEET, ["A1"])
    assert len(responses.calls) == 1 and slept == []


def test_drive_rate_limit_403_is_retried_but_a_permission_403_is_not(
    http: tuple[BudgetedHTTPClient, list[float]],
) -> None:
    client, slept = http
    url = f"{DRIVE_FILES_API}/FOLDER123"
    limited = {"error": {"code": 403, "message": "User Rate Limit Exceeded",
                         "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded"}]}}  # fmt: skip
    denied = {"error": {"code": 403, "message": "The caller does not have permission",
                        "errors": [{"domain": "global", "reason": "forbidden"}]}}  # fmt: skip
    responses.add(responses.GET, url, json=limited, status=403)
    responses.add(responses.GET, url, json={"id": "FOLDER123"}, status=200)
    assert client.json_request("GET", url) == {"id": "FOLDER123"}
    assert len(responses.calls) == 2 and slept == [1.0]

    responses.replace(responses.GET, url, json=denied, status=403)
    with pytest.raises(GoogleRefused):
        client.json_request("GET", url)
    assert len(responses.calls) == 3 and slept == [1.0]


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


# --- the session every Google helper uses: configured from the campaign, exact requests ------------------


def test_session_is_configured_from_the_settings_and_sends_exact_requests() -> None:
    settings = GoogleSettings(folder_id="FOLDER123", call_budget=9, max_retries=2, backoff_base_seconds=0.5)
    session = build_session(Credentials(token="test-token"), settings, service_account_email="sa@x.iam.gserviceaccount.com")  # fmt: skip
    assert (session.http.budget, session.http.max_retries, session.http.base_delay) == (9, 2, 0.5)
    folder_q = "'FOLDER123' in parents and trashed=false"
    with responses.RequestsMock() as mock:
        mock.get(DRIVE_FILES_API, match=[matchers.query_param_matcher({"q": folder_q, "fields": "nextPageToken,files(id)", "pageSize": "1000", "supportsAllDrives": "true", "includeItemsFromAllDrives": "true", "orderBy": "modifiedTime", "pageToken": "p2"})], json={"files": []})  # fmt: skip
        mock.post(DRIVE_FILES_API, match=[matchers.query_param_matcher({"supportsAllDrives": "true", "fields": "id,name,webViewLink"}), matchers.json_params_matcher({"name": "表", "mimeType": "application/vnd.google-apps.spreadsheet", "parents": ["FOLDER123"]})], json={"id": SHEET, "name": "表", "webViewLink": "https://docs.google.com/spreadsheets/d/1AbCdEf/edit"})  # fmt: skip
        mock.post(f"{DRIVE_FILES_API}/{SHEET}/permissions", match=[matchers.query_param_matcher({"sendNotificationEmail": "true", "supportsAllDrives": "true", "emailMessage": "请填写"}), matchers.json_params_matcher({"type": "user", "role": "writer", "emailAddress": "a@example.org"})], json={"kind": "drive#permission", "id": "p1", "type": "user", "role": "writer"})  # fmt: skip
        mock.post(f"{DRIVE_FILES_API}/{SHEET}/permissions", match=[matchers.query_param_matcher({"sendNotificationEmail": "false", "supportsAllDrives": "true"})], json={"kind": "drive#permission", "id": "p2", "type": "user", "role": "reader"})  # fmt: skip
        mock.get(f"{DRIVE_FILES_API}/{SHEET}", match=[matchers.query_param_matcher({"fields": "modifiedTime", "supportsAllDrives": "true"})], json={"modifiedTime": "2022-11-21T02:00:00.000Z"})  # fmt: skip
        mock.post(f"{SHEETS_API}/{SHEET}:batchUpdate", match=[matchers.json_params_matcher({"requests": [FREEZE_HEADER]})], json={"spreadsheetId": SHEET, "replies": [{}]})  # fmt: skip
        mock.get(BATCH_GET, match=[matchers.query_param_matcher({"ranges": ["'填写说明'!A1:E40", "'主要活动安排表'!A1:N2000"], "majorDimension": "ROWS", "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"})], json=VALUES)  # fmt: skip
        mock.post(f"{SHEETS_API}/{SHEET}/values:batchUpdate", match=[matchers.json_params_matcher({"valueInputOption": "RAW", "data": [{"range": "A1", "values": [["=1+1"]]}]})], json={"spreadsheetId": SHEET, "totalUpdatedCells": 1})  # fmt: skip
        mock.get(f"{SHEETS_API}/{SHEET}", match=[matchers.query_param_matcher({"fields": "sheets.properties(sheetId,title)"})], json={"sheets": [{"properties": {"sheetId": 0, "title": "填写说明"}}]})  # fmt: skip
        session.drive_list(folder_q, "nextPageToken,files(id)", "p2", order_by="modifiedTime")
        assert session.create_spreadsheet("表", "FOLDER123")["id"] == SHEET
        session.share(SHEET, "a@example.org", "writer", "请填写")
        session.share(SHEET, "b@example.org", "reader", "ignored", notify=False)
        assert session.get_file(SHEET, "modifiedTime")["modifiedTime"].startswith("2022-11-21")
        session.batch_update(SHEET, [FREEZE_HEADER])
        session.values_batch_get(SHEET, ["'填写说明'!A1:E40", "'主要活动安排表'!A1:N2000"])
        session.values_batch_update(SHEET, [{"range": "A1", "values": [["=1+1"]]}])
        session.get_spreadsheet(SHEET, "sheets.properties(sheetId,title)")
        assert all(c.request.headers["Authorization"] == "Bearer test-token" for c in mock.calls)
    assert session.http.counts == {
        "drive.files.list": 1,
        "drive.files.create": 1,
        "drive.permissions.create": 2,
        "drive.files.get": 1,
        "sheets.batchUpdate": 1,
        "sheets.values.batchGet": 1,
        "sheets.values.batchUpdate": 1,
        "sheets.get": 1,
    }
    assert session.http.remaining() == 0  # the budget is spent: the tenth call is refused before sending
    with pytest.raises(GoogleBudgetExhausted):
        session.get_file(SHEET, "id")


def test_a_dropped_connection_is_retried_like_a_5xx(http: tuple[BudgetedHTTPClient, list[float]]) -> None:
    client, slept = http
    responses.add(responses.GET, BATCH_GET, body=requests.exceptions.ConnectionError("reset by peer"))
    responses.add(responses.GET, BATCH_GET, json=VALUES, status=200)
    assert client.values_batch_get(SHEET, ["A1"])["spreadsheetId"] == SHEET
    assert slept == [1.0] and client.counts["sheets.values.batchGet"] == 2


# --- where the key comes from: file, environment, SSM; errors that help and never show the key ----------


def _settings(**kw: str) -> GoogleSettings:
    return GoogleSettings(folder_id="FOLDER123", **kw)


def test_key_from_an_ssm_secure_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"AWS_REGION": "ap-southeast-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():  # fmt: skip
        monkeypatch.setenv(k, v)
    key = service_account_json()
    with mock_aws():
        boto3.client("ssm", region_name="ap-southeast-1").put_parameter(Name="/huizong/google-key", Value=key, Type="SecureString")  # fmt: skip
        creds, found = load_credentials(_settings(credentials_ssm="/huizong/google-key"), tmp_path, env={})
        assert (found.source, found.where, creds.service_account_email) == (
            "ssm",
            "/huizong/google-key",
            SA_EMAIL,
        )
        # On the cloud functions the template names the parameter in the environment instead.
        _, found = load_credentials(_settings(), tmp_path, env={"HUIZONG_GOOGLE_CREDENTIALS_PARAM": "/huizong/google-key"})  # fmt: skip
        assert (found.source, found.where) == ("ssm", "/huizong/google-key")
        with pytest.raises(GoogleCredentialsError) as missing:
            load_credentials(_settings(credentials_ssm="/huizong/other"), tmp_path, env={})
    assert "SSM 参数 /huizong/other：读取失败（ParameterNotFound）" in str(missing.value)


def test_connect_uses_the_campaigns_key_and_exchanges_it_for_a_token(wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=2)
    campaign = load_campaign(wujin_dir)
    session = connect(campaign, wujin_dir, env={"HUIZONG_GOOGLE_CREDENTIALS": service_account_json()})
    assert session.service_account_email == SA_EMAIL and session.settings == campaign.google
    with responses.RequestsMock() as mock:
        token = mock.post("https://oauth2.googleapis.com/token", json={"access_token": "ya29.test", "expires_in": 3599, "token_type": "Bearer"})  # fmt: skip
        mock.get(f"{DRIVE_FILES_API}/FOLDER123", json={"id": "FOLDER123", "name": "活动周", "capabilities": {"canAddChildren": True}})  # fmt: skip
        session.get_file("FOLDER123", "id,name,capabilities(canAddChildren)")
        assert mock.calls[1].request.headers["Authorization"] == "Bearer ya29.test"
        assert "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in str(
            mock.calls[0].request.body
        )
    assert token.call_count == 1 and session.http.counts == {
        "drive.files.get": 1
    }  # the token is not a Google API call

    plain = load_campaign(wujin_dir)
    with pytest.raises(GoogleNotConfigured):
        connect(plain.model_copy(update={"google": None}), wujin_dir, env={})
