"""The S3 upload target (functions/adapters/aws/uploads_s3.py) on moto: what a presigned POST's policy
says, a browser's POST with `requests` (mock_aws intercepts it, so it reaches moto, never the network),
and take = read + delete.

moto stores whatever a presigned POST sends, whatever its policy says (checked below, so the day it
starts enforcing, this test says so): the conditions are therefore checked by decoding the signed policy,
which is what S3 enforces.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from botocore.config import Config

from functions.adapters.aws.uploads_s3 import PRESIGN_EXPIRES_S, S3Uploads
from functions.ports import PresignedPost
from tests.fakes.aws import BUCKET, moto_s3
from tests.helpers.aws import REGION

ROOT = "wujin-2022/uploads/"  # what infra/template.yaml sets HUIZONG_UPLOAD_PREFIX to


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_s3(monkeypatch) as client:
        yield client


@pytest.fixture
def uploads(s3: Any) -> S3Uploads:
    import boto3

    # SigV4, as functions/adapters/aws/clients.py makes the Lambda's client
    client = boto3.client("s3", region_name=REGION, config=Config(signature_version="s3v4"))
    return S3Uploads(BUCKET, client, root=ROOT)


def _policy(signed: PresignedPost) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(signed.fields["policy"])))


def _post(signed: PresignedPost, data: bytes, **override: str) -> requests.Response:
    return requests.post(
        signed.url, data={**signed.fields, **override}, files={"file": ("IMG_0001.jpg", data)}, timeout=10
    )


def test_the_policy_fixes_the_key_the_size_the_type_and_fifteen_minutes(uploads: S3Uploads) -> None:
    before = dt.datetime.now(dt.UTC)
    signed = uploads.presign("wujin-2022/abc/", 20 * 1024 * 1024, "image/jpeg")
    assert signed.key.startswith("wujin-2022/abc/") and len(signed.key) == len("wujin-2022/abc/") + 22
    assert signed.fields["key"] == ROOT + signed.key
    policy = _policy(signed)
    conditions = policy["conditions"]
    assert {"key": ROOT + signed.key} in conditions
    assert {"bucket": BUCKET} in conditions
    assert ["content-length-range", 1, 20 * 1024 * 1024] in conditions
    assert {"Content-Type": "image/jpeg"} in conditions and signed.fields["Content-Type"] == "image/jpeg"
    expires = dt.datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert (
        dt.timedelta(seconds=PRESIGN_EXPIRES_S - 5)
        <= expires - before
        <= dt.timedelta(seconds=PRESIGN_EXPIRES_S + 5)
    )
    # the regional name: a browser's cross-origin POST does not follow the global name's redirect
    assert signed.url == f"https://{BUCKET}.s3.{REGION}.amazonaws.com/"
    assert uploads.origin == f"https://{BUCKET}.s3.{REGION}.amazonaws.com"


def test_a_type_that_is_not_a_plain_mime_type_is_signed_as_octet_stream(uploads: S3Uploads) -> None:
    signed = uploads.presign("c/p/", 10, 'text/html"\r\nX-Evil: 1')
    assert {"Content-Type": "application/octet-stream"} in _policy(signed)["conditions"]


@pytest.mark.parametrize("prefix", ["", "/abs/", "../up/", "no-slash", "a/../b/", "a b/"])
def test_a_prefix_that_could_be_a_path_is_refused(uploads: S3Uploads, prefix: str) -> None:
    with pytest.raises(ValueError):
        uploads.presign(prefix, 10)


def test_a_browser_post_lands_and_take_reads_then_deletes_it(uploads: S3Uploads, s3: Any) -> None:
    signed = uploads.presign("wujin-2022/abc/", 1024, "image/jpeg")
    reply = _post(signed, b"\xff\xd8 a photo")
    assert reply.status_code in (200, 201, 204), reply.text
    head = s3.head_object(Bucket=BUCKET, Key=ROOT + signed.key)
    assert head["ContentType"] == "image/jpeg"

    taken = uploads.take(signed.key, max_bytes=1024)
    assert taken is not None and taken.data == b"\xff\xd8 a photo" and taken.size == len(taken.data)
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=ROOT).get("KeyCount") == 0
    assert uploads.take(signed.key, max_bytes=1024) is None  # taken once


def test_an_object_over_the_callers_limit_is_deleted_unread(uploads: S3Uploads, s3: Any) -> None:
    signed = uploads.presign("wujin-2022/abc/", 10)
    # moto does not enforce content-length-range (S3 does): the object lands, and take bounds it
    assert _post(signed, b"x" * 100).status_code in (200, 201, 204)
    taken = uploads.take(signed.key, max_bytes=10)
    assert taken is not None and taken.data is None and taken.size == 100
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=ROOT).get("KeyCount") == 0


@pytest.mark.parametrize("key", ["../store/x", "/etc/passwd", "a/b/", "a//b", "a/b c"])
def test_take_refuses_a_key_that_is_not_one_it_made(uploads: S3Uploads, key: str) -> None:
    with pytest.raises(ValueError):
        uploads.take(key, max_bytes=10)
