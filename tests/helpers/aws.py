"""Fake AWS credentials for boto3: a region and test keys, and no way to find real ones; and moto's S3
made as linearizable as the real service.

moto checks a conditional write and then stores the object in two steps, and an overwrite closes the
old object's buffer while another thread may still be reading it (CI, stop 18: "I/O operation on closed
file" in moto's put_object under fifty concurrent webhook deliveries), so under threads two If-None-Match
creates of one key can both succeed (seen: 3 winners of 20). Real S3 decides each request atomically.
`fake_aws_env` therefore runs moto's request handling one request at a time, which makes the fake as
linearizable as the service; the code under test is untouched.
tests/integration/test_store_s3.py (`test_the_fake_s3_decides_conditional_creates_atomically`) checks it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from functions.services.setup.examples import write_example

REGION = "ap-southeast-1"


_MOTO_S3_LOCK = threading.RLock()


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _MOTO_S3_LOCK:
            return method(self, *args, **kwargs)

    return locked


def fake_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, no way for boto3 to find real ones, and moto's S3 deciding one
    request at a time (see the module's docstring)."""
    from moto.core.botocore_stubber import BotocoreStubber

    # Every request moto serves (boto3's and, through `responses`, requests') passes through here, URL
    # matching included: moto's S3 backend reloads its URL module on a lookup, which raced between
    # threads too (CI, stop 19: "module moto.s3.urls not in sys.modules").
    monkeypatch.setattr(BotocoreStubber, "process_request", _serialised(BotocoreStubber.process_request))
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)


def lambda_campaign(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    bucket: str,
    campaign: str,
    function: str,
    sender: str,
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
) -> tuple[Path, dict[str, Any]]:
    """A Lambda's environment over one bucket (fake credentials, HUIZONG_* as infra/template.yaml sets
    them, `env` on top, `unset` removed) and the example campaign written to tmp_path/source; returns the
    folder and its campaign.yaml as a dict, mail through SES, for the test to change and upload."""
    fake_aws_env(monkeypatch)
    for key, value in {
        "AWS_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "HUIZONG_CONFIG_BUCKET": bucket,
        "HUIZONG_CONFIG_KEY": "config",
        "HUIZONG_DATA_BUCKET": bucket,
        "HUIZONG_STORE": f"s3://{bucket}/{campaign}/store",
        "HUIZONG_WORK_DIR": str(tmp_path / "lambda-tmp"),
        **(env or {}),
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("HUIZONG_CAMPAIGN_DIR", "AWS_ENDPOINT_URL", *unset):
        monkeypatch.delenv(key, raising=False)
    source = tmp_path / "source"
    write_example(source, campaign)
    config = yaml.safe_load((source / "campaign.yaml").read_text(encoding="utf-8"))
    config["mail"] = {
        "transport": "ses",
        "sender": sender,
        "ses": {"region": REGION, "rate_per_second": 1000},
    }
    return source, config
