"""Amazon SES (API v2) transport: the raw MIME message, so reminders look the same on every transport.

Refusals SES states before accepting (unverified sender, suspended account, throttling, a bad request,
a connection that never reached it) are MailRefused and retried on the next run; a lost reply after the
request went out is MailUncertain.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from functions.adapters.mail_smtp import envelope_recipients, without_bcc
from functions.ports import MailRefused, MailUncertain
from schemas.campaign import SesSettings

_REFUSED_CODES = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "MailFromDomainNotVerified",
        "AccountSuspendedException",
        "AccountSuspended",
        "SendingPausedException",
        "SendingPaused",
        "BadRequestException",
        "BadRequest",
        "NotFoundException",
        "NotFound",
        "LimitExceededException",
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
    }
)


class RateLimiter:
    """At most `per_second` sends per second (SES accounts have a maximum send rate)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class SesMailer:
    def __init__(
        self, settings: SesSettings, sender: str, *, client: Any, limiter: RateLimiter | None = None
    ):
        self.settings = settings
        self.sender = sender
        self.client = client
        self.limiter = limiter or RateLimiter(settings.rate_per_second)

    def send(self, message: EmailMessage) -> str:
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            EndpointConnectionError,
            ReadTimeoutError,
        )

        recipients = envelope_recipients(message)
        if not recipients:
            raise MailRefused("邮件没有收件人")
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": recipients},
            "Content": {"Raw": {"Data": without_bcc(message)}},
        }
        if self.settings.configuration_set:
            request["ConfigurationSetName"] = self.settings.configuration_set
        self.limiter.wait()
        try:
            reply = self.client.send_email(**request)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            text = str(exc.response.get("Error", {}).get("Message", ""))
            if code in _REFUSED_CODES:
                raise MailRefused(f"SES 拒绝发送（{code}）：{text}") from exc
            raise MailUncertain(f"SES 返回未知错误（{code}）：{text}") from exc
        except EndpointConnectionError as exc:
            raise MailRefused(f"无法连接 SES：{exc}") from exc
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            raise MailUncertain(f"SES 未答复，邮件可能已发送：{exc}") from exc
        return str(reply.get("MessageId", ""))
