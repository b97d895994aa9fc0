"""A reminder-shaped email (two parts, Cc and Bcc, a line starting with a dot) and a parser for what arrives."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

SENDER = "huizong@example.org"
USER, PASSWORD = "unit@example.org", "abcdefghijklmnop"  # an SMTP login; QQ/163 授权码 are 16 ASCII letters

SUBJECT = "【催报】武进区2022年全民终身学习活动周：请于11月24日前报送工作方案"


def mail_message(
    to: str = "school@example.org",
    bcc: str | None = "boss@example.org",
    message_id: str = "<remind-abc@x.org>",
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = SUBJECT
    msg["From"] = f"武进区社区教育委员会办公室 <{SENDER}>"
    msg["To"] = to
    msg["Cc"] = "Office <office@example.org>"
    if bcc:
        msg["Bcc"] = bcc
    msg["Message-ID"] = message_id
    msg["Date"] = "Wed, 23 Nov 2022 09:00:00 +0800"
    msg.set_content("您好，贵单位尚未报送工作方案。\n.这一行以点开头\n")
    msg.add_alternative("<p>您好，贵单位尚未报送<b>工作方案</b>。</p>", subtype="html")
    return msg


def parse_mail(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def outbox_mails(folder: Path) -> list[EmailMessage]:
    """Every .eml in an outbox folder, parsed as a mail client would, in file-name order."""
    return [parse_mail(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []
