"""Give every unit its Google Sheet for each deliverable: create, build, share, record — resumably.

Order per (unit, deliverable): claim the slot in the registry → files.create in the campaign folder →
save the id at once → ONE batchUpdate to build it → share with each contact address. Each step is recorded
as it lands, so a run stopped anywhere (budget, deadline, a failure) is continued by the next run without
a second spreadsheet or a second invitation email. Nothing is ever deleted: units gone from the roster are
only reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from functions.ports import GoogleBudgetExhausted, GoogleCallFailed, GoogleClient, GoogleRefused, Store
from functions.services.google import grid
from functions.services.google.registry import (
    SheetRecord,
    all_sheets,
    claim_sheet,
    release_sheet,
    save_sheet,
    sheet_for,
    sheet_key,
)
from schemas.campaign import Campaign, Deliverable
from schemas.google import SPREADSHEET_MIME
from schemas.i18n import t
from schemas.roster import Roster, Unit
from sheets_templates.google_unit_sheet import META_SHEET_ID, build_unit_sheet_requests
from sheets_templates.instructions import format_due

BUILT_META = "google-sheet-built:"
FOLDER_STOP = "folder:"
STORAGE_QUOTA = "storageQuotaExceeded"  # what files.create says when a service account writes to My Drive
CHECK_FIELDS = "id,name,driveId,capabilities(canAddChildren)"
# A claim without a spreadsheet older than this belongs to a run that died between claiming and
# recording the new file; younger ones may belong to a run still going, so they are left alone.
STALE_CLAIM = dt.timedelta(minutes=30)
# Drive answers 403 (not 429) when its own rate limits trip; those mean "later", not "no access".
_RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"})

Action = Literal["created", "continued", "done", "planned", "in_progress", "failed"]


class SlotOutcome(BaseModel):
    unit: str
    unit_name: str
    deliverable: str
    action: Action
    spreadsheet_id: str = ""
    url: str = ""
    shared: list[str] = Field(default_factory=list)  # invited in this run
    problems: list[str] = Field(default_factory=list)


class ProvisionResult(BaseModel):
    slots: list[SlotOutcome] = Field(default_factory=list)
    orphans: list[SheetRecord] = Field(default_factory=list)  # in the registry, no longer in the roster
    stopped: bool = False  # budget or deadline reached (or the folder refused): the next run continues
    stop_reason: str = ""
    calls: dict[str, int] = Field(default_factory=dict)

    def count(self, action: Action) -> int:
        return sum(1 for s in self.slots if s.action == action)


class FolderCheck(BaseModel):
    folder_id: str
    name: str
    can_add_children: bool
    # A service account owns no storage, so it can create files only in a shared drive's folder.
    in_shared_drive: bool
    client_email: str


class FolderInaccessible(Exception):
    """Files cannot be created in the folder at all: every further slot would fail the same way."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _is_rate_limit(exc: GoogleRefused) -> bool:
    return exc.status == 403 and exc.reason in _RATE_LIMIT_REASONS


def _describe(exc: Exception) -> str:
    if isinstance(exc, GoogleCallFailed):
        return f"{exc.status or ''} {exc.message}".strip()
    return f"{type(exc).__name__}: {exc}"


# --- what to provision ---------------------------------------------------------------------------------


def sheet_deliverables(campaign: Campaign) -> list[Deliverable]:
    """Deliverables filled in Google Sheets: those listed, else all but the ones taken by a Form."""
    g = campaign.google
    if g is None:
        return []
    if g.sheet_deliverables:
        return [d for d in campaign.deliverables if d.key in g.sheet_deliverables]
    return [d for d in campaign.deliverables if d.key not in g.form_deliverables]


def planned_slots(campaign: Campaign, roster: Roster) -> list[tuple[Unit, Deliverable]]:
    return [(u, d) for d in sheet_deliverables(campaign) for u in roster.units if d.applies_to(u.type)]


def spreadsheet_title(campaign: Campaign, unit: Unit, deliverable: Deliverable) -> str:
    return f"{campaign.title}-{unit.name}-{deliverable.title(campaign.language)}"


def share_message(campaign: Campaign, unit: Unit, deliverable: Deliverable) -> str:
    """The text Google puts in the invitation email."""
    lang = campaign.language
    due = format_due(campaign, deliverable.key)
    contact = campaign.organiser_contact_line()
    return t(
        lang,
        f"{unit.name}：请在此表格中直接填写“{deliverable.title(lang)}”，截止时间：{due}。"
        f"填写完成后，请在“填写说明”页勾选“提交”。系统会自动检查并在表格中标出需要修改之处。如有疑问请联系：{contact}",
        f"{unit.name}: please fill in '{deliverable.title(lang)}' directly in this spreadsheet by {due}. "
        f"When done, tick the submit box on the Instructions tab. It is checked automatically and problems "
        f"are marked in the sheet. Questions: {contact}",
    )


def default_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


# --- the run -------------------------------------------------------------------------------------------


class _Run:
    def __init__(
        self, campaign: Campaign, store: Store, session: GoogleClient | None, now: dt.datetime, dry_run: bool
    ) -> None:
        assert campaign.google is not None
        self.campaign = campaign
        self.settings = campaign.google
        self.store = store
        self.session = session
        self.now = now
        self.dry_run = dry_run

    def _session(self) -> GoogleClient:
        assert self.session is not None, "a session is needed unless dry_run"
        return self.session

    def _claimed_at(self, unit: str, deliverable: str) -> dt.datetime | None:
        key = sheet_key(unit, deliverable)
        for claim in self.store.claims(key):
            if claim.key == key:
                return claim.claimed_at
        return None

    def _complete(self, record: SheetRecord, unit: Unit) -> bool:
        if not record.spreadsheet_id or self.store.get_meta(BUILT_META + record.spreadsheet_id) is None:
            return False
        return not self._to_share(record, unit)

    def _to_share(self, record: SheetRecord, unit: Unit) -> list[str]:
        if not self.settings.share_with_units:
            return []
        done = {e.lower() for e in record.shared_with}
        return [e for e in unit.emails if e.lower() not in done]

    def slot(self, unit: Unit, d: Deliverable) -> SlotOutcome:
        out = SlotOutcome(unit=unit.code, unit_name=unit.name, deliverable=d.key, action="planned")
        record = sheet_for(self.store, unit.code, d.key)
        fresh = False
        if record is None:
            if self.dry_run:
                return out
            if claim_sheet(self.store, unit.code, d.key, at=self.now):
                record, fresh = SheetRecord(unit=unit.code, deliverable=d.key), True
            else:  # another run claimed it a moment ago
                record = sheet_for(self.store, unit.code, d.key)
                if record is None:
                    return out.model_copy(update={"action": "in_progress"})
        out.spreadsheet_id, out.url = record.spreadsheet_id, record.url
        if self._complete(record, unit):
            return out.model_copy(update={"action": "done"})
        if not record.spreadsheet_id and not fresh:
            claimed = self._claimed_at(unit.code, d.key)
            if claimed is not None and self.now - claimed < STALE_CLAIM:
                return out.model_copy(update={"action": "in_progress"})
        if self.dry_run:
            return out.model_copy(update={"action": "continued" if record.spreadsheet_id else "planned"})
        return self._work(record, unit, d, out, stale=not record.spreadsheet_id and not fresh)

    def _create(
        self, record: SheetRecord, unit: Unit, d: Deliverable, *, stale: bool
    ) -> tuple[SheetRecord, bool]:
        """The slot's spreadsheet, recorded at once; True when an earlier run's file was adopted."""
        session = self._session()
        title = spreadsheet_title(self.campaign, unit, d)
        try:
            found = self._find_by_title(title) if stale else None
            file = found or session.create_spreadsheet(title, self.settings.folder_id)
        except GoogleBudgetExhausted:
            release_sheet(self.store, unit.code, d.key)
            raise
        except GoogleRefused as exc:
            release_sheet(self.store, unit.code, d.key)
            if _is_rate_limit(exc):
                raise GoogleBudgetExhausted(f"Drive rate limit ({exc.reason})") from exc
            if exc.status in (403, 404):
                raise FolderInaccessible(exc.status, exc.reason, _describe(exc)) from exc
            raise
        except Exception:
            # Nothing exists yet: forget the claim so the next run tries again.
            release_sheet(self.store, unit.code, d.key)
            raise
        sid = str(file["id"])
        record = record.model_copy(
            update={
                "spreadsheet_id": sid,
                "url": str(file.get("webViewLink") or default_url(sid)),
                "title": str(file.get("name") or title),
                "created_at": self.now,
            }
        )
        save_sheet(self.store, record)
        return record, found is not None

    def _find_by_title(self, title: str) -> dict[str, str] | None:
        """After a run died between files.create and recording it, adopt that file instead of a twin."""
        quoted = title.replace("\\", "\\\\").replace("'", "\\'")
        q = (
            f"name = '{quoted}' and '{self.settings.folder_id}' in parents "
            f"and mimeType = '{SPREADSHEET_MIME}' and trashed = false"
        )
        files = self._session().drive_list(q, "files(id,name,webViewLink)").get("files", [])
        return files[0] if files else None

    def _build(self, record: SheetRecord, unit: Unit, d: Deliverable, *, just_created: bool) -> None:
        session = self._session()
        marker = BUILT_META + record.spreadsheet_id
        if self.store.get_meta(marker) is not None:
            return
        if not just_created:
            # The build may have landed before the run stopped; a second one would fail on the
            # existing tabs, so look first (one read, only when continuing).
            got = session.get_spreadsheet(record.spreadsheet_id, "sheets.properties(sheetId,title)")
            ids = {s.get("properties", {}).get("sheetId") for s in got.get("sheets", [])}
            if META_SHEET_ID in ids:
                self.store.set_meta(marker, self.now.isoformat())
                return
        requests = build_unit_sheet_requests(
            self.campaign, d.key, unit, service_account_email=session.service_account_email
        )
        session.batch_update(record.spreadsheet_id, requests)
        # The tabs' widths, so the poll reads inside each grid without asking (services/google/grid.py).
        grid.record_built(self.store, record.spreadsheet_id, requests)
        self.store.set_meta(marker, self.now.isoformat())

    def _share(self, record: SheetRecord, unit: Unit, d: Deliverable, out: SlotOutcome) -> SheetRecord:
        message = share_message(self.campaign, unit, d)
        for email in self._to_share(record, unit):
            try:
                self._session().share(record.spreadsheet_id, email, "writer", message)
            except GoogleRefused as exc:
                if _is_rate_limit(exc):
                    raise GoogleBudgetExhausted(f"Drive rate limit ({exc.reason})") from exc
                out.problems.append(
                    t(self.campaign.language, f"共享给 {email} 失败：", f"sharing with {email} failed: ")
                    + _describe(exc)
                )
                continue
            # Recorded one by one: a rerun must never send the same invitation twice.
            record = record.model_copy(update={"shared_with": [*record.shared_with, email]})
            save_sheet(self.store, record)
            out.shared.append(email)
        return record

    def _work(
        self, record: SheetRecord, unit: Unit, d: Deliverable, out: SlotOutcome, *, stale: bool
    ) -> SlotOutcome:
        created = not record.spreadsheet_id
        action: Action = "created" if created else "continued"
        try:
            if created:
                record, adopted = self._create(record, unit, d, stale=stale)
                out.spreadsheet_id, out.url = record.spreadsheet_id, record.url
                if adopted:
                    created, action = False, "continued"
            self._build(record, unit, d, just_created=created)
            self._share(record, unit, d, out)
        except (GoogleBudgetExhausted, FolderInaccessible):
            raise
        except GoogleCallFailed as exc:
            out.problems.append(_describe(exc))
            action = "failed"
        return out.model_copy(update={"action": action})


def provision(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    session: GoogleClient | None,
    *,
    now: dt.datetime,
    dry_run: bool = False,
) -> ProvisionResult:
    """Create what is missing; continue what a stopped run left half done; report orphaned sheets."""
    if campaign.google is None:
        raise ValueError("campaign has no google settings")
    run = _Run(campaign, store, session, now, dry_run)
    result = ProvisionResult()
    slots = planned_slots(campaign, roster)
    for i, (unit, d) in enumerate(slots):
        try:
            result.slots.append(run.slot(unit, d))
        except GoogleBudgetExhausted as exc:
            result.stopped, result.stop_reason = True, str(exc)
            result.slots.extend(_untouched(slots[i:]))
            break
        except FolderInaccessible as exc:
            result.stopped, result.stop_reason = True, f"{FOLDER_STOP}{exc.reason}"
            result.slots.extend(_untouched(slots[i:]))
            break
    codes = roster.by_code()
    result.orphans = [r for r in all_sheets(store) if r.unit not in codes]
    if session is not None:
        result.calls = dict(session.http.counts)
    return result


def _untouched(slots: Iterable[tuple[Unit, Deliverable]]) -> list[SlotOutcome]:
    return [SlotOutcome(unit=u.code, unit_name=u.name, deliverable=d.key, action="planned") for u, d in slots]


def check_folder(session: GoogleClient) -> FolderCheck:
    """One Drive files.get on the campaign folder: does it exist for us, and may we add files to it?"""
    folder_id = session.settings.folder_id
    got = session.get_file(folder_id, CHECK_FIELDS)
    return FolderCheck(
        folder_id=str(got.get("id", folder_id)),
        name=str(got.get("name", "")),
        can_add_children=bool(got.get("capabilities", {}).get("canAddChildren", False)),
        in_shared_drive=bool(got.get("driveId")),
        client_email=session.service_account_email,
    )


# --- what a person reads -------------------------------------------------------------------------------


def summary_lines(result: ProvisionResult, campaign: Campaign, *, dry_run: bool = False) -> list[str]:
    lang = campaign.language
    c = result.count
    lines = [
        t(
            lang,
            f"{'（试运行，未做任何更改）' if dry_run else ''}新建 {c('created')} 个，继续完成 {c('continued')} 个，"
            f"已就绪 {c('done')} 个，待处理 {c('planned')} 个，失败 {c('failed')} 个，其他运行处理中 {c('in_progress')} 个。",
            f"{'(dry run, nothing changed) ' if dry_run else ''}created {c('created')}, continued "
            f"{c('continued')}, ready {c('done')}, pending {c('planned')}, failed {c('failed')}, "
            f"in progress elsewhere {c('in_progress')}.",
        )
    ]
    for s in result.slots:
        if s.action in ("created", "continued") or (dry_run and s.action == "planned"):
            verb = {
                "created": t(lang, "新建", "created"),
                "continued": t(lang, "继续", "continued"),
                "planned": t(lang, "将新建", "would create"),
            }[s.action]
            lines.append(f"  {verb} {s.unit} {s.unit_name} · {s.deliverable} {s.url}".rstrip())
        for p in s.problems:
            lines.append(f"  ! {s.unit} {s.unit_name} · {s.deliverable}: {p}")
    for r in result.orphans:
        lines.append(
            t(
                lang,
                f"  名单中已无此单位，表格保留未删除：{r.unit} · {r.deliverable} {r.url}",
                f"  unit no longer in the roster, sheet kept (not deleted): {r.unit} · {r.deliverable} {r.url}",
            )
        )
    if result.stopped:
        if result.stop_reason == FOLDER_STOP + STORAGE_QUOTA:
            lines.append(
                t(
                    lang,
                    "服务账号没有自己的存储空间，不能在个人“我的云端硬盘”的文件夹中新建表格。请在共享云端硬盘"
                    "中建文件夹，把服务账号加为“内容管理员”，并把 google.folder_id 改为该文件夹。下次运行将继续。",
                    "A service account has no storage of its own and cannot create sheets in a My Drive folder. "
                    "Use a folder in a shared drive, add the service account as Content manager and set "
                    "google.folder_id to it. The next run will continue.",
                )
            )
        elif result.stop_reason.startswith(FOLDER_STOP):
            lines.append(
                t(
                    lang,
                    "无法在 Google 云端硬盘文件夹中创建表格（文件夹不存在，或服务账号不是“内容管理员”）。"
                    "请运行 huizong google check 检查。下次运行将继续。",
                    "Could not create sheets in the Drive folder (missing, or the service account is not a "
                    "Content manager). Run huizong google check. The next run will continue.",
                )
            )
        else:
            lines.append(
                t(
                    lang,
                    f"本次调用额度或时间已用完（{result.stop_reason}），已停止；下次运行将继续。",
                    f"This run's call budget or time is spent ({result.stop_reason}); stopped. "
                    "The next run will continue.",
                )
            )
    if result.calls:
        calls = ", ".join(f"{k}={v}" for k, v in sorted(result.calls.items()))
        lines.append(t(lang, f"API 调用：{calls}", f"API calls: {calls}"))
    return lines
