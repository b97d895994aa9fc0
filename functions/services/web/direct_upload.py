"""Evidence files a browser uploads straight to storage (issue 14 §5, cloud): ask, upload, hand back.

Behind a Lambda function URL a request is capped at 6 MB, so the page's script asks the app, per file, for
a presigned POST (`presign_upload`), posts the file to S3 itself, and puts the object's key in a hidden
field (`upload.<rule>`, with the file's shown name in `upload-name.<key>`). On save the app takes each key
(`take_uploads`): read, delete, and hand the bytes to the one evidence entry with the kept files and any
multipart uploads, so type, size and count are judged exactly as for every channel.

What a unit can and cannot do:
- every key is made by the upload target under this session's prefix (an HMAC of the session's
  campaign, random id, unit and deliverable, under the target's own root): a key from another session,
  unit or campaign is refused before anything is read, and nothing else (a path, another prefix) is even
  looked up;
- the presigned policy bounds the size to the rule's `max_mb`; the evidence check does again on the
  bytes, for storage that does not enforce a policy;
- asking for a POST is refused when the rule's count would be exceeded (kept files plus those the page
  holds unsaved) or the file is over its size: a message for the unit, not a bucket full of leftovers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from functions.app import App
from functions.ports import PresignedPost, UploadTarget
from functions.services.intake.attachments import MAX_FILES_PER_SUBMISSION, IncomingFile, safe_name
from functions.services.web.form_files import kept_files
from functions.services.web.links import TokenClaims
from functions.validate import codes
from functions.validate.messages import make_issue
from schemas.i18n import Language, t
from schemas.report import Issue

UPLOAD_FIELD = "upload."  # + rule key: the hidden field holding an uploaded object's key
UPLOAD_NAME_FIELD = "upload-name."  # + object key: the file's name as the unit's device gave it
# What an uploaded object's key looks like (the target's random name under a session prefix); a value
# of another shape is not looked up at all.
_KEY = re.compile(r"^[0-9a-f]{24}/[A-Za-z0-9_-]{16,64}$")


class UploadRefused(Exception):
    """A request for an upload, or a save's upload keys, that the app refuses; `message` is for the unit."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class UploadRequest(BaseModel):
    """What the page's script sends to ask for one file's presigned POST (JSON, untrusted)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    csrf: str = Field(max_length=200)
    rule: str = Field(max_length=60)
    name: str = Field(default="", max_length=1000)
    size: int = Field(ge=0, le=10**12)
    type: str = Field(default="", max_length=200)
    # Files this page has uploaded for the rule and not saved yet: the app cannot see them until a save.
    pending: int = Field(default=0, ge=0, le=MAX_FILES_PER_SUBMISSION)


def session_prefix(secret: bytes, claims: TokenClaims) -> str:
    """The key prefix of one session's uploads: `<mac>/`, the MAC over the session's campaign, random id,
    unit and deliverable, so neither another unit nor a later session of the same unit can name it."""
    text = f"upload\x00{claims.c}\x00{claims.n}\x00{claims.u}\x00{claims.d}"
    mac = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{mac}/"


def presign_upload(
    app: App, target: UploadTarget, *, unit: str, deliverable: str, prefix: str, request: UploadRequest
) -> PresignedPost:
    """A presigned POST for one file of `request.rule`, or UploadRefused saying why not."""
    lang = app.campaign.language
    rules = {r.key: r for r in app.campaign.deliverable(deliverable).attachments}
    rule = rules.get(request.rule)
    name = safe_name(request.name)
    if rule is None:
        raise UploadRefused(
            400,
            t(
                lang,
                "本表没有这个上传项，请刷新页面后重试。",
                "This form has no such file field; reload the page.",
            ),
        )
    label = rule.label(lang)
    if request.size < 1:
        raise UploadRefused(
            400, t(lang, f"文件“{name}”是空的，请重新选择。", f"File '{name}' is empty; choose it again.")
        )
    if request.size > rule.max_bytes:
        size_mb, max_mb = f"{request.size / 1024 / 1024:.1f}", f"{rule.max_mb:g}"
        raise UploadRefused(
            413,
            t(
                lang,
                f"文件“{name}”大小 {size_mb} MB，超过“{label}”的上限 {max_mb} MB，未上传。请压缩后再选择。",
                f"File '{name}' is {size_mb} MB, over the {max_mb} MB limit of '{label}'; it was not "
                "uploaded. Make it smaller and choose it again.",
            ),
        )
    kept = kept_files(app, unit, deliverable)
    have = sum(1 for ref in kept if ref.rule == rule.key) + request.pending
    if have >= rule.limit:
        raise UploadRefused(
            409,
            t(
                lang,
                f"“{label}”最多 {rule.limit} 个文件，本表已有 {have} 个（含已上传未保存的），"
                f"文件“{name}”未上传。请先勾选删除不需要的文件并保存，再上传。",
                f"'{label}' takes at most {rule.limit} files and the form holds {have} (unsaved uploads "
                f"included); '{name}' was not uploaded. Remove files you do not need and save first.",
            ),
        )
    if len(kept) + request.pending >= MAX_FILES_PER_SUBMISSION:
        raise UploadRefused(
            409,
            t(
                lang,
                f"本表最多 {MAX_FILES_PER_SUBMISSION} 个文件，文件“{name}”未上传。",
                f"A form holds at most {MAX_FILES_PER_SUBMISSION} files; '{name}' was not uploaded.",
            ),
        )
    return target.presign(prefix, rule.max_bytes, request.type or None)


@dataclass(frozen=True)
class PendingUpload:
    """An uploaded object a save names: the field's rule, the object's key, the file's shown name."""

    rule: str
    key: str
    name: str


@dataclass
class TakenUploads:
    """What a save took: the files for the evidence entry, which field each came in (by shown name, for
    the page), and an issue per upload that was not there."""

    files: list[IncomingFile] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def pending_uploads(items: Sequence[tuple[str, str]], rule_keys: set[str]) -> list[PendingUpload]:
    """The uploads a post names: `upload.<rule>` fields with an object key each, and `upload-name.<key>`
    the names. A field of a rule the page never offered is ignored, like a multipart file's."""
    names = {k.removeprefix(UPLOAD_NAME_FIELD): v for k, v in items if k.startswith(UPLOAD_NAME_FIELD)}
    out: list[PendingUpload] = []
    seen: set[str] = set()
    for name, value in items:
        if not name.startswith(UPLOAD_FIELD) or not value:
            continue
        rule = name.removeprefix(UPLOAD_FIELD)
        if rule not in rule_keys or value in seen:
            continue
        seen.add(value)
        out.append(PendingUpload(rule=rule, key=value, name=names.get(value, "")))
    return out


def check_upload_keys(pending: Sequence[PendingUpload], prefix: str, lang: Language) -> None:
    """Refuses the save when a key is not one of this session's uploads (malformed, another session's,
    another unit's): nothing is read, taken or stored. The key is never echoed back to the page."""
    if len(pending) > MAX_FILES_PER_SUBMISSION:
        raise UploadRefused(
            400,
            t(
                lang,
                f"一次保存最多 {MAX_FILES_PER_SUBMISSION} 个文件，未保存任何内容。",
                f"At most {MAX_FILES_PER_SUBMISSION} files per save; nothing was saved.",
            ),
        )
    for p in pending:
        if not _KEY.match(p.key) or not p.key.startswith(prefix):
            raise UploadRefused(
                400,
                t(
                    lang,
                    "上传的文件不属于本次打开的表单，未保存任何内容。请重新打开组织方发来的链接，再选择文件上传。",
                    "An uploaded file does not belong to this visit of the form; nothing was saved. Open "
                    "your link again and choose the files again.",
                ),
            )


def take_uploads(
    target: UploadTarget, pending: Sequence[PendingUpload], *, max_bytes: int, lang: Language
) -> TakenUploads:
    """Take (read and delete) each checked upload. `max_bytes`: the most any of the deliverable's rules
    allows; a larger object is handed on by its size alone (the evidence check reports it, not kept)."""
    out = TakenUploads()
    for p in pending:
        shown = safe_name(p.name)
        taken = target.take(p.key, max_bytes=max_bytes)
        out.where.setdefault(shown, p.rule)
        if taken is None:
            out.issues.append(make_issue(codes.UPLOAD_NOT_RECEIVED, lang, value=shown))
            continue
        out.files.append(IncomingFile(name=p.name or "file", size=taken.size, data=taken.data))
    return out
