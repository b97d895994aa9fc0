"""moto's S3, made as linearizable as the real service.

moto checks a conditional write and then stores the object in two steps, so under threads two
If-None-Match creates of one key can both succeed (seen: 3 winners of 20). Real S3 decides them
atomically. `moto_s3` therefore runs moto's S3 request handling one request at a time, which makes the fake
as linearizable as the service; the store code under test is untouched.
tests/integration/test_store_s3.py (`test_the_fake_s3_decides_conditional_creates_atomically`) checks the
fake; the Store contract (tests/contract) uses it for its "s3" param.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.s3.responses import S3Response

from tests.helpers.aws import REGION, fake_aws_env

BUCKET = "huizong-store-test"
PREFIX = "campaigns/wujin-2022"

_MOTO_S3_LOCK = threading.RLock()


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _MOTO_S3_LOCK:
            return method(self, *args, **kwargs)

    return locked


@contextmanager
def moto_s3(monkeypatch: pytest.MonkeyPatch, bucket: str = BUCKET) -> Iterator[Any]:
    """moto's S3 with one versioned, encrypted, private bucket; yields a client on it."""
    fake_aws_env(monkeypatch)
    # Every S3 request moto serves passes through one of these two (ambiguous ones call either).
    monkeypatch.setattr(S3Response, "key_response", _serialised(S3Response.key_response))
    monkeypatch.setattr(S3Response, "bucket_response", _serialised(S3Response.bucket_response))
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        client.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        yield client
