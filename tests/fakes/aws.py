"""moto's S3 with one bucket set up as the template sets it up; linearizable through fake_aws_env
(tests/helpers/aws.py). The Store contract (tests/contract) uses it for its "s3" param."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.helpers.aws import REGION, fake_aws_env

BUCKET = "huizong-store-test"
PREFIX = "campaigns/wujin-2022"


@contextmanager
def moto_s3(monkeypatch: pytest.MonkeyPatch, bucket: str = BUCKET) -> Iterator[Any]:
    """moto's S3 with one versioned, encrypted, private bucket; yields a client on it."""
    fake_aws_env(monkeypatch)
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
