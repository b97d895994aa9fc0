"""SMTP transport: an ordinary mailbox (QQ, 163, an Exchange relay) with SSL, STARTTLS or plain.

The reminder service needs to know whether a failed send may have reached the server: everything that
fails before the message body was handed over (connect, TLS, login, MAIL FROM, RCPT TO, a refused DATA
command) and an explicit 4xx/5xx answer to the body is MailRefused, and the claim is released for a
retry; losing the connection while the body is in flight or while waiting for the final reply is
MailUncertain and is never retried automatically, because the server may have queued it.
"""

from __future__ import annotations

import copy
import email.policy
import logging
import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import getaddresses

from functions.config.loading import ConfigError
from functions.ports import MailRefused, MailUncertain
from schemas.campaign import SmtpSettings
from schemas.i18n import Language, t

log = logging.getLogger(__name__)

# 7bit: non-ASCII bodies go out base64-encoded, so a server without 8BITMIME gets a valid message too.
_WIRE_POLICY = email.policy.SMTP.clone(cte_type="7bit")
# Only for non-ASCII addresses, which need a server that announces SMTPUTF8 anyway.
_WIRE_POLICY_UTF8 = email.policy.SMTPUTF8


def envelope_recipients(message: EmailMessage) -> list[str]:
    """To + Cc + Bcc, each address once (compared without case), in header order."""
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    seen: dict[str, str] = {}
    for _, addr in getaddresses(fields):
        if addr and addr.lower() not in seen:
            seen[addr.lower()] = addr
    return list(seen.values())


def needs_smtputf8(addresses: list[str]) -> bool:
    return not all(a.isascii() for a in addresses)


def wire_bytes(message: EmailMessage, *, utf8: bool = False) -> bytes:
    """The message as a server receives it: CRLF, encoded headers, and no Bcc (a blind copy stays blind)."""
    # A deep copy: the caller's message keeps its Bcc (the outbox and a retry still need it).
    clean = copy.deepcopy(message)
    del clean["Bcc"]
    return clean.as_bytes(policy=_WIRE_POLICY_UTF8 if utf8 else _WIRE_POLICY)


def _client_name() -> str:
    # smtplib's default (socket.getfqdn) may ask DNS and stall; submission servers accept any name.
    name = socket.gethostname()
    return name if name and name.isascii() else "localhost"


def _reply(code: int, text: bytes) -> str:
    return f"{code} {text.decode(errors='replace')}"


class SmtpMailer:
    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        *,
        env: Mapping[str, str],
        tls_context: ssl.SSLContext | None = None,
        language: Language = "zh",
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.language = language
        # The system's trusted CAs unless a context is given (tests trust their own certificate).
        self.tls_context = tls_context
        self._password = ""
        if settings.user:
            # Stripped: an authorisation code pasted with a trailing newline is the usual mistake.
            self._password = env.get(settings.password_env, "").strip()
            if not self._password:
                raise ConfigError([
                    t(self.language,
                        f"mail.smtp：用户 {settings.user} 需要密码，请设置环境变量 {settings.password_env}"
                        "（QQ、163 等邮箱请填写“授权码”，而不是登录密码）",
                        f"mail.smtp: user {settings.user} needs a password: set the environment variable "
                        f"{settings.password_env} (for QQ or 163 mail, the authorisation code)",
                    )
                ])  # fmt: skip
        if settings.user and settings.security == "none" and settings.host not in ("127.0.0.1", "localhost"):
            log.warning("SMTP password for %s would travel unencrypted to %s", settings.user, settings.host)

    def send(self, message: EmailMessage) -> str:
        recipients = envelope_recipients(message)
        if not recipients:
            raise MailRefused(t(self.language, "邮件没有收件人", "the message has no recipients"))
        utf8 = needs_smtputf8([self.sender, *recipients])
        data = wire_bytes(message, utf8=utf8)
        conn = self._connect()
        try:
            result = self._transact(conn, recipients, data, utf8, str(message.get("Message-ID", "")))
        except MailUncertain:
            # No QUIT: its reply could be confused with the late answer to the body.
            conn.close()
            raise
        except MailRefused:
            _quit_quietly(conn)
            raise
        # Some servers (QQ among them) answer QUIT with garbage or hang up; the message is already queued.
        _quit_quietly(conn)
        return result

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        context = self.tls_context or ssl.create_default_context()
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                conn = smtplib.SMTP_SSL(
                    s.host, s.port, local_hostname=_client_name(), timeout=s.timeout, context=context
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=_client_name(), timeout=s.timeout)
                if s.security == "starttls":
                    conn.starttls(context=context)
            conn.ehlo_or_helo_if_needed()
            if s.user:
                conn.login(s.user, self._password)
            return conn
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            raise MailRefused(
                t(
                    self.language,
                    f"SMTP 登录失败（{where}，{_reply(exc.smtp_code, exc.smtp_error)}）："
                    f"请检查用户名和环境变量 {s.password_env}（QQ、163 等邮箱需使用授权码）",
                    f"SMTP login failed ({where}, {_reply(exc.smtp_code, exc.smtp_error)}): check the user "
                    f"and {s.password_env}",
                )
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            _close(conn)
            raise MailRefused(
                t(
                    self.language,
                    f"SMTP 服务器 {where} 不支持所需功能（{exc}）：请检查 mail.smtp.security 与端口",
                    f"SMTP server {where} lacks a needed feature ({exc}): check mail.smtp.security and port",
                )
            ) from exc
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            # OSError covers refused connections, DNS failures, timeouts and TLS errors (ssl.SSLError).
            _close(conn)
            raise MailRefused(
                t(
                    self.language,
                    f"无法连接或登录 SMTP 服务器 {where}：{exc}",
                    f"cannot connect or log in to SMTP server {where}: {exc}",
                )
            ) from exc

    def _transact(
        self, conn: smtplib.SMTP, recipients: list[str], data: bytes, utf8: bool, message_id: str
    ) -> str:
        refused: dict[str, str] = {}
        try:
            options: list[str] = []
            if utf8:
                if not conn.has_extn("smtputf8"):
                    raise MailRefused(
                        t(
                            self.language,
                            "邮件地址含中文等非 ASCII 字符，但 SMTP 服务器不支持 SMTPUTF8",
                            "an address is not ASCII but the SMTP server does not support SMTPUTF8",
                        )
                    )
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            code, text = conn.mail(self.sender, options)
            if code != 250:
                raise MailRefused(
                    t(
                        self.language,
                        f"发件人 {self.sender} 被拒绝（{_reply(code, text)}）",
                        f"sender {self.sender} refused ({_reply(code, text)})",
                    )
                )
            accepted = []
            for rcpt in recipients:
                code, text = conn.rcpt(rcpt)
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    refused[rcpt] = _reply(code, text)
            if not accepted:
                conn.rset()
                detail = "; ".join(f"{r}: {why}" for r, why in refused.items())
                raise MailRefused(
                    t(self.language, f"收件人全部被拒绝：{detail}", f"every recipient refused: {detail}")
                )
            code, text = conn.docmd("DATA")
            if code != 354:
                raise MailRefused(
                    t(
                        self.language,
                        f"服务器拒绝接收邮件内容（{_reply(code, text)}）",
                        f"the server refused DATA ({_reply(code, text)})",
                    )
                )
        except (OSError, smtplib.SMTPException, UnicodeError) as exc:
            # Still before the body: nothing can have been queued.
            raise MailRefused(
                t(self.language, f"发送前连接中断：{exc}", f"connection lost before sending: {exc}")
            ) from exc
        try:
            # From here on the body is on the wire; only an explicit reply tells the outcome.
            conn.send(dot_stuffed(data))
            code, text = conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUncertain(
                t(
                    self.language,
                    f"发送邮件内容时连接中断，服务器可能已收到：{exc}",
                    f"connection lost while sending; the server may have the message: {exc}",
                )
            ) from exc
        if code == 250:
            note = ""
            if refused:
                note = t(self.language, " （部分收件人被拒：", " (refused: ") + ", ".join(refused) + ")"
            return (message_id or _reply(code, text)) + note
        if 400 <= code < 600:
            raise MailRefused(
                t(
                    self.language,
                    f"服务器拒收邮件（{_reply(code, text)}）",
                    f"the server rejected the message ({_reply(code, text)})",
                )
            )
        raise MailUncertain(
            t(
                self.language,
                f"服务器答复不明（{_reply(code, text)}）",
                f"unclear answer from the server ({_reply(code, text)})",
            )
        )


def _quit_quietly(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        conn.close()


def dot_stuffed(data: bytes) -> bytes:
    """The DATA body with CRLF line ends, leading dots doubled and the terminating line (RFC 5321 4.5.2)."""
    body = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if body.startswith(b"."):
        body = b"." + body
    body = body.replace(b"\r\n.", b"\r\n..")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
