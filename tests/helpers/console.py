"""Signing in to the organiser console through Starlette's TestClient, as a person does: ask for the
link, read it from the real .eml in the outbox, open it, press the button."""

from __future__ import annotations

import re
from email.message import EmailMessage

from starlette.testclient import TestClient

from functions.app import App
from tests.helpers.mail import outbox_mails


def mails(app: App) -> list[EmailMessage]:
    return outbox_mails(app.paths.outbox)


def csrf_of(page: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    assert m, "no CSRF field in the page"
    return m.group(1)


def sign_in(client: TestClient, app: App, address: str) -> str:
    """Sign `client` in as `address` (whose first link this must be); the home page's CSRF token."""
    page = client.get("/admin/login")
    assert client.post("/admin/login", data={"email": address, "csrf": csrf_of(page.text)}).status_code == 200
    links = []
    for m in mails(app):
        body = m.get_body(("plain",))
        if address in str(m["To"]) and body is not None:
            links += re.findall(r"http://testserver(/admin/signin/[A-Za-z0-9_-]+)", body.get_content())
    assert len(links) == 1, f"expected one sign-in mail to {address}, found {links}"
    page = client.get(links[0])
    token = links[0].rsplit("/", 1)[1]
    got = client.post(
        "/admin/signin", data={"token": token, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert got.status_code == 303
    home = client.get("/admin/")
    assert home.status_code == 200
    return csrf_of(home.text)
