"""The organiser's console through Starlette's TestClient (httpx): sign-in by a mailed one-time link,
sessions, CSRF, a coordinator's scope (404 on every route that takes a unit), review actions through the
same service as the CLI, downloads and the audit log.

On the wujin-2022 example with its SQLite store and mail outbox in tmp_path, so every sign-in mail is a
real .eml file read back, and every record is read back from the store.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.config.loading import ConfigError
from functions.services.console.accounts import audit_log
from functions.services.review.records import all_records
from functions.services.status.unit_states import unit_statuses
from functions.web.app import create_web_app
from tests.helpers.campaigns import customise
from tests.helpers.console import csrf_of, mails
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
BASE = "http://testserver"
ORGANISER = "wang@example.org"
HUTANG = "li@example.org"  # coordinator of 湖塘镇
HUTANG_UNIT = "WJ009"  # 湖塘镇
NIUTANG_UNIT = "WJ010"  # 牛塘镇

PEOPLE = f"""
review: optional
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
  - {{name: 李协调, email: {HUTANG}, role: coordinator, areas: [湖塘镇]}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    app = open_app(wujin_dir)
    for unit, errors in ((HUTANG_UNIT, 2), (NIUTANG_UNIT, 0)):
        sub = submission(unit, "plan", n=1, source=f"inbox/{unit}.xlsx")
        (wujin_dir / "inbox").mkdir(exist_ok=True)
        (wujin_dir / f"inbox/{unit}.xlsx").write_bytes(b"PK fake workbook of " + unit.encode())
        app.store.add_version(
            sub, report(sub, errors=errors), received_at=NOW - dt.timedelta(days=1), late=False
        )
    return app


class StrictLock:
    """serve's lock is a threading.Lock: taking it again while held hangs the server. Requests here run
    one at a time, so a lock already held means the code took it twice: fail instead of hanging."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __enter__(self) -> None:
        if not self.lock.acquire(blocking=False):
            raise AssertionError("the serve lock was taken while already held")

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


@pytest.fixture
def client(app: App, clock: Clock) -> TestClient:
    return TestClient(create_web_app(app, base_url=BASE, clock=clock, lock=StrictLock()))  # type: ignore[arg-type]


def ask_link(client: TestClient, address: str) -> str:
    page = client.get("/admin/login")
    assert page.status_code == 200
    got = client.post("/admin/login", data={"email": address, "csrf": csrf_of(page.text)})
    assert got.status_code == 200
    return got.text


def link_in(app: App, address: str, *, seen: tuple[str, ...] = ()) -> str:
    """The sign-in link of the mail to `address` not among `seen` (outbox files are not in time order)."""
    found = []
    for m in mails(app):
        if address not in str(m["To"]):
            continue
        body = m.get_body(("plain",))
        assert body is not None
        hit = re.search(r"http://testserver(/admin/signin/[A-Za-z0-9_-]+)", body.get_content())
        assert hit, "no link in the mail"
        found.append(hit.group(1))
    fresh = [p for p in found if p not in seen]
    assert len(fresh) == 1, f"expected one new sign-in mail to {address}, found {fresh}"
    return fresh[0]


def use_link(client: TestClient, path: str) -> int:
    page = client.get(path)
    assert page.status_code == 200
    token = path.rsplit("/", 1)[1]
    got = client.post(
        "/admin/signin", data={"token": token, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    return got.status_code


def sign_in(client: TestClient, app: App, address: str) -> str:
    ask_link(client, address)
    assert use_link(client, link_in(app, address)) == 303
    home = client.get("/admin/")
    assert home.status_code == 200
    return csrf_of(home.text)


def test_an_organiser_signs_in_with_the_mailed_link_and_sees_every_area(client: TestClient, app: App) -> None:
    assert client.get("/admin/", follow_redirects=False).headers["location"] == "/admin/login"
    sign_in(client, app, ORGANISER)
    mail = [m for m in mails(app) if ORGANISER in str(m["To"])][-1]
    assert "登录链接" in str(mail["Subject"])
    home = client.get("/admin/").text
    assert "报送概览" in home and "<svg" in home and "湖塘镇" in home and "牛塘镇" in home
    units = client.get("/admin/units").text
    assert HUTANG_UNIT in units and NIUTANG_UNIT in units
    cookie = next(c for c in client.cookies.jar if c.name == "hz_admin")
    assert cookie.path == "/admin" and cookie.has_nonstandard_attr("HttpOnly")
    assert [e.action for e in audit_log(app.store)] == ["link-sent", "sign-in"]


def test_the_link_works_once_and_expires(client: TestClient, app: App, clock: Clock) -> None:
    ask_link(client, ORGANISER)
    path = link_in(app, ORGANISER)
    assert use_link(client, path) == 303
    other = TestClient(client.app)
    page = other.get(path)
    got = other.post("/admin/signin", data={"token": path.rsplit("/", 1)[1], "csrf": csrf_of(page.text)})
    assert got.status_code == 403 and "已经用过" in got.text
    assert other.get("/admin/", follow_redirects=False).status_code == 303

    ask_link(other, ORGANISER)
    later = link_in(app, ORGANISER, seen=(path,))
    clock.now = NOW + dt.timedelta(minutes=16)
    page = other.get(later)
    got = other.post("/admin/signin", data={"token": later.rsplit("/", 1)[1], "csrf": csrf_of(page.text)})
    assert got.status_code == 403 and "已过期" in got.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: TestClient, app: App) -> None:
    known = ask_link(client, ORGANISER)
    unknown = ask_link(TestClient(client.app), "stranger@example.org")
    assert known == unknown
    assert not [m for m in mails(app) if "stranger" in str(m["To"])]
    assert len(mails(app)) == 1


def test_every_post_needs_its_csrf_token(client: TestClient, app: App) -> None:
    page = client.get("/admin/login")
    assert client.post("/admin/login", data={"email": ORGANISER, "csrf": "forged"}).status_code == 403
    assert client.post("/admin/login", data={"email": ORGANISER}).status_code == 403
    assert mails(app) == []
    csrf = csrf_of(page.text)
    assert csrf  # the right one works (covered by sign_in below)
    sign_in(client, app, ORGANISER)
    got = client.post(f"/admin/units/{NIUTANG_UNIT}/plan/approve", data={"csrf": "forged"})
    assert got.status_code == 403
    assert client.post("/admin/signout", data={}).status_code == 403
    assert all_records(app.store) == {}


def test_a_coordinator_sees_and_acts_on_only_their_areas(client: TestClient, app: App) -> None:
    csrf = sign_in(client, app, HUTANG)
    units = client.get("/admin/units").text
    assert HUTANG_UNIT in units and NIUTANG_UNIT not in units
    assert "牛塘镇" not in client.get("/admin/").text
    assert client.get(f"/admin/units/{HUTANG_UNIT}").status_code == 200
    # Every route that takes a unit answers 404 for another area's unit, as for a unit that does not exist.
    for path in (
        f"/admin/units/{NIUTANG_UNIT}",
        f"/admin/units/{NIUTANG_UNIT}/plan/file",
        "/admin/units/NOPE",
    ):
        assert client.get(path).status_code == 404, path
    # Word for word the same answer: the console does not confirm that another area's unit exists.
    assert client.get(f"/admin/units/{NIUTANG_UNIT}").text == client.get("/admin/units/WJ999").text
    for action in ("approve", "return", "waive", "reopen"):
        got = client.post(
            f"/admin/units/{NIUTANG_UNIT}/plan/{action}",
            data={"csrf": csrf, "comment": "x", "code": "required-missing", "cell": "活动!B2"},
        )
        assert got.status_code == 404, action
    assert client.get("/admin/master").status_code == 404
    assert client.get("/admin/audit").status_code == 404
    assert all_records(app.store) == {}


def test_review_buttons_use_the_review_service_and_are_audited(client: TestClient, app: App) -> None:
    csrf = sign_in(client, app, ORGANISER)
    page = client.get(f"/admin/units/{HUTANG_UNIT}").text
    assert "活动!B2" in page and "required-missing" in page

    refused = client.post(f"/admin/units/{HUTANG_UNIT}/plan/approve", data={"csrf": csrf})
    assert refused.status_code == 400 and "不能通过" in refused.text

    returned = client.post(
        f"/admin/units/{HUTANG_UNIT}/plan/return", data={"csrf": csrf, "comment": "请补充<b>照片</b>"}
    )
    assert returned.status_code == 200 and "已退回" in returned.text
    assert "请补充&lt;b&gt;照片&lt;/b&gt;" in returned.text  # a comment is text, never markup
    back = [m for m in mails(app) if "hutangsqjy@example.org" in str(m["To"])]
    assert len(back) == 1 and "退回修改" in str(back[0]["Subject"])

    for cell in ("活动!B2", "活动!B3"):
        got = client.post(f"/admin/units/{HUTANG_UNIT}/plan/waive",
                          data={"csrf": csrf, "code": "required-missing", "cell": cell, "comment": "电话核实"})  # fmt: skip
        assert got.status_code == 200, got.text
    client.post(f"/admin/units/{HUTANG_UNIT}/plan/reopen", data={"csrf": csrf})
    approved = client.post(f"/admin/units/{HUTANG_UNIT}/plan/approve", data={"csrf": csrf, "comment": "好"})
    assert approved.status_code == 200

    records = all_records(open_app(app.folder).store)[(HUTANG_UNIT, "plan")]
    assert [r.action for r in records] == ["return", "waive", "waive", "reopen", "approve"]
    assert all(r.by == f"王老师 <{ORGANISER}>" for r in records)
    s = next(
        s
        for s in unit_statuses(app.campaign, app.roster, app.store)
        if s.unit.code == HUTANG_UNIT and s.deliverable.key == "plan"
    )
    assert s.review == "approved"
    log = [(e.by, e.action, e.unit) for e in audit_log(app.store)]
    assert (ORGANISER, "approve-refused", HUTANG_UNIT) in log
    assert [a for _, a, u in log if u == HUTANG_UNIT] == [
        "approve-refused",
        "return",
        "waive",
        "waive",
        "reopen",
        "approve",
    ]


def test_downloads_master_and_a_units_file(client: TestClient, app: App) -> None:
    sign_in(client, app, ORGANISER)
    assert client.get("/admin/master").status_code == 404  # not built yet, said so
    app.paths.master.parent.mkdir(parents=True, exist_ok=True)
    app.paths.master.write_bytes(b"PK master")
    got = client.get("/admin/master")
    assert (
        got.status_code == 200
        and got.content == b"PK master"
        and "attachment" in got.headers["content-disposition"]
    )
    got = client.get(f"/admin/units/{NIUTANG_UNIT}/plan/file")
    assert got.status_code == 200 and got.content == b"PK fake workbook of WJ010"
    downloads = [(e.by, e.unit, e.detail) for e in audit_log(app.store) if e.action == "download"]
    assert downloads == [(ORGANISER, "", "master.xlsx"), (ORGANISER, NIUTANG_UNIT, "WJ010.xlsx")]


def test_the_master_is_read_where_the_deployment_puts_it(client: TestClient, app: App) -> None:
    # On AWS the consolidation uploads it under HUIZONG_MASTER_KEY (App.master_key), not out/master.xlsx.
    app.master_key = "exports/wujin/汇总.xlsx"
    app.artifacts.put("master.xlsx", b"PK stale default", content_type="application/octet-stream")
    app.artifacts.put(app.master_key, b"PK the deployment's master", content_type="application/octet-stream")
    sign_in(client, app, ORGANISER)
    got = client.get("/admin/master")
    assert got.status_code == 200 and got.content == b"PK the deployment's master"


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client: TestClient, app: App) -> None:
    csrf = sign_in(client, app, ORGANISER)
    cookie = client.cookies.get("hz_admin")
    assert cookie
    assert client.post("/admin/signout", data={"csrf": csrf}).status_code == 200
    copy = TestClient(client.app, cookies={"hz_admin": cookie})
    assert copy.get("/admin/", follow_redirects=False).status_code == 303
    assert [e.action for e in audit_log(app.store)][-1] == "sign-out"


def test_a_coordinator_area_not_in_the_roster_is_a_config_error(wujin_dir: Path) -> None:
    customise(
        wujin_dir, "people:\n  - {name: 张, email: z@example.org, role: coordinator, areas: [湖糖镇]}\n"
    )
    with pytest.raises(ConfigError) as err:
        create_web_app(open_app(wujin_dir), base_url=BASE)
    assert "湖糖镇" in str(err.value) and "湖塘镇" in str(err.value)


def test_the_return_comment_shows_in_the_units_web_form_until_it_sends_again(
    client: TestClient, app: App
) -> None:
    from functions.services.web.links import campaign_secret, link_token

    csrf = sign_in(client, app, ORGANISER)
    client.post(
        f"/admin/units/{HUTANG_UNIT}/plan/return", data={"csrf": csrf, "comment": "请补充<i>照片</i>"}
    )
    unit = TestClient(client.app)
    token = link_token(campaign_secret(app.store, now=NOW), app.campaign, HUTANG_UNIT, "plan")
    assert unit.get(f"/u/{token}", follow_redirects=False).status_code == 303
    page = unit.get("/form/plan").text
    assert "review-returned" in page and "请补充&lt;i&gt;照片&lt;/i&gt;" in page
    # Another unit's form says nothing of it.
    other = link_token(campaign_secret(app.store, now=NOW), app.campaign, NIUTANG_UNIT, "plan")
    unit.get(f"/u/{other}")
    assert "review-returned" not in unit.get("/form/plan").text

    sub = submission(HUTANG_UNIT, "plan", n=2)
    app.store.add_version(sub, report(sub), received_at=NOW, late=False)
    unit.get(f"/u/{token}")
    assert "review-returned" not in unit.get("/form/plan").text


def test_under_https_the_cookies_are_secure_and_a_failure_is_a_page(app: App, clock: Clock) -> None:
    client = TestClient(
        create_web_app(app, base_url="https://form.example.org", clock=clock), base_url="https://testserver"
    )  # type: ignore[arg-type]
    ask_link(client, ORGANISER)
    found = [m for m in mails(app) if ORGANISER in str(m["To"])]
    body = found[-1].get_body(("plain",))
    assert body is not None
    hit = re.search(r"https://form\.example\.org(/admin/signin/[A-Za-z0-9_-]+)", body.get_content())
    assert hit, "the mailed link uses the public address"
    assert use_link(client, hit.group(1)) == 303
    cookie = next(c for c in client.cookies.jar if c.name == "hz_admin")
    assert cookie.secure

    def broken(*args: object, **kwargs: object) -> object:
        raise OSError("disk gone")

    app.store.history = broken  # type: ignore[method-assign]
    quiet = TestClient(client.app, base_url="https://testserver", raise_server_exceptions=False)
    quiet.cookies.set("hz_admin", client.cookies.get("hz_admin") or "", path="/admin")
    got = quiet.get(f"/admin/units/{HUTANG_UNIT}")
    assert got.status_code == 500 and "出错了" in got.text and "Traceback" not in got.text


def test_asking_too_often_sends_no_more_mail_and_says_the_same(client: TestClient, app: App) -> None:
    answers = {ask_link(client, ORGANISER) for _ in range(7)}
    assert len(answers) == 1  # the sixth and seventh look like the first five
    assert len([m for m in mails(app) if ORGANISER in str(m["To"])]) == 5
