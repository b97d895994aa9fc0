"""A receipt tells the unit what to do next in the words of the channel it used: a Google sheet is fixed
in place and stays ticked, the web form is reopened from its link, a file or form answer is sent again."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from functions.bootstrap import open_app
from functions.services.intake.receipt import build_receipt
from schemas.submission import SourceKind
from tests.helpers.store import report, submission

NOW = dt.datetime(2022, 11, 20, 10, 0, tzinfo=dt.UTC)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return body.get_content()


@pytest.mark.parametrize(
    ("kind", "says", "never"),
    [
        ("sheet", ["“提交”保持勾选", "贵单位的表格："], ["在线填报链接"]),
        ("web", ["打开下面的在线填报链接", "在线填报链接："], ["保持勾选", "贵单位的表格"]),
        ("form", ["修改后重新报送"], ["保持勾选", "在线填报链接"]),
    ],
)
def test_the_next_step_is_the_channels(
    wujin_dir: Path, kind: SourceKind, says: list[str], never: list[str]
) -> None:
    app = open_app(wujin_dir)
    sub = submission("WJ009", "plan").model_copy(update={"source_kind": kind})
    version, _ = app.store.add_version(sub, report(sub, errors=1), received_at=NOW, late=False)
    unit = app.roster.get("WJ009")
    assert unit is not None
    msg = build_receipt(app.campaign, unit, version, link="https://form.example.org/u/abc", now=NOW)
    html = msg.get_body(("html",))
    assert html is not None
    for text in (_text(msg), html.get_content()):
        assert all(s in text for s in says), (kind, text)
        assert not any(s in text for s in never), (kind, text)
