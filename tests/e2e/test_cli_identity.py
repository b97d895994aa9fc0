"""Honest console and exit codes (issue 10.8) and `huizong assign`, through click's CliRunner."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from functions.cli.main import cli
from functions.config.loading import load_campaign, load_roster
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook


def test_init_says_to_edit_both_files_first(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert "先编辑" in last and "campaign.yaml" in last and "units.csv" in last
    assert last.index("units.csv") < last.index("huizong templates")


def test_templates_exits_1_and_lists_rejected_roster_rows(wujin_dir: Path) -> None:
    with (wujin_dir / "units.csv").open("a", encoding="utf-8") as fh:
        fh.write("WJ900,某职业学校,职业学校,湖塘,王五,wj900@example.org,13800000000\n")
    result = CliRunner().invoke(cli, ["templates", str(wujin_dir)])
    assert result.exit_code == 1, result.output
    assert "第 " in result.stderr and "职业学校" in result.stderr
    assert "1 行被跳过" in result.stderr and "units.csv" in result.stderr
    missing = CliRunner().invoke(cli, ["templates", str(wujin_dir / ".." / "missing")])
    assert missing.exit_code == 2  # no campaign at all: cannot run, not "invalid"


def test_ingest_prints_each_files_own_result(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    school = unit_of_type(roster, "中小学")
    bad_entries = school_plan(campaign, school)
    bad_entries["activities"][0]["phone"] = "123"
    old = write_workbook(wujin_dir / "inbox" / "old.xlsx", campaign, "plan", school, bad_entries)
    new = write_workbook(
        wujin_dir / "inbox" / "new.xlsx", campaign, "plan", school, school_plan(campaign, school)
    )
    os.utime(old, (1_669_000_000, 1_669_000_000))
    os.utime(new, (1_669_100_000, 1_669_100_000))
    runner = CliRunner()
    for _ in range(2):  # the second run finds both files already stored
        result = runner.invoke(cli, ["ingest", str(wujin_dir), "--today", "2022-11-23"])
        assert result.exit_code == 0, result.output
        lines = {line.split()[-1]: line for line in result.output.splitlines() if ".xlsx" in line}
        assert "1个错误" in lines["old.xlsx"] and "通过" not in lines["old.xlsx"]
        assert "通过" in lines["new.xlsx"]


def test_assign_cli_attaches_an_unidentified_workbook(wujin_dir: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    school = unit_of_type(roster, "中小学")
    path = write_workbook(
        wujin_dir / "inbox" / "noname.xlsx", campaign, "plan", school, school_plan(campaign, school)
    )
    wb = load_workbook(path)
    del wb["_huizong"]
    for row in wb["填写说明"].iter_rows():
        if row[0].value in ("单位编码", "单位名称"):
            row[1].value = None
    wb.save(path)
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(wujin_dir), "--today", "2022-11-23"]).exit_code == 0
    status = runner.invoke(cli, ["status", str(wujin_dir), "--json"])
    files = json.loads(status.output)["unread_files"]
    assert [(f["name"], f["reason"], f["assigned"]) for f in files] == [
        ("noname.xlsx", "unidentified", False)
    ]
    assert "noname.xlsx" in runner.invoke(cli, ["status", str(wujin_dir)]).output

    wrong = runner.invoke(cli, ["assign", str(path), "ZZ999"])
    assert wrong.exit_code == 2 and "ZZ999" in wrong.stderr and "Traceback" not in wrong.output
    done = runner.invoke(cli, ["assign", str(path), school.code, "--today", "2022-11-23"])
    assert done.exit_code == 0, done.output
    assert f"已指派给 {school.code}" in done.output
    files = json.loads(runner.invoke(cli, ["status", str(wujin_dir), "--json"]).output)["unread_files"]
    assert files[0]["assigned"] and files[0]["unit"] == school.code
    units = json.loads(runner.invoke(cli, ["status", str(wujin_dir), "--json"]).output)["units"]
    mine = next(u for u in units if u["unit"] == school.code and u["deliverable"] == "plan")
    assert mine["state"] == "valid" and mine["version"] == 1


def test_a_file_name_with_a_newline_cannot_fake_a_line_of_output(wujin_dir: Path) -> None:
    inbox = wujin_dir / "inbox"
    inbox.mkdir(exist_ok=True)
    (inbox / "x\n  WJ001 plan     通过  fake.xlsx").write_text("not a workbook", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(wujin_dir), "--today", "2022-11-23"])
    assert result.exit_code == 0, result.output
    assert not any(line.lstrip().startswith("WJ001") for line in result.output.splitlines())
    assert "x\\n  WJ001" in result.output and "无法读取" in result.output
