"""The attachment check every channel uses (functions/services/intake/attachments.py), on the memory store."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from functions.adapters.store.memory import MemoryStore
from functions.config.loading import load_campaign
from functions.services.intake.attachments import (
    AttachmentCheck,
    IncomingFile,
    apply_to_raw,
    check_attachments,
    incoming,
    safe_name,
)
from functions.services.setup.examples import write_example
from schemas.attachments import AttachmentRef, AttachmentRule
from schemas.campaign import Campaign
from schemas.raw import RawCell, RawRecord, RawSubmission, RawTable
from tests.helpers.evidence import docx, jpeg, mp4, with_issue_rules

WEEK_DAY = dt.datetime(2022, 12, 3, 10, 0, 0)


def _campaign(wujin_dir: Path) -> Campaign:
    return load_campaign(with_issue_rules(wujin_dir))


def _check(
    campaign: Campaign,
    files: list[tuple[str, bytes]],
    *,
    store: MemoryStore | None = None,
    unit: str = "WJ001",
    unit_type: str = "中小学",
) -> AttachmentCheck:
    return check_attachments(
        campaign,
        store or MemoryStore(),
        unit=unit,
        unit_type=unit_type,
        deliverable="summary",
        files=incoming(files),
    )


def _codes(check: AttachmentCheck) -> list[str]:
    return sorted(i.code for i in check.issues)


def _photos(n: int, day: dt.datetime = WEEK_DAY) -> list[tuple[str, bytes]]:
    return [(f"照片{i}.jpg", jpeg(f"p{i}", day + dt.timedelta(hours=i))) for i in range(n)]


def test_a_complete_set_is_classified_and_clean(wujin_dir: Path) -> None:
    check = _check(_campaign(wujin_dir), [("工作方案.docx", docx("方案")), *_photos(5)])
    assert check.issues == []
    assert [r.rule for r in check.refs] == ["plan_doc"] + ["photos"] * 5
    assert {r.kind for r in check.refs} == {"docx", "jpg"}
    assert all(r.taken is not None and r.taken.date() == WEEK_DAY.date() for r in check.refs[1:])
    assert check.photo_count == 5
    # The bytes are handed over by digest, ready for put_blob.
    assert all(hashlib.sha256(check.blobs[r.sha256]).hexdigest() == r.sha256 for r in check.refs)


def test_counts_types_and_sizes(wujin_dir: Path) -> None:
    campaign = _campaign(wujin_dir)
    # No plan, three photos (min 4), a text file named .jpg, a docx beyond the plan's max of one.
    files = [*_photos(3), ("伪装.jpg", b"not a photo at all"), ("a.docx", docx("1")), ("b.docx", docx("2"))]
    check = _check(campaign, files)
    assert _codes(check) == ["bad-attachment-type", "missing-attachment", "too-many-attachments"]
    bad = next(i for i in check.issues if i.code == "bad-attachment-type")
    assert bad.value == "伪装.jpg" and "docx、pdf、wps" in bad.message
    missing = next(i for i in check.issues if i.code == "missing-attachment")
    assert "活动照片" in missing.message and "4" in missing.message and "3" in missing.message
    assert len([r for r in check.refs if r.rule == "plan_doc"]) == 1  # the extra one is not kept

    summary = campaign.deliverable("summary")
    summary.attachments[1] = summary.attachments[1].model_copy(update={"max_mb": 0.0001})  # about 100 bytes
    big = ("大照片.jpg", jpeg("big", WEEK_DAY, extra=b"x" * 500))
    check = _check(campaign, [("工作方案.docx", docx("方案")), big, *_photos(4)])
    assert "attachment-too-large" in _codes(check)
    assert big[0] not in [r.name for r in check.refs]


def test_a_video_stands_in_for_photos_only_when_there_are_none(wujin_dir: Path) -> None:
    campaign = _campaign(wujin_dir)
    summary = campaign.deliverable("summary")
    summary.attachments[1] = summary.attachments[1].model_copy(update={"min": 0})
    assert _codes(_check(campaign, [("工作方案.docx", docx("方案"))])) == ["missing-attachment"]
    unless = _check(campaign, [("工作方案.docx", docx("方案"))]).issues[0]
    assert "活动视频" in unless.message and "活动照片" in unless.message
    assert _codes(_check(campaign, [("工作方案.docx", docx("方案")), ("v.mp4", mp4("v"))])) == []
    assert _codes(_check(campaign, [("工作方案.docx", docx("方案")), *_photos(1)])) == []


def test_photos_outside_the_units_window_and_duplicates_are_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "xinbei"
    write_example(folder, "xinbei-2017")
    campaign = load_campaign(folder)
    # The community centres hold their week any time in October 2017; others keep the campaign week.
    campaign.deliverable("summary").attachments = [
        AttachmentRule(key="photos", label_zh="活动照片", types=["jpg"])
    ]
    october = dt.datetime(2017, 10, 3, 9, 0)
    store = MemoryStore()
    photo = ("活动.jpg", jpeg("october", october))
    centre = _check(campaign, [photo], store=store, unit="XB001", unit_type="镇（街道）社区教育中心")
    assert centre.issues == []
    school = _check(campaign, [photo], store=store, unit="XB100", unit_type="中小学")
    assert school.issues == []  # 中小学 also has an October window in this example
    week = campaign.week
    other = _check(campaign, [photo], store=store, unit="XB101", unit_type="区级机关")
    assert [i.code for i in other.issues] == ["photo-outside-week"]
    assert week.start.isoformat() in other.issues[0].message and "2017-10-03" in other.issues[0].message

    # Once a unit's version holds the photo, another unit sending it is warned; the sender itself is not.
    store._blob_units[centre.refs[0].sha256] = {"XB001"}  # what add_version records
    again = _check(campaign, [photo], store=store, unit="XB002", unit_type="镇（街道）社区教育中心")
    assert [i.code for i in again.issues] == ["duplicate-photo"] and again.issues[0].severity == "warning"
    assert (
        _check(campaign, [photo], store=store, unit="XB001", unit_type="镇（街道）社区教育中心").issues == []
    )
    twice = _check(campaign, [photo, ("副本.jpg", photo[1])], store=MemoryStore(), unit="XB001",
                   unit_type="镇（街道）社区教育中心")  # fmt: skip
    assert [i.code for i in twice.issues] == ["duplicate-photo"] and len(twice.refs) == 1
    assert "副本.jpg" in twice.issues[0].message and "活动.jpg" in twice.issues[0].message


def test_the_counted_photos_replace_the_typed_figure(wujin_dir: Path) -> None:
    campaign = _campaign(wujin_dir)
    check = _check(campaign, [("工作方案.docx", docx("方案")), *_photos(4)])
    raw = RawSubmission(
        source="x.xlsx",
        tables={
            "summary_materials": RawTable(
                key="summary_materials",
                sheet="总结材料",
                records=[RawRecord(cells={"photo_count": RawCell(value=6, cell="B4")})],
            )
        },
    )
    apply_to_raw(raw, check, "zh")
    assert raw.tables["summary_materials"].records[0].cells["photo_count"] == RawCell(value=4, cell="B4")
    (issue,) = raw.issues
    assert issue.code == "photo-count-differs" and issue.cell == "B4" and "6" in issue.message
    assert "4" in issue.message and issue.severity == "warning"


def test_hostile_names_become_safe_metadata() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\a\\照片.jpg") == "照片.jpg"
    assert safe_name("evil\n\x00name\t.jpg") == "evil name .jpg"
    assert safe_name("..") == "file" and safe_name("") == "file"
    long = safe_name("长" * 300 + ".jpg")
    assert len(long) <= 120 and long.endswith(".jpg")
    ref = AttachmentRef(rule="photos", sha256="a" * 64, size=1, kind="jpg", name=long)
    assert ref.name == long


def test_a_file_too_large_to_read_is_reported_not_read(wujin_dir: Path) -> None:
    huge = IncomingFile(name="巨大.mp4", size=600 * 1024 * 1024, data=None)
    check = check_attachments(
        _campaign(wujin_dir),
        MemoryStore(),
        unit="WJ001",
        unit_type="中小学",
        deliverable="summary",
        files=[huge],
    )
    assert "attachment-too-large" in _codes(check) and check.refs == []


def test_a_submission_brings_a_bounded_number_of_files(wujin_dir: Path) -> None:
    campaign = _campaign(wujin_dir)
    files = [("工作方案.docx", docx("方案"))] + [(f"{i}.jpg", jpeg(f"n{i}", WEEK_DAY)) for i in range(205)]
    check = _check(campaign, files)
    assert len(check.refs) == 1 + 5  # the plan and the photos rule's max
    too_many = [i for i in check.issues if i.code == "too-many-attachments"]
    assert any("本次发送" in i.message and "200" in i.message for i in too_many)
    assert len(too_many) <= 200  # the files past the bound are not even looked at


def test_an_english_campaign_is_told_in_english(wujin_dir: Path) -> None:
    path = with_issue_rules(wujin_dir) / "campaign.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("language: zh", "language: en"), encoding="utf-8"
    )
    campaign = load_campaign(wujin_dir)
    check = _check(campaign, [("x.jpg", b"text"), *_photos(2)])
    messages = sorted((i.code, i.message) for i in check.issues)
    assert [c for c, _ in messages] == ["bad-attachment-type", "missing-attachment", "missing-attachment"]
    assert "not recognised" in messages[0][1]
    assert "Attachment 'Photos' missing: at least 4 needed (jpg, png, heic), 2 received" in messages[1][1]
    assert "Attachment 'Work plan' missing" in messages[2][1]
    assert not any("缺少" in m or "文件" in m for _, m in messages)
