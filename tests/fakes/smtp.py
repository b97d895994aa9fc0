"""A real SMTP server on loopback (aiosmtpd) for transport tests, with the misbehaviours mail servers have.

- running_smtp(options): plain SMTP, AUTH LOGIN/PLAIN allowed without TLS; `options` are extra aiosmtpd
  options, e.g. {"auth_exclude_mechanism": ["PLAIN"]} or {"enable_SMTPUTF8": False}.
- running_smtp_tls(folder, mode): "starttls" (STARTTLS required) or "ssl" (implicit TLS, like QQ's 465),
  with a self-signed certificate for 127.0.0.1 made by `cryptography` or the `openssl` binary.
Each yields a RunningServer whose `recorder` says what arrived and is told how to misbehave. The fixtures
`smtp_server` and `smtp_tls_server` (tests/integration/conftest.py) wrap them; indirect parametrisation
passes the options or the mode.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers.mail import PASSWORD, USER
from tests.helpers.net import HOST, free_port

__all__ = ["PASSWORD", "USER", "Received", "Recorder", "RunningServer", "running_smtp", "running_smtp_tls"]


HAVE_CRYPTOGRAPHY = importlib.util.find_spec("cryptography") is not None
OPENSSL = shutil.which("openssl")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    mail_options: list[str]


@dataclass
class Recorder:
    """What the server got, and how it should misbehave (set these before the client connects)."""

    messages: list[Received] = field(default_factory=list)
    auth_mechanisms: list[str] = field(default_factory=list)
    refuse_sender: set[str] = field(default_factory=set)
    refuse_rcpt: set[str] = field(default_factory=set)
    drop_at_rcpt: bool = False  # hang up on RCPT TO: before any body was sent
    reject_data: str | None = None  # an answer to the body, e.g. "554 5.7.1 spam"
    stall_after_data: float = 0.0  # seconds before answering the body (the client times out)
    drop_after_data: bool = False  # queue the body, then hang up without answering
    drop_on_quit: bool = False  # hang up on QUIT instead of "221" (QQ mail does something like it)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if address in self.refuse_sender:
            return "553 5.7.1 sender not allowed"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.drop_at_rcpt:
            server.transport.abort()
            return "250 OK"
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_after_data:
            await asyncio.sleep(self.stall_after_data)
        if self.reject_data:
            return self.reject_data
        self.messages.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.content, list(envelope.mail_options)
            )
        )
        if self.drop_after_data:
            server.transport.abort()
        return "250 2.0.0 queued"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_on_quit:
            server.transport.abort()
        return "221 Bye"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.auth_mechanisms.append(mechanism)
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (USER, PASSWORD)
        # handled=False: aiosmtpd then answers "535" itself (with the default it answers nothing at all).
        return AuthResult(success=ok, handled=False)


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert.pem, key.pem); skips the test if no tool can make one."""
    if HAVE_CRYPTOGRAPHY:
        return _cert_with_cryptography(folder)
    if OPENSSL:
        return _cert_with_openssl(folder, OPENSSL)
    pytest.skip("neither the cryptography package nor the openssl binary is available to make a certificate")


def _cert_with_cryptography(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _cert_with_openssl(folder: Path, openssl: str) -> tuple[Path, Path]:
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key_path), "-out", str(cert_path),
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert_path, key_path


@dataclass
class RunningServer:
    host: str
    port: int
    recorder: Recorder
    cafile: Path | None = None
    mode: str = "none"

    def client_context(self) -> ssl.SSLContext:
        """A client TLS context that trusts this server's certificate (and nothing else)."""
        assert self.cafile is not None, "not a TLS server"
        return ssl.create_default_context(cafile=str(self.cafile))


def _run(recorder: Recorder, **options: Any) -> Controller:
    controller = Controller(recorder, hostname=HOST, port=free_port(), **options)
    controller.start()
    return controller


@contextmanager
def running_smtp(options: dict[str, Any] | None = None) -> Iterator[RunningServer]:
    """Plain SMTP with AUTH allowed without TLS (loopback only); `options` are extra aiosmtpd options."""
    recorder = Recorder()
    settings: dict[str, Any] = {"authenticator": recorder.authenticate, "auth_require_tls": False}
    settings.update(options or {})
    controller = _run(recorder, **settings)
    try:
        yield RunningServer(HOST, controller.port, recorder)
    finally:
        controller.stop()


@contextmanager
def running_smtp_tls(folder: Path, mode: str = "starttls") -> Iterator[RunningServer]:
    """STARTTLS (mode "starttls") or implicit TLS (mode "ssl") with a self-signed certificate made in `folder`."""
    cert, key = make_cert(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    options: dict[str, Any] = {"authenticator": recorder.authenticate}
    if mode == "ssl":
        options["ssl_context"] = context
        options["auth_require_tls"] = False  # the whole session is TLS; aiosmtpd only knows about STARTTLS
    else:
        options["tls_context"] = context
        options["require_starttls"] = True
    controller = _run(recorder, **options)
    try:
        yield RunningServer(HOST, controller.port, recorder, cafile=cert, mode=mode)
    finally:
        controller.stop()
