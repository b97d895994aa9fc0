"""A real SMTP server on loopback (aiosmtpd) for transport tests, with the behaviours mail servers have."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "unit@example.org", "abcdefghijklmnop"  # QQ/163 授权码 are 16 ASCII letters


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Recorder:
    """What the server got, and how it should misbehave."""

    messages: list[Received] = field(default_factory=list)
    refuse_rcpt: set[str] = field(default_factory=set)
    reject_data: str | None = None  # e.g. "554 5.7.1 spam"
    stall_after_data: float = 0.0  # seconds to wait before answering the body (client times out)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_after_data:
            await asyncio.sleep(self.stall_after_data)
        if self.reject_data:
            return self.reject_data
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 queued"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == (
        USER,
        PASSWORD,
    )
    return AuthResult(success=ok)


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    host: str
    port: int
    recorder: Recorder
    cafile: Path | None = None
    mode: str = "none"


@pytest.fixture
def smtp_server() -> Iterator[RunningServer]:
    """Plain SMTP with AUTH allowed without TLS (loopback only)."""
    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield RunningServer("127.0.0.1", controller.port, recorder)
    finally:
        controller.stop()


@pytest.fixture
def smtp_tls_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """STARTTLS (param "starttls") or implicit TLS (param "ssl") with a self-signed certificate."""
    cert, key = make_cert(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = Recorder()
    mode = getattr(request, "param", "starttls")
    kwargs: dict[str, Any] = {"authenticator": _authenticator}
    if mode == "ssl":
        kwargs["ssl_context"] = context
        kwargs["auth_require_tls"] = False  # the whole session is TLS already
    else:
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield RunningServer("127.0.0.1", controller.port, recorder, cafile=cert, mode=mode)
    finally:
        controller.stop()
