"""`huizong review return` then `huizong google poll`: the return reaches the unit's Google sheet (issue 15).

Through click's CliRunner with a real service-account key whose token exchange is intercepted, against the
in-memory Google (tests/fakes/google.py behind `responses`, which checks every request against the
discovery documents).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from functions.bootstrap import App
from functions.cli.main import cli
from functions.services.google.review_status import COMMENT_CELL, REVIEW_CELL
from sheets_templates import layout
from tests.fakes.google import FakeGoogle
from tests.helpers.google import service_account_json, token_exchange
from tests.helpers.google_poll import fill, provisioned, sheet_of, tick


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("HUIZONG_GOOGLE_CREDENTIALS", service_account_json())
    opened = provisioned(wujin_dir, google)
    assert google.mock is not None
    token_exchange(google.mock)
    return opened


def test_a_return_on_the_command_line_shows_in_the_sheet_after_the_next_poll(
    google: FakeGoogle, app: App
) -> None:
    unit = app.roster.units[0]
    fill(google, app, unit)
    tick(google, app, unit)
    first = CliRunner().invoke(cli, ["google", "poll", str(app.folder), "--today", "2022-11-20"])
    assert first.exit_code == 0, first.output

    comment = "+1 请把活动地点写完整"  # "+" would be read as a formula by USER_ENTERED: it must stay text
    google.reset_counts()
    returned = CliRunner().invoke(
        cli,
        [
            "review",
            "return",
            str(app.folder),
            unit.code,
            "plan",
            "--comment",
            comment,
            "--today",
            "2022-11-21",
        ],
    )
    assert returned.exit_code == 0, returned.output
    assert google.counts() == {}  # the action itself never waits on Google

    polled = CliRunner().invoke(cli, ["google", "poll", str(app.folder), "--today", "2022-11-21"])
    assert polled.exit_code == 0, polled.output
    assert f"审核结果已写入 1 个表格：{unit.code} plan" in polled.output
    tab = google.tab(sheet_of(app, unit), layout.INSTRUCTIONS_SHEET["zh"])
    assert tab.value(REVIEW_CELL) == "已退回" and tab.value(COMMENT_CELL) == comment
