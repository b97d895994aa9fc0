"""Google work that makes no call: the master's cell values, and a provisioning dry run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import responses

from functions.adapters.google.master_sheet import plain_value
from functions.adapters.store.memory import MemoryStore
from functions.config.loading import load_campaign, load_roster
from functions.services.google.provision import provision, summary_lines
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.google import enable_google

NOW = dt.datetime(2022, 11, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def load(folder: Path) -> tuple[Campaign, Roster]:
    campaign = load_campaign(folder)
    roster, problems = load_roster(folder, campaign)
    assert problems == []
    return campaign, roster


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1:A9)", ("=SUM(A1:A9)", None)),
        ("2024-05-01", ("2024-05-01", None)),
        (123456789012345678, ("123456789012345678", None)),
        (42, (42, None)),
        (float("nan"), ("", None)),
        (True, (True, None)),
        (None, ("", None)),
        (dt.date(2022, 12, 2), (44897, "date")),
        (dt.datetime(2022, 12, 2, 18, 0), (44897.75, "datetime")),
        ("长" * 60_000, ("长" * 50_000, None)),
    ],
)
def test_plain_values(value: Any, expected: tuple[Any, str | None]) -> None:
    assert plain_value(value) == expected


def test_dry_run_touches_nothing(wujin_dir: Path) -> None:
    enable_google(wujin_dir, units=2)
    campaign, roster = load(wujin_dir)
    store = MemoryStore()
    with responses.RequestsMock():  # any request would fail the test
        result = provision(campaign, roster, store, None, now=NOW, dry_run=True)
    assert [s.action for s in result.slots] == ["planned"] * 4 and store.claims() == []
    assert "试运行" in summary_lines(result, campaign, dry_run=True)[0]
