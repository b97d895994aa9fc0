"""Mail without a mail server: the outbox, SMTP's dot-stuffing and envelope, configuration errors, the factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.mail.factory import build_mailer
from functions.adapters.mail.outbox import OutboxMailer
from functions.adapters.mail.ses import SesMailer
from functions.adapters.mail.smtp import SmtpMailer, dot_stuffed, envelope_recipients
from functions.config.loading import ConfigError
from functions.ports import MailRefused
from schemas.campaign import MailSettings, SesSettings, SmtpSettings
from tests.helpers.aws import fake_aws_env
from tests.helpers.mail import SENDER, SUBJECT, USER, mail_message, parse_mail
from tests.helpers.net import free_port


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no shared config, so nothing can reach a real account."""
    fake_aws_env(monkeypatch)


def test_dot_stuffing_and_envelope() -> None:
    assert dot_stuffed(b".a\r\nb\n.c") == b"..a\r\nb\r\n..c\r\n.\r\n"
    msg = mail_message(to="A <a@x.org>, b@x.org", bcc="A@X.org, c@x.org")
    assert envelope_recipients(msg) == ["a@x.org", "b@x.org", "office@example.org", "c@x.org"]


def test_smtp_password_missing_is_a_config_error_naming_the_variable() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), user=USER, password_env="QQ_AUTH_CODE")
    with pytest.raises(ConfigError, match="QQ_AUTH_CODE") as caught:
        SmtpMailer(settings, SENDER, env={"QQ_AUTH_CODE": "  \n"})
    assert "授权码" in str(caught.value)
    with pytest.raises(ConfigError, match="environment variable QQ_AUTH_CODE"):
        SmtpMailer(settings, SENDER, env={}, language="en")
    # No user, no password needed (an internal relay).
    SmtpMailer(settings.model_copy(update={"user": ""}), SENDER, env={})


def test_outbox_writes_each_message_once(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox")
    first = mailer.send(mail_message())
    assert mailer.send(mail_message()) == first
    mailer.send(mail_message(message_id="<other@x.org>"))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2 and Path(first) in files
    parsed = parse_mail(Path(first).read_bytes())
    assert parsed["Message-ID"] == "<remind-abc@x.org>" and parsed["Subject"] == SUBJECT
    assert parsed["Bcc"] == "boss@example.org"  # whoever sends it by hand needs it
    assert Path(first).name.startswith("20221123-090000-")


def test_outbox_unwritable_is_refused_and_leaves_no_file(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(MailRefused, match="cannot write to outbox"):
        OutboxMailer(blocker, language="en").send(mail_message())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox"]


def test_factory_outbox_by_default(tmp_path: Path) -> None:
    mailer = build_mailer(MailSettings(), tmp_path)
    assert isinstance(mailer, OutboxMailer)
    written = Path(mailer.send(mail_message()))
    assert written.parent == tmp_path / "outbox" and written.is_file()


def test_factory_ses(tmp_path: Path, aws: None) -> None:
    settings = MailSettings(transport="ses", sender=SENDER, ses=SesSettings(region="eu-west-1"))
    given = object()
    mailer = build_mailer(settings, tmp_path, ses_client=given)
    assert isinstance(mailer, SesMailer) and mailer.client is given
    built = build_mailer(settings, tmp_path)
    assert isinstance(built, SesMailer)
    assert built.client.meta.region_name == "eu-west-1"
    assert built.client.meta.service_model.service_name == "sesv2"
    assert built.client.meta.config.retries["total_max_attempts"] == 1
    default = build_mailer(MailSettings(transport="ses"), tmp_path)
    assert isinstance(default, SesMailer) and default.client.meta.region_name == "ap-southeast-1"
