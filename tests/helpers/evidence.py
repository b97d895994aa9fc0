"""Evidence files for tests (issue 12 §4): real JPEGs with EXIF, a real .docx, and the issue's rules.

The JPEG is written here independently of the demo's builder (functions/services/setup/evidence_samples)
and in the other byte order (big-endian "MM" TIFF), so the EXIF reader is tested on bytes it did not
make itself.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from pathlib import Path

# The issue's example, on the summary: a 工作方案 (exactly one), 4–5 photos, a video unless photos.
ISSUE_RULES_YAML = """    attachments:
      - {key: plan_doc, label_zh: 工作方案, label_en: Work plan, types: [docx, pdf, wps], min: 1, max: 1, max_mb: 20}
      - {key: photos, label_zh: 活动照片, label_en: Photos, types: [jpg, jpeg, png, heic], min: 4, max: 5}
      - {key: video, label_zh: 活动视频, label_en: Video, types: [mp4, mov], max_mb: 500, required_unless: photos}
"""


def with_issue_rules(folder: Path) -> Path:
    """Replace the example summary's attachment rules with the issue's example."""
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("      - {key: summary_doc")
    block_start = text.rindex("    attachments:\n", 0, start)
    end = text.index("\n", text.index("      - {key: video")) + 1
    path.write_text(text[:block_start] + ISSUE_RULES_YAML + text[end:], encoding="utf-8")
    return folder


def jpeg(label: str, taken: dt.datetime | None = None, *, extra: bytes = b"") -> bytes:
    """A baseline 8×8 grey JPEG; EXIF DateTimeOriginal (big-endian TIFF) when `taken` is given."""

    def seg(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    out = b"\xff\xd8"
    if taken is not None:
        date = taken.strftime("%Y:%m:%d %H:%M:%S").encode() + b"\x00"
        # IFD0 at 8 with two entries (an orientation first, so the pointer is not the only tag).
        ifd0 = struct.pack(">H", 2)
        ifd0 += struct.pack(">HHI", 0x0112, 3, 1) + struct.pack(">HH", 1, 0)
        exif_at = 8 + 2 + 2 * 12 + 4
        ifd0 += struct.pack(">HHII", 0x8769, 4, 1, exif_at) + struct.pack(">I", 0)
        date_at = exif_at + 2 + 12 + 4
        exif = (
            struct.pack(">H", 1) + struct.pack(">HHII", 0x9003, 2, len(date), date_at) + struct.pack(">I", 0)
        )
        tiff = b"MM\x00*" + struct.pack(">I", 8) + ifd0 + exif + date
        out += seg(0xE1, b"Exif\x00\x00" + tiff)
    out += seg(0xFE, label.encode("utf-8") + extra)
    out += seg(0xDB, b"\x00" + b"\x02" * 64)
    out += seg(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
    table = b"\x01" + b"\x00" * 15 + b"\x00"
    out += seg(0xC4, b"\x00" + table) + seg(0xC4, b"\x10" + table)
    out += seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return out + b"\x3f\xff\xd9"


def docx(text: str) -> bytes:
    """A .docx with one paragraph (what sniffing looks at: a zip holding word/)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr(
            "word/document.xml",
            f"<w:document><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def mp4(label: str) -> bytes:
    """The start of an MP4 (its ftyp box), enough for sniffing."""
    return struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isommp41" + label.encode()


def safe_listing(folder: Path) -> list[str]:
    """Every path under `folder`, relative, for asserting nothing was written outside a place."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
