"""`huizong review …`: approve, return, waive and reopen a unit's submission, and list where each stands.

Each action is appended to the store (records.py) with who, when, the version and the comment. A return
also mails the unit once: the mail is claimed (`review-mail/<record key>`) before it is sent, like every
mail, so the action recorded once gives exactly one 退回 mail whatever happens after. The mail is sent
between two store steps (claim and build; record the outcome), so a caller's lock (`hold`: serve's) is
not held while a slow SMTP server takes its time.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.messages.review_mail import build_return_mail
from functions.services.review.records import (
    Action,
    ReviewRecord,
    ReviewState,
    all_records,
    append_record,
    fold,
    issue_place,
    matches,
    record_key,
    review_label,
)
from functions.services.status.unit_states import UnitStatus, unit_statuses
from schemas.i18n import Language, t
from schemas.submission import Version

log = logging.getLogger(__name__)

MAIL_PREFIX = "review-mail/"
MAX_TEXT = 2000  # a comment or reason longer than this is refused, not cut


class ReviewError(Exception):
    """An action that cannot be taken, said in the campaign's language (what, where, how to fix)."""


@dataclass(frozen=True)
class ReviewRow:
    """One (unit, deliverable) as `huizong review list` shows it."""

    unit: str
    unit_name: str
    deliverable: str
    state: str  # the validation state: valid, errors, draft, missing
    review: ReviewState
    seq: int | None
    latest_seq: int | None  # newer than seq when a later submission waits behind an approved one
    errors: int  # open (not waived) errors of the counted version
    waived: int
    comment: str

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ActionResult:
    record: ReviewRecord
    mail: str = ""  # what happened to the 退回 mail, in the campaign's language


def review_rows(app: App, *, state: str | None = None) -> list[ReviewRow]:
    rows = []
    for s in unit_statuses(app.campaign, app.roster, app.store):
        latest = app.store.latest(s.unit.code, s.deliverable.key, "submitted")
        row = ReviewRow(
            unit=s.unit.code,
            unit_name=s.unit.name,
            deliverable=s.deliverable.key,
            state=s.state,
            review=s.review,
            seq=s.version.seq if s.version else None,
            latest_seq=latest.seq if latest else None,
            errors=(s.version.error_count - len(s.waived)) if s.version else 0,
            waived=len(s.waived),
            comment=s.review_comment,
        )
        if state is None or state in (row.review, row.state):
            rows.append(row)
    return rows


_CHECKED = {
    "valid": ("校验无误", "checks passed"),
    "errors": ("校验有错误", "has errors"),
    "draft": ("未提交", "draft"),
    "missing": ("未报送", "missing"),
}


def row_text(lang: Language, row: ReviewRow) -> str:
    review = review_label(lang, row.review) or "—"
    # Not state_label: its 已通过 (passed the checks) would read like the review's 已通过 (approved).
    checked = t(lang, *_CHECKED[row.state])
    parts = [
        f"{row.unit} {row.unit_name}",
        row.deliverable,
        checked,
        t(lang, f"审核：{review}", f"review: {review}"),
    ]
    if row.seq is not None:
        parts.append(t(lang, f"第{row.seq}版", f"v{row.seq}"))
    if row.latest_seq is not None and row.seq is not None and row.latest_seq > row.seq:
        parts.append(t(lang, f"（另有第{row.latest_seq}版待重新打开后审核）",
                       f"(v{row.latest_seq} waits until reopened)"))  # fmt: skip
    if row.errors:
        parts.append(t(lang, f"错误{row.errors}个", f"{row.errors} error(s)"))
    if row.waived:
        parts.append(t(lang, f"已豁免{row.waived}个", f"{row.waived} waived"))
    if row.comment:
        parts.append(t(lang, f"意见：{row.comment}", f"comment: {row.comment}"))
    return "  ".join(parts)


def _status(app: App, unit: str, deliverable: str) -> UnitStatus:
    lang = app.campaign.language
    u = app.roster.get(unit)
    if u is None:
        raise ReviewError(t(lang, f"名单中没有单位编码 {unit!r}；请用 units.csv 中的编码（huizong review list 可列出）",
                            f"no unit with code {unit!r} in the roster; use a code from units.csv (see huizong review list)"))  # fmt: skip
    keys = [d.key for d in app.campaign.deliverables]
    if deliverable not in keys:
        raise ReviewError(t(lang, f"没有材料 {deliverable!r}；可选：{'、'.join(keys)}",
                            f"no deliverable {deliverable!r}; known: {', '.join(keys)}"))  # fmt: skip
    for s in unit_statuses(app.campaign, app.roster, app.store):
        if s.unit.code == unit and s.deliverable.key == deliverable:
            return s
    raise ReviewError(t(lang, f"单位 {unit} 不需要报送 {deliverable}（该单位类型不适用）",
                        f"unit {unit} does not send {deliverable} (not for its unit type)"))  # fmt: skip


def _latest(app: App, s: UnitStatus) -> Version:
    """The newest submitted version: what approve, return and waive apply to."""
    v = app.store.latest(s.unit.code, s.deliverable.key, "submitted")
    if v is None:
        lang = app.campaign.language
        raise ReviewError(t(lang, f"{s.unit.code} {s.unit.name} 尚未报送 {s.deliverable.key}，无可审核的版本",
                            f"{s.unit.code} {s.unit.name} has not sent {s.deliverable.key}: nothing to review"))  # fmt: skip
    return v


def _text(lang: Language, value: str, what_zh: str, what_en: str, *, required: bool) -> str:
    # One line without control characters: it is shown in cells (XML refuses most controls), mails and
    # terminals (an escape sequence must not recolour the list).
    value = " ".join(
        "".join(ch for ch in value if not unicodedata.category(ch).startswith("C") or ch.isspace()).split()
    )
    if required and not value:
        raise ReviewError(t(lang, f"请用 {what_zh} 写明原因", f"give the reason with {what_en}"))
    if len(value) > MAX_TEXT:
        raise ReviewError(t(lang, f"{what_zh} 过长（{len(value)} 字），请控制在 {MAX_TEXT} 字以内",
                            f"{what_en} is too long ({len(value)} characters); keep it under {MAX_TEXT}"))  # fmt: skip
    return value


def _record(
    app: App, action: Action, v: Version, *, by: str, now: dt.datetime, comment: str = "",
    code: str = "", cell: str = "",
) -> ReviewRecord:  # fmt: skip
    record = ReviewRecord(
        n=1, action=action, unit=v.unit, deliverable=v.deliverable, version_id=v.id, seq=v.seq,
        by=by, at=now, comment=comment, code=code, cell=cell,
    )  # fmt: skip
    return append_record(app.store, record)


def approve(
    app: App, unit: str, deliverable: str, *, by: str, now: dt.datetime, comment: str = ""
) -> ActionResult:
    lang = app.campaign.language
    s = _status(app, unit, deliverable)
    v = _latest(app, s)
    comment = _text(lang, comment, "--comment", "--comment", required=False)
    review = fold(all_records(app.store).get((unit, deliverable), []))
    if review.approved_id == v.id:
        raise ReviewError(t(lang, f"{unit} {deliverable} 第{v.seq}版已通过，无需再次通过",
                            f"{unit} {deliverable} version {v.seq} is already approved"))  # fmt: skip
    if review.approved_id is not None:
        raise ReviewError(t(lang, f"{unit} {deliverable} 已有通过的版本；要审核第{v.seq}版，请先运行 huizong review reopen",
                            f"{unit} {deliverable} has an approved version; to review version {v.seq} run huizong review reopen first"))  # fmt: skip
    open_errors = review.open_errors(v)
    if open_errors:
        first = open_errors[0]
        raise ReviewError(t(lang, f"第{v.seq}版还有{len(open_errors)}个错误（如 {issue_place(first)} {first.code}），"
                            "不能通过；请退回（review return）或逐个豁免（review waive）",
                            f"version {v.seq} still has {len(open_errors)} error(s) (e.g. {issue_place(first)} {first.code}); "
                            "return it (review return) or waive them one by one (review waive)"))  # fmt: skip
    return ActionResult(_record(app, "approve", v, by=by, now=now, comment=comment))


def reopen(
    app: App, unit: str, deliverable: str, *, by: str, now: dt.datetime, comment: str = ""
) -> ActionResult:
    lang = app.campaign.language
    s = _status(app, unit, deliverable)
    if s.review not in ("approved", "returned") or s.version is None:
        raise ReviewError(t(lang, f"{unit} {deliverable} 既未通过也未退回，无需重新打开",
                            f"{unit} {deliverable} is neither approved nor returned: nothing to reopen"))  # fmt: skip
    comment = _text(lang, comment, "--comment", "--comment", required=False)
    return ActionResult(_record(app, "reopen", _latest(app, s), by=by, now=now, comment=comment))


def waive(
    app: App, unit: str, deliverable: str, code: str, cell: str, *, by: str, now: dt.datetime, reason: str
) -> ActionResult:
    lang = app.campaign.language
    s = _status(app, unit, deliverable)
    v = _latest(app, s)
    reason = _text(lang, reason, "--reason", "--reason", required=True)
    review = fold(all_records(app.store).get((unit, deliverable), []))
    found = [e for e in v.report.errors if matches(e, code, cell)]
    if not found:
        known = "；".join(f"{e.code} {issue_place(e)}" for e in v.report.errors[:10]) or t(lang, "无", "none")
        raise ReviewError(t(lang, f"第{v.seq}版没有位于 {cell} 的错误 {code}；该版本的错误：{known}",
                            f"version {v.seq} has no error {code} at {cell}; its errors: {known}"))  # fmt: skip
    if all(e in review.waived_in(v) for e in found):
        raise ReviewError(
            t(
                lang,
                f"第{v.seq}版 {cell} 的 {code} 已豁免",
                f"{code} at {cell} of version {v.seq} is already waived",
            )
        )
    return ActionResult(_record(app, "waive", v, by=by, now=now, comment=reason, code=code, cell=cell))


def return_submission(
    app: App,
    unit: str,
    deliverable: str,
    *,
    by: str,
    now: dt.datetime,
    comment: str,
    hold: AbstractContextManager[Any] | None = None,
) -> ActionResult:
    """`hold` (serve's lock) is held while the store is read and written, and released while the 退回
    mail is sent; the CLI passes none."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    with guard:
        lang = app.campaign.language
        s = _status(app, unit, deliverable)
        v = _latest(app, s)
        comment = _text(lang, comment, "--comment", "--comment", required=True)
        review = fold(all_records(app.store).get((unit, deliverable), []))
        if review.returned_seq == v.seq and review.approved_id is None:
            raise ReviewError(t(lang, f"{unit} {deliverable} 第{v.seq}版已退回，正在等待单位重新报送",
                                f"{unit} {deliverable} version {v.seq} is already returned; waiting for the unit"))  # fmt: skip
        record = _record(app, "return", v, by=by, now=now, comment=comment)
        mail = _claim_return(app, s, v, record, now)
    return ActionResult(record, mail if isinstance(mail, str) else _send_return(app, mail, guard))


@dataclass(frozen=True)
class _ReturnMail:
    """A claimed 退回 mail, built and not yet sent: what the send step needs to record its outcome."""

    key: str
    payload: dict[str, object]
    message: EmailMessage
    addresses: str
    lang: Language


def _claim_return(
    app: App, s: UnitStatus, v: Version, record: ReviewRecord, now: dt.datetime
) -> _ReturnMail | str:
    """The store's part before sending: claim the mail and build it. A str says why there is nothing
    to send (claimed already, no address)."""
    lang = app.campaign.language
    key = MAIL_PREFIX + record_key(record.unit, record.deliverable, record.n)
    payload: dict[str, object] = {"unit": s.unit.code, "deliverable": v.deliverable, "seq": v.seq,
                                  "address": ", ".join(s.unit.emails), "result": "sending"}  # fmt: skip
    if not app.store.claim(key, payload, at=now):
        return t(lang, "退回通知已由另一次操作发送", "the return mail was already claimed")
    if not s.unit.emails:
        app.store.update_claim(key, {**payload, "result": "no address", "sent": False})
        return t(
            lang,
            "该单位没有邮箱地址，未发送退回通知；请电话告知",
            "the unit has no address: tell it by phone",
        )
    open_errors = fold(all_records(app.store).get((v.unit, v.deliverable), [])).open_errors(v)
    msg = build_return_mail(app.campaign, s.unit, v.deliverable, seq=v.seq, comment=record.comment,
                            issues=open_errors, key=key, now=now)  # fmt: skip
    return _ReturnMail(key, payload, msg, ", ".join(s.unit.emails), lang)


def _send_return(app: App, mail: _ReturnMail, guard: AbstractContextManager[Any]) -> str:
    """Send outside the lock, then take it again to record the outcome. Meanwhile the claim says
    "sending", so neither another return nor retry_return_mails sends this mail again."""
    lang, key, payload = mail.lang, mail.key, mail.payload
    try:
        app.mailer.send(mail.message)
    except MailRefused as exc:
        # Nothing was sent: the claim is released so the next run sends it (retry_return_mails); an
        # uncertain send below keeps its claim and is never repeated.
        with guard:
            app.store.release(key)
        return t(
            lang,
            f"退回通知被邮件服务器拒绝，未发送：{exc}；下次运行（huizong run / remind）时会重发",
            f"the return mail was refused, not sent: {exc}; the next run (huizong run / remind) sends it again",
        )
    except (MailUncertain, MailNotPermitted) as exc:
        with guard:
            app.store.update_claim(key, {**payload, "result": f"uncertain: {exc}", "sent": False})
        return t(
            lang,
            f"退回通知发送结果不明（不重发）：{exc}",
            f"the return mail may not have arrived (not resent): {exc}",
        )
    with guard:
        app.store.update_claim(key, {**payload, "result": "sent", "sent": True})
    return t(lang, f"已向 {mail.addresses} 发送退回通知", f"return mail sent to {mail.addresses}")


def retry_return_mails(
    app: App, *, now: dt.datetime, hold: AbstractContextManager[Any] | None = None
) -> list[str]:
    """Send the 退回 mails a refusal left unsent: a return record without its mail claim, while the
    (unit, deliverable) is still returned at that record (a resubmission or a later action since makes
    the mail pointless). A claim that exists (sent, uncertain, no address) is never sent again.

    `hold` (serve's lock) is taken for the store's steps (what is owed, each claim, each outcome) and
    released while each mail is sent, as in return_submission."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    sent: list[str] = []
    with guard:
        claimed = {c.key for c in app.store.claims(MAIL_PREFIX)}
        records = all_records(app.store)
        statuses = {
            (s.unit.code, s.deliverable.key): s for s in unit_statuses(app.campaign, app.roster, app.store)
        }
    for key, recs in records.items():
        s = statuses.get(key)
        last = recs[-1] if recs else None
        if s is None or last is None or last.action != "return" or s.review != "returned":
            continue
        if MAIL_PREFIX + record_key(last.unit, last.deliverable, last.n) in claimed:
            continue
        with guard:
            history = app.store.history(last.unit, last.deliverable)
            v = next((v for v in history if v.id == last.version_id), None)
            # The claim is create-if-absent: a return made from the console since the list above was
            # read claims the same key, so the mail still goes once.
            mail = None if v is None else _claim_return(app, s, v, last, now)
        if mail is None:
            continue
        outcome = mail if isinstance(mail, str) else _send_return(app, mail, guard)
        sent.append(f"{s.unit.code} {s.unit.name} {last.deliverable}: {outcome}")
    return sent
