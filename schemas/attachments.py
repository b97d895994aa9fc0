"""Evidence files (issue 12 §4): what a deliverable asks for, and what the store keeps of each file sent.

A campaign names file types by the extensions organisers know (docx, jpg…); huizong never trusts a file's
own extension for them but sniffs the bytes (functions/validate/file_kinds.py), so the names below are
the kinds that sniffing can tell apart, plus the aliases organisers write.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from schemas.i18n import Language, t

# Every kind a rule may list; sniffing returns one of these (never an alias).
FILE_KINDS: tuple[str, ...] = (
    "jpg",
    "png",
    "heic",
    "gif",
    "webp",
    "bmp",
    "tif",
    "pdf",
    "docx",
    "xlsx",
    "pptx",
    "doc",
    "wps",
    "xls",
    "et",
    "ppt",
    "dps",
    "mp4",
    "mov",
    "avi",
    "zip",
    "rar",
    "7z",
)
# What organisers also write: the same kind under another name.
FILE_KIND_ALIASES: dict[str, str] = {"jpeg": "jpg", "heif": "heic", "tiff": "tif", "m4v": "mp4"}
# Kinds counted as photos (照片张数, photo-outside-week, duplicate-photo).
PHOTO_KINDS: frozenset[str] = frozenset({"jpg", "png", "heic", "gif", "webp", "bmp", "tif"})
# Hard ceiling for a rule's max_mb: files are kept whole in the store (a SQLite blob, an S3 object).
MAX_MB_CEILING = 500
# At most this many files per rule and per submission, whatever a rule says (a bounded intake).
MAX_FILES_PER_RULE = 50


def canonical_kind(name: str) -> str:
    """`jpeg` → `jpg`, `HEIF` → `heic`; unknown names are returned lower-cased (the campaign check refuses them)."""
    lowered = name.strip().lower().lstrip(".")
    return FILE_KIND_ALIASES.get(lowered, lowered)


class AttachmentRule(BaseModel):
    """One kind of file a deliverable asks for, e.g. 工作方案 (docx/pdf/wps, exactly one) or 活动照片 (4–5)."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = ""
    label_en: str = ""
    types: list[str] = Field(min_length=1)
    min: int = Field(default=0, ge=0, le=MAX_FILES_PER_RULE)
    max: int | None = Field(default=None, ge=1, le=MAX_FILES_PER_RULE)
    max_mb: float = Field(default=20, gt=0, le=MAX_MB_CEILING)
    # Another rule's key: this rule needs at least one file unless that rule has files (a video instead
    # of photos). Checked against the deliverable's rules by the campaign (schemas/campaign.py).
    required_unless: str | None = None

    def label(self, lang: Language) -> str:
        return t(lang, self.label_zh or self.label_en or self.key, self.label_en or self.label_zh or self.key)

    def kinds(self) -> list[str]:
        return [canonical_kind(k) for k in self.types]

    def accepts(self, kind: str) -> bool:
        return kind in self.kinds()

    @property
    def limit(self) -> int:
        return self.max if self.max is not None else MAX_FILES_PER_RULE

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


class AttachmentRef(BaseModel):
    """One file kept with a version: content-addressed, the sender's name only as metadata."""

    model_config = ConfigDict(extra="forbid")

    rule: str  # the AttachmentRule key it was classified to
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    kind: str  # sniffed from the bytes (FILE_KINDS)
    # The name the unit gave it, made safe to show (one line, bounded); never used as a path.
    name: str = Field(max_length=200)
    # EXIF DateTimeOriginal as written by the camera (local time, no zone), when the file has one.
    taken: dt.datetime | None = None
