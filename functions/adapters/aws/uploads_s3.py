"""Direct uploads to the data bucket: presigned POSTs a browser sends a file with, taken back by the app.

A Lambda function URL refuses a request over 6 MB, so in the cloud the unit's browser posts each evidence
file to S3 itself. The app signs a POST policy (locally, with the function's role: no request is made)
whose conditions S3 enforces: exactly one key, fresh and random, under the unit's session prefix;
1 byte to the rule's size limit; a fixed Content-Type; fifteen minutes to start it. The browser can
therefore neither choose where the bytes go nor send more of them. On save the app `take`s the object —
reads it, deletes it — and hands the bytes to the evidence entry like any other channel's files; the
bucket's lifecycle rule removes uploads nobody saved after a day (infra/template.yaml).

Every key lives under `root` (HUIZONG_UPLOAD_PREFIX: `<campaign>/uploads/` in the template), the one
prefix the web form's role may write, read and delete there, and which the lifecycle rule empties.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from functions.ports import PresignedPost, TakenUpload

UPLOAD_ROOT = "uploads/"
# Long enough for a phone on a slow network to start the POST after asking; S3 checks the policy's
# expiry when the request starts, so a slow upload that began in time still completes.
PRESIGN_EXPIRES_S = 15 * 60
_PREFIX = re.compile(r"^(?:[A-Za-z0-9_-]+/)+$")
_KEY = re.compile(r"^(?:[A-Za-z0-9_-]+/)+[A-Za-z0-9_-]+$")
_CONTENT_TYPE = re.compile(r"^[a-z]+/[a-z0-9][a-z0-9.+-]{0,100}$")
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class S3Uploads:
    def __init__(self, bucket: str, client: Any, *, root: str = UPLOAD_ROOT) -> None:
        if not bucket:
            raise ValueError("S3 uploads need a bucket")
        if root and not _PREFIX.match(root):
            raise ValueError(f"invalid upload root {root!r}")
        self.bucket = bucket
        self.root = root
        self._s3 = client
        self._origin: str | None = None

    @property
    def origin(self) -> str:
        if self._origin is None:
            # The URL botocore signs POSTs for (virtual-hosted or path style, by the client's config):
            # signing is local, so asking for one costs no request.
            signed = self._s3.generate_presigned_post(
                Bucket=self.bucket, Key=self.root + "origin", ExpiresIn=1
            )
            url = str(signed["url"])
            parts = urlsplit(self._regional(url))
            self._origin = f"{parts.scheme}://{parts.netloc}"
        return self._origin

    def _regional(self, url: str) -> str:
        """botocore presigns for the global name (bucket.s3.amazonaws.com) whatever the region; outside
        us-east-1 S3 answers that with a 307 to the regional name for a day after the bucket is made, and a
        browser's cross-origin POST does not follow it. The policy's signature does not cover the host,
        so the regional name takes the same POST."""
        region = getattr(getattr(self._s3, "meta", None), "region_name", None) or ""
        global_host = f"https://{self.bucket}.s3.amazonaws.com/"
        if url == global_host and region and region != "us-east-1":
            return f"https://{self.bucket}.s3.{region}.amazonaws.com/"
        return url

    def presign(self, key_prefix: str, max_bytes: int, content_type: str | None = None) -> PresignedPost:
        if not _PREFIX.match(key_prefix):
            raise ValueError(f"invalid upload prefix {key_prefix!r}")
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        kind = content_type if content_type and _CONTENT_TYPE.match(content_type) else DEFAULT_CONTENT_TYPE
        # The object's name is random: never the unit's file name (metadata, untrusted), never guessable.
        key = key_prefix + secrets.token_urlsafe(16)
        reply = self._s3.generate_presigned_post(
            Bucket=self.bucket,
            Key=self.root + key,  # botocore adds the exact {"key": …} condition itself
            Fields={"Content-Type": kind},
            Conditions=[{"Content-Type": kind}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=PRESIGN_EXPIRES_S,
        )
        fields = {k: str(v) for k, v in reply["fields"].items()}
        return PresignedPost(url=self._regional(str(reply["url"])), fields=fields, key=key)

    def take(self, key: str, *, max_bytes: int) -> TakenUpload | None:
        if not _KEY.match(key):
            raise ValueError(f"invalid upload key {key!r}")
        object_key = self.root + key
        try:
            reply = self._s3.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        body = reply["Body"]
        size = int(reply.get("ContentLength") or 0)
        try:
            # The policy bounds the size already; this bounds what the app reads whatever happened.
            data = bytes(body.read(max_bytes + 1)) if size <= max_bytes else None
        finally:
            body.close()
        if data is not None and len(data) > max_bytes:
            size, data = max(size, len(data)), None
        self._s3.delete_object(Bucket=self.bucket, Key=object_key)
        return TakenUpload(size=size, data=data)
