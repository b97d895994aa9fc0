"""`huizong review` on the wujin-2022 demo (issue 15): approve, return, waive and reopen from the command
line, and their effects in `status`, the reminders, the digest and master.xlsx."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.services.loop import run_loop
from functions.services.setup.demo import run_demo
from tests.helpers.workbooks import school_plan, write_workbook


def huizong(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def _mails(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted((folder / "outbox").glob("*.eml"))
    ]


def test_review_commands_on_the_demo(tmp_path: Path) -> None:
    demo = run_demo(tmp_path / "d", open_app)
    folder, app, now = demo.folder, demo.app, demo.now
    d = str(folder)
    rows = json.loads(huizong("review", "list", d, "--state", "valid", "--json")[1])
    plans = [r for r in rows if r["deliverable"] == "plan"]
    approved, returned = plans[0]["unit"], plans[1]["unit"]
    with_errors = json.loads(huizong("review", "list", d, "--state", "errors", "--json")[1])[0]

    code, out = huizong("review", "approve", d, approved, "plan", "--comment", "内容完整", "--by", "王老师")
    assert code == 0 and f"已通过：{approved} plan 第1版（王老师）" in out
    mails_before = len(_mails(folder))
    code, out = huizong("review", "return", d, returned, "plan", "--comment", "请补充活动地点和负责人")
    assert code == 0 and "发送退回通知" in out
    code, out = huizong("review", "return", d, returned, "plan", "--comment", "再退一次")
    assert code == 2 and "已退回" in out

    # Exactly one 退回 mail, to that unit, with the comment.
    new = _mails(folder)[mails_before:]
    assert len(new) == 1 and str(new[0]["Subject"]).startswith("【退回修改】")
    unit = app.roster.get(returned)
    assert unit is not None and str(new[0]["To"]) == ", ".join(unit.emails)
    assert "请补充活动地点和负责人" in new[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # A waiver names a real issue; a wrong one is refused with the errors that exist, no traceback.
    code, out = huizong("review", "waive", d, with_errors["unit"], with_errors["deliverable"], "no-such-code", "Z9",
                        "--reason", "x")  # fmt: skip
    assert code == 2 and "该版本的错误" in out and "Traceback" not in out

    code, out = huizong("status", d, "--json")
    units = {(u["unit"], u["deliverable"]): u for u in json.loads(out)["units"]}
    assert units[(approved, "plan")]["review"] == "approved"
    assert units[(returned, "plan")]["review"] == "returned"
    assert units[(returned, "plan")]["review_comment"] == "请补充活动地点和负责人"

    # A later submission of the approved unit is stored but does not replace the approved version.
    target = app.roster.get(approved)
    assert target is not None
    write_workbook(app.paths.inbox / "later" / "新版.xlsx", app.campaign, "plan", target,
                   school_plan(app.campaign, target))  # fmt: skip
    later = now + dt.timedelta(days=1)
    loop = run_loop(app, now=later)
    assert any(o.unit == approved and o.stored for o in loop.ingested)
    # Reminders treat the returned unit as pending (a dry run on a day of the plan's reminder window).
    code, out = huizong("remind", d, "--dry-run", "--today", "2022-11-25")
    assert code == 0 and any(line.startswith(f"{returned} ") and "plan" in line for line in out.splitlines())
    digests = [
        m.get_body(("plain",)).get_content()
        for m in _mails(folder)
        if str(m["Subject"]).startswith("【日报】")
    ]  # type: ignore[union-attr]
    assert any("已退回：请补充活动地点和负责人" in body for body in digests)

    wb = load_workbook(folder / "out" / "master.xlsx")
    assert "审核记录" in wb.sheetnames
    log = list(wb["审核记录"].iter_rows(values_only=True))
    assert [(r[1], r[5]) for r in log[1:]] == [(approved, "通过"), (returned, "退回")]
    status = list(wb["报送情况"].iter_rows(values_only=True))
    at = status[0].index("审核状态")
    by_unit = {r[0]: r for r in status[1:]}
    assert by_unit[approved][at] == "已通过" and by_unit[approved][6] == 1  # still version 1
    assert by_unit[returned][at] == "已退回" and by_unit[returned][at + 1] == "请补充活动地点和负责人"

    code, out = huizong("review", "reopen", d, approved, "plan")
    assert code == 0
    rows = json.loads(huizong("review", "list", d, "--json")[1])
    mine = next(r for r in rows if r["unit"] == approved and r["deliverable"] == "plan")
    assert mine["seq"] == 2 and mine["review"] == ""
