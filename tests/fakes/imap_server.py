"""A scripted IMAP connection (the part of imaplib.IMAP4 ImapMailbox uses) with configurable
capabilities: for what the adapter does on servers without MOVE or UIDPLUS, without a network."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ScriptedImap:
    after_login: tuple[str, ...] = ("IMAP4REV1",)  # what CAPABILITY answers once logged in
    # imaplib's own attribute: the greeting's list, which lacks what the server announces after login
    capabilities: tuple[str, ...] = ("IMAP4REV1",)
    answers_capability: bool = True
    # folder -> uid -> flags; the selected folder is INBOX
    folders: dict[str, dict[int, set[str]]] = field(default_factory=lambda: {"INBOX": {}})
    calls: list[str] = field(default_factory=list)
    _next: int = 1000

    def capability(self) -> tuple[str, list[bytes]]:
        if not self.answers_capability:
            return "BAD", [b"unknown command"]
        return "OK", [" ".join(self.after_login).encode()]

    def login(self, user: str, password: str) -> tuple[str, list[bytes]]:
        return "OK", [b"logged in"]

    def select(self, mailbox: str) -> tuple[str, list[bytes]]:
        return ("OK", [b"1"]) if mailbox.strip('"') in self.folders else ("NO", [b"no such folder"])

    def create(self, mailbox: str) -> tuple[str, list[bytes]]:
        self.calls.append("CREATE")
        self.folders.setdefault(mailbox.strip('"'), {})
        return "OK", [b""]

    def expunge(self) -> tuple[str, list[bytes]]:
        # A plain EXPUNGE removes every \Deleted message of the folder, the organiser's too.
        self.calls.append("EXPUNGE")
        inbox = self.folders["INBOX"]
        for uid in [u for u, flags in inbox.items() if "\\Deleted" in flags]:
            del inbox[uid]
        return "OK", [b""]

    def uid(self, command: str, *args: str) -> tuple[str, list[bytes]]:
        self.calls.append(f"UID {command}")
        inbox = self.folders["INBOX"]
        if command == "STORE":
            uid, _mode, flags = args
            inbox[int(uid)] |= set(flags.strip("()").split())
        elif command in ("COPY", "MOVE"):
            if command == "MOVE" and "MOVE" not in self.after_login + self.capabilities:
                return "BAD", [b"unknown command"]
            uid, folder = int(args[0]), args[1].strip('"')
            self._next += 1
            self.folders[folder][self._next] = set(inbox[uid])
            if command == "MOVE":
                del inbox[uid]
        elif command == "EXPUNGE":
            if "UIDPLUS" not in self.after_login + self.capabilities:
                return "BAD", [b"unknown command"]
            uid = int(args[0])
            if "\\Deleted" in inbox.get(uid, set()):
                del inbox[uid]
        else:
            return "BAD", [command.encode()]
        return "OK", [b""]

    def close(self) -> tuple[str, list[bytes]]:
        # CLOSE expunges the selected folder's \Deleted messages (RFC 3501 §6.4.2), like EXPUNGE.
        self.expunge()
        self.calls[-1] = "CLOSE"
        return "OK", [b""]

    def logout(self) -> tuple[str, list[bytes]]:
        return "BYE", [b""]
