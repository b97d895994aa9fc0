"""Direct uploads through the web app (issue 14 §5, cloud) with Starlette's TestClient and an in-memory
UploadTarget that enforces a presigned policy as S3 does (tests/fakes/uploads.py): the page's hook, the
JSON presign endpoint (session, CSRF, limits, refusals in Chinese), a save that takes this session's
objects into the store, and a save naming another session's or unit's object refused with nothing read.
The same flow through a Lambda function URL event on moto: tests/integration/test_web_lambda.py.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app
from functions.web.limits import RateLimiter, WebLimits
from tests.fakes.uploads import FakeUploadTarget
from tests.helpers.evidence import docx, jpeg, with_issue_rules

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)
IN_WEEK = dt.datetime(2022, 12, 3, 9, 30)
BASE = "https://form.example.org"
UNIT = "WJ015"


@pytest.fixture
def target() -> FakeUploadTarget:
    return FakeUploadTarget()


@pytest.fixture
def app(wujin_dir: Path, target: FakeUploadTarget) -> App:
    with_issue_rules(wujin_dir)
    opened = open_app(wujin_dir)
    opened.uploads = target  # what functions/bootstrap.py wires for the Lambda profile
    return opened


def _client(app: App, **kw: Any) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW, **kw), base_url=BASE)


def _open(client: TestClient, app: App, unit: str = UNIT) -> str:
    secret = campaign_secret(app.store, now=NOW)
    client.get("/u/" + link_token(secret, app.campaign, unit, "summary"), follow_redirects=False)
    page = client.get("/form/summary")
    assert page.status_code == 200
    return page.text


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _ask(client: TestClient, page: str, **fields: Any) -> Any:
    body = {"csrf": _csrf(page), "rule": "photos", "name": "IMG_0001.jpg", "size": 1000, "type": "image/jpeg"}
    return client.post("/form/summary/presign", content=json.dumps({**body, **fields}))


def _upload(
    client: TestClient, target: FakeUploadTarget, page: str, rule: str, name: str, data: bytes
) -> str:
    """What static/direct_upload.js does for one file: ask, post to storage; returns the object's key."""
    reply = _ask(client, page, rule=rule, name=name, size=len(data), pending=0)
    assert reply.status_code == 200, reply.text
    from functions.ports import PresignedPost

    signed = PresignedPost.model_validate(reply.json())
    assert target.post(signed, data) == 204
    return signed.key


def _save(client: TestClient, page: str, action: str, uploads: list[tuple[str, str, str]]) -> Any:
    data: dict[str, list[str]] = {"csrf": [_csrf(page)], "action": [action]}
    for rule, key, name in uploads:
        data.setdefault(f"upload.{rule}", []).append(key)
        data[f"upload-name.{key}"] = [name]
    return client.post("/form/summary", data=data)


def test_the_page_carries_the_hook_and_the_csp_names_the_upload_origin(app: App) -> None:
    client = _client(app)
    page = _open(client, app)
    assert 'data-direct-upload="/form/summary/presign"' in page
    assert re.search(r'<script src="/static/direct_upload\.js\?v=[0-9a-f]+"></script>', page)
    texts = re.search(r"data-upload-texts='([^']+)'", page)
    assert texts and json.loads(html.unescape(texts.group(1)))["done"] == "已上传，保存后生效"
    # the per-save total of the form's own post is not what limits a direct upload
    assert "每个不超过 20 MB" in page and "每次保存上传合计" not in page
    csp = client.get("/form/summary").headers["content-security-policy"]
    assert "connect-src 'self' https://uploads.example.test;" in csp
    script = client.get("/static/direct_upload.js")
    assert script.status_code == 200 and "huizongPrepareUpload" in script.text


def test_without_an_upload_target_there_is_no_hook_and_no_endpoint(wujin_dir: Path) -> None:
    with_issue_rules(wujin_dir)
    local = open_app(wujin_dir)
    client = _client(local)
    page = _open(client, local)
    assert "data-direct-upload" not in page and "direct_upload.js" not in page
    assert "connect-src" not in client.get("/form/summary").headers["content-security-policy"]
    assert _ask(client, page).status_code == 404


def test_photos_and_a_plan_uploaded_to_storage_are_taken_into_the_version(
    app: App, target: FakeUploadTarget
) -> None:
    client = _client(app)
    page = _open(client, app)
    uploads = [("photos", _upload(client, target, page, "photos", f"IMG_{n}.jpg", jpeg(f"p{n}", IN_WEEK)), f"IMG_{n}.jpg") for n in range(4)]  # fmt: skip
    plan = docx("武进区活动周工作方案")
    uploads.append(("plan_doc", _upload(client, target, page, "plan_doc", "<b>方案<b>.docx", plan), "<b>方案<b>.docx"))  # fmt: skip
    assert len(target.objects) == 5

    saved = _save(client, page, "save", uploads)
    assert saved.status_code == 200, saved.text
    draft = app.store.latest(UNIT, "summary")
    assert draft is not None and draft.status == "draft"
    refs = app.store.attachments(draft.id)
    assert sorted((r.rule, r.name) for r in refs) == [("photos", f"IMG_{n}.jpg") for n in range(4)] + [
        ("plan_doc", "<b>方案<b>.docx")
    ]
    assert app.store.get_blob(next(r.sha256 for r in refs if r.rule == "plan_doc")) == plan
    assert target.objects == {}  # taken: read and deleted
    # the unit's file name is text on the page, never markup
    assert "<b>方案<b>" not in saved.text and "&lt;b&gt;方案&lt;b&gt;.docx" in saved.text
    assert "missing-attachment" not in saved.text

    # the same keys again (the back button, a double tap): gone, said next to the photos field
    again = _save(client, page, "save", uploads[:1])
    assert again.status_code == 200 and 'data-code="upload-not-received"' in again.text
    assert "IMG_0.jpg" in again.text and "请重新选择该文件上传" in again.text
    latest = app.store.latest(UNIT, "summary")
    assert latest is not None and len(app.store.attachments(latest.id)) == 5  # the kept files stay


def test_a_save_naming_another_sessions_object_is_refused_and_the_object_is_left(
    app: App, target: FakeUploadTarget
) -> None:
    mine, theirs = _client(app), _client(app)
    my_page = _open(mine, app)
    # another visit of the same unit: a new session, hence a new prefix
    their_page = _open(theirs, app, UNIT)
    their_key = _upload(theirs, target, their_page, "photos", "theirs.jpg", jpeg("theirs", IN_WEEK))

    refused = _save(mine, my_page, "save", [("photos", their_key, "theirs.jpg")])
    assert refused.status_code == 400
    assert "不属于本次打开的表单" in refused.text and their_key not in refused.text
    assert their_key in target.objects and target.taken == []  # nothing read, nothing taken
    assert app.store.latest(UNIT, "summary") is None  # nothing saved

    # a path instead of a key: the same refusal, nothing looked up
    path = _save(mine, my_page, "save", [("photos", "../../wujin-2022/store/meta.json", "x.jpg")])
    assert path.status_code == 400 and target.taken == []


def test_another_units_session_cannot_name_this_units_object(app: App, target: FakeUploadTarget) -> None:
    a, b = _client(app), _client(app)
    page_a = _open(a, app, UNIT)
    key = _upload(a, target, page_a, "photos", "a.jpg", jpeg("a", IN_WEEK))
    other = next(
        u.code
        for u in app.roster.units
        if u.code != UNIT and app.campaign.deliverable("summary").applies_to(u.type)
    )
    page_b = _open(b, app, other)
    assert _save(b, page_b, "save", [("photos", key, "a.jpg")]).status_code == 400
    assert key in target.objects and app.store.latest(other, "summary") is None


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"csrf": "forged"}, 403, "不是从本单位的表单发出的"),
        ({"rule": "nope"}, 400, "没有这个上传项"),
        ({"size": 21 * 1024 * 1024}, 413, "上限 20 MB"),
        ({"pending": 5}, 409, "最多 5 个文件"),
        ({"size": "many"}, 400, "格式不对"),
        ({"extra": "field"}, 400, "格式不对"),
    ],
)
def test_a_presign_request_is_refused_with_a_line_for_the_unit(
    app: App, target: FakeUploadTarget, fields: dict[str, Any], status: int, words: str
) -> None:
    client = _client(app)
    reply = _ask(client, _open(client, app), **fields)
    assert reply.status_code == status and words in reply.json()["error"]
    assert reply.headers["content-type"].startswith("application/json")
    assert target.signed == []


def test_a_presign_request_that_is_not_json_or_has_no_session_is_refused(app: App) -> None:
    client = _client(app)
    page = _open(client, app)
    for body in (b"not json", b"[" * 3000, b"{}"):
        reply = client.post("/form/summary/presign", content=body)
        assert reply.status_code == 400 and "格式不对" in reply.json()["error"]
    assert _client(app).post("/form/summary/presign", content=b"{}").status_code == 401
    assert "请重新打开" in _client(app).post("/form/summary/presign", content=b"{}").json()["error"]
    assert page  # the session above was open: the refusals are about the body


def test_presign_requests_are_rate_limited_per_unit(app: App) -> None:
    at = [0.0]
    limits = WebLimits.default(clock=lambda: at[0])
    limits.per_upload = RateLimiter(3, 600.0, clock=lambda: at[0])
    client = _client(app, limits=limits)
    page = _open(client, app)
    assert [_ask(client, page).status_code for _ in range(4)] == [200, 200, 200, 429]
    busy = _ask(client, page)
    assert "上传过于频繁" in busy.json()["error"] and int(busy.headers["retry-after"]) > 0
    at[0] += 600
    assert _ask(client, page).status_code == 200
