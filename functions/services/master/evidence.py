"""Evidence files for the organiser (issue 12 §4): the master's 附件 tab and `huizong export-files`.

Both come from one plan (`evidence_plan`): every file of each unit's latest submitted version, with the
relative path the export gives it, `<unit code>-<unit name>/<file name>`. The 附件 tab's 链接 column is
that path, relative to the export folder (by default `out/附件/`, next to master.xlsx), so the tab and
the archive always agree. Names come from units (untrusted): they are made safe for every file system
(no separators, no characters Windows refuses, no leading dots, bounded) and collisions are numbered
(`照片.jpg`, `照片 (2).jpg`), compared without case as Windows and macOS do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.atomic_file import write_atomically
from functions.ports import Store
from functions.sheet_model import Cell, Column, MasterSheet, Style
from schemas.attachments import PHOTO_KINDS, AttachmentRef
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.roster import Roster

SHEET_KEY = "attachments"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_NAME_MAX = 100


def sheet_title(lang: Language) -> str:
    return t(lang, "附件", "Attachments")


def default_export_folder(campaign: Campaign, out: Path) -> Path:
    return out / t(campaign.language, "附件", "attachments")


@dataclass(frozen=True)
class EvidenceEntry:
    unit: str
    unit_name: str
    deliverable: str
    ref: AttachmentRef
    path: str  # relative, slash-separated: where export-files puts it


def fs_name(name: str, fallback: str) -> str:
    """A name safe as one path component on Windows, macOS and Linux."""
    cleaned = _UNSAFE.sub("_", name).strip().strip(".").strip()
    if len(cleaned) > _NAME_MAX:
        stem, dot, ext = cleaned.rpartition(".")
        ext = ext if dot and len(ext) <= 10 else ""
        cleaned = (stem if ext else cleaned)[: _NAME_MAX - len(ext) - 1] + (f".{ext}" if ext else "")
    return cleaned or fallback


def _numbered(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate = f"{stem} ({n}){'.' + ext if ext else ''}"
        n += 1
    taken.add(candidate.casefold())
    return candidate


def evidence_plan(campaign: Campaign, roster: Roster, store: Store) -> list[EvidenceEntry]:
    """Every file of every unit's latest submitted version, in roster and deliverable order."""
    order = {d.key: i for i, d in enumerate(campaign.deliverables)}
    versions = [v for v in store.iter_latest_summaries("submitted") if v.deliverable in order]
    versions.sort(key=lambda v: (v.unit, order.get(v.deliverable, 99)))
    entries: list[EvidenceEntry] = []
    folders: set[str] = set()
    folder_of: dict[str, str] = {}
    names_in: dict[str, set[str]] = {}
    for v in versions:
        refs = store.attachments(v.id)
        if not refs:
            continue
        unit = roster.get(v.unit)
        unit_name = unit.name if unit else ""
        if v.unit not in folder_of:
            folder_of[v.unit] = _numbered(
                fs_name(f"{v.unit}-{unit_name}" if unit_name else v.unit, "unit"), folders
            )
        folder = folder_of[v.unit]
        taken = names_in.setdefault(folder, set())
        for ref in refs:
            name = _numbered(fs_name(ref.name, f"{ref.rule}.{ref.kind}"), taken)
            entries.append(EvidenceEntry(v.unit, unit_name, v.deliverable, ref, f"{folder}/{name}"))
    return entries


def attachments_sheet(campaign: Campaign, roster: Roster, store: Store) -> MasterSheet:
    """附件: unit, deliverable, kind, name, size, date taken, link (the path in the export folder)."""
    lang = campaign.language
    header = [
        t(lang, "单位编码", "Unit code"),
        t(lang, "单位名称", "Unit"),
        t(lang, "材料", "Deliverable"),
        t(lang, "附件类别", "Kind"),
        t(lang, "文件类型", "Type"),
        t(lang, "文件名", "File name"),
        t(lang, "大小（KB）", "Size (KB)"),
        t(lang, "拍摄日期", "Date taken"),
        t(lang, "导出位置（huizong export-files）", "Export path (huizong export-files)"),
    ]
    columns = [Column(width=w) for w in (10, 28, 22, 14, 10, 36, 12, 18, 60)]
    titles = {d.key: d.title(lang) for d in campaign.deliverables}
    labels = {(d.key, r.key): r.label(lang) for d in campaign.deliverables for r in d.attachments}

    def rows() -> Iterator[list[Any]]:
        for e in evidence_plan(campaign, roster, store):
            photo = e.ref.kind in PHOTO_KINDS
            yield [
                e.unit,
                e.unit_name,
                titles.get(e.deliverable, e.deliverable),
                labels.get((e.deliverable, e.ref.rule), e.ref.rule),
                e.ref.kind,
                e.ref.name,
                round(e.ref.size / 1024, 1),
                Cell(e.ref.taken, Style.DATETIME) if photo and e.ref.taken else None,
                e.path,
            ]

    return MasterSheet(SHEET_KEY, sheet_title(lang), header, columns, rows())


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: int
    units: int
    missing: list[str]  # refs whose bytes the store no longer has (paths as planned)


def export_files(campaign: Campaign, roster: Roster, store: Store, folder: Path) -> ExportResult:
    """Write every unit's files into `folder`, one sub-folder per unit; a file already there with the
    same bytes is left alone, so a second export writes nothing."""
    entries = evidence_plan(campaign, roster, store)
    missing: list[str] = []
    written = 0
    root = folder.resolve()
    for e in entries:
        target = (folder / e.path).resolve()
        # The planned names cannot leave `folder`; checked anyway, as the last line of defence.
        if root not in target.parents:
            missing.append(e.path)
            continue
        data = store.get_blob(e.ref.sha256)
        if data is None:
            missing.append(e.path)
            continue
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            written += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
        written += 1
    return ExportResult(folder=folder, files=written, units=len({e.unit for e in entries}), missing=missing)
