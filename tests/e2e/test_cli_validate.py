"""The command line in a subprocess: `huizong validate` (JSON, text, exit codes) and init → templates → ingest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.campaign import Campaign
from schemas.roster import Roster
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_validate_cli_json_and_exit_codes(
    tmp_path: Path, wujin_dir: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    good = write_workbook(tmp_path / "good.xlsx", campaign, "plan", school, school_plan(campaign, school))
    entries = school_plan(campaign, school)
    entries["activities"][0]["phone"] = "123"
    bad = write_workbook(tmp_path / "bad.xlsx", campaign, "plan", school, entries)

    ok = _cli("validate", str(good), "--campaign", str(wujin_dir), "--json")
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert set(body) == {"file", "unit", "deliverable", "valid", "errors", "warnings"}
    assert body["valid"] is True and body["unit"] == school.code

    res = _cli("validate", str(bad), "--campaign", str(wujin_dir), "--json")
    assert res.returncode == 1
    item = json.loads(res.stdout)["errors"][0]
    assert set(item) == {"code", "severity", "sheet", "cell", "row", "column", "value", "message"}
    assert (item["code"], item["cell"], item["row"], item["value"]) == ("bad-phone", "M2", 2, "123")

    human = _cli("validate", str(bad), "--campaign", str(wujin_dir))
    assert human.returncode == 1 and "【主要活动安排表】" in human.stdout and "M2" in human.stdout

    wrong = _cli("validate", str(good), "--campaign", str(wujin_dir), "--deliverable", "summary", "--json")
    assert wrong.returncode == 1 and json.loads(wrong.stdout)["errors"][0]["code"] == "wrong-deliverable"

    broken = _cli("validate", str(good), "--campaign", str(tmp_path / "nowhere"))
    assert broken.returncode == 2 and "Traceback" not in broken.stderr and "campaign.yaml" in broken.stderr


@pytest.mark.parametrize("example", ["wujin-2022", "xinbei-2017"])
def test_cli_init_templates_ingest_on_both_examples(tmp_path: Path, example: str) -> None:
    folder = tmp_path / example
    assert _cli("init", str(folder), "--example", example).returncode == 0
    res = _cli("templates", str(folder))
    assert res.returncode == 0, res.stderr
    files = sorted((folder / "templates" / "plan").glob("*.xlsx"))
    assert len(files) > 30
    inbox = folder / "inbox"
    unit_file = next(f for f in files if not f.name.startswith("空白"))
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "随便起的名字.xlsx").write_bytes(unit_file.read_bytes())
    res = _cli("ingest", str(folder))
    assert res.returncode == 0, res.stderr
    code = unit_file.name.split("-")[0]
    report = json.loads((folder / "out" / "reports" / f"{code}-plan.json").read_text(encoding="utf-8"))
    assert report["unit"] == code and report["valid"] is False  # an empty template has nothing filled in
    assert "empty-table" in [e["code"] for e in report["errors"]]
    assert (folder / "out" / "reports" / f"{code}-plan.txt").read_text(encoding="utf-8").startswith("文件")
