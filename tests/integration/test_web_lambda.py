"""The web form on Lambda: functions/handlers/web_url.py called with real-shaped function URL events
(payload 2.0) against moto (S3 store, SSM link secret, SQS, SES).

A unit's link, signed with the secret in SSM, is exchanged for a cookie; the form is served (gzipped, as
Mangum returns it: base64); a submission posted as a browser does makes a version in the S3 store, queues
its consolidation, and the page says 已提交. A link signed with another secret is refused with a page.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from functions.handlers import runtime, web_url
from functions.services.web.links import link_token
from tests.helpers.aws import lambda_campaign

REGION = "ap-southeast-1"
BUCKET = "huizong-web-test"
CAMPAIGN = "wujin-2022"
LINK_PARAM = "/huizong/link-secret"
LINK_SECRET = "a-link-secret-from-ssm-0123456789abcdef"
SENDER = "huizong@example.org"
DOMAIN = "abcdefghij.lambda-url.ap-southeast-1.on.aws"
UPLOADS = f"{CAMPAIGN}/uploads/"  # as infra/template.yaml sets it for the web form's function
NOW = dt.datetime(2022, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, before the plan's due date


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    source, config = lambda_campaign(
        monkeypatch, tmp_path, bucket=BUCKET, campaign=CAMPAIGN, function="huizong-web-test", sender=SENDER,
        env={"HUIZONG_LINK_SECRET_PARAM": LINK_PARAM, "HUIZONG_UPLOAD_PREFIX": UPLOADS},
        unset=("HUIZONG_BASE_URL",),
    )  # fmt: skip
    monkeypatch.setattr(runtime, "clock", lambda: NOW)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=BUCKET,
            Key="config/campaign.yaml",
            Body=yaml.safe_dump(config, allow_unicode=True).encode(),
        )
        s3.put_object(Bucket=BUCKET, Key="config/units.csv", Body=(source / "units.csv").read_bytes())
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=LINK_PARAM, Value=LINK_SECRET, Type="SecureString"
        )
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(
            QueueName="consolidate.fifo", Attributes={"FifoQueue": "true", "VisibilityTimeout": "900"}
        )["QueueUrl"]
        monkeypatch.setenv("HUIZONG_QUEUE_URL", url)
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        runtime.reset()
        web_url.reset()
        try:
            yield {"s3": s3, "sqs": sqs, "queue_url": url}
        finally:
            web_url.reset()
            runtime.reset()


def url_event(
    method: str,
    path: str,
    *,
    cookies: list[str] | None = None,
    body: bytes | None = None,
    gzip_ok: bool = False,
) -> dict[str, Any]:
    """A function URL request (payload 2.0) as a phone's browser makes it."""
    headers = {
        "host": DOMAIN,
        "user-agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0.47",
        "accept": "text/html",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
    }
    if gzip_ok:
        headers["accept-encoding"] = "gzip, deflate, br"
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
        headers["content-length"] = str(len(body))
        headers["origin"] = f"https://{DOMAIN}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": DOMAIN,
            "domainPrefix": "abcdefghij",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": headers["user-agent"]},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "20/Nov/2022:02:00:00 +0000",
            "timeEpoch": 1668909600000,
        },
        "isBase64Encoded": body is not None,
    }  # fmt: skip
    if cookies:
        event["cookies"] = cookies
    if body is not None:
        event["body"] = base64.b64encode(body).decode()
    return event


def _text(reply: dict[str, Any]) -> str:
    raw = base64.b64decode(reply["body"]) if reply.get("isBase64Encoded") else reply["body"].encode()
    if reply["headers"].get("content-encoding") == "gzip":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _session_cookies(reply: dict[str, Any]) -> list[str]:
    return [c.split(";", 1)[0] for c in reply.get("cookies", [])]


def _link_path(secret: str, unit: str, deliverable: str = "plan") -> str:
    app = runtime.app()
    return "/u/" + link_token(secret.encode(), app.campaign, unit, deliverable)


def test_a_unit_opens_its_link_and_submits_through_the_function_url(cloud: Any) -> None:
    opened = web_url.handler(url_event("GET", _link_path(LINK_SECRET, "WJ009")))
    assert opened["statusCode"] == 303 and opened["headers"]["location"] == "/form/plan"
    cookies = _session_cookies(opened)
    assert len(cookies) == 1 and cookies[0].startswith("hz_plan=")
    set_cookie = opened["cookies"][0]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie  # the function URL is https

    form = web_url.handler(url_event("GET", "/form/plan", cookies=cookies, gzip_ok=True))
    assert form["statusCode"] == 200
    assert form["headers"]["content-encoding"] == "gzip" and form["isBase64Encoded"] is True
    assert form["headers"]["cache-control"] == "no-store"
    assert form["headers"]["referrer-policy"] == "no-referrer"
    page = _text(form)
    assert "湖塘镇社区教育中心" in page and "未提交" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf

    fields: list[tuple[str, str]] = [
        ("csrf", csrf.group(1)),
        ("action", "submit"),
        ("plan_materials.work_plan_url", "https://example.org/plan.docx"),
        ("plan_materials.filled_by", "李老师"),
        ("plan_materials.phone", "13912345678"),
    ]
    row = {"name": "智慧助老手机课堂", "category": "培训", "start_date": "2022-12-03", "venue": "社区教育中心",
           "mode": "线下", "expected_participants": "50", "free": "是", "lead": "张老师",
           "phone": "13912345678"}  # fmt: skip
    fields += [(f"activities.0.{k}", v) for k, v in row.items()]
    fields += [("activities.0.audience", "社区居民"), ("activities.0.audience", "老年人")]
    body = urllib.parse.urlencode(fields).encode()
    done = web_url.handler(url_event("POST", "/form/plan", cookies=cookies, body=body))
    assert done["statusCode"] == 200
    result = _text(done)
    assert "已提交" in result and "回执已发送" in result

    # the version is in the S3 store, read back by a fresh store over the same bucket
    from functions.adapters.store.s3 import S3Store

    keys = [
        o["Key"] for o in cloud["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"{CAMPAIGN}/store/")["Contents"]
    ]
    assert any("WJ009" in k for k in keys)
    store = S3Store(BUCKET, f"{CAMPAIGN}/store")
    version = store.latest("WJ009", "plan")
    assert version is not None and version.status == "submitted" and version.source_kind == "web"
    assert version.tables["activities"][0]["name"] == "智慧助老手机课堂"
    # its consolidation is queued, once, named by the version
    messages = cloud["sqs"].receive_message(QueueUrl=cloud["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["version"] for m in messages] == [version.id]

    # the static files come through the same URL, fingerprinted and cached
    css = re.search(r'href="(/static/form\.css)\?v=([0-9a-f]+)"', page)
    assert css
    event = url_event("GET", css.group(1))
    event["rawQueryString"] = f"v={css.group(2)}"
    asset = web_url.handler(event)
    assert asset["statusCode"] == 200 and "immutable" in asset["headers"]["cache-control"]
    assert "font-family" in _text(asset)


def test_a_link_signed_with_another_secret_is_refused_with_a_page(cloud: Any) -> None:
    forged = web_url.handler(url_event("GET", _link_path("not-the-secret-in-ssm-0123456789", "WJ009")))
    assert forged["statusCode"] == 403 and not forged.get("cookies")
    page = _text(forged)
    assert "链接无法使用" in page and "Traceback" not in page
    # no cookie, no form
    assert web_url.handler(url_event("GET", "/form/plan"))["statusCode"] == 401


def test_without_its_secret_parameter_the_form_answers_503_and_logs_why(
    cloud: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HUIZONG_LINK_SECRET_PARAM")
    runtime.reset()
    web_url.reset()
    reply = web_url.handler(url_event("GET", "/u/whatever"))
    assert reply["statusCode"] == 503 and "服务暂时不可用" in reply["body"]
    assert "HUIZONG_LINK_SECRET_PARAM" in capsys.readouterr().out


def _multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it, and its content type."""
    boundary = "----huizongTestBoundary7MA4YWxkTrZu0gW"
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload_event(cookies: list[str], body: bytes, content_type: str) -> dict[str, Any]:
    event = url_event("POST", "/form/plan", cookies=cookies, body=body)
    event["headers"]["content-type"] = content_type
    return event


def test_files_upload_through_the_function_url_and_over_4_mb_are_refused_clearly(cloud: Any) -> None:
    from functions.adapters.store.s3 import S3Store
    from tests.helpers.evidence import docx

    opened = web_url.handler(url_event("GET", _link_path(LINK_SECRET, "WJ009")))
    cookies = _session_cookies(opened)
    page = _text(web_url.handler(url_event("GET", "/form/plan", cookies=cookies)))
    # with direct uploads wired (the Lambda profile) a file's own limit is what the page states; a post
    # without the page's script still carries its files and meets the function URL's cap below
    assert 'name="file.plan_doc"' in page and "每个不超过 20 MB" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    fields = [("csrf", csrf.group(1)), ("action", "save"), ("plan_materials.filled_by", "李老师")]

    # over the function URL's budget: the app's own page, in Chinese, and nothing in the bucket
    big, kind = _multipart(
        fields, [("file.plan_doc", "方案.docx", docx("x" * 10) + b"\0" * (4 * 1024 * 1024))]
    )
    refused = web_url.handler(_upload_event(cookies, big, kind))
    assert refused["statusCode"] == 413
    assert "合计超过 4 MB" in _text(refused) and "分几次上传" in _text(refused)
    assert S3Store(BUCKET, f"{CAMPAIGN}/store").latest("WJ009", "plan") is None

    plan = docx("武进区全民终身学习活动周工作方案")
    body, kind = _multipart(fields, [("file.plan_doc", "../方案.docx", plan)])
    saved = web_url.handler(_upload_event(cookies, body, kind))
    assert saved["statusCode"] == 200 and "草稿已保存" in _text(saved)
    store = S3Store(BUCKET, f"{CAMPAIGN}/store")
    draft = store.latest("WJ009", "plan")
    assert draft is not None and draft.status == "draft"
    refs = store.attachments(draft.id)
    assert [(r.rule, r.name, r.kind) for r in refs] == [("plan_doc", "方案.docx", "docx")]
    assert store.get_blob(refs[0].sha256) == plan


def test_a_filled_workbook_uploads_through_the_function_url(
    cloud: Any, wujin: tuple[Any, Any], tmp_path: Path
) -> None:
    """Issue 14 §5: the workbook channel from the unit's page, behind Mangum (a base64 multipart body), into
    the S3 store, its consolidation queued like a submit's."""
    from functions.adapters.store.s3 import S3Store
    from tests.helpers.workbooks import school_plan, write_workbook

    campaign, roster = wujin
    unit = roster.get("WJ015")
    filled = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", unit, school_plan(campaign, unit))
    cookies = _session_cookies(web_url.handler(url_event("GET", _link_path(LINK_SECRET, "WJ015"))))
    page = _text(web_url.handler(url_event("GET", "/form/plan", cookies=cookies)))
    # The section says the smaller limit: the function URL's 4 MB per request, not the workbook's 10 MB.
    assert 'action="/form/plan/upload"' in page and "不超过 4 MB。" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    body, kind = _multipart([("csrf", csrf.group(1))], [("workbook", "活动安排.xlsx", filled.read_bytes())])
    event = _upload_event(cookies, body, kind)
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/form/plan/upload"
    done = web_url.handler(event)
    assert done["statusCode"] == 200, _text(done)
    assert "已读取上传的工作簿“活动安排.xlsx”并提交" in _text(done)
    version = S3Store(BUCKET, f"{CAMPAIGN}/store").latest("WJ015", "plan")
    assert version is not None and (version.status, version.source_kind, version.report.valid) == (
        "submitted",
        "web",
        True,
    )
    assert version.source == "web:WJ015/plan 活动安排.xlsx"
    messages = cloud["sqs"].receive_message(QueueUrl=cloud["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["version"] for m in messages] == [version.id]


# -- direct uploads: the browser posts the file to S3 itself (presigned POST), the save takes it ---------


def _json_event(path: str, cookies: list[str], payload: dict[str, Any]) -> dict[str, Any]:
    event = url_event("POST", path, cookies=cookies, body=json.dumps(payload).encode())
    event["headers"]["content-type"] = "application/json"
    return event


def _open_form(unit: str = "WJ009") -> tuple[list[str], str]:
    cookies = _session_cookies(web_url.handler(url_event("GET", _link_path(LINK_SECRET, unit))))
    page = _text(web_url.handler(url_event("GET", "/form/plan", cookies=cookies)))
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    return cookies, csrf.group(1)


def _presigned(cookies: list[str], csrf: str, name: str, size: int) -> dict[str, Any]:
    reply = web_url.handler(
        _json_event(
            "/form/plan/presign",
            cookies,
            {"csrf": csrf, "rule": "plan_doc", "name": name, "size": size, "type": "application/msword"},
        )
    )
    assert reply["statusCode"] == 200, _text(reply)
    return dict(json.loads(_text(reply)))


def _browser_post(signed: dict[str, Any], name: str, data: bytes) -> int:
    """The page script's POST to S3; mock_aws intercepts requests, so it reaches moto, never the network."""
    import requests

    reply = requests.post(signed["url"], data=signed["fields"], files={"file": (name, data)}, timeout=10)
    return reply.status_code


def _save_with(cookies: list[str], csrf: str, keys: list[tuple[str, str]]) -> dict[str, Any]:
    fields = [("csrf", csrf), ("action", "save"), ("plan_materials.filled_by", "李老师")]
    for key, name in keys:
        fields += [("upload.plan_doc", key), (f"upload-name.{key}", name)]
    return web_url.handler(
        url_event("POST", "/form/plan", cookies=cookies, body=urllib.parse.urlencode(fields).encode())
    )


def _large_docx(padding: int) -> bytes:
    """A real .docx made large by an image-like part stored uncompressed (as a photo in a plan would be)."""
    import io
    import os
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", "<w:document><w:body><w:p>工作方案</w:p></w:body></w:document>")
        z.writestr("word/media/image1.jpeg", os.urandom(padding), compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def _uploads_left(cloud: Any) -> list[str]:
    listed = cloud["s3"].list_objects_v2(Bucket=BUCKET, Prefix=UPLOADS)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_file_over_the_request_cap_goes_to_s3_by_presigned_post_and_the_save_takes_it(cloud: Any) -> None:
    from functions.adapters.store.s3 import S3Store

    cookies, csrf = _open_form()
    form = web_url.handler(url_event("GET", "/form/plan", cookies=cookies))
    page = _text(form)
    assert 'data-direct-upload="/form/plan/presign"' in page and "direct_upload.js" in page
    origin = f"https://{BUCKET}.s3.{REGION}.amazonaws.com"
    assert f"connect-src 'self' {origin};" in form["headers"]["content-security-policy"]

    # 5 MB: more than a function URL request may carry, one file of the rule's 20 MB
    plan = _large_docx(5 * 1024 * 1024)
    signed = _presigned(cookies, csrf, "工作方案.docx", len(plan))
    assert signed["url"] == origin + "/" and signed["fields"]["key"] == UPLOADS + signed["key"]
    policy = json.loads(base64.b64decode(signed["fields"]["policy"]))
    assert ["content-length-range", 1, 20 * 1024 * 1024] in policy["conditions"]
    assert _browser_post(signed, "工作方案.docx", plan) in (200, 201, 204)
    assert _uploads_left(cloud) == [UPLOADS + signed["key"]]

    saved = _save_with(cookies, csrf, [(signed["key"], "工作方案.docx")])
    assert saved["statusCode"] == 200 and "草稿已保存" in _text(saved)
    store = S3Store(BUCKET, f"{CAMPAIGN}/store")
    draft = store.latest("WJ009", "plan")
    assert draft is not None and draft.status == "draft"
    refs = store.attachments(draft.id)
    assert [(r.rule, r.name, r.kind, r.size) for r in refs] == [
        ("plan_doc", "工作方案.docx", "docx", len(plan))
    ]
    assert store.get_blob(refs[0].sha256) == plan
    assert _uploads_left(cloud) == []  # taken: the upload object is gone


def test_a_save_naming_another_sessions_upload_is_refused_through_the_function_url(cloud: Any) -> None:
    from functions.adapters.store.s3 import S3Store
    from tests.helpers.evidence import docx

    mine, my_csrf = _open_form()
    theirs, their_csrf = _open_form()  # the same link opened again: another session
    signed = _presigned(theirs, their_csrf, "方案.docx", 5000)
    assert _browser_post(signed, "方案.docx", docx("方案")) in (200, 201, 204)

    refused = _save_with(mine, my_csrf, [(signed["key"], "方案.docx")])
    assert refused["statusCode"] == 400
    text = _text(refused)
    assert "不属于本次打开的表单" in text and signed["key"] not in text and "Traceback" not in text
    assert _uploads_left(cloud) == [UPLOADS + signed["key"]]  # not read, not deleted
    assert S3Store(BUCKET, f"{CAMPAIGN}/store").latest("WJ009", "plan") is None

    # its own session takes it
    assert _save_with(theirs, their_csrf, [(signed["key"], "方案.docx")])["statusCode"] == 200
    assert _uploads_left(cloud) == []


def test_an_upload_over_the_rules_size_is_refused_by_the_app_when_storage_did_not(cloud: Any) -> None:
    """S3 refuses a POST over the policy's content-length-range; moto does not. The browser's script
    could also lie about the size it asks for: the app reads at most the rule's size and the evidence
    check refuses the file, nothing kept, the object deleted."""
    from functions.adapters.store.s3 import S3Store
    from tests.helpers.evidence import docx

    config = yaml.safe_load(cloud["s3"].get_object(Bucket=BUCKET, Key="config/campaign.yaml")["Body"].read())
    plan = next(d for d in config["deliverables"] if d["key"] == "plan")
    plan["attachments"][0]["max_mb"] = 0.01  # 10,485 bytes
    cloud["s3"].put_object(
        Bucket=BUCKET, Key="config/campaign.yaml", Body=yaml.safe_dump(config, allow_unicode=True).encode()
    )
    runtime.reset()
    web_url.reset()

    cookies, csrf = _open_form()
    too_big = web_url.handler(
        _json_event(
            "/form/plan/presign",
            cookies,
            {"csrf": csrf, "rule": "plan_doc", "name": "方案.docx", "size": 50_000},
        )
    )
    assert too_big["statusCode"] == 413 and "上限 0.01 MB" in json.loads(_text(too_big))["error"]

    signed = _presigned(cookies, csrf, "方案.docx", 5000)  # it says 5 KB…
    assert ["content-length-range", 1, 10485] in json.loads(base64.b64decode(signed["fields"]["policy"]))[
        "conditions"
    ]
    big = docx("方案") + b"\0" * 50_000  # …and sends 50 KB, which moto stores
    assert _browser_post(signed, "方案.docx", big) in (200, 201, 204)

    saved = _save_with(cookies, csrf, [(signed["key"], "方案.docx")])
    assert saved["statusCode"] == 200
    assert 'data-code="attachment-too-large"' in _text(saved)
    draft = S3Store(BUCKET, f"{CAMPAIGN}/store").latest("WJ009", "plan")
    assert draft is not None and S3Store(BUCKET, f"{CAMPAIGN}/store").attachments(draft.id) == []
    assert _uploads_left(cloud) == []


def test_without_an_upload_prefix_the_lambda_form_keeps_its_own_post(
    cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the web form's function is given HUIZONG_UPLOAD_PREFIX (and the role to write there).
    monkeypatch.delenv("HUIZONG_UPLOAD_PREFIX")
    runtime.reset()
    web_url.reset()
    cookies, _csrf = _open_form()
    form = web_url.handler(url_event("GET", "/form/plan", cookies=cookies))
    page = _text(form)
    assert "data-direct-upload" not in page and "每次保存上传合计不超过 4 MB" in page
    assert "connect-src" not in form["headers"]["content-security-policy"]
    assert runtime.app().uploads is None
