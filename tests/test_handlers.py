"""Lambda handlers with real-shaped events against moto (S3, SQS FIFO, SES, SSM)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from functions.handlers import consolidate as consolidate_handler
from functions.handlers import remind as remind_handler
from functions.handlers import runtime
from functions.handlers import webhook as webhook_handler
from functions.services.examples import write_example
from functions.webhook.signature import sign
from tests.test_serve import payload

REGION = "ap-southeast-1"
BUCKET = "huizong-data"
SECRET = "a-webhook-secret-from-ssm-0123456789"
SENDER = "huizong@example.org"


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "HUIZONG_CONFIG_BUCKET": BUCKET,
        "HUIZONG_CONFIG_PREFIX": "config",
        "HUIZONG_DATA_BUCKET": BUCKET,
        "HUIZONG_MASTER_KEY": "wujin-2022/out/master.xlsx",
        "HUIZONG_WEBHOOK_SECRET_PARAM": "/huizong/webhook-secret",
        "HUIZONG_WORK_DIR": str(tmp_path / "lambda-tmp"),
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("HUIZONG_CAMPAIGN_DIR", raising=False)
    monkeypatch.delenv("HUIZONG_STORE", raising=False)
    source = tmp_path / "source"
    write_example(source, "wujin-2022")
    cfg = yaml.safe_load((source / "campaign.yaml").read_text(encoding="utf-8"))
    cfg["mail"] = {"transport": "ses", "sender": SENDER, "ses": {"region": REGION, "rate_per_second": 1000}}
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=BUCKET, Key="config/campaign.yaml", Body=yaml.safe_dump(cfg, allow_unicode=True).encode()
        )
        s3.put_object(Bucket=BUCKET, Key="config/units.csv", Body=(source / "units.csv").read_bytes())
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name="/huizong/webhook-secret", Value=SECRET, Type="SecureString")
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="consolidate.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        monkeypatch.setenv("HUIZONG_QUEUE_URL", url)
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        runtime.reset()
        try:
            yield {"s3": s3, "sqs": sqs, "queue": url}
        finally:
            runtime.reset()


def url_event(body: bytes, signature: str, *, b64: bool) -> dict[str, Any]:
    """A Lambda function URL request, payload format 2.0."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/webhook/form",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-huizong-signature": signature, "host": "abc.lambda-url.ap-southeast-1.on.aws"},
        "requestContext": {"http": {"method": "POST", "path": "/webhook/form", "sourceIp": "203.0.113.9"}, "requestId": "r-1"},
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
    }  # fmt: skip


def _messages(cloud: dict[str, Any]) -> list[dict[str, Any]]:
    got = cloud["sqs"].receive_message(
        QueueUrl=cloud["queue"], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return got.get("Messages", [])


def test_webhook_stores_once_and_queues_once(cloud: dict[str, Any]) -> None:
    app = runtime.app()
    unit = app.roster.units[0]
    body = json.dumps(payload(app, unit.code, "L1")).encode()
    header = sign(SECRET.encode(), body)
    first = webhook_handler.handler(url_event(body, header, b64=True))
    assert first["statusCode"] == 200, first["body"]
    assert json.loads(first["body"])["stored"] is True
    again = webhook_handler.handler(url_event(body, header, b64=False))
    assert again["statusCode"] == 200 and json.loads(again["body"])["duplicate"] is True
    assert len(app.store.history(unit.code, "summary")) == 1
    [message] = _messages(cloud)
    version = app.store.latest(unit.code, "summary")
    assert version is not None
    assert message["Attributes"]["MessageDeduplicationId"] == version.id
    assert message["Attributes"]["MessageGroupId"] == "consolidate"

    forged = webhook_handler.handler(url_event(body, sign(b"wrong-secret-wrong-secret", body), b64=False))
    assert forged["statusCode"] == 401


def test_consolidate_writes_master_to_s3_and_reports_failures(
    cloud: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        {"messageId": f"m{i}", "body": json.dumps({"version": f"v{i}"}),
         "attributes": {"MessageGroupId": "consolidate", "MessageDeduplicationId": f"v{i}"},
         "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:consolidate.fifo"}
        for i in range(3)
    ]  # fmt: skip
    assert consolidate_handler.handler({"Records": records}) == {"batchItemFailures": []}
    obj = cloud["s3"].get_object(Bucket=BUCKET, Key="wujin-2022/out/master.xlsx")
    assert obj["Body"].read()[:2] == b"PK"

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr("functions.services.loop.build_master", boom)
    failed = consolidate_handler.handler({"Records": records})
    assert [f["itemIdentifier"] for f in failed["batchItemFailures"]] == ["m0", "m1", "m2"]


def test_remind_sends_through_ses_once_a_day(cloud: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    app = runtime.app()
    day = app.campaign.deliverable("plan").due + dt.timedelta(days=1)
    fixed = dt.datetime.combine(day, dt.time(9, 5), tzinfo=app.campaign.tz)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> dt.datetime:  # type: ignore[override]
            return fixed.astimezone(tz) if tz else fixed

    monkeypatch.setattr("functions.handlers.remind.dt.datetime", Frozen)
    event = {
        "version": "0",
        "source": "aws.scheduler",
        "detail-type": "Scheduled Event",
        "time": fixed.isoformat(),
    }
    first = remind_handler.handler(event)
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert first["sent"] > 0 and len(sent) >= first["sent"]
    count = len(sent)
    second = remind_handler.handler(event)
    assert second["sent"] == 0 and len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages) == count
