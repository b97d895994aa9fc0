"""The console's "download the unit's file" hands the organiser the workbook the unit actually sent,
whatever the channel (issue 15): uploaded on the web form, mailed, or dropped in the folder and deleted
since. Through Starlette's TestClient on the wujin-2022 example, with the SQLite store and the memory
store; every download is compared byte for byte with what the unit sent.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import httpx2
import pytest
from starlette.testclient import TestClient

from functions.adapters.store.memory import MemoryStore
from functions.bootstrap import App, open_app
from functions.services.console.accounts import audit_log
from functions.services.intake.ingest_folder import ingest_all
from functions.services.intake.kept_workbook import kept_workbook, meta_key
from functions.services.mail_intake.process import run_mail_intake
from functions.services.web.form_intake import save_form
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.console import csrf_of, sign_in
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, write_workbook

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)  # before the plan's due date
BASE = "http://testserver"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORGANISER = "wang@example.org"
HUTANG = "li@example.org"  # coordinator of 湖塘镇
SCHOOL = "WJ018"  # a school of 牛塘镇: outside the coordinator's area
CONFIG = f"""
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
  - {{name: 李协调, email: {HUTANG}, role: coordinator, areas: [湖塘镇]}}
mail_intake:
  user: wjsqjy@example.org
  web_base_url: https://form.example.org
"""


@pytest.fixture(params=["sqlite", "memory"])
def app(request: pytest.FixtureRequest, wujin_dir: Path) -> App:
    customise(wujin_dir, CONFIG)
    return open_app(wujin_dir, store=MemoryStore() if request.param == "memory" else None)


def _client(app: App) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW))


def _plan(app: App, tmp_path: Path, unit: str, name: str = "plan.xlsx") -> bytes:
    school = app.roster.get(unit)
    assert school is not None
    path = write_workbook(
        tmp_path / "made" / name, app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    return path.read_bytes()


def _upload(app: App, unit: str, name: str, data: bytes) -> None:
    """The unit opens its link and uploads the workbook on its form page."""
    client = _client(app)
    secret = campaign_secret(app.store, now=NOW)
    assert (
        client.get("/u/" + link_token(secret, app.campaign, unit, "plan"), follow_redirects=False).status_code
        == 303
    )
    page = client.get("/form/plan")
    got = client.post(
        "/form/plan/upload", data={"csrf": csrf_of(page.text)}, files={"workbook": (name, data, XLSX)}
    )
    assert got.status_code == 200, got.text


def _download(app: App, unit: str, who: str = ORGANISER) -> tuple[TestClient, httpx2.Response]:
    client = _client(app)
    sign_in(client, app, who)
    return client, client.get(f"/admin/units/{unit}/plan/file")


def test_a_workbook_uploaded_on_the_web_form_downloads_byte_for_byte(app: App, tmp_path: Path) -> None:
    data = _plan(app, tmp_path, SCHOOL)
    _upload(app, SCHOOL, "我校/工作方案.xlsx", data)  # a name with a separator: never a path
    version = app.store.latest(SCHOOL, "plan", "submitted")
    assert version is not None and version.source_kind == "web"

    client, got = _download(app, SCHOOL)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == XLSX
    assert quote("工作方案.xlsx") in got.headers["content-disposition"]
    # The unit page links it with the name the unit gave; the download is audited like every one.
    page = client.get(f"/admin/units/{SCHOOL}")
    assert f"/admin/units/{SCHOOL}/plan/file" in page.text and "工作方案.xlsx" in page.text
    [entry] = [e for e in audit_log(app.store) if e.action == "download"]
    assert (entry.by, entry.unit, entry.deliverable) == (ORGANISER, SCHOOL, "plan")
    assert entry.detail.startswith("工作方案.xlsx ")


def test_the_same_workbook_again_keeps_nothing_new(app: App, tmp_path: Path) -> None:
    data = _plan(app, tmp_path, SCHOOL)
    _upload(app, SCHOOL, "first.xlsx", data)
    [version] = app.store.history(SCHOOL, "plan")
    before = app.store.get_meta(meta_key(version.id))
    _upload(app, SCHOOL, "second-name.xlsx", data)  # unchanged content: no new version, no new record
    assert [v.id for v in app.store.history(SCHOOL, "plan")] == [version.id]
    assert app.store.get_meta(meta_key(version.id)) == before
    kept = kept_workbook(app.store, version.id)
    assert kept is not None and kept.name == "first.xlsx" and kept.size == len(data)


def test_a_mailed_workbook_downloads_byte_for_byte(app: App, tmp_path: Path) -> None:
    school = app.roster.get(SCHOOL)
    assert school is not None
    data = _plan(app, tmp_path, SCHOOL)
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject=f"{school.name}工作方案",
            message_id="<keep-1@qq.com>",
            files=[("学习周工作方案（最终版）.xlsx", data)],
        )
    )
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert [b.seq for b in message.workbooks] == [1]

    _, got = _download(app, SCHOOL)
    assert got.status_code == 200 and got.content == data
    assert quote("学习周工作方案（最终版）.xlsx") in got.headers["content-disposition"]


def test_a_folder_file_deleted_after_ingest_still_downloads(app: App, tmp_path: Path) -> None:
    data = _plan(app, tmp_path, SCHOOL)
    dropped = app.paths.inbox / "方案.xlsx"
    dropped.parent.mkdir(parents=True, exist_ok=True)
    dropped.write_bytes(data)
    [outcome] = ingest_all(app, now=NOW)
    assert outcome.stored and outcome.unit == SCHOOL
    dropped.unlink()  # moved away or deleted by someone tidying the folder

    _, got = _download(app, SCHOOL)
    assert got.status_code == 200 and got.content == data


def test_a_typed_web_form_version_has_no_file_and_says_so(app: App, tmp_path: Path) -> None:
    # A workbook first, then the unit types its form and submits: the latest version has no file.
    _upload(app, SCHOOL, "plan.xlsx", _plan(app, tmp_path, SCHOOL))
    school = app.roster.get(SCHOOL)
    assert school is not None
    typed = save_form(app, school, "plan", {}, submit=True, now=NOW + dt.timedelta(hours=1), link="x")
    assert typed.stored and typed.version is not None
    assert kept_workbook(app.store, typed.version.id) is None

    client, got = _download(app, SCHOOL)
    assert got.status_code == 404
    text = got.text
    assert "没有可下载的文件" in text and "在线表单" in text and "Traceback" not in text
    assert f"/admin/units/{SCHOOL}/plan/file" not in client.get(f"/admin/units/{SCHOOL}").text


def test_a_coordinator_of_another_area_gets_404_for_the_kept_workbook(app: App, tmp_path: Path) -> None:
    data = _plan(app, tmp_path, SCHOOL)
    _upload(app, SCHOOL, "plan.xlsx", data)
    _, got = _download(app, SCHOOL, who=HUTANG)
    assert got.status_code == 404 and got.headers["content-type"].startswith("text/html")
    assert data not in got.content
    assert [e for e in audit_log(app.store) if e.action == "download"] == []
    _, got = _download(app, SCHOOL)  # the file is there: the organiser gets it
    assert got.status_code == 200 and got.content == data


def test_a_damaged_record_falls_back_to_no_file_not_a_traceback(app: App, tmp_path: Path) -> None:
    _upload(app, SCHOOL, "plan.xlsx", _plan(app, tmp_path, SCHOOL))
    version = app.store.latest(SCHOOL, "plan", "submitted")
    assert version is not None
    app.store.set_meta(
        meta_key(version.id), json.dumps({"sha256": "../../etc/passwd", "name": "x", "size": 1})
    )
    _, got = _download(app, SCHOOL)
    assert got.status_code == 404 and "没有可下载的文件" in got.text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("方案.XLSM", "application/vnd.ms-excel.sheet.macroEnabled.12"), ("方案.xlsx", XLSX)],
)
def test_the_download_says_what_kind_of_workbook_it_is(
    app: App, tmp_path: Path, name: str, media_type: str
) -> None:
    # A browser offers Excel/WPS for a registered type; application/octet-stream is "unknown file".
    _upload(app, SCHOOL, name, _plan(app, tmp_path, SCHOOL))
    _, got = _download(app, SCHOOL)
    assert got.status_code == 200 and got.headers["content-type"] == media_type
