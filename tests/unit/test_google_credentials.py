"""Where the Google key comes from (file, environment) and the errors that help without showing it; the
names the HTTP client counts calls under. No request is made (SSM and HTTP: tests/integration/test_google_http.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.adapters.google.credentials import SCOPES, GoogleCredentialsError, load_credentials
from functions.adapters.google.http import DRIVE_FILES_API, SHEETS_API, operation_name
from schemas.google import GoogleSettings
from tests.helpers.google import SA_EMAIL, service_account_json


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


# --- where the key comes from: file, environment; errors that help and never show the key ---------------


def _settings(**kw: str) -> GoogleSettings:
    return GoogleSettings(folder_id="FOLDER123", **kw)


def test_key_from_a_file_relative_to_the_campaign_folder(tmp_path: Path) -> None:
    key = service_account_json()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "sa.json").write_text(key, encoding="utf-8")
    creds, found = load_credentials(_settings(credentials_file="secrets/sa.json"), tmp_path, env={})
    assert (found.source, found.client_email) == ("file", SA_EMAIL)
    assert creds.service_account_email == SA_EMAIL and set(creds.scopes) == set(SCOPES)
    assert set(SCOPES) == {
        "https://www.googleapis.com/auth/spreadsheets",
        "https://www.googleapis.com/auth/drive",
    }


def test_key_from_the_environment_as_json_or_as_a_path(tmp_path: Path) -> None:
    key = service_account_json()
    _, found = load_credentials(_settings(), tmp_path, env={"HUIZONG_GOOGLE_CREDENTIALS": key})
    assert (found.source, found.where) == ("env", "HUIZONG_GOOGLE_CREDENTIALS")
    path = tmp_path / "elsewhere.json"
    path.write_text(key, encoding="utf-8")
    _, found = load_credentials(_settings(credentials_env="MY_KEY"), tmp_path, env={"MY_KEY": str(path)})
    assert found.source == "env" and found.client_email == SA_EMAIL
    # A configured file that is missing falls through to the next source.
    _, found = load_credentials(_settings(credentials_file="nope.json"), tmp_path, env={"HUIZONG_GOOGLE_CREDENTIALS": key})  # fmt: skip
    assert found.source == "env"


def test_no_key_anywhere_says_what_was_tried_and_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(GoogleCredentialsError) as err:
        load_credentials(_settings(credentials_file="sa.json"), tmp_path, env={})
    text = str(err.value)
    assert "未找到 Google 服务账号密钥" in text and f"文件 {tmp_path / 'sa.json'}：不存在" in text
    assert "环境变量 HUIZONG_GOOGLE_CREDENTIALS：未设置" in text and "google.credentials_ssm" in text
    assert "docs/google.md" in text
    with pytest.raises(GoogleCredentialsError) as en:
        load_credentials(_settings(), tmp_path, env={}, language="en")
    assert str(en.value).startswith("No Google service-account key found")


def test_a_broken_key_is_reported_without_showing_it(tmp_path: Path) -> None:
    key = json.loads(service_account_json())
    secret_part = key["private_key"][60:120]
    cases = {
        "cut": json.dumps(key)[:-40],
        "oauth": json.dumps({"installed": {"client_id": "x", "client_secret": secret_part}}),
        "damaged": json.dumps(
            {**key, "private_key": key["private_key"].replace(key["private_key"][100:140], "")}
        ),
    }
    messages = {}
    for name, text in cases.items():
        with pytest.raises(GoogleCredentialsError) as err:
            load_credentials(_settings(), tmp_path, env={"HUIZONG_GOOGLE_CREDENTIALS": text})
        messages[name] = str(err.value)
        assert secret_part not in messages[name] and "PRIVATE KEY" not in messages[name]
        assert err.value.__cause__ is None and err.value.__suppress_context__
    assert "不是有效的 JSON" in messages["cut"]
    assert "不是服务账号密钥" in messages["oauth"] and "client_email" in messages["oauth"]
    assert "private_key 无法解析" in messages["damaged"]
