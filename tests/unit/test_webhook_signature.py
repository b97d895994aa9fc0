"""The signature scheme, against the vector the Apps Script is tested with too."""

from __future__ import annotations

import json

import pytest

from functions.services.intake.signature import (
    MAX_BODY_BYTES,
    SignatureError,
    compute,
    header_value,
    sign,
    verify,
)
from schemas.webhook import SCHEMA_PATH, webhook_json_schema
from tests.helpers.paths import DATA

VECTOR = json.loads((DATA / "signature_vector.json").read_text(encoding="utf-8"))


def test_shared_vector() -> None:
    secret, body, t = VECTOR["secret"].encode(), VECTOR["body"].encode(), VECTOR["timestamp"]
    assert sign(secret, body, timestamp=t) == VECTOR["header"]
    assert verify(secret, body, VECTOR["header"], now=t + 10) == t


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (None, b), "missing signature"),
        (lambda h, b: ("garbage", b), "malformed"),
        (lambda h, b: (h, b + b" "), "mismatch"),
        (lambda h, b: (h.replace("v1=", "v1=0"), b), "mismatch"),
        (lambda h, b: ("t=abc,v1=00", b), "bad timestamp"),
    ],
)
def test_refusals(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    secret, body, t = VECTOR["secret"].encode(), VECTOR["body"].encode(), VECTOR["timestamp"]
    header, body2 = mutate(VECTOR["header"], body)
    with pytest.raises(SignatureError, match=reason):
        verify(secret, body2, header, now=t)


def test_replay_window_and_size() -> None:
    secret, body, t = b"k", b"{}", 1_700_000_000
    header = sign(secret, body, timestamp=t)
    verify(secret, body, header, now=t + 300)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(secret, body, header, now=t + 301)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(secret, body, header, now=t - 301)
    big = b"x" * (MAX_BODY_BYTES + 1)
    with pytest.raises(SignatureError) as info:
        verify(secret, big, sign(secret, big, timestamp=t), now=t)
    assert info.value.status == 413
    # a second v1 (secret rotation) is accepted when one of them matches
    assert verify(secret, body, f"t={t},v1={'0' * 64},v1={compute(secret, t, body)}", now=t) == t


def test_header_lookup_ignores_case() -> None:
    assert header_value({"x-huizong-signature": "a"}) == "a"
    assert header_value({"Content-Type": "x"}) is None


def test_published_json_schema_is_current() -> None:
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == webhook_json_schema()
