"""Driving `huizong serve`'s lock from a test: a unit opening and saving its web form through the app
that shares the lock, and `while_mail_blocked`, which runs a request or a job until its mail is being
sent (a BlockingMailer, tests/fakes/mailer.py) and checks what else can run meanwhile."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from functions.app import App
from functions.services.web.links import campaign_secret, link_token
from tests.fakes.mailer import BlockingMailer
from tests.helpers.console import csrf_of
from tests.helpers.web_form_values import SUMMARY_STATS

# The campaign settings of the scheduled-job tests: an organiser, 湖塘镇's coordinator (digests, Cc), a
# mailbox to read (replies).
PEOPLE = """
review: optional
people:
  - {name: 王老师, email: wang@example.org, role: organiser}
  - {name: 李协调, email: li@example.org, role: coordinator, areas: [湖塘镇]}
mail_intake:
  user: wjsqjy@example.org
  web_base_url: https://form.example.org
"""

NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
WAIT = 10.0  # seconds; only reached when the code under test is wrong
STATS = {**SUMMARY_STATS, "summary_materials.photo_count": "6"}


def open_form(client: TestClient, app: App, unit: str, *, now: dt.datetime = NOW) -> str:
    """Open `unit`'s summary form from its personal link; the page's CSRF token."""
    token = link_token(campaign_secret(app.store, now=now), app.campaign, unit, "summary")
    got = client.get("/u/" + token, follow_redirects=False)
    assert got.status_code == 303
    page = client.get("/form/summary")
    assert page.status_code == 200
    return csrf_of(page.text)


def save_draft(asgi: Any, app: App, unit: str, *, now: dt.datetime = NOW) -> None:
    """A unit saving its form through the same app: it needs the lock for the whole save."""
    client = TestClient(asgi)
    saved = client.post(
        "/form/summary", data={**STATS, "csrf": open_form(client, app, unit, now=now), "action": "save"}
    )
    assert saved.status_code == 200 and "草稿已保存" in saved.text
    draft = app.store.latest(unit, "summary")
    assert draft is not None and draft.status == "draft"


def while_mail_blocked(
    request: Callable[[], Any],
    mailer: BlockingMailer,
    lock: threading.Lock,
    meanwhile: Callable[[], None],
) -> Any:
    """Run `request` in a thread until its mail is being sent; then the lock must be free and
    `meanwhile` must complete; then release the mail and return the request's answer."""
    got: list[Any] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            got.append(request())
        except BaseException as exc:  # re-raised in the test's thread
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert mailer.entered.wait(WAIT), "the mail was never sent"
        assert lock.acquire(timeout=WAIT), "serve's lock is held while the mail is being sent"
        lock.release()
        meanwhile()
        assert not got and not failed, "the request ended before its mail was released"
    finally:
        mailer.release.set()
        thread.join(WAIT * 3)
    assert not thread.is_alive(), "the request did not finish after its mail was released"
    if failed:
        raise failed[0]
    return got[0]
