"""The whole loop on the demo campaign: master workbook, reminders never sent twice, resubmission."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from functions.bootstrap import open_app
from functions.services.loop import consolidate, remind, run_loop
from functions.services.setup.demo import run_demo
from functions.services.status.unit_states import unit_statuses
from tests.helpers.paths import ROOT
from tests.helpers.workbooks import school_plan, write_workbook

SHEETS = ["总览", "报送情况", "活动安排", "统计", "问题清单", "催报记录"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return run_demo(tmp_path_factory.mktemp("demo") / "huizong-demo", open_app)


def _emails(folder: Path) -> list[email.message.EmailMessage]:
    out = []
    for p in sorted((folder / "outbox").glob("*.eml")):
        out.append(email.message_from_bytes(p.read_bytes(), policy=email.policy.default))
    return out


def test_demo_master_has_six_filled_sheets(demo) -> None:  # type: ignore[no-untyped-def]
    master = demo.loop.master.path
    wb = load_workbook(master)
    assert wb.sheetnames[:6] == SHEETS
    overview = [[c for c in row if c is not None] for row in wb["总览"].iter_rows(values_only=True)]
    flat = [str(c) for row in overview for c in row]
    assert any("活动周期间，全区" in c and "人次" in c for c in flat)
    plan_row = next(r for r in overview if r and r[0] == demo.app.campaign.deliverable("plan").title_zh)
    expected = len(demo.app.roster.units)
    assert plan_row[2] == expected  # 应报
    assert 0 < plan_row[3] < expected  # 已报: some are missing
    rates = [c for r in overview for c in r if isinstance(c, float)]
    assert rates and all(0 <= r <= 1 for r in rates)
    status = list(wb["报送情况"].iter_rows(values_only=True))
    assert len(status) == 1 + expected
    states = {r[4] for r in status[1:]}
    assert {"已通过", "有错误", "未报送"} <= {s.replace("（逾期）", "") for s in states}
    assert any("逾期" in s for s in states)
    acts = list(wb["活动安排"].iter_rows(values_only=True))
    assert acts[0][:5] == ("单位编码", "单位名称", "单位类型", "所属镇街", "序号")
    assert len(acts) > 50
    assert isinstance(acts[1][7], dt.datetime)  # 开始日期 stored as a date
    assert isinstance(acts[1][12], int)  # 预计参与人数 as a number
    stats = list(wb["统计"].iter_rows(values_only=True))
    assert any(r[0] == "合计" for r in stats)  # what it counts: test_demo_totals_count_only_valid_units
    issues = list(wb["问题清单"].iter_rows(values_only=True))
    codes = {r[5] for r in issues[1:]}
    assert {
        "out-of-week",
        "missing-required-activity",
        "bad-phone",
        "approximate-number",
        "no-free-class",
    } <= codes
    reminders = list(wb["催报记录"].iter_rows(values_only=True))
    assert len(reminders) > 1
    assert wb["活动安排"].freeze_panes == "A2" and wb["活动安排"].auto_filter.ref


def test_demo_sends_personal_reminders_and_one_digest(demo) -> None:  # type: ignore[no-untyped-def]
    mails = _emails(demo.folder)
    digests = [m for m in mails if "【日报】" in m["Subject"]]
    reminders = [m for m in mails if "【催报】" in m["Subject"] or "【请修改】" in m["Subject"]]
    assert len(digests) == 1 and len(reminders) == demo.loop.reminders.sent > 5
    campaign = demo.app.campaign
    m = reminders[0]
    assert m["Reply-To"] == ", ".join(campaign.organiser.emails)
    assert m["From"].addresses[0].display_name == campaign.mail.sender_name
    assert m["Message-ID"] and m["Date"]
    assert campaign.title in m["Subject"]
    text = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert campaign.organiser.phone in text and "<html" in html
    fixes = [x for x in reminders if "【请修改】" in x["Subject"]]
    assert fixes, "units with errors get a 请修改 reminder"
    body = fixes[0].get_body(("plain",)).get_content()
    assert "主要活动安排表" in body or "活动周情况统计表" in body  # names sheet and cell


def test_remind_again_same_day_sends_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    before = len(_emails(demo.folder))
    again = remind(demo.app, now=demo.now + dt.timedelta(hours=3))
    assert again.sent == 0 and not again.digest_sent
    assert len(_emails(demo.folder)) == before


def test_missed_days_send_only_the_latest_step(tmp_path: Path) -> None:
    # plan due 11-24: steps -3..+5 all past on 11-29, the last day before reminders stop (due + 5)
    result = run_demo(tmp_path / "d", open_app, today=dt.date(2022, 11, 29))
    keys = [c.key for c in result.app.store.claims("remind/plan/")]
    assert keys and all(k.endswith("/+5") for k in keys)
    assert all(c.payload["step_label"] == "已逾期5天" for c in result.app.store.claims("remind/plan/"))


def test_valid_resubmission_stops_plan_reminders(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "d", open_app)
    app, now = result.app, result.now
    pending = [s for s in unit_statuses(app.campaign, app.roster, app.store)
               if s.deliverable.key == "plan" and s.unit.type == "中小学" and s.state != "valid"]  # fmt: skip
    target = pending[0].unit
    write_workbook(
        app.paths.inbox / "late" / "补交.xlsx",
        app.campaign,
        "plan",
        target,
        school_plan(app.campaign, target),
    )
    later = now + dt.timedelta(days=2)
    loop = run_loop(app, now=later)
    assert any(o.unit == target.code and o.stored and o.valid for o in loop.ingested)
    later_claims = [c for c in app.store.claims(f"remind/plan/{target.code}/")]
    assert all(c.claimed_at <= now for c in later_claims)
    state = next(s for s in unit_statuses(app.campaign, app.roster, app.store)
                 if s.unit.code == target.code and s.deliverable.key == "plan")  # fmt: skip
    assert state.state == "valid"


def test_formula_text_stays_text_in_master(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "d", open_app)
    app = result.app
    school = next(u for u in app.roster.units if u.type == "中小学")
    entries = school_plan(app.campaign, school)
    entries["activities"][0]["name"] = '=HYPERLINK("http://evil.example","点我")'
    entries["activities"][1]["venue"] = "+86 报告厅"
    write_workbook(app.paths.inbox / "x" / "f.xlsx", app.campaign, "plan", school, entries)
    run_loop(app, now=result.now + dt.timedelta(hours=1))
    wb = load_workbook(app.paths.master)
    names = [r[5] for r in wb["活动安排"].iter_rows(values_only=True)]
    assert '=HYPERLINK("http://evil.example","点我")' in names
    cell = next(
        c
        for row in wb["活动安排"].iter_rows()
        for c in row
        if c.value == names[names.index('=HYPERLINK("http://evil.example","点我")')]
    )
    assert cell.data_type == "s"


def test_failed_consolidation_leaves_previous_master(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = demo.app
    master = app.paths.master
    before = master.read_bytes()

    class Boom(Exception):
        pass

    class BrokenStore:
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(app.store, name)

        def claims(self, prefix: str = ""):  # type: ignore[no-untyped-def]
            raise Boom("disk gone")

    broken = open_app(app.folder, store=BrokenStore())  # type: ignore[arg-type]
    with pytest.raises(Boom):
        consolidate(broken, now=demo.now)
    assert master.read_bytes() == before
    assert [p.name for p in master.parent.iterdir() if p.name.startswith(master.name) and p != master] == []


def test_killed_consolidation_leaves_previous_master(demo) -> None:  # type: ignore[no-untyped-def]
    master = demo.app.paths.master
    before = master.read_bytes()
    script = (
        "import sys, time, datetime as dt\n"
        "from pathlib import Path\n"
        "from functions.bootstrap import open_app\n"
        "from functions.services.master import master_sheets as c\n"
        "orig = c._activities_sheet\n"
        "def slow(campaign, statuses, store):\n"
        "    sheet = orig(campaign, statuses, store)\n"
        "    inner = sheet.rows\n"
        "    def rows():\n"
        "        for i, r in enumerate(inner):\n"
        "            if i == 5:\n"
        "                print('midway', flush=True); time.sleep(60)\n"
        "            yield r\n"
        "    sheet.rows = rows()\n"
        "    return sheet\n"
        "c._activities_sheet = slow\n"
        f"app = open_app(Path({str(demo.folder)!r}))\n"
        "c.build_master(app.campaign, app.roster, app.store, app.paths.master, now=dt.datetime.now(dt.UTC),\n"
        "               write=app.write_master)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "midway"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert master.read_bytes() == before
    load_workbook(master)  # still a whole workbook
    time.sleep(0)


def test_status_cli_and_json(demo) -> None:  # type: ignore[no-untyped-def]
    res = subprocess.run([sys.executable, "-m", "functions.cli", "status", str(demo.folder), "--json"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    import json

    body = json.loads(res.stdout)
    plan = next(d for d in body["deliverables"] if d["key"] == "plan")
    assert plan["expected"] == len(demo.app.roster.units)
    assert plan["submitted"] + plan["missing"] + plan["drafts"] == plan["expected"]
    assert 0 <= plan["reporting_rate"] <= 1
    table = subprocess.run([sys.executable, "-m", "functions.cli", "status", str(demo.folder)],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "已通过" in table.stdout and "未报送" in table.stdout


def test_identical_reingest_adds_no_version(demo) -> None:  # type: ignore[no-untyped-def]
    app = demo.app
    before = {(v.unit, v.deliverable): v.seq for v in app.store.latest_versions()}
    out = run_loop(app, now=demo.now + dt.timedelta(minutes=5), dry_run=True)
    assert not any(o.stored for o in out.ingested)
    assert {(v.unit, v.deliverable): v.seq for v in app.store.latest_versions()} == before
    # The resubmitting unit kept both versions; the fixed one is latest and not late.
    seqs = [v for v in app.store.latest_versions() if v.seq == 2]
    assert seqs and all(v.report.valid for v in seqs) and not any(v.late for v in seqs)


# The paragraph's wording of each statistics field (the seeds' style): the figure it is written with.
_PHRASE = {
    "活动总场次": r"开展各类活动{n}场", "参与总人次": r"，参与{n}人次", "讲座场次": r"讲座{n}场",
    "培训场次": r"、培训{n}场", "展览展示场次": r"展览展示{n}场", "读书活动场次": r"读书活动{n}场",
    "线上活动场次": r"开展线上活动{n}场", "线上参与人次": r"线上参与{n}人次",
    "智慧助老培训人次": r"智慧助老培训{n}人次", "免费惠民培训班期数": r"免费惠民培训班{n}期",
    "免费惠民培训人次": r"免费培训{n}人次", "志愿者人数": r"志愿者{n}人", "发放宣传资料份数": r"宣传资料{n}份",
    "宣传标语条数": r"宣传标语{n}条", "展板块数": r"展板{n}块", "媒体报道篇数": r"媒体报道{n}篇",
    "推荐百姓学习之星人数": r"百姓学习之星{n}人", "推荐终身学习品牌项目数": r"品牌项目{n}个",
    "开放学习场所数": r"开放学习场所{n}处",
}  # fmt: skip


def _stands_for(figure: str, total: int) -> bool:
    """Whether a figure as written (3000, 20.78万, 1.2万余) is a faithful way to write `total`."""
    if "万" not in figure:
        return int(figure) == total
    base = round(float(figure.split("万")[0]) * 10000)
    # 余: cut at the hundredth of 万, never rounded up, so the total is at most 99 more.
    return base < total < base + 100 if figure.endswith("余") else base == total


def test_demo_totals_count_only_valid_units_and_the_paragraph_says_the_same(demo) -> None:  # type: ignore[no-untyped-def]
    campaign = demo.app.campaign
    wb = load_workbook(demo.loop.master.path)
    stats = list(wb["统计"].iter_rows(values_only=True))
    header = stats[0]
    assert header[:5] == ("单位编码", "单位名称", "单位类型", "所属镇街", "状态")
    end = next(i for i, r in enumerate(stats) if r[0] == "合计")
    units = [r for r in stats[1:end] if str(r[0]).startswith("WJ")]
    valid = [r for r in units if r[4].startswith("已通过")]
    with_errors = [r for r in units if r[4].startswith("有错误")]
    # The demo has units with errors whose figures would change the totals if they were counted.
    assert valid and with_errors and all("未计入合计" in r[4] for r in with_errors)
    total = stats[end]
    assert total[2] == f"已通过校验的{len(valid)}个单位合计"
    summable = [f for f in campaign.form_spec.table("statistics").fields if f.summable]
    sums: dict[str, int] = {}
    for f in summable:
        col = header.index(f.label_zh)
        sums[f.label_zh] = sum(r[col] for r in valid)
        assert total[col] == sums[f.label_zh], f.label_zh
    sessions = header.index("活动总场次")
    assert any(isinstance(r[sessions], int) and r[sessions] > 0 for r in with_errors)

    # Every unit that should have sent statistics and is not counted is listed, with why.
    left = stats[end + 2 :]
    assert stats[end + 1][0] == f"未计入合计的单位（{len(left)}个）"
    expected = {u.code for u in demo.app.roster.units if campaign.deliverable("summary").applies_to(u.type)}
    assert {r[0] for r in left} == expected - {r[0] for r in valid}
    assert all(r[5] for r in left)
    assert any(r[5] == "未报送" for r in left) and any("处错误" in r[5] for r in left)

    overview = [[c for c in row if c is not None] for row in wb["总览"].iter_rows(values_only=True)]
    figures = {r[0]: r[1] for r in overview if len(r) >= 2 and r[0] in sums}
    assert figures == sums
    assert ["计入单位数", len(valid)] in overview
    [paragraph] = [c for r in overview for c in r if isinstance(c, str) and c.startswith("活动周期间")]
    assert f"已通过校验的{len(valid)}个单位合计" in paragraph
    assert f"已报送{len(units)}个" in paragraph and f"单位{len(expected)}个" in paragraph
    for label, n in sums.items():
        if n == 0:
            continue
        found = re.search(_PHRASE[label].format(n=r"([\d.]+万?余?)"), paragraph)
        assert found and _stands_for(found.group(1), n), (label, n, paragraph)
