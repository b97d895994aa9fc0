"""Issue 12 §4 "done when", through the command line on real files: a unit folder with a workbook, a .docx
plan and five photos becomes one submission with its attachments; a photo dated outside the window and a
duplicate photo each get their warning; the master lists the files and export-files archives them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from functions.cli.main import cli
from functions.config.loading import load_campaign, load_roster
from tests.helpers.evidence import docx, jpeg, with_issue_rules
from tests.helpers.workbooks import summary_entries, unit_of_type, write_workbook

TODAY = "2022-12-09"


def _report(folder: Path, unit: str) -> dict[str, object]:
    return json.loads((folder / "out" / "reports" / f"{unit}-summary.json").read_text(encoding="utf-8"))


def test_unit_folders_with_evidence_files_end_to_end(wujin_dir: Path) -> None:
    with_issue_rules(wujin_dir)
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    first, second = unit_of_type(roster, "中小学", 0), unit_of_type(roster, "中小学", 1)
    day = campaign.week.start
    inbox = wujin_dir / "inbox"

    one = inbox / first.code
    write_workbook(one / f"{first.name}-总结.xlsx", campaign, "summary", first, summary_entries())
    plan = docx(f"{first.name}活动周工作方案")
    (one / "活动周工作方案.docx").write_bytes(plan)
    photos = [jpeg(f"{first.code} {i}", dt.datetime.combine(day, dt.time(9 + i))) for i in range(5)]
    for i, data in enumerate(photos):
        (one / f"照片{i + 1}.jpg").write_bytes(data)

    two = inbox / second.name  # named by the unit's name
    write_workbook(two / "总结.xlsx", campaign, "summary", second, summary_entries())
    (two / "方案.docx").write_bytes(docx("方案"))
    (two / "旧照片.jpg").write_bytes(jpeg("last year", dt.datetime(2021, 12, 3, 10, 0)))
    (two / "借用.jpg").write_bytes(photos[0])  # the first unit's photo
    for i in range(3):
        (two / f"p{i}.jpg").write_bytes(jpeg(f"{second.code} {i}", dt.datetime.combine(day, dt.time(14 + i))))

    # The second unit sends an hour later: the first one's photo is already stored when it arrives.
    sent = dt.datetime.combine(day, dt.time(18), tzinfo=campaign.tz).timestamp()
    os.utime(one / f"{first.name}-总结.xlsx", (sent, sent))
    os.utime(two / "总结.xlsx", (sent + 3600, sent + 3600))
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", str(wujin_dir), "--today", TODAY])
    assert result.exit_code == 0, result.output
    assert "新版本 2 个" in result.output

    mine = _report(wujin_dir, first.code)
    assert mine["valid"] is True
    assert [w["code"] for w in mine["warnings"]] == ["photo-count-differs"]  # 照片张数 typed 6, five sent
    theirs = _report(wujin_dir, second.code)
    warnings = {w["code"]: w for w in theirs["warnings"]}
    assert set(warnings) == {"photo-outside-week", "duplicate-photo", "photo-count-differs"}
    assert (
        warnings["photo-outside-week"]["value"] == "旧照片.jpg"
        and "2021-12-03" in warnings["photo-outside-week"]["message"]
    )
    assert warnings["duplicate-photo"]["value"] == "借用.jpg"
    text = (wujin_dir / "out" / "reports" / f"{second.code}-summary.txt").read_text(encoding="utf-8")
    assert "拍摄日期" in text and "其他单位" in text

    again = runner.invoke(cli, ["ingest", str(wujin_dir), "--today", TODAY])
    assert again.exit_code == 0 and "新版本 0 个" in again.output, again.output

    consolidated = runner.invoke(cli, ["consolidate", str(wujin_dir), "--today", TODAY])
    assert consolidated.exit_code == 0, consolidated.output
    wb = load_workbook(wujin_dir / "out" / "master.xlsx", read_only=True)
    rows = list(wb["附件"].iter_rows(values_only=True))
    assert rows[0][:3] == ("单位编码", "单位名称", "材料")
    assert len(rows) == 1 + 6 + 6  # a plan and five photos each
    mine_rows = [r for r in rows[1:] if r[0] == first.code]
    assert sorted(r[3] for r in mine_rows) == ["工作方案"] + ["活动照片"] * 5
    assert all(r[8].startswith(f"{first.code}-{first.name}/") for r in mine_rows)
    wb.close()

    exported = runner.invoke(cli, ["export-files", str(wujin_dir)])
    assert exported.exit_code == 0, exported.output
    archive = wujin_dir / "out" / "附件"
    assert "12 个附件（2 个单位）" in exported.output
    assert (archive / f"{first.code}-{first.name}" / "活动周工作方案.docx").read_bytes() == plan
    assert (archive / f"{first.code}-{first.name}" / "照片3.jpg").read_bytes() == photos[2]
    assert (archive / f"{second.code}-{second.name}" / "借用.jpg").read_bytes() == photos[0]
    # An archive inside the inbox would be read back as submissions: refused, in Chinese.
    refused = runner.invoke(cli, ["export-files", str(wujin_dir), "--out", str(inbox / "archive")])
    assert refused.exit_code == 2 and "收件箱" in refused.stderr
    assert not (inbox / "archive").exists()
