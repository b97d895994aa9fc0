"""An in-memory UploadTarget (functions/ports.py): presigned POSTs a test "browser" posts to, enforcing the
policy's conditions as S3 does (exact key, content-length-range, Content-Type), and take = read + delete.

moto accepts any presigned POST whatever its policy says, so the unit and web tests use this fake to
check what the app signs and takes; tests/integration/test_web_lambda_uploads.py runs the real adapter on
moto.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from functions.ports import PresignedPost, TakenUpload

URL = "https://uploads.example.test/"


@dataclass
class Signed:
    key: str
    max_bytes: int
    content_type: str


@dataclass
class FakeUploadTarget:
    objects: dict[str, bytes] = field(default_factory=dict)
    signed: list[Signed] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return URL.rstrip("/")

    def presign(self, key_prefix: str, max_bytes: int, content_type: str | None = None) -> PresignedPost:
        assert re.fullmatch(r"(?:[A-Za-z0-9_-]+/)+", key_prefix), key_prefix
        key = key_prefix + secrets.token_urlsafe(16)
        kind = content_type or "application/octet-stream"
        self.signed.append(Signed(key, max_bytes, kind))
        return PresignedPost(url=URL, fields={"key": key, "Content-Type": kind, "policy": "fake"}, key=key)

    def post(self, signed: PresignedPost, data: bytes, *, key: str | None = None) -> int:
        """The browser's POST: 204 when the policy allows it, 403 otherwise (as S3 answers)."""
        wanted = key if key is not None else signed.key
        policy = next((s for s in self.signed if s.key == signed.key), None)
        if policy is None or wanted != policy.key or not 1 <= len(data) <= policy.max_bytes:
            return 403
        self.objects[wanted] = data
        return 204

    def take(self, key: str, *, max_bytes: int) -> TakenUpload | None:
        self.taken.append(key)
        data = self.objects.pop(key, None)
        if data is None:
            return None
        return TakenUpload(size=len(data), data=data if len(data) <= max_bytes else None)
