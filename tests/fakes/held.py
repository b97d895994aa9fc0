"""What a service does with `huizong serve`'s lock, observed: `Hold` is a lock that says whether it is
held, `CheckingMailer` notes every mail sent with it held (and which claims said "sending" at that
moment), `GuardedStore` notes every store call made without it, and `CheckingMailbox` every mailbox call
made with it. For the tests of the services that take a `hold` (the reminder run, the mail intake).

Violations are recorded, not only raised: the services catch broad exceptions around their store steps
(a store error must not stop a run), which would swallow an assertion raised there.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

from functions.ports import Mailbox, MailboxMessage, Settled

SENDING = "sending"


class Hold:
    """A lock that says whether it is held (not reentrant, like serve's `threading.Lock`)."""

    def __init__(self) -> None:
        self.held = False
        self.taken = 0

    def __enter__(self) -> None:
        assert not self.held, "the lock was taken while already held (serve's lock is not reentrant)"
        self.held = True
        self.taken += 1

    def __exit__(self, *exc: object) -> None:
        self.held = False


class GuardedStore:
    """The app's store; every method call made without the lock is recorded in `unguarded` (and fails)."""

    def __init__(self, inner: Any, hold: Hold) -> None:
        self.inner = inner
        self._hold = hold
        self.unguarded: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kw: Any) -> Any:
            if not self._hold.held:
                self.unguarded.append(name)
                raise AssertionError(f"store.{name} called without the lock")
            return attr(*args, **kw)

        return call


class CheckingMailer:
    """Accepts (or answers `fail`); notes sends made with the lock held, and for each send the claims
    that said "sending" in the store when it was made (read from the unguarded store)."""

    def __init__(self, hold: Hold, store: Any, fail: Exception | None = None) -> None:
        self.hold = hold
        self.store = store
        self.fail = fail
        self.sent: list[EmailMessage] = []
        self.tries = 0
        self.sent_while_held = 0
        self.sending_at_send: list[set[str]] = []

    def send(self, message: EmailMessage) -> str:
        self.tries += 1
        self.sent_while_held += self.hold.held
        self.sending_at_send.append(
            {c.key for c in self.store.claims() if c.payload.get("result") == SENDING}
        )
        if self.fail is not None:
            raise self.fail
        self.sent.append(message)
        return f"id-{len(self.sent)}"


class CheckingMailbox:
    """A mailbox whose calls are noted when made with the lock held: IMAP is slow I/O, like SMTP."""

    def __init__(self, inner: Mailbox, hold: Hold) -> None:
        self.inner = inner
        self.hold = hold
        self.calls_while_held: list[str] = []

    def _note(self, name: str) -> None:
        if self.hold.held:
            self.calls_while_held.append(name)

    def uidvalidity(self) -> int:
        self._note("uidvalidity")
        return self.inner.uidvalidity()

    def fetch_after(self, uid: int, *, max_bytes: int) -> Iterator[MailboxMessage]:
        self._note("fetch_after")
        for message in self.inner.fetch_after(uid, max_bytes=max_bytes):
            self._note("fetch_after")
            yield message

    def settle(self, uid: int, how: str) -> Settled:
        self._note("settle")
        return self.inner.settle(uid, how)

    def close(self) -> None:
        self._note("close")
        self.inner.close()
