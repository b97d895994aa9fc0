"""The review rows' batchUpdate (functions/services/google/review_status.py) against Google's discovery document,
and the same loop on the in-memory way into tests/fakes/google.py (the real GoogleSession, no HTTP mock).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from functions.bootstrap import open_app
from functions.config.loading import load_campaign
from functions.services.google.poll import run_poll
from functions.services.google.provision import provision
from functions.services.google.review_status import (
    COMMENT_CELL,
    NOTHING,
    REVIEW_CELL,
    REVIEW_LABEL_CELL,
    Shown,
    review_requests,
)
from functions.services.review.actions import approve, return_submission
from sheets_templates import layout
from tests.fakes.google import FakeGoogle
from tests.helpers.google import enable_google
from tests.helpers.google_discovery import check_request
from tests.helpers.google_poll import NOW, fill, sheet_of, tick

URL = "https://sheets.googleapis.com/v4/spreadsheets/1Sheet0001Abc:batchUpdate"


@pytest.mark.parametrize(
    "shown",
    [
        Shown("returned", "已退回", '=IMPORTXML("http://x.example","//a") 请补充'),
        Shown("approved", "已通过", ""),
        Shown("pending", "待审核", ""),
        NOTHING,
    ],
)
def test_review_rows_are_a_batch_update_google_accepts(wujin_dir: Path, shown: Shown) -> None:
    campaign = load_campaign(wujin_dir)
    requests = review_requests(campaign, shown)
    assert check_request("POST", URL, {"requests": requests}) == []
    values = [r["updateCells"]["rows"][0]["values"][0]["userEnteredValue"] for r in requests]
    # Every value, the untrusted comment included, is a literal string: never formulaValue.
    assert values == [{"stringValue": v} for v in ("审核结果", shown.label, "审核意见", shown.comment)]


def test_the_loop_on_the_in_memory_transport(wujin_dir: Path) -> None:
    enable_google(wujin_dir, schools=2, sheet_deliverables=["plan"])
    path = wujin_dir / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "review: optional\n", encoding="utf-8")
    google = FakeGoogle()
    app = open_app(wujin_dir)
    assert app.campaign.google is not None
    provision(app.campaign, app.roster, app.store, google.session(app.campaign.google), now=NOW)
    unit = app.roster.units[0]
    fill(google, app, unit)
    tick(google, app, unit)
    run_poll(app, google.session(app.campaign.google), now=NOW)
    tab = google.tab(sheet_of(app, unit), layout.INSTRUCTIONS_SHEET["zh"])
    assert tab.value(REVIEW_CELL) == "待审核"

    return_submission(app, unit.code, "plan", by="organiser", now=NOW, comment="请补充照片")
    assert run_poll(app, google.session(app.campaign.google), now=NOW).reviews_shown == [f"{unit.code} plan"]
    assert (tab.value(REVIEW_LABEL_CELL), tab.value(REVIEW_CELL), tab.value(COMMENT_CELL)) == (
        "审核结果",
        "已退回",
        "请补充照片",
    )
    assert google.violations == []

    # Resubmitted (a unit's edit), then approved an hour later.
    activities = app.campaign.tables_of("plan")[0].title("zh")
    google.user_edit(sheet_of(app, unit), activities, {"F2": "社区学习中心"}, email=unit.emails[0])
    run_poll(app, google.session(app.campaign.google), now=NOW)
    assert (tab.value(REVIEW_CELL), tab.value(COMMENT_CELL)) == ("待审核", "")
    later = NOW + dt.timedelta(hours=1)
    approve(app, unit.code, "plan", by="organiser", now=later)
    run_poll(app, google.session(app.campaign.google), now=later)
    assert tab.value(REVIEW_CELL) == "已通过"
