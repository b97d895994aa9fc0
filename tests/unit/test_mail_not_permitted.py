"""Issue 11 §1.2: one SES region for the code and the IAM policy, and a send refused for permissions is
kept and reported (CLI line, counts, the digest), never retried run after run."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from functions.adapters.mail.factory import build_mailer
from functions.adapters.mail.ses import SesMailer, ses_client
from functions.adapters.store.memory import MemoryStore
from functions.bootstrap import open_app
from functions.ports import MailNotPermitted, MailRefused
from functions.services.reminders.send_reminders import digest_claim_key, run_reminders
from functions.settings import SES_REGION_ENV, Settings
from schemas.campaign import Campaign, MailSettings, SesSettings
from schemas.roster import Roster
from tests.helpers.aws import fake_aws_env
from tests.helpers.mail import SENDER, mail_message


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_aws_env(monkeypatch)


def _denied(mailer: SesMailer, code: str = "AccessDeniedException") -> MailNotPermitted:
    from botocore.stub import Stubber

    with Stubber(mailer.client) as stub:
        stub.add_client_error(
            "send_email",
            service_error_code=code,
            service_message="User is not authorized to perform ses:SendEmail on resource identity/example.org",
            http_status_code=403,
        )
        with pytest.raises(MailNotPermitted) as caught:
            mailer.send(mail_message())
    return caught.value


def test_ses_access_denied_is_not_permitted_and_says_where_in_the_campaign_language(aws: None) -> None:
    zh = SesMailer(SesSettings(rate_per_second=0), SENDER, client=ses_client("eu-west-1"))
    text = str(_denied(zh))
    # What, where (sender and region) and how to fix, in Chinese by default.
    assert "无权" in text and SENDER in text and "eu-west-1" in text and "SesRegion" in text
    assert "AccessDeniedException" in text and "不会自动重试" in text
    en = SesMailer(SesSettings(rate_per_second=0), SENDER, client=ses_client("eu-west-1"), language="en")
    text = str(_denied(en, "AccessDenied"))
    assert "no permission to send" in text and "eu-west-1" in text and "无权" not in text
    # It is not a MailRefused: the callers that release and retry a refusal do not catch it.
    assert not issubclass(MailNotPermitted, MailRefused)


def test_the_environment_region_wins_over_the_campaign(aws: None, tmp_path: Path) -> None:
    assert Settings.from_env({SES_REGION_ENV: " us-east-1 "}).ses_region == "us-east-1"
    assert Settings.from_env({}).ses_region == ""
    mail = MailSettings(transport="ses", sender=SENDER, ses=SesSettings(region="ap-southeast-1"))
    built = build_mailer(mail, tmp_path, ses_region="us-east-1")
    assert isinstance(built, SesMailer) and built.client.meta.region_name == "us-east-1"
    assert built.settings.region == "us-east-1"
    kept = build_mailer(mail, tmp_path)
    assert isinstance(kept, SesMailer) and kept.client.meta.region_name == "ap-southeast-1"


def test_open_app_passes_the_region_to_the_mailer(aws: None, wujin_dir: Path) -> None:
    path = wujin_dir / "campaign.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["mail"] = {"transport": "ses", "sender": SENDER, "ses": {"region": "ap-southeast-1"}}
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    app = open_app(wujin_dir, store=MemoryStore(), settings=Settings(ses_region="eu-central-1"))
    assert app.mailer.client.meta.region_name == "eu-central-1"  # type: ignore[attr-defined]


class _DeniedTo:
    """A transport whose sender may not send to units (the organiser's digest goes out), or to anyone."""

    def __init__(self, organiser: set[str] | None = None) -> None:
        self.organiser = organiser
        self.sent: list[EmailMessage] = []
        self.tried = 0

    def send(self, message: EmailMessage) -> str:
        self.tried += 1
        to = {a.addr_spec for a in message["To"].addresses}
        if self.organiser is None or not to <= self.organiser:
            raise MailNotPermitted(
                "SES 拒绝：无权以 huizong@example.org 在区域 eu-west-1 发信（AccessDenied）"
            )
        self.sent.append(message)
        return "ok"


def _morning(campaign: Campaign) -> dt.datetime:
    return dt.datetime(2022, 11, 21, 9, 30, tzinfo=campaign.tz)  # the plan's first reminder step


def test_reminders_not_permitted_are_kept_reported_in_the_digest_and_not_retried(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    store = MemoryStore()
    mailer = _DeniedTo(set(campaign.organiser.emails))
    first = run_reminders(campaign, roster, store, mailer, now=_morning(campaign))
    planned = len(first.planned)
    assert planned > 0 and first.not_permitted == planned and first.sent == first.refused == 0
    assert "eu-west-1" in first.not_permitted_error
    assert all("无权发送（不重试）" in line for line in first.lines)
    claims = store.claims("remind/")
    assert claims and all(str(c.payload["result"]).startswith("无权发送") for c in claims)

    assert first.digest_sent
    (digest,) = mailer.sent
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"发送失败（无发信权限，不会自动重试）：{planned} 封" in text and "eu-west-1" in text
    html = digest.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "无发信权限" in html

    # The next run the same day tries none of them again: not a retry on every run.
    tried = mailer.tried
    again = run_reminders(campaign, roster, store, mailer, now=_morning(campaign) + dt.timedelta(hours=1))
    assert again.planned == [] and mailer.tried == tried


def test_a_digest_not_permitted_is_recorded_and_the_error_kept(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    store = MemoryStore()
    result = run_reminders(campaign, roster, store, _DeniedTo(), now=_morning(campaign))
    assert not result.digest_sent and result.not_permitted_error
    day = _morning(campaign).date()
    (claim,) = [c for c in store.claims("digest/") if c.key == digest_claim_key(day)]
    assert str(claim.payload["result"]).startswith("not permitted")
