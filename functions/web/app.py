"""The web form as one ASGI app (Starlette): personal link → session cookie → the unit's form → save/submit.

An entry point like the CLI and the Lambda handlers: it is given an App (functions/bootstrap.py builds it)
and calls the services; it builds no adapter. Pages are rendered on the server (Jinja2, autoescaped), with
one small script and one style sheet served by the app itself, so nothing is loaded from elsewhere.

Security, in one place:
- GET /u/<token> checks the link's signature and exchanges it for a session cookie (HttpOnly,
  SameSite=Lax, Secure under https) scoped to the deliverable's path; the token then leaves the URL
  (redirect), and Referrer-Policy no-referrer keeps it from leaking anyway;
- the form's URL names only the deliverable: the unit comes from the signed session, so there is nothing
  in a request a unit could change to reach another unit;
- every POST carries a CSRF token derived from the session;
- requests are capped in size before they are read, and rate-limited per address and per unit
  (functions/web/limits.py); pages send a strict CSP and nosniff;
- in the cloud (App.uploads set) evidence files go from the browser straight to S3 with presigned POSTs
  asked for at /form/<deliverable>/upload (JSON, same session, CSRF and limits); a save takes only keys
  under the session's own prefix (functions/services/web/direct_upload.py). CSP connect-src names the
  bucket's origin then, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from functions.app import App
from functions.services.console.evidence_files import content_disposition
from functions.services.intake.attachments import MAX_FILES_PER_SUBMISSION, IncomingFile, safe_name
from functions.services.setup.unit_templates import unit_template_bytes
from functions.services.web.direct_upload import (
    UploadRefused,
    UploadRequest,
    check_upload_keys,
    pending_uploads,
    presign_upload,
    session_prefix,
    take_uploads,
)
from functions.services.web.form_fields import FormTooLarge, FormValues, form_values
from functions.services.web.form_files import files_for_save, kept_files
from functions.services.web.form_intake import (
    SaveResult,
    deliver_saved_receipt,
    form_start,
    form_state,
    save_form,
)
from functions.services.web.form_review import form_review
from functions.services.web.form_upload import UploadResult, upload_workbook
from functions.services.web.links import (
    SESSION_TTL,
    LinkRefused,
    Session,
    campaign_secret,
    csrf_ok,
    csrf_token,
    link_token,
    resolve,
    session_token,
    verify,
)
from functions.web.admin.routes import create_admin_app
from functions.web.assets import GZIP_MIN_BYTES, Assets
from functions.web.limits import RateLimiter, WebLimits
from functions.web.page import render_form_page
from functions.web.page_files import file_fields
from functions.web.page_upload import UPLOAD_FIELD, template_download_name, upload_section
from schemas.i18n import t
from schemas.report import Issue, ValidationReport
from schemas.submission import Version

log = logging.getLogger("huizong.web")

HERE = Path(__file__).parent
MAX_BODY_BYTES = 512 * 1024  # a 500-row plan typed in full is well under this (a post without files)
# A post with files (multipart): the whole request, read into memory before any handler runs, so bounded
# well below a server's memory. Larger evidence (a 500 MB video) goes by mail or the folder intake.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
# A Lambda function URL refuses a request over 6 MB, and a binary body arrives base64-encoded (4/3 larger):
# 4 MB of files per save fits, and the app says so itself instead of the URL's bare 413.
LAMBDA_MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_FIELDS = 10_000
MAX_UPLOAD_REQUEST_BYTES = 4 * 1024  # one file's presign request: a rule, a name, a size, a type
COOKIE_PREFIX = "hz_"
_DELIVERABLE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[..., Awaitable[None]],
    ],
    Awaitable[None],
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def csp_with_uploads(origin: str) -> str:
    """The CSP when the page's script posts files to storage itself: that origin may be connected to
    (fetch/XHR), nothing more; forms still post only to the app."""
    return CSP.replace("default-src 'self';", f"default-src 'self'; connect-src 'self' {origin};", 1)


class _PageError(Exception):
    """Shown as a page with a status, never as a traceback."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def security_headers(
    inner: ASGIApp, assets: Assets | None = None, headers: list[tuple[bytes, bytes]] | None = None
) -> ASGIApp:
    security = SECURITY_HEADERS if headers is None else headers

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await inner(scope, receive, send)
            return

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in security if n not in names]
                if not scope["path"].startswith("/static/"):
                    # Pages hold a unit's data and a CSRF token: never kept by a shared cache or the back button.
                    extra.append((b"cache-control", b"no-store"))
                elif assets is not None and message.get("status", 200) in (200, 304):
                    extra.append((b"cache-control", assets.cache_control(scope)))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await inner(scope, receive, with_headers)

    return app


def body_limit(
    inner: ASGIApp,
    limit: int,
    too_large: Callable[[], Response],
    upload_limit: int | None = None,
    upload_too_large: Callable[[], Response] | None = None,
) -> ASGIApp:
    """Refuses a body over `limit` bytes (`upload_limit` for a multipart post, which may carry files): by
    its Content-Length before reading, else while it streams. Nothing reaches a handler, so nothing is
    stored from a refused request."""

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await inner(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        is_upload = upload_limit is not None and headers.get(b"content-type", b"").lower().startswith(
            b"multipart/form-data"
        )
        limit_here = upload_limit if is_upload and upload_limit is not None else limit
        refuse = upload_too_large if is_upload and upload_too_large is not None else too_large
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit_here):
            await refuse()(scope, receive, send)
            return
        # Read it all (it is small) so a chunked body over the limit is refused before any handler runs.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            size += len(message.get("body", b""))
            if size > limit_here:
                await refuse()(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await inner(scope, replay, send)

    return app


def create_web_app(
    app: App,
    *,
    base_url: str,
    lock: AbstractContextManager[Any] | threading.Lock | None = None,
    on_stored: Callable[[], None] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    max_body: int = MAX_BODY_BYTES,
    max_upload: int = MAX_UPLOAD_BYTES,
    limits: WebLimits | None = None,
    link_secret: Callable[[], bytes] | None = None,
    on_version: Callable[[Version], None] | None = None,
) -> ASGIApp:
    """The ASGI app. `lock` serialises service calls with the other jobs of `huizong serve`; `on_stored`
    is called after a submission made a new version (serve asks for a master rebuild), `on_version` with
    that version (the Lambda queues its consolidation). `link_secret` gives the links' secret where it is
    not the store's meta (SSM on Lambda). `max_upload` bounds a post with files (LAMBDA_MAX_UPLOAD_BYTES
    behind a function URL)."""
    limits = limits or WebLimits.default()
    campaign = app.campaign
    lang = campaign.language
    base = base_url.rstrip("/")
    secure_cookie = base.startswith("https://")
    guard: AbstractContextManager[Any] = lock if lock is not None else nullcontext()
    now_of = clock or (lambda: dt.datetime.now(campaign.tz))
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    assets = Assets()
    env.globals["asset"] = assets.url
    # Where the browser uploads evidence files itself (cloud); None: in the form's own post.
    uploads = app.uploads
    headers = SECURITY_HEADERS
    if uploads is not None:
        csp = csp_with_uploads(uploads.origin)
        headers = [(n, csp.encode() if n == b"content-security-policy" else v) for n, v in SECURITY_HEADERS]

    def tr(zh: str, en: str) -> str:
        return t(lang, zh, en)

    def page(status: int, title: str, message: str) -> HTMLResponse:
        html = env.get_template("message.html").render(
            lang=lang, tr=tr, title=title, message=message, campaign=campaign
        )
        return HTMLResponse(html, status_code=status)

    def refused(exc: LinkRefused) -> HTMLResponse:
        return page(
            403,
            tr("链接无法使用", "This link cannot be used"),
            exc.message(lang, campaign.organiser_contact_line()),
        )

    def slowed(*checks: tuple[RateLimiter, str]) -> HTMLResponse | None:
        for limiter, key in checks:
            wait = limiter.check(key)
            if wait is not None:
                response = page(
                    429,
                    tr("请稍后再试", "Please wait"),
                    tr(
                        f"操作过于频繁，请 {wait} 秒后再试。已填写的内容请勿关闭页面。",
                        f"Too many requests; try again in {wait} seconds. Keep this page open.",
                    ),
                )
                response.headers["Retry-After"] = str(wait)
                return response
        return None

    def address(request: Request) -> tuple[RateLimiter, str]:
        # Behind a proxy on the same machine uvicorn puts the client's address here (X-Forwarded-For).
        return limits.per_address, "addr:" + (request.client.host if request.client else "?")

    def secret() -> bytes:
        if link_secret is not None:
            return link_secret()
        if app.link_secret is not None:
            return app.link_secret()
        with guard:
            return campaign_secret(app.store, now=now_of())

    reopen = tr(
        "请重新打开组织方发给本单位的链接（打开后12小时内在同一浏览器中有效，过时请再次打开链接）。",
        "Open the link the organiser sent your unit again (a visit lasts 12 hours in the browser that "
        "opened it; after that, open the link again).",
    )

    def session_of(request: Request, deliverable: str) -> Session:
        token = request.cookies.get(COOKIE_PREFIX + deliverable)
        if not token:
            raise _PageError(401, reopen)
        try:
            claims = verify(secret(), token, campaign_id=campaign.id, now=now_of(), purpose="session")
        except LinkRefused as exc:
            if exc.reason == "expired":
                # The session's 12 hours are over, not the campaign: the link opens a new one.
                raise _PageError(401, reopen) from None
            raise
        if claims.d != deliverable:
            raise LinkRefused("tampered")
        return resolve(claims, campaign, app.roster)

    def personal_link(session: Session, key: bytes) -> str:
        return f"{base}/u/{link_token(key, campaign, session.unit.code, session.deliverable)}"

    def render(
        session: Session,
        *,
        values: FormValues,
        report: ValidationReport | None,
        result: SaveResult | None,
        submitted: bool,
        key: bytes,
        uploaded: dict[str, str] | None = None,
        upload: UploadResult | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        with guard:
            start_version = app.store.latest(session.unit.code, session.deliverable)
            state = form_state(app, session.unit, session.deliverable, start_version, now_of())
            review = form_review(app, session.unit.code, session.deliverable)
            kept = kept_files(app, session.unit.code, session.deliverable)
        html = render_form_page(
            env,
            campaign,
            session.unit,
            session.deliverable,
            values=values,
            report=report,
            state=state,
            csrf=csrf_token(key, session.claims),
            result=result,
            submitted=submitted,
            now=now_of(),
            review=review,
            files=file_fields(
                campaign,
                session.deliverable,
                kept,
                report,
                uploaded or {},
                # direct uploads: each file goes on its own, only the rule's size applies
                max_upload=None if uploads is not None else max_upload,
            ),
            upload=upload_section(
                campaign, session.unit, session.deliverable, max_upload=max_upload, result=upload
            ),
            direct_upload=f"/form/{session.deliverable}/presign" if uploads is not None else None,
        )
        return HTMLResponse(html, status_code=status)

    async def open_link(request: Request) -> Response:
        if busy := slowed(address(request)):
            return busy
        token = request.path_params["token"]
        key = await run_in_threadpool(secret)
        try:
            claims = verify(key, token, campaign_id=campaign.id, now=now_of(), purpose="link")
            session = resolve(claims, campaign, app.roster)
        except LinkRefused as exc:
            return refused(exc)
        cookie = session_token(key, session.claims, now=now_of())
        response = RedirectResponse(f"/form/{session.deliverable}", status_code=303)
        response.set_cookie(
            COOKIE_PREFIX + session.deliverable,
            cookie,
            # The cookie may outlive the session it holds; the session's own expiry is what is checked.
            max_age=int(SESSION_TTL.total_seconds()),
            path=f"/form/{session.deliverable}",
            httponly=True,
            samesite="lax",
            secure=secure_cookie or request.url.scheme == "https",
        )
        return response

    def _deliverable(request: Request) -> str:
        deliverable = str(request.path_params["deliverable"])
        if not _DELIVERABLE.match(deliverable) or deliverable not in {d.key for d in campaign.deliverables}:
            raise _PageError(404, tr("没有这个表单。", "There is no such form."))
        return deliverable

    async def _session_or_page(request: Request, failed: str) -> Any:
        """The unit's session for this form, or the page that says why there is none."""
        if busy := slowed(address(request)):
            return busy
        try:
            deliverable = _deliverable(request)
            return await run_in_threadpool(session_of, request, deliverable)
        except LinkRefused as exc:
            return refused(exc)
        except _PageError as exc:
            return page(exc.status, failed, exc.message)

    async def show_form(request: Request) -> Response:
        session = await _session_or_page(request, tr("无法打开表单", "The form cannot be opened"))
        if isinstance(session, Response):
            return session
        key = await run_in_threadpool(secret)

        def load() -> HTMLResponse:
            with guard:
                start = form_start(app, session.unit, session.deliverable)
            return render(
                session, values=start.values, report=start.report, result=None, submitted=False, key=key
            )

        return await run_in_threadpool(load)

    def stored(result: SaveResult) -> None:
        """A submitted version was stored: serve rebuilds the master, Lambda queues its consolidation."""
        if not result.stored:
            return
        if on_stored is not None:
            on_stored()
        if result.version is not None and on_version is not None:
            on_version(result.version)

    async def post_form(request: Request) -> Response:
        session = await _session_or_page(request, tr("无法保存", "Could not save"))
        if isinstance(session, Response):
            return session
        deliverable = session.deliverable
        # Each save runs the validator and may write a version: one unit's saves are limited on their own.
        if busy := slowed((limits.per_unit, f"unit:{session.unit.code}/{deliverable}")):
            return busy
        rules = campaign.deliverable(deliverable).attachments
        max_files = min(sum(r.limit for r in rules), MAX_FILES_PER_SUBMISSION)
        try:
            form = await request.form(max_files=max_files, max_fields=MAX_FIELDS)
        except HTTPException:  # Starlette's answer to too many files or fields, or a malformed post
            return page(
                400,
                tr("无法保存", "Could not save"),
                tr(
                    f"提交的内容格式不对或过多（本表每次最多上传 {max_files} 个文件），未保存任何内容。"
                    "请刷新页面后重试。",
                    f"The form data was malformed or too large (at most {max_files} files per save); "
                    "nothing was saved. Reload the page and try again.",
                ),
            )
        key = await run_in_threadpool(secret)
        if not csrf_ok(key, session.claims, str(form.get("csrf", ""))):
            return page(
                403,
                tr("无法保存", "Could not save"),
                tr(
                    "页面已过期或不是从本单位的表单提交的。请重新打开组织方发来的链接后再保存。",
                    "The page has expired or was not sent from your unit's form. Open your link again and save.",
                ),
            )
        fields = _fields(form)
        submit = form.get("action") == "submit"
        posted, uploaded = await _uploads(form, {r.key for r in rules})
        remove = {str(v) for v in form.getlist("remove")}
        # Files the browser uploaded to storage itself: only keys under this session's prefix, checked
        # before anything is read (a key of another session or unit refuses the whole save).
        direct = (
            pending_uploads(
                [(k, v) for k, v in form.multi_items() if isinstance(v, str)], {r.key for r in rules}
            )
            if uploads is not None and rules
            else []
        )
        prefix = session_prefix(key, session.claims)
        try:
            check_upload_keys(direct, prefix, lang)
        except UploadRefused as exc:
            return page(exc.status, tr("无法保存", "Could not save"), exc.message)
        try:
            values = form_values(campaign, deliverable, fields)
        except FormTooLarge:
            return page(
                413,
                tr("无法保存", "Could not save"),
                tr("行数过多，请联系组织方。", "Too many rows; contact the organiser."),
            )

        def do_save() -> HTMLResponse:
            issues: list[Issue] = []
            with guard:
                incoming = list(posted)
                if direct and uploads is not None:
                    # Read and deleted here: a failed save below loses these (the unit uploads them again),
                    # which beats objects left for the lifecycle rule to find.
                    taken = take_uploads(
                        uploads, direct, max_bytes=max(r.max_bytes for r in rules), lang=lang
                    )
                    incoming += taken.files
                    issues = taken.issues
                    for name, rule in taken.where.items():
                        uploaded.setdefault(name, rule)
                files = (
                    files_for_save(app, session.unit.code, deliverable, incoming, remove) if rules else None
                )
                result = save_form(
                    app,
                    session.unit,
                    deliverable,
                    values,
                    submit=submit,
                    now=now_of(),
                    link=personal_link(session, key),
                    files=files,
                    issues=issues,
                    defer_receipt=True,
                )
            # Claimed above under the lock, mailed here outside it: a slow SMTP server must not hold
            # every other unit's save (the lock is taken again only to record the outcome).
            result = deliver_saved_receipt(app, result, now=now_of(), hold=guard)
            if submit:
                stored(result)
            return render(
                session,
                values=dict(values),
                report=result.report,
                result=result,
                submitted=submit,
                key=key,
                uploaded=uploaded,
            )

        return await run_in_threadpool(do_save)

    # ---- issue 14 §5: a filled workbook uploaded on the form page, and the unit's own workbook ----
    async def post_upload(request: Request) -> Response:
        session = await _session_or_page(request, tr("无法上传", "Could not upload"))
        if isinstance(session, Response):
            return session
        deliverable = session.deliverable
        # An upload is a submission like a save: the same per-unit limit.
        if busy := slowed((limits.per_unit, f"unit:{session.unit.code}/{deliverable}")):
            return busy
        try:
            form = await request.form(max_files=1, max_fields=10)
        except HTTPException:  # more than one file, too many fields, or a malformed post
            return page(
                400,
                tr("无法上传", "Could not upload"),
                tr(
                    "上传的内容格式不对（每次只能上传一个工作簿），未保存任何内容。请返回上一页重新选择文件。",
                    "The upload was malformed (one workbook at a time); nothing was saved. Go back and "
                    "choose the file again.",
                ),
            )
        key = await run_in_threadpool(secret)
        if not csrf_ok(key, session.claims, str(form.get("csrf", ""))):
            return page(
                403,
                tr("无法上传", "Could not upload"),
                tr(
                    "页面已过期或不是从本单位的表单上传的。请重新打开组织方发来的链接后再上传。",
                    "The page has expired or the upload was not sent from your unit's form. Open your link "
                    "again and upload.",
                ),
            )
        chosen = form.get(UPLOAD_FIELD)
        data = b"" if chosen is None or isinstance(chosen, str) else await chosen.read()
        if not data:
            return page(
                400,
                tr("没有收到文件", "No file received"),
                tr(
                    "没有收到要上传的工作簿（未选择文件，或文件是空的），未保存任何内容。请返回上一页选择填好的 Excel 文件。",
                    "No workbook was received (no file chosen, or an empty file); nothing was saved. Go back "
                    "and choose the filled Excel file.",
                ),
            )
        # The sender's name for the file: metadata only (shown, cleaned by safe_name), never a path.
        name = "" if chosen is None or isinstance(chosen, str) else (chosen.filename or "")

        def do_upload() -> HTMLResponse:
            with guard:
                result = upload_workbook(
                    app,
                    session.unit,
                    deliverable,
                    name=name,
                    data=data,
                    now=now_of(),
                    link=personal_link(session, key),
                    defer_receipt=True,
                )
                start = None if not result.refused else form_start(app, session.unit, deliverable)
            if result.saved is not None:
                # As a save's: claimed under the lock, mailed outside it.
                result = replace(
                    result, saved=deliver_saved_receipt(app, result.saved, now=now_of(), hold=guard)
                )
            saved = result.saved
            if saved is not None:
                stored(saved)
            if start is not None:
                # Refused: nothing stored, the page as it was, with the reason in the upload section.
                return render(
                    session,
                    values=start.values,
                    report=start.report,
                    result=None,
                    submitted=False,
                    key=key,
                    upload=result,
                    status=422,
                )
            return render(
                session,
                values=result.values,
                report=result.report,
                result=saved,
                submitted=True,
                key=key,
                upload=result,
            )

        return await run_in_threadpool(do_upload)

    async def get_template(request: Request) -> Response:
        session = await _session_or_page(request, tr("无法下载", "Could not download"))
        if isinstance(session, Response):
            return session
        # Building a workbook costs a little CPU: counted with the unit's saves.
        if busy := slowed((limits.per_unit, f"unit:{session.unit.code}/{session.deliverable}")):
            return busy
        key = await run_in_threadpool(secret)
        # The same workbook `huizong templates` writes for the unit, its 填写说明 carrying this form's link.
        data = await run_in_threadpool(
            unit_template_bytes,
            campaign,
            session.deliverable,
            session.unit,
            form_link=personal_link(session, key),
        )
        name = template_download_name(campaign, session.deliverable, session.unit)
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"content-disposition": content_disposition(name, inline=False)},
        )

    def json_refusal(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    async def presign(request: Request) -> Response:
        """One file's presigned POST for the page's script (cloud only): JSON in, JSON out; the session,
        CSRF and limits of a save. The script shows `error` to the unit as it is (text, never HTML)."""
        if uploads is None:
            return await not_found(request, HTTPException(404))
        failed_title = tr("无法上传", "Could not upload")
        session = await _session_or_page(request, failed_title)
        if isinstance(session, Response):
            # The page is for a browser tab; the script needs one line it can show next to the file.
            if session.status_code == 429:
                wait = session.headers.get("Retry-After", "60")
                return json_refusal(
                    429,
                    tr(
                        f"操作过于频繁，请 {wait} 秒后再试。",
                        f"Too many requests; try again in {wait} seconds.",
                    ),
                    {"Retry-After": wait},
                )
            return json_refusal(
                session.status_code,
                tr("页面已过期，请重新打开组织方发来的链接。", "The page has expired; open your link again."),
            )
        unit_key = f"upload:{session.unit.code}/{session.deliverable}"
        wait = limits.per_upload.check(unit_key)
        if wait is not None:
            return json_refusal(
                429,
                tr(f"上传过于频繁，请 {wait} 秒后再试。", f"Too many uploads; try again in {wait} seconds."),
                {"Retry-After": str(wait)},
            )
        body = await request.body()
        try:
            if len(body) > MAX_UPLOAD_REQUEST_BYTES:
                raise ValueError("too large")
            asked = UploadRequest.model_validate(json.loads(body))
        # Not JSON, or not the shape the script sends (pydantic's error is a ValueError); nesting deep
        # enough to exhaust the parser's recursion is malformed too.
        except (ValueError, RecursionError):
            return json_refusal(
                400,
                tr(
                    "上传请求格式不对，请刷新页面后重试。",
                    "The upload request was malformed; reload the page.",
                ),
            )
        key = await run_in_threadpool(secret)
        if not csrf_ok(key, session.claims, asked.csrf):
            return json_refusal(
                403,
                tr(
                    "页面已过期或不是从本单位的表单发出的。请重新打开组织方发来的链接。",
                    "The page has expired or is not your unit's form. Open your link again.",
                ),
            )

        def sign() -> Response:
            with guard:
                signed = presign_upload(
                    app,
                    uploads,
                    unit=session.unit.code,
                    deliverable=session.deliverable,
                    prefix=session_prefix(key, session.claims),
                    request=asked,
                )
            return JSONResponse(signed.model_dump())

        try:
            return await run_in_threadpool(sign)
        except UploadRefused as exc:
            return json_refusal(exc.status, exc.message)

    async def home(request: Request) -> Response:
        # Someone who typed the bare address: no form without a personal link.
        return page(
            200,
            campaign.title,
            tr(
                "请用组织方发给本单位的专属链接（或二维码）打开填报表单。",
                "Open the form with the personal link (or QR code) the organiser sent your unit.",
            ),
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return page(404, tr("页面不存在", "Page not found"), tr("没有这个页面。", "There is no such page."))

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("web form failed", exc_info=exc)
        return page(
            500,
            tr("出错了", "Something went wrong"),
            tr(
                f"服务器处理时出错，已填写的内容可能未保存。请稍后重试，或联系组织方：{campaign.organiser_contact_line()}",
                f"The server failed; what you typed may not be saved. Try again later or contact the organiser: "
                f"{campaign.organiser_contact_line()}",
            ),
        )

    def upload_too_large() -> Response:
        mb = f"{max_upload / 1024 / 1024:g}"
        return page(
            413,
            tr("文件过大", "Files too large"),
            tr(
                # Shown in place under the buttons by upload.js, or as its own page without scripts:
                # worded for both.
                f"本次上传的文件合计超过 {mb} MB，未保存任何内容。请少选几个文件，分几次上传"
                "（每次保存都会保留已上传的文件），或把较大的文件（如视频）压缩后再上传。",
                f"The files sent in one save are over {mb} MB in total; nothing was saved. Choose fewer "
                "files and upload them a few at a time (each save keeps the files already uploaded), or "
                "make large files (videos) smaller first.",
            ),
        )

    def too_large() -> Response:
        return page(
            413,
            tr("内容过大", "Too large"),
            tr("提交的内容超过了大小限制。", "What was sent is over the size limit."),
        )

    starlette = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/u/{token}", open_link, methods=["GET"]),
            Route("/form/{deliverable}", show_form, methods=["GET"]),
            Route("/form/{deliverable}", post_form, methods=["POST"]),
            Route("/form/{deliverable}/upload", post_upload, methods=["POST"]),
            Route("/form/{deliverable}/template", get_template, methods=["GET"]),
            Route("/form/{deliverable}/presign", presign, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
            # The organiser's console (issue 15): its own router, sessions and templates.
            Mount("/admin", create_admin_app(app, base_url=base, lock=lock, clock=now_of)),
        ],
        exception_handlers={404: not_found, 405: not_found, Exception: failed},
        # Pages are mostly markup and Chinese text: gzip makes them a fraction of their size on a phone.
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)],
    )
    return security_headers(
        body_limit(starlette, max_body, too_large, max_upload, upload_too_large), assets, headers
    )


def _fields(form: FormData) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) and name not in ("csrf", "action", "remove"):
            out.setdefault(name, []).append(value)
    return out


async def _uploads(form: FormData, rule_keys: set[str]) -> tuple[list[IncomingFile], dict[str, str]]:
    """The files posted in the rules' fields (`file.<rule>`), and which field each came in by its shown
    name (the page puts a file's problems next to the field it was chosen in). A browser sends an empty
    part for a file field left empty: skipped. The name is the sender's, metadata only."""
    files: list[IncomingFile] = []
    where: dict[str, str] = {}
    for name, value in form.multi_items():
        if isinstance(value, str) or not name.startswith("file."):
            continue
        rule = name.removeprefix("file.")
        data = await value.read()
        if not data and not value.filename:
            continue
        if rule not in rule_keys:
            continue  # a field the page never offered: ignored, not an error
        f = IncomingFile.from_bytes(value.filename or "file", data)
        files.append(f)
        where.setdefault(safe_name(f.name), rule)
    return files, where
