"""The console's evidence-file rules that need no server: names fit for a header, what shows inline."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from functions.services.console.evidence_files import (
    INLINE_MAX_BYTES,
    content_disposition,
    download_name,
    media_type,
    shows_inline,
    size_text,
)
from tests.helpers.store import attachment_ref


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("活动照片.jpg", "jpg", "活动照片.jpg"),
        ("活动照片.JPG", "jpg", "活动照片.JPG"),
        ("其实是heic.jpg", "heic", "其实是heic.heic"),  # the bytes decide the extension
        ("没有扩展名", "docx", "没有扩展名.docx"),
        ("../../etc/passwd", None, "passwd"),
        ("..\\boot.ini", None, "boot.ini"),
        ('a"b\r\nX-Evil: 1.pdf', "pdf", "a_b__X-Evil_ 1.pdf"),
        ("", "pdf", "file.pdf"),
        (".hidden.docx", "docx", "hidden.docx"),
    ],
)
def test_a_download_name_is_one_safe_component_with_the_sniffed_extension(
    name: str, kind: str | None, expected: str
) -> None:
    assert download_name(name, kind) == expected


def test_a_long_name_is_bounded_and_keeps_its_extension() -> None:
    got = download_name("照" * 500 + ".jpg", "jpg")
    assert len(got) <= 120 and got.endswith(".jpg")


def test_the_disposition_carries_an_ascii_fallback_and_the_utf8_name() -> None:
    header = content_disposition("总结 终稿;.docx", inline=False)
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and ";" not in fallback and " " not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == "总结 终稿;.docx"
    assert content_disposition("a.jpg", inline=True).startswith("inline;")


def test_only_browser_images_under_the_cap_show_inline() -> None:
    assert shows_inline(attachment_ref("photos", b"x", kind="jpg", name="a.jpg"))
    assert shows_inline(attachment_ref("photos", b"x", kind="webp", name="a.webp"))
    assert not shows_inline(attachment_ref("photos", b"x", kind="heic", name="a.heic"))
    assert not shows_inline(attachment_ref("doc", b"x", kind="pdf", name="a.pdf"))
    big = attachment_ref("photos", b"x", kind="png", name="a.png").model_copy(
        update={"size": INLINE_MAX_BYTES + 1}
    )
    assert not shows_inline(big)


def test_types_and_sizes() -> None:
    assert media_type("jpg") == "image/jpeg" and media_type("heic") == "image/heic"
    assert media_type(None) == media_type("wps") == "application/octet-stream"
    assert (size_text(512), size_text(2048), size_text(3 * 1024 * 1024)) == ("512 B", "2 KB", "3.0 MB")
