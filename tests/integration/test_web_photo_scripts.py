"""The form page's hooks for photos.js and upload.js (issue 14 §5), through the app (Starlette's TestClient).

A form with file fields loads both scripts by fingerprinted URLs, marks only its photo fields for
downscaling, and carries the upload status line's texts in the campaign's language; a form without files
loads neither, so its plain post is untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from starlette.testclient import TestClient

from functions.bootstrap import open_app
from functions.services.web.links import campaign_secret, link_token
from functions.web.app import create_web_app
from tests.helpers.paths import ROOT

NOW = dt.datetime(2022, 12, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
STATIC = ROOT / "functions" / "web" / "static"


def _page(folder: Path, deliverable: str) -> tuple[TestClient, str]:
    app = open_app(folder)
    client = TestClient(create_web_app(app, base_url="http://testserver", clock=lambda: NOW))
    client.get(f"/u/{link_token(campaign_secret(app.store, now=NOW), app.campaign, 'WJ009', deliverable)}")
    reply = client.get(f"/form/{deliverable}")
    assert reply.status_code == 200
    return client, reply.text


def _scripts(page: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r"/static/([a-z_]+\.js)\?v=([0-9a-f]{12})", page)}


def test_a_form_with_files_loads_both_scripts_and_marks_only_photo_fields(wujin_dir: Path) -> None:
    client, page = _page(wujin_dir, "summary")
    scripts = _scripts(page)
    assert list(scripts) == ["form.js", "photos.js", "upload.js"]  # in this order: hooks come after
    for name, url in scripts.items():
        digest = url.rsplit("=", 1)[1]
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12] == digest
        served = client.get(url)
        assert served.status_code == 200 and served.content == (STATIC / name).read_bytes()
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    marked = re.findall(r'<input id="file-([a-z_]+)"[^>]*\bdata-photos\b', page)
    assert marked == ["photos"]  # not summary_doc, case_doc or video
    status = re.search(r'<div class="upload-status" id="upload-status"[^>]*hidden[^>]*>', page, re.S)
    assert status is not None
    assert 'data-uploading="上传中 {p}%"' in status.group(0)
    assert "网络中断，未能保存" in status.group(0)
    assert 'enctype="multipart/form-data"' in page


def test_english_campaigns_get_english_status_texts(wujin_dir: Path) -> None:
    path = wujin_dir / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("language: zh", "language: en"), "utf-8")
    _, page = _page(wujin_dir, "summary")
    assert 'data-uploading="Uploading {p}%"' in page and 'data-preparing="Preparing photos…"' in page


def test_a_form_without_files_posts_plainly(wujin_dir: Path) -> None:
    path = wujin_dir / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    rule = "      - {key: plan_doc, label_zh: 工作方案, label_en: Work plan, types: [docx, doc, wps, pdf], max: 1, max_mb: 20}\n"
    assert rule in text
    path.write_text(text.replace("    attachments:\n" + rule, ""), encoding="utf-8")
    _, page = _page(wujin_dir, "plan")
    assert list(_scripts(page)) == ["form.js"]
    unit_form = re.search(r'<form[^>]*id="unit-form"[^>]*>', page)
    assert unit_form and "multipart/form-data" not in unit_form.group(0)  # the workbook upload's form has it
    assert 'id="upload-status"' not in page
