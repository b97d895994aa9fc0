"""The web form in a real browser: Debian's chromium (headless, selenium, /usr/bin/chromedriver) against
the app served by uvicorn on 127.0.0.1, on the wujin-2022 example with its SQLite store and mail outbox.

A unit opens its link at a phone viewport with WeChat's user agent, types the plan's one-record fields,
adds, copies and removes activity rows, picks from dropdowns and dates, submits with a wrong number, sees
the message next to that field, fixes it, submits again and sees 已提交; the version is read back from the
store and the receipt from the outbox. The same at a desktop width, and once with JavaScript disabled
(the form must still submit). Screenshots of the phone and desktop pages, empty and with problems, are
written to docs/images/ (shown in docs/web-form.md) when HUIZONG_SCREENSHOTS is set.

Skipped, saying why, where chromium or chromedriver is not installed (tests/helpers/browser.py).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from functions.bootstrap import App, open_app
from functions.services.loop import consolidate
from functions.services.status.unit_states import unit_statuses
from functions.services.web.links import campaign_secret, link_token
from tests.helpers.browser import (
    DESKTOP,
    PHONE,
    PLAN_CHOICES,
    PLAN_MATERIALS,
    PLAN_ROW,
    Viewport,
    browser_binaries,
    chromium,
    click_to_next_page,
    full_page_screenshot,
    served_web_app,
)
from tests.helpers.paths import ROOT

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

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


def _link(app: App, base: str, unit: str, deliverable: str = "plan") -> str:
    return f"{base}/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, unit, deliverable)}"


def _by_name(browser: WebDriver, name: str) -> WebElement:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.NAME, name)


def _type(browser: WebDriver, name: str, text: str) -> None:
    box = _by_name(browser, name)
    box.clear()
    box.send_keys(text)


def _pick(browser: WebDriver, name: str, choice: str) -> None:
    from selenium.webdriver.support.select import Select

    Select(_by_name(browser, name)).select_by_visible_text(choice)


def _date(browser: WebDriver, name: str, day: dt.date) -> None:
    """A date into a date input. The keys a date input takes follow the browser's locale (年/月/日 order in
    zh-CN), so the value is set the way the date picker sets it: the value, then an input/change event.
    """
    box = _by_name(browser, name)
    browser.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
        "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        box,
        day.isoformat(),
    )
    assert box.get_attribute("value") == day.isoformat()


def _cards(browser: WebDriver) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, '.rows[data-table="activities"] .row-card')


def _index(card: WebElement) -> str:
    return str(card.get_dom_attribute("data-index"))


def _fill_row(browser: WebDriver, index: str, **over: str) -> None:
    values = {**PLAN_ROW, **over}
    for key in ("name", "venue", "expected_participants", "lead", "phone"):
        _type(browser, f"activities.{index}.{key}", values[key])
    for key, choice in PLAN_CHOICES.items():
        _pick(browser, f"activities.{index}.{key}", over.get(key, choice))
    _date(browser, f"activities.{index}.start_date", dt.date(2022, 12, 3))
    for box in browser.find_elements("css selector", f'input[name="activities.{index}.audience"]'):
        if box.get_dom_attribute("value") in ("社区居民", "老年人") and not box.is_selected():
            box.click()


def _fill_materials(browser: WebDriver) -> None:
    for name, text in PLAN_MATERIALS.items():
        _type(browser, name, text)


def _click(browser: WebDriver, css: str, within: WebElement | None = None) -> None:
    target = (within or browser).find_element("css selector", css)
    # The sticky bar of save/submit buttons at the bottom may cover a button: scroll it to the middle first.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", target)
    target.click()


def _submit(browser: WebDriver, action: str) -> None:
    click_to_next_page(
        browser, browser.find_element("css selector", f'button[name="action"][value="{action}"]')
    )


def _field_issues(browser: WebDriver, name: str) -> list[str]:
    """The codes of the issues shown in the block of the field named `name`."""
    box = _by_name(browser, name)
    block = box.find_element("xpath", "./ancestor::div[contains(@class, 'field')][1]")
    return [str(p.get_dom_attribute("data-code")) for p in block.find_elements("css selector", ".issue")]


def _shot(browser: WebDriver, name: str, *, whole: bool) -> None:
    """A screenshot for the docs: the phone's first screen, or the whole page of a desktop (up to 2400 px).
    Only on request (HUIZONG_SCREENSHOTS=1), so a test run leaves the tree as it was."""
    if not os.environ.get("HUIZONG_SCREENSHOTS"):
        return
    browser.execute_script("window.scrollTo(0, 0)")
    if whole:
        full_page_screenshot(browser, SHOTS / name, max_height=2400)
    else:
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / name))


def _open(browser: WebDriver, url: str) -> None:
    browser.get(url)
    assert browser.current_url.endswith("/form/plan"), browser.current_url  # the token left the URL
    assert "/u/" not in browser.current_url


def test_phone_fill_rows_submit_with_error_fix_resubmit(served: tuple[App, str], tmp_path: Path) -> None:
    app, base = served
    with chromium(tmp_path / "profile", PHONE) as browser:
        _open(browser, _link(app, base, "WJ009"))
        body = browser.find_element("tag name", "body").text
        unit = app.roster.get("WJ009")
        assert unit is not None and unit.name in body and "未提交" in body
        # no request outside the app: every script, style and image comes from the page's own origin
        assert browser.execute_script(
            "return performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin))"
        )
        # a phone sees one column of cards
        card = _cards(browser)[0]
        assert card.value_of_css_property("display") == "block"
        _shot(browser, "web-form-phone.png", whole=False)

        _fill_materials(browser)
        first = _index(_cards(browser)[0])
        _fill_row(browser, first)
        # copy the first row: the copy keeps what was typed, under its own field names
        _click(browser, ".copy-row", _cards(browser)[0])
        assert len(_cards(browser)) == 2
        second = _index(_cards(browser)[1])
        assert second != first
        assert _by_name(browser, f"activities.{second}.venue").get_attribute("value") == PLAN_ROW["venue"]
        assert _by_name(browser, f"activities.{second}.start_date").get_attribute("value") == "2022-12-03"
        _type(browser, f"activities.{second}.name", "家庭教育讲座")
        _pick(browser, f"activities.{second}.category", "讲座")
        # add a row, then one more that is removed again
        _click(browser, "button.add-row")
        _click(browser, "button.add-row")
        assert len(_cards(browser)) == 4
        legends = [c.find_element("tag name", "legend").text for c in _cards(browser)]
        assert legends == ["第 1 行", "第 2 行", "第 3 行", "第 4 行"]
        _click(browser, ".remove-row", _cards(browser)[3])
        assert len(_cards(browser)) == 3
        third = _index(_cards(browser)[2])
        _fill_row(browser, third, name="老年人书法班", expected_participants="很多")

        _submit(browser, "submit")
        # the problem is where the field is, in the summary, and the state says so
        assert _field_issues(browser, "activities.2.expected_participants") == ["bad-number"]
        assert _field_issues(browser, "activities.0.expected_participants") == []
        summary = browser.find_element("id", "summary").text
        assert "“预计参与人数”应填数字" in summary and "有 1 个错误需要修改" in summary
        assert browser.find_element("css selector", "dd.state").text == "有问题"
        _shot(browser, "web-form-phone-problems.png", whole=False)
        stored = app.store.latest("WJ009", "plan")
        assert stored is not None and stored.status == "submitted" and stored.error_count == 1

        # the summary's link jumps to the field
        _click(browser, "#summary a")
        assert browser.current_url.endswith("#f-activities-2-expected_participants")

        # fix it and submit again
        _type(browser, "activities.2.expected_participants", "80")
        _submit(browser, "submit")
        assert browser.find_element("css selector", "dd.state").text == "已提交"
        assert "回执已发送" in browser.find_element("id", "summary").text
        assert browser.find_elements("css selector", ".issue.error") == []

    version = app.store.latest("WJ009", "plan")
    assert version is not None and version.status == "submitted" and version.source_kind == "web"
    assert version.error_count == 0
    rows = version.tables["activities"]
    assert [r["name"] for r in rows] == ["智慧助老手机课堂", "家庭教育讲座", "老年人书法班"]
    assert [r["category"] for r in rows] == ["培训", "讲座", "培训"]
    assert rows[2]["expected_participants"] == 80
    assert rows[0]["start_date"] == dt.date(2022, 12, 3) and rows[0]["audience"] == ["社区居民", "老年人"]
    assert version.tables["plan_materials"][0]["filled_by"] == "李老师"
    receipts = [p.read_bytes() for p in app.paths.outbox.glob("*.eml")]
    assert any(b"hutangsqjy@example.org" in r for r in receipts)
    # downstream it is any other submission: `huizong status` counts it valid, the master has its rows
    (status,) = [
        s
        for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == "WJ009" and s.deliverable.key == "plan"
    ]
    assert status.state == "valid"
    consolidate(app, now=NOW)
    sheet = load_workbook(app.paths.master, read_only=True)["活动安排"]
    names = [r for r in sheet.iter_rows(values_only=True) if "WJ009" in r]
    assert {"智慧助老手机课堂", "家庭教育讲座", "老年人书法班"} <= {v for r in names for v in r}


def _desktop_or_phone(
    served: tuple[App, str], tmp_path: Path, viewport: Viewport, unit: str, shot: str
) -> None:
    app, base = served
    with chromium(tmp_path / "profile", viewport) as browser:
        _open(browser, _link(app, base, unit))
        card = _cards(browser)[0]
        # a wide screen lays a card's fields side by side
        assert card.value_of_css_property("display") == "grid"
        _shot(browser, f"{shot}.png", whole=True)
        _fill_materials(browser)
        _fill_row(browser, _index(card), phone="12345")
        _submit(browser, "save")
        assert _field_issues(browser, "activities.0.phone") == ["bad-phone"]
        assert browser.find_element("css selector", "dd.state").text == "草稿（有问题）"
        _shot(browser, f"{shot}-problems.png", whole=True)
    draft = app.store.latest(unit, "plan")
    assert draft is not None and draft.status == "draft"


def test_desktop_rows_are_wide_and_a_draft_shows_its_problems(
    served: tuple[App, str], tmp_path: Path
) -> None:
    _desktop_or_phone(served, tmp_path, DESKTOP, "WJ010", "web-form-desktop")


def test_without_javascript_the_form_still_saves_and_submits(served: tuple[App, str], tmp_path: Path) -> None:
    app, base = served
    with chromium(tmp_path / "profile", PHONE, javascript=False) as browser:
        _open(browser, _link(app, base, "WJ011"))
        assert len(_cards(browser)) == 1  # one empty row to type in
        # the page's script really is off: its add-row button does nothing
        _click(browser, "button.add-row")
        assert len(_cards(browser)) == 1
        _fill_materials(browser)
        # no script: the date is typed into the input as any text box would be
        _fill_row(browser, "0")
        _submit(browser, "save")
        # the server added an empty row after the saved one: the second activity goes there
        assert len(_cards(browser)) == 2
        _fill_row(browser, _index(_cards(browser)[1]), name="亲子阅读")
        _submit(browser, "submit")
        assert browser.find_element("css selector", "dd.state").text == "已提交"
    version = app.store.latest("WJ011", "plan")
    assert version is not None and version.status == "submitted"
    assert [r["name"] for r in version.tables["activities"]] == ["智慧助老手机课堂", "亲子阅读"]
