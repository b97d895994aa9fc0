"""Mail as units really send it, built with the stdlib email package (no binary fixtures).

qq and 163 name attachments in GBK / GB18030 (RFC 2231 `filename*=gbk''…`, or an RFC 2047 word inside
the quoted name), forward messages as message/rfc822 attachments, and zip photos; Outlook sends
winmail.dat; robots send auto-replies and bounces.
"""

from __future__ import annotations

import base64
import io
import zipfile
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

# A tiny valid JPEG header is not needed: the intake takes photos by name and kind, not by decoding them.
PHOTO = b"\xff\xd8\xff\xe0" + b"photo" * 50


def _attachment(
    data: bytes, name: str, *, style: str = "rfc2231-gbk", ctype: str = "application/octet-stream"
) -> MIMEBase:
    maintype, subtype = ctype.split("/")
    part = MIMEBase(maintype, subtype)
    part.set_payload(data)
    encoders.encode_base64(part)
    if style == "rfc2231-gbk":
        part.add_header("Content-Disposition", "attachment", filename=("gbk", "", name))
    elif style == "rfc2231-utf8":
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
    elif style == "rfc2047-gb18030":
        # qq's way: an encoded word inside the quoted parameter (not standard, very common).
        word = "=?GB18030?B?" + base64.b64encode(name.encode("gb18030")).decode() + "?="
        part["Content-Disposition"] = f'attachment; filename="{word}"'
    else:
        part.add_header("Content-Disposition", "attachment", filename=name)
    return part


def unit_mail(
    *,
    sender: str,
    subject: str,
    message_id: str,
    files: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    style: str = "rfc2231-gbk",
    body: str = "您好，附件是我单位的报送材料，请查收。",
    headers: dict[str, str] | None = None,
    extra_parts: list[MIMEBase] = (),  # type: ignore[assignment]
) -> bytes:
    msg = MIMEMultipart()
    msg["From"] = f"{Header('联系人', 'gb18030').encode()} <{sender}>"
    msg["To"] = "wjsqjy@example.org"
    msg["Subject"] = Header(subject, "gb18030")
    msg["Message-ID"] = message_id
    msg["Date"] = "Sun, 20 Nov 2022 10:00:00 +0800"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.attach(MIMEText(body, "plain", "gbk"))
    for name, data in files:
        msg.attach(_attachment(data, name, style=style))
    for part in extra_parts:
        msg.attach(part)
    return msg.as_bytes()


def forwarded(inner: bytes, *, sender: str, subject: str, message_id: str) -> bytes:
    """A mail forwarding another as an attachment (message/rfc822), as qq's 作为附件转发 does."""
    import email

    msg = MIMEMultipart()
    msg["From"] = sender
    msg["To"] = "wjsqjy@example.org"
    msg["Subject"] = Header(subject, "utf-8")
    msg["Message-ID"] = message_id
    msg.attach(MIMEText("转发", "plain", "utf-8"))
    msg.attach(MIMEMessage(email.message_from_bytes(inner)))
    return msg.as_bytes()


def zip_of(files: list[tuple[str, bytes]], *, gbk_names: bool = True) -> bytes:
    """A zip as Windows tools write it: names in GBK without the UTF-8 flag (gbk_names), or UTF-8."""
    buf = io.BytesIO()
    swaps: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for number, (name, data) in enumerate(files):
            if gbk_names:
                # zipfile writes non-ASCII names as flagged UTF-8: an ASCII stand-in of the same length
                # is written and then replaced by the GBK bytes (the CRC does not cover names).
                wanted = name.encode("gbk")
                stand_in = f"{number:04d}".encode().ljust(len(wanted), b"~")
                swaps.append((stand_in, wanted))
                zf.writestr(stand_in.decode(), data)
            else:
                zf.writestr(name, data)
    raw = buf.getvalue()
    for stand_in, wanted in swaps:
        raw = raw.replace(stand_in, wanted)
    return raw


def winmail_part() -> MIMEBase:
    part = MIMEBase("application", "ms-tnef")
    part.set_payload(b"\x78\x9f\x3e\x22" + b"\x00" * 40)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    return part


def auto_reply(*, sender: str, message_id: str) -> bytes:
    msg = MIMEText("我现在休假，无法回复邮件。", "plain", "utf-8")
    msg["From"] = sender
    msg["To"] = "wjsqjy@example.org"
    msg["Subject"] = Header("自动回复：报送材料", "utf-8")
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-replied"
    return msg.as_bytes()
