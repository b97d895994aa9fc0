"""X-Huizong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>.

The same scheme is implemented in infra/apps_script/Code.gs (the signer); both sides are tested
against one shared vector (tests/data/signature_vector.json).
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Huizong-Signature"
MAX_BODY_BYTES = 1_048_576
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request must be refused. `reason` is safe to log (it never contains the secret)."""

    def __init__(self, reason: str, status: int = 401):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def compute(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute(secret, t, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    t: int | None = None
    sigs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                t = int(value)
            except ValueError:
                raise SignatureError("bad timestamp") from None
        elif key == "v1" and value:
            sigs.append(value.lower())
    if t is None or not sigs:
        raise SignatureError("malformed signature header")
    return t, sigs


def check_header(header: str | None, *, now: float | None = None) -> tuple[int, list[str]]:
    """What can be checked without the secret: the header is there, well formed and recent. The public
    function URL refuses on this before it reads the secret or the campaign (functions/handlers/form_url.py).
    Returns (t, candidate signatures); raises SignatureError."""
    if not header:
        raise SignatureError("missing signature")
    t, candidates = _parse(header)
    current = time.time() if now is None else now
    if abs(current - t) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside tolerance")
    return t, candidates


def verify(secret: bytes, body: bytes, header: str | None, *, now: float | None = None) -> int:
    """Raise SignatureError unless `header` signs `body` with `secret` within the tolerance. Returns t."""
    if len(body) > MAX_BODY_BYTES:
        raise SignatureError("body too large", status=413)
    t, candidates = check_header(header, now=now)
    expected = compute(secret, t, body)
    # Constant-time comparison against every v1 given (allows secret rotation by the signer).
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("signature mismatch")
    return t


def header_value(headers: dict[str, str]) -> str | None:
    """Headers arrive with any case (function URLs lower-case them)."""
    wanted = HEADER.lower()
    for k, v in headers.items():
        if k.lower() == wanted:
            return v
    return None
