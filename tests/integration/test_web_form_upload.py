"""A filled workbook uploaded on the unit's form page (issue 14 §5) through Starlette's TestClient.

The workbooks are the project's own: built by the template builder and filled by the workbook filler
(tests/helpers/workbooks.py), or downloaded from the page itself. What an upload stores is compared with
what the folder channel stores from the same bytes, in a second copy of the campaign: downstream the two
must be indistinguishable (tables, report, state, late flag, content hash).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.intake.ingest_folder import ingest_all
from functions.services.setup.examples import write_example
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app
from functions.web.limits import RateLimiter, WebLimits
from schemas.report import ValidationReport
from schemas.submission import Version
from tests.helpers.evidence import docx
from tests.helpers.mail import outbox_mails
from tests.helpers.workbooks import school_plan, summary_entries, write_workbook

TZ = dt.timezone(dt.timedelta(hours=8))
BEFORE_DUE = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)  # the plan is due 2022-11-24
AFTER_DUE = dt.datetime(2022, 11, 28, 10, 0, tzinfo=TZ)
BASE = "http://testserver"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


def _client(app: App, now: dt.datetime = BEFORE_DUE, **kw: Any) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=lambda: now, **kw))


def _open(client: TestClient, app: App, unit: str, deliverable: str = "plan") -> str:
    secret = campaign_secret(app.store, now=BEFORE_DUE)
    got = client.get("/u/" + link_token(secret, app.campaign, unit, deliverable), follow_redirects=False)
    assert got.status_code == 303
    page = client.get(f"/form/{deliverable}")
    assert page.status_code == 200
    return page.text


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _upload(
    client: TestClient, page: str, name: str, data: bytes, deliverable: str = "plan", **form: str
) -> Any:
    fields = {"csrf": _csrf(page), **form}
    return client.post(f"/form/{deliverable}/upload", data=fields, files={"workbook": (name, data, XLSX)})


def _plan_bytes(app: App, tmp_path: Path, unit: str, **over: Any) -> bytes:
    """WJ015's (a school's) plan, filled with a person's values; the second activity's figure is wrong."""
    entries = school_plan(app.campaign, app.roster.get(unit))  # type: ignore[arg-type]
    entries["activities"][1]["expected_participants"] = "很多"
    entries.update(over)
    path = write_workbook(tmp_path / f"{unit}-plan.xlsx", app.campaign, "plan", app.roster.get(unit), entries)
    return path.read_bytes()


def _issues(report: ValidationReport) -> list[tuple[str, str, str | None, str | None, int | None, str]]:
    return [(i.code, i.severity, i.sheet, i.cell, i.row, i.message) for i in report.issues]


def _field_block(page: str, name: str) -> str:
    start = page.index(f'name="{name}"')
    begin = page.rindex('<div class="field', 0, start)
    end = page.find('<div class="field', start)
    return page[begin : end if end != -1 else len(page)]


def _upload_section(page: str) -> str:
    start = page.index('id="upload"')
    return page[start : page.index("</section>", start)]


def _nothing_stored(app: App, unit: str, deliverable: str = "plan") -> None:
    assert app.store.latest(unit, deliverable) is None
    assert app.store.get_meta(f"web/typed/{unit}/{deliverable}") is None
    unit_mails = app.roster.get(unit).emails  # type: ignore[union-attr]
    assert not [m for m in outbox_mails(app.folder / "outbox") if set(unit_mails) & {m["To"]}]


def _folder_version(tmp_path: Path, unit: str, data: bytes, now: dt.datetime) -> Version:
    """The same bytes through the folder channel, in a second copy of the example campaign: dropped in the
    unit's own inbox folder (where its files would go too), ingested by `ingest_all`."""
    other = tmp_path / "folder-copy"
    write_example(other, "wujin-2022")
    (other / "inbox" / unit).mkdir(parents=True, exist_ok=True)
    (other / "inbox" / unit / "填报表.xlsx").write_bytes(data)
    folder_app = open_app(other)
    outcomes = ingest_all(folder_app, now=now)
    assert [o.unit for o in outcomes] == [unit]
    version = folder_app.store.latest(unit, "plan")
    assert version is not None
    return version


def test_an_uploaded_workbook_is_stored_as_the_folder_would_store_it(
    app: App, wujin_dir: Path, tmp_path: Path
) -> None:
    data = _plan_bytes(app, tmp_path, "WJ015")
    # The copy is made before the web app writes anything to this campaign.
    folder = _folder_version(tmp_path, "WJ015", data, BEFORE_DUE)

    client = _client(app)
    page = _open(client, app, "WJ015")
    section = _upload_section(page)
    assert "已经填好了Excel表？直接上传" in section
    assert 'enctype="multipart/form-data"' in section and 'action="/form/plan/upload"' in section
    assert 'accept=".xlsx,.xlsm,.xls,' in section and 'href="/form/plan/template"' in section
    got = _upload(client, page, "湖塘实验中学 活动安排.xlsx", data)
    assert got.status_code == 200, got.text

    web = app.store.latest("WJ015", "plan")
    assert web is not None
    assert (
        (web.seq, web.status, web.late) == (1, "submitted", False) == (folder.seq, folder.status, folder.late)
    )
    assert web.tables == folder.tables
    assert _issues(web.report) == _issues(folder.report)
    assert web.report.valid is folder.report.valid is False
    assert web.content_hash == folder.content_hash
    assert [i.code for i in web.report.errors] == ["bad-number"]
    # Where it came from: the web channel, with the file's name as metadata.
    assert (web.source_kind, web.source) == ("web", "web:WJ015/plan 湖塘实验中学 活动安排.xlsx")
    # The unit's report file, as for every channel.
    report_file = ValidationReport.model_validate_json(
        (wujin_dir / "out" / "reports" / "WJ015-plan.json").read_text("utf-8")
    )
    assert _issues(report_file) == _issues(folder.report)

    # The result page: the problem by the workbook's cell, the state, the form filled from the version.
    shown = html.unescape(got.text)
    bad = web.report.errors[0]
    assert bad.cell is not None and f"{bad.sheet}!{bad.cell}" in shown
    assert "已提交，但有问题需要修改后重新提交。" in shown and ">有问题<" in shown
    assert "已读取上传的工作簿“湖塘实验中学 活动安排.xlsx”" in shown
    assert 'value="家庭教育主题讲座"' in got.text  # the second activity's name, prefilled
    # The sheet's row 3 (its second activity) is the form's second card: the issue sits next to that field.
    assert 'data-code="bad-number"' in _field_block(got.text, "activities.1.expected_participants")
    assert "bad-number" not in _field_block(got.text, "activities.0.expected_participants")
    # A new visit shows the same: the stored version's values and its placed report.
    again = client.get("/form/plan").text
    assert 'data-code="bad-number"' in _field_block(again, "activities.1.expected_participants")

    # The receipt of a submission, pointing back to the web form.
    mails = outbox_mails(wujin_dir / "outbox")
    assert len(mails) == 1 and mails[0]["To"] == "wj015@example.edu.cn"
    body = mails[0].get_body(("plain",))
    assert body is not None and "在线填报链接" in body.get_content()

    # The same workbook dropped in this campaign's folder afterwards is the same content: no new version.
    (wujin_dir / "inbox").mkdir(exist_ok=True)
    (wujin_dir / "inbox" / "湖塘实验中学.xlsx").write_bytes(data)
    [later] = ingest_all(app, now=BEFORE_DUE + dt.timedelta(hours=1))
    assert (later.unit, later.stored, later.note) == ("WJ015", False, "unchanged")
    assert [v.seq for v in app.store.history("WJ015", "plan")] == [1]


def test_the_same_workbook_again_is_unchanged_and_a_fixed_one_a_new_version(app: App, tmp_path: Path) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    data = _plan_bytes(app, tmp_path, "WJ015")
    assert _upload(client, page, "plan.xlsx", data).status_code == 200
    assert _upload(client, page, "renamed.xlsx", data).status_code == 200
    assert [v.seq for v in app.store.history("WJ015", "plan")] == [1]
    fixed = school_plan(app.campaign, app.roster.get("WJ015"))  # type: ignore[arg-type]
    good = write_workbook(tmp_path / "fixed.xlsx", app.campaign, "plan", app.roster.get("WJ015"), fixed)
    got = _upload(client, page, "fixed.xlsx", good.read_bytes())
    assert got.status_code == 200 and "已提交。" in got.text
    latest = app.store.latest("WJ015", "plan")
    assert latest is not None and (latest.seq, latest.report.valid, latest.late) == (2, True, False)


def test_after_the_due_date_an_upload_is_late(app: App, tmp_path: Path) -> None:
    client = _client(app, now=AFTER_DUE)
    page = _open(client, app, "WJ015")
    assert "（逾期）" in page
    assert _upload(client, page, "plan.xlsx", _plan_bytes(app, tmp_path, "WJ015")).status_code == 200
    version = app.store.latest("WJ015", "plan")
    assert version is not None and version.late is True


def test_another_units_workbook_is_refused(app: App, tmp_path: Path) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = _upload(client, page, "plan.xlsx", _plan_bytes(app, tmp_path, "WJ016"))
    assert got.status_code == 422
    section = html.unescape(_upload_section(got.text))
    assert (
        "武进区湖塘桥实验小学（WJ016）" in section
        and "不是本单位（武进区湖塘实验中学，编码 WJ015）" in section
    )
    assert "未保存任何内容" in section and "请上传本单位自己的填报表" in section
    _nothing_stored(app, "WJ015")
    _nothing_stored(app, "WJ016")


def test_a_workbook_whose_visible_code_names_another_unit_is_refused(app: App, tmp_path: Path) -> None:
    """The template is the unit's own (hidden code), but someone typed another unit's code on 填写说明."""
    from openpyxl import load_workbook

    from sheets_templates import layout

    path = tmp_path / "plan.xlsx"
    path.write_bytes(_plan_bytes(app, tmp_path, "WJ015"))
    wb = load_workbook(path)
    ws = wb[layout.INSTRUCTIONS_SHEET[app.campaign.language]]
    label = layout.IDENTITY_LABELS["unit_code"][app.campaign.language]
    cell = next(c for row in ws.iter_rows() for c in row if layout.normalise_label(c.value) == label)
    ws[f"{layout.IDENTITY_VALUE_COLUMN}{cell.row}"] = "WJ017"
    wb.save(path)
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = _upload(client, page, "plan.xlsx", path.read_bytes())
    assert got.status_code == 422 and "武进区星河实验小学（WJ017）" in html.unescape(got.text)
    _nothing_stored(app, "WJ015")


def test_a_workbook_of_another_deliverable_is_refused(app: App, tmp_path: Path) -> None:
    unit = app.roster.get("WJ015")
    summary = write_workbook(tmp_path / "summary.xlsx", app.campaign, "summary", unit, summary_entries())
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = _upload(client, page, "summary.xlsx", summary.read_bytes())
    assert got.status_code == 422
    section = html.unescape(_upload_section(got.text))
    assert "“总结材料及情况统计表”的填报表，不是本页的“工作方案及主要活动安排表”" in section
    _nothing_stored(app, "WJ015")
    _nothing_stored(app, "WJ015", "summary")


def test_a_workbook_naming_no_unit_is_the_links_unit(app: App, tmp_path: Path) -> None:
    """The blank template (no code, no name) filled in: the link says whose it is."""
    entries = school_plan(app.campaign, app.roster.get("WJ015"))  # type: ignore[arg-type]
    blank = write_workbook(tmp_path / "blank.xlsx", app.campaign, "plan", None, entries)
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = _upload(client, page, "blank.xlsx", blank.read_bytes())
    assert got.status_code == 200, got.text
    version = app.store.latest("WJ015", "plan")
    assert version is not None and version.report.valid, version.report.errors
    assert "unknown-unit" not in {i.code for i in version.report.issues}


def _damaged_zip() -> bytes:
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    return good.getvalue()[:-30]  # cut off the central directory's end


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plan.xlsx", b"this is not a workbook at all\n" * 20),
        ("活动安排.xlsx", _damaged_zip()),
        ("plan.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
    ],
    ids=["junk", "damaged-zip", "bad-xls"],
)
def test_an_unreadable_file_is_refused_with_the_folder_channels_message(
    app: App, name: str, data: bytes
) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = _upload(client, page, name, data)
    assert got.status_code == 422
    section = html.unescape(_upload_section(got.text))
    assert "上传的文件无法作为填报表读取，未保存任何内容" in section
    # The reader's own message, as the folder channel's report says it.
    from functions.services.web.form_upload import read_upload

    expected = [i.message for i in read_upload(app, name, data).issues if i.severity == "error"]
    assert expected and all(m in section for m in expected)
    assert "Traceback" not in got.text
    _nothing_stored(app, "WJ015")
    # The form is still there to type into, or to try another file.
    assert 'id="unit-form"' in got.text and 'id="upload-form"' in got.text


def test_without_csrf_an_upload_is_refused(app: App, tmp_path: Path) -> None:
    client = _client(app)
    _open(client, app, "WJ015")
    data = _plan_bytes(app, tmp_path, "WJ015")
    got = client.post("/form/plan/upload", files={"workbook": ("plan.xlsx", data, XLSX)})
    assert got.status_code == 403 and "页面已过期" in got.text
    forged = client.post(
        "/form/plan/upload", data={"csrf": "x" * 43}, files={"workbook": ("plan.xlsx", data, XLSX)}
    )
    assert forged.status_code == 403
    _nothing_stored(app, "WJ015")


def test_without_a_session_an_upload_is_refused(app: App, tmp_path: Path) -> None:
    got = _client(app).post("/form/plan/upload", files={"workbook": ("plan.xlsx", b"PK", XLSX)})
    assert got.status_code == 401
    _nothing_stored(app, "WJ015")


def test_no_file_chosen_is_a_clear_page(app: App) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    got = client.post("/form/plan/upload", data={"csrf": _csrf(page)})
    assert got.status_code == 400 and "没有收到要上传的工作簿" in got.text
    two = client.post(
        "/form/plan/upload",
        data={"csrf": _csrf(page)},
        files=[("workbook", ("a.xlsx", b"PK1", XLSX)), ("workbook", ("b.xlsx", b"PK2", XLSX))],
    )
    assert two.status_code == 400 and "每次只能上传一个工作簿" in two.text
    _nothing_stored(app, "WJ015")


def test_the_file_name_is_never_a_path_and_is_escaped(app: App, tmp_path: Path) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    name = "../../计划<img src=x onerror=alert(1)>.xlsx"
    got = _upload(client, page, name, _plan_bytes(app, tmp_path, "WJ015"))
    assert got.status_code == 200
    assert "<img src=x" not in got.text and "计划&lt;img src=x onerror=alert(1)&gt;.xlsx" in got.text
    version = app.store.latest("WJ015", "plan")
    assert version is not None and version.source == "web:WJ015/plan 计划<img src=x onerror=alert(1)>.xlsx"
    # Nothing was written under the sender's name, here or a level up (it only names the upload).
    assert not list(tmp_path.parent.rglob("*onerror*"))


def test_uploads_are_rate_limited_and_size_limited(app: App, tmp_path: Path) -> None:
    data = _plan_bytes(app, tmp_path, "WJ015")
    limits = WebLimits(per_address=RateLimiter(100, 60.0), per_unit=RateLimiter(1, 3600.0))
    client = _client(app, limits=limits)
    page = _open(client, app, "WJ015")
    assert _upload(client, page, "plan.xlsx", data).status_code == 200
    slowed = _upload(client, page, "plan.xlsx", data)
    assert slowed.status_code == 429 and "秒后再试" in slowed.text

    small = _client(app, max_upload=len(data) // 2)
    page = _open(small, app, "WJ016")
    big = _upload(small, page, "plan.xlsx", _plan_bytes(app, tmp_path, "WJ016"))
    assert big.status_code == 413
    _nothing_stored(app, "WJ016")


def test_draft_files_go_with_the_uploaded_workbook(app: App, tmp_path: Path) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    # A draft holding the work plan document, saved from the form (no table typed yet).
    work_plan = docx("活动周工作方案")
    saved = client.post(
        "/form/plan",
        data={"csrf": _csrf(page), "action": "save"},
        files=[("file.plan_doc", ("工作方案.docx", work_plan, "application/octet-stream"))],
    )
    assert saved.status_code == 200
    draft = app.store.latest("WJ015", "plan")
    assert draft is not None and draft.status == "draft"
    assert [r.name for r in app.store.attachments(draft.id)] == ["工作方案.docx"]

    got = _upload(client, saved.text, "plan.xlsx", _plan_bytes(app, tmp_path, "WJ015"))
    assert got.status_code == 200
    version = app.store.latest("WJ015", "plan")
    assert version is not None and version.status == "submitted" and version.seq == 2
    refs = app.store.attachments(version.id)
    assert [(r.rule, r.name) for r in refs] == [("plan_doc", "工作方案.docx")]
    assert app.store.get_blob(refs[0].sha256) == work_plan
    assert "工作方案.docx" in got.text  # the page still lists the kept file


def test_the_unit_downloads_its_own_template_and_uploads_it_filled(app: App, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from functions.services.setup.workbook_fill import fill_workbook
    from functions.services.web.form_upload import read_upload

    client = _client(app)
    page = _open(client, app, "WJ015")
    got = client.get("/form/plan/template")
    assert got.status_code == 200 and got.headers["content-type"] == XLSX
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "WJ015" in disposition and "/" not in disposition.split("filename*=")[1].replace("%2F", "")
    blank = read_upload(app, "t.xlsx", got.content)
    assert (blank.unit_code, blank.deliverable) == ("WJ015", "plan")
    # Its 填写说明 carries the unit's link, as `huizong templates` writes it.
    assert _has_link(got.content)

    path = tmp_path / "downloaded.xlsx"
    path.write_bytes(got.content)
    wb = load_workbook(path)
    fill_workbook(wb, app.campaign, "plan", school_plan(app.campaign, app.roster.get("WJ015")))  # type: ignore[arg-type]
    wb.save(path)
    done = _upload(client, page, "downloaded.xlsx", path.read_bytes())
    assert done.status_code == 200
    version = app.store.latest("WJ015", "plan")
    assert version is not None and version.report.valid, version.report.errors
    # Another unit's session cannot fetch WJ015's template: the unit comes from the session.
    other = _client(app)
    _open(other, app, "WJ016")
    theirs = read_upload(app, "t.xlsx", other.get("/form/plan/template").content)
    assert theirs.unit_code == "WJ016"


def _has_link(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(f"{BASE}/u/".encode() in zf.read(n) for n in zf.namelist())


def test_english_campaign_upload_section_is_in_english(app: App, wujin_dir: Path, tmp_path: Path) -> None:
    yaml_path = wujin_dir / "campaign.yaml"
    yaml_path.write_text(yaml_path.read_text("utf-8").replace("language: zh", "language: en"), "utf-8")
    app = open_app(wujin_dir)
    client = _client(app)
    page = _open(client, app, "WJ015")
    assert "Already filled in the Excel workbook? Upload it" in page
    got = _upload(client, page, "x.xlsx", b"junk" * 100)
    assert got.status_code == 422 and "cannot be read as the form" in got.text


def test_a_workbook_sent_by_another_channel_shows_row_problems_with_the_table_not_on_a_wrong_card(
    app: App, wujin_dir: Path, tmp_path: Path
) -> None:
    # Dropped in the folder (or mailed): its report numbers the row issue by the sheet's row, which the
    # form's cards do not share; the page must not put it on whichever card has that number.
    data = _plan_bytes(app, tmp_path, "WJ015")
    (wujin_dir / "inbox").mkdir(exist_ok=True)
    (wujin_dir / "inbox" / "湖塘实验中学.xlsx").write_bytes(data)
    [outcome] = ingest_all(app, now=BEFORE_DUE)
    assert outcome.unit == "WJ015" and outcome.stored
    stored = app.store.latest("WJ015", "plan")
    assert stored is not None
    [bad] = [i for i in stored.report.errors if i.code == "bad-number"]
    assert bad.row is not None and bad.row > 2 and bad.cell  # the sheet's row, not the second card's

    page = _open(_client(app), app, "WJ015")
    cards = re.findall(r'name="(activities\.\d+\.[a-z_]+)"', page)
    assert cards, "the stored activities are shown as cards"
    assert not any('data-code="bad-number"' in _field_block(page, name) for name in cards)
    table = page[page.index('id="t-activities"') : page.index("</section>", page.index('id="t-activities"'))]
    assert 'data-code="bad-number"' in table
    assert f"!{bad.cell}" in page  # the summary gives the cell the unit finds in its workbook
