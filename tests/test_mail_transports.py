"""Mail transports against a real SMTP server on loopback, moto for SES, and the outbox folder."""

from __future__ import annotations

import email
import email.policy
import ssl
from email.message import EmailMessage
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from functions.adapters.mail_factory import build_mailer
from functions.adapters.mail_outbox import OutboxMailer
from functions.adapters.mail_ses import RateLimiter, SesMailer
from functions.adapters.mail_smtp import SmtpMailer
from functions.ports import MailRefused, MailUncertain
from schemas.campaign import MailSettings, SesSettings, SmtpSettings
from tests.smtp_server import PASSWORD, USER, RunningServer, smtp_server, smtp_tls_server  # noqa: F401

SENDER = "huizong@example.org"


def _message(to: str = "school@example.org", bcc: str | None = "boss@example.org") -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "【催报】武进区2022年全民终身学习活动周：请于11月24日前报送"
    msg["From"] = f"武进区社区教育委员会办公室 <{SENDER}>"
    msg["To"] = to
    if bcc:
        msg["Bcc"] = bcc
    msg["Message-ID"] = "<remind-abc@example.org>"
    msg["Date"] = "Wed, 23 Nov 2022 09:00:00 +0800"
    msg.set_content("您好，贵单位尚未报送工作方案。\n.这一行以点开头")
    msg.add_alternative("<p>您好，贵单位尚未报送<b>工作方案</b>。</p>", subtype="html")
    return msg


def _smtp(server: RunningServer, **over: object) -> SmtpSettings:
    base: dict[str, object] = {"host": server.host, "port": server.port, "security": "none"}
    base.update(over)
    return SmtpSettings.model_validate(base)


def test_smtp_delivers_both_parts_without_bcc_header(smtp_server: RunningServer) -> None:  # noqa: F811
    mailer = SmtpMailer(_smtp(smtp_server, user=USER), SENDER, env={"HUIZONG_SMTP_PASSWORD": PASSWORD})
    transport_id = mailer.send(_message())
    assert transport_id.startswith("<remind-abc@example.org>")
    [got] = smtp_server.recorder.messages
    assert got.mail_from == SENDER
    assert sorted(got.rcpt_tos) == ["boss@example.org", "school@example.org"]
    parsed = email.message_from_bytes(got.data, policy=email.policy.default)
    assert parsed["Subject"].startswith("【催报】") and parsed["Bcc"] is None
    assert "尚未报送工作方案" in parsed.get_body(("plain",)).get_content()
    assert "<b>工作方案</b>" in parsed.get_body(("html",)).get_content()
    assert ".这一行以点开头" in parsed.get_body(("plain",)).get_content()  # dot-stuffing undone by the server


def test_smtp_wrong_password_and_missing_password_are_refused(smtp_server: RunningServer) -> None:  # noqa: F811
    with pytest.raises(MailRefused, match="HUIZONG_SMTP_PASSWORD"):
        SmtpMailer(_smtp(smtp_server, user=USER), SENDER, env={})
    # timeout: aiosmtpd answers a failed AUTH slowly on purpose; the outcome is what matters here.
    mailer = SmtpMailer(
        _smtp(smtp_server, user=USER, timeout=3), SENDER, env={"HUIZONG_SMTP_PASSWORD": "wrong"}
    )
    with pytest.raises(MailRefused):
        mailer.send(_message())
    assert smtp_server.recorder.messages == []


def test_smtp_refusals_before_acceptance(smtp_server: RunningServer) -> None:  # noqa: F811
    smtp_server.recorder.refuse_rcpt = {"school@example.org"}
    mailer = SmtpMailer(_smtp(smtp_server), SENDER, env={})
    with pytest.raises(MailRefused, match="收件人全部被拒绝"):
        mailer.send(_message(bcc=None))
    # One of two refused: the other still gets it, and the id says who did not.
    assert "school@example.org" in mailer.send(_message())
    assert smtp_server.recorder.messages[-1].rcpt_tos == ["boss@example.org"]
    smtp_server.recorder.reject_data = "554 5.7.1 looks like spam"
    with pytest.raises(MailRefused, match="554"):
        mailer.send(_message(to="other@example.org"))


def test_smtp_connection_refused_is_retryable() -> None:
    from tests.smtp_server import free_port

    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2)
    with pytest.raises(MailRefused, match="无法连接"):
        SmtpMailer(settings, SENDER, env={}).send(_message())


def test_smtp_stall_after_body_is_uncertain(smtp_server: RunningServer) -> None:  # noqa: F811
    smtp_server.recorder.stall_after_data = 3
    mailer = SmtpMailer(_smtp(smtp_server, timeout=1), SENDER, env={})
    with pytest.raises(MailUncertain):
        mailer.send(_message())


@pytest.mark.parametrize("smtp_tls_server", ["starttls", "ssl"], indirect=True)
def test_smtp_over_tls_with_login(smtp_tls_server: RunningServer) -> None:  # noqa: F811
    server = smtp_tls_server
    mode = server.mode
    context = ssl.create_default_context(cafile=str(server.cafile))
    mailer = SmtpMailer(
        _smtp(server, security=mode, user=USER),
        SENDER,
        env={"HUIZONG_SMTP_PASSWORD": PASSWORD},
        tls_context=context,
    )
    mailer.send(_message())
    assert len(server.recorder.messages) == 1
    # Without trusting the certificate, TLS fails before anything is sent: retryable.
    strict = SmtpMailer(
        _smtp(server, security=mode, user=USER), SENDER, env={"HUIZONG_SMTP_PASSWORD": PASSWORD}
    )
    with pytest.raises(MailRefused):
        strict.send(_message())
    assert len(server.recorder.messages) == 1


def test_outbox_writes_each_message_once(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox")
    first = mailer.send(_message())
    second = mailer.send(_message())
    assert first == second
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == "<remind-abc@example.org>"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-1",
    }.items():
        monkeypatch.setenv(k, v)


def test_ses_sends_raw_message_and_refuses_unverified_sender(aws: None) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    with mock_aws():
        client = boto3.client("sesv2", region_name="ap-southeast-1")
        mailer = SesMailer(SesSettings(region="ap-southeast-1"), SENDER, client=client)
        with pytest.raises(MailRefused, match="SES"):
            mailer.send(_message())
        client.create_email_identity(EmailIdentity=SENDER)
        message_id = mailer.send(_message())
        assert message_id
        backend = ses_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"]
        [sent] = backend.sent_messages
        raw = getattr(sent, "raw_data", "")
        assert "Bcc" not in raw.split("\n\n", 1)[0] and "Subject" in raw
        assert set(sent.destinations) == {"boss@example.org", "school@example.org"}


def test_ses_rate_limiter_spaces_sends() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait()
    assert slept == [0.5, 0.5]


def test_factory_picks_transport(tmp_path: Path, aws: None) -> None:
    assert isinstance(build_mailer(MailSettings(), tmp_path), OutboxMailer)
    smtp = MailSettings(transport="smtp", smtp=SmtpSettings(host="127.0.0.1", port=25, security="none"))
    assert isinstance(build_mailer(smtp, tmp_path, env={}), SmtpMailer)
    with mock_aws():
        ses = build_mailer(MailSettings(transport="ses", ses=SesSettings(region="ap-southeast-1")), tmp_path)
        assert isinstance(ses, SesMailer)
