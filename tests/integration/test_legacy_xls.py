"""Old .xls workbooks (BIFF, as saved by LibreOffice's "Excel 97–2003") are read like .xlsx.

Skipped where LibreOffice (`soffice`) is not installed: it makes the real .xls files.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from functions.adapters.xlsx.reader import read_workbook
from functions.validate.validator import validate_submission
from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


def _to_xls(src: Path, tmp_path: Path) -> Path:
    out = tmp_path / "xls"
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
         "--convert-to", "xls:MS Excel 97", "--outdir", str(out), str(src)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out / f"{src.stem}.xls"


def test_an_xls_saved_by_libreoffice_is_read_and_checked_like_the_xlsx(
    tmp_path: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    entries = school_plan(campaign, school)
    entries["activities"][1]["expected_participants"] = "很多"  # one mistake, to see it found in the .xls
    src = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", school, entries)
    xls = _to_xls(src, tmp_path)
    assert xls.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # really BIFF in OLE, not a zip

    parsed_x, report_x = validate_submission(read_workbook(src, campaign, roster), campaign, roster)
    parsed_b, report_b = validate_submission(read_workbook(xls, campaign, roster), campaign, roster)
    assert "legacy-xls" not in {e.code for e in report_b.errors}
    assert parsed_b is not None and parsed_x is not None
    assert (parsed_b.unit, parsed_b.deliverable) == (school.code, "plan")
    assert parsed_b.tables == parsed_x.tables
    assert [(e.code, e.cell) for e in report_b.errors] == [(e.code, e.cell) for e in report_x.errors]
    assert report_b.errors and report_b.errors[0].cell == "I3"


def test_an_xls_calamine_cannot_read_keeps_legacy_xls(tmp_path: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    bad = tmp_path / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    _, report = validate_submission(read_workbook(bad, campaign, roster), campaign, roster)
    assert [e.code for e in report.errors] == ["legacy-xls"]
    assert "另存为" in report.errors[0].message
