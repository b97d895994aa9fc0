from __future__ import annotations

from pathlib import Path

import pytest

from functions.config.loading import load_campaign, load_roster
from functions.services.setup.examples import write_example
from schemas.campaign import Campaign
from schemas.roster import Roster


@pytest.fixture
def wujin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "wujin"
    write_example(folder, "wujin-2022")
    return folder


@pytest.fixture
def xinbei_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "xinbei"
    write_example(folder, "xinbei-2017")
    return folder


@pytest.fixture
def wujin(wujin_dir: Path) -> tuple[Campaign, Roster]:
    campaign = load_campaign(wujin_dir)
    roster, problems = load_roster(wujin_dir, campaign)
    assert problems == []
    return campaign, roster
