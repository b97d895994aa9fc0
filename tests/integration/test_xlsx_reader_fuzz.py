"""Seeded, bounded fuzzing of the xlsx reader (issue 11 §2): 150 mutated workbooks (sheet XML, workbook
XML, styles, raw zip bytes), each must come back as a report: no exception, no code outside the registry,
no message naming a library or a traceback. A hang would be cut by the reader's own time budget and
show as too-slow-to-read; the assertion is on the outcome only (no timing in tests)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.codes import CODES
from functions.validate.validator import ValidationContext, validate_submission
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.hostile_xlsx import mutate
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

SEED = 20221203
COUNT = 150


def test_mutated_workbooks_always_get_a_report(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    base = write_workbook(tmp_path / "base.xlsx", campaign, "plan", school, school_plan(campaign, school))
    title = campaign.tables_of("plan")[0].title("zh")
    rng = random.Random(SEED)
    seen: Counter[str] = Counter()
    for n in range(COUNT):
        path = mutate(base, tmp_path / f"m{n:03d}.xlsx", title, rng)
        raw = read_workbook(path, campaign, roster)
        parsed, report = validate_submission(raw, campaign, roster, ValidationContext())
        assert report.valid == (not report.errors), n
        for issue in report.issues:
            assert issue.code in CODES, (n, issue.code)
            assert issue.message and "Traceback" not in issue.message and "openpyxl" not in issue.message, n
        if report.valid:
            assert parsed is not None and parsed.unit == school.code, n
        seen.update({i.code for i in report.errors} or {"valid"})
        path.unlink()
    # The mutations reach the parser's refusals, not only the zip's: the fuzzer is not testing nothing.
    assert seen["unreadable-sheet"] > 10 and seen["not-xlsx"] + seen["unreadable-sheet"] < COUNT
    cell_level = {code for code in seen if code in CODES and CODES[code].level == "cell"}
    assert len(cell_level) >= 3, seen  # well-formed mutations reach the values (types, styles, formulas)
    assert "read-failed" not in seen, seen  # every failure the fuzzer found has a precise code
