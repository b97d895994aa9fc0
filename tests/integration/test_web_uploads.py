"""Evidence files in the web form (issue 14 §5) through Starlette's TestClient, on the wujin-2022 example
with the issue's attachment rules (工作方案 exactly one, 4–5 photos, a video unless photos).

Real JPEGs with EXIF (tests/helpers/evidence.py) are posted as multipart, stored in the SQLite store and
read back from it: the version's refs (Store.attachments) and the bytes (Store.get_blob).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app
from tests.helpers.evidence import docx, jpeg, safe_listing, with_issue_rules
from tests.helpers.web_form_values import SUMMARY_STATS

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)
IN_WEEK = dt.datetime(2022, 12, 3, 9, 30)
BASE = "http://testserver"

STATS = SUMMARY_STATS

FileTuple = tuple[str, tuple[str, bytes, str]]


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


@pytest.fixture(autouse=True)
def _issue_rules(wujin_dir: Path) -> None:
    with_issue_rules(wujin_dir)


def _client(app: App, **kw: object) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW, **kw))  # type: ignore[arg-type]


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _open(client: TestClient, app: App, unit: str) -> str:
    secret = campaign_secret(app.store, now=NOW)
    client.get("/u/" + link_token(secret, app.campaign, unit, "summary"), follow_redirects=False)
    page = client.get("/form/summary")
    assert page.status_code == 200
    return page.text


def _file_block(page: str, rule: str) -> str:
    start = page.index(f'data-rule="{rule}"')
    end = page.find('<div class="field', start)
    return page[start : end if end != -1 else len(page)]


def _photo(n: int) -> FileTuple:
    return ("file.photos", (f"IMG_{n:04d}.jpg", jpeg(f"photo {n}", IN_WEEK), "image/jpeg"))


def _post(client: TestClient, page: str, action: str, files: list[FileTuple], **extra: object) -> str:
    data: dict[str, object] = {**STATS, "csrf": _csrf(page), "action": action, **extra}
    got = client.post("/form/summary", data=data, files=files)
    assert got.status_code == 200, got.text
    return got.text


def test_the_page_has_a_file_field_per_rule(app: App) -> None:
    page = _open(_client(app), app, "WJ015")
    assert 'enctype="multipart/form-data"' in page
    photos = _file_block(page, "photos")
    assert 'name="file.photos"' in photos and " multiple" in photos
    assert 'accept=".jpg,.jpeg,.png,.heic,.heif,image/jpeg,image/png,image/heic"' in photos
    assert "活动照片" in photos and "需 4–5 个" in photos and "每个不超过 20 MB" in photos
    plan = _file_block(page, "plan_doc")
    assert " multiple" not in plan and "需 1 个" in plan


def test_a_draft_keeps_photos_sent_one_at_a_time_and_submit_stores_them(app: App) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    # one photo from the phone: a draft holding it, the count issue next to the photos field
    page = _post(client, page, "save", [_photo(1)])
    draft = app.store.latest("WJ015", "summary")
    assert draft is not None and draft.status == "draft"
    refs = app.store.attachments(draft.id)
    assert [(r.rule, r.name, r.taken) for r in refs] == [("photos", "IMG_0001.jpg", IN_WEEK)]
    assert app.store.get_blob(refs[0].sha256) == jpeg("photo 1", IN_WEEK)
    photos = _file_block(page, "photos")
    assert 'data-code="missing-attachment"' in photos and "IMG_0001.jpg" in photos
    assert 'data-code="missing-attachment"' in _file_block(page, "plan_doc")
    # reopening the form (a new visit) shows the kept file
    assert "IMG_0001.jpg" in _file_block(client.get("/form/summary").text, "photos")

    # more photos in later saves, the same photo again counts once
    page = _post(client, page, "save", [_photo(2), _photo(1)])
    page = _post(client, page, "save", [_photo(3)])
    draft = app.store.latest("WJ015", "summary")
    assert draft is not None
    assert sorted(r.name for r in app.store.attachments(draft.id)) == [f"IMG_000{n}.jpg" for n in (1, 2, 3)]

    # the last photos and the plan, then submit: a valid submitted version with six files
    plan = ("file.plan_doc", ("工作方案.docx", docx("方案"), "application/octet-stream"))
    done = _post(client, page, "submit", [_photo(4), _photo(5), plan])
    version = app.store.latest("WJ015", "summary")
    assert version is not None and version.status == "submitted", done
    assert version.report.valid, version.report.errors
    kept = app.store.attachments(version.id)
    assert sorted((r.rule, r.name) for r in kept) == [
        ("photos", "IMG_0001.jpg"),
        ("photos", "IMG_0002.jpg"),
        ("photos", "IMG_0003.jpg"),
        ("photos", "IMG_0004.jpg"),
        ("photos", "IMG_0005.jpg"),
        ("plan_doc", "工作方案.docx"),
    ]
    # 照片张数 is the count of kept photos
    assert version.tables["summary_materials"][0]["photo_count"] == 5
    for ref in kept:
        data = app.store.get_blob(ref.sha256)
        assert data is not None and hashlib.sha256(data).hexdigest() == ref.sha256

    # submitting again without touching the files keeps them: the same version, nothing new
    again = _post(client, done, "submit", [])
    assert len(app.store.history("WJ015", "summary")) == 4
    assert "IMG_0004.jpg" in _file_block(again, "photos")

    # removing two makes a new version without them, and the count issue comes back
    gone = [r.sha256 for r in kept if r.name in ("IMG_0001.jpg", "IMG_0002.jpg")]
    removed = _post(client, again, "save", [], remove=gone)
    latest = app.store.latest("WJ015", "summary")
    assert latest is not None and latest.seq == version.seq + 1
    assert sorted(r.name for r in app.store.attachments(latest.id)) == [
        "IMG_0003.jpg",
        "IMG_0004.jpg",
        "IMG_0005.jpg",
        "工作方案.docx",
    ]
    assert 'data-code="missing-attachment"' in _file_block(removed, "photos")
    assert "IMG_0001.jpg" not in removed


def test_bad_files_are_reported_at_their_field_and_not_kept(app: App, wujin_dir: Path) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    before = [p for p in safe_listing(wujin_dir) if not p.startswith(("out", "store"))]
    hostile = [
        ("file.photos", ("../../../etc/passwd.jpg", jpeg("hostile", IN_WEEK), "image/jpeg")),
        ("file.photos", ("<img src=x onerror=alert(1)>.jpg", b"not an image at all", "image/jpeg")),
        ("file.plan_doc", ("C:\\Windows\\evil.docx", b"MZ\x90\x00 an exe", "application/octet-stream")),
    ]
    saved = _post(client, page, "save", hostile)
    photos = _file_block(saved, "photos")
    # the name is shown as its last part only, never a path; unit text is escaped
    assert "passwd.jpg" in photos and "../" not in saved
    assert "<img src=x" not in saved and "&lt;img src=x onerror=alert(1)&gt;.jpg" in photos
    assert 'data-code="bad-attachment-type"' in photos
    plan = _file_block(saved, "plan_doc")
    assert 'data-code="bad-attachment-type"' in plan and "evil.docx" in plan
    draft = app.store.latest("WJ015", "summary")
    assert draft is not None
    assert [r.name for r in app.store.attachments(draft.id)] == ["passwd.jpg"]
    # nothing was written under a name the unit chose
    after = [p for p in safe_listing(wujin_dir) if not p.startswith(("out", "store"))]
    assert after == before
    assert not any("passwd" in p or "evil" in p for p in safe_listing(wujin_dir))


def test_uploads_over_the_request_limit_get_a_clear_page_and_nothing_is_stored(app: App) -> None:
    client = _client(app, max_upload=50_000)
    page = _open(client, app, "WJ015")
    big = ("file.photos", ("big.jpg", jpeg("big", IN_WEEK, extra=b"x" * 60_000), "image/jpeg"))
    got = client.post("/form/summary", data={**STATS, "csrf": _csrf(page), "action": "save"}, files=[big])
    assert got.status_code == 413
    assert "合计超过" in got.text and "分几次上传" in got.text and "Traceback" not in got.text
    assert app.store.latest("WJ015", "summary") is None


def test_too_many_files_in_one_post_is_refused_clearly(app: App) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015")
    # the rules allow 1 + 5 + 50 (a video rule without max) files per save
    many = [("file.photos", (f"p{i}.jpg", b"x", "image/jpeg")) for i in range(57)]
    got = client.post("/form/summary", data={"csrf": _csrf(page), "action": "save"}, files=many)
    assert got.status_code == 400 and "最多上传 56 个文件" in got.text
    assert app.store.latest("WJ015", "summary") is None


def test_a_post_with_files_needs_the_csrf_token(app: App) -> None:
    client = _client(app)
    _open(client, app, "WJ015")
    got = client.post("/form/summary", data={**STATS, "action": "save"}, files=[_photo(1)])
    assert got.status_code == 403
    assert app.store.latest("WJ015", "summary") is None
    assert not app.store.units_with_blob(hashlib.sha256(jpeg("photo 1", IN_WEEK)).hexdigest())


def test_a_file_over_its_rule_size_is_reported_at_its_field_and_not_kept(wujin_dir: Path) -> None:
    path = wujin_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    # the photos rule takes at most 0.01 MB (about 10 KB) per file in this campaign
    path.write_text(text.replace("min: 4, max: 5}", "min: 4, max: 5, max_mb: 0.01}"), encoding="utf-8")
    app = open_app(wujin_dir)
    client = _client(app)
    page = _open(client, app, "WJ015")
    assert "每个不超过 0.01 MB" in _file_block(page, "photos")
    big = ("file.photos", ("big.jpg", jpeg("big", IN_WEEK, extra=b"x" * 20_000), "image/jpeg"))
    saved = _post(client, page, "save", [big, _photo(1)])
    photos = _file_block(saved, "photos")
    assert 'data-code="attachment-too-large"' in photos and "big.jpg" in photos
    draft = app.store.latest("WJ015", "summary")
    assert draft is not None
    assert [r.name for r in app.store.attachments(draft.id)] == ["IMG_0001.jpg"]
