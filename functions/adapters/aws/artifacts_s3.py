"""The artifact store in a bucket: the master and per-unit reports, linked by presigned SigV4 URLs.

No login for the organiser and the bucket stays private; a link stops working when it expires or, earlier,
when the signing credentials expire: a Lambda role's temporary credentials last hours, not the 7 days
SigV4 allows, so each digest signs its link afresh.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

MAX_PRESIGN = dt.timedelta(days=7)  # the longest a SigV4 presigned URL may last


def content_disposition(download_name: str) -> str:
    """RFC 6266/5987: the UTF-8 name for browsers, an ASCII fallback for the rest."""
    fallback = download_name.encode("ascii", "replace").decode("ascii").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(download_name, safe='')}"


class S3Artifacts:
    def __init__(self, bucket: str, client: Any, *, prefix: str = "", presigner: Any = None) -> None:
        if not bucket:
            raise ValueError("S3 artifact store needs a bucket")
        self.bucket = bucket
        self.prefix = prefix
        self._s3 = client
        # Links must be SigV4 (the only version newer regions accept); the caller's client may not be.
        self._presigner = presigner or client

    def _key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"对象键 {key!r} 无效 / invalid object key")
        return self.prefix + key

    def put(self, key: str, data: bytes, *, content_type: str, download_name: str | None = None) -> str:
        extra = {"ContentDisposition": content_disposition(download_name)} if download_name else {}
        object_key = self._key(key)
        self._s3.put_object(Bucket=self.bucket, Key=object_key, Body=data, ContentType=content_type, **extra)
        return f"s3://{self.bucket}/{object_key}"

    def get(self, key: str) -> bytes | None:
        try:
            reply = self._s3.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        return bytes(reply["Body"].read())

    def link(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
        """A GET link valid for `expires_s` seconds (1 s to 7 days). Signing is local: no request is made."""
        if not 1 <= expires_s <= int(MAX_PRESIGN.total_seconds()):
            raise ValueError(f"预签名链接有效期必须在 1 秒到 7 天之间，收到 {expires_s} 秒")
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self._key(key)}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        return str(self._presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s))
