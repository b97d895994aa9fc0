"""Publish the master to a Google Sheet: the same tabs as master.xlsx, in a handful of calls.

One publish is: ONE spreadsheets.get (which tabs exist and how many colour rules they carry), ONE
batchUpdate (add, order, resize and clear the tabs; frozen header, filter, widths, formats, state colours)
and as few values:batchUpdate calls as the data needs, each body well under the 2 MB Google recommends.
Nothing is per unit, so a 2,000-unit master costs the same handful of calls as a 20-unit one.

The spreadsheet is the configured one (google.master_spreadsheet_id), or the one this module created
earlier (store meta "google-master"), or a new one in the campaign folder, shared once with the organiser
addresses and google.master_viewers as readers. Charts of the xlsx overview are not drawn here: chart
objects would pile up on every publish unless each one's id were read back first.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel, Field

from functions.app import App
from functions.ports import (
    GoogleBudgetExhausted,
    GoogleCallFailed,
    GoogleClient,
    GoogleNotConfigured,
    PreparedMaster,
    Store,
)
from functions.services.google.registry import MASTER_META
from functions.services.master.master_sheets import master_sheets
from schemas.campaign import Campaign
from schemas.google import GoogleSettings
from schemas.i18n import t

CREATE_CLAIM = "google-master:create"
SHARE_CLAIM = "google-master:share:"
PUBLISHED_META = "google-master-published-at"


class MasterPublishResult(BaseModel):
    spreadsheet_id: str = ""
    url: str = ""
    created: bool = False
    shared_with: list[str] = Field(default_factory=list)  # invited in this run
    share_failures: list[str] = Field(default_factory=list)
    rows: dict[str, int] = Field(default_factory=dict)  # data rows per tab key
    tab_names: dict[str, str] = Field(default_factory=dict)  # tab key -> the name organisers see
    batch_requests: int = 0  # batchUpdate calls made (normally one)
    value_requests: int = 0  # values:batchUpdate calls made
    largest_body_bytes: int = 0
    calls: dict[str, int] = Field(default_factory=dict)
    complete: bool = False
    stopped: str = ""  # why a publish did not finish (budget, deadline): the next publish redoes it all
    skipped: str = ""  # why nothing was attempted (publishing turned off)


class MasterPublishError(Exception):
    """The master cannot be published as configured; the message is for the organiser."""


def master_title(campaign: Campaign) -> str:
    return f"{campaign.title} {t(campaign.language, '汇总表', 'master')}"


def master_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


def viewers(campaign: Campaign, settings: GoogleSettings) -> list[str]:
    seen: dict[str, str] = {}
    for email in [*campaign.organiser.emails, *settings.master_viewers]:
        seen.setdefault(email.strip().lower(), email.strip())
    return list(seen.values())


def share_message(campaign: Campaign) -> str:
    return t(
        campaign.language,
        f"{campaign.title}报送汇总表（只读），系统每次汇总后自动更新。",
        f"{campaign.title}: the reporting master (read-only), updated after every consolidation.",
    )


def _share_key(spreadsheet_id: str, email: str) -> str:
    return f"{SHARE_CLAIM}{spreadsheet_id}:{email.lower()}"


def _describe(exc: Exception) -> str:
    if isinstance(exc, GoogleCallFailed):
        return f"{exc.status or ''} {exc.message}".strip()
    return f"{type(exc).__name__}: {exc}"


def _known_spreadsheet(store: Store, settings: GoogleSettings) -> tuple[str, bool]:
    """(id, owned): the configured spreadsheet (the organiser's, so its other tabs are left alone) or
    the one created earlier; ("", True) when there is none yet."""
    if settings.master_spreadsheet_id:
        return settings.master_spreadsheet_id, False
    return store.get_meta(MASTER_META) or "", True


def _create(app: App, session: GoogleClient, settings: GoogleSettings, now: dt.datetime) -> str:
    """A new master in the folder, once: the claim keeps two runs from creating two."""
    store, lang = app.store, app.campaign.language
    if not store.claim(CREATE_CLAIM, {}, at=now):
        known = store.get_meta(MASTER_META)
        held = next((c for c in store.claims(CREATE_CLAIM) if c.key == CREATE_CLAIM), None)
        found = known or (str(held.payload.get("spreadsheet_id", "")) if held else "")
        if found:
            store.set_meta(MASTER_META, found)
            return found
        raise MasterPublishError(t(
            lang,
            "另一次运行正在创建汇总表（或曾在创建时中断）。请稍后重试；若一直如此，请在 Drive 文件夹中找到"
            "该汇总表，把其 ID 填入 campaign.yaml 的 google.master_spreadsheet_id。",
            "Another run is creating the master sheet (or stopped while creating it). Try again later; if this "
            "persists, find it in the Drive folder and put its id in google.master_spreadsheet_id.",
        ))  # fmt: skip
    try:
        created = session.create_spreadsheet(master_title(app.campaign), settings.folder_id)
    except Exception:
        store.release(CREATE_CLAIM)  # nothing was created (or Drive said no): the next run tries again
        raise
    spreadsheet_id = str(created["id"])
    store.update_claim(CREATE_CLAIM, {"spreadsheet_id": spreadsheet_id})
    store.set_meta(MASTER_META, spreadsheet_id)
    return spreadsheet_id


def _share(
    app: App, session: GoogleClient, spreadsheet_id: str, now: dt.datetime, out: MasterPublishResult
) -> None:
    settings = app.campaign.google
    assert settings is not None
    for email in viewers(app.campaign, settings):
        key = _share_key(spreadsheet_id, email)
        if not app.store.claim(key, {"email": email, "role": "reader"}, at=now):
            continue  # invited by an earlier publish
        try:
            session.share(spreadsheet_id, email, "reader", share_message(app.campaign))
        except GoogleCallFailed as exc:
            app.store.release(key)  # not invited: the next publish tries again
            out.share_failures.append(f"{email}: {_describe(exc)}")
            continue
        except GoogleBudgetExhausted:
            app.store.release(key)
            raise
        out.shared_with.append(email)


def _pending_shares(app: App, spreadsheet_id: str) -> int:
    settings = app.campaign.google
    assert settings is not None
    done = {c.key for c in app.store.claims(f"{SHARE_CLAIM}{spreadsheet_id}:")}
    return sum(1 for e in viewers(app.campaign, settings) if _share_key(spreadsheet_id, e) not in done)


# --- the publish -----------------------------------------------------------------------------------------


def render_master(app: App, session: GoogleClient, *, now: dt.datetime) -> PreparedMaster:
    """The master's tabs rendered for Google; refused when it would not fit one spreadsheet."""
    prepared = session.prepare_master(master_sheets(app.campaign, app.roster, app.store, now=now))
    cells = prepared.cells
    if cells > prepared.max_cells:
        raise MasterPublishError(t(
            app.campaign.language,
            f"汇总表共 {cells:,} 个单元格，超过 Google 表格每个文件 1000 万个单元格的上限；请改用 master.xlsx。",
            f"The master has {cells:,} cells, over Google Sheets' limit of 10 million per file; use master.xlsx.",
        ))  # fmt: skip
    return prepared


def _stop_reason(app: App, exc: Exception) -> str:
    return t(
        app.campaign.language,
        f"调用额度或时间用尽，本次未完成（{exc}）；下次发布会完整重写汇总表。",
        f"Call budget or time ran out before the publish finished ({exc}); the next publish rewrites it all.",
    )


def publish_master(app: App, session: GoogleClient, *, now: dt.datetime) -> MasterPublishResult:
    """Publish the master built from the store to its Google Sheet (creating and sharing it once)."""
    settings = app.campaign.google
    if settings is None:
        raise GoogleNotConfigured(t(app.campaign.language, "campaign.yaml 没有 google 设置。",
                                    "campaign.yaml has no google section."))  # fmt: skip
    lang = app.campaign.language
    out = MasterPublishResult()
    if not settings.publish_master:
        out.skipped = t(lang, "google.publish_master 为 false，未发布。", "google.publish_master is false.")
        return out
    before = Counter(session.call_counts())
    prepared = render_master(app, session, now=now)
    out.rows = dict(prepared.rows)
    out.tab_names = dict(prepared.tab_names)
    spreadsheet_id, owned = _known_spreadsheet(app.store, settings)
    # Check the budget before touching anything, so a short budget never leaves a half-written master.
    needed = (0 if spreadsheet_id else 1) + 1 + 1 + prepared.value_calls
    needed += len(viewers(app.campaign, settings)) if not spreadsheet_id else 0
    if spreadsheet_id and owned:
        needed += _pending_shares(app, spreadsheet_id)
    remaining = session.remaining_calls()
    try:
        if remaining is not None and remaining < needed:
            raise GoogleBudgetExhausted(f"{needed} calls needed, {remaining} left")
        if not spreadsheet_id:
            spreadsheet_id = _create(app, session, settings, now)
            out.created = True
        out.spreadsheet_id, out.url = spreadsheet_id, master_url(spreadsheet_id)
        if owned:
            _share(app, session, spreadsheet_id, now, out)
        stats = session.write_master(spreadsheet_id, prepared, drop_others=owned)
        out.batch_requests, out.value_requests = stats.batch_requests, stats.value_requests
        out.largest_body_bytes = stats.largest_body_bytes
        out.complete = True
        app.store.set_meta(PUBLISHED_META, now.isoformat())
    except GoogleBudgetExhausted as exc:
        out.stopped = _stop_reason(app, exc)
    out.calls = dict(Counter(session.call_counts()) - before)
    return out


def summary_lines(result: MasterPublishResult, campaign: Campaign) -> list[str]:
    """What `huizong google publish-master` prints."""
    lang = campaign.language
    if result.skipped:
        return [result.skipped]
    lines: list[str] = []
    if result.url:
        lines.append(t(lang, f"汇总表：{result.url}", f"Master sheet: {result.url}"))
    if result.created:
        lines.append(t(lang, "（本次新建）", "(created in this run)"))
    if result.shared_with:
        lines.append(t(lang, f"已共享（只读）给：{'、'.join(result.shared_with)}",
                       f"Shared read-only with: {', '.join(result.shared_with)}"))  # fmt: skip
    for failure in result.share_failures:
        lines.append(
            t(lang, f"共享失败（下次重试）：{failure}", f"Sharing failed (retried next time): {failure}")
        )
    rows = t(lang, "，", ", ").join(f"{result.tab_names.get(k, k)} {n}" for k, n in result.rows.items())
    if result.complete:
        lines.append(t(lang, f"已发布：{rows} 行", f"Published rows: {rows}"))
    else:
        lines.append(result.stopped)
    calls = sum(result.calls.values())
    lines.append(t(lang, f"API 调用 {calls} 次（{_calls_text(result.calls)}）",
                   f"API calls: {calls} ({_calls_text(result.calls)})"))  # fmt: skip
    return lines


def _calls_text(calls: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
