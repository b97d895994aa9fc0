"""functions/web/static/photos.js's byte functions under node, checked by the server's own EXIF reader.

The browser test shows the whole path in chromium; this one feeds the script's exifSegment/withExif the
files a phone and a canvas make (tests/helpers/photos.py) in both byte orders, plus hostile segments,
without a browser, and reads the result with functions/validate/file_kinds.py and Pillow.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from functions.validate.file_kinds import exif_taken, sniff
from tests.helpers.evidence import jpeg
from tests.helpers.paths import ROOT
from tests.helpers.photos import camera_jpeg, exif_of, reencoded, size_of

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
PHOTOS_JS = ROOT / "functions" / "web" / "static" / "photos.js"
TAKEN = dt.datetime(2022, 12, 4, 15, 0)

# Reads pairs of files, writes withExif(target, exifSegment(original, w, h)) next to each, prints what the
# script made of the original (its orientation, whether a segment was found).
RUNNER = """
const fs = require("fs");
const photos = require(process.argv[2]);
const jobs = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const out = [];
for (const job of jobs) {
  const original = new Uint8Array(fs.readFileSync(job.original));
  const target = new Uint8Array(fs.readFileSync(job.target));
  const seg = photos.exifSegment(original, job.width, job.height);
  fs.writeFileSync(job.out, photos.withExif(target, seg));
  out.push({orientation: photos.orientation(original), segment: seg ? seg.length : null});
}
console.log(JSON.stringify(out));
"""


def _run(tmp_path: Path, pairs: list[tuple[bytes, bytes]]) -> tuple[list[dict[str, int | None]], list[bytes]]:
    assert NODE is not None
    jobs = []
    for i, (original, target) in enumerate(pairs):
        (tmp_path / f"o{i}.jpg").write_bytes(original)
        (tmp_path / f"t{i}.jpg").write_bytes(target)
        w, h = size_of(target) if target[:2] == b"\xff\xd8" and len(target) > 200 else (0, 0)
        jobs.append(
            {
                "original": str(tmp_path / f"o{i}.jpg"),
                "target": str(tmp_path / f"t{i}.jpg"),
                "out": str(tmp_path / f"r{i}.jpg"),
                "width": w,
                "height": h,
            }
        )
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
    (tmp_path / "run.js").write_text(RUNNER, encoding="utf-8")
    done = subprocess.run(
        [NODE, str(tmp_path / "run.js"), str(PHOTOS_JS), str(tmp_path / "jobs.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), [(tmp_path / f"r{i}.jpg").read_bytes() for i in range(len(pairs))]


def test_the_scripts_copy_keeps_the_date_turns_orientation_to_1_and_sets_the_new_size(tmp_path: Path) -> None:
    turned = camera_jpeg(1200, 800, TAKEN, orientation=6, seed=3)
    upright = camera_jpeg(800, 600, dt.datetime(2022, 11, 1, 9, 30), seed=4)
    small = reencoded(turned, long_side=600)
    small2 = reencoded(upright, long_side=400)
    # the evidence helper's JPEG: big-endian EXIF, no JFIF in the target either
    mm = jpeg("big-endian", TAKEN)
    report, made = _run(tmp_path, [(turned, small), (upright, small2), (mm, small)])

    assert [r["orientation"] for r in report] == [6, 1, 1]
    assert all(r["segment"] for r in report)
    first, second, third = made
    assert sniff(first) == "jpg" and exif_taken(first) == TAKEN
    assert exif_of(first) == (1, "2022:12:04 15:00:00", (400, 600))  # upright: taller than wide
    assert size_of(first) == (400, 600)  # the pixels are untouched, the file still decodes
    assert exif_taken(second) == dt.datetime(2022, 11, 1, 9, 30)
    assert exif_of(second)[2] == (400, 300)
    assert exif_taken(third) == TAKEN
    # APP1 went after the canvas's JFIF APP0, and everything after it is the canvas's bytes unchanged
    assert first[2:4] == b"\xff\xe0" and small[2:4] == b"\xff\xe0"
    app0_end = 4 + struct.unpack(">H", small[4:6])[0]
    assert first[app0_end : app0_end + 2] == b"\xff\xe1"
    assert first.endswith(small[app0_end:])


def test_hostile_or_missing_exif_is_left_out_and_never_breaks_the_photo(tmp_path: Path) -> None:
    target = reencoded(camera_jpeg(640, 480, None, seed=5), long_side=320)
    no_exif = jpeg("no exif")
    # an IFD claiming 60,000 entries; a TIFF header that is not one; a segment cut short
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 60000)
    huge = (
        b"\xff\xd8"
        + b"\xff\xe1"
        + struct.pack(">H", 2 + 6 + len(tiff))
        + b"Exif\x00\x00"
        + tiff
        + b"\xff\xd9"
    )
    bad = b"\xff\xd8\xff\xe1\x00\x12Exif\x00\x00XX*\x00\x08\x00\x00\x00\xff\xd9"
    cut = b"\xff\xd8\xff\xe1\x40\x00Exif\x00\x00II*\x00"
    report, made = _run(tmp_path, [(no_exif, target), (huge, target), (bad, target), (cut, target)])
    assert [r["segment"] for r in report] == [None, None, None, None]
    assert made == [target] * 4
