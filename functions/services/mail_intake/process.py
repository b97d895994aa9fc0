"""One message from the units' mailbox, start to end: claim, read, ingest each workbook, hand over the
evidence files, record, reply. The IMAP run (`huizong mail-intake`, serve, run) and the SES route
(functions/handlers/mail_s3.py) both call `process_message` with the raw bytes.

Every message is claimed by its Message-ID before anything happens (`mail-msg/…`), so a message seen
twice (the same mail in two folders, a UIDVALIDITY reset, an S3 event delivered again) is processed
once. The claim's payload is the message's handling record: what it held, what became of each file,
whether it was answered. The reply is its own claim (`mail-reply/…`), taken before sending, as every
mail huizong sends.

`hold` (`huizong serve`'s lock) is taken for the store's steps (the claims, the ingest, the records, the
cursor) and released while a reply is sent and while the mailbox is read, so neither a slow SMTP nor a
slow IMAP server holds the web form's saves. The CLI and the SES route pass none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import tempfile
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from functions.app import App
from functions.ports import Mailbox, MailboxError
from functions.services.intake.attachments import IncomingFile, incoming
from functions.services.intake.ingest import IngestOutcome, ingest_raw
from functions.services.intake.kept_workbook import ReceivedWorkbook
from functions.services.intake.peers import PeerStats
from functions.services.intake.unread import guess_unit, record_unread
from functions.services.mail_intake.evidence import link_files_to_workbook, receive_evidence_files
from functions.services.mail_intake.reading import MailFile, ReadMail, read_headers, read_mail
from functions.services.mail_intake.records import MESSAGE_PREFIX
from functions.services.mail_intake.reply import (
    ClaimedReply,
    WorkbookLine,
    claim_reply,
    deliver_reply,
)
from functions.services.mail_intake.retry import RetryLine, retry_refused_replies
from functions.validate import codes
from functions.validate.messages import make_issue
from functions.validate.validator import validate_submission
from schemas.mail_intake import MailIntakeSettings
from schemas.raw import ClaimedIdentity, RawSubmission
from schemas.roster import Unit

log = logging.getLogger(__name__)

CURSOR_META = "mail-cursor/"
Kind = Literal["submission", "not-submission", "oversized", "auto", "own", "duplicate"]
Settle = Literal["handled", "aside", "left"]


@dataclass
class WorkbookResult:
    name: str
    unit: str | None
    deliverable: str | None
    valid: bool
    stored: bool
    seq: int | None
    errors: int
    warnings: int
    note: str  # "", "unchanged", "unreadable", "unidentified"
    unit_by: str  # "workbook", "sender", "mail-text", ""


@dataclass
class MessageResult:
    message_id: str
    sender: str
    subject: str
    kind: Kind
    settle: Settle
    uid: int | None = None
    workbooks: list[WorkbookResult] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    problems: list[dict[str, str]] = field(default_factory=list)
    reply: str = ""  # a ReplyOutcome, or why none was sent
    auto: str = ""
    settled: str = ""  # what the mailbox did with it (ports.Settled); "" before it is settled

    def record(self, received_at: dt.datetime) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = received_at.isoformat()
        return data


def settings_of(app: App) -> MailIntakeSettings:
    return app.campaign.mail_intake or MailIntakeSettings()


def message_key(message_id: str) -> str:
    return MESSAGE_PREFIX + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]


def _own_addresses(app: App) -> set[str]:
    settings = settings_of(app)
    return {a.lower() for a in (app.campaign.mail.sender, settings.user) if a}


def process_message(
    app: App,
    raw: bytes,
    *,
    received_at: dt.datetime,
    now: dt.datetime,
    truncated: bool = False,
    size: int = 0,
    uid: int | None = None,
    dry_run: bool = False,
    peers: PeerStats | None = None,
    hold: AbstractContextManager[Any] | None = None,
) -> MessageResult:
    """Process one raw message once (by its Message-ID); never raises for what the message holds.
    `hold`: see the module docstring (taken here for the store's steps, released for the reply's send)."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    settings = settings_of(app)
    received_at = min(received_at, now)
    try:
        head = read_headers(raw)
    except Exception:  # bytes no parser makes sense of: still claimed once, by their digest
        digest = "<" + hashlib.sha256(raw).hexdigest()[:40] + "@unreadable>"
        head = ReadMail(digest, "", "", "", "", [], "unreadable message")
    key = message_key(head.message_id)
    base = MessageResult(
        head.message_id, head.sender, head.subject, "submission", "handled", uid, auto=head.auto
    )
    reply: ClaimedReply | None = None
    with guard:
        if not dry_run and not app.store.claim(key, {"state": "processing", "uid": uid}, at=now):
            # Seen before: this copy goes where the first one went, and nothing else happens.
            earlier = next((c.payload for c in app.store.claims(key) if c.key == key), {})
            base.kind = "duplicate"
            if "kind" in earlier:
                base.settle, base.reply = earlier.get("settle", "handled"), "duplicate"
            else:
                # Claimed by a run that stopped (or is still running) before recording the result: it is
                # not processed again, and not moved either, so the organiser still sees it in the inbox.
                base.settle, base.reply = "left", "interrupted earlier: left for the organiser"
            return base
        try:
            result, reply = _process(
                app,
                raw,
                head,
                base,
                settings,
                received_at=received_at,
                now=now,
                truncated=truncated,
                size=size,
                dry_run=dry_run,
                peers=peers,
            )
        except Exception as exc:
            # One hostile message must never stop the mailbox: it waits for the organiser.
            log.exception("mail %s could not be processed", head.message_id)
            _failed(base, exc)
            result = base
        if not dry_run and reply is None:
            app.store.update_claim(key, result.record(received_at))
    if reply is None:
        return result
    # The reply was claimed and built under the guard; it is sent outside it (deliver_reply takes the
    # guard again for its outcome), and the message's record, which says what became of the reply, after.
    try:
        result.reply = deliver_reply(app, reply, now=now, hold=guard)
    except Exception as exc:  # its outcome could not be recorded (a store error): as a failed message
        log.exception("mail %s could not be processed", head.message_id)
        _failed(result, exc)
    with guard:
        app.store.update_claim(key, result.record(received_at))
    return result


def _failed(result: MessageResult, exc: Exception) -> None:
    result.kind, result.settle = "not-submission", "left"
    result.problems.append({"kind": "failed", "name": "", "detail": type(exc).__name__})


def _process(
    app: App,
    raw: bytes,
    head: ReadMail,
    result: MessageResult,
    settings: MailIntakeSettings,
    *,
    received_at: dt.datetime,
    now: dt.datetime,
    truncated: bool,
    size: int,
    dry_run: bool,
    peers: PeerStats | None,
) -> tuple[MessageResult, ClaimedReply | None]:
    """The message's result, and its reply when one was claimed and built but not yet sent."""
    own = head.sender in _own_addresses(app)
    if truncated:
        result.kind, result.settle = "oversized", "aside"
        result.problems.append(
            {
                "kind": "oversized",
                "name": "",
                "detail": f"{size / 1024 / 1024:.1f}MB>{settings.max_message_mb:g}MB",
            }
        )
        return _answer(app, head, result, [], settings, now=now, dry_run=dry_run, own=own)
    if own:
        # Our own replies (or a copy of them) in the mailbox: never processed, never answered.
        result.kind, result.settle, result.reply = "own", "left", "own address"
        return result, None
    mail = read_mail(raw, settings)
    result.problems = [asdict(p) for p in mail.problems]
    if not mail.workbooks and not mail.evidence:
        # A question, a thank-you, an auto-reply: the organiser reads it; it stays unread and unflagged.
        result.kind, result.settle = ("auto" if head.auto else "not-submission"), "left"
        result.reply = "not a submission"
        return result, None
    peers = peers or PeerStats(app.store, [d.key for d in app.campaign.deliverables])
    books = [(book, *_read_book(app, mail, book, number)) for number, book in enumerate(mail.workbooks, 1)]
    units = {raw.unit_code for _, raw, _ in books if raw.unit_code and app.roster.get(raw.unit_code)}
    if len(units) == 1:
        evidence_unit: str | None = next(iter(units))
    else:
        found = _unit_of_mail(app, mail)[0]
        evidence_unit = found.code if found is not None and not units else None
    # The mail's photos and documents go with its workbooks (checked against the deliverables' rules and
    # stored with the version) when every workbook in it is one unit's; a coordinator's mail with several
    # units' workbooks cannot say whose photos they are, so they are only listed for the organiser.
    with_files = bool(mail.evidence) and _asks_for_files(app) and len(units) == 1
    files = incoming([(f.name, f.data) for f in mail.evidence]) if with_files else None
    lines: list[WorkbookLine] = []
    for book, raw, unit_by in books:
        outcome = _ingest_book(
            app, book, raw, received_at=received_at, now=now, dry_run=dry_run, peers=peers, files=files
        )
        result.workbooks.append(
            WorkbookResult(
                book.name,
                outcome.unit,
                outcome.deliverable,
                outcome.valid,
                outcome.stored,
                outcome.seq,
                outcome.errors,
                outcome.warnings,
                outcome.note,
                unit_by,
            )
        )
        lines.append(WorkbookLine(book.name, outcome))
    if mail.evidence and not dry_run:
        result.evidence = receive_evidence_files(
            app,
            unit=evidence_unit,
            source=f"mail:{head.message_id}",
            files=mail.evidence,
            received_at=received_at,
            attached=with_files,
        )
        kept_books = [
            b for (b, _, _), w in zip(books, result.workbooks, strict=True) if w.note == "unidentified"
        ]
        if not with_files and len(books) == 1 and kept_books:
            # The mail's one workbook is kept for `huizong assign`: its files go with it then.
            link_files_to_workbook(app.store, kept_books[0].sha256, mail.evidence)
    elif mail.evidence:
        result.evidence = {
            "unit": evidence_unit,
            "count": len(mail.evidence),
            "attached": with_files,
            "files": [{"name": f.name, "size": len(f.data)} for f in mail.evidence],
        }
    return _answer(app, mail, result, lines, settings, now=now, dry_run=dry_run, own=own)


def _answer(
    app: App,
    mail: ReadMail,
    result: MessageResult,
    lines: list[WorkbookLine],
    settings: MailIntakeSettings,
    *,
    now: dt.datetime,
    dry_run: bool,
    own: bool,
) -> tuple[MessageResult, ClaimedReply | None]:
    """Set why no reply goes, or claim and build the reply, which the caller sends (result.reply says
    "sending" until then)."""
    if own:
        result.reply = "own address"
    elif mail.auto:
        result.reply = f"auto: {mail.auto}"
    elif not settings.reply:
        result.reply = "replies off"
    elif not mail.sender:
        result.reply = "no sender address"
    elif dry_run:
        result.reply = "dry run"
    else:
        claimed = claim_reply(app, mail, result, lines, now=now)
        if not isinstance(claimed, str):
            result.reply = "sending"
            return result, claimed
        result.reply = claimed
    return result, None


def _read_book(app: App, mail: ReadMail, book: MailFile, number: int) -> tuple[RawSubmission, str]:
    """One workbook of the mail, read from a private temp file (its name is ours, never the mail's), and
    how its unit was found."""
    suffix = "." + book.name.rsplit(".", 1)[-1].lower()
    with tempfile.TemporaryDirectory(prefix="huizong-mail-") as tmp:
        path = Path(tmp) / f"attachment{suffix if suffix in ('.xlsx', '.xlsm', '.xls') else '.xlsx'}"
        path.write_bytes(book.data)
        raw = app.read_workbook(path, app.campaign, app.roster)
    # The source names the message and the file; `mail:<Message-ID>` first, as every channel's source.
    raw.source = f"mail:{mail.message_id}#{number} {book.name}"
    unit_by = "workbook" if raw.unit_code and app.roster.get(raw.unit_code) else ""
    if _no_identity(raw):
        unit_by = _identify(app, mail, book, raw)
    return raw, unit_by


def _asks_for_files(app: App) -> bool:
    return any(d.attachments for d in app.campaign.deliverables)


def _ingest_book(
    app: App,
    book: MailFile,
    raw: RawSubmission,
    *,
    received_at: dt.datetime,
    now: dt.datetime,
    dry_run: bool,
    peers: PeerStats,
    files: list[IncomingFile] | None,
) -> IngestOutcome:
    if dry_run:
        ctx = peers.context_for(raw.unit_code, checked_at=now)
        parsed, report = validate_submission(raw, app.campaign, app.roster, ctx)
        note = "" if parsed else "unidentified"
        return IngestOutcome(
            raw.source,
            report.unit,
            report.deliverable,
            report.valid,
            False,
            None,
            len(report.errors),
            len(report.warnings),
            note,
            report,
        )
    workbook = ReceivedWorkbook(name=book.name, data=book.data)
    outcome = ingest_raw(
        app, raw, received_at=received_at, now=now, peers=peers, files=files, workbook=workbook
    )
    if outcome.seq is None and outcome.report is not None:
        # Nothing stored: the organiser's list of files not read or not tied to a unit shows it. The
        # bytes are kept (by their digest, like evidence files): a mailed workbook has no file in the
        # inbox, and `huizong assign` reads it from the store once the organiser knows whose it is.
        app.store.put_blob(book.sha256, book.data)
        record_unread(
            app.store,
            path=Path(book.name),
            sha256=book.sha256,
            report=outcome.report,
            note=outcome.note or "unreadable",
            inbox=None,
            roster=app.roster,
            received_at=received_at,
            now=now,
        )
    return outcome


def _no_identity(raw: RawSubmission) -> bool:
    return raw.unit_code is None and any(i.code == codes.UNKNOWN_UNIT_NO_IDENTITY.code for i in raw.issues)


def _unit_of_mail(app: App, mail: ReadMail, name: str = "") -> tuple[Unit | None, str, str]:
    """The unit a mail points to when its workbook does not say: (unit, how, the clue)."""
    by_sender = [u for u in app.roster.units if mail.sender and mail.sender in (e.lower() for e in u.emails)]
    if len(by_sender) == 1:
        return by_sender[0], "sender", mail.sender
    # A subject may hold "/" (never a path here): only the text matters to guess_unit.
    for text in (mail.subject, name.rsplit(".", 1)[0]):
        clean = text.replace("/", " ").replace("\\", " ")
        if clean:
            unit, _how = guess_unit(Path(clean + ".x"), None, app.roster)
            if unit is not None:
                return unit, "mail-text", clean[:60]
    return None, "", ""


def _identify(app: App, mail: ReadMail, book: MailFile, raw: RawSubmission) -> str:
    """Tie a workbook that names no unit to the unit the mail points to (issue 16 order: the sender's
    address in the roster's 邮箱, then a unit name or code in the subject or the file name)."""
    unit, how, clue = _unit_of_mail(app, mail, book.name)
    if unit is None:
        return ""
    lang = app.campaign.language
    raw.unit_code, raw.unit_name, raw.claimed = unit.code, unit.name, ClaimedIdentity()
    raw.issues = [i for i in raw.issues if i.code != codes.UNKNOWN_UNIT_NO_IDENTITY.code]
    kind = codes.UNIT_BY_SENDER if how == "sender" else codes.UNIT_BY_MAIL_TEXT
    raw.issues.append(make_issue(kind, lang, value=clue, unit_code=unit.code))
    if raw.deliverable is not None:
        d = app.campaign.deliverable(raw.deliverable)
        if not d.applies_to(unit.type):
            raw.issues.append(
                make_issue(
                    codes.WRONG_DELIVERABLE_NOT_REQUIRED, lang, found=d.title(lang), unit_type=unit.type
                )
            )
    return how


# ---- the mailbox ------------------------------------------------------------------------------------


@dataclass
class MailIntakeResult:
    messages: list[MessageResult] = field(default_factory=list)
    uidvalidity_changed: bool = False
    error: str = ""  # the mailbox could not be read (the message says what to check)
    retried: list[RetryLine] = field(default_factory=list)  # refused replies sent again (retry.py)

    @property
    def marked_deleted(self) -> int:
        """Messages copied to their folder but left in the read folder flagged \\Deleted (no MOVE, no
        UIDPLUS on the server): the organiser's client removes them when it next expunges."""
        return sum(m.settled == "marked-deleted" for m in self.messages)


def _cursor_key(settings: MailIntakeSettings) -> str:
    return f"{CURSOR_META}{settings.user}/{settings.folder}"


def run_mail_intake(
    app: App,
    mailbox: Mailbox,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    hold: AbstractContextManager[Any] | None = None,
) -> MailIntakeResult:
    """Every new message of the mailbox (by UIDVALIDITY + UID), oldest first.

    The cursor moves past a message only once it is processed and settled, so a run that stops half-way
    resumes at the message it was on; that message's claim makes the second try change nothing.
    `hold`: see the module docstring (the mailbox's own calls are made without it).
    """
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    settings = settings_of(app)
    result = MailIntakeResult()
    if not dry_run:
        # Before new mail: the replies a server refused last time go out first, once each.
        result.retried = retry_refused_replies(app, now=now, hold=hold)
        for line in result.retried:
            log.info("refused reply to %s (%s) retried: %s", line.to, line.message_id, line.result)
    key = _cursor_key(settings)
    try:
        validity = mailbox.uidvalidity()
        with guard:
            cursor = json.loads(app.store.get_meta(key) or "{}")
            peers = PeerStats(app.store, [d.key for d in app.campaign.deliverables])
        last = int(cursor.get("uid", 0)) if int(cursor.get("uidvalidity", -1)) == validity else 0
        # A changed UIDVALIDITY: every UID is new. Read from the start; the Message-ID claims keep each
        # message processed once.
        result.uidvalidity_changed = bool(cursor) and int(cursor.get("uidvalidity", -1)) != validity
        max_bytes = int(settings.max_message_mb * 1024 * 1024)
        for message in mailbox.fetch_after(last, max_bytes=max_bytes):
            outcome = process_message(
                app,
                message.raw,
                received_at=message.received_at or now,
                now=now,
                truncated=message.truncated,
                size=message.size,
                uid=message.uid,
                dry_run=dry_run,
                peers=peers,
                hold=hold,
            )
            result.messages.append(outcome)
            if dry_run:
                continue
            outcome.settled = mailbox.settle(message.uid, outcome.settle)
            with guard:
                if outcome.kind != "duplicate":  # a duplicate's record is the first copy's; it stays
                    # The record was written before the move; it now says what the mailbox did too.
                    received = min(message.received_at or now, now)
                    app.store.update_claim(message_key(outcome.message_id), outcome.record(received))
                app.store.set_meta(key, json.dumps({"uidvalidity": validity, "uid": message.uid}))
    except MailboxError as exc:
        result.error = str(exc)
    finally:
        mailbox.close()
    return result


def read_mailbox(
    app: App,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    hold: AbstractContextManager[Any] | None = None,
) -> MailIntakeResult | None:
    """The campaign's mailbox, read once; None when campaign.yaml has no `mail_intake` host. `hold`:
    `huizong serve`'s lock (see the module docstring)."""
    if app.mailbox_factory is None:
        return None
    try:
        mailbox = app.mailbox_factory()
    except MailboxError as exc:
        return MailIntakeResult(error=str(exc))
    return run_mail_intake(app, mailbox, now=now, dry_run=dry_run, hold=hold)
