"""Evidence files sent with a submission (issue 12 §4): classify, check, keep — the same for every channel.

The folder intake calls this today (files in a unit's sub-folder next to its workbook); the web upload
and mail intake will hand their files to the same entry, `ingest_raw(..., files=[...])`, which calls
`check_attachments` before validation and `keep_attachments` before the version is stored.

How a file is judged:

1. Its kind is sniffed from its bytes (functions/validate/file_kinds.py); the name it came with is
   only metadata (made safe for display, never a path). Unknown or unaccepted kinds: `bad-attachment-type`.
2. It goes to the deliverable's first rule whose `types` accept the kind; when several rules accept it,
   a rule whose label (or key) the file's name contains wins, else the first that still has room. A
   file that is another deliverable's (its name names one of that deliverable's rules, or only that
   deliverable accepts its kind) is skipped: one unit folder may hold several workbooks and their files.
3. Per file: over the rule's `max_mb` → `attachment-too-large` (not kept); beyond the rule's `max` →
   `too-many-attachments` (not kept). Per rule: fewer than `min` → `missing-attachment` (and at least
   one unless the `required_unless` rule has files).
4. Photos (schemas.attachments.PHOTO_KINDS): an EXIF date outside the unit's window →
   `photo-outside-week` (warning); the same bytes already sent by another unit → `duplicate-photo`
   (warning, by SHA-256); the same bytes twice in one submission count once.
5. 照片张数: when photo files came, the count of kept photos replaces the typed figure before validation,
   so totals and `too-few-photos` use it; a typed figure that differs gets `photo-count-differs`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from functions.ports import Store
from functions.validate import codes
from functions.validate.file_kinds import exif_taken, sniff
from functions.validate.messages import make_issue
from schemas.attachments import MAX_MB_CEILING, PHOTO_KINDS, AttachmentRef, AttachmentRule
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.raw import RawCell, RawSubmission
from schemas.report import Issue

# Set once a version with files is stored: the master shows its 附件 tab from then on, so a campaign's
# master keeps its usual tabs until the first file arrives (one meta read instead of a look at every
# version's refs, which on S3 would be a request per unit).
EVIDENCE_META = "evidence-stored"
# A submission brings at most this many files (any channel); more are reported, not read.
MAX_FILES_PER_SUBMISSION = 200
_NAME_MAX = 120
PHOTO_COUNT_TABLE, PHOTO_COUNT_FIELD = "summary_materials", "photo_count"


@dataclass(frozen=True)
class IncomingFile:
    """One file as a channel received it. `data` is None when it was too large to read at all."""

    name: str  # as the sender gave it: untrusted, metadata only
    size: int
    data: bytes | None

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> IncomingFile:
        return cls(name=name, size=len(data), data=data)

    @classmethod
    def from_path(cls, path: Path) -> IncomingFile:
        """Read a file, unless it is larger than any rule may allow (then only its size is known)."""
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_MB_CEILING * 1024 * 1024 else None
        return cls(name=path.name, size=size, data=data)


def incoming(files: Iterable[tuple[str, bytes] | Path | IncomingFile]) -> list[IncomingFile]:
    """The entry's input in any of its shapes: (original name, bytes) pairs, paths, or IncomingFiles."""
    out: list[IncomingFile] = []
    for f in files:
        if isinstance(f, IncomingFile):
            out.append(f)
        elif isinstance(f, Path):
            out.append(IncomingFile.from_path(f))
        else:
            out.append(IncomingFile.from_bytes(f[0], f[1]))
    return out


@dataclass
class AttachmentCheck:
    """What check_attachments found: the refs to store, the issues, the photos counted and the bytes."""

    refs: list[AttachmentRef] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    photo_count: int | None = None  # None: no photo file came, the typed figure stands
    blobs: dict[str, bytes] = field(default_factory=dict)


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name fit to show and store as metadata: its last path component, one line, bounded.

    Never used to build a path (blobs are named by their digest; export-files makes its own names)."""
    base = re.split(r"[\\/]", name)[-1]
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in base)
    text = re.sub(r"\s+", " ", text).strip().lstrip(".")
    if len(text) > _NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        text = (stem if ext else text)[: _NAME_MAX - len(ext) - 2] + "…" + (f".{ext}" if ext else "")
    return text or fallback


def check_attachments(
    campaign: Campaign,
    store: Store,
    *,
    unit: str,
    unit_type: str | None,
    deliverable: str,
    files: Sequence[IncomingFile],
) -> AttachmentCheck:
    """Classify and check the files a unit sent with one deliverable. Reads the store (duplicates), never
    writes it: `keep_attachments` does, once the submission is known to be stored."""
    lang = campaign.language
    rules = campaign.deliverable(deliverable).attachments
    result = AttachmentCheck()
    if not rules:
        return result  # the deliverable asks for no files: anything sent is not its business
    others = [r for d in campaign.deliverables if d.key != deliverable for r in d.attachments]
    allowed = t(lang, "、", ", ").join(dict.fromkeys(k for r in rules for k in r.kinds()))
    window = campaign.window_for(unit_type)
    kept: dict[str, list[AttachmentRef]] = {r.key: [] for r in rules}
    received: dict[str, int] = {r.key: 0 for r in rules}
    seen: dict[str, str] = {}  # sha256 -> the name first kept under it
    for i, f in enumerate(files):
        name = safe_name(f.name)
        if i >= MAX_FILES_PER_SUBMISSION:
            result.issues.append(
                make_issue(
                    codes.TOO_MANY_ATTACHMENTS,
                    lang,
                    value=name,
                    label=t(lang, "本次发送", "this submission"),
                    maximum=MAX_FILES_PER_SUBMISSION,
                    count=len(files),
                )
            )
            break
        if f.data is None:
            # Larger than any rule may allow: not even read.
            result.issues.append(_too_large(lang, name, f.size, max(rules, key=lambda r: r.max_mb)))
            continue
        kind = sniff(f.data, f.name)
        if kind is not None and _belongs_elsewhere(rules, others, kind, name):
            continue  # another deliverable's file, sent in the same unit folder: left for its workbook
        rule_or_none = _classify(rules, kind, name, received) if kind is not None else None
        if rule_or_none is None:
            variant = codes.BAD_ATTACHMENT_TYPE if kind is not None else codes.BAD_ATTACHMENT_TYPE_UNKNOWN
            result.issues.append(make_issue(variant, lang, value=name, found=kind, allowed=allowed))
            continue
        rule = rule_or_none
        sha = hashlib.sha256(f.data).hexdigest()
        if sha in seen:
            if kind in PHOTO_KINDS:
                result.issues.append(
                    make_issue(codes.DUPLICATE_PHOTO_WITHIN, lang, value=name, first=seen[sha])
                )
            continue  # the same bytes twice are one file
        received[rule.key] += 1
        if f.size > rule.max_bytes:
            result.issues.append(_too_large(lang, name, f.size, rule))
            continue
        if len(kept[rule.key]) >= rule.limit:
            result.issues.append(
                make_issue(
                    codes.TOO_MANY_ATTACHMENTS,
                    lang,
                    value=name,
                    label=rule.label(lang),
                    maximum=rule.limit,
                    count=received[rule.key],
                )
            )
            continue
        taken = exif_taken(f.data) if kind in PHOTO_KINDS else None
        seen[sha] = name
        kept[rule.key].append(
            AttachmentRef(rule=rule.key, sha256=sha, size=f.size, kind=kind, name=name, taken=taken)
        )
        result.blobs[sha] = f.data
        if kind in PHOTO_KINDS:
            if taken is not None and not (window.start <= taken.date() <= window.end):
                result.issues.append(
                    make_issue(
                        codes.PHOTO_OUTSIDE_WEEK,
                        lang,
                        value=name,
                        taken=taken.date().isoformat(),
                        start=window.start.isoformat(),
                        end=window.end.isoformat(),
                    )
                )
            if store.units_with_blob(sha) - {unit}:
                result.issues.append(make_issue(codes.DUPLICATE_PHOTO, lang, value=name))
    for rule in rules:
        result.issues.extend(_count_issues(lang, rule, rules, kept))
    # Refs in rule order, then by name (how the 附件 tab lists them); the version's content hash sorts
    # them itself, so neither the listing order nor a renamed file makes a new version.
    result.refs = [ref for rule in rules for ref in sorted(kept[rule.key], key=lambda r: (r.name, r.sha256))]
    photos = [r for r in result.refs if r.kind in PHOTO_KINDS]
    result.photo_count = len(photos) if photos else None
    return result


def _labels(rule: AttachmentRule) -> list[str]:
    return [x.lower() for x in (rule.label_zh, rule.label_en, rule.key) if x]


def _belongs_elsewhere(
    rules: list[AttachmentRule], others: list[AttachmentRule], kind: str, name: str
) -> bool:
    """A unit folder may hold the workbooks of several deliverables and all their files, and each workbook
    is handed them all: a file is another deliverable's when its name names one of that deliverable's
    rules and none of ours, or when only that deliverable accepts its kind."""
    lowered = name.lower()
    if any(x in lowered for r in rules for x in _labels(r)):
        return False
    if any(r.accepts(kind) and any(x in lowered for x in _labels(r)) for r in others):
        return True
    return not any(r.accepts(kind) for r in rules) and any(r.accepts(kind) for r in others)


def _classify(
    rules: list[AttachmentRule], kind: str, name: str, received: dict[str, int]
) -> AttachmentRule | None:
    accepting = [r for r in rules if r.accepts(kind)]
    if len(accepting) <= 1:
        return accepting[0] if accepting else None
    lowered = name.lower()
    for rule in accepting:
        if any(x in lowered for x in _labels(rule)):
            return rule
    for rule in accepting:
        if received[rule.key] < rule.limit:
            return rule
    return accepting[0]


def _too_large(lang: Language, name: str, size: int, rule: AttachmentRule) -> Issue:
    return make_issue(
        codes.ATTACHMENT_TOO_LARGE,
        lang,
        value=name,
        size_mb=f"{size / 1024 / 1024:.1f}",
        max_mb=f"{rule.max_mb:g}",
        label=rule.label(lang),
    )


def _count_issues(
    lang: Language, rule: AttachmentRule, rules: list[AttachmentRule], kept: dict[str, list[AttachmentRef]]
) -> list[Issue]:
    have = len(kept[rule.key])
    types = t(lang, "、", ", ").join(dict.fromkeys(rule.kinds()))  # jpg and jpeg are one kind
    if have < rule.min:
        return [
            make_issue(
                codes.MISSING_ATTACHMENT,
                lang,
                label=rule.label(lang),
                minimum=rule.min,
                count=have,
                types=types,
            )
        ]
    if have == 0 and rule.required_unless is not None and not kept.get(rule.required_unless):
        other = next(r for r in rules if r.key == rule.required_unless)
        return [
            make_issue(
                codes.MISSING_ATTACHMENT_UNLESS,
                lang,
                label=rule.label(lang),
                other=other.label(lang),
                types=types,
            )
        ]
    return []


def apply_to_raw(raw: RawSubmission, check: AttachmentCheck, lang: Language) -> None:
    """Put the check into the submission before validation: its issues, and 照片张数 as counted."""
    raw.issues.extend(check.issues)
    table = raw.tables.get(PHOTO_COUNT_TABLE)
    if check.photo_count is None or table is None or not table.records:
        return
    record = table.records[0]
    typed_cell = record.cells.get(PHOTO_COUNT_FIELD)
    typed = typed_cell.value if typed_cell is not None else None
    where = typed_cell.cell if typed_cell is not None else None
    if typed not in (None, "") and str(typed).strip() != str(check.photo_count):
        raw.issues.append(
            make_issue(
                codes.PHOTO_COUNT_DIFFERS,
                lang,
                sheet=table.sheet,
                cell=where,
                value=typed,
                typed=typed,
                counted=check.photo_count,
            )
        )
    record.cells[PHOTO_COUNT_FIELD] = RawCell(value=check.photo_count, cell=where)


def keep_attachments(store: Store, check: AttachmentCheck) -> None:
    """The bytes, before the version that names them (a ref never points at nothing)."""
    for sha, data in check.blobs.items():
        store.put_blob(sha, data)


def files_digest(files: Sequence[IncomingFile]) -> str:
    """One digest of a set of files' contents (names and order left out): how a folder intake recognises
    a workbook-and-files submission it has already stored."""
    parts = sorted(
        hashlib.sha256(f.data).hexdigest() if f.data is not None else f"size:{f.size}" for f in files
    )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
