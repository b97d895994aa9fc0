"""The poll Lambda handler end to end: a Scheduler event → the Google key from SSM → the poll against an
in-memory Google (HTTP level) → versions in the S3 store → one consolidation message per new version.

AWS is moto; Google is tests/fakes/google.py behind `responses`, including the OAuth token exchange.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from functions.handlers import poll_schedule as poll_handler
from functions.handlers import runtime
from functions.services.google.provision import provision
from functions.services.google.registry import sheet_for
from functions.services.setup.examples import write_example
from tests.fakes.google import FakeGoogle
from tests.helpers.aws import REGION, fake_aws_env
from tests.helpers.google import enable_google, service_account_json, token_exchange
from tests.helpers.google_poll import NOW, SCHOOLS, fill, session_for, tick

BUCKET = "huizong-poll-test"
KEY_PARAM = "/huizong/google-key"


@dataclass
class Context:
    aws_request_id: str = "req-poll-1"
    remaining_ms: int = 290_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@dataclass
class Cloud:
    sqs: Any
    queue_url: str
    google: FakeGoogle
    outbox: Path


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    bundled = tmp_path / "bundle"
    write_example(bundled, "wujin-2022")
    enable_google(bundled, schools=SCHOOLS, sheet_deliverables=["plan"])
    work = tmp_path / "lambda-tmp"
    fake_aws_env(monkeypatch)
    for key, value in {
        "AWS_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": "huizong-poll-test",
        "HUIZONG_CAMPAIGN_DIR": str(bundled),
        "HUIZONG_STORE": f"s3://{BUCKET}/wujin-2022/store",
        "HUIZONG_GOOGLE_CREDENTIALS_PARAM": KEY_PARAM,
        "HUIZONG_WORK_DIR": str(work),
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("HUIZONG_CONFIG_BUCKET", "HUIZONG_GOOGLE_CREDENTIALS", "AWS_ENDPOINT_URL",
                runtime.SECRETS_EXTENSION_ENV):  # fmt: skip
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=KEY_PARAM, Value=service_account_json(), Type="SecureString"
        )
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="consolidate.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        monkeypatch.setenv(runtime.QUEUE_URL_ENV, url)
        runtime.reset()
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            token_exchange(mock)
            google = FakeGoogle(mock)
            try:
                yield Cloud(sqs=sqs, queue_url=url, google=google, outbox=runtime.app().paths.outbox)
            finally:
                runtime.reset()


def scheduler_event() -> dict[str, Any]:
    # What the poll schedule of infra/template.yaml passes as the target's input.
    return {"job": "poll", "scheduled_at": "2022-11-20T02:00:00Z", "execution_id": "e1", "attempt": 1}


def messages(cloud: Cloud) -> list[dict[str, Any]]:
    got = cloud.sqs.receive_message(
        QueueUrl=cloud.queue_url, MaxNumberOfMessages=10, AttributeNames=["MessageDeduplicationId"]
    )
    return got.get("Messages", [])


def test_poll_handler_checks_changed_sheets_and_queues_each_new_version_once(cloud: Cloud) -> None:
    app = runtime.app()
    assert type(app.store).__name__ == "S3Store"
    provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    unit = app.roster.units[0]
    fill(cloud.google, app, unit)
    tick(cloud.google, app, unit)

    first = poll_handler.handler(scheduler_event(), Context())
    assert first == {"skipped": False, "queued": 1}
    version = app.store.latest(unit.code, "plan")
    assert version is not None and version.status == "submitted" and version.source_kind == "sheet"
    (message,) = messages(cloud)
    assert json.loads(message["Body"])["version"] == version.id
    assert message["Attributes"]["MessageDeduplicationId"] == version.id
    assert len(list(cloud.outbox.glob("*.eml"))) == 1  # the receipt

    # The schedule fires again: the write-back is the system's own change, nothing is read or queued.
    cloud.google.reset_counts()
    again = poll_handler.handler(scheduler_event(), Context(aws_request_id="req-poll-2"))
    assert again == {"skipped": False, "queued": 0}
    assert cloud.google.counts() == {"drive.files.list": 1}
    assert len(app.store.history(unit.code, "plan")) == 1
    assert len(list(cloud.outbox.glob("*.eml"))) == 1
    record = sheet_for(app.store, unit.code, "plan")
    assert record is not None and record.spreadsheet_id in cloud.google.files


def test_poll_handler_stops_before_the_invocation_runs_out(cloud: Cloud) -> None:
    app = runtime.app()
    provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    for unit in app.roster.units[:2]:
        fill(cloud.google, app, unit)
    cloud.google.reset_counts()
    # Less time left than the handler keeps in reserve: no Google call is made at all.
    stopped = poll_handler.handler(scheduler_event(), Context(remaining_ms=poll_handler.SAFETY_MS - 1))
    assert stopped == {"skipped": False, "queued": 0}
    assert sum(cloud.google.counts().values()) == 0
    resumed = poll_handler.handler(scheduler_event(), Context(aws_request_id="req-poll-3"))
    assert resumed == {"skipped": False, "queued": 2}
    assert all(app.store.latest(u.code, "plan") is not None for u in app.roster.units[:2])


def test_the_poll_clock_is_the_campaigns(cloud: Cloud) -> None:
    # The status area's check time is in the campaign's timezone (Asia/Shanghai), whatever the host's.
    app = runtime.app()
    provision(app.campaign, app.roster, app.store, session_for(app), now=NOW)
    unit = app.roster.units[0]
    fill(cloud.google, app, unit)
    poll_handler.handler(scheduler_event(), Context())
    sid = sheet_for(app.store, unit.code, "plan").spreadsheet_id  # type: ignore[union-attr]
    stamp = cloud.google.tab(sid, "填写说明").value("E5")
    parsed = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=app.campaign.tz)
    assert abs(parsed - runtime.clock().astimezone(app.campaign.tz)) < dt.timedelta(minutes=2)
