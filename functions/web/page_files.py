"""The form page's file fields (issue 14 §5): one per attachment rule, with the files the form holds.

Kept apart from page.py (the tables) so what a file field shows is decided in one place: the rule's label,
which files it takes (accept=, so a phone offers its camera and gallery for photos), how many and how
large in words, the files already kept with a remove box each, and the attachment check's issues next to
the field they are about.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.services.web.form_files import ATTACHMENT_CODES
from schemas.attachments import PHOTO_KINDS, AttachmentRef, AttachmentRule
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.report import Issue, ValidationReport

# What a browser's file picker is told per kind: extensions, and a MIME type where phones use it to
# offer the camera ("image/jpeg" makes Android and iOS show 拍照 next to the gallery).
_MIME: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}
_EXTRA_EXT: dict[str, list[str]] = {"jpg": ["jpeg"], "heic": ["heif"], "tif": ["tiff"], "mp4": ["m4v"]}


@dataclass
class KeptFile:
    sha256: str
    name: str
    size: str  # in words: "1.2 MB"


@dataclass
class FileField:
    """One attachment rule as the page shows it."""

    key: str
    name: str  # the post's field name: file.<rule>
    id: str
    label: str
    accept: str
    multiple: bool
    photos: bool
    limits: str  # 需 1–5 个，每个不超过 20 MB
    kept: list[KeptFile] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def accept_of(rule: AttachmentRule) -> str:
    kinds = list(dict.fromkeys(rule.kinds()))
    exts = [f".{e}" for k in kinds for e in [k, *_EXTRA_EXT.get(k, [])]]
    mimes = [_MIME[k] for k in kinds if k in _MIME]
    return ",".join(dict.fromkeys(exts + mimes))


def size_words(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def limits_words(lang: Language, rule: AttachmentRule, max_upload: int | None) -> str:
    """`max_upload`: what one save may carry in all, or None when each file is uploaded on its own
    (direct uploads in the cloud: only the rule's size per file applies)."""
    types = t(lang, "、", ", ").join(dict.fromkeys(rule.kinds()))
    if rule.min and rule.max is not None and rule.min != rule.max:
        count = t(lang, f"需 {rule.min}–{rule.max} 个", f"{rule.min}–{rule.max} files")
    elif rule.min and rule.max is not None:
        count = t(lang, f"需 {rule.min} 个", f"exactly {rule.min}")
    elif rule.min:
        count = t(lang, f"至少 {rule.min} 个", f"at least {rule.min}")
    elif rule.required_unless:
        count = t(
            lang,
            f"最多 {rule.limit} 个（或另一项有文件时可不传）",
            f"up to {rule.limit}, or none if the other kind is sent",
        )
    else:
        count = t(lang, f"选填，最多 {rule.limit} 个", f"optional, up to {rule.limit}")
    size = f"{rule.max_mb:g} MB"
    if max_upload is None:
        return t(lang, f"{types}；{count}，每个不超过 {size}", f"{types}; {count}, each at most {size}")
    per_save = f"{max_upload / 1024 / 1024:g} MB"
    return t(
        lang,
        f"{types}；{count}，每个不超过 {size}（每次保存上传合计不超过 {per_save}）",
        f"{types}; {count}, each at most {size} (at most {per_save} uploaded per save)",
    )


def file_fields(
    campaign: Campaign,
    deliverable: str,
    kept: list[AttachmentRef],
    report: ValidationReport | None,
    uploaded: dict[str, str],
    *,
    max_upload: int | None,
) -> list[FileField]:
    """The deliverable's file fields. `uploaded` maps a file's shown name to the field it was sent in
    (this request's uploads), so a refused file's issue appears where the unit chose it."""
    lang = campaign.language
    rules = campaign.deliverable(deliverable).attachments
    views = {
        r.key: FileField(
            key=r.key,
            name=f"file.{r.key}",
            id=f"file-{r.key}",
            label=r.label(lang),
            accept=accept_of(r),
            multiple=r.limit > 1,
            photos=any(k in PHOTO_KINDS for k in r.kinds()),
            limits=limits_words(lang, r, max_upload),
        )
        for r in rules
    }
    if not views:
        return []
    by_name: dict[str, str] = {}
    for ref in kept:
        if ref.rule in views:
            views[ref.rule].kept.append(KeptFile(ref.sha256, ref.name, size_words(ref.size)))
            by_name.setdefault(ref.name, ref.rule)
    by_name.update(uploaded)
    by_label = {r.label(lang): r.key for r in rules}
    first = next(iter(views))
    for issue in report.issues if report else []:
        if issue.code not in ATTACHMENT_CODES:
            continue
        rule = by_name.get(issue.value or "") or _labelled(issue.message, by_label) or first
        views[rule].issues.append(issue)
    return list(views.values())


def _labelled(message: str, by_label: dict[str, str]) -> str | None:
    # Count issues name their rule by its label (“缺少附件“活动照片”…”): the longest label found wins.
    for label in sorted(by_label, key=len, reverse=True):
        if label and label in message:
            return by_label[label]
    return None


def file_anchor(fields: list[FileField], issue: Issue) -> str | None:
    """The id of the file field an attachment issue is shown at, for the summary's link."""
    for f in fields:
        if any(i is issue for i in f.issues):
            return f.id
    return None
