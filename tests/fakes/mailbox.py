"""An in-memory IMAP folder: UIDs, UIDVALIDITY, flags and moves, as the Mailbox port sees them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from functions.ports import MailboxError, MailboxMessage, Settled


@dataclass
class FakeMessage:
    uid: int
    raw: bytes
    received_at: dt.datetime
    flags: set[str] = field(default_factory=set)
    folder: str = "INBOX"


class FakeMailbox:
    """One folder (INBOX); `settle` moves to "handled"/"aside" folders as ImapMailbox would: with MOVE or
    UIDPLUS the message leaves INBOX; without both, a copy goes to the folder and the original stays in
    INBOX flagged \\Deleted (never expunged, with the organiser's own deleted mail)."""

    def __init__(self, *, uidvalidity: int = 1, capabilities: frozenset[str] = frozenset({"MOVE"})) -> None:
        self.validity = uidvalidity
        self.capabilities = capabilities
        self.messages: list[FakeMessage] = []
        self.closed = 0
        self.fail_fetch = False
        self._next = 1

    def deliver(self, raw: bytes, *, at: dt.datetime | None = None) -> int:
        uid = self._next
        self._next += 1
        self.messages.append(FakeMessage(uid, raw, at or dt.datetime(2022, 11, 20, 9, tzinfo=dt.UTC)))
        return uid

    def renumber(self) -> None:
        """What a server does when UIDVALIDITY changes: every message gets a new UID."""
        self.validity += 1
        for m in self.messages:
            m.uid = self._next
            self._next += 1

    def in_folder(self, folder: str) -> list[FakeMessage]:
        return [m for m in self.messages if m.folder == folder]

    # ---- the port ----
    def uidvalidity(self) -> int:
        return self.validity

    def fetch_after(self, uid: int, *, max_bytes: int) -> Iterator[MailboxMessage]:
        if self.fail_fetch:
            raise MailboxError("connection reset")
        for m in sorted(self.in_folder("INBOX"), key=lambda m: m.uid):
            if m.uid <= uid:
                continue
            if len(m.raw) > max_bytes:
                header = m.raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0] + b"\r\n\r\n"
                yield MailboxMessage(m.uid, len(m.raw), header, True, m.received_at)
            else:
                yield MailboxMessage(m.uid, len(m.raw), m.raw, False, m.received_at)

    def settle(self, uid: int, how: str) -> Settled:
        if how == "left":
            return "left"
        folder = "handled" if how == "handled" else "aside"
        for m in list(self.messages):
            if m.uid == uid and m.folder == "INBOX":
                m.flags |= {"\\Seen", "\\Flagged"}
                if self.capabilities & {"MOVE", "UIDPLUS"}:
                    m.folder = folder
                    return "moved"
                self.messages.append(FakeMessage(self._next, m.raw, m.received_at, set(m.flags), folder))
                self._next += 1
                m.flags.add("\\Deleted")
                return "marked-deleted"
        return "left"

    def close(self) -> None:
        self.closed += 1
