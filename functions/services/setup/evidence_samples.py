"""Small real evidence files for `huizong demo`: a JPEG with an EXIF date and a one-paragraph .docx.

Built byte by byte (no imaging library): an 8×8 grey baseline JPEG any viewer opens, with an APP1 EXIF
block holding DateTimeOriginal, and a COM segment with a label so that two photos differ in content.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from xml.sax.saxutils import escape


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def _exif(taken: dt.datetime) -> bytes:
    # Little-endian TIFF: IFD0 holds only the Exif IFD pointer; the Exif IFD holds DateTimeOriginal.
    date = taken.strftime("%Y:%m:%d %H:%M:%S").encode("ascii") + b"\x00"
    exif_ifd = 8 + 2 + 12 + 4
    date_at = exif_ifd + 2 + 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, exif_ifd) + struct.pack("<I", 0)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(date), date_at) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + tiff + date


def sample_jpeg(label: str, taken: dt.datetime | None = None) -> bytes:
    """An 8×8 mid-grey JPEG (one block: DC 0, end of block), with EXIF when `taken` is given."""
    out = b"\xff\xd8"
    if taken is not None:
        out += _segment(0xE1, _exif(taken))
    out += _segment(0xFE, label.encode("utf-8")[:200])
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    out += _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
    one_code = b"\x01" + b"\x00" * 15 + b"\x00"  # one code of length 1, for symbol 0
    out += _segment(0xC4, b"\x00" + one_code)  # DC: category 0
    out += _segment(0xC4, b"\x10" + one_code)  # AC: end of block
    out += _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return out + b"\x3f\xff\xd9"  # bits 0 (DC) 0 (EOB), padded with ones


def sample_docx(text: str) -> bytes:
    """A minimal Word document (the three parts Word needs) holding one paragraph."""
    body = escape(text)
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>"
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, xml in parts.items():
            # A fixed time: the same text makes the same bytes (so the demo's files are stable).
            info = zipfile.ZipInfo(name, date_time=(2022, 1, 1, 0, 0, 0))
            z.writestr(info, xml.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
