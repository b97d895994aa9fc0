"""The web form's weight over the wire: gzip for text, fingerprinted static files cached for a year,
revalidation by ETag otherwise, and a 50-row plan page under the issue's 150 KB in total."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from functions.bootstrap import App, open_app
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=TZ)


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(wujin_dir)


def _opened(app: App) -> tuple[TestClient, str]:
    client = TestClient(create_web_app(app, base_url="http://testserver", clock=lambda: NOW))
    token = link_token(campaign_secret(app.store, now=NOW), app.campaign, "WJ009", "plan")
    client.get(f"/u/{token}")
    return client, client.get("/form/plan").text


def _asset(page: str, name: str) -> str:
    m = re.search(rf'"(/static/{re.escape(name)}\?v=([0-9a-f]{{12}}))"', page)
    assert m, f"{name} is not referred to by a fingerprinted URL"
    return m.group(1)


def test_pages_and_assets_are_gzipped_for_browsers_that_ask(app: App) -> None:
    client, page = _opened(app)
    for url in ("/form/plan", _asset(page, "form.css"), _asset(page, "form.js")):
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert reply.headers["content-encoding"] == "gzip", url
        assert "accept-encoding" in reply.headers["vary"].lower()
        # httpx decoded it: the body is the real page, and it was smaller on the wire
        assert int(reply.headers["content-length"]) < len(reply.content)
    plain = client.get("/form/plan", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "<!doctype html>" in plain.text


def test_fingerprinted_assets_are_cached_others_revalidate(app: App) -> None:
    client, page = _opened(app)
    css = _asset(page, "form.css")
    digest = css.rsplit("=", 1)[1]
    on_disk = (Path(__file__).resolve().parents[2] / "functions/web/static/form.css").read_bytes()
    assert hashlib.sha256(on_disk).hexdigest()[:12] == digest  # the URL changes when the file does
    cached = client.get(css)
    assert cached.headers["cache-control"] == "public, max-age=31536000, immutable"
    for url in ("/static/form.css", "/static/form.css?v=000000000000"):
        reply = client.get(url)
        assert reply.status_code == 200 and reply.headers["cache-control"] == "no-cache"
        etag = reply.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    # the form page itself is never cached (it holds the unit's data and a CSRF token)
    assert client.get("/form/plan").headers["cache-control"] == "no-store"


def test_a_fifty_row_plan_is_under_150_kb_over_the_wire(app: App) -> None:
    client, page = _opened(app)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    data: dict[str, str | list[str]] = {"csrf": csrf.group(1), "action": "save"}
    for i in range(50):
        for key, value in {"name": f"终身学习活动{i + 1}", "category": "讲座", "start_date": "2022-12-03",
                           "venue": "社区教育中心多功能厅", "mode": "线下", "expected_participants": "50",
                           "free": "是", "lead": "张老师", "phone": "13912345678"}.items():  # fmt: skip
            data[f"activities.{i}.{key}"] = value
        data[f"activities.{i}.audience"] = ["社区居民", "老年人"]
    saved = client.post("/form/plan", data=data)
    assert saved.status_code == 200 and saved.text.count('class="row-card"') >= 50
    total = 0
    # every style sheet and script the page refers to (form.js, and photos.js and upload.js on a form with
    # file fields, as the plan's is)
    assets = re.findall(r'"(/static/[^"?]+\?v=[0-9a-f]{12})"', saved.text)
    assert {a.split("?")[0] for a in assets} >= {"/static/form.css", "/static/form.js", "/static/upload.js"}
    for url in ("/form/plan", *assets):
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        total += len(gzip.compress(reply.content))  # what gzip at the server's level sends, give or take
    assert total < 150 * 1024, total
    # nothing outside the app: no absolute URL to another host in the page
    assert not re.search(r'(src|href)="(https?:)?//', saved.text)
