"""The console's routes: sign-in by a mailed link, the overview, the unit list, a unit's page, its
review buttons, downloads and the audit log. Mounted under /admin by functions/web/app.py.

An entry point: it calls the services (status, review, console) and builds no adapter.

Scope is decided in one place, `_unit_in_scope`: a coordinator asking for a unit outside their areas
gets the same 404 as for a unit that does not exist, so the console does not even confirm it exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from functions.app import App
from functions.config.loading import ConfigError
from functions.services.console.accounts import (
    AuditEntry,
    SessionClaims,
    SignInRefused,
    audit,
    audit_log,
    csrf_ok,
    csrf_token,
    in_scope,
    people_problems,
    redeem,
    session_cookie,
    session_person,
    sign_out,
)
from functions.services.console.diff import version_diff
from functions.services.console.evidence_files import (
    download_name as evidence_name,
)
from functions.services.console.evidence_files import (
    file_headers,
    find_ref,
    media_type,
    served_kind,
    shows_inline,
    version_files,
)
from functions.services.console.export import units_csv
from functions.services.console.overview import (
    COUNT_KEYS,
    UnitFilter,
    filter_statuses,
    group_values,
    overview,
    scoped,
)
from functions.services.console.signin import send_signin_link
from functions.services.console.unit_page import deliverable_detail, unit_mails, version_of
from functions.services.intake.kept_workbook import kept_workbook, workbook_bytes
from functions.services.review import actions as review_actions
from functions.services.review.records import action_label, issue_place, review_label
from functions.services.status.unit_states import UnitStatus, unit_statuses
from functions.services.web.links import campaign_secret
from functions.web.admin.charts import bar_chart
from functions.web.limits import RateLimiter
from schemas.campaign import Person
from schemas.i18n import Language, t
from schemas.submission import Version

log = logging.getLogger("huizong.web.admin")

TEMPLATES = Path(__file__).parent.parent / "templates"
SESSION_COOKIE = "hz_admin"
PRE_COOKIE = "hz_admin_pre"  # the pre-sign-in CSRF nonce (double submit)
ACTIONS = ("approve", "return", "waive", "reopen")
STATE_CHOICES = ("valid", "errors", "draft", "missing", "pending", "approved", "returned")
_CODE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff._-]{1,40}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
MAX_TEXT_FIELD = 4000


class _NotFound(Exception):
    """Answered with the console's 404 page."""


def create_admin_app(
    app: App,
    *,
    base_url: str,
    lock: AbstractContextManager[Any] | threading.Lock | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    signin_limit: RateLimiter | None = None,
) -> Starlette:
    campaign = app.campaign
    lang = campaign.language
    problems = people_problems(campaign, app.roster)
    if problems:
        # A coordinator with a misspelt area would see an empty console and think all is well.
        raise ConfigError(problems)
    base = base_url.rstrip("/")
    guard: AbstractContextManager[Any] = lock if lock is not None else nullcontext()
    now_of = clock or (lambda: dt.datetime.now(campaign.tz))
    # Per address asked for and per client: enough for a person who lost a mail, too few to spam one.
    limiter = signin_limit or RateLimiter(5, 600.0)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def tr(zh: str, en: str) -> str:
        return t(lang, zh, en)

    def secret() -> bytes:
        with guard:
            return campaign_secret(app.store, now=now_of())

    def secure(request: Request) -> bool:
        return base.startswith("https://") or request.url.scheme == "https"

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(f"admin/{name}").render(
            lang=lang, tr=tr, campaign=campaign, state_label=lambda s: checked_label(lang, s),
            review_label=lambda s: review_label(lang, s), action_label=lambda a: action_label(lang, a),
            issue_place=issue_place, **ctx,
        )  # fmt: skip
        return HTMLResponse(html, status_code=status)

    def message(status: int, title: str, text: str, **ctx: Any) -> HTMLResponse:
        return render("message.html", status, title=title, message=text, **ctx)

    def not_found(person: Person | None = None, csrf: str = "") -> HTMLResponse:
        return message(404, tr("页面不存在", "Page not found"), tr("没有这个页面或单位。", "There is no such page or unit."),
                       person=person, csrf=csrf)  # fmt: skip

    # ---- sessions ---------------------------------------------------------------------------------

    def who(request: Request) -> tuple[Person, SessionClaims] | None:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not cookie:
            return None
        key = secret()  # takes the lock itself: serve's lock is not reentrant
        with guard:
            return session_person(app.store, key, campaign, cookie, now=now_of())

    def to_login() -> RedirectResponse:
        return RedirectResponse("/admin/login", status_code=303)

    def pre_nonce(request: Request) -> tuple[str, bool]:
        got = request.cookies.get(PRE_COOKIE, "")
        if re.fullmatch(r"[A-Za-z0-9_-]{16,64}", got):
            return got, False
        return secrets.token_urlsafe(18), True

    def with_pre(response: Response, request: Request, nonce: str, fresh: bool) -> Response:
        if fresh:
            response.set_cookie(PRE_COOKIE, nonce, max_age=3600, path="/admin", httponly=True,
                                samesite="strict", secure=secure(request))  # fmt: skip
        return response

    async def form_of(request: Request) -> dict[str, str]:
        try:
            form = await request.form(max_files=0, max_fields=20)
        except HTTPException:
            return {}
        return {k: v[:MAX_TEXT_FIELD] for k, v in form.items() if isinstance(v, str)}

    def add_audit(
        person: Person | None, action: str, *, unit: str = "", deliverable: str = "", detail: str = ""
    ) -> None:
        with guard:
            audit(app.store, AuditEntry(at=now_of(), by=person.email if person else "-", action=action,
                                        unit=unit, deliverable=deliverable, detail=detail[:500]))  # fmt: skip

    def bad_csrf(person: Person | None = None, csrf: str = "") -> HTMLResponse:
        return message(403, tr("操作未执行", "Not done"),
                       tr("页面已过期或不是从本系统提交的。请刷新页面后重试。",
                          "The page expired or was not sent from this console. Reload it and try again."),
                       person=person, csrf=csrf)  # fmt: skip

    # ---- sign-in ----------------------------------------------------------------------------------

    async def login_page(request: Request) -> Response:
        if await run_in_threadpool(who, request) is not None:
            return RedirectResponse("/admin/", status_code=303)
        nonce, fresh = pre_nonce(request)
        key = await run_in_threadpool(secret)
        return with_pre(render("login.html", csrf=csrf_token(key, nonce), person=None), request, nonce, fresh)

    async def login_post(request: Request) -> Response:
        form = await form_of(request)
        nonce, _ = pre_nonce(request)
        key = await run_in_threadpool(secret)
        if not request.cookies.get(PRE_COOKIE) or not csrf_ok(key, nonce, form.get("csrf", "")):
            return bad_csrf()
        email = form.get("email", "").strip()[:200]
        client = request.client.host if request.client else "?"
        sent_page = message(200, tr("请查收邮件", "Check your mail"),
                            tr("如果这个邮箱在本次活动的管理人员名单中，登录链接已发送到该邮箱，15 分钟内有效，只能使用一次。"
                               "没有收到请检查垃圾邮件，或联系组织方。",
                               "If this address is on the campaign's list of staff, a sign-in link was sent to it "
                               "(valid for 15 minutes, once). Nothing arrived? Check the spam folder or contact "
                               "the organiser."))  # fmt: skip
        if not email:
            return message(400, tr("请填写邮箱", "Enter your address"),
                           tr("请填写您在活动配置中登记的邮箱地址。", "Enter the address the campaign lists for you."))  # fmt: skip
        waits = [limiter.check("addr:" + client), limiter.check("mail:" + email.lower())]
        if any(w is not None for w in waits):
            # Said the same way for every address, listed or not.
            return sent_page

        def send() -> None:
            try:
                # The service takes the lock for its store steps only: a slow SMTP server must not
                # hold every other request while the link is mailed.
                result = send_signin_link(app, email, base_url=base, now=now_of(), hold=guard)
                log.info("console sign-in link: %s", result)
            except Exception:  # a background send must not take the server down; the log says why
                log.exception("console sign-in link failed")

        # Sent after the answer, so a listed address (a mail to send) takes no longer than an unlisted one.
        sent_page.background = BackgroundTask(run_in_threadpool, send)
        return sent_page

    async def signin_page(request: Request) -> Response:
        # Opening the link does not sign in: mail scanners open links. The button (a POST) does.
        token = str(request.path_params["token"])[:200]
        nonce, fresh = pre_nonce(request)
        key = await run_in_threadpool(secret)
        return with_pre(
            render("signin.html", token=token, csrf=csrf_token(key, nonce), person=None),
            request,
            nonce,
            fresh,
        )

    async def signin_post(request: Request) -> Response:
        form = await form_of(request)
        nonce, _ = pre_nonce(request)
        key = await run_in_threadpool(secret)
        if not request.cookies.get(PRE_COOKIE) or not csrf_ok(key, nonce, form.get("csrf", "")):
            return bad_csrf()

        def take() -> Person | str:
            with guard:
                try:
                    return redeem(app.store, campaign, form.get("token", ""), now=now_of())
                except SignInRefused as exc:
                    return exc.reason

        got = await run_in_threadpool(take)
        if isinstance(got, str):
            texts = {
                "expired": tr("这个登录链接已过期（15 分钟内有效）。请重新申请。", "This sign-in link has expired (15 minutes). Ask for a new one."),
                "used": tr("这个登录链接已经用过，每个链接只能使用一次。请重新申请。", "This sign-in link was already used; each works once. Ask for a new one."),
                "unknown": tr("这个登录链接无效。请从邮件中完整复制链接，或重新申请。", "This sign-in link is not valid. Copy the whole link from the mail, or ask for a new one."),
            }  # fmt: skip
            return message(
                403, tr("无法登录", "Cannot sign in"), texts.get(got, texts["unknown"]), relogin=True
            )
        person = got
        await run_in_threadpool(add_audit, person, "sign-in")
        response = RedirectResponse("/admin/", status_code=303)
        response.set_cookie(SESSION_COOKIE, session_cookie(key, campaign, person, now=now_of()),
                            max_age=12 * 3600, path="/admin", httponly=True, samesite="lax",
                            secure=secure(request))  # fmt: skip
        response.delete_cookie(PRE_COOKIE, path="/admin")
        return response

    async def signout_post(request: Request) -> Response:
        current = await run_in_threadpool(who, request)
        if current is None:
            return to_login()
        person, claims = current
        form = await form_of(request)
        key = await run_in_threadpool(secret)
        if not csrf_ok(key, claims.n, form.get("csrf", "")):
            return bad_csrf(person, csrf_token(key, claims.n))

        def end() -> None:
            with guard:
                sign_out(app.store, claims, now=now_of())
            add_audit(person, "sign-out")

        await run_in_threadpool(end)
        response = message(
            200, tr("已退出", "Signed out"), tr("您已退出登录。", "You are signed out."), relogin=True
        )
        response.delete_cookie(SESSION_COOKIE, path="/admin")
        return response

    # ---- pages ------------------------------------------------------------------------------------

    def statuses_for(person: Person) -> list[UnitStatus]:
        with guard:
            return scoped(unit_statuses(campaign, app.roster, app.store), person)

    async def signed_in(request: Request) -> tuple[Person, SessionClaims, str] | Response:
        current = await run_in_threadpool(who, request)
        if current is None:
            return to_login()
        key = await run_in_threadpool(secret)
        return current[0], current[1], csrf_token(key, current[1].n)

    async def organiser_in(request: Request) -> tuple[Person, str] | Response:
        """The signed-in organiser and the page's CSRF token; a coordinator gets the 404 page."""
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, csrf = got
        return (person, csrf) if person.role == "organiser" else not_found(person, csrf)

    legend = {
        "valid": tr("校验无误", "valid"),
        "errors": tr("有错误", "with errors"),
        "missing": tr("未报送", "missing"),
    }

    def charts(groups: dict[str, Any], title: str) -> str:
        rows = [
            (g, [("valid", c.valid), ("errors", c.errors), ("missing", c.missing)])
            for g, c in sorted(groups.items())
        ]
        suffix = {g: f"{c.submitted}/{c.expected}" for g, c in groups.items()}
        return bar_chart(title, rows, legend=legend, suffix=suffix)

    async def home(request: Request) -> Response:
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, csrf = got
        statuses = await run_in_threadpool(statuses_for, person)
        views = overview(campaign, statuses)
        drawn = [
            (v, charts(v.by_area, f"{v.title} · {campaign.area_label(lang)}"), charts(v.by_type, f"{v.title} · {tr('单位类型', 'unit type')}"))
            for v in views
        ]  # fmt: skip
        return render("overview.html", person=person, csrf=csrf, views=drawn, count_keys=COUNT_KEYS, legend=legend,
                      count_labels=_count_labels(lang))  # fmt: skip

    async def units(request: Request) -> Response:
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, csrf = got
        f = _unit_filter(request)
        statuses = await run_in_threadpool(statuses_for, person)
        areas, types = group_values(statuses)
        rows = filter_statuses(statuses, f)
        # The same query for the CSV export of exactly this list.
        export = "/admin/units.csv" + (f"?{request.url.query}" if request.url.query else "")
        return render("units.html", person=person, csrf=csrf, rows=rows, f=f, areas=areas, types=types,
                      states=STATE_CHOICES, shown=len(rows), total=len(statuses), export=export)  # fmt: skip

    async def units_export(request: Request) -> Response:
        """The list above as CSV, scoped like it: a coordinator's file holds only their areas' units."""
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, _ = got
        f = _unit_filter(request)
        statuses = await run_in_threadpool(statuses_for, person)
        rows = filter_statuses(statuses, f)
        data = units_csv(campaign, rows, lang, state_label=lambda s: checked_label(lang, s))
        await run_in_threadpool(add_audit, person, "download", detail=f"units.csv ({len(rows)})")
        return _download(data, tr("单位列表.csv", "units.csv"))

    def _unit_in_scope(person: Person, code: str) -> list[UnitStatus]:
        """The unit's statuses, or _NotFound: for an unknown unit and for one outside the person's areas alike."""
        if not _CODE.match(code):
            raise _NotFound
        unit = app.roster.get(code)
        if unit is None or not in_scope(person, unit.area):
            raise _NotFound
        found = [s for s in statuses_for(person) if s.unit.code == code]
        if not found:
            raise _NotFound
        return found

    def unit_context(person: Person, code: str, query: dict[str, str]) -> dict[str, Any]:
        found = _unit_in_scope(person, code)
        sections = []
        with guard:
            for s in found:
                detail = deliverable_detail(app.store, s)
                seqs = [v.seq for v in detail.versions]
                a = b = None
                if query.get("d") == s.deliverable.key:
                    a, b = _int(query.get("a")), _int(query.get("b"))
                if (a is None or b is None) and len(seqs) >= 2:
                    a, b = seqs[-2], seqs[-1]
                old = version_of(detail.versions, a) if a is not None else None
                new = version_of(detail.versions, b) if b is not None else None
                changes = version_diff(campaign, old, new) if old and new else []
                sections.append({"detail": detail, "a": a, "b": b, "changes": changes, "seqs": seqs,
                                 "file": _file_of(s), "evidence": version_files(app.store, campaign, detail.versions)})  # fmt: skip
            mails = unit_mails(app.store, code)
        return {
            "unit": found[0].unit,
            "sections": sections,
            "mails": mails,
            "review_on": campaign.review != "none",
        }

    def _file_of(s: UnitStatus) -> str:
        """The name of the latest submitted version's file, shown with its download link ("" for none)."""
        v = app.store.latest(s.unit.code, s.deliverable.key, "submitted")
        if v is None:
            return ""
        kept = kept_workbook(app.store, v.id)
        if kept is not None:
            return kept.name
        return Path(v.source).name if v.source_kind == "file" else ""

    async def unit_page(request: Request) -> Response:
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, csrf = got
        code = str(request.path_params["code"])
        query = {k: request.query_params.get(k, "")[:20] for k in ("d", "a", "b")}
        try:
            ctx = await run_in_threadpool(unit_context, person, code, query)
        except _NotFound:
            return not_found(person, csrf)
        return render("unit.html", person=person, csrf=csrf, notice="", failed=False, **ctx)

    async def act(request: Request) -> Response:
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, claims, csrf = got
        code = str(request.path_params["code"])
        deliverable = str(request.path_params["deliverable"])
        action = str(request.path_params["action"])
        try:
            await run_in_threadpool(_unit_in_scope, person, code)
        except _NotFound:
            return not_found(person, csrf)
        if action not in ACTIONS or not _KEY.match(deliverable):
            return not_found(person, csrf)
        form = await form_of(request)
        key = await run_in_threadpool(secret)
        if not csrf_ok(key, claims.n, form.get("csrf", "")):
            return bad_csrf(person, csrf)
        by = f"{person.name} <{person.email}>"
        text = form.get("comment", "")

        def run() -> tuple[str, bool]:
            now = now_of()
            try:
                # The same review service as `huizong review`: the same checks, records and mail.
                if action == "return":
                    # It takes the lock for its store steps itself: the 退回 mail is sent outside it.
                    result = review_actions.return_submission(
                        app, code, deliverable, by=by, now=now, comment=text, hold=guard
                    )
                else:
                    with guard:
                        if action == "approve":
                            result = review_actions.approve(
                                app, code, deliverable, by=by, now=now, comment=text
                            )
                        elif action == "waive":
                            result = review_actions.waive(app, code, deliverable, form.get("code", "")[:80],
                                                          form.get("cell", "")[:80], by=by, now=now, reason=text)  # fmt: skip
                        else:
                            result = review_actions.reopen(
                                app, code, deliverable, by=by, now=now, comment=text
                            )
            except review_actions.ReviewError as exc:
                add_audit(person, f"{action}-refused", unit=code, deliverable=deliverable, detail=str(exc))
                return str(exc), True
            r = result.record
            detail = (
                f"seq {r.seq}"
                + (f" {r.code} {r.cell}" if r.action == "waive" else "")
                + (f": {r.comment}" if r.comment else "")
            )
            add_audit(person, action, unit=code, deliverable=deliverable, detail=detail)
            done = tr(
                f"已{action_label(lang, r.action)}：第{r.seq}版",
                f"{action_label(lang, r.action).capitalize()}: version {r.seq}",
            )
            return done + (f"。{result.mail}" if result.mail else ""), False

        notice, failed = await run_in_threadpool(run)
        try:
            ctx = await run_in_threadpool(unit_context, person, code, {})
        except _NotFound:
            return not_found(person, csrf)
        return render(
            "unit.html", 400 if failed else 200, person=person, csrf=csrf, notice=notice, failed=failed, **ctx
        )

    async def unit_download(
        request: Request, load: Callable[[Person, str, str], _File | None], missing: tuple[str, str]
    ) -> Response:
        """A file of one unit in the person's scope: the same 404 for a unit out of scope as for one that
        does not exist (`load` raises _NotFound), `missing` (zh, en) when the record names no bytes."""
        got = await signed_in(request)
        if isinstance(got, Response):
            return got
        person, _, csrf = got
        code = str(request.path_params["code"])
        deliverable = str(request.path_params["deliverable"])

        def scoped() -> _File | None:
            found = _unit_in_scope(person, code)
            if deliverable not in {s.deliverable.key for s in found}:
                raise _NotFound
            return load(person, code, deliverable)

        try:
            got_file = await run_in_threadpool(scoped)
        except _NotFound:
            return not_found(person, csrf)
        if got_file is None:
            return message(404, tr("没有文件", "No file"), tr(*missing), person=person, csrf=csrf)
        if got_file.audit is not None:
            await run_in_threadpool(
                add_audit, person, "download", unit=code, deliverable=deliverable, detail=got_file.audit
            )
        headers = file_headers(got_file.name, inline=got_file.inline)
        return Response(got_file.data, media_type=got_file.media_type, headers=headers)

    async def unit_file(request: Request) -> Response:
        def load(person: Person, code: str, deliverable: str) -> _File | None:
            with guard:
                v = app.store.latest(code, deliverable, "submitted")
                # The workbook kept with the version (any channel with a file); else, for a version stored
                # before workbooks were kept, the folder file it was read from, if it is still there.
                kept = workbook_bytes(app.store, v.id) if v is not None else None
            if kept is not None:
                record, data = kept
                return _File(
                    data, record.name, _media_type(record.name), audit=f"{record.name} {record.sha256[:12]}"
                )
            return _folder_file(v)

        return await unit_download(request, load, (
            "该单位最新的报送没有可下载的文件：在线表单填写或 Google 表格/表单的报送没有文件（请在单位页面查看内容）；"
            "较早以文件报送、且文件已不在活动文件夹中的，请让单位重新发送。",
            "The unit's latest submission has no file to download: one typed in the web form or sent by Google "
            "sheet or form has none (see its content on the unit's page); for an older file no longer in the "
            "campaign folder, ask the unit to send it again."))  # fmt: skip

    def _folder_file(v: Version | None) -> _File | None:
        """A version's file in the campaign folder: only there, whatever a record says."""
        if v is None or v.source_kind != "file":
            return None
        path = Path(v.source)
        path = path if path.is_absolute() else app.folder / path
        root = app.folder.resolve()
        try:
            resolved = path.resolve()
            resolved.relative_to(root)  # only files of the campaign folder, whatever a record says
            return _File(
                resolved.read_bytes(), resolved.name, _media_type(resolved.name), audit=resolved.name
            )
        except (OSError, ValueError):
            return None

    async def evidence_file(request: Request) -> Response:
        """One evidence file of one of the unit's versions: `.../evidence/<sha256>` downloads it,
        `.../evidence/<sha256>/view` shows a browser-displayable image inline (the page's thumbnails)."""
        sha = str(request.path_params["sha"])[:64]
        view = request.url.path.endswith("/view")

        def load(person: Person, code: str, deliverable: str) -> _File | None:
            with guard:
                # Only a digest among this unit's own versions of this deliverable opens a blob: the
                # same 404 for another unit's photo as for a unit that does not exist.
                ref = find_ref(app.store, app.store.history(code, deliverable), sha)
                if ref is None:
                    raise _NotFound
                if view and not shows_inline(ref):
                    raise _NotFound  # heic, documents, big photos: never inline, only downloaded
                data = app.store.get_blob(ref.sha256)
            if data is None:
                return None
            kind = served_kind(data, ref)
            if view and (kind != ref.kind or len(data) != ref.size):
                raise _NotFound  # the bytes are not what the page said: no inline surprise
            name = evidence_name(ref.name, kind)
            # Thumbnails are not audited (every page view would log each photo); a download always is.
            return _File(
                data, name, media_type(kind), inline=view, audit=None if view else f"{name} {sha[:12]}"
            )

        return await unit_download(request, load, (
            "存储中找不到这个文件的内容。请让单位重新发送，或联系管理员检查存储。",
            "The store does not hold this file's bytes. Ask the unit to send it again, or have the store checked."))  # fmt: skip

    async def master(request: Request) -> Response:
        # The master holds every area's units: a coordinator's scope would not hold in it.
        got = await organiser_in(request)
        if isinstance(got, Response):
            return got
        person, csrf = got

        def load() -> bytes | None:
            data = app.artifacts.get(app.master_key)
            if data is None and app.paths.master.is_file():
                data = app.paths.master.read_bytes()
            return data

        data = await run_in_threadpool(load)
        if data is None:
            return message(404, tr("汇总表尚未生成", "No master yet"),
                           tr("汇总表尚未生成：请先运行 huizong consolidate（或等待下一次自动汇总）。",
                              "The master has not been built yet: run huizong consolidate (or wait for the next run)."),
                           person=person, csrf=csrf)  # fmt: skip
        await run_in_threadpool(add_audit, person, "download", detail="master.xlsx")
        return _download(data, "master.xlsx")

    async def audit_page(request: Request) -> Response:
        got = await organiser_in(request)
        if isinstance(got, Response):
            return got
        person, csrf = got

        def load() -> list[AuditEntry]:
            with guard:
                return audit_log(app.store)[-500:][::-1]

        entries = await run_in_threadpool(load)
        return render("audit.html", person=person, csrf=csrf, entries=entries, tz=campaign.tz)

    async def nowhere(request: Request, exc: Exception) -> Response:
        return not_found()

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("console failed", exc_info=exc)
        return message(500, tr("出错了", "Something went wrong"),
                       tr("服务器处理时出错，操作可能没有完成。请刷新页面查看结果后再试；如仍出错，请查看 huizong serve 的日志。",
                          "The server failed; the action may not be done. Reload the page to see, then try again; "
                          "if it fails again, see the log of huizong serve."))  # fmt: skip

    return Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login_post, methods=["POST"]),
            Route("/signin/{token}", signin_page, methods=["GET"]),
            Route("/signin", signin_post, methods=["POST"]),
            Route("/signout", signout_post, methods=["POST"]),
            Route("/units", units, methods=["GET"]),
            Route("/units.csv", units_export, methods=["GET"]),
            Route("/units/{code}", unit_page, methods=["GET"]),
            Route("/units/{code}/{deliverable}/file", unit_file, methods=["GET"]),
            Route("/units/{code}/{deliverable}/evidence/{sha}", evidence_file, methods=["GET"]),
            Route("/units/{code}/{deliverable}/evidence/{sha}/view", evidence_file, methods=["GET"]),
            Route("/units/{code}/{deliverable}/{action}", act, methods=["POST"]),
            Route("/master", master, methods=["GET"]),
            Route("/audit", audit_page, methods=["GET"]),
        ],
        exception_handlers={404: nowhere, 405: nowhere, Exception: failed},
    )


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 9 else None


def _unit_filter(request: Request) -> UnitFilter:
    """The unit list's filters from the query string, each cut to a sane length (the URL is the user's)."""
    q = request.query_params
    return UnitFilter(
        state=q.get("state", "") if q.get("state", "") in STATE_CHOICES else "",
        area=q.get("area", "")[:100],
        type=q.get("type", "")[:100],
        deliverable=q.get("deliverable", "")[:41],
        has_errors=q.get("errors") == "1",
        late=q.get("late") == "1",
        q=q.get("q", "")[:100].strip(),
    )


# What a unit may send as its workbook (the folder, mail and upload channels take all three) and the
# console's own exports: the registered types, so a browser offers Excel/WPS instead of "unknown file".
_DOWNLOAD_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".csv": "text/csv; charset=utf-8",
}


def _media_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _DOWNLOAD_TYPES.get(suffix, "application/octet-stream")


def _download(data: bytes, name: str) -> Response:
    return Response(data, media_type=_media_type(name), headers=file_headers(name, inline=False))


@dataclass(frozen=True)
class _File:
    data: bytes
    name: str
    media_type: str
    inline: bool = False
    audit: str | None = None  # the audit record's detail; None: not audited


def _count_labels(lang: Language) -> dict[str, str]:
    labels = {
        "expected": ("应报", "expected"), "submitted": ("已报", "submitted"), "valid": ("校验无误", "valid"),
        "errors": ("有错误", "with errors"), "returned": ("已退回", "returned"), "approved": ("已通过", "approved"),
        "missing": ("未报", "missing"), "late": ("逾期", "late"),
    }  # fmt: skip
    return {k: t(lang, zh, en) for k, (zh, en) in labels.items()}


_CHECKED = {
    "valid": ("校验无误", "checks passed"),
    "errors": ("校验有错误", "has errors"),
    "draft": ("未提交", "draft"),
    "missing": ("未报送", "missing"),
}


def checked_label(lang: Language, state: str) -> str:
    """The validation state in words that cannot be mistaken for the review's 已通过 (approved)."""
    zh, en = _CHECKED.get(state, (state, state))
    return t(lang, zh, en)
