"""问题清单 says what each code means in the organiser's language, next to the code."""

from __future__ import annotations

import datetime as dt

from functions.adapters.store.memory import MemoryStore
from functions.services.master.master_sheets import master_sheets
from functions.validate.codes import CODES, code_kind
from schemas.campaign import Campaign
from schemas.roster import Roster


def test_every_code_has_a_short_kind_in_both_languages() -> None:
    for code in CODES:
        for lang in ("zh", "en"):
            kind = code_kind(code, lang)  # type: ignore[arg-type]
            assert kind and len(kind) <= 41 and "`" not in kind, (code, lang, kind)
    assert code_kind("out-of-range", "zh").startswith("超出该项的取值范围")
    assert code_kind("no-such-code", "zh") == ""


def test_the_issues_sheet_has_a_kind_column_after_the_code(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    now = dt.datetime(2022, 12, 10, 9, tzinfo=campaign.tz)
    sheet = next(s for s in master_sheets(campaign, roster, MemoryStore(), now=now) if s.key == "issues")
    assert sheet.header is not None
    assert sheet.header[sheet.header.index("代码") + 1] == "问题类型"
    assert len(sheet.columns) == len(sheet.header)


def test_the_status_table_prints_whole_deliverable_titles(wujin_dir: object) -> None:
    from pathlib import Path

    from functions.bootstrap import open_app
    from functions.services.status.status_table import status_table

    app = open_app(Path(str(wujin_dir)))
    header = status_table(app).splitlines()[0]
    for d in app.campaign.deliverables:
        assert d.title("zh") in header
