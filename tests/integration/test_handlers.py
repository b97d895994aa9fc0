"""The four Lambda handlers, called with real-shaped events, against moto (S3, SQS, SES v2, SSM, Scheduler).

Effects are read back from the mocked services: versions in the S3 store, FIFO messages with their
deduplication ids, master.xlsx and the reports in the bucket, mail in moto's SES backend, log lines.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import io
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from openpyxl import load_workbook

from functions.adapters.aws.artifacts_s3 import S3Artifacts
from functions.bootstrap import App
from functions.handlers import consolidate_queue as consolidate_handler
from functions.handlers import form_url as webhook_handler
from functions.handlers import poll_schedule as poll_handler
from functions.handlers import remind_schedule as remind_handler
from functions.handlers import runtime
from functions.services.intake.signature import MAX_BODY_BYTES, sign
from functions.services.setup.examples import write_example
from tests.fakes.secrets_extension import TOKEN as EXTENSION_TOKEN
from tests.fakes.secrets_extension import FakeExtension
from tests.helpers.aws import lambda_campaign
from tests.helpers.forms import payload
from tests.helpers.sam import template

REGION = "ap-southeast-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
BUCKET = "huizong-data-test"
CAMPAIGN = "wujin-2022"
SECRET = "a-webhook-secret-from-ssm-0123456789"
SECRET_PARAM = "/huizong/webhook-secret"
SENDER = "huizong@example.org"
EXTRA_UNITS = 20  # the example has 40 units; the concurrency test needs 50 different ones
MASTER_KEY = "exports/wujin-2022/master.xlsx"  # not the default: HUIZONG_MASTER_KEY is followed


@dataclass
class Cloud:
    s3: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    work: Path


def _roster(source: Path) -> bytes:
    lines = (source / "units.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    for i in range(41, 41 + EXTRA_UNITS):
        lines.append(
            f"WJ{i:03d},测试单位{i},区社区教育委员会成员单位,区直,联系人{i},wj{i:03d}@example.org,13900000{i:03d}"
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    work = tmp_path / "lambda-tmp"
    source, config = lambda_campaign(
        monkeypatch, tmp_path, bucket=BUCKET, campaign=CAMPAIGN, function="huizong-test", sender=SENDER,
        env={"HUIZONG_MASTER_KEY": MASTER_KEY, "HUIZONG_WEBHOOK_SECRET_PARAM": SECRET_PARAM},
        unset=("HUIZONG_WEBHOOK_SECRET",),
    )  # fmt: skip
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(
            Bucket=BUCKET,
            Key="config/campaign.yaml",
            Body=yaml.safe_dump(config, allow_unicode=True).encode(),
        )
        s3.put_object(Bucket=BUCKET, Key="config/units.csv", Body=_roster(source))
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=SECRET_PARAM, Value=SECRET, Type="SecureString"
        )
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="consolidate-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        url = sqs.create_queue(
            QueueName="consolidate.fifo",
            Attributes={
                "FifoQueue": "true",
                "VisibilityTimeout": "900",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        monkeypatch.setenv("HUIZONG_QUEUE_URL", url)
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        runtime.reset()
        try:
            yield Cloud(s3=s3, sqs=sqs, queue_url=url, queue_arn=arn, work=work)
        finally:
            runtime.reset()


# ---- real-shaped events ------------------------------------------------------------------------------


def url_event(
    body: bytes, signature: str | None, *, b64: bool, method: str = "POST", path: str = "/webhook/form"
) -> dict[str, Any]:
    """A Lambda function URL request, payload format 2.0, as the service delivers it."""
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "host": "abcdefghij.lambda-url.ap-southeast-1.on.aws",
        "user-agent": "Mozilla/5.0 (compatible; Google-Apps-Script; beanserver; +https://script.google.com; id: UAEmdDd-abc)",
        "x-amzn-trace-id": "Root=1-6740a1b2-0123456789abcdef01234567",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-proto": "https",
    }
    if signature is not None:
        headers["x-huizong-signature"] = signature
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": "abcdefghij.lambda-url.ap-southeast-1.on.aws",
            "domainPrefix": "abcdefghij",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                     "userAgent": "Google-Apps-Script"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:02:00:00 +0000",
            "timeEpoch": 1795399200000,
        },
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
    }  # fmt: skip


@dataclass
class LambdaContext:
    """What the handlers read from the Lambda context object."""

    aws_request_id: str = "req-0001"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def sqs_event(cloud: Cloud, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The event Lambda's SQS poller builds from received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": cloud.queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def receive(cloud: Cloud) -> list[dict[str, Any]]:
    got = cloud.sqs.receive_message(
        QueueUrl=cloud.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=900
    )
    return list(got.get("Messages", []))


def drain(cloud: Cloud) -> list[dict[str, Any]]:
    """Every message, in batches as Lambda would hand them over; each batch acknowledged after."""
    out: list[dict[str, Any]] = []
    while batch := receive(cloud):
        out.extend(batch)
        for m in batch:
            cloud.sqs.delete_message(QueueUrl=cloud.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return out


def scheduler_event(job: str, scheduled: dt.datetime, *, attempt: int = 1) -> dict[str, Any]:
    """The input a schedule of infra/template.yaml delivers, read back from moto's Scheduler."""
    resource = template()["Resources"][f"{job.capitalize()}ScheduleRule"]["Properties"]
    scheduler = boto3.client("scheduler", region_name=REGION)
    name = f"huizong-{job}-{uuid.uuid4().hex[:8]}"
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression="cron(0 9 * * ? *)" if job == "remind" else "rate(5 minutes)",
        ScheduleExpressionTimezone="Asia/Shanghai",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:huizong-{job}",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/huizong-scheduler",
            "Input": resource["Target"]["Input"],
        },
    )
    stored = scheduler.get_schedule(Name=name)
    assert stored["ScheduleExpressionTimezone"] == "Asia/Shanghai"
    text = str(stored["Target"]["Input"])
    # What Scheduler substitutes when it invokes the target (moto stores schedules but never fires them).
    for placeholder, value in {
        "<aws.scheduler.scheduled-time>": scheduled.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": uuid.uuid4().hex[:16],
        "<aws.scheduler.attempt-number>": str(attempt),
        "<aws.scheduler.schedule-arn>": str(stored["Arn"]),
    }.items():
        text = text.replace(placeholder, value)
    event: dict[str, Any] = json.loads(text)
    return event


def submit(app: App, unit: str, response_id: str, *, b64: bool = False) -> dict[str, Any]:
    body = json.dumps(payload(app, unit, response_id)).encode()
    return webhook_handler.handler(url_event(body, sign(SECRET.encode(), body), b64=b64), LambdaContext())


def master_rows(cloud: Cloud, sheet: str) -> list[tuple[Any, ...]]:
    data = cloud.s3.get_object(Bucket=BUCKET, Key=MASTER_KEY)["Body"].read()
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in workbook[sheet].iter_rows(values_only=True)]


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# ---- webhook -----------------------------------------------------------------------------------------


def test_webhook_stores_once_and_queues_once_with_the_version_as_dedup_id(cloud: Cloud) -> None:
    app = runtime.app()
    first = submit(app, "WJ005", "R1", b64=True)
    assert first["statusCode"] == 200, first["body"]
    assert first["headers"]["Content-Type"].startswith("application/json")
    reply = json.loads(first["body"])
    assert reply["stored"] is True and reply["unit"] == "WJ005" and reply["duplicate"] is False
    # The same delivery again (the Apps Script retries), this time not base64-encoded.
    again = submit(app, "WJ005", "R1", b64=False)
    assert again["statusCode"] == 200 and json.loads(again["body"])["duplicate"] is True

    assert len(app.store.history("WJ005", "summary")) == 1
    version = app.store.latest("WJ005", "summary")
    assert version is not None
    # The version lives in the bucket, under the store's prefix.
    keys = [
        o["Key"] for o in cloud.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{CAMPAIGN}/store/")["Contents"]
    ]
    assert any("/versions/" in k for k in keys)
    [message] = receive(cloud)
    assert message["Attributes"]["MessageDeduplicationId"] == version.id
    assert message["Attributes"]["MessageGroupId"] == runtime.MESSAGE_GROUP
    assert json.loads(message["Body"]) == {"version": version.id, "unit": "WJ005", "deliverable": "summary"}


def test_webhook_refusals_store_and_queue_nothing(cloud: Cloud) -> None:
    app = runtime.app()
    body = json.dumps(payload(app, "WJ006", "R2")).encode()
    now = int(dt.datetime.now(dt.UTC).timestamp())

    def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        reply = webhook_handler.handler(event, LambdaContext())
        return reply["statusCode"], json.loads(reply["body"])

    status, forged = call(url_event(body, sign(b"not-the-secret-at-all-000", body), b64=False))
    assert status == 401 and forged["code"] == "signature" and "签名不正确" in forged["error"]
    assert call(url_event(body, None, b64=True))[0] == 401
    assert call(url_event(body, sign(SECRET.encode(), body, timestamp=now - 600), b64=False))[0] == 401
    tampered = body.replace(b"WJ006", b"WJ007")
    assert call(url_event(tampered, sign(SECRET.encode(), body), b64=False))[0] == 401

    big = b'{"kind": "form_response", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    for b64 in (True, False):
        status, reply = call(url_event(big, sign(SECRET.encode(), big), b64=b64))
        assert status == 413 and reply["code"] == "too-large"

    junk = b"{not json"
    status, reply = call(url_event(junk, sign(SECRET.encode(), junk), b64=False))
    assert status == 400 and reply["code"] == "bad-json" and reply["error"] == "请求内容不是有效的 JSON。"
    wrong = json.dumps({"kind": "form_response", "campaign_id": CAMPAIGN}).encode()
    status, reply = call(url_event(wrong, sign(SECRET.encode(), wrong), b64=True))
    assert status == 400 and reply["code"] == "schema" and any("answers" in d for d in reply["details"])

    bad_b64 = url_event(body, sign(SECRET.encode(), body), b64=True)
    bad_b64["body"] = "%%%not-base64%%%"
    assert call(bad_b64)[0] == 400
    assert call(url_event(body, sign(SECRET.encode(), body), b64=False, method="GET"))[0] == 405
    assert call(url_event(body, sign(SECRET.encode(), body), b64=False, path="/admin"))[0] == 404

    assert app.store.latest("WJ006", "summary") is None and app.store.latest("WJ007", "summary") is None
    assert receive(cloud) == []


def test_sheet_change_ping_is_noted_for_the_poll(cloud: Cloud) -> None:
    app = runtime.app()
    ping = {"kind": "sheet_change", "campaign_id": CAMPAIGN, "spreadsheet_id": "SHEET1",
            "changed_at": "2022-12-05T10:00:00+08:00"}  # fmt: skip
    body = json.dumps(ping).encode()
    reply = webhook_handler.handler(
        url_event(body, sign(SECRET.encode(), body), b64=False, path="/webhook/sheet")
    )
    assert reply["statusCode"] == 202
    assert app.store.get_meta("google-changed:SHEET1") == "2022-12-05T02:00:00+00:00"
    assert receive(cloud) == []


def test_secret_is_read_from_ssm_once_per_cold_start_and_never_logged(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    app = runtime.app()
    assert submit(app, "WJ008", "R3")["statusCode"] == 200
    # Rotating the parameter does not reach a warm instance: the value was read once and kept.
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(
        Name=SECRET_PARAM, Value="the-rotated-secret-value-9876", Type="SecureString", Overwrite=True
    )
    assert submit(app, "WJ009", "R4")["statusCode"] == 200
    runtime.reset()  # a new cold start reads the new value
    assert submit(runtime.app(), "WJ010", "R5")["statusCode"] == 401

    lines = log_lines(capsys.readouterr().out)
    assert lines, "the handlers log JSON lines on stdout"
    served = [x for x in lines if x["message"] == "webhook"]
    assert len(served) == 3
    assert all(
        x["level"] == "INFO" and x["request_id"] == "req-0001" and x["campaign"] == CAMPAIGN for x in served
    )
    assert [x["status"] for x in served] == [200, 200, 401] and served[0]["versions"] == 1
    text = json.dumps(lines)
    assert SECRET not in text and "the-rotated-secret-value-9876" not in text


def test_a_refused_request_creates_no_queue_client_and_a_new_version_does(cloud: Cloud) -> None:
    """The SQS client (its model, its endpoint rules) is paid for only by a request that queues."""
    app = runtime.app()
    body = json.dumps(payload(app, "WJ015", "R15")).encode()
    runtime.reset()  # a new cold start, whose first request is forged
    forged = webhook_handler.handler(url_event(body, sign(b"forged-secret-0000000000", body), b64=False))
    assert forged["statusCode"] == 401
    oversized = b"x" * (MAX_BODY_BYTES + 1)
    assert webhook_handler.handler(url_event(oversized, None, b64=True))["statusCode"] == 413
    stale = sign(SECRET.encode(), body, timestamp=int(dt.datetime.now(dt.UTC).timestamp()) - 3600)
    assert webhook_handler.handler(url_event(body, stale, b64=False))["statusCode"] == 401
    # Without the extension the secret comes through botocore's SSM client (the fallback).
    assert runtime.clients_created() == ("s3", "ssm")

    genuine = webhook_handler.handler(url_event(body, sign(SECRET.encode(), body), b64=False))
    assert genuine["statusCode"] == 200 and json.loads(genuine["body"])["stored"] is True
    assert runtime.clients_created() == ("s3", "ssm", "sqs")
    assert len(receive(cloud)) == 1


def test_webhook_reads_its_secret_through_the_extension_without_an_ssm_client(
    cloud: Cloud, extension: FakeExtension, capsys: pytest.CaptureFixture[str]
) -> None:
    # The extension holds the secret; SSM (moto) holds another value, so only the extension can pass.
    extension.values[SECRET_PARAM] = SECRET
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=SECRET_PARAM, Value="not-what-the-extension-says-000", Type="SecureString", Overwrite=True
    )
    app = runtime.app()
    body = json.dumps(payload(app, "WJ016", "R16")).encode()
    forged = webhook_handler.handler(url_event(body, sign(b"forged-secret-0000000000", body), b64=False))
    assert forged["statusCode"] == 401
    assert runtime.clients_created() == ("s3",)
    assert submit(app, "WJ016", "R16")["statusCode"] == 200
    assert submit(app, "WJ017", "R17")["statusCode"] == 200
    assert runtime.clients_created() == ("s3", "sqs")
    # Read once per cold start, with the instance's session token.
    assert [(r["name"], r["token"]) for r in extension.requests] == [(SECRET_PARAM, EXTENSION_TOKEN)]
    assert len(receive(cloud)) == 2
    lines = log_lines(capsys.readouterr().out)
    assert [x["source"] for x in lines if x["message"] == "parameter read"] == ["extension"]
    assert SECRET not in json.dumps(lines)


def test_webhook_answers_503_when_the_extension_refuses_the_token(
    cloud: Cloud,
    extension: FakeExtension,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extension.values[SECRET_PARAM] = SECRET
    monkeypatch.setenv("AWS_SESSION_TOKEN", "expired-token")
    body = json.dumps(payload(runtime.app(), "WJ018", "R18")).encode()
    reply = webhook_handler.handler(url_event(body, sign(SECRET.encode(), body), b64=False))
    assert reply["statusCode"] == 503 and json.loads(reply["body"])["code"] == "unavailable"
    assert "token" not in reply["body"]  # nothing about the configuration reaches the caller
    [error] = [x for x in log_lines(capsys.readouterr().out) if x["level"] == "ERROR"]
    assert "HTTP 401" in error["error"] and "session token" in error["error"]
    assert "sqs" not in runtime.clients_created()
    assert receive(cloud) == []


def test_missing_configuration_answers_503_and_logs_why(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUIZONG_CONFIG_KEY", "nowhere")
    body = b"{}"
    reply = webhook_handler.handler(url_event(body, sign(SECRET.encode(), body), b64=False))
    assert reply["statusCode"] == 503 and json.loads(reply["body"])["code"] == "unavailable"
    [error] = [x for x in log_lines(capsys.readouterr().out) if x["level"] == "ERROR"]
    assert "nowhere/campaign.yaml" in error["error"]


def test_bundled_campaign_is_copied_to_tmp(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundled = tmp_path / "bundled"
    write_example(bundled, CAMPAIGN)
    before = sorted(p.name for p in bundled.iterdir())
    monkeypatch.setenv("HUIZONG_CAMPAIGN_DIR", str(bundled))
    monkeypatch.delenv("HUIZONG_CONFIG_BUCKET")
    runtime.reset()
    app = runtime.app()
    assert app.folder == cloud.work / "campaign" and len(app.roster.units) == 40
    assert submit(app, "WJ011", "R6")["statusCode"] == 200
    # The deployment package is read-only on Lambda: nothing is written beside the bundled files.
    assert sorted(p.name for p in bundled.iterdir()) == before


# ---- consolidate -------------------------------------------------------------------------------------


def test_consolidate_writes_master_and_reports_and_reports_partial_failures(cloud: Cloud) -> None:
    app = runtime.app()
    for unit, rid in (("WJ012", "R7"), ("WJ013", "R8")):
        assert submit(app, unit, rid)["statusCode"] == 200
    messages = receive(cloud)
    assert len(messages) == 2
    event = sqs_event(cloud, messages)
    poison = dict(event["Records"][0], messageId="poison-1", body="not a request")
    event["Records"].append(poison)

    result = consolidate_handler.handler(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison-1"}]}
    head = cloud.s3.head_object(Bucket=BUCKET, Key=MASTER_KEY)
    assert head["ContentType"] == consolidate_handler.XLSX_TYPE
    assert "filename*=UTF-8''" in head["ContentDisposition"]
    stats = {r[0]: r for r in master_rows(cloud, "统计") if r[0] in ("WJ012", "WJ013")}
    assert set(stats) == {"WJ012", "WJ013"} and stats["WJ012"][4] == "已通过" and stats["WJ012"][5] == 12
    report = cloud.s3.get_object(Bucket=BUCKET, Key="exports/wujin-2022/reports/WJ012-summary.txt")[
        "Body"
    ].read()
    assert "WJ012" in report.decode() and "3000余" in report.decode()


def test_consolidate_failure_returns_every_message(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    app = runtime.app()
    assert submit(app, "WJ014", "R9")["statusCode"] == 200
    event = sqs_event(cloud, receive(cloud))
    # A real failure: the upload target does not exist.
    monkeypatch.setattr(app, "artifacts", S3Artifacts("huizong-no-such-bucket", runtime.client("s3")))
    result = consolidate_handler.handler(event, LambdaContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def test_fifty_concurrent_submissions_all_end_in_the_master(cloud: Cloud) -> None:
    app = runtime.app()
    units = [u.code for u in app.roster.units][:50]
    assert len(units) == 50
    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(lambda u: submit(app, u, f"C-{u}"), units))
    assert [r["statusCode"] for r in replies] == [200] * 50
    assert all(json.loads(r["body"])["stored"] for r in replies)

    messages = drain(cloud)
    assert len(messages) == 50
    assert len({m["Attributes"]["MessageDeduplicationId"] for m in messages}) == 50
    for start in range(0, 50, 10):  # BatchSize 10, as in the template
        batch = sqs_event(cloud, messages[start : start + 10])
        assert consolidate_handler.handler(batch, LambdaContext()) == {"batchItemFailures": []}
    rows = master_rows(cloud, "统计")
    # The units' own rows: those below 合计 are the ones left out of the totals (none should be here).
    in_master = {r[0] for r in rows[: next(i for i, r in enumerate(rows) if r and r[0] == "合计")]} & set(
        units
    )
    assert in_master == set(units)
    assert all(len(app.store.history(u, "summary")) == 1 for u in units)


# ---- remind ------------------------------------------------------------------------------------------


def _sent() -> list[Any]:
    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def test_remind_sends_through_ses_once_even_when_the_schedule_repeats(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = runtime.app()
    assert submit(app, "WJ001", "R10")["statusCode"] == 200
    consolidate_handler.handler(sqs_event(cloud, drain(cloud)), LambdaContext())
    due = app.campaign.deliverable("plan").due
    nine = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9, 0), tzinfo=app.campaign.tz)
    monkeypatch.setattr(runtime, "clock", lambda: nine + dt.timedelta(seconds=3))

    first = remind_handler.handler(scheduler_event("remind", nine), LambdaContext())
    sent = _sent()
    assert first["sent"] > 0 and first["digest"] is True and len(sent) == first["sent"] + 1
    mails = [email.message_from_string(m.raw_data, policy=email.policy.default) for m in sent]
    units = [m for m in mails if "wj002@example.org" in str(m["To"])]
    assert units and "工作方案" in str(units[0]["Subject"])
    [digest] = [m for m in mails if "wjsqjy@example.org" in str(m["To"])]
    text = digest.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{BUCKET}" in text and "X-Amz-Signature" in text and "master.xlsx" in text

    # Scheduler delivers the same invocation again, and its retry arrives two hours late.
    again = remind_handler.handler(scheduler_event("remind", nine, attempt=2), LambdaContext())
    monkeypatch.setattr(runtime, "clock", lambda: nine + dt.timedelta(hours=2))
    late = remind_handler.handler(scheduler_event("remind", nine, attempt=3), LambdaContext())
    assert again["sent"] == 0 and late["sent"] == 0 and again["digest"] is False
    assert len(_sent()) == len(sent)


def _nine_after_plan_due(app: App) -> dt.datetime:
    due = app.campaign.deliverable("plan").due
    return dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9, 0), tzinfo=app.campaign.tz)


def test_remind_sends_in_the_region_the_template_names(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    # campaign.yaml says ap-southeast-1; HUIZONG_SES_REGION (the template's SesRegion) wins.
    monkeypatch.setenv("HUIZONG_SES_REGION", "eu-west-1")
    boto3.client("sesv2", region_name="eu-west-1").create_email_identity(EmailIdentity=SENDER)
    runtime.reset()
    nine = _nine_after_plan_due(runtime.app())
    monkeypatch.setattr(runtime, "clock", lambda: nine)
    counts = remind_handler.handler(scheduler_event("remind", nine), LambdaContext())
    assert counts["sent"] > 0 and counts["not_permitted"] == 0
    assert len(ses_backends[ACCOUNT]["eu-west-1"].sent_messages) == counts["sent"] + 1
    assert _sent() == []  # nothing in the campaign file's region


def test_remind_not_permitted_fails_the_invocation_and_is_not_retried(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.adapters.mail import ses
    from functions.ports import MailNotPermitted

    def denied(self: ses.SesMailer, message: Any) -> str:
        raise MailNotPermitted(
            f"SES 拒绝：无权以 {SENDER} 在区域 {self.region} 发信（AccessDeniedException）"
        )

    monkeypatch.setattr(ses.SesMailer, "send", denied)
    nine = _nine_after_plan_due(runtime.app())
    monkeypatch.setattr(runtime, "clock", lambda: nine)
    # The run finishes and records everything, then fails so RemindFailedAlarm fires.
    with pytest.raises(remind_handler.MailPermissionError, match=REGION):
        remind_handler.handler(scheduler_event("remind", nine), LambdaContext())
    [line] = [x for x in log_lines(capsys.readouterr().out) if x["message"] == "reminders"]
    assert line["not_permitted"] > 0 and line["sent"] == 0 and line["refused"] == 0
    # Claims are kept: the next run has nothing to retry.
    again = remind_handler.handler(scheduler_event("remind", nine, attempt=2), LambdaContext())
    assert again["planned"] == 0 and again["not_permitted"] == 0


def test_remind_uses_the_scheduled_day_not_the_arrival_time(cloud: Cloud) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    meant = dt.datetime(2022, 11, 25, 9, 0, tzinfo=tz)
    late = meant + dt.timedelta(hours=3)
    assert remind_handler.run_time({"scheduled_time": "2022-11-25T01:00:00Z"}, late) == meant
    # Too far from the clock to be this run's: the clock wins.
    far = meant + dt.timedelta(days=2)
    assert remind_handler.run_time({"scheduled_time": "2022-11-25T01:00:00Z"}, far) == far
    assert remind_handler.run_time({}, late) == late


# ---- poll --------------------------------------------------------------------------------------------


def test_poll_without_google_settings_does_nothing(cloud: Cloud) -> None:
    event = scheduler_event("poll", dt.datetime(2022, 12, 5, 10, 0, tzinfo=dt.UTC))
    assert event["job"] == "poll"
    assert poll_handler.handler(event, LambdaContext(remaining_ms=240_000)) == {"skipped": True}
    assert receive(cloud) == []
