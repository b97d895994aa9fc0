"""The organiser's console in a real browser: Debian's chromium (headless, selenium, /usr/bin/chromedriver)
against the app served by uvicorn on 127.0.0.1 (a free port), on the wujin-2022 example with people added
(an organiser and the coordinator of 湖塘镇), its SQLite store and its mail outbox.

On a phone and on a desktop, the organiser asks for a sign-in link, opens the link read from the outbox,
sees the overview's SVG bar charts drawn, filters the unit list down to the units with errors, opens one,
returns it with a comment (the 【退回修改】 mail lands in the outbox and the unit's own web form shows the
comment) and approves another. A coordinator sees only the units of 湖塘镇 and gets the 404 page for a
牛塘镇 unit's address typed into the address bar. The whole loop once more at a desktop width: returned,
fixed and submitted through the unit's form, approved, and the master's 报送情况 says 已通过. Screenshots for docs/console.md are written to
docs/images/ only when HUIZONG_SCREENSHOTS is set.

Skipped, saying why, where chromium or chromedriver is not installed (tests/helpers/browser.py).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from functions.bootstrap import App, open_app
from functions.services.loop import consolidate
from functions.services.review.records import all_records
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
from tests.helpers.campaigns import customise
from tests.helpers.console import mails
from tests.helpers.paths import ROOT
from tests.helpers.store import report, submission

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
SHOTS = ROOT / "docs" / "images"
ORGANISER = "wang@example.org"
HUTANG = "li@example.org"  # coordinator of 湖塘镇
WITH_ERRORS = "WJ009"  # 湖塘镇, sent with errors
HUTANG_VALID = "WJ015"  # 湖塘镇, valid
NIUTANG = "WJ010"  # 牛塘镇, valid
COMMENT = "活动安排缺少负责人电话，请补充后重新提交"

PEOPLE = f"""
review: optional
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
  - {{name: 李协调, email: {HUTANG}, role: coordinator, areas: [湖塘镇]}}
"""


# The screenshots this module refreshes (HUIZONG_SCREENSHOTS=1), each shown in docs/console.md.
SCREENSHOTS = (
    "console-login.png",
    "console-overview.png",
    "console-overview-phone.png",
    "console-units.png",
    "console-unit-returned.png",
)


@pytest.fixture
def served(wujin_dir: Path) -> Iterator[tuple[App, str]]:
    browser_binaries()  # skip, saying why, before anything is started
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    for unit, errors in ((WITH_ERRORS, 2), (HUTANG_VALID, 0), (NIUTANG, 0)):
        sub = submission(unit, "plan", n=1, source=f"inbox/{unit}.xlsx")
        app.store.add_version(
            sub, report(sub, errors=errors), received_at=NOW - dt.timedelta(days=2), late=False
        )
    with served_web_app(app, NOW) as base:
        yield app, base


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _body(browser: WebDriver) -> str:
    return str(browser.find_element("tag name", "body").text)


def _click(browser: WebDriver, css: str) -> None:
    click_to_next_page(browser, browser.find_element("css selector", css))


def _shot(browser: WebDriver, name: str, *, whole: bool) -> None:
    """A screenshot for docs/console.md, only on request (HUIZONG_SCREENSHOTS=1): a test run leaves the
    tree as it was."""
    if not os.environ.get("HUIZONG_SCREENSHOTS"):
        return
    browser.execute_script("window.scrollTo(0, 0)")
    if whole:
        full_page_screenshot(browser, SHOTS / name, max_height=2400)
    else:
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / name))


def _sign_in(browser: WebDriver, app: App, base: str, address: str, *, shot: str = "") -> None:
    """Ask for a link on the login page, open the link of the one new mail to `address`, press 登录."""
    seen = {m["Message-ID"] for m in mails(app)}
    browser.get(f"{base}/admin/")
    assert browser.current_url.endswith("/admin/login")  # not signed in: sent to the login page
    browser.find_element("id", "email").send_keys(address)
    if shot:
        _shot(browser, shot, whole=True)
    _click(browser, "form[action='/admin/login'] button[type=submit]")
    assert "登录链接已发送" in _body(browser)
    fresh = [m for m in mails(app) if m["Message-ID"] not in seen and address in str(m["To"])]
    assert len(fresh) == 1, f"expected one sign-in mail to {address}, found {len(fresh)}"
    link = re.search(re.escape(base) + r"/admin/signin/[A-Za-z0-9_-]+", _text(fresh[0]))
    assert link, "no sign-in link in the mail"
    browser.get(link.group(0))
    _click(browser, "form[action='/admin/signin'] button[type=submit]")
    assert browser.current_url.endswith("/admin/")


def _charts_drawn(browser: WebDriver) -> int:
    """How many SVG charts the overview shows with a visible size and at least one drawn bar."""
    charts = browser.find_elements("css selector", "svg.chart")
    assert charts, "no chart on the overview"
    for chart in charts:
        size = chart.size
        assert size["width"] > 0 and size["height"] > 0, size
        bars = chart.find_elements("css selector", "rect")
        assert bars, "a chart without bars"
        # a bar the browser laid out: its box has an area on the screen
        assert any(
            browser.execute_script(
                "const r = arguments[0].getBoundingClientRect(); return r.width > 0 && r.height > 0;", bar
            )
            for bar in bars
        )
    return len(charts)


def _listed(browser: WebDriver) -> list[str]:
    return [str(e.text) for e in browser.find_elements("css selector", ".unit-row .code")]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=lambda v: v.name)
def test_an_organiser_filters_returns_one_unit_and_approves_another(
    served: tuple[App, str], tmp_path: Path, viewport: Viewport
) -> None:
    app, base = served
    desktop = viewport is DESKTOP
    with chromium(tmp_path / "profile", viewport) as browser:
        _sign_in(browser, app, base, ORGANISER, shot="console-login.png" if desktop else "")

        # the overview: one chart per area and one per unit type for each deliverable, drawn on screen
        assert "报送概览" in _body(browser)
        assert _charts_drawn(browser) == 2 * len(app.campaign.deliverables)
        assert browser.execute_script(
            "return performance.getEntriesByType('resource').every(e => e.name.startsWith(location.origin))"
        )
        _shot(browser, "console-overview.png" if desktop else "console-overview-phone.png", whole=desktop)

        # the unit list, filtered to the units with errors
        browser.get(f"{base}/admin/units")
        assert {WITH_ERRORS, HUTANG_VALID, NIUTANG} <= set(_listed(browser))
        box = browser.find_element("css selector", "input[name=errors]")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
        box.click()
        _click(browser, "form.filters button[type=submit]")
        assert "errors=1" in browser.current_url
        assert _listed(browser) == [WITH_ERRORS]
        assert "错误 2" in browser.find_element("css selector", ".unit-row").text
        if desktop:
            _shot(browser, "console-units.png", whole=True)

        # open it and return it with a comment
        _click(browser, ".unit-row a")
        assert f"/admin/units/{WITH_ERRORS}" in browser.current_url
        section = browser.find_element("id", "d-plan")
        assert "有错误" in section.text or "校验有错误" in section.text
        section.find_element("css selector", "form[action$='/plan/return'] textarea").send_keys(COMMENT)
        _click(browser, "#d-plan form[action$='/plan/return'] button[type=submit]")
        notice = browser.find_element("id", "notice").text
        assert "已退回" in notice, notice
        section = browser.find_element("id", "d-plan")
        assert "已退回" in section.find_element("css selector", ".badges").text
        assert COMMENT in section.find_element("css selector", ".comment").text
        if desktop:
            _shot(browser, "console-unit-returned.png", whole=True)

        # the unit's 退回 mail is in the outbox, once, with the comment and the unit's form link
        unit = app.roster.get(WITH_ERRORS)
        assert unit is not None
        returned = [
            m for m in mails(app) if "退回修改" in str(m["Subject"]) and unit.emails[0] in str(m["To"])
        ]
        assert len(returned) == 1
        mail_text = _text(returned[0])
        assert COMMENT in mail_text and "活动 B2：必填" in mail_text  # the comment and the open problems

        # the unit opens its own form link (wujin-2022's mails carry none: it reports by mail) and reads
        # the comment on top of the form
        token = link_token(campaign_secret(app.store, now=NOW), app.campaign, WITH_ERRORS, "plan")
        browser.get(f"{base}/u/{token}")
        assert browser.current_url.endswith("/form/plan")
        review = browser.find_element("id", "review")
        assert (
            "退回" in review.text and COMMENT in review.find_element("css selector", ".review-comment").text
        )

        # approve a valid unit of another area
        browser.get(f"{base}/admin/units/{NIUTANG}")
        _click(browser, "#d-plan form[action$='/plan/approve'] button[type=submit]")
        assert "已通过" in browser.find_element("id", "notice").text
        assert "已通过" in browser.find_element("css selector", "#d-plan .badges").text

    # read back from the store: one return and one approval, by the organiser
    records = all_records(app.store)
    assert [(r.action, r.comment) for r in records[(WITH_ERRORS, "plan")]] == [("return", COMMENT)]
    assert [(r.action, r.by) for r in records[(NIUTANG, "plan")]] == [("approve", f"王老师 <{ORGANISER}>")]


def test_a_coordinator_sees_only_their_area_and_gets_404_for_another(
    served: tuple[App, str], tmp_path: Path
) -> None:
    app, base = served
    with chromium(tmp_path / "profile", PHONE) as browser:
        _sign_in(browser, app, base, HUTANG)
        assert "湖塘镇" in browser.find_element("tag name", "h1").text
        assert _charts_drawn(browser) >= 1
        browser.get(f"{base}/admin/units")
        listed = set(_listed(browser))
        assert {WITH_ERRORS, HUTANG_VALID} <= listed and NIUTANG not in listed
        hutang = {u.code for u in app.roster.units if u.area == "湖塘镇"}
        assert listed <= hutang
        # their own unit opens
        browser.get(f"{base}/admin/units/{HUTANG_VALID}")
        assert HUTANG_VALID in browser.find_element("tag name", "h1").text
        # another area's unit, typed into the address bar: the console's 404 page, as for no unit at all
        browser.get(f"{base}/admin/units/{NIUTANG}")
        page = _body(browser)
        assert "页面不存在" in page and "牛塘镇" not in page
        status = browser.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")
        assert status in (404, None)  # responseStatus is recent in chromium; None where it is missing
        browser.get(f"{base}/admin/units/WJ999")
        assert _body(browser) == page


def test_docs_console_shows_every_screenshot_this_test_takes() -> None:
    """Needs no browser: the pictures are committed, and the page must still show each of them."""
    page = (ROOT / "docs" / "console.md").read_text(encoding="utf-8")
    for name in SCREENSHOTS:
        assert f"](images/{name})" in page, name
        png = (SHOTS / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000, name


def _fill_form(browser: WebDriver) -> None:
    """The plan's one-record fields and its first activity row, as a unit types them (the stored version's
    row is in the form already, with its missing fields empty)."""
    from selenium.webdriver.support.select import Select

    def box(name: str) -> object:
        return browser.find_element("name", name)

    for name, text in PLAN_MATERIALS.items():
        field = box(name)
        field.clear()  # type: ignore[attr-defined]
        field.send_keys(text)  # type: ignore[attr-defined]
    card = browser.find_element("css selector", '.rows[data-table="activities"] .row-card')
    index = str(card.get_dom_attribute("data-index"))
    for key, text in PLAN_ROW.items():
        field = box(f"activities.{index}.{key}")
        field.clear()  # type: ignore[attr-defined]
        field.send_keys(text)  # type: ignore[attr-defined]
    for key, choice in PLAN_CHOICES.items():
        Select(box(f"activities.{index}.{key}")).select_by_visible_text(choice)
    browser.execute_script(
        "arguments[0].value = '2022-12-03';arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        box(f"activities.{index}.start_date"),
    )
    for tick in browser.find_elements("css selector", f'input[name="activities.{index}.audience"]'):
        if tick.get_dom_attribute("value") == "社区居民" and not tick.is_selected():
            tick.click()


def test_returned_resubmitted_through_the_form_then_approved_shows_in_the_master(
    served: tuple[App, str], tmp_path: Path
) -> None:
    app, base = served
    with chromium(tmp_path / "profile", DESKTOP) as browser:
        _sign_in(browser, app, base, ORGANISER)
        browser.get(f"{base}/admin/units/{WITH_ERRORS}")
        browser.find_element("css selector", "#d-plan form[action$='/plan/return'] textarea").send_keys(
            COMMENT
        )
        _click(browser, "#d-plan form[action$='/plan/return'] button[type=submit]")
        assert "已退回" in browser.find_element("id", "notice").text

        # the unit, in the same browser (its form's cookie is its own), fixes and submits
        token = link_token(campaign_secret(app.store, now=NOW), app.campaign, WITH_ERRORS, "plan")
        browser.get(f"{base}/u/{token}")
        assert COMMENT in browser.find_element("id", "review").text
        _fill_form(browser)
        _click(browser, 'button[name="action"][value="submit"]')
        assert browser.find_element("css selector", "dd.state").text == "已提交"
        # no longer returned: the new version waits for the organiser's review
        review = browser.find_element("id", "review")
        assert "review-returned" not in str(review.get_dom_attribute("class"))
        assert "待审核" in review.find_element("css selector", ".review-state").text
        assert COMMENT not in review.text  # the comment was for the returned version, not this one

        # the organiser sees the new version waiting for review and approves it
        browser.get(f"{base}/admin/units/{WITH_ERRORS}")
        badges = browser.find_element("css selector", "#d-plan .badges").text
        assert "校验无误" in badges and "汇总计入第 2 版" in badges, badges
        _click(browser, "#d-plan form[action$='/plan/approve'] button[type=submit]")
        assert "已通过" in browser.find_element("css selector", "#d-plan .badges").text

    consolidate(app, now=NOW)
    sheet = load_workbook(app.paths.master, read_only=True)["报送情况"]
    rows = [r for r in sheet.iter_rows(values_only=True) if WITH_ERRORS in r and "已通过" in r]
    assert len(rows) == 1, "the master's 报送情况 does not show WJ009's plan as 已通过"
