"""The web form through Starlette's TestClient (httpx): link → cookie → form → save → fix → submit.

Runs on the wujin-2022 example with its SQLite store and mail outbox, so what the web form stores is read
back by the same store, and the receipt is a real .eml file in outbox/.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.loop import consolidate
from functions.services.web.links import campaign_secret, link_token, rotate_secret
from functions.web.app import create_web_app
from functions.web.limits import RateLimiter, WebLimits
from tests.helpers.web_form_values import SUMMARY_STATS

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)  # the summary's due day
BASE = "http://testserver"

STATS = {
    **SUMMARY_STATS,
    "statistics.total_participants": "很多",
    "summary_materials.photo_count": "6",
}


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


def _client(app: App, **kw: object) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW, **kw))  # type: ignore[arg-type]


def _link(app: App, unit: str, deliverable: str = "summary") -> str:
    secret = campaign_secret(app.store, now=NOW)
    return "/u/" + link_token(secret, app.campaign, unit, deliverable)


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _open(client: TestClient, app: App, unit: str, deliverable: str = "summary") -> str:
    got = client.get(_link(app, unit, deliverable), follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == f"/form/{deliverable}"
    page = client.get(f"/form/{deliverable}")
    assert page.status_code == 200
    return page.text


def _field_block(page: str, name: str) -> str:
    """The HTML of one field's block (label, input, help, issues)."""
    start = page.index(f'name="{name}"')
    begin = page.rindex('<div class="field', 0, start)
    end = page.index('<div class="field', start) if '<div class="field' in page[start:] else len(page)
    return page[begin:end]


def test_link_cookie_form_save_fix_submit(app: App) -> None:
    client = _client(app)
    got = client.get(_link(app, "WJ015"), follow_redirects=False)
    cookie = got.headers["set-cookie"]
    assert (
        "HttpOnly" in cookie
        and "SameSite=lax" in cookie.replace("Lax", "lax")
        and "Path=/form/summary" in cookie
    )
    assert "Secure" not in cookie  # plain http on loopback
    page = client.get("/form/summary").text
    unit = app.roster.get("WJ015")
    assert unit is not None and html.escape(unit.name) in page
    assert "未提交" in page and "2022年12月9日" in page
    # the identity is shown, not editable
    assert 'name="unit' not in page

    # save a draft with a bad number: the message is next to the field and in the summary
    saved = client.post("/form/summary", data={**STATS, "csrf": _csrf(page), "action": "save"})
    assert saved.status_code == 200
    block = _field_block(saved.text, "statistics.total_participants")
    assert 'data-code="bad-number"' in block and "很多" in block
    assert "“参与总人次”应填数字" in block
    assert 'class="summary has-errors"' in saved.text and "草稿已保存" in saved.text
    assert 'href="#f-statistics-total_participants"' in saved.text
    draft = app.store.latest("WJ015", "summary")
    assert draft is not None and draft.status == "draft" and draft.source_kind == "web"
    assert [i.code for i in draft.report.errors] == ["bad-number"]
    # the report file is the workbook channel's
    assert (app.paths.reports / "WJ015-summary.json").is_file()
    # reopening the form shows what was typed, even the value the validator could not read
    again = client.get("/form/summary").text
    assert 'value="很多"' in _field_block(again, "statistics.total_participants")
    assert "草稿（有问题）" in again

    # fix and submit: a submitted version, the receipt in the outbox
    fixed = {**STATS, "statistics.total_participants": "3000"}
    done = client.post("/form/summary", data={**fixed, "csrf": _csrf(again), "action": "submit"})
    assert done.status_code == 200
    assert "已提交" in done.text and "回执已发送" in done.text
    assert 'data-code="bad-number"' not in done.text
    version = app.store.latest("WJ015", "summary")
    assert version is not None and version.status == "submitted" and version.report.valid
    assert (
        version.source == "web:WJ015/summary"
        and version.tables["statistics"][0]["total_participants"] == 3000
    )
    mails = sorted(app.paths.outbox.glob("*.eml"))
    assert len(mails) == 1
    msg = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert "【回执】" in str(msg["Subject"]) and unit.emails[0] in str(msg["To"])
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and f"{BASE}/u/" in body.get_content()
    # submitting the same content again stores nothing new and mails nothing new
    client.post("/form/summary", data={**fixed, "csrf": _csrf(done.text), "action": "submit"})
    assert len(app.store.history("WJ015", "summary")) == 2
    assert len(list(app.paths.outbox.glob("*.eml"))) == 1
    # the master sees the web submission like any other
    consolidate(app, now=NOW)
    wb = load_workbook(app.paths.master, read_only=True)
    rows = [r for r in wb["统计"].iter_rows(min_row=2, values_only=True) if r[0] == "WJ015"]
    assert rows and 3000 in rows[0]
    # a later draft does not hide the submission: the state says both, like `huizong status`
    later = client.post(
        "/form/summary",
        data={**fixed, "statistics.volunteers": "8", "csrf": _csrf(done.text), "action": "save"},
    ).text
    assert "已提交，另有未提交的草稿" in later
    assert app.store.latest("WJ015", "summary", status="submitted") == version


def test_rows_are_cards_with_issues_on_their_row(app: App) -> None:
    client = _client(app)
    page = _open(client, app, "WJ015", "plan")
    assert 'class="row-template"' in page and "/static/form.js" in page
    assert '<select id="f-activities-0-category" name="activities.0.category">' in page
    assert 'type="date"' in page and 'min="2022-11-30"' in page and 'max="2022-12-10"' in page
    row = {
        "name": "智慧助老手机课堂",
        "category": "培训",
        "start_date": "2022-12-03",
        "venue": "社区中心",
        "mode": "线下",
        "expected_participants": "50",
        "free": "是",
        "lead": "张老师",
        "phone": "13912345678",
    }
    data: dict[str, str | list[str]] = {"csrf": _csrf(page), "action": "save"}
    for i, over in enumerate(({}, {"expected_participants": "很多"}, {})):
        for k, v in {**row, **over}.items():
            data[f"activities.{i * 2}.{k}"] = v  # the browser's numbering has gaps after removals
        data[f"activities.{i * 2}.audience"] = ["社区居民", "老年人"]
    saved = client.post("/form/plan", data=data).text
    # the second row (posted as index 2) is row 2 and carries its message
    # the summary links to the field
    assert 'href="#f-activities-1-expected_participants"' in saved
    assert 'id="f-activities-1-expected_participants"' in saved
    block = _field_block(saved, "activities.1.expected_participants")
    assert 'data-code="bad-number"' in block and "很多" in block
    assert 'data-code="bad-number"' not in _field_block(saved, "activities.0.expected_participants")
    draft = app.store.latest("WJ015", "plan")
    assert draft is not None and len(draft.tables["activities"]) == 3
    assert draft.tables["activities"][0]["audience"] == ["社区居民", "老年人"]
    assert "checked" in _field_block(saved, "activities.0.audience")


def test_security_headers_and_static_assets(app: App) -> None:
    client = _client(app)
    page = client.get(_link(app, "WJ001"))
    for resp in (page, client.get("/static/form.js"), client.get("/static/form.css"), client.get("/nope")):
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "http://" not in re.sub(r'href="http://testserver/u/[^"]*"', "", page.text).replace(BASE, "")
    assert "<script>" not in page.text  # no inline script: the only script is the app's own file
    assert client.get("/nope").status_code == 404 and "Traceback" not in client.get("/nope").text


@pytest.mark.parametrize("how", ["tampered", "rotated", "expired", "other-campaign", "garbage"])
def test_bad_links_get_a_clear_page(app: App, how: str) -> None:
    client = _client(app)
    link = _link(app, "WJ001")
    if how == "tampered":
        link = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
        expected = "内容被改动过"
    elif how == "rotated":
        rotate_secret(app.store, now=NOW)
        expected = "已被组织方停用"
    elif how == "expired":
        client = TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW + dt.timedelta(days=365)))
        expected = "已过期"
    elif how == "other-campaign":
        other = app.campaign.model_copy(update={"id": "xinbei-2017"})
        link = "/u/" + link_token(campaign_secret(app.store, now=NOW), other, "WJ001", "summary")
        expected = "另一次活动"
    else:
        link = "/u/%3Cscript%3Ealert(1).x"
        expected = "不完整或已损坏"
    got = client.get(link, follow_redirects=False)
    assert got.status_code == 403
    assert expected in got.text and "wjsqjy@example.org" in got.text
    assert "set-cookie" not in got.headers and "Traceback" not in got.text
    assert "<script>alert" not in got.text


def test_a_session_for_unit_a_never_reads_or_writes_unit_b(app: App) -> None:
    a, b = _client(app), _client(app)
    page_a = _open(a, app, "WJ001")
    page_b = _open(b, app, "WJ002")
    a.post("/form/summary", data={**STATS, "csrf": _csrf(page_a), "action": "save"})
    # B's page shows none of A's draft
    assert "很多" not in b.get("/form/summary").text
    # A's cookie with B's CSRF token: refused, nothing stored for either
    refused = a.post("/form/summary", data={**STATS, "csrf": _csrf(page_b), "action": "submit"})
    assert refused.status_code == 403
    assert app.store.latest("WJ002", "summary") is None
    # a field naming another unit is not a field of the form: the unit is the session's
    a.post("/form/summary", data={**STATS, "unit_code": "WJ002", "csrf": _csrf(page_a), "action": "save"})
    assert app.store.latest("WJ002", "summary") is None
    # A's cookie rewritten to name B: its signature no longer matches
    cookie = a.cookies.get("hz_summary", path="/form/summary")
    assert cookie
    import base64
    import json

    payload, mac = cookie.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["u"] = "WJ002"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode() + "." + mac
    c = _client(app)
    c.cookies.set("hz_summary", forged, path="/form/summary")
    assert c.get("/form/summary").status_code == 403
    assert c.post("/form/summary", data={**STATS, "csrf": _csrf(page_a), "action": "save"}).status_code == 403
    assert app.store.latest("WJ002", "summary") is None
    # a link of the plan does not open the summary
    p = _client(app)
    p.get(_link(app, "WJ001", "plan"))
    assert p.get("/form/summary").status_code == 401


def test_post_without_csrf_or_session_is_refused(app: App) -> None:
    client = _client(app)
    _open(client, app, "WJ001")
    assert client.post("/form/summary", data={**STATS, "action": "save"}).status_code == 403
    assert _client(app).post("/form/summary", data={**STATS, "action": "save"}).status_code == 401
    assert app.store.latest("WJ001", "summary") is None


def test_html_is_escaped_everywhere(app: App, wujin_dir: Path) -> None:
    evil = "<script>alert('x')</script>"
    csv_path = wujin_dir / "units.csv"
    csv_path.write_text(
        csv_path.read_text(encoding="utf-8").replace("区委宣传部", evil.replace(",", "")), encoding="utf-8"
    )
    app = open_app(wujin_dir)
    client = _client(app)
    page = _open(client, app, "WJ001")
    assert evil not in page and "&lt;script&gt;" in page
    saved = client.post(
        "/form/summary",
        data={
            **STATS,
            "statistics.filled_by": evil,
            "statistics.total_sessions": evil,
            "csrf": _csrf(page),
            "action": "save",
        },
    ).text
    assert evil not in saved and "&lt;script&gt;alert" in saved


def test_request_size_is_limited(app: App) -> None:
    client = _client(app, max_body=10_000)
    page = _open(client, app, "WJ001")
    big = client.post("/form/summary", data={"csrf": _csrf(page), "statistics.filled_by": "x" * 20_000})
    assert big.status_code == 413 and "大小限制" in big.text
    assert app.store.latest("WJ001", "summary") is None


def test_english_campaign_pages_are_in_english(app: App, wujin_dir: Path) -> None:
    yaml_path = wujin_dir / "campaign.yaml"
    yaml_path.write_text(
        yaml_path.read_text(encoding="utf-8").replace("language: zh", "language: en"), "utf-8"
    )
    app = open_app(wujin_dir)
    client = _client(app)
    page = _open(client, app, "WJ001")
    assert "Save draft and check" in page and "Unit code" in page and "not submitted" in page
    saved = client.post("/form/summary", data={**STATS, "csrf": _csrf(page), "action": "save"}).text
    assert "'Total participant visits' must be a number" in html.unescape(saved)


def test_a_failure_inside_is_a_page_not_a_traceback(app: App) -> None:
    real = app.store

    class Broken:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def add_version(self, *args: object, **kwargs: object) -> object:
            raise RuntimeError("disk full at /secret/path")

    client = _client(app)
    page = _open(client, app, "WJ001")
    app.store = Broken()  # type: ignore[assignment]
    quiet = TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW), raise_server_exceptions=False)
    quiet.cookies = client.cookies
    got = quiet.post("/form/summary", data={**STATS, "csrf": _csrf(page), "action": "save"})
    assert got.status_code == 500
    assert "出错了" in got.text and "wjsqjy@example.org" in got.text
    assert "Traceback" not in got.text and "/secret/path" not in got.text
    assert got.headers["content-security-policy"].startswith("default-src 'self'")


def test_the_bare_address_says_to_use_the_personal_link(app: App) -> None:
    got = _client(app).get("/")
    assert got.status_code == 200 and "专属链接" in got.text


def test_the_form_script_parses(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = Path(__file__).resolve().parents[2] / "functions" / "web" / "static" / "form.js"
    done = subprocess.run([node, "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_page_shows_the_check_of_what_was_typed_last(app: App) -> None:
    client = _client(app)
    page = _open(client, app, "WJ001")
    # "3000余" and "3000" are the same content (one version), but each page shows its own check
    approx = {**STATS, "statistics.total_participants": "3000余"}
    first = client.post("/form/summary", data={**approx, "csrf": _csrf(page), "action": "save"}).text
    assert 'data-code="approximate-number"' in _field_block(first, "statistics.total_participants")
    exact = {**STATS, "statistics.total_participants": "3000"}
    client.post("/form/summary", data={**exact, "csrf": _csrf(first), "action": "save"})
    assert len(app.store.history("WJ001", "summary")) == 1
    again = client.get("/form/summary").text
    block = _field_block(again, "statistics.total_participants")
    assert 'value="3000"' in block and "approximate-number" not in block


def test_under_https_the_cookie_is_secure(app: App) -> None:
    client = TestClient(create_web_app(app, base_url="https://form.example.org", clock=lambda: NOW))
    got = client.get(_link(app, "WJ001"), follow_redirects=False)
    assert "Secure" in got.headers["set-cookie"]


def test_saves_are_rate_limited_per_unit_with_a_clear_page(app: App) -> None:
    ticks = [0.0]
    limits = WebLimits(
        per_address=RateLimiter(100, 60.0, clock=lambda: ticks[0]),
        per_unit=RateLimiter(2, 60.0, clock=lambda: ticks[0]),
    )
    client = _client(app, limits=limits)
    page = _open(client, app, "WJ001")
    for n in ("1", "2"):
        ok = client.post("/form/summary", data={**STATS, "statistics.volunteers": n, "csrf": _csrf(page)})
        assert ok.status_code == 200
    slowed = client.post("/form/summary", data={**STATS, "statistics.volunteers": "3", "csrf": _csrf(page)})
    assert slowed.status_code == 429 and slowed.headers["retry-after"] == "30"
    assert "30 秒后再试" in slowed.text
    assert len(app.store.history("WJ001", "summary")) == 2
    # another unit is not slowed down by this one
    other = _client(app, limits=limits)
    other_page = _open(other, app, "WJ002")
    assert other.post("/form/summary", data={**STATS, "csrf": _csrf(other_page)}).status_code == 200
    ticks[0] += 30
    again = client.post("/form/summary", data={**STATS, "statistics.volunteers": "3", "csrf": _csrf(page)})
    assert again.status_code == 200


def test_an_expired_session_asks_to_open_the_link_again(app: App) -> None:
    client = _client(app)
    _open(client, app, "WJ001")
    later = TestClient(create_web_app(app, base_url=BASE, clock=lambda: NOW + dt.timedelta(hours=13)))
    later.cookies = client.cookies
    got = later.get("/form/summary")
    assert got.status_code == 401 and "重新打开" in got.text and "已过期（活动报送已结束）" not in got.text
    # the link itself still works and starts a new visit
    assert later.get(_link(app, "WJ001")).status_code == 200
