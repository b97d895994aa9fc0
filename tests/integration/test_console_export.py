"""The console's unit list exported as CSV (issue 15), through Starlette's TestClient: the same filters as
the list, a coordinator's file holds only their areas' units, text that a spreadsheet would run as a
formula is neutralised, and the download is audited. The file is parsed back with the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import re
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.console.accounts import audit_log
from functions.web.app import create_web_app
from tests.helpers.campaigns import customise
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
ORGANISER = "wang@example.org"
HUTANG = "li@example.org"  # coordinator of 湖塘镇
PEOPLE = f"""
review: optional
people:
  - {{name: 王老师, email: {ORGANISER}, role: organiser}}
  - {{name: 李协调, email: {HUTANG}, role: coordinator, areas: [湖塘镇]}}
"""


@pytest.fixture
def app(wujin_dir: Path) -> App:
    customise(wujin_dir, PEOPLE)
    roster = wujin_dir / "units.csv"
    # A contact name a spreadsheet would run as a formula: untrusted text from the roster's sender.
    roster.write_text(
        roster.read_text(encoding="utf-8").replace(",高霞伟,", ",=HYPERLINK(1),"), encoding="utf-8"
    )
    app = open_app(wujin_dir)
    for unit, errors in (("WJ009", 2), ("WJ015", 0), ("WJ010", 0)):
        sub = submission(unit, "plan", n=1, source=f"inbox/{unit}.xlsx")
        app.store.add_version(
            sub, report(sub, errors=errors), received_at=NOW - dt.timedelta(days=2), late=False
        )
    return app


@pytest.fixture
def client(app: App) -> TestClient:
    web = create_web_app(app, base_url="http://testserver", clock=lambda: NOW, lock=threading.Lock())
    return TestClient(web)


def _csrf(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def _sign_in(client: TestClient, app: App, address: str) -> None:
    page = client.get("/admin/login")
    assert client.post("/admin/login", data={"email": address, "csrf": _csrf(page.text)}).status_code == 200
    links = []
    for path in app.paths.outbox.glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        body = mail.get_body(("plain",))
        assert body is not None
        if address in str(mail["To"]):
            links += re.findall(r"/admin/signin/([A-Za-z0-9_-]+)", body.get_content())
    assert len(links) == 1
    signin = client.get(f"/admin/signin/{links[0]}")
    got = client.post(
        "/admin/signin", data={"token": links[0], "csrf": _csrf(signin.text)}, follow_redirects=False
    )
    assert got.status_code == 303


def _rows(got: object) -> list[dict[str, str]]:
    content: bytes = got.content  # type: ignore[attr-defined]
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_export_is_the_filtered_list_and_neutralises_formulas(client: TestClient, app: App) -> None:
    _sign_in(client, app, ORGANISER)
    page = client.get("/admin/units?deliverable=plan&errors=1").text
    assert 'href="/admin/units.csv?deliverable=plan&amp;errors=1"' in page
    got = client.get("/admin/units.csv?deliverable=plan&errors=1")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = _rows(got)
    assert [(r["单位编码"], r["校验状态"], r["错误数"]) for r in rows] == [("WJ009", "校验有错误", "2")]
    assert rows[0]["联系人"] == "'=HYPERLINK(1)" and rows[0]["所属镇街"] == "湖塘镇"
    # everything, unfiltered: every expected unit and deliverable, the missing ones said so
    every = _rows(client.get("/admin/units.csv"))
    assert {"WJ009", "WJ010", "WJ015"} <= {r["单位编码"] for r in every}
    assert any(r["校验状态"] == "未报送" for r in every)
    assert [e for e in audit_log(app.store) if e.action == "download" and "units.csv" in e.detail]


def test_a_coordinators_export_holds_only_their_areas(client: TestClient, app: App) -> None:
    _sign_in(client, app, HUTANG)
    rows = _rows(client.get("/admin/units.csv"))
    assert rows and {r["所属镇街"] for r in rows} == {"湖塘镇"}
    assert "WJ010" not in {r["单位编码"] for r in rows}
    # naming another area in the filter does not widen the scope
    assert _rows(client.get("/admin/units.csv?area=牛塘镇")) == []


def test_signed_out_the_export_sends_to_the_login_page(client: TestClient) -> None:
    got = client.get("/admin/units.csv", follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/admin/login"
