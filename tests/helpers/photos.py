"""Camera-sized photos for the downscaling tests (issue 14 §5), made with Pillow and measured with it.

`camera_jpeg` writes what a phone writes: a JPEG thousands of pixels wide, megabytes large, with an EXIF
block (little-endian, as Pillow writes it; tests/helpers/evidence.py writes big-endian ones) holding
DateTimeOriginal, an Orientation and the pixel sizes. `copy_exif` does to bytes what
functions/web/static/photos.js does in the browser (copy the original's APP1 Exif segment into the
re-encoded JPEG after SOI/JFIF, Orientation 1, new pixel sizes), written independently here so the server
side can be tested without a browser; the node test runs the script's own functions on the same files.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct

from PIL import Image, ImageOps

TAG_ORIENTATION, TAG_EXIF_IFD, TAG_DATE_TAKEN = 0x0112, 0x8769, 0x9003
TAG_PIXEL_X, TAG_PIXEL_Y = 0xA002, 0xA003


def camera_jpeg(
    width: int,
    height: int,
    taken: dt.datetime | None,
    *,
    orientation: int = 1,
    seed: int = 0,
    quality: int = 92,
) -> bytes:
    """A `width`×`height` JPEG (as stored, before any rotation) of smooth noise, so it compresses like a
    photo (a few MB at 3000×2000) and differs per `seed`; EXIF with the date and `orientation`."""
    rng = random.Random(seed)
    small = Image.frombytes(
        "RGB",
        (width // 16, height // 16),
        bytes(rng.randrange(256) for _ in range(width // 16 * height // 16 * 3)),
    )
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    # fine grain on top, as a sensor's noise: what keeps a real photo from compressing to nothing
    grain = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, grain, 0.25)
    exif = Image.Exif()
    exif[TAG_ORIENTATION] = orientation
    exif[0x010F] = "HUAWEI"  # Make: a string tag before the pointer, as cameras write
    if taken is not None:
        ifd = exif.get_ifd(TAG_EXIF_IFD)
        ifd[TAG_DATE_TAKEN] = taken.strftime("%Y:%m:%d %H:%M:%S")
        ifd[TAG_PIXEL_X] = width
        ifd[TAG_PIXEL_Y] = height
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def reencoded(data: bytes, long_side: int = 2048, quality: int = 85) -> bytes:
    """What a canvas gives back: the photo turned upright, at most `long_side` px long, JPEG with JFIF and
    no EXIF."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    image.thumbnail((long_side, long_side))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def exif_of(data: bytes) -> tuple[int | None, str | None, tuple[int | None, int | None]]:
    """(Orientation, DateTimeOriginal, (PixelXDimension, PixelYDimension)) as Pillow reads them."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        ifd = exif.get_ifd(TAG_EXIF_IFD)
        return (
            exif.get(TAG_ORIENTATION),
            ifd.get(TAG_DATE_TAKEN),
            (ifd.get(TAG_PIXEL_X), ifd.get(TAG_PIXEL_Y)),
        )


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, offset, length incl. the length bytes) of each segment before the scan."""
    out = []
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        out.append((data[pos + 1], pos, length))
        pos += 2 + length
    return out


def copy_exif(original: bytes, target: bytes) -> bytes:
    """`target` with `original`'s APP1 Exif segment inserted after SOI (after a JFIF APP0 that follows it),
    its Orientation set to 1 and its pixel sizes to `target`'s."""
    width, height = size_of(target)
    app1 = next(
        original[at : at + 2 + n]
        for marker, at, n in _segments(original)
        if marker == 0xE1 and original[at + 4 : at + 10] == b"Exif\x00\x00"
    )
    seg = bytearray(app1)
    tiff = 10
    order = "<" if seg[tiff : tiff + 2] == b"II" else ">"

    def entries(ifd: int) -> list[int]:
        (count,) = struct.unpack(order + "H", seg[tiff + ifd : tiff + ifd + 2])
        return [tiff + ifd + 2 + 12 * i for i in range(count)]

    (ifd0,) = struct.unpack(order + "I", seg[tiff + 4 : tiff + 8])
    exif_ifd = None
    for at in entries(ifd0):
        tag, kind = struct.unpack(order + "HH", seg[at : at + 4])
        if tag == TAG_ORIENTATION and kind == 3:
            seg[at + 8 : at + 10] = struct.pack(order + "H", 1)
        if tag == TAG_EXIF_IFD:
            (exif_ifd,) = struct.unpack(order + "I", seg[at + 8 : at + 12])
    for at in entries(exif_ifd) if exif_ifd else []:
        tag, kind = struct.unpack(order + "HH", seg[at : at + 4])
        size = {TAG_PIXEL_X: width, TAG_PIXEL_Y: height}.get(tag)
        if size is not None:
            seg[at + 8 : at + 12] = struct.pack(
                order + ("HH" if kind == 3 else "I"), *((size, 0) if kind == 3 else (size,))
            )
    found = _segments(target)
    at = found[0][1] + 2 + found[0][2] if found and found[0][0] == 0xE0 else 2
    return target[:at] + bytes(seg) + target[at:]


def camera_png(width: int, height: int, *, seed: int = 0) -> bytes:
    """A PNG screenshot-sized picture (no EXIF, as PNGs from phones have none)."""
    with Image.open(io.BytesIO(camera_jpeg(width, height, None, seed=seed))) as image:
        out = io.BytesIO()
        image.save(out, "PNG")
        return out.getvalue()


def heic_like(size: int, *, seed: int = 0) -> bytes:
    """Bytes a HEIC photo starts with (its ftyp box, brand heic) padded to `size`: what the server sniffs
    as heic and chromium cannot decode, so the browser must send it unchanged."""
    head = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return head + random.Random(seed).randbytes(size - len(head))
