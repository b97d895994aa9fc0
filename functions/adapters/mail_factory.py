"""Pick the mail transport the campaign file names (outbox by default, so nothing is sent by accident)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from functions.ports import Mailer
from schemas.campaign import MailSettings, SesSettings


def build_mailer(
    settings: MailSettings,
    campaign_folder: Path,
    *,
    env: Mapping[str, str] = os.environ,
    ses_client: Any = None,
) -> Mailer:
    if settings.transport == "smtp":
        from functions.adapters.mail_smtp import SmtpMailer

        assert settings.smtp is not None  # MailSettings validates this
        return SmtpMailer(settings.smtp, settings.sender, env=env)
    if settings.transport == "ses":
        from functions.adapters.mail_ses import SesMailer

        ses = settings.ses or SesSettings()
        if ses_client is None:
            import boto3

            ses_client = boto3.client("sesv2", region_name=ses.region)
        return SesMailer(ses, settings.sender, client=ses_client)
    from functions.adapters.mail_outbox import OutboxMailer

    return OutboxMailer(campaign_folder / "outbox")
