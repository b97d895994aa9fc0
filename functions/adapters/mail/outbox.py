"""The default transport: every message becomes an .eml file in a folder, and nothing leaves the machine.

An organiser who has not configured a mail server gets reminders they can open in any mail client and
send by hand, so "nothing is sent by accident". The file name is derived from the Message-ID, which
the composer makes deterministic per claim: writing the same message twice keeps one file. Bcc is kept
in the file: whoever sends it by hand needs to see it.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from functions.atomic_file import write_atomically
from functions.ports import MailRefused
from schemas.i18n import Language, t

_HASH_CHARS = 12


def message_key(message: EmailMessage, data: bytes) -> str:
    """A short stable name for a message: its Message-ID, or its bytes when it has none."""
    message_id = str(message.get("Message-ID", "")).strip()
    source = message_id.encode() if message_id else data
    return hashlib.sha256(source).hexdigest()[:_HASH_CHARS]


def _stamp(message: EmailMessage) -> str:
    """When the message was composed (its Date), so file names sort the way the mails were written."""
    when: dt.datetime | None = None
    raw = message.get("Date")
    if raw:
        try:
            when = parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            when = None
    return (when or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")


class OutboxMailer:
    """Writes <folder>/<YYYYmmdd-HHMMSS>-<hash of Message-ID>.eml; returns the path as the transport id."""

    def __init__(self, folder: Path, *, language: Language = "zh") -> None:
        self.folder = folder
        self.language = language

    def existing(self, key: str) -> Path | None:
        found = sorted(self.folder.glob(f"*-{key}.eml"))
        return found[0] if found else None

    def send(self, message: EmailMessage) -> str:
        # SMTP policy: CRLF line ends and RFC 2047 headers, exactly what a server would have received.
        data = message.as_bytes(policy=email.policy.SMTP)
        key = message_key(message, data)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # The time part of the name can differ between two writes of the same message (Date is
            # "now" at composition), so a repeat is recognised by the hash alone.
            already = self.existing(key)
            if already is not None:
                return str(already)
            target = self.folder / f"{_stamp(message)}-{key}.eml"
            write_atomically(target, data)
        except OSError as exc:
            # Nothing was written where a reader would look (the temp file is not an .eml): a retry is safe.
            raise MailRefused(
                t(
                    self.language,
                    f"无法写入发件箱 {self.folder}：{exc}",
                    f"cannot write to outbox {self.folder}: {exc}",
                )
            ) from exc
        return str(target)
