"""Evidence files are told by their bytes, and a photo's EXIF date is read by a bounded parser."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

import pytest

from functions.services.setup.evidence_samples import sample_docx, sample_jpeg
from functions.validate.file_kinds import exif_taken, sniff
from tests.helpers.evidence import docx, jpeg, mp4
from tests.helpers.xlsx_parts import zip_needing_version

TAKEN = dt.datetime(2022, 12, 3, 14, 5, 9)


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for n in names:
            z.writestr(n, b"x")
    return buffer.getvalue()


def _ftyp(brand: bytes) -> bytes:
    return struct.pack(">I", 20) + b"ftyp" + brand + b"\x00\x00\x00\x00" + brand


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (jpeg("a"), "photo.png", "jpg"),  # the name lies; the bytes decide
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "x.jpg", "png"),
        (b"GIF89a" + b"\x00" * 10, "", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "", "webp"),
        (b"%PDF-1.7\n", "方案.docx", "pdf"),
        (docx("方案"), "方案.pdf", "docx"),
        (_zip("xl/workbook.xml"), "", "xlsx"),
        (_zip("ppt/presentation.xml"), "", "pptx"),
        (_zip("photos/1.jpg"), "", "zip"),
        (OLE2 + "WordDocument".encode("utf-16-le"), "方案.doc", "doc"),
        (OLE2 + "WordDocument".encode("utf-16-le"), "方案.wps", "wps"),  # WPS's own name for the same bytes
        (OLE2 + "WordDocument".encode("utf-16-le"), "方案.xls", "doc"),  # but not another family's name
        (OLE2 + "Workbook".encode("utf-16-le"), "a.et", "et"),
        (_ftyp(b"qt  "), "", "mov"),
        (_ftyp(b"heic"), "IMG_1.JPG", "heic"),
        (_ftyp(b"mif1"), "", "heic"),
        (mp4("v"), "", "mp4"),
        (b"just some text", "photo.jpg", None),
        (b"", "empty.jpg", None),
        (OLE2, "unknown.doc", None),  # OLE2 without a known stream
    ],
)
def test_kinds_come_from_the_bytes(data: bytes, name: str, kind: str | None) -> None:
    assert sniff(data, name) == kind


def test_exif_date_in_both_byte_orders() -> None:
    assert exif_taken(jpeg("big-endian", TAKEN)) == TAKEN  # MM, written by the test helper
    assert exif_taken(sample_jpeg("little-endian", TAKEN)) == TAKEN  # II, written by the demo's builder
    assert exif_taken(jpeg("no exif")) is None
    assert exif_taken(docx("x")) is None


def test_the_demo_samples_are_what_they_claim() -> None:
    assert sniff(sample_jpeg("x")) == "jpg"
    assert sniff(sample_docx("工作总结"), "总结.docx") == "docx"
    with zipfile.ZipFile(io.BytesIO(sample_docx("工作总结"))) as z:
        assert "工作总结" in z.read("word/document.xml").decode("utf-8")


def _with_date(text: bytes) -> bytes:
    good = jpeg("d", TAKEN)
    return good.replace(TAKEN.strftime("%Y:%m:%d %H:%M:%S").encode(), text)


@pytest.mark.parametrize(
    "data",
    [
        _with_date(b"0000:00:00 00:00:00"),  # a camera without a clock
        _with_date(b"1800:01:01 00:00:00"),
        _with_date(b"2022:13:45 99:00:00"),
        jpeg("d", TAKEN)[:40],  # cut inside the EXIF block
        b"\xff\xd8" + b"\xff\xe1\x00\x01",  # a segment length shorter than itself
        b"\xff\xd8\xff\xe1\xff\xff" + b"Exif\x00\x00MM\x00*\xff\xff\xff\xf0",  # IFD offset past the end
        b"\xff\xd8" + b"\xff\xfe\x00\x04ab" * 100 + jpeg("late", TAKEN)[2:],  # EXIF after 64 segments
        b"II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 40,  # 65535 entries claimed, none there
    ],
)
def test_malformed_or_implausible_exif_is_none_never_an_exception(data: bytes) -> None:
    assert exif_taken(data) is None


def test_an_exif_ifd_pointer_to_itself_does_not_loop() -> None:
    # IFD0's Exif pointer points back at IFD0: read once, no date, no recursion.
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 8)
    tiff += struct.pack("<I", 0)
    data = b"\xff\xd8" + struct.pack(">BBH", 0xFF, 0xE1, len(tiff) + 8) + b"Exif\x00\x00" + tiff + b"\xff\xd9"
    assert exif_taken(data) is None


def test_a_zip_python_cannot_open_is_still_a_zip_not_a_crash() -> None:
    assert sniff(zip_needing_version(docx("方案")), "方案.docx") == "zip"
