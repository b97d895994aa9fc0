"""Issue 11 §1.5: the public function URL refuses what it can without the secret or the campaign (method,
path, size, encoding, a missing, malformed or stale signature header) before it reads S3 or SSM.

No AWS here at all: the environment names a bucket and a parameter, and every AWS endpoint is a closed
port on loopback, so a request that opened the app would come back 503; these must not."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.handlers import form_url, runtime
from functions.services.intake.signature import MAX_BODY_BYTES, sign
from tests.helpers.aws import fake_aws_env
from tests.helpers.net import free_port

NOW = dt.datetime(2022, 11, 23, 2, 0, tzinfo=dt.UTC)
BODY = json.dumps({"kind": "form_response", "campaign_id": "wujin-2022"}).encode()


@pytest.fixture(autouse=True)
def cold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "huizong-webhook")
    # Nothing may leave the machine even if the app were opened: botocore's endpoint is a closed port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HUIZONG_CONFIG_BUCKET", "no-such-bucket")
    monkeypatch.setenv("HUIZONG_WEBHOOK_SECRET_PARAM", "/huizong/webhook-secret")
    monkeypatch.setattr(runtime, "clock", lambda: NOW)
    runtime.reset()
    yield
    runtime.reset()


def _event(
    body: bytes = BODY,
    *,
    signature: str | None = "signed",
    method: str = "POST",
    path: str = "/webhook/form",
    b64: bool = False,
) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if signature == "signed":
        signature = sign(b"whatever-the-secret-is-000000", body, timestamp=int(NOW.timestamp()))
    if signature is not None:
        headers["x-huizong-signature"] = signature
    return {
        "version": "2.0",
        "rawPath": path,
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": path}, "requestId": "r1"},
        "body": base64.b64encode(body).decode() if b64 else body.decode(),
        "isBase64Encoded": b64,
    }


def _call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    reply = form_url.handler(event)
    return reply["statusCode"], json.loads(reply["body"])


def _nothing_opened() -> None:
    assert runtime.clients_created() == ()  # no S3 client (campaign files), no SSM client (the secret)
    assert runtime.app.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (_event(method="GET"), 405, "method"),
        (_event(method="PUT"), 405, "method"),
        (_event(path="/admin"), 404, "not-found"),
        (_event(path="/"), 404, "not-found"),
        (_event(b"x" * (MAX_BODY_BYTES + 1), signature=None), 413, "too-large"),
        (_event(b"x" * (MAX_BODY_BYTES + 1), signature=None, b64=True), 413, "too-large"),
        (_event(signature=None), 401, "signature"),
        (_event(signature="v1=abc"), 401, "signature"),
        (_event(signature="t=soon,v1=abc"), 401, "signature"),
        (_event(signature=sign(b"k", BODY, timestamp=int(NOW.timestamp()) - 3600)), 401, "signature"),
    ],
)
def test_refused_before_anything_is_read(event: dict[str, Any], status: int, code: str) -> None:
    got_status, reply = _call(event)
    assert (got_status, reply["code"]) == (status, code), reply
    # The campaign is not known yet: both languages, Chinese first.
    assert " / " in reply["error"]
    _nothing_opened()


def test_a_malformed_base64_body_and_event_are_refused_too() -> None:
    event = _event(b64=True)
    event["body"] = "%%%not-base64%%%"
    assert _call(event)[0] == 400
    assert _call({"requestContext": {"http": {"method": 7}}, "headers": "nope"})[0] == 400
    _nothing_opened()


def test_missing_signature_names_the_header_to_fix() -> None:
    status, reply = _call(_event(signature=None))
    assert status == 401 and reply["reason"] == "missing signature"
    assert "X-Huizong-Signature" in reply["error"] and "Apps Script" in reply["error"]


def test_a_well_formed_recent_signature_goes_on_to_open_the_app() -> None:
    # Only the secret can tell a forged signature from a good one: this request goes further, and here,
    # with nothing to answer for the bucket, the app cannot open (503), which proves it tried.
    status, reply = _call(_event())
    assert status == 503 and reply["code"] == "unavailable"
