"""The SES inbound route on moto: a raw mail stored by the receipt rule in the bucket, the S3 event
(as EventBridge delivers it), the handler → a version in the S3 store and a reply through SES, once."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.handlers import mail_s3, runtime
from tests.helpers.aws import lambda_campaign
from tests.helpers.mail_corpus import PHOTO, unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

REGION = "ap-southeast-1"
BUCKET = "huizong-mail-test"
CAMPAIGN = "wujin-2022"
SENDER = "huizong@example.org"
PREFIX = f"{CAMPAIGN}/mail/incoming/"


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    source, config = lambda_campaign(
        monkeypatch, tmp_path, bucket=BUCKET, campaign=CAMPAIGN, function="huizong-mail-test", sender=SENDER,
        unset=("HUIZONG_QUEUE_URL",),
    )  # fmt: skip
    config["mail_intake"] = {"user": "baosong@mail.example.org", "max_message_mb": 1}
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(
            Bucket=BUCKET,
            Key="config/campaign.yaml",
            Body=yaml.safe_dump(config, allow_unicode=True).encode(),
        )
        s3.put_object(Bucket=BUCKET, Key="config/units.csv", Body=(source / "units.csv").read_bytes())
        boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity=SENDER)
        runtime.reset()
        try:
            yield s3
        finally:
            runtime.reset()


def _event(key: str) -> dict[str, Any]:
    """An S3 "Object Created" event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": DEFAULT_ACCOUNT_ID,
        "time": "2022-11-20T02:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 1, "etag": "x", "sequencer": "0"},
            "reason": "PutObject",
        },
    }


def _sent() -> list[email.message.EmailMessage]:
    raw = [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages]
    return [email.message_from_string(r, policy=email.policy.default) for r in raw]  # type: ignore[misc]


def test_a_mail_stored_by_ses_is_ingested_and_answered_once(cloud: Any, tmp_path: Path) -> None:
    app = runtime.app()
    school = unit_of_type(app.roster, "中小学")
    plan = write_workbook(
        tmp_path / "p.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    raw = unit_mail(
        sender=school.emails[0],
        subject="工作方案",
        message_id="<ses-1@qq.com>",
        files=[("工作方案.xlsx", plan.read_bytes()), ("照片.jpg", PHOTO)],
    )
    key = PREFIX + "0p1q2r3s4t5u6v7w8x9y"  # SES names objects by its own message id
    cloud.put_object(Bucket=BUCKET, Key=key, Body=raw)

    counts = mail_s3.handler(_event(key))
    assert counts == {"messages": 1, "versions": 1, "replies": 1, "duplicates": 0}
    version = app.store.latest(school.code, "plan")
    assert version is not None and version.source.startswith("mail:<ses-1@qq.com>")
    # Read back from the bucket by a fresh store, not only from the instance that wrote it.
    runtime.reset()
    assert runtime.app().store.latest(school.code, "plan") is not None
    [reply] = _sent()
    assert reply["In-Reply-To"] == "<ses-1@qq.com>" and reply["To"] == school.emails[0]
    assert (
        reply["Subject"] == "回复：工作方案【已收到】"
        and "照片.jpg" in reply.get_body(("plain",)).get_content()
    )

    # EventBridge delivers an event twice now and then: nothing new.
    again = mail_s3.handler(_event(key))
    assert again == {"messages": 1, "versions": 0, "replies": 0, "duplicates": 1}
    assert len(_sent()) == 1 and len(runtime.app().store.history(school.code, "plan")) == 1


def test_an_oversized_mail_is_read_by_its_header_only_and_the_sender_told(cloud: Any) -> None:
    raw = unit_mail(
        sender="big@163.com",
        subject="视频",
        message_id="<big@163.com>",
        files=[("活动视频.mp4", b"v" * (2 << 20))],
    )
    key = PREFIX + "big"
    cloud.put_object(Bucket=BUCKET, Key=key, Body=raw)
    assert mail_s3.handler(_event(key))["replies"] == 1
    [reply] = _sent()
    assert "邮件太大" in reply.get_body(("plain",)).get_content()


def test_s3_notification_records_are_understood_too() -> None:
    event = {
        "Records": [
            {"s3": {"bucket": {"name": BUCKET}, "object": {"key": "wujin-2022/mail/incoming/a+b%40c"}}}
        ]
    }
    assert mail_s3.objects(event) == [(BUCKET, "wujin-2022/mail/incoming/a b@c")]
