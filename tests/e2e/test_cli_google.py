"""The Google commands through click's CliRunner: `huizong google check`, `provision`, `publish-master`,
`poll`, with a real service-account key whose token exchange is intercepted, against the in-memory Google
(tests/fakes/google.py behind `responses`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from functions.adapters.google.master_sheet import plain_value
from functions.bootstrap import App, open_app
from functions.cli.main import cli
from tests.fakes.google import FakeGoogle
from tests.helpers.google import (
    SA_EMAIL,
    enable_google,
    expect_provision_requests,
    service_account_json,
    token_exchange,
)
from tests.helpers.google_master import ORGANISER, fill_store
from tests.helpers.google_poll import fill, outbox, provisioned, tick


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle) -> App:
    return provisioned(wujin_dir, google)


# --- check and provision ----------------------------------------------------------------------------------


@pytest.fixture
def cli_google(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGoogle, str]]:
    key = service_account_json()
    monkeypatch.setenv("HUIZONG_GOOGLE_CREDENTIALS", key)
    monkeypatch.setenv("HUIZONG_STORE", "sqlite")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        token_exchange(mock)
        yield expect_provision_requests(FakeGoogle(mock)), key


def test_check_prints_the_folder_and_the_address_to_share_with(
    cli_google: tuple[FakeGoogle, str], wujin_dir: Path
) -> None:
    google, key = cli_google
    enable_google(wujin_dir, units=2)
    got = CliRunner().invoke(cli, ["google", "check", str(wujin_dir)])
    assert got.exit_code == 0, got.output
    assert f"服务账号：{SA_EMAIL}" in got.output and "文件夹：活动周报送（FOLDER123）" in got.output
    assert "可以在此文件夹中新建表格：是" in got.output
    assert [r[0] for r in google.requests] == ["drive.files.get"]
    assert "PRIVATE KEY" not in got.output and json.loads(key)["private_key"][40:80] not in got.output

    # In a My Drive the service account may be an editor and still own nothing: said plainly.
    del google.folder["driveId"]
    my_drive = CliRunner().invoke(cli, ["google", "check", str(wujin_dir)])
    assert (
        my_drive.exit_code == 1
        and "共享云端硬盘" in my_drive.output
        and "没有自己的存储空间" in my_drive.output
    )

    google.folder["capabilities"]["canAddChildren"] = False
    viewer = CliRunner().invoke(cli, ["google", "check", str(wujin_dir)])
    assert (
        viewer.exit_code == 1
        and "可以在此文件夹中新建表格：否" in viewer.output
        and "“内容管理员”" in viewer.output
    )

    google.folder["id"] = "SOMETHING-ELSE"
    missing = CliRunner().invoke(cli, ["google", "check", str(wujin_dir)])
    assert missing.exit_code == 2
    assert (
        "无法访问 Google 云端硬盘文件夹 FOLDER123（HTTP 404）" in missing.output
        and SA_EMAIL in missing.output
    )


def test_check_explains_a_disabled_api(cli_google: tuple[FakeGoogle, str], wujin_dir: Path) -> None:
    google, _ = cli_google
    enable_google(wujin_dir, units=2)
    google.failing("drive.files.get", 403, reason="accessNotConfigured")
    got = CliRunner().invoke(cli, ["google", "check", str(wujin_dir)])
    assert got.exit_code == 2 and "启用" in got.output and "Google Drive API" in got.output


def test_provision_command_twice(cli_google: tuple[FakeGoogle, str], wujin_dir: Path) -> None:
    google, _ = cli_google
    enable_google(wujin_dir, units=2)
    first = CliRunner().invoke(cli, ["google", "provision", str(wujin_dir)])
    assert first.exit_code == 0, first.output
    assert "新建 4 个" in first.output and "drive.files.create=4" in first.output
    second = CliRunner().invoke(cli, ["google", "provision", str(wujin_dir)])
    assert second.exit_code == 0 and "新建 0 个" in second.output and "已就绪 4 个" in second.output
    assert len(google.created()) == 4
    dry = CliRunner().invoke(cli, ["google", "provision", str(wujin_dir), "--dry-run"])
    assert dry.exit_code == 0 and "试运行" in dry.output


def test_provision_command_without_google_settings(wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["google", "provision", str(wujin_dir)])
    assert got.exit_code == 2 and "没有 google 设置" in got.output


# --- publish-master ---------------------------------------------------------------------------------------


def test_publish_master_command(wujin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUIZONG_GOOGLE_CREDENTIALS", service_account_json())
    monkeypatch.setenv("HUIZONG_STORE", "sqlite")
    enable_google(wujin_dir)
    fill_store(open_app(wujin_dir))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        token_exchange(mock)
        google = FakeGoogle(mock)
        got = CliRunner().invoke(cli, ["google", "publish-master", str(wujin_dir), "--today", "2022-11-25"])
        assert got.exit_code == 0, got.output
        sid = next(iter(google.files))
        assert f"汇总表：https://docs.google.com/spreadsheets/d/{sid}/edit" in got.output
        assert "（本次新建）" in got.output and f"已共享（只读）给：{ORGANISER}" in got.output
        assert "已发布：总览 " in got.output and "报送情况 40，活动安排 3" in got.output
        assert "API 调用 5 次" in got.output
        overview = google.grids(sid)["总览"]
        assert overview[1][1] == pytest.approx(plain_value(dt.datetime(2022, 11, 25, 12))[0])

        again = CliRunner().invoke(cli, ["google", "publish-master", str(wujin_dir)])
        assert again.exit_code == 0 and "（本次新建）" not in again.output and "API 调用 3 次" in again.output


def test_publish_master_command_without_google_settings(wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["google", "publish-master", str(wujin_dir)])
    assert got.exit_code == 2 and "没有 google 设置" in got.output


# --- poll -------------------------------------------------------------------------------------------------


def test_poll_command_checks_and_reports(
    google: FakeGoogle, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUIZONG_GOOGLE_CREDENTIALS", service_account_json())
    assert google.mock is not None
    token_exchange(google.mock)
    unit = app.roster.units[0]
    fill(google, app, unit, break_date=True)
    tick(google, app, unit)
    got = CliRunner().invoke(cli, ["google", "poll", str(app.folder), "--today", "2022-11-20"])
    assert got.exit_code == 0, got.output
    assert "检查 1 个" in got.output and f"{unit.code} plan: 有1个问题 新版本 v1 回执：sent" in got.output
    assert "新版本 1 个，回执 1 封；接口调用 3 次。" in got.output  # list, batchGet, batchUpdate
    as_json = CliRunner().invoke(cli, ["google", "poll", str(app.folder), "--json"])
    assert as_json.exit_code == 0, as_json.output
    result = json.loads(as_json.output)
    assert (
        result["checks"] == []
        and result["versions_created"] == 0
        and result["calls"] == {"drive.files.list": 1}
    )
    (receipt,) = outbox(app)
    assert "有错误待修改" in receipt["Subject"]


def test_poll_command_without_google_settings(wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["google", "poll", str(wujin_dir)])
    assert got.exit_code != 0 and "没有 google 设置" in got.output
