"""Amazon SES (API v2) transport: the raw MIME message, so reminders look the same on every transport.

Refusals SES states before accepting (unverified sender, suspended account, throttling, a bad request,
a connection that never reached it) are MailRefused and retried on the next run; a lost reply after the
request went out, or a server-side failure, is MailUncertain. A refusal for permissions (the role may not
send from this identity in this region) is MailNotPermitted: retrying cannot help, the digest reports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from functions.adapters.mail.smtp import envelope_recipients, wire_bytes
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from schemas.campaign import SesSettings
from schemas.i18n import Language, t

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

# Error codes SES answers before sending anything (with and without the "Exception" suffix, which
# differs between the v1 and v2 APIs and botocore versions).
_REFUSED = frozenset({
    "MessageRejected", "MailFromDomainNotVerified", "AccountSuspended", "SendingPaused", "BadRequest",
    "NotFound", "LimitExceeded", "TooManyRequests", "Throttling",
})  # fmt: skip
_THROTTLED = frozenset({"TooManyRequests", "Throttling", "LimitExceeded"})
# IAM's answer when the role may not call SendEmail on this identity or configuration set (a policy that
# names another region than the one the mailer sends in gives exactly this).
_NOT_PERMITTED = frozenset({"AccessDenied", "NotAuthorized", "UnauthorizedOperation"})


def _base_code(code: str) -> str:
    return code.removesuffix("Exception")


def ses_client(region: str, *, endpoint_url: str | None = None, read_timeout: float = 30.0) -> Any:
    """A sesv2 client that never retries by itself.

    botocore's default retries repeat a request after a read timeout or a dropped connection, which for
    SendEmail may mean a second copy; the claim/retry logic of the reminder service decides instead.
    """
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=read_timeout
    )
    return boto3.client("sesv2", region_name=region, endpoint_url=endpoint_url, config=config)


class RateLimiter:
    """At most `per_second` sends per second (an SES account has a maximum send rate)."""

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
        self._next: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if self._next is not None and now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class SesMailer:
    def __init__(
        self,
        settings: SesSettings,
        sender: str,
        *,
        client: Any,
        limiter: RateLimiter | None = None,
        language: Language = "zh",
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.client = client
        self.limiter = limiter or RateLimiter(settings.rate_per_second)
        self.language = language
        self.region = str(getattr(getattr(client, "meta", None), "region_name", "") or settings.region)

    def send(self, message: EmailMessage) -> str:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            ParamValidationError,
            PartialCredentialsError,
        )

        recipients = envelope_recipients(message)
        if not recipients:
            raise MailRefused(t(self.language, "邮件没有收件人", "the message has no recipients"))
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": recipients},
            "Content": {"Raw": {"Data": wire_bytes(message)}},
        }
        if self.settings.configuration_set:
            request["ConfigurationSetName"] = self.settings.configuration_set
        self.limiter.wait()
        try:
            reply = self.client.send_email(**request)
        except ClientError as exc:
            raise self._classify(exc) from exc
        except (
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
            ParamValidationError,
        ) as exc:
            # The request never left (or never reached SES): nothing was sent.
            raise MailRefused(t(self.language, f"无法连接 SES：{exc}", f"cannot reach SES: {exc}")) from exc
        except BotoCoreError as exc:
            # ReadTimeoutError, ConnectionClosedError and the like: SES may have the message.
            raise MailUncertain(
                t(
                    self.language,
                    f"SES 未答复，邮件可能已发送：{exc}",
                    f"no answer from SES; it may have been sent: {exc}",
                )
            ) from exc
        return str(reply.get("MessageId", ""))

    def _classify(self, exc: ClientError) -> MailRefused | MailUncertain | MailNotPermitted:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        text = str(error.get("Message", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        base = _base_code(code)
        if base in _NOT_PERMITTED:
            return MailNotPermitted(
                t(
                    self.language,
                    f"SES 拒绝：无权以 {self.sender} 在区域 {self.region} 发信（{code}）：{text}。"
                    "请确认发件身份已在该区域验证，且部署模板的 SesRegion 与该区域一致（docs/deploy.md）；"
                    "修正前不会自动重试。",
                    f"SES refused: no permission to send as {self.sender} in region {self.region} "
                    f"({code}): {text}. Check that the identity is verified in that region and that the "
                    "template's SesRegion is that region (docs/deploy.md); not retried until fixed.",
                )
            )
        if base in _THROTTLED:
            return MailRefused(
                t(
                    self.language,
                    f"SES 限流或超出配额（{code}），下次运行时重试：{text}",
                    f"SES throttled or over quota ({code}); retried next run: {text}",
                )
            )
        # A 4xx is a request SES did not act on, whatever its code; a 5xx may have been half done.
        if base in _REFUSED or 400 <= status < 500:
            return MailRefused(
                t(self.language, f"SES 拒绝发送（{code}）：{text}", f"SES refused ({code}): {text}")
            )
        return MailUncertain(
            t(
                self.language,
                f"SES 返回未知错误（{code}），邮件可能已发送：{text}",
                f"SES failed ({code}); it may have been sent: {text}",
            )
        )
