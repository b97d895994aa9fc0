"""A mailer (the Mailer port) for retry tests: it fails with the given exceptions in turn (MailRefused,
MailUncertain…), then accepts, and keeps what it accepted and how often it was tried."""

from __future__ import annotations

from email.message import EmailMessage


class ScriptedMailer:
    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.sent: list[EmailMessage] = []
        self.tries = 0

    def send(self, message: EmailMessage) -> str:
        self.tries += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"id-{len(self.sent)}"
