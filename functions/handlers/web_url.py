"""Lambda function URL → the web form: the same ASGI app `huizong serve` runs, through Mangum.

The function URL has AuthType NONE: a unit's link is signed (HMAC with the campaign's link secret, read
from SSM here, from the store's meta locally), and everything after it is the app's own session, CSRF
and rate limits (functions/web/app.py). A submission that makes a new version queues its consolidation
like a webhook delivery does (one FIFO message per version), so the master follows.

Thin by design: the app, its secret and the Mangum adapter are built once per cold start, on the first
request (never at import), and every request after that is Mangum's translation of the event.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from mangum import Mangum

from functions.config.loading import ConfigError
from functions.handlers import runtime
from functions.settings import LINK_SECRET_PARAM
from functions.web.app import LAMBDA_MAX_UPLOAD_BYTES, create_web_app
from schemas.submission import Version


def _base_url(event: dict[str, Any]) -> str:
    """Where units open the form: HUIZONG_BASE_URL (a custom domain), else this function URL."""
    configured = runtime.settings().base_url
    if configured:
        return configured.rstrip("/")
    domain = str((event.get("requestContext") or {}).get("domainName") or "")
    return f"https://{domain}" if domain else "https://localhost"


def _queue(version: Version) -> None:
    request = runtime.ConsolidateRequest(
        version=version.id, unit=version.unit, deliverable=version.deliverable
    )
    try:
        runtime.queue_consolidation([request])
    except Exception:
        # The version is stored and the unit sees it; the next submission or the schedule rebuilds the master.
        runtime.logger().exception("consolidation not queued", extra={"fields": {"version": version.id}})


@cache
def _adapter(base_url: str) -> Mangum:
    app = runtime.app()
    key = runtime.secret(LINK_SECRET_PARAM)
    web = create_web_app(
        app,
        base_url=base_url,
        clock=lambda: runtime.clock().astimezone(app.campaign.tz),
        link_secret=lambda: key,
        on_version=_queue,
        # The function URL's 6 MB request cap: the app refuses above it with its own page, in the unit's
        # language (docs/web-form.md); larger evidence goes by mail.
        max_upload=LAMBDA_MAX_UPLOAD_BYTES,
    )
    # No lifespan: the app has no start-up work and a function URL never sends lifespan events.
    return Mangum(web, lifespan="off")


def _unavailable() -> dict[str, Any]:
    # No campaign could be opened, so no language: both. Nothing about the configuration leaks.
    return {
        "statusCode": 503,
        "headers": {"content-type": "text/plain; charset=utf-8", "cache-control": "no-store"},
        "body": "服务暂时不可用，请稍后重试。 / Service unavailable, retry later.",
    }


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    with runtime.invocation("web", context):
        try:
            adapter = _adapter(_base_url(event))
        except (runtime.RuntimeConfigError, ConfigError):
            runtime.logger().exception("web form is not configured")
            return _unavailable()
        reply: dict[str, Any] = adapter(event, context)
        path = str(event.get("rawPath") or "")
        runtime.log_event(
            "web",
            status=reply.get("statusCode"),
            method=((event.get("requestContext") or {}).get("http") or {}).get("method"),
            # never the token of /u/<token>: it opens a unit's form
            path="/u/…" if path.startswith("/u/") else path[:80],
        )
        return reply


def reset() -> None:
    """Forget the cold start's adapter (tests; runtime.reset() forgets the rest)."""
    _adapter.cache_clear()
