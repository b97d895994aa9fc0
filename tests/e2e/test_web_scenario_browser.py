"""Issue 14 §7, the whole way: `huizong serve` on 127.0.0.1 mailing through a loopback SMTP server
(aiosmtpd), and a unit on a phone in Debian's chromium.

The unit (WJ009 of the wujin-2022 example) opens its plan link, fills the plan's fields and three
activity rows and submits; opens its summary link, types the statistics with a word where a number
belongs, saves, sees `bad-number` next to that field, fixes it, picks five photos at once (two camera
photos of several MB, one sideways; a small one; a large PNG; a HEIC chromium cannot decode) and submits,
while the page shows the upload's progress. Then: the store holds the photos the browser made smaller,
upright, with their EXIF date (photo-outside-week raised for the one taken before the week, not for the
others), the small and undecodable ones byte for byte; both receipts arrived at the SMTP server, in
Chinese, to the unit; `huizong status --json` (the CLI's code path) says valid for both; the master that
serve rebuilt has the unit's activity rows and statistics.

A second test cuts the network during a save: the page says so in Chinese, gives the buttons back, keeps
what was typed and picked, and the next save goes through. A third sends more than a save may carry: the
server's refusal is shown in the form's status line and the form stays as it was.

Skipped, saying why, where chromium or chromedriver is not installed (tests/helpers/browser.py).
"""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.services.web.links import campaign_secret, link_token
from tests.fakes.smtp import RunningServer, running_smtp
from tests.helpers.browser import (
    PHONE,
    PLAN_CHOICES,
    PLAN_MATERIALS,
    PLAN_ROW,
    browser_binaries,
    chromium,
    click_to_next_page,
    served_web_app,
)
from tests.helpers.evidence import jpeg
from tests.helpers.net import free_port
from tests.helpers.paths import ROOT
from tests.helpers.photos import camera_jpeg, camera_png, exif_of, heic_like, size_of
from tests.helpers.web_form_values import SUMMARY_STATS

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

UNIT, UNIT_NAME, UNIT_MAIL = "WJ009", "湖塘镇社区教育中心", "hutangsqjy@example.org"
IN_WEEK = dt.datetime(2022, 12, 4, 15, 0)
BEFORE_WEEK = dt.datetime(2022, 11, 1, 9, 30)
STATS = {**SUMMARY_STATS, "statistics.total_participants": "很多"}  # fixed to 3000 after the check
ROWS = ["智慧助老手机课堂", "家庭教育讲座", "老年人书法班"]
SHOTS = ROOT / "docs" / "images"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8192  # 2 MB
# Watches the upload status box and keeps what it showed in sessionStorage, which outlives the page the
# server's answer replaces (a test cannot poll fast enough to see a progress bar reliably).
WATCH = """
var box = document.getElementById('upload-status');
var seen = [];
new MutationObserver(function () {
  seen.push({text: box.querySelector('.upload-text').textContent, hidden: box.hidden,
             value: box.querySelector('progress').getAttribute('value'),
             disabled: document.querySelector('button.submit').disabled});
  sessionStorage.setItem('hz-seen', JSON.stringify(seen));
}).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
"""


@pytest.fixture(scope="module", autouse=True)
def _need_browser() -> None:
    browser_binaries()


@pytest.fixture
def smtp() -> Iterator[RunningServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def serving(wujin_dir: Path, tmp_path: Path, smtp: RunningServer) -> Iterator[str]:
    """`huizong serve` in its own process, mailing through `smtp`; yields the web form's base URL."""
    yaml_path = wujin_dir / "campaign.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    # serve runs on the real clock: the 2022 example's due dates move to the future so its links are
    # current (the week stays in 2022, so the photos' dates are judged against it).
    text = text.replace("due: 2022-11-24", "due: 2099-11-24").replace("due: 2022-12-09", "due: 2099-12-09")
    mail = f"mail:\n  transport: smtp\n  smtp: {{host: {smtp.host}, port: {smtp.port}, security: none, timeout: 10}}\n"
    assert "mail:\n  transport: outbox\n" in text
    yaml_path.write_text(text.replace("mail:\n  transport: outbox\n", mail), encoding="utf-8")
    secret_file = tmp_path / "secret"
    secret_file.write_text("a-shared-secret-of-enough-length", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HUIZONG_BASE_URL", None)
    cmd = [sys.executable, "-m", "functions.cli", "serve", str(wujin_dir), "--port", str(free_port()),
           "--web-port", "0", "--secret-file", str(secret_file), "--no-scheduler"]  # fmt: skip
    log = (tmp_path / "serve.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the webhook's address
        m = re.search(r"(http://127\.0\.0\.1:\d+)/u/", proc.stdout.readline())
        assert m, (tmp_path / "serve.log").read_text(encoding="utf-8")
        yield m.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _by_name(browser: WebDriver, name: str) -> WebElement:
    return browser.find_element("name", name)


def _type(browser: WebDriver, name: str, text: str) -> None:
    box = _by_name(browser, name)
    box.clear()
    box.send_keys(text)


def _set(browser: WebDriver, name: str, value: str) -> None:
    # dates: set as the date picker does (typed keys follow the browser's locale)
    browser.execute_script(
        "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        _by_name(browser, name),
        value,
    )


def _fill_row(browser: WebDriver, index: str, name: str) -> None:
    from selenium.webdriver.support.select import Select

    for key, text in {**PLAN_ROW, "name": name}.items():
        _type(browser, f"activities.{index}.{key}", text)
    for key, choice in PLAN_CHOICES.items():
        Select(_by_name(browser, f"activities.{index}.{key}")).select_by_visible_text(choice)
    _set(browser, f"activities.{index}.start_date", "2022-12-03")
    for box in browser.find_elements("css selector", f'input[name="activities.{index}.audience"]'):
        if box.get_dom_attribute("value") == "社区居民" and not box.is_selected():
            box.click()


def _press(browser: WebDriver, action: str) -> None:
    click_to_next_page(
        browser, browser.find_element("css selector", f'button[name="action"][value="{action}"]')
    )


def _submit_watching(browser: WebDriver, *, shot: bool) -> None:
    """Press 提交 and wait for the server's page; with `shot`, first photograph the progress bar midway
    (docs/images/web-form-phone-uploading.png, shown in docs/web-form.md)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    old = browser.find_element("css selector", "html")
    submit = browser.find_element("css selector", 'button[name="action"][value="submit"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", submit)
    submit.click()
    if shot:
        status = browser.find_element("id", "upload-status")
        WebDriverWait(browser, 60).until(lambda b: re.search(r"上传中 [1-9]\d?%", status.text))
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SHOTS / "web-form-phone-uploading.png"))
    WebDriverWait(browser, 120).until(expected_conditions.staleness_of(old))
    WebDriverWait(browser, 60).until(lambda b: b.execute_script("return document.readyState") == "complete")


def _field_codes(browser: WebDriver, name: str) -> list[str]:
    block = _by_name(browser, name).find_element("xpath", "./ancestor::div[contains(@class, 'field')][1]")
    return [str(p.get_dom_attribute("data-code")) for p in block.find_elements("css selector", ".issue")]


def _link(folder: Path, base: str, deliverable: str) -> str:
    got = CliRunner().invoke(cli, ["links", str(folder), "--json", "--base-url", base])
    assert got.exit_code == 0, got.output
    (link,) = [x for x in json.loads(got.stdout) if x["unit"] == UNIT and x["deliverable"] == deliverable]
    return str(link["url"])


def _receipts(smtp: RunningServer, count: int) -> list[EmailMessage]:
    deadline = time.time() + 60
    while len(smtp.recorder.messages) < count and time.time() < deadline:
        time.sleep(0.2)
    return [
        email.message_from_bytes(m.data, policy=default_policy)  # type: ignore[misc]
        for m in smtp.recorder.messages
    ]


def _master_rows(folder: Path, sheet: str) -> list[tuple[Any, ...]]:
    """The unit's rows in a tab of the master serve rebuilds after a submission (waited for)."""
    path = folder / "out" / "master.xlsx"
    deadline = time.time() + 90
    rows: list[tuple[Any, ...]] = []
    while time.time() < deadline:
        if path.exists():
            try:
                book = load_workbook(path, read_only=True)
                rows = [r for r in book[sheet].iter_rows(values_only=True) if UNIT in r]
                book.close()
            except (OSError, KeyError, ValueError):
                rows = []  # being replaced right now
            if rows:
                return rows
        time.sleep(0.5)
    return rows


def _photos(folder: Path) -> dict[str, bytes]:
    files = {
        "IMG_2001.jpg": camera_jpeg(3000, 2000, IN_WEEK, orientation=6, seed=1),  # sideways, 2.4 MB
        "IMG_1101.jpg": camera_jpeg(2600, 1950, BEFORE_WEEK, seed=2),  # taken before the week
        "IMG_2002.jpg": camera_jpeg(800, 600, IN_WEEK, seed=3),  # small: sent as it is
        "海报.png": camera_png(2100, 1400, seed=4),  # 6 MB PNG: becomes 海报.jpg
        "IMG_2003.heic": heic_like(1_600_000, seed=5),  # chromium cannot decode it: sent as it is
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / "工作总结.pdf").write_bytes(PDF)
    return files


def test_unit_on_a_phone_fills_uploads_five_photos_submits_and_is_valid_everywhere(
    serving: str, wujin_dir: Path, tmp_path: Path, smtp: RunningServer
) -> None:
    base = serving
    pictures = tmp_path / "相册"
    pictures.mkdir()
    photos = _photos(pictures)
    with chromium(tmp_path / "profile", PHONE) as browser:
        # the plan: its fields and three activity rows
        browser.get(_link(wujin_dir, base, "plan"))
        assert browser.current_url.endswith("/form/plan"), browser.current_url
        for name, text in PLAN_MATERIALS.items():
            _type(browser, name, text)
        for i, row in enumerate(ROWS):
            if i:
                button = browser.find_element("css selector", "button.add-row")
                browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
                button.click()
            card = browser.find_elements("css selector", '.rows[data-table="activities"] .row-card')[i]
            _fill_row(browser, str(card.get_dom_attribute("data-index")), row)
        _press(browser, "submit")
        assert browser.find_element("css selector", "dd.state").text == "已提交"

        # the summary: a word in a number field, checked by a save
        browser.get(_link(wujin_dir, base, "summary"))
        for name, text in STATS.items():
            _type(browser, name, text)
        _press(browser, "save")
        assert _field_codes(browser, "statistics.total_participants") == ["bad-number"]
        assert "“参与总人次”应填数字" in browser.find_element("id", "summary").text
        _type(browser, "statistics.total_participants", "3000")

        # five photos at once, as a phone's gallery picks them; the upload is slowed so its progress shows
        field = _by_name(browser, "file.photos")
        assert field.get_dom_attribute("data-photos") is not None
        field.send_keys("\n".join(str(pictures / name) for name in photos))
        # a document of 2 MB next to them: not a photo field, never touched
        doc_field = _by_name(browser, "file.summary_doc")
        assert doc_field.get_dom_attribute("data-photos") is None
        doc_field.send_keys(str(pictures / "工作总结.pdf"))
        browser.execute_script(WATCH)
        # the emulated network throttles only with the Network domain on
        browser.execute_cdp_cmd("Network.enable", {})  # type: ignore[attr-defined]
        browser.execute_cdp_cmd(  # type: ignore[attr-defined]
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024},
        )
        _submit_watching(browser, shot=bool(os.environ.get("HUIZONG_SCREENSHOTS")))
        browser.execute_cdp_cmd(  # type: ignore[attr-defined]
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        seen = json.loads(browser.execute_script("return sessionStorage.getItem('hz-seen')") or "[]")
        body = browser.find_element("tag name", "body").text
        assert browser.find_element("css selector", "dd.state").text == "已提交", body
        kept = [
            e.text
            for e in browser.find_elements("css selector", '[data-rule="photos"] .kept-file .file-name')
        ]
        late = [
            e.text
            for e in browser.find_elements(
                "css selector", '[data-rule="photos"] .issue[data-code="photo-outside-week"]'
            )
        ]

    # the page showed the upload going, with the buttons disabled meanwhile
    uploading = [s for s in seen if s["text"].startswith("上传中")]
    assert uploading and all(s["disabled"] for s in uploading), seen
    percents = {int(m.group(1)) for s in uploading if (m := re.fullmatch(r"上传中 (\d+)%", s["text"]))}
    assert any(0 < p < 100 for p in percents), seen
    assert any(s["text"] == "已上传，正在检查…" for s in seen), seen
    assert sorted(kept) == sorted(
        ["IMG_2001.jpg", "IMG_1101.jpg", "IMG_2002.jpg", "海报.jpg", "IMG_2003.heic"]
    )
    assert len(late) == 1 and "IMG_1101.jpg" in late[0]

    app = open_app(wujin_dir, read_only=True)
    version = app.store.latest(UNIT, "summary")
    assert version is not None and version.status == "submitted" and version.source_kind == "web"
    assert version.error_count == 0
    assert version.tables["statistics"][0]["total_participants"] == 3000
    assert version.tables["summary_materials"][0]["photo_count"] == 5
    refs = {r.name: r for r in app.store.attachments(version.id)}
    blobs = {name: app.store.get_blob(ref.sha256) for name, ref in refs.items()}
    # the sideways camera photo: smaller, upright at 2048 px, its date and nothing else about it changed
    big = blobs["IMG_2001.jpg"]
    assert big is not None and len(big) < len(photos["IMG_2001.jpg"]) / 2
    assert size_of(big) == (1365, 2048)
    assert exif_of(big) == (1, "2022:12:04 15:00:00", (1365, 2048))
    assert refs["IMG_2001.jpg"].taken == IN_WEEK and refs["IMG_2001.jpg"].kind == "jpg"
    # the one taken before the week was made smaller too, and its date still caught it
    assert size_of(blobs["IMG_1101.jpg"] or b"") == (2048, 1536)
    assert refs["IMG_1101.jpg"].taken == BEFORE_WEEK
    outside = [i for i in version.report.warnings if i.code == "photo-outside-week"]
    assert [i.value for i in outside] == ["IMG_1101.jpg"]
    # the PNG became a JPEG of 2048 px; the small photo and the HEIC went byte for byte
    assert refs["海报.jpg"].kind == "jpg" and size_of(blobs["海报.jpg"] or b"") == (2048, 1365)
    assert blobs["IMG_2002.jpg"] == photos["IMG_2002.jpg"]
    assert blobs["IMG_2003.heic"] == photos["IMG_2003.heic"] and refs["IMG_2003.heic"].kind == "heic"
    assert refs["工作总结.pdf"].rule == "summary_doc" and blobs["工作总结.pdf"] == PDF

    # both receipts came over SMTP, to the unit, in Chinese
    receipts = _receipts(smtp, 2)
    assert len(receipts) == 2
    assert all(m["To"] and UNIT_MAIL in str(m["To"]) for m in receipts)
    subjects = sorted(str(m["Subject"]) for m in receipts)
    assert subjects == sorted(
        f"【回执】武进区2022年全民终身学习活动周：已收到{UNIT_NAME}的{title}"
        for title in ("工作方案及主要活动安排表", "总结材料及情况统计表")
    )
    summary_mail = next(m for m in receipts if "总结材料" in str(m["Subject"]))
    text = summary_mail.get_body(("plain",))
    assert text is not None
    words = text.get_content()
    assert "已收到贵单位报送的“总结材料及情况统计表”" in words and "IMG_1101.jpg" in words

    # `huizong status`: the unit is valid for both; the master serve rebuilt has its rows
    got = CliRunner().invoke(cli, ["status", str(wujin_dir), "--json"])
    assert got.exit_code == 0, got.output
    states = {u["deliverable"]: u["state"] for u in json.loads(got.stdout)["units"] if u["unit"] == UNIT}
    assert states == {"plan": "valid", "summary": "valid"}
    activity_names = {v for r in _master_rows(wujin_dir, "活动安排") for v in r}
    assert set(ROWS) <= activity_names
    stats = _master_rows(wujin_dir, "统计")
    assert stats and 3000 in stats[0]


def test_a_save_cut_off_by_the_network_says_so_and_loses_nothing(wujin_dir: Path, tmp_path: Path) -> None:
    now = dt.datetime(2022, 12, 9, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    app = open_app(wujin_dir)
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(jpeg("one photo", IN_WEEK))
    with served_web_app(app, now) as base, chromium(tmp_path / "profile", PHONE) as browser:
        browser.get(
            f"{base}/u/{link_token(campaign_secret(app.store, now=now), app.campaign, UNIT, 'summary')}"
        )
        _type(browser, "statistics.total_sessions", "12")
        _by_name(browser, "file.photos").send_keys(str(photo))
        browser.execute_cdp_cmd("Network.enable", {})  # type: ignore[attr-defined]
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/form/summary"]})  # type: ignore[attr-defined]
        save = browser.find_element("css selector", 'button[name="action"][value="save"]')
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", save)
        save.click()
        from selenium.webdriver.support.wait import WebDriverWait

        status = browser.find_element("id", "upload-status")
        WebDriverWait(browser, 30).until(lambda b: "网络中断" in status.text)
        assert "未能保存" in status.text and "还在页面上" in status.text
        assert save.is_enabled()  # the buttons are back
        assert _by_name(browser, "statistics.total_sessions").get_attribute("value") == "12"
        picked = browser.execute_script("return document.getElementsByName('file.photos')[0].files.length")
        assert picked == 1
        assert app.store.latest(UNIT, "summary") is None  # nothing reached the server

        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})  # type: ignore[attr-defined]
        _press(browser, "save")
        assert [e.text for e in browser.find_elements("css selector", ".kept-file .file-name")] == [
            "IMG_0001.jpg"
        ]
    draft = app.store.latest(UNIT, "summary")
    assert draft is not None and draft.status == "draft"
    assert draft.tables["statistics"][0]["total_sessions"] == 12


def test_files_over_the_size_limit_are_refused_in_place_and_the_form_stays(
    wujin_dir: Path, tmp_path: Path
) -> None:
    import threading

    from selenium.webdriver.support.wait import WebDriverWait

    from functions.serve.web_server import WebFormServer
    from functions.web.app import create_web_app

    now = dt.datetime(2022, 12, 9, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    app = open_app(wujin_dir)
    big = tmp_path / "IMG_0002.heic"
    big.write_bytes(heic_like(3_000_000))  # not decodable here, so not made smaller: 3 MB goes
    server = WebFormServer(host="127.0.0.1", port=0)
    host, port = server.address
    base = f"http://{host}:{port}"
    # the 1 MB a save may carry stands in for the 4 MB of a Lambda function URL
    server.start(
        create_web_app(app, base_url=base, lock=threading.Lock(), clock=lambda: now, max_upload=1024 * 1024)
    )
    try:
        with chromium(tmp_path / "profile", PHONE) as browser:
            token = link_token(campaign_secret(app.store, now=now), app.campaign, UNIT, "summary")
            browser.get(f"{base}/u/{token}")
            _type(browser, "statistics.total_sessions", "12")
            _by_name(browser, "file.photos").send_keys(str(big))
            save = browser.find_element("css selector", 'button[name="action"][value="save"]')
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", save)
            save.click()
            status = browser.find_element("id", "upload-status")
            WebDriverWait(browser, 30).until(lambda b: "文件过大" in status.text)
            # the server's own words, in the status line of the form that is still there
            assert "合计超过 1 MB，未保存任何内容" in status.text
            assert save.is_enabled()
            assert _by_name(browser, "statistics.total_sessions").get_attribute("value") == "12"
    finally:
        server.stop()
    assert app.store.latest(UNIT, "summary") is None
