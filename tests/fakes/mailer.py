"""Mailers (the Mailer port) for tests. ScriptedMailer, for retry tests: it fails with the given exceptions
in turn (MailRefused, MailUncertain…), then accepts, and keeps what it accepted and how often it was
tried. BlockingMailer: a send that waits until the test releases it."""

from __future__ import annotations

import threading
from email.message import EmailMessage

from functions.ports import MailUncertain


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


class BlockingMailer:
    """A slow SMTP server: each send waits until `release` is set (or `fail` is raised then), so a test
    can check what else runs while a mail is on its way. `entered` is set when a send has started.
    Every wait has a timeout: a test that never releases fails instead of hanging."""

    def __init__(self, *, fail: Exception | None = None, timeout: float = 30.0) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail
        self.timeout = timeout
        self.sent: list[EmailMessage] = []
        self.tries = 0

    def send(self, message: EmailMessage) -> str:
        self.tries += 1
        self.entered.set()
        if not self.release.wait(self.timeout):
            raise MailUncertain("BlockingMailer was never released")
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return f"id-{len(self.sent)}"
