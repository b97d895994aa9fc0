"""Uploads in a real browser (issue 14 §5): Debian's chromium at a phone viewport, against the app served by
uvicorn on 127.0.0.1, on the wujin-2022 example with its SQLite store.

A unit opens its summary link on a phone, fills the statistics, picks two photos (real JPEGs with EXIF,
written to disk) in the 活动照片 field, saves a draft (the page lists both files), then adds a third in a
second save and submits; the submitted version's attachments and their bytes are read back from the store.

Skipped, saying why, where chromium or chromedriver is not installed (tests/helpers/browser.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from functions.bootstrap import App, open_app
from functions.services.web.links import campaign_secret, link_token
from tests.helpers.browser import PHONE, browser_binaries, chromium, click_to_next_page, served_web_app
from tests.helpers.evidence import jpeg
from tests.helpers.web_form_values import SUMMARY_STATS

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)  # the summary's due day
TAKEN = dt.datetime(2022, 12, 4, 15, 0)  # in the campaign week
STATS = SUMMARY_STATS


@pytest.fixture(scope="module", autouse=True)
def _need_browser() -> None:
    browser_binaries()


@pytest.fixture
def served(wujin_dir: Path) -> Iterator[tuple[App, str]]:
    app = open_app(wujin_dir)
    with served_web_app(app, NOW) as base:
        yield app, base


def _press(browser: WebDriver, action: str) -> None:
    click_to_next_page(
        browser, browser.find_element("css selector", f'button[name="action"][value="{action}"]')
    )


def _kept_names(browser: WebDriver) -> list[str]:
    return [
        e.text for e in browser.find_elements("css selector", '[data-rule="photos"] .kept-file .file-name')
    ]


def test_phone_uploads_photos_over_two_saves_and_submits(served: tuple[App, str], tmp_path: Path) -> None:
    app, base = served
    photos = []
    for n in (1, 2, 3):
        path = tmp_path / f"IMG_{n:04d}.jpg"
        path.write_bytes(jpeg(f"phone photo {n}", TAKEN))
        photos.append(path)
    link = f"{base}/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, 'WJ009', 'summary')}"
    with chromium(tmp_path / "profile", PHONE) as browser:
        browser.get(link)
        assert browser.current_url.endswith("/form/summary"), browser.current_url
        for name, text in STATS.items():
            box = browser.find_element("name", name)
            box.clear()
            box.send_keys(text)
        field = browser.find_element("name", "file.photos")
        assert field.get_dom_attribute("multiple") is not None
        assert "image/jpeg" in str(field.get_dom_attribute("accept"))
        # two photos picked at once, as a phone's gallery does
        field.send_keys("\n".join(str(p) for p in photos[:2]))
        _press(browser, "save")
        assert sorted(_kept_names(browser)) == ["IMG_0001.jpg", "IMG_0002.jpg"]
        draft = app.store.latest("WJ009", "summary")
        assert draft is not None and draft.status == "draft"
        assert len(app.store.attachments(draft.id)) == 2

        # later, a third photo, then submit: the draft's photos go with it
        browser.find_element("name", "file.photos").send_keys(str(photos[2]))
        _press(browser, "submit")
        body = browser.find_element("tag name", "body").text
        assert "已提交" in body, body
        assert sorted(_kept_names(browser)) == ["IMG_0001.jpg", "IMG_0002.jpg", "IMG_0003.jpg"]

    version = app.store.latest("WJ009", "summary")
    assert version is not None and version.status == "submitted" and version.source_kind == "web"
    refs = app.store.attachments(version.id)
    assert sorted((r.rule, r.name, r.kind, r.taken) for r in refs) == [
        ("photos", f"IMG_000{n}.jpg", "jpg", TAKEN) for n in (1, 2, 3)
    ]
    for ref, path in zip(sorted(refs, key=lambda r: r.name), photos, strict=True):
        assert app.store.get_blob(ref.sha256) == path.read_bytes()
    assert version.tables["summary_materials"][0]["photo_count"] == 3
