"""The server accepts a photo the browser downscaled (issue 14 §5): a canvas's JPEG carrying the original's
EXIF segment, as functions/web/static/photos.js makes it (tests/helpers/photos.copy_exif does the same to
bytes), is sniffed as a JPEG, its date taken read, and photo-outside-week decided on that date.

Without the copied segment the date is lost, which is why the browser copies it: the last test shows it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from functions.adapters.store.memory import MemoryStore
from functions.config.loading import load_campaign
from functions.services.intake.attachments import AttachmentCheck, check_attachments, incoming
from functions.validate.file_kinds import exif_taken, sniff
from tests.helpers.photos import camera_jpeg, copy_exif, exif_of, reencoded, size_of

IN_WEEK = dt.datetime(2022, 12, 4, 15, 0)
BEFORE = dt.datetime(2022, 11, 1, 9, 30)  # a month before the wujin-2022 week (12-02..12-08, grace 2 days)


def _check(wujin_dir: Path, files: list[tuple[str, bytes]]) -> AttachmentCheck:
    return check_attachments(
        load_campaign(wujin_dir),
        MemoryStore(),
        unit="WJ009",
        unit_type="中小学",
        deliverable="summary",
        files=incoming(files),
    )


def test_a_downscaled_photo_with_the_copied_exif_keeps_its_date() -> None:
    original = camera_jpeg(2600, 1800, IN_WEEK, orientation=6, seed=1)
    canvas = reencoded(original)
    made = copy_exif(original, canvas)
    assert size_of(made) == (1418, 2048)  # turned upright, long side 2048
    assert len(made) < len(original)
    assert sniff(made) == "jpg"
    assert exif_taken(made) == IN_WEEK
    assert exif_of(made) == (1, "2022:12:04 15:00:00", (1418, 2048))
    # the canvas's own JPEG has no date at all
    assert exif_taken(canvas) is None


def test_photo_outside_week_is_decided_on_the_copied_date(wujin_dir: Path) -> None:
    inside = copy_exif(o := camera_jpeg(2200, 1500, IN_WEEK, seed=2), reencoded(o))
    outside = copy_exif(o := camera_jpeg(2200, 1500, BEFORE, seed=3), reencoded(o))
    check = _check(wujin_dir, [("IMG_1.jpg", inside), ("IMG_2.jpg", outside)])
    assert [(r.name, r.kind, r.taken) for r in check.refs if r.rule == "photos"] == [
        ("IMG_1.jpg", "jpg", IN_WEEK),
        ("IMG_2.jpg", "jpg", BEFORE),
    ]
    late = [i for i in check.issues if i.code == "photo-outside-week"]
    assert [i.value for i in late] == ["IMG_2.jpg"]
    assert "2022-11-01" in late[0].message


def test_without_the_copied_segment_the_out_of_week_photo_goes_unnoticed(wujin_dir: Path) -> None:
    # What a plain canvas upload would do: why photos.js copies the segment.
    bare = reencoded(camera_jpeg(2200, 1500, BEFORE, seed=3))
    check = _check(wujin_dir, [("IMG_2.jpg", bare)])
    assert [r.taken for r in check.refs] == [None]
    assert not [i for i in check.issues if i.code == "photo-outside-week"]
