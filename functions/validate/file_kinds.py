"""What a file is, from its bytes, and when a photo was taken, from its EXIF (issue 12 §4).

A unit's file name says nothing reliable (a .jpg that is a renamed .heic, a .doc that is a .docx), so
every evidence file is classified by its magic numbers. The EXIF reader is a small bounded parser of JPEG
APP1 segments and TIFF IFDs rather than Pillow: it needs two tags, reads at most a few hundred KB of one
file, and never decodes an image, so a hostile file costs nothing but a None.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# ISO base media brands (the `ftyp` box) of HEIF still images; QuickTime's is `qt  `; others are MP4s.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# OLE2 families: the stream name that marks each, and the WPS Office names of the same formats, which
# the bytes cannot tell apart (the extension decides between them, and only between them).
_OLE2_FAMILIES: tuple[tuple[str, bytes, tuple[str, ...]], ...] = (
    ("doc", "WordDocument".encode("utf-16-le"), ("doc", "wps")),
    ("xls", "Workbook".encode("utf-16-le"), ("xls", "et")),
    ("xls", "Book".encode("utf-16-le"), ("xls", "et")),
    ("ppt", "PowerPoint Document".encode("utf-16-le"), ("ppt", "dps")),
)
_OOXML_FOLDERS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
# The zip's directory is read (names only, nothing decompressed); a bomb of entries is cut short.
_MAX_ZIP_ENTRIES = 10_000


def sniff(data: bytes, name: str = "") -> str | None:
    """The kind of `data` (one of schemas.attachments.FILE_KINDS), or None when it is none of them.

    `name` is only consulted between formats whose bytes are the same family (doc/wps, xls/et, ppt/dps).
    """
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and len(head) >= 12:
        return {b"WEBP": "webp", b"AVI ": "avi"}.get(head[8:12])
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tif"
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "mov"
        if brand in _HEIF_BRANDS:
            return "heic"
        if brand in (b"avif", b"avis", b"crx "):
            return None  # images and raws no rule can name
        return "mp4"
    if head.startswith(_OLE2):
        return _ole2_kind(data, name)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return None


def _ole2_kind(data: bytes, name: str) -> str | None:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for kind, marker, names in _OLE2_FAMILIES:
        if marker in data:
            return ext if ext in names else kind
    return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for i, info in enumerate(z.infolist()):
                if i >= _MAX_ZIP_ENTRIES:
                    break
                for folder, kind in _OOXML_FOLDERS:
                    if info.filename.startswith(folder):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        pass  # damaged, or a zip version or feature Python cannot read: still a zip by its magic
    return "zip"


# ---- EXIF --------------------------------------------------------------------------------------------

_JPEG_SCAN_LIMIT = 512 * 1024  # APP1 comes first; a camera never puts it beyond this
_MAX_SEGMENTS = 64
_MAX_IFD_ENTRIES = 512
_EXIF_IFD_POINTER = 0x8769
_DATE_TIME_ORIGINAL = 0x9003
_DATE_TIME_DIGITIZED = 0x9004


def exif_taken(data: bytes) -> dt.datetime | None:
    """EXIF DateTimeOriginal (else DateTimeDigitized) of a JPEG or TIFF, as the camera wrote it (local
    time, no zone); None when absent, malformed or not a plausible date."""
    try:
        if data.startswith(b"\xff\xd8"):
            tiff = _jpeg_exif(data)
        elif data.startswith((b"II*\x00", b"MM\x00*")):
            tiff = data[:_JPEG_SCAN_LIMIT]
        else:
            return None
        return _tiff_taken(tiff) if tiff is not None else None
    except (struct.error, IndexError, ValueError):
        return None


def _jpeg_exif(data: bytes) -> bytes | None:
    pos = 2
    end = min(len(data), _JPEG_SCAN_LIMIT)
    for _ in range(_MAX_SEGMENTS):
        if pos + 4 > end or data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata after this
            return None
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2:
            return None
        body = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            return body[6:]
        pos += 2 + length
    return None


def _tiff_taken(tiff: bytes) -> dt.datetime | None:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        return None
    (ifd0,) = struct.unpack(order + "I", tiff[4:8])
    entries = _ifd(tiff, order, ifd0)
    pointer = entries.get(_EXIF_IFD_POINTER)
    if pointer is None or pointer[0] not in (4, 13):  # LONG or IFD
        return None
    exif = _ifd(tiff, order, _unsigned(tiff, order, pointer))
    for tag in (_DATE_TIME_ORIGINAL, _DATE_TIME_DIGITIZED):
        found = exif.get(tag)
        if found is not None and found[0] == 2:  # ASCII
            taken = _parse_exif_date(_ascii(tiff, order, found))
            if taken is not None:
                return taken
    return None


# tag -> (type, count, the 4 value-or-offset bytes)
_Entry = tuple[int, int, bytes]


def _ifd(tiff: bytes, order: str, offset: int) -> dict[int, _Entry]:
    if offset < 8 or offset + 2 > len(tiff):
        return {}
    (count,) = struct.unpack(order + "H", tiff[offset : offset + 2])
    out: dict[int, _Entry] = {}
    for i in range(min(count, _MAX_IFD_ENTRIES)):
        at = offset + 2 + 12 * i
        if at + 12 > len(tiff):
            break
        tag, kind, n = struct.unpack(order + "HHI", tiff[at : at + 8])
        out.setdefault(tag, (kind, n, tiff[at + 8 : at + 12]))
    return out


def _unsigned(tiff: bytes, order: str, entry: _Entry) -> int:
    return int(struct.unpack(order + "I", entry[2])[0])


def _ascii(tiff: bytes, order: str, entry: _Entry) -> str:
    _, n, raw = entry
    n = min(n, 64)  # a date is 20 bytes; nothing longer is read
    if n <= 4:
        value = raw[:n]
    else:
        (offset,) = struct.unpack(order + "I", raw)
        value = tiff[offset : offset + n]
    return value.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


def _parse_exif_date(text: str) -> dt.datetime | None:
    # "YYYY:MM:DD HH:MM:SS"; cameras without a clock write zeros or blanks.
    try:
        taken = dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    return taken if 1990 <= taken.year <= 2100 else None
