"""With `web: {base_url}` in campaign.yaml, a unit's personal form link is in its workbook's 填写说明 and in
its reminders (text and HTML), and it opens that unit's form; without it, neither says anything of a form.
Workbooks are written and read back with openpyxl; reminders are .eml files in an outbox, parsed back."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.adapters.mail.outbox import OutboxMailer
from functions.bootstrap import App, open_app
from functions.services.reminders.send_reminders import run_reminders
from functions.services.setup.unit_templates import write_templates
from functions.services.web.form_link import form_links
from functions.services.web.links import campaign_secret, verify
from schemas.roster import Roster

BASE = "https://form.example.org/hz"
NOW = dt.datetime(2022, 11, 21, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a plan reminder step
TOKEN = re.compile(re.escape(BASE) + r"/u/([A-Za-z0-9_\-.]+)")


def _app(folder: Path, web: bool) -> App:
    if web:
        yaml_path = folder / "campaign.yaml"
        yaml_path.write_text(
            yaml_path.read_text(encoding="utf-8") + f"\nweb:\n  base_url: {BASE}/\n", encoding="utf-8"
        )
    return open_app(folder)


def _instructions(path: Path) -> dict[str, tuple[str, str | None]]:
    ws = load_workbook(path)["填写说明"]
    return {
        str(row[0].value): (str(row[1].value or ""), row[1].hyperlink.target if row[1].hyperlink else None)
        for row in ws.iter_rows(min_row=3, max_col=2)
        if row[0].value
    }


def _two_units(app: App) -> Roster:
    # Two units are enough to tell links apart; the whole roster would make 80 workbooks.
    return Roster(units=[u for u in app.roster.units if u.code in ("WJ009", "WJ015")])


def _opens(app: App, link: str, unit: str, deliverable: str) -> None:
    m = TOKEN.fullmatch(link)
    assert m, link
    claims = verify(campaign_secret(app.store, now=NOW), m.group(1), campaign_id=app.campaign.id, now=NOW)
    assert (claims.u, claims.d) == (unit, deliverable)


def test_the_workbook_instructions_carry_the_units_own_link(wujin_dir: Path) -> None:
    app = _app(wujin_dir, web=True)
    paths = write_templates(
        wujin_dir, app.campaign, _two_units(app), link_of=form_links(app.store, app.campaign, now=NOW)
    )
    mine = next(p for p in paths if p.parent.name == "plan" and p.name.startswith("WJ009-"))
    lines = _instructions(mine)
    text, target = lines["在线填报"]
    assert target is not None and target in text and "请勿转发" in text
    _opens(app, target, "WJ009", "plan")
    # another unit's workbook has its own link, and the blank template none (it has no unit)
    other = next(p for p in paths if p.parent.name == "summary" and p.name.startswith("WJ015-"))
    _opens(app, _instructions(other)["在线填报"][1] or "", "WJ015", "summary")
    blank = next(p for p in paths if p.parent.name == "plan" and p.name.startswith("空白模板"))
    assert "在线填报" not in _instructions(blank)


def test_without_a_web_address_nothing_is_printed_and_no_secret_is_made(wujin_dir: Path) -> None:
    app = _app(wujin_dir, web=False)
    paths = write_templates(
        wujin_dir, app.campaign, _two_units(app), link_of=form_links(app.store, app.campaign, now=NOW)
    )
    assert all("在线填报" not in _instructions(p) for p in paths if p.parent.name == "plan")
    assert app.store.get_meta("web/link-secret") is None


@pytest.mark.parametrize("web", [True, False])
def test_reminders_carry_the_link_when_there_is_a_form(wujin_dir: Path, web: bool) -> None:
    app = _app(wujin_dir, web=web)
    outbox = wujin_dir / "outbox"
    result = run_reminders(app.campaign, app.roster, app.store, OutboxMailer(outbox), now=NOW)
    assert result.sent > 0
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox.glob("*.eml")
    ]
    to_unit = [m for m in mails if "wj015@example.edu.cn" in str(m["To"])]
    assert len(to_unit) == 1
    text = to_unit[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = to_unit[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
    if not web:
        assert "在线填报" not in text and "/u/" not in html
        return
    line = next(x for x in text.splitlines() if "在线填报" in x)
    link = TOKEN.search(line)
    assert link
    _opens(app, link.group(0), "WJ015", "plan")
    assert f'<a href="{link.group(0)}">' in html


def test_a_secret_kept_outside_the_store_signs_the_links(wujin_dir: Path) -> None:
    # On AWS the secret is in SSM (App.link_secret): reminders sent from Lambda must carry links the
    # Lambda form accepts, and the store gets no secret of its own.
    app = _app(wujin_dir, web=True)
    key = b"a-secret-kept-in-ssm-0123456789abcdef"
    link = form_links(app.store, app.campaign, now=NOW, secret_of=lambda: key)("WJ009", "plan")
    assert link is not None
    m = TOKEN.fullmatch(link)
    assert m
    claims = verify(key, m.group(1), campaign_id=app.campaign.id, now=NOW)
    assert (claims.u, claims.d) == ("WJ009", "plan")
    assert app.store.get_meta("web/link-secret") is None
