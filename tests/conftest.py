"""Fixtures every tier uses (the example campaigns), and the tier marks.

Each test gets the mark of the folder it is in (unit, contract, integration, e2e), so `pytest -m unit`
selects the same tests as `pytest tests/unit`. Fixtures only one tier needs live in that tier's conftest.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.config.loading import load_campaign, load_roster
from functions.services.setup.examples import write_example
from schemas.campaign import Campaign
from schemas.roster import Roster

TIERS = ("unit", "contract", "integration", "e2e")
_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            parts = Path(item.path).resolve().relative_to(_TESTS).parts
        except ValueError:  # not under tests/ (this conftest does not apply there anyway)
            continue
        tier = parts[0] if len(parts) > 1 else ""
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test module belongs in one of tests/{{{','.join(TIERS)}}}/"
            )
        item.add_marker(getattr(pytest.mark, tier))


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


@pytest.fixture(autouse=True)
def _google_requests_follow_the_discovery_documents() -> Iterator[None]:
    """Fails a test whose code sent FakeGoogle a request the real API would refuse (tests/fakes/google.py
    checks each against the discovery documents), even when the code swallowed the 400 it got."""
    fake = sys.modules.get("tests.fakes.google")  # never imported here: most tests have no Google
    before = len(fake.DISCOVERY_VIOLATIONS) if fake is not None else 0
    yield
    fake = sys.modules.get("tests.fakes.google")
    if fake is not None and len(fake.DISCOVERY_VIOLATIONS) > before:
        new = fake.DISCOVERY_VIOLATIONS[before:]
        del fake.DISCOVERY_VIOLATIONS[before:]
        pytest.fail("requests the real Google API would refuse:\n" + "\n".join(new[:20]), pytrace=False)
