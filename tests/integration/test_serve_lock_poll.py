"""`huizong serve`'s Google poll mails its receipts with serve's lock released: the poll claims and builds
them under the lock (`run_poll(defer_receipts=…)`), and `deliver_receipts` sends them after it, taking
the lock only to record each outcome; the folder's lock stays the job's, so a CLI run still waits.
Without `defer_receipts` (Lambda, the CLI) the poll sends them as it goes, as before.

The poll's world of tests/helpers/google_poll.py: provisioned school sheets in FakeGoogle (over
`responses`), a unit that fills its sheet and ticks 提交.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from functions.bootstrap import App, open_app
from functions.folder_lock import FolderBusy, folder_lock
from functions.ports import MailRefused
from functions.serve.local_server import LocalServer
from functions.services.google.poll import DeferredReceipt, deliver_receipts, run_poll
from functions.services.intake.receipt import PENDING_PREFIX, RECEIPT_PREFIX
from tests.fakes.google import FakeGoogle
from tests.fakes.held import CheckingMailer, Hold
from tests.fakes.mailer import BlockingMailer, ScriptedMailer
from tests.helpers.google_poll import NOW, fill, provisioned, session_for, tick
from tests.helpers.serve_lock import while_mail_blocked

SECRET = b"a-shared-secret-of-enough-length"


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle) -> App:
    app = provisioned(wujin_dir, google)
    for unit in app.roster.units[:2]:
        fill(google, app, unit)
        tick(google, app, unit)
    return app


def results(app: App, prefix: str) -> list[str]:
    return [str(c.payload.get("result")) for c in open_app(app.folder).store.claims(prefix)]


def test_serves_poll_mails_its_receipts_with_the_lock_released(google: FakeGoogle, app: App) -> None:
    app.google = lambda: session_for(app)
    server = LocalServer(app, secret=SECRET, port=0, clock=lambda: NOW)
    mailer = BlockingMailer()
    app.use_mailer(mailer)

    def meanwhile() -> None:
        with server.lock:  # another request's store step, while the receipt is on its way
            assert app.store.claims(RECEIPT_PREFIX)
        with pytest.raises(FolderBusy), folder_lock(app.folder, what="huizong run", wait=0.0):
            pass  # a CLI run beside serve still waits for the job

    try:
        while_mail_blocked(server.poll_google, mailer, server.lock, meanwhile)
    finally:
        server.httpd.server_close()

    assert server.stats.polls == 1 and server.stats.errors == []
    assert len(mailer.sent) == 2 and all(str(m["Subject"]).startswith("【回执】") for m in mailer.sent)
    assert results(app, RECEIPT_PREFIX) == ["sent", "sent"]
    with folder_lock(app.folder, what="huizong run", wait=0.0):
        pass


@pytest.mark.parametrize("fail", [None, MailRefused("421 later")], ids=["sent", "refused"])
def test_deferred_receipts_are_claimed_in_the_poll_and_sent_outside_the_hold(
    google: FakeGoogle, app: App, fail: Exception | None
) -> None:
    hold = Hold()
    mailer = CheckingMailer(hold, app.store, fail)
    app.use_mailer(mailer)
    deferred: list[DeferredReceipt] = []
    with hold:
        result = run_poll(app, session_for(app), now=NOW, defer_receipts=deferred)
    assert mailer.tries == 0 and result.receipts_sent == 0
    assert [d.check.receipt for d in deferred if d.check] == [None, None]
    assert results(app, RECEIPT_PREFIX) == ["sending", "sending"]

    sent = deliver_receipts(app, deferred, now=NOW, hold=hold)

    assert mailer.tries == 2 and mailer.sent_while_held == 0 and hold.taken == 3  # the poll, 2 records
    assert all(len(keys) >= 1 for keys in mailer.sending_at_send)
    if fail is None:
        assert sent == 2 and [c.receipt for c in result.checks] == ["sent", "sent"]
        assert results(app, RECEIPT_PREFIX) == ["sent", "sent"]
        return
    # Refused: released and kept for the next poll, whose retries are deferred as well.
    assert sent == 0 and [c.receipt for c in result.checks] == ["refused", "refused"]
    assert results(app, RECEIPT_PREFIX) == [] and len(results(app, PENDING_PREFIX)) == 2
    mailer.fail = None
    again: list[DeferredReceipt] = []
    with hold:
        second = run_poll(app, session_for(app), now=NOW, defer_receipts=again)
    assert second.checks == [] and [d.check for d in again] == [None, None] and mailer.tries == 2
    assert deliver_receipts(app, again, now=NOW, hold=hold) == 2
    assert len(mailer.sent) == 2 and mailer.sent_while_held == 0
    assert results(app, RECEIPT_PREFIX) == ["sent", "sent"] and results(app, PENDING_PREFIX) == []


def test_without_defer_the_poll_sends_as_it_goes(google: FakeGoogle, app: App) -> None:
    mailer = ScriptedMailer()
    app.use_mailer(mailer)
    result = run_poll(app, session_for(app), now=NOW)
    assert result.receipts_sent == 2 and len(mailer.sent) == 2
    assert [c.receipt for c in result.checks] == ["sent", "sent"]
