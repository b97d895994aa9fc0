"""A unit's evidence files in the console (issue 15 §3): what each version brought, and how one is served.

The page lists every version's attachment refs with the warnings that name the file; the bytes are
served by a console route that first finds the ref among *this unit's* versions of *this deliverable*
(`find_ref`), so a digest alone never opens a file: another unit's photo, or a workbook kept as a blob,
answers the same 404 as a missing unit.

What a browser is given is decided here, from the bytes sniffed again at serving time (the stored kind
and the unit's file name are not trusted to pick a content type): only the image kinds every browser
shows (jpg, png, gif, webp) and only up to INLINE_MAX_BYTES are ever shown inline; everything else,
heic included, is a download with a name that cannot break the header.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from functions.ports import Store
from functions.validate import codes
from functions.validate.file_kinds import sniff
from schemas.attachments import PHOTO_KINDS, AttachmentRef
from schemas.campaign import Campaign
from schemas.report import Issue
from schemas.submission import Version

# Shown inline as a thumbnail and on its own: the kinds browsers display.
INLINE_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
# A photo larger than this is not put on the page (a placeholder and its download instead): a page of
# fifty 20 MB camera originals would cost a coordinator on a phone a gigabyte.
INLINE_MAX_BYTES = 5 * 1024 * 1024
# Downloads: the type of the sniffed kind, so a client knows what it gets; unknown → octet-stream.
MEDIA_TYPES: dict[str, str] = {
    **INLINE_TYPES,
    "heic": "image/heic",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
}
# The file-level checks that name the file in their `value` (attachments.check_attachments).
FILE_CODES: frozenset[str] = frozenset(
    k.code
    for k in (
        codes.PHOTO_OUTSIDE_WEEK,
        codes.DUPLICATE_PHOTO,
        codes.DUPLICATE_PHOTO_WITHIN,
        codes.ATTACHMENT_TOO_LARGE,
        codes.TOO_MANY_ATTACHMENTS,
    )
)
# A file served by itself runs nothing and loads nothing, whatever it turns out to hold.
FILE_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_NAME_MAX = 120


@dataclass(frozen=True)
class FileLine:
    ref: AttachmentRef
    rule_label: str
    problems: list[Issue]  # the issues of its version that name this file
    thumbnail: bool  # shown as a picture on the page (an inline kind, not too large)

    @property
    def size_text(self) -> str:
        return size_text(self.ref.size)

    @property
    def photo(self) -> bool:
        return self.ref.kind in PHOTO_KINDS


@dataclass(frozen=True)
class VersionFiles:
    seq: int
    received_at: dt.datetime
    files: list[FileLine]


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def shows_inline(ref: AttachmentRef) -> bool:
    return ref.kind in INLINE_TYPES and ref.size <= INLINE_MAX_BYTES


def version_files(store: Store, campaign: Campaign, versions: list[Version]) -> list[VersionFiles]:
    """The files of each version that has any, newest version first."""
    out: list[VersionFiles] = []
    for v in sorted(versions, key=lambda v: -v.seq):
        refs = store.attachments(v.id)
        if not refs:
            continue
        rules = {r.key: r for r in campaign.deliverable(v.deliverable).attachments}
        lines = []
        for ref in refs:
            rule = rules.get(ref.rule)
            label = rule.label(campaign.language) if rule is not None else ref.rule
            named = [i for i in v.report.issues if i.code in FILE_CODES and i.value == ref.name]
            lines.append(FileLine(ref, label, named, shows_inline(ref)))
        out.append(VersionFiles(v.seq, v.received_at, lines))
    return out


def find_ref(store: Store, versions: list[Version], sha256: str) -> AttachmentRef | None:
    """The ref of `sha256` among these versions' files, or None: the only way to a blob from the console."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        return None
    for v in reversed(versions):
        for ref in store.attachments(v.id):
            if ref.sha256 == sha256:
                return ref
    return None


def served_kind(data: bytes, ref: AttachmentRef) -> str | None:
    """The kind of the bytes as they are now (sniffed again; the ref's name only splits doc/wps and kin)."""
    return sniff(data, ref.name)


def media_type(kind: str | None) -> str:
    return MEDIA_TYPES.get(kind or "", "application/octet-stream")


def download_name(name: str, kind: str | None) -> str:
    """The unit's name for the file, fit for a header: one component, no control or quote characters,
    bounded, and ending in the sniffed kind's extension (a .jpg that is a .heic is saved as .heic)."""
    base = re.split(r"[\\/]", name)[-1]
    text = "".join("_" if unicodedata.category(ch)[0] == "C" or ch in '"<>:*?|' else ch for ch in base)
    text = text.strip().lstrip(".") or "file"
    stem, dot, ext = text.rpartition(".")
    if kind is not None and (not dot or ext.lower() != kind):
        stem, ext = (stem if dot else text), kind
    elif not dot:
        stem, ext = text, ""
    stem = stem[: _NAME_MAX - len(ext) - 1] or "file"
    return f"{stem}.{ext}" if ext else stem


def content_disposition(name: str, *, inline: bool) -> str:
    """RFC 6266 with an RFC 5987 `filename*` for the real (UTF-8) name and an ASCII fallback."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "file"
    return f"{'inline' if inline else 'attachment'}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_headers(name: str, *, inline: bool) -> dict[str, str]:
    return {
        "content-disposition": content_disposition(name, inline=inline),
        "x-content-type-options": "nosniff",
        "content-security-policy": FILE_CSP,
        "cross-origin-resource-policy": "same-origin",
    }
