"""Take a raw message apart: who sent it, whether a robot did, and its files as (safe name, bytes).

Everything here is untrusted text from the internet. Names are decoded (RFC 2047 and RFC 2231, GBK and
GB18030 as qq and 163 send them, UTF-8) and then made safe: a name is only ever shown and recorded,
never used as a path. Forwarded messages (message/rfc822) are opened, a zip of photos is opened within
limits, and what cannot be used (winmail.dat, a zip bomb, a file of no known kind) becomes a problem the
reply and the handling record name.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses

from functions.services.intake.attachments import safe_name as attachment_safe_name
from schemas.campaign import is_plain_address
from schemas.mail_intake import MailIntakeSettings

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Which parts of a mail are evidence files (photos, documents, video) by their names; the evidence entry
# (services/intake/attachments.py) then sniffs their bytes against the campaign's rules.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".heic", ".heif", ".tif", ".tiff")
DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".txt", ".ppt", ".pptx", ".odt", ".rtf")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".wmv", ".mkv", ".3gp", ".m4v", ".flv")
EVIDENCE_SUFFIXES = PHOTO_SUFFIXES + DOCUMENT_SUFFIXES + VIDEO_SUFFIXES
_INLINE_LOGO_BYTES = 20 * 1024
_MSGID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>$")  # printable ASCII, no < > or spaces


@dataclass(frozen=True)
class MailFile:
    """A file taken out of a message: a name safe to show and record, and its bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Problem:
    """Something in the mail that could not be used, for the reply and the organiser."""

    kind: str  # "winmail", "zip-limit", "zip-bad", "unknown-file"
    name: str
    detail: str = ""


@dataclass
class ReadMail:
    message_id: str  # the header's value when it is well formed, else a digest of the bytes
    message_id_header: str  # "" when the message had none usable (then no threading headers)
    sender: str  # the bare address of From (lower case), "" when none could be parsed
    sender_name: str
    subject: str  # decoded, one line
    references: list[str]
    auto: str  # why this is machine-sent ("" when a person sent it)
    workbooks: list[MailFile] = field(default_factory=list)
    evidence: list[MailFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    date: str = ""


def one_line(text: str, limit: int = 200) -> str:
    """Untrusted header text as one printable line: CR/LF and other controls gone (no header injection,
    no fake output line), bounded."""
    spaced = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(spaced.split())[:limit]


def safe_name(name: str, fallback: str) -> str:
    """A file name as people see it, with nothing that could act as a path or a control: the evidence
    entry's safe name, with the characters Windows refuses in names replaced too (the organiser saves
    these files)."""
    name = re.sub(r'[:*?"<>|]+', "_", attachment_safe_name(name, "")).strip(" .")
    return name or fallback


def _suffix(name: str) -> str:
    return ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot make sense of is treated as absent
        return ""
    return one_line(str(value)) if value is not None else ""


def _fix_mojibake(text: str) -> str:
    """A name sent as raw 8-bit GBK (no encoding declared, as some clients do) arrives as surrogate
    escapes: read those bytes as GB18030, which holds GBK."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    for codec in ("utf-8", "gb18030"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("gb18030", "replace")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # an unparsable parameter: the part is kept, under a neutral name
        return ""
    name = _fix_mojibake(str(name))
    if "\ufffd" in name:
        name = _raw_filename(part) or name
    if "=?" in name:
        # Some clients put an RFC 2047 word inside the quoted parameter (not allowed, common with qq).
        from email.header import decode_header, make_header

        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
    return name


_RAW_NAME = re.compile(r'(?:file)?name="([^"]+)"|(?:file)?name=([^;\s"]+)', re.IGNORECASE)


def _raw_filename(part: Message) -> str:
    """The name from the header's raw value: the parsers turn undeclared 8-bit bytes into U+FFFD, while
    the raw value keeps them (as surrogate escapes) for _fix_mojibake. Disposition first, then type."""
    raw = dict((k.lower(), v) for k, v in part.raw_items())
    for header in ("content-disposition", "content-type"):
        found = _RAW_NAME.search(str(raw.get(header, "")))
        if found:
            fixed = _fix_mojibake(found.group(1) or found.group(2))
            if fixed and "\ufffd" not in fixed:
                return fixed
    return ""


def auto_reason(msg: Message, sender: str) -> str:
    """Why a message was sent by a machine (never answered), or "" for a person's mail."""
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto[:40]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe"):
        if msg.get(name) is not None:
            return name
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    if msg.get_content_type() == "multipart/report":
        return "delivery report"
    local = sender.partition("@")[0]
    if local in ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"):
        return f"sender {local}"
    if _header(msg, "Return-Path") == "<>":
        return "Return-Path: <>"
    subject = _header(msg, "Subject").lower()
    if subject.startswith(("自动回复", "auto:", "automatic reply", "out of office", "autoreply", "退信")):
        return "auto-reply subject"
    return ""


def parse_bytes(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def read_headers(raw: bytes) -> ReadMail:
    """Who sent it, about what, whether a robot did: everything but the files."""
    msg = parse_bytes(raw)
    declared = _header(msg, "Message-ID").strip()
    usable = declared if _MSGID.match(declared) else ""
    message_id = usable or "<" + hashlib.sha256(raw).hexdigest()[:40] + "@no-message-id>"
    try:
        pairs = getaddresses([str(v) for v in msg.get_all("From", [])])
    except Exception:
        pairs = []
    name, addr = pairs[0] if pairs else ("", "")
    # Only a bare address that a header parses back to itself is ever answered (schemas.campaign).
    addr = addr.strip().lower() if is_plain_address(addr.strip()) else ""
    refs = [r for r in _header(msg, "References").split() if _MSGID.match(r)][-10:]
    return ReadMail(
        message_id=message_id,
        message_id_header=usable,
        sender=addr,
        sender_name=one_line(name, 80),
        subject=one_line(_header(msg, "Subject")),
        references=refs,
        auto=auto_reason(msg, addr),
        date=_header(msg, "Date"),
    )


def read_mail(raw: bytes, settings: MailIntakeSettings) -> ReadMail:
    """The headers and every usable file of a message; never raises for bad content."""
    mail = read_headers(raw)
    msg = parse_bytes(raw)
    if msg.get_content_type() == "multipart/report":
        # A bounce carries the bounced message: its files were the original sender's, not a submission.
        return mail
    _walk(msg, mail, settings)
    return mail


def _walk(msg: Message, mail: ReadMail, settings: MailIntakeSettings) -> None:
    # walk() descends into message/rfc822 parts too: the files of a forwarded message (an attached
    # mail, as qq's 转发 sends it) are the sender's files like any other.
    for part in msg.walk():
        if not part.is_multipart():
            _part(part, mail, settings)


def _part(part: Message, mail: ReadMail, settings: MailIntakeSettings) -> None:
    ctype = part.get_content_type()
    name = _filename(part)
    if not name:
        return  # the text of the mail, or an inline image of a signature: not a file the unit sent
    if part.get_content_disposition() == "inline" and part.get("Content-ID") and ctype.startswith("image/"):
        # A picture shown inside the mail's HTML: a signature's logo is small, a photo pasted in is not.
        data = part.get_payload(decode=True) or b""
        if isinstance(data, bytes) and len(data) < _INLINE_LOGO_BYTES:
            return
    number = len(mail.workbooks) + len(mail.evidence) + len(mail.problems) + 1
    shown = safe_name(name, f"attachment-{number}")
    try:
        data = part.get_payload(decode=True) or b""
    except Exception:
        data = b""
    suffix = _suffix(shown)
    if shown.lower() == "winmail.dat" or ctype == "application/ms-tnef":
        mail.problems.append(Problem("winmail", shown))
    elif suffix in WORKBOOK_SUFFIXES:
        mail.workbooks.append(MailFile(shown, data))
    elif suffix in EVIDENCE_SUFFIXES:
        mail.evidence.append(MailFile(shown, data))
    elif suffix == ".zip":
        _unzip(shown, data, mail, settings)
    else:
        mail.problems.append(Problem("unknown-file", shown))


def _unzip(name: str, data: bytes, mail: ReadMail, settings: MailIntakeSettings) -> None:
    """A zip of photos or documents, opened within the campaign's limits; nothing of it touches the disk.

    The limits are checked on the declared sizes first and again on what is actually read (a header may
    lie), so a zip bomb stops at the first limit crossed and nothing of that zip is kept.
    """
    total_limit = int(settings.zip_max_total_mb * 1024 * 1024)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > settings.zip_max_files:
                mail.problems.append(Problem("zip-limit", name, f"files>{settings.zip_max_files}"))
                return
            if sum(i.file_size for i in infos) > total_limit:
                mail.problems.append(Problem("zip-limit", name, f"size>{settings.zip_max_total_mb:g}MB"))
                return
            taken: list[MailFile] = []
            workbooks: list[MailFile] = []
            read_total = 0
            for info in infos:
                if (
                    info.file_size > settings.zip_max_ratio * max(info.compress_size, 1)
                    and info.file_size > 1 << 20
                ):
                    mail.problems.append(Problem("zip-limit", name, f"ratio>{settings.zip_max_ratio:g}"))
                    return
                with zf.open(info) as fh:
                    content = fh.read(info.file_size + 1)
                read_total += len(content)
                if len(content) > info.file_size or read_total > total_limit:
                    mail.problems.append(Problem("zip-limit", name, "declared size exceeded"))
                    return
                inner = safe_name(_zip_name(info), f"{name}-{len(taken) + 1}")
                suffix = _suffix(inner)
                if suffix in EVIDENCE_SUFFIXES:
                    taken.append(MailFile(inner, content))
                elif suffix in WORKBOOK_SUFFIXES:
                    workbooks.append(MailFile(inner, content))
                else:
                    mail.problems.append(Problem("unknown-file", f"{name}/{inner}"))
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        RuntimeError,
        OSError,
        EOFError,
    ) as exc:
        # Damaged, encrypted (RuntimeError) or an unsupported method: reported, never crashed on.
        mail.problems.append(Problem("zip-bad", name, type(exc).__name__))
        return
    mail.evidence.extend(taken)
    mail.workbooks.extend(workbooks)


def _zip_name(info: zipfile.ZipInfo) -> str:
    # Windows zip tools (and qq's) write names in GBK without the UTF-8 flag; zipfile reads them as cp437.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename
