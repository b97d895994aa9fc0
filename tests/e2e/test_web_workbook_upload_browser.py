"""A filled workbook uploaded in a real browser (issue 14 §5): Debian's chromium at a phone viewport, against
the app served by uvicorn on 127.0.0.1, on the wujin-2022 example with its SQLite store.

A school opens its plan link on a phone, picks its filled 填报表 (built by the template builder and filled by
the workbook filler, one figure wrong) in the upload section and presses 上传并提交; the result page says
the workbook was read and submitted, lists the problem by the workbook's cell, shows it next to the field
of the form now filled from the stored version, and the store holds the submitted version.

Skipped, saying why, where chromium or chromedriver is not installed (tests/helpers/browser.py).
HUIZONG_SCREENSHOTS=1 writes the result page's screenshot to docs/images/ (shown in docs/web-form.md).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.bootstrap import App, open_app
from functions.services.web.links import campaign_secret, link_token
from tests.helpers.browser import PHONE, browser_binaries, chromium, click_to_next_page, served_web_app
from tests.helpers.paths import ROOT
from tests.helpers.workbooks import school_plan, write_workbook

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)  # before the plan's due date (2022-11-24)
SHOTS = ROOT / "docs" / "images"


@pytest.fixture(scope="module", autouse=True)
def _need_browser() -> None:
    browser_binaries()


@pytest.fixture
def served(wujin_dir: Path) -> Iterator[tuple[App, str]]:
    app = open_app(wujin_dir)
    with served_web_app(app, NOW) as base:
        yield app, base


def test_phone_uploads_a_filled_workbook_and_sees_the_result(served: tuple[App, str], tmp_path: Path) -> None:
    app, base = served
    unit = app.roster.get("WJ015")
    assert unit is not None
    entries = school_plan(app.campaign, unit)
    entries["activities"][1]["expected_participants"] = "很多"
    workbook = write_workbook(tmp_path / "湖塘实验中学-活动安排.xlsx", app.campaign, "plan", unit, entries)
    link = f"{base}/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, 'WJ015', 'plan')}"

    with chromium(tmp_path / "profile", PHONE) as browser:
        browser.get(link)
        assert browser.current_url.endswith("/form/plan"), browser.current_url
        section = browser.find_element("id", "upload")
        assert "已经填好了Excel表？直接上传" in section.text
        # Folded at first, so the form comes first on a phone; the unit opens it.
        template = section.find_element("css selector", "a[href='/form/plan/template']")
        assert not template.is_displayed()
        section.find_element("tag name", "summary").click()
        assert template.is_displayed()
        field = section.find_element("name", "workbook")
        assert ".xlsx" in str(field.get_dom_attribute("accept"))
        field.send_keys(str(workbook))
        click_to_next_page(browser, section.find_element("css selector", "button.upload-submit"))

        body = browser.find_element("tag name", "body").text
        assert "已读取上传的工作簿“湖塘实验中学-活动安排.xlsx”并提交" in body, body
        assert "已提交，但有问题需要修改后重新提交。" in body
        version = app.store.latest("WJ015", "plan")
        assert version is not None and (version.seq, version.status, version.source_kind) == (
            1,
            "submitted",
            "web",
        )
        [bad] = version.report.errors
        assert bad.code == "bad-number" and bad.cell
        summary = browser.find_element("id", "summary").text
        assert f"{bad.sheet}!{bad.cell}" in summary
        # The form holds the workbook's rows; the wrong figure's issue sits by the second row's field.
        name = browser.find_element("name", "activities.1.name")
        assert name.get_attribute("value") == "家庭教育主题讲座"
        box = browser.find_element("name", "activities.1.expected_participants")
        block = box.find_element("xpath", "./ancestor::div[contains(@class, 'field')][1]")
        codes = [p.get_dom_attribute("data-code") for p in block.find_elements("css selector", ".issue")]
        assert codes == ["bad-number"]
        # On a phone the page is one column: nothing wider than the screen.
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE.width, width
        if os.environ.get("HUIZONG_SCREENSHOTS"):
            browser.execute_script("window.scrollTo(0, 0)")
            SHOTS.mkdir(parents=True, exist_ok=True)
            assert browser.save_screenshot(str(SHOTS / "web-form-phone-upload.png"))
