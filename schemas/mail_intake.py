"""`mail_intake:` in campaign.yaml: the mailbox units already send their materials to (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.i18n import t


class MailIntakeSettings(BaseModel):
    """Where huizong reads the units' mail, what it does with handled mail, and the limits it keeps.

    Serverless, `host` stays empty: SES stores each message in the bucket and the same code reads it.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = ""  # IMAP server, e.g. imap.qq.com or imap.163.com
    port: int = Field(default=993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str = ""  # the mailbox's address (also never replied to)
    # qq/163 give an authorisation code (授权码) for IMAP; it is read from this variable, never the yaml.
    password_env: str = "HUIZONG_IMAP_PASSWORD"
    folder: str = "INBOX"
    # Handled submissions are moved here (created if missing); empty: they are flagged and left in place.
    handled_folder: str = "huizong-已处理"
    # Mail over max_message_mb is not downloaded: it is reported and moved here (empty: flagged only).
    oversized_folder: str = "huizong-过大"
    max_message_mb: float = Field(default=30, gt=0)
    timeout: float = Field(default=60, gt=0)
    reply: bool = True
    # At most this many replies to one sender in an hour: a loop with another robot stops quickly.
    replies_per_sender_per_hour: int = Field(default=5, ge=0)
    # The web form's address (as given to `huizong links --base-url`); the reply then carries the unit's link.
    web_base_url: str = Field(default="", pattern=r"^(https?://[^\s?#]+)?$")
    # A zip of photos is opened within these limits (a zip bomb stops at the first one crossed).
    zip_max_files: int = Field(default=100, ge=1)
    zip_max_total_mb: float = Field(default=200, gt=0)
    zip_max_ratio: float = Field(default=50, gt=1)

    @model_validator(mode="after")
    def _no_clear_password_over_the_network(self) -> MailIntakeSettings:
        # The mailbox's authorisation code opens every unit's mail: never sent unencrypted off the machine.
        if self.security == "none" and self.host not in ("", "127.0.0.1", "localhost", "::1"):
            raise ValueError(
                t(
                    None,
                    f"mail_intake.security 为 none 时密码会明文传输，只允许本机（127.0.0.1）；{self.host} 请用 ssl（端口 993）",
                    f"mail_intake.security none sends the password in clear: only for 127.0.0.1; "
                    f"use ssl (port 993) for {self.host}",
                )
            )
        return self
