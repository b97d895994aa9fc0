"""Pick the mail transport the campaign file names (outbox by default, so nothing is sent by accident)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from functions.ports import Mailer
from schemas.campaign import MailSettings, SesSettings
from schemas.i18n import Language

OUTBOX_FOLDER = "outbox"


def build_mailer(
    settings: MailSettings,
    campaign_folder: Path,
    *,
    env: Mapping[str, str] = os.environ,
    ses_client: Any = None,
    language: Language = "zh",
    ses_region: str = "",
) -> Mailer:
    """The configured transport; a missing SMTP password is a ConfigError here, before anything is claimed.

    `ses_region` (HUIZONG_SES_REGION, set by the template) wins over mail.ses.region: the deployment's IAM
    permissions name one region, and sending from another is refused."""
    if settings.transport == "smtp":
        from functions.adapters.mail.smtp import SmtpMailer

        if settings.smtp is None:  # MailSettings validates this; kept for type checkers
            raise ValueError("mail.smtp is not set")
        return SmtpMailer(settings.smtp, settings.sender, env=env, language=language)
    if settings.transport == "ses":
        from functions.adapters.mail import ses as mail_ses

        ses = settings.ses or SesSettings()
        if ses_region:
            ses = ses.model_copy(update={"region": ses_region})
        client = ses_client if ses_client is not None else mail_ses.ses_client(ses.region)
        return mail_ses.SesMailer(ses, settings.sender, client=client, language=language)
    from functions.adapters.mail.outbox import OutboxMailer

    return OutboxMailer(Path(campaign_folder) / OUTBOX_FOLDER, language=language)
