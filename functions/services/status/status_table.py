"""`huizong status`: units × deliverables, as a table for a Chinese terminal or as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.app import App
from functions.services.intake.unread import unread_files, unread_note
from functions.services.reminders.stuck import resend_command, stuck_reminders
from functions.services.status.unit_states import count_by_deliverable, overdue_missing, unit_statuses
from functions.sheet_model import display_width
from schemas.i18n import state_label, t


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def status_json(app: App, now: dt.datetime | None = None) -> dict[str, Any]:
    now = _now(now)
    statuses = unit_statuses(app.campaign, app.roster, app.store)
    counts = count_by_deliverable(app.campaign, statuses)
    overdue = overdue_missing(app.campaign, statuses, now)
    return {
        "campaign": app.campaign.id,
        "deliverables": [
            {
                "key": c.deliverable.key,
                "expected": c.expected,
                "submitted": c.submitted,
                "valid": c.valid,
                "errors": c.errors,
                "drafts": c.drafts,
                "missing": c.missing,
                "late": c.late,
                "overdue_missing": overdue[c.deliverable.key],
                "reporting_rate": round(c.reporting_rate, 4),
                "on_time_rate": round(c.on_time_rate, 4),
            }
            for c in counts
        ],
        "units": [
            {
                "unit": s.unit.code,
                "name": s.unit.name,
                "deliverable": s.deliverable.key,
                "state": s.state,
                "late": s.late,
                "version": s.version.seq if s.version else None,
                "errors": s.version.error_count if s.version else 0,
                "warnings": s.version.warning_count if s.version else 0,
                "received_at": s.version.received_at.isoformat() if s.version else None,
                # A newer version not used because its identity disagrees with the roster.
                "held_version": s.held.seq if s.held else None,
                "unread_files": [r.name for r in s.unread],
                # The organiser's review (issue 15): pending, approved, returned, or "" (none).
                "review": s.review,
                "review_comment": s.review_comment,
                "waived": len(s.waived),
            }
            for s in statuses
        ],
        # Interrupted reminders (stuck at "sending"): uncertain, resent only on the organiser's command.
        "stuck_reminders": [
            {
                "key": r.key,
                "unit": r.unit,
                "deliverable": r.deliverable,
                "address": r.address,
                "since": r.since.isoformat(),
            }
            for r in stuck_reminders(app.campaign, app.store, now)
        ],
        # Every file the intake could not read or tie to a unit (issue 10.7).
        "unread_files": [
            {
                "file": r.source,
                "name": r.name,
                "sha256": r.sha256,
                "reason": r.reason,
                "codes": r.codes,
                "message": r.message,
                "unit": r.unit,
                "unit_by": r.unit_by or None,
                "deliverable": r.deliverable,
                "received_at": r.received_at.isoformat(),
                "assigned": r.assigned,
            }
            for r in unread_files(app.store)
        ],
    }


def status_table(app: App, now: dt.datetime | None = None) -> str:
    now = _now(now)
    lang = app.campaign.language
    statuses = unit_statuses(app.campaign, app.roster, app.store)
    overdue = overdue_missing(app.campaign, statuses, now)
    cells: dict[tuple[str, str], str] = {}
    for s in statuses:
        text = state_label(lang, s.state, s.late)
        if s.version and s.state in ("errors", "draft"):
            text += f" {s.version.error_count}"
        if s.unread:
            text += t(lang, "（文件无法读取）", " (file unreadable)")
        if s.held:
            text += t(
                lang, f"（第{s.held.seq}版身份不符，未采用）", f" (v{s.held.seq} identity mismatch, not used)"
            )
        if s.review:
            # Not review_label's 已通过: beside the checks' 已通过 it would read twice the same.
            text += "·" + {"pending": t(lang, "待审核", "to review"), "approved": t(lang, "审核通过", "approved"),
                           "returned": t(lang, "已退回", "returned")}[s.review]  # fmt: skip
        cells[(s.unit.code, s.deliverable.key)] = text
    deliverables = app.campaign.deliverables
    header = [t(lang, "编码", "Code"), t(lang, "单位", "Unit"), *[d.title(lang) for d in deliverables]]
    rows = [
        [u.code, u.name, *[cells.get((u.code, d.key), "—") for d in deliverables]] for u in app.roster.units
    ]
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(h, w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)))
    lines.append("")
    for c in count_by_deliverable(app.campaign, statuses):
        lines.append(
            t(
                lang,
                f"{c.deliverable.title(lang)}：应报 {c.expected}，已报 {c.submitted}（通过 {c.valid}，有错误 {c.errors}），"
                f"未提交 {c.drafts}，未报 {c.missing}，逾期已报 {c.late}，逾期未报 {overdue[c.deliverable.key]}，报送率 {c.reporting_rate:.0%}，按时率 {c.on_time_rate:.0%}",
                f"{c.deliverable.title(lang)}: expected {c.expected}, submitted {c.submitted} (valid {c.valid}, "
                f"errors {c.errors}), drafts {c.drafts}, missing {c.missing}, late but sent {c.late}, "
                f"overdue not sent {overdue[c.deliverable.key]}, "
                f"rate {c.reporting_rate:.0%}, on time {c.on_time_rate:.0%}",
            )
        )
    stuck = stuck_reminders(app.campaign, app.store, now)
    if stuck:
        names = {d.key: d.title(lang) for d in deliverables}
        lines.append("")
        lines.append(
            t(
                lang,
                f"催报发送中断，不确定是否送达（{len(stuck)} 封），不会自动重发；请向单位核实，需要时运行：{resend_command(lang)}",
                f"{len(stuck)} reminder(s) interrupted while sending, delivery uncertain, not resent automatically; "
                f"check with the units and resend with: {resend_command(lang)}",
            )
        )
        for r in stuck:
            lines.append(
                f"  {r.unit} {r.unit_name} — {names.get(r.deliverable, r.deliverable)} — {r.address}"
            )
    files = [r for r in unread_files(app.store) if not r.assigned]
    if files:
        lines.append("")
        lines.append(
            t(
                lang,
                f"无法读取或无法识别单位的文件（{len(files)}）：",
                f"Files not read or not tied to a unit ({len(files)}):",
            )
        )
        lines.extend(f"  {r.unit or '?'}  {unread_note(lang, r)}" for r in files)
    return "\n".join(lines)
