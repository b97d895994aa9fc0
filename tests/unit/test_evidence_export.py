"""The organiser's archive of evidence files: one folder per unit, safe names, collisions numbered, the
master's 附件 tab naming the same paths."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from functions.adapters.store.memory import MemoryStore
from functions.config.loading import load_campaign, load_roster
from functions.services.master.evidence import attachments_sheet, evidence_plan, export_files, fs_name
from functions.sheet_model import Cell
from schemas.attachments import AttachmentRef
from tests.helpers.evidence import jpeg
from tests.helpers.store import add, submission


def _ref(data: bytes, name: str, taken: dt.datetime | None = None) -> AttachmentRef:
    return AttachmentRef(
        rule="photos",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        kind="jpg",
        name=name,
        taken=taken,
    )


def test_archive_folders_names_and_collisions(wujin_dir: Path, tmp_path: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    unit = roster.units[0]
    store = MemoryStore()
    taken = dt.datetime(2022, 12, 3, 9, 30)
    files = [jpeg("1", taken), jpeg("2"), jpeg("3"), jpeg("4")]
    refs = [
        _ref(files[0], "照片.jpg", taken),
        _ref(files[1], "照片.JPG"),  # differs only in case: a collision on Windows and macOS
        _ref(files[2], 'a:b*c?"d<e>f|.jpg'),
        _ref(files[3], "..."),
    ]
    for ref, data in zip(refs[:3], files[:3], strict=True):
        store.put_blob(ref.sha256, data)  # the fourth's bytes are missing from the store
    add(store, submission(unit.code, "summary", n=1, attachments=refs))
    add(store, submission(unit.code, "summary", n=2, status="draft", attachments=refs[:1]))  # drafts ignored

    plan = evidence_plan(campaign, roster, store)
    folder = f"{unit.code}-{unit.name}"
    assert [e.path for e in plan] == [
        f"{folder}/照片.jpg",
        f"{folder}/照片 (2).JPG",
        f"{folder}/a_b_c_d_e_f_.jpg",
        f"{folder}/photos.jpg",
    ]

    out = tmp_path / "archive"
    result = export_files(campaign, roster, store, out)
    assert (result.files, result.units, result.missing) == (3, 1, [f"{folder}/photos.jpg"])
    assert (out / folder / "照片 (2).JPG").read_bytes() == files[1]
    assert sorted(p.name for p in (out / folder).iterdir()) == [
        "a_b_c_d_e_f_.jpg",
        "照片 (2).JPG",
        "照片.jpg",
    ]
    before = (out / folder / "照片.jpg").stat().st_mtime_ns
    again = export_files(campaign, roster, store, out)
    assert again.files == 3 and (out / folder / "照片.jpg").stat().st_mtime_ns == before  # nothing rewritten

    sheet = attachments_sheet(campaign, roster, store)
    rows = [list(r) for r in sheet.rows]
    assert sheet.name == "附件" and len(rows) == 4
    assert rows[0][:2] == [unit.code, unit.name] and rows[0][3] == "活动照片"
    assert rows[0][7] == Cell(taken, rows[0][7].style) and rows[1][7] is None
    assert [r[8] for r in rows] == [e.path for e in plan]


def test_fs_names_are_one_safe_component() -> None:
    assert fs_name("../../x.jpg", "f") == "_.._x.jpg"  # one component: no separator, no leading dot
    assert fs_name("...", "fallback.jpg") == "fallback.jpg"
    assert fs_name("con\x00trol\n.jpg", "f") == "con_trol_.jpg"
    long = fs_name("长" * 200 + ".jpeg", "f")
    assert len(long) <= 100 and long.endswith(".jpeg")
