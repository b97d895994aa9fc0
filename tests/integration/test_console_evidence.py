"""Evidence files in the console (issue 15 §3): listed per version with their warnings, photo thumbnails,
downloads with safe headers, and the coordinator's scope on every file.

On the wujin-2022 example with its SQLite store in tmp_path: the blobs and refs are written to the store
the intake writes to, and every answer is read back through Starlette's TestClient.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.console.accounts import audit_log
from functions.services.console.evidence_files import INLINE_MAX_BYTES
from functions.web.app import create_web_app
from schemas.report import Issue
from tests.helpers.campaigns import customise
from tests.helpers.console import sign_in
from tests.helpers.evidence import docx, jpeg
from tests.helpers.store import attachment_ref, report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
ORGANISER = "wang@example.org"
HUTANG = "li@example.org"  # coordinator of 湖塘镇
HUTANG_UNIT = "WJ009"
NIUTANG_UNIT = "WJ010"
PEOPLE = f"""
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
  - {{name: 李协调, email: {HUTANG}, role: coordinator, areas: [湖塘镇]}}
"""
PHOTO = jpeg("湖塘 活动", dt.datetime(2022, 10, 1, 9, 0))
BIG_PHOTO = jpeg("大照片", extra=b"\x00" * 60_000)
NIUTANG_PHOTO = jpeg("牛塘 活动")
DOC = docx("工作总结")
HEIC = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 40
ODD_NAME = '总结 "终稿";\r\nX-Evil: 1.docx'


def _store(app: App, unit: str, files: list[tuple[str, bytes, str, str]], warnings: list[Issue]) -> str:
    refs = [attachment_ref(rule, data, kind=kind, name=name) for rule, data, kind, name in files]
    for ref, (_, data, _, _) in zip(refs, files, strict=True):
        app.store.put_blob(ref.sha256, data)
    sub = submission(unit, "summary", n=1, source=f"inbox/{unit}.xlsx", attachments=refs)
    rep = report(sub)
    rep.warnings = warnings
    app.store.add_version(sub, rep, received_at=NOW - dt.timedelta(days=1), late=False)
    return refs[0].sha256


@pytest.fixture
def app(wujin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    customise(wujin_dir, PEOPLE)
    # A small cap, so a "big" photo needs no megabytes in a test.
    monkeypatch.setattr("functions.services.console.evidence_files.INLINE_MAX_BYTES", 50_000)
    app = open_app(wujin_dir)
    outside = Issue(
        code="photo-outside-week", severity="warning", value="开幕式.jpg", message="拍摄日期不在活动时间内"
    )
    _store(
        app,
        HUTANG_UNIT,
        [
            ("photos", PHOTO, "jpg", "开幕式.jpg"),
            ("photos", BIG_PHOTO, "jpg", "大合影.jpg"),
            ("photos", HEIC, "heic", "手机.heic"),
            ("summary_doc", DOC, "docx", ODD_NAME),
        ],
        [outside],
    )
    _store(app, NIUTANG_UNIT, [("photos", NIUTANG_PHOTO, "jpg", "牛塘.jpg")], [])
    return app


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_web_app(app, base_url="http://testserver", clock=lambda: NOW))


def _url(unit: str, data: bytes, *, view: bool = False) -> str:
    sha = attachment_ref("x", data, kind="jpg", name="x").sha256
    return f"/admin/units/{unit}/summary/evidence/{sha}" + ("/view" if view else "")


def test_the_unit_page_lists_each_file_with_its_rule_warning_and_thumbnail(
    client: TestClient, app: App
) -> None:
    sign_in(client, app, ORGANISER)
    page = client.get(f"/admin/units/{HUTANG_UNIT}").text
    assert "证明材料（附件）" in page and "活动照片" in page and "工作总结" in page
    row = page[page.index("开幕式.jpg") - 600 : page.index("开幕式.jpg") + 900]
    assert "photo-outside-week" in row and 'loading="lazy"' in row and 'width="160"' in row
    assert f'src="{_url(HUTANG_UNIT, PHOTO, view=True)}"' in page
    # Too large for the page and a kind browsers do not show: a placeholder and the download, no <img>.
    assert (
        f"{_url(HUTANG_UNIT, BIG_PHOTO)}/view" not in page and f"{_url(HUTANG_UNIT, HEIC)}/view" not in page
    )
    assert page.count("请下载查看") == 2
    for data in (PHOTO, BIG_PHOTO, HEIC, DOC):
        assert f'href="{_url(HUTANG_UNIT, data)}"' in page
    assert "总结 &#34;终稿&#34;" in page  # the unit's name for the file, escaped


def test_a_photo_is_shown_inline_and_every_file_downloads_with_safe_headers(
    client: TestClient, app: App
) -> None:
    sign_in(client, app, ORGANISER)
    shown = client.get(_url(HUTANG_UNIT, PHOTO, view=True))
    assert shown.status_code == 200 and shown.content == PHOTO
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in shown.headers["content-security-policy"]
    assert "sandbox" in shown.headers["content-security-policy"]

    doc = client.get(_url(HUTANG_UNIT, DOC))
    assert doc.status_code == 200 and doc.content == DOC
    assert doc.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    disposition = doc.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert f"filename*=UTF-8''{quote('总结 _终稿_;__X-Evil_ 1.docx', safe='')}" in disposition
    assert "X-Evil" not in doc.headers  # no header was injected by the name
    assert doc.headers["x-content-type-options"] == "nosniff"

    heic = client.get(_url(HUTANG_UNIT, HEIC))
    assert heic.status_code == 200 and heic.headers["content-type"] == "image/heic"
    assert heic.headers["content-disposition"].startswith("attachment;")
    # Never inline: heic (browsers do not show it) and a photo over the cap.
    assert client.get(_url(HUTANG_UNIT, HEIC, view=True)).status_code == 404
    assert client.get(_url(HUTANG_UNIT, BIG_PHOTO, view=True)).status_code == 404
    assert client.get(_url(HUTANG_UNIT, BIG_PHOTO)).content == BIG_PHOTO

    downloads = [e for e in audit_log(app.store) if e.action == "download"]
    assert [(e.by, e.unit, e.deliverable) for e in downloads] == [(ORGANISER, HUTANG_UNIT, "summary")] * 3
    assert "1.docx" in downloads[0].detail and "手机.heic" in downloads[1].detail


def test_a_coordinator_gets_the_same_404_for_another_areas_file_as_for_a_missing_unit(
    client: TestClient, app: App
) -> None:
    sign_in(client, app, HUTANG)
    assert client.get(_url(HUTANG_UNIT, DOC)).status_code == 200
    missing = client.get("/admin/units/WJ999")
    assert missing.status_code == 404
    tries = [
        _url(NIUTANG_UNIT, NIUTANG_PHOTO),  # another area's unit
        _url(NIUTANG_UNIT, NIUTANG_PHOTO, view=True),
        _url(HUTANG_UNIT, NIUTANG_PHOTO),  # another unit's blob under one's own unit
        _url(HUTANG_UNIT, NIUTANG_PHOTO, view=True),
        _url(HUTANG_UNIT, b"never stored"),
        f"/admin/units/{HUTANG_UNIT}/plan/evidence/{_url(HUTANG_UNIT, DOC).rsplit('/', 1)[1]}",  # other deliverable
    ]
    for url in tries:
        got = client.get(url)
        assert (got.status_code, got.text) == (404, missing.text), url
    # A path instead of a digest matches no route at all.
    assert client.get(f"/admin/units/{HUTANG_UNIT}/summary/evidence/..%2F..%2Fetc").status_code == 404
    assert not [e for e in audit_log(app.store) if e.action == "download" and e.unit == NIUTANG_UNIT]


def test_the_organiser_reaches_every_unit_but_not_a_blob_through_the_wrong_unit(
    client: TestClient, app: App
) -> None:
    sign_in(client, app, ORGANISER)
    assert client.get(_url(NIUTANG_UNIT, NIUTANG_PHOTO, view=True)).content == NIUTANG_PHOTO
    assert client.get(_url(HUTANG_UNIT, NIUTANG_PHOTO)).status_code == 404


def test_signed_out_a_file_url_goes_to_the_login(client: TestClient) -> None:
    got = client.get(_url(HUTANG_UNIT, PHOTO), follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/admin/login"


def test_the_inline_cap_is_megabytes_not_bytes() -> None:
    # The monkeypatched cap above is the tests'; the real one lets a phone photo show.
    assert INLINE_MAX_BYTES >= 2 * 1024 * 1024
