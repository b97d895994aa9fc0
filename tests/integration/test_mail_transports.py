"""Mail transports against a real SMTP server on loopback, moto and a loopback HTTP endpoint for SES, and
the outbox folder; each failure must land on the right side of MailRefused / MailUncertain."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.adapters.mail.factory import build_mailer
from functions.adapters.mail.ses import RateLimiter, SesMailer, ses_client
from functions.adapters.mail.smtp import SmtpMailer
from functions.adapters.store.memory import MemoryStore
from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.reminders.send_reminders import run_reminders
from schemas.campaign import MailSettings, SesSettings, SmtpSettings
from tests.fakes.smtp import PASSWORD, USER, RunningServer
from tests.helpers.aws import fake_aws_env
from tests.helpers.mail import SENDER, SUBJECT, mail_message, parse_mail
from tests.helpers.net import free_port
from tests.helpers.paths import EXAMPLES

EXAMPLE = EXAMPLES / "wujin-2022"
PASSWORD_ENV = {"HUIZONG_SMTP_PASSWORD": PASSWORD}


def _smtp(server: RunningServer, **over: object) -> SmtpSettings:
    base: dict[str, object] = {"host": server.host, "port": server.port, "security": "none", "timeout": 5}
    base.update(over)
    return SmtpSettings.model_validate(base)


# --- SMTP: delivery ---------------------------------------------------------------------------------


def test_smtp_delivers_both_parts_without_bcc(smtp_server: RunningServer) -> None:
    mailer = SmtpMailer(_smtp(smtp_server, user=USER), SENDER, env=PASSWORD_ENV)
    message = mail_message()
    assert mailer.send(message) == "<remind-abc@x.org>"
    [got] = smtp_server.recorder.messages
    assert smtp_server.recorder.auth_mechanisms == ["PLAIN"]
    assert got.mail_from == SENDER
    assert got.rcpt_tos == ["school@example.org", "office@example.org", "boss@example.org"]
    # 7bit on the wire: a server without 8BITMIME gets a valid message too.
    assert got.data.isascii()
    parsed = parse_mail(got.data)
    assert parsed["Subject"] == SUBJECT
    assert parsed["From"].addresses[0].display_name == "武进区社区教育委员会办公室"
    assert parsed["Bcc"] is None and "boss@example.org" not in got.data.decode()
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == "您好，贵单位尚未报送工作方案。\n.这一行以点开头\n"
    assert "<b>工作方案</b>" in html.get_content()
    assert message["Bcc"] == "boss@example.org"  # the caller's message is left as it was


@pytest.mark.parametrize("smtp_server", [{"auth_exclude_mechanism": ["PLAIN"]}], indirect=True)
def test_smtp_login_only_server(smtp_server: RunningServer) -> None:
    SmtpMailer(_smtp(smtp_server, user=USER), SENDER, env=PASSWORD_ENV).send(mail_message())
    assert smtp_server.recorder.auth_mechanisms == ["LOGIN"]
    assert len(smtp_server.recorder.messages) == 1


@pytest.mark.parametrize("smtp_tls_server", ["starttls", "ssl"], indirect=True)
def test_smtp_over_tls_with_login(smtp_tls_server: RunningServer) -> None:
    server = smtp_tls_server
    settings = _smtp(server, security=server.mode, user=USER)
    SmtpMailer(settings, SENDER, env=PASSWORD_ENV, tls_context=server.client_context()).send(mail_message())
    [got] = server.recorder.messages
    assert parse_mail(got.data)["Subject"] == SUBJECT
    # Without trusting the certificate, TLS fails before anything is sent: retryable.
    with pytest.raises(MailRefused, match="无法连接或登录"):
        SmtpMailer(settings, SENDER, env=PASSWORD_ENV).send(mail_message())
    assert len(server.recorder.messages) == 1


def test_smtp_hangup_on_quit_after_acceptance_is_success(smtp_server: RunningServer) -> None:
    smtp_server.recorder.drop_on_quit = True
    assert SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message()) == "<remind-abc@x.org>"
    assert len(smtp_server.recorder.messages) == 1


@pytest.mark.parametrize("smtp_server", [{"enable_SMTPUTF8": True}], indirect=True)
def test_smtp_non_ascii_address_uses_smtputf8(smtp_server: RunningServer) -> None:
    SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message(to="校长@example.org", bcc=None))
    [got] = smtp_server.recorder.messages
    assert got.rcpt_tos == ["校长@example.org", "office@example.org"]
    assert "SMTPUTF8" in got.mail_options
    # Headers travel as raw UTF-8 (RFC 6532), not as encoded words.
    assert "To: 校长@example.org\r\n" in got.data.decode()


@pytest.mark.parametrize("smtp_server", [{"enable_SMTPUTF8": False}], indirect=True)
def test_smtp_non_ascii_address_refused_without_smtputf8(smtp_server: RunningServer) -> None:
    with pytest.raises(MailRefused, match="SMTPUTF8"):
        SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message(to="校长@example.org"))
    assert smtp_server.recorder.messages == []


# --- SMTP: refused (nothing sent, a retry is safe) ---------------------------------------------------


def test_smtp_wrong_password_is_refused(smtp_server: RunningServer) -> None:
    mailer = SmtpMailer(_smtp(smtp_server, user=USER), SENDER, env={"HUIZONG_SMTP_PASSWORD": "wrong"})
    with pytest.raises(MailRefused, match=r"登录失败.*授权码"):
        mailer.send(mail_message())
    assert smtp_server.recorder.messages == []


def test_smtp_sender_refused(smtp_server: RunningServer) -> None:
    smtp_server.recorder.refuse_sender = {SENDER}
    with pytest.raises(MailRefused, match=r"发件人.*553"):
        SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message())
    assert smtp_server.recorder.messages == []


def test_smtp_recipients_refused_all_or_some(smtp_server: RunningServer) -> None:
    recorder = smtp_server.recorder
    recorder.refuse_rcpt = {"school@example.org", "office@example.org", "boss@example.org"}
    mailer = SmtpMailer(_smtp(smtp_server), SENDER, env={})
    with pytest.raises(MailRefused, match=r"收件人全部被拒绝.*550"):
        mailer.send(mail_message())
    assert recorder.messages == []
    # Some refused: the others still get it, and the id names who did not.
    recorder.refuse_rcpt = {"school@example.org"}
    transport_id = mailer.send(mail_message())
    assert "school@example.org" in transport_id
    assert recorder.messages[-1].rcpt_tos == ["office@example.org", "boss@example.org"]


def test_smtp_body_rejected_is_refused(smtp_server: RunningServer) -> None:
    smtp_server.recorder.reject_data = "554 5.7.1 looks like spam"
    with pytest.raises(MailRefused, match="554"):
        SmtpMailer(_smtp(smtp_server), SENDER, env={}, language="en").send(mail_message())


def test_smtp_hangup_before_body_is_refused(smtp_server: RunningServer) -> None:
    smtp_server.recorder.drop_at_rcpt = True
    with pytest.raises(MailRefused, match="发送前连接中断"):
        SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message())
    assert smtp_server.recorder.messages == []


def test_smtp_connection_refused_is_refused() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="ssl", timeout=2)
    with pytest.raises(MailRefused, match="无法连接"):
        SmtpMailer(settings, SENDER, env={}).send(mail_message())


def test_smtp_starttls_not_offered_is_refused(smtp_server: RunningServer) -> None:
    with pytest.raises(MailRefused, match="不支持"):
        SmtpMailer(_smtp(smtp_server, security="starttls"), SENDER, env={}).send(mail_message())
    assert smtp_server.recorder.messages == []


def test_smtp_plain_to_a_server_requiring_starttls_is_refused(smtp_tls_server: RunningServer) -> None:
    with pytest.raises(MailRefused, match="530"):
        SmtpMailer(_smtp(smtp_tls_server), SENDER, env={}).send(mail_message())
    assert smtp_tls_server.recorder.messages == []


# --- SMTP: uncertain (the server may have it: never retried) -----------------------------------------


def test_smtp_no_answer_to_body_is_uncertain(smtp_server: RunningServer) -> None:
    smtp_server.recorder.stall_after_data = 2
    with pytest.raises(MailUncertain, match="服务器可能已收到"):
        SmtpMailer(_smtp(smtp_server, timeout=0.5), SENDER, env={}).send(mail_message())


def test_smtp_hangup_after_body_is_uncertain(smtp_server: RunningServer) -> None:
    smtp_server.recorder.drop_after_data = True
    with pytest.raises(MailUncertain):
        SmtpMailer(_smtp(smtp_server), SENDER, env={}).send(mail_message())
    # Why it must not be retried: the server did queue it.
    assert len(smtp_server.recorder.messages) == 1


# --- SMTP with the reminder service --------------------------------------------------------------------


def test_reminders_through_smtp_claims_follow_the_outcome(smtp_server: RunningServer) -> None:
    campaign = load_campaign(EXAMPLE)
    roster, _ = load_roster(EXAMPLE, campaign)
    mail = MailSettings(transport="smtp", sender=SENDER, smtp=_smtp(smtp_server, user=USER))
    mailer = build_mailer(mail, EXAMPLE, env=PASSWORD_ENV)
    now = dt.datetime(2022, 11, 21, 9, 0, tzinfo=campaign.tz)  # three days before the plan is due

    smtp_server.recorder.refuse_rcpt = {u.emails[0] for u in roster.units}
    store = MemoryStore()
    refused = run_reminders(campaign, roster, store, mailer, now=now)
    assert refused.refused == len(refused.planned) > 0 and refused.sent == 0
    assert store.claims("remind/") == []  # released: the next run tries again

    smtp_server.recorder.refuse_rcpt = set()
    sent = run_reminders(campaign, roster, store, mailer, now=now)
    assert sent.sent == len(sent.planned) == len(refused.planned)
    assert {c.payload["result"] for c in store.claims("remind/")} == {"已发送"}
    first = next(m for m in smtp_server.recorder.messages if m.rcpt_tos == [roster.units[0].emails[0]])
    parsed = parse_mail(first.data)
    assert parsed["Subject"].startswith(f"【催报】{campaign.title}")
    assert parsed.get_body(("plain",)) is not None and parsed.get_body(("html",)) is not None


# --- outbox --------------------------------------------------------------------------------------------


# --- SES -------------------------------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and no shared config, so nothing can reach a real account."""
    fake_aws_env(monkeypatch)


def test_ses_sends_raw_message_and_refuses_unverified_sender(aws: None) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    with mock_aws():
        client = boto3.client("sesv2", region_name="ap-southeast-1")
        mailer = SesMailer(SesSettings(region="ap-southeast-1", rate_per_second=0), SENDER, client=client)
        with pytest.raises(MailRefused, match=r"SES 拒绝发送.*MessageRejected"):
            mailer.send(mail_message())
        client.create_email_identity(EmailIdentity=SENDER)
        assert mailer.send(mail_message())
        [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"].sent_messages
        assert sent.source == SENDER
        # moto appends the header addresses to Destination (SES v1 style); ours come first.
        assert sent.destinations[:3] == ["school@example.org", "office@example.org", "boss@example.org"]
        parsed = parse_mail(sent.raw_data.encode())
        assert parsed["Subject"] == SUBJECT and parsed["Bcc"] is None
        assert parsed.get_body(("html",)) is not None


class _FakeSes(BaseHTTPRequestHandler):
    """An SES API endpoint on loopback that answers the way it is told (see SesEndpoint)."""

    def do_POST(self) -> None:
        endpoint: SesEndpoint = self.server.endpoint  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        endpoint.requests.append(self.path)
        kind, status, code = endpoint.behaviour
        if kind == "hangup":
            self.close_connection = True
            return
        if kind == "stall":
            endpoint.release.wait(5)
        body = (
            {"MessageId": "ses-1"} if status == 200 else {"__type": code, "message": f"told to fail: {code}"}
        )
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status != 200:
            self.send_header("x-amzn-ErrorType", code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SesEndpoint:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.behaviour: tuple[str, int, str] = ("answer", 200, "")
        self.release = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSes)
        self.httpd.daemon_threads = True
        self.httpd.endpoint = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def mailer(self, read_timeout: float = 5.0) -> SesMailer:
        client = ses_client("ap-southeast-1", endpoint_url=self.url, read_timeout=read_timeout)
        return SesMailer(SesSettings(rate_per_second=0, configuration_set="reminders"), SENDER, client=client)


@pytest.fixture
def ses_endpoint(aws: None) -> Iterator[SesEndpoint]:
    endpoint = SesEndpoint()
    thread = threading.Thread(target=endpoint.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.release.set()
        endpoint.httpd.shutdown()
        endpoint.httpd.server_close()


def test_ses_request_goes_out_once(ses_endpoint: SesEndpoint) -> None:
    assert ses_endpoint.mailer().send(mail_message()) == "ses-1"
    assert ses_endpoint.requests == ["/v2/email/outbound-emails"]


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (400, "MessageRejected", MailRefused),
        (400, "MailFromDomainNotVerifiedException", MailRefused),
        (400, "AccountSuspendedException", MailRefused),
        (400, "SendingPausedException", MailRefused),
        (400, "BadRequestException", MailRefused),
        (404, "NotFoundException", MailRefused),
        (429, "TooManyRequestsException", MailRefused),
        (400, "Throttling", MailRefused),
        (403, "SomethingNewException", MailRefused),  # any 4xx: SES did not act on it
        # IAM denies the role (e.g. its policy names another region): kept and reported, not retried.
        (403, "AccessDeniedException", MailNotPermitted),
        (403, "AccessDenied", MailNotPermitted),
        (500, "InternalFailure", MailUncertain),
        (503, "ServiceUnavailable", MailUncertain),
    ],
)
def test_ses_error_codes(ses_endpoint: SesEndpoint, status: int, code: str, outcome: type[Exception]) -> None:
    ses_endpoint.behaviour = ("answer", status, code)
    with pytest.raises(outcome, match=code):
        ses_endpoint.mailer().send(mail_message())
    # botocore must not retry by itself: a second request could be a second copy.
    assert len(ses_endpoint.requests) == 1


def test_ses_lost_reply_is_uncertain(ses_endpoint: SesEndpoint) -> None:
    ses_endpoint.behaviour = ("hangup", 0, "")
    with pytest.raises(MailUncertain, match="SES 未答复"):
        ses_endpoint.mailer().send(mail_message())
    ses_endpoint.behaviour = ("stall", 200, "")
    with pytest.raises(MailUncertain):
        ses_endpoint.mailer(read_timeout=0.5).send(mail_message())
    assert len(ses_endpoint.requests) == 2


def test_ses_unreachable_endpoint_is_refused(aws: None) -> None:
    client = ses_client("ap-southeast-1", endpoint_url=f"http://127.0.0.1:{free_port()}")
    mailer = SesMailer(SesSettings(rate_per_second=0), SENDER, client=client)
    with pytest.raises(MailRefused, match="无法连接 SES"):
        mailer.send(mail_message())


def test_ses_rate_limit_spaces_sends(ses_endpoint: SesEndpoint) -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    mailer = ses_endpoint.mailer()
    mailer.limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        mailer.send(mail_message())
    assert slept == [0.5, 0.5] and len(ses_endpoint.requests) == 3
    now[0] += 10  # after a pause no wait is owed
    mailer.send(mail_message())
    assert slept == [0.5, 0.5]


# --- factory ---------------------------------------------------------------------------------------------


def test_factory_smtp(tmp_path: Path, smtp_server: RunningServer) -> None:
    settings = MailSettings(transport="smtp", sender=SENDER, smtp=_smtp(smtp_server, user=USER))
    with pytest.raises(ConfigError, match="HUIZONG_SMTP_PASSWORD"):
        build_mailer(settings, tmp_path, env={})
    mailer = build_mailer(settings, tmp_path, env=PASSWORD_ENV)
    assert isinstance(mailer, SmtpMailer)
    mailer.send(mail_message())
    assert smtp_server.recorder.messages[0].mail_from == SENDER
    assert not (tmp_path / "outbox").exists()
