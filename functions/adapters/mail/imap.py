"""The units' mailbox over IMAP (imaplib): read by UID, move or flag what was handled.

Messages are read with BODY.PEEK so a message huizong leaves for the organiser stays unread in their
mail client. Folder names are sent in IMAP's modified UTF-7 (RFC 3501 §5.1.3): qq and 163 users name
folders in Chinese.
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from functions.ports import MailboxError, MailboxMessage, Settled
from schemas.i18n import Language, t
from schemas.mail_intake import MailIntakeSettings

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def utf7_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7: ASCII as is (& as &-), other runs as &base64(UTF-16)-."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            data = "".join(run).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def _quoted(name: str) -> str:
    encoded = utf7_folder(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One folder of one IMAP account, opened at construction (MailboxError when it cannot be)."""

    def __init__(
        self,
        settings: MailIntakeSettings,
        *,
        env: Mapping[str, str],
        language: Language,
        ssl_context: ssl.SSLContext | None = None,
        connect: Callable[[], imaplib.IMAP4] | None = None,
    ) -> None:
        """`connect` opens the connection instead of host/port/security (a scripted server in tests)."""
        self.settings = settings
        self._lang = language
        password = env.get(settings.password_env, "")
        if not password:
            raise MailboxError(
                t(
                    language,
                    f"没有邮箱密码：请在环境变量 {settings.password_env} 中填写邮箱的授权码（qq/163 邮箱在"
                    "“设置 → 账户”中开启 IMAP 后生成）。",
                    f"No mailbox password: put the mailbox's password (qq/163: the authorisation code made "
                    f"when IMAP is switched on) in the environment variable {settings.password_env}.",
                )
            )
        where = f"{settings.host}:{settings.port}"
        try:
            if connect is not None:
                self._imap = connect()
            elif settings.security == "ssl":
                context = ssl_context or ssl.create_default_context()
                self._imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host, settings.port, ssl_context=context, timeout=settings.timeout
                )
            else:
                self._imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
                if settings.security == "starttls":
                    self._imap.starttls(ssl_context or ssl.create_default_context())
            self._imap.login(settings.user, password)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
            raise MailboxError(
                t(
                    language,
                    f"无法登录邮箱 {settings.user}（{where}）：{exc}。请检查 mail_intake 的 host、port、"
                    f"security、user，以及 {settings.password_env} 中的授权码。",
                    f"Cannot log in to {settings.user} at {where}: {exc}. Check mail_intake's host, port, "
                    f"security and user, and the password in {settings.password_env}.",
                )
            ) from None
        status, _ = self._imap.select(_quoted(settings.folder))
        if status != "OK":
            raise MailboxError(
                t(
                    language,
                    f"邮箱中没有文件夹“{settings.folder}”：请检查 mail_intake.folder。",
                    f"The mailbox has no folder '{settings.folder}': check mail_intake.folder.",
                )
            )
        self._created: set[str] = set()
        self._capabilities = self._after_login_capabilities()

    def _after_login_capabilities(self) -> set[str]:
        """What the server can do once logged in. imaplib keeps the greeting's list, and servers (Dovecot,
        and many hosted ones) announce MOVE and UIDPLUS only after login, so it is asked again (RFC 3501
        §6.1.1); a server that will not answer keeps the greeting's list."""
        greeting = {str(c).upper() for c in self._imap.capabilities}
        try:
            status, data = self._imap.capability()
        except (OSError, imaplib.IMAP4.error):
            return greeting
        if status != "OK":
            return greeting
        words = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace").upper().split()
        return set(words) or greeting

    def _call(self, *args: str) -> list[bytes | tuple[bytes, bytes]]:
        try:
            status, data = self._imap.uid(*args)
        except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"IMAP UID {args[0]}: {exc}") from None
        if status != "OK":
            raise MailboxError(f"IMAP UID {args[0]}: {status} {data!r}")
        return data  # type: ignore[return-value]

    def _plain(self, name: str, *args: str) -> tuple[str, list[Any]]:
        """A non-UID command; a dropped connection or a protocol error becomes MailboxError."""
        try:
            status, data = getattr(self._imap, name)(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxError(f"IMAP {name.upper()}: {exc}") from None
        return status, data

    def uidvalidity(self) -> int:
        status, data = self._plain("status", _quoted(self.settings.folder), "(UIDVALIDITY)")
        found = _UIDVALIDITY.search(b" ".join(d for d in data if isinstance(d, bytes)))
        if status != "OK" or found is None:
            raise MailboxError(f"IMAP STATUS UIDVALIDITY: {status} {data!r}")
        return int(found.group(1))

    def fetch_after(self, uid: int, *, max_bytes: int) -> Iterator[MailboxMessage]:
        found = self._call("SEARCH", f"UID {uid + 1}:*")
        # "n:*" always matches the last message, even when its UID is below n: filtered here.
        uids = sorted({int(u) for u in b" ".join(x for x in found if isinstance(x, bytes)).split()})
        for current in (u for u in uids if u > uid):
            data = self._call("FETCH", str(current), "(RFC822.SIZE INTERNALDATE)")
            head = b" ".join(x if isinstance(x, bytes) else x[0] for x in data if x)
            size_match = _SIZE.search(head)
            size = int(size_match.group(1)) if size_match else 0
            # When the server received it: the Date header is the sender's to choose, this is not.
            stamp = imaplib.Internaldate2tuple(head)
            received = dt.datetime.fromtimestamp(time.mktime(stamp), tz=dt.UTC) if stamp else None
            truncated = size > max_bytes
            part = "BODY.PEEK[HEADER]" if truncated else "BODY.PEEK[]"
            body = self._call("FETCH", str(current), f"({part})")
            raw = next((x[1] for x in body if isinstance(x, tuple)), b"")
            yield MailboxMessage(uid=current, size=size, raw=raw, truncated=truncated, received_at=received)

    def settle(self, uid: int, how: str) -> Settled:
        if how == "left":
            return "left"
        folder = self.settings.handled_folder if how == "handled" else self.settings.oversized_folder
        self._call("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen \\Flagged)")
        if not folder:
            return "flagged"
        quoted = _quoted(folder)
        if folder not in self._created:
            # CREATE of an existing folder fails harmlessly; its answer is not needed.
            self._plain("create", quoted)
            self._created.add(folder)
        capabilities = self._capabilities
        if "MOVE" in capabilities:
            self._call("MOVE", str(uid), quoted)
            return "moved"
        self._call("COPY", str(uid), quoted)
        self._call("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in capabilities:
            # UID EXPUNGE (RFC 4315) removes this message only.
            self._call("EXPUNGE", str(uid))
            return "moved"
        # Without UIDPLUS the copy stays marked \Deleted in the folder: a plain EXPUNGE would also remove
        # what the organiser deleted and has not expunged yet. Their client removes it with the rest; the
        # run's output says so (functions/cli/mail_cmds.py).
        return "marked-deleted"

    def close(self) -> None:
        try:
            # LOGOUT only: CLOSE would expunge every \Deleted message of the folder, the organiser's too.
            self._imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass  # the connection is gone either way
