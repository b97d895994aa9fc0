"""SMTP transport: an ordinary mailbox (QQ, 163, an Exchange relay) with SSL, STARTTLS or plain.

The reminder service needs to know whether a failed send may have reached the server: everything that
fails before the message body was handed over (connect, TLS, login, MAIL FROM, RCPT TO, a refused DATA
command, an explicit rejection of the body) is MailRefused and the claim is released for a retry;
losing the connection while the body is in flight or waiting for the final reply is MailUncertain and is
never retried automatically, because the server may have queued it.
"""

from __future__ import annotations

import copy
import email.policy
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import getaddresses

from functions.ports import MailRefused, MailUncertain
from schemas.campaign import SmtpSettings


def envelope_recipients(message: EmailMessage) -> list[str]:
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    seen: dict[str, None] = {}
    for _, addr in getaddresses(fields):
        if addr and addr.lower() not in (a.lower() for a in seen):
            seen[addr] = None
    return list(seen)


def without_bcc(message: EmailMessage) -> bytes:
    clean = copy.copy(message)
    del clean["Bcc"]
    return clean.as_bytes(policy=email.policy.SMTP)


class SmtpMailer:
    def __init__(
        self,
        settings: SmtpSettings,
        sender: str,
        *,
        env: Mapping[str, str],
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        # The system's trusted CAs unless a context is given (tests trust their own certificate).
        self.tls_context = tls_context
        self.sender = sender
        self._password: str | None = None
        if settings.user:
            self._password = env.get(settings.password_env)
            if not self._password:
                raise MailRefused(
                    f"SMTP 需要密码：请设置环境变量 {settings.password_env}（邮箱的授权码），"
                    f"用户 {settings.user}。"
                )

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self.tls_context or ssl.create_default_context()
        if s.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.security == "starttls":
                conn.starttls(context=context)
        conn.ehlo_or_helo_if_needed()
        if s.user:
            conn.login(s.user, self._password or "")
        return conn

    def send(self, message: EmailMessage) -> str:
        recipients = envelope_recipients(message)
        if not recipients:
            raise MailRefused("邮件没有收件人")
        data = without_bcc(message)
        try:
            conn = self._connect()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise MailRefused(
                f"无法连接或登录 SMTP 服务器 {self.settings.host}:{self.settings.port}：{exc}"
            ) from exc
        try:
            return self._transact(conn, recipients, data, str(message.get("Message-ID", "")))
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _transact(self, conn: smtplib.SMTP, recipients: list[str], data: bytes, message_id: str) -> str:
        try:
            code, reply = conn.mail(self.sender)
            if code != 250:
                raise MailRefused(f"发件人被拒绝（{code} {reply.decode(errors='replace')}）")
            accepted = []
            refused: dict[str, tuple[int, bytes]] = {}
            for rcpt in recipients:
                code, reply = conn.rcpt(rcpt)
                if code in (250, 251):
                    accepted.append(rcpt)
                else:
                    refused[rcpt] = (code, reply)
            if not accepted:
                conn.rset()
                detail = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items())
                raise MailRefused(f"收件人全部被拒绝：{detail}")
            code, reply = conn.docmd("DATA")
            if code != 354:
                raise MailRefused(f"服务器拒绝接收邮件内容（{code} {reply.decode(errors='replace')}）")
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            # Still before the body: nothing can have been queued.
            raise MailRefused(f"发送前连接中断：{exc}") from exc
        try:
            # From here on the body is on the wire; only an explicit reply tells us the outcome.
            conn.send(_dot_stuffed(data))
            code, reply = conn.getreply()
        except (TimeoutError, OSError, smtplib.SMTPServerDisconnected) as exc:
            raise MailUncertain(f"发送邮件内容时连接中断，服务器可能已收到：{exc}") from exc
        if code != 250:
            if 400 <= code < 600:
                raise MailRefused(f"服务器拒收邮件（{code} {reply.decode(errors='replace')}）")
            raise MailUncertain(f"服务器答复不明（{code} {reply.decode(errors='replace')}）")
        suffix = f" (部分收件人被拒：{', '.join(refused)})" if refused else ""
        return (message_id or reply.decode(errors="replace")) + suffix


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA body with CRLF line ends, leading dots doubled and the terminating line (RFC 5321 4.5.2)."""
    body = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    if body.startswith(b"."):
        body = b"." + body
    body = body.replace(b"\r\n.", b"\r\n..")
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"
