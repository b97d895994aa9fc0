"""Direct uploads in a real browser (issue 14 §5, cloud): static/direct_upload.js in Debian's chromium at a
phone viewport, against the app under uvicorn on 127.0.0.1 with an upload target whose "bucket" is another
loopback server (tests/fakes/upload_server.py: S3's presigned POST, its CORS, its refusals).

A unit picks two photos at once: the script asks the app for a POST per file, posts each to the other
origin (the page's CSP allows exactly that one), and puts the keys in the form; the file input is emptied
so the save carries no bytes; the save takes both objects into the store. A photo over the rule's size is
refused before anything is sent, in Chinese, next to the field.

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
from tests.fakes.upload_server import LoopbackUploads, loopback_uploads
from tests.helpers.browser import PHONE, browser_binaries, chromium, click_to_next_page, served_web_app
from tests.helpers.evidence import jpeg

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)
TAKEN = dt.datetime(2022, 12, 4, 15, 0)


@pytest.fixture(scope="module", autouse=True)
def _need_browser() -> None:
    browser_binaries()


@pytest.fixture
def served(wujin_dir: Path) -> Iterator[tuple[App, str, LoopbackUploads]]:
    app = open_app(wujin_dir)
    with loopback_uploads() as target:
        app.uploads = target  # as functions/bootstrap.py wires S3 for the web form's Lambda
        with served_web_app(app, NOW) as base:
            yield app, base, target


def _lines(browser: WebDriver) -> list[str]:
    return [e.text for e in browser.find_elements("css selector", '[data-rule="photos"] .direct-upload')]


def _wait_for(browser: WebDriver, done: object, timeout: float = 60) -> None:
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, timeout).until(done)  # type: ignore[arg-type]


def test_phone_photos_go_to_storage_and_the_save_takes_them(
    served: tuple[App, str, LoopbackUploads], tmp_path: Path
) -> None:
    app, base, target = served
    photos = []
    for n in (1, 2):
        path = tmp_path / f"IMG_{n:04d}.jpg"
        path.write_bytes(jpeg(f"phone photo {n}", TAKEN))
        photos.append(path)
    link = f"{base}/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, 'WJ009', 'summary')}"
    with chromium(tmp_path / "profile", PHONE) as browser:
        browser.get(link)
        assert browser.current_url.endswith("/form/summary"), browser.current_url
        field = browser.find_element("name", "file.photos")
        field.send_keys("\n".join(str(p) for p in photos))
        _wait_for(browser, lambda b: sum("已上传，保存后生效" in t for t in _lines(b)) == 2)
        assert sorted(t.split(" ")[0] for t in _lines(browser)) == ["IMG_0001.jpg", "IMG_0002.jpg"]
        keys = [
            e.get_attribute("value")
            for e in browser.find_elements("css selector", 'input[type="hidden"][name="upload.photos"]')
        ]
        assert len(keys) == 2 and set(keys) == set(target.objects)
        assert target.posts == [204, 204]
        # the bytes went to storage: the form's own post carries none
        assert browser.execute_script("return arguments[0].files.length", field) == 0

        click_to_next_page(
            browser, browser.find_element("css selector", 'button[name="action"][value="save"]')
        )
        kept = browser.find_elements("css selector", '[data-rule="photos"] .kept-file .file-name')
        assert sorted(e.text for e in kept) == ["IMG_0001.jpg", "IMG_0002.jpg"]
        assert target.objects == {}  # taken

        # a photo over the rule's 20 MB: refused by the app before anything is sent. Not one the browser
        # can decode (photos.js would make a decodable one small enough): it goes as it is.
        big = tmp_path / "IMG_BIG.jpg"
        big.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * (21 * 1024 * 1024))
        browser.find_element("name", "file.photos").send_keys(str(big))
        _wait_for(browser, lambda b: any("上传失败" in t for t in _lines(b)))
        refused = next(t for t in _lines(browser) if "IMG_BIG.jpg" in t)
        assert "超过“活动照片”的上限 20 MB" in refused, refused
        assert target.posts == [204, 204]  # nothing posted to storage

    draft = app.store.latest("WJ009", "summary")
    assert draft is not None and draft.status == "draft"
    refs = app.store.attachments(draft.id)
    assert sorted((r.rule, r.name, r.taken) for r in refs) == [
        ("photos", "IMG_0001.jpg", TAKEN),
        ("photos", "IMG_0002.jpg", TAKEN),
    ]
    for ref, path in zip(sorted(refs, key=lambda r: r.name), photos, strict=True):
        assert app.store.get_blob(ref.sha256) == path.read_bytes()


def test_a_save_while_a_photo_is_on_its_way_waits_for_it(
    served: tuple[App, str, LoopbackUploads], tmp_path: Path
) -> None:
    app, base, target = served
    target.delay_s = 3.0
    photo = tmp_path / "IMG_0007.jpg"
    photo.write_bytes(jpeg("slow network", TAKEN))
    link = f"{base}/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, 'WJ009', 'summary')}"
    with chromium(tmp_path / "profile", PHONE) as browser:
        browser.get(link)
        browser.find_element("name", "file.photos").send_keys(str(photo))
        _wait_for(browser, lambda b: any("上传中" in t or "准备上传" in t for t in _lines(b)))
        save = browser.find_element("css selector", 'button[name="action"][value="save"]')
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", save)
        assert app.store.latest("WJ009", "summary") is None
        # upload.js's save waits (huizong.upload.before) for the photo still on its way, then posts its key.
        save.click()
        _wait_for(
            browser, lambda b: b.find_elements("css selector", '[data-rule="photos"] .kept-file .file-name')
        )
        assert target.posts == [204] and target.objects == {}  # sent once, then taken by the save
        kept = browser.find_elements("css selector", '[data-rule="photos"] .kept-file .file-name')
        assert [e.text for e in kept] == ["IMG_0007.jpg"]
