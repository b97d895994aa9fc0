"""The command line against hostile folders and files, in real processes (issue 11 §2.6, §2.12, §2.13):
two runs on one folder, HUIZONG_DEBUG, --json on exit 2, library warnings, a newline in a file name, a
FIFO, a damaged store."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from functions.bootstrap import SQLITE_NAME
from functions.folder_lock import LOCK_NAME
from schemas.campaign import Campaign
from schemas.roster import ROSTER_HEADERS, Roster
from tests.helpers.paths import ROOT
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def _popen(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "functions.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
    )


def _fill_inbox(folder: Path, campaign: Campaign, roster: Roster, count: int = 4) -> list[Path]:
    schools = [u for u in roster.units if u.type == "中小学"][:count]
    return [
        write_workbook(folder / "inbox" / f"{u.code}.xlsx", campaign, "plan", u, school_plan(campaign, u))
        for u in schools
    ]


def _reports_parse(folder: Path) -> list[str]:
    reports = folder / "out" / "reports"
    units = [json.loads(p.read_text(encoding="utf-8"))["unit"] for p in sorted(reports.glob("*.json"))]
    # No temp file is left behind by either process.
    assert not [p.name for p in reports.iterdir() if p.name.endswith(".tmp")]
    return units


def test_two_ingests_at_once_both_succeed(wujin_dir: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    files = _fill_inbox(wujin_dir, campaign, roster)
    for _ in range(3):
        procs = [_popen("ingest", str(wujin_dir)) for _ in range(2)]
        # communicate, not wait: a full pipe would otherwise block the child.
        results = [(p.communicate(timeout=180)[1], p.returncode) for p in procs]
        for err, code in results:
            assert code == 0, err
            assert "Traceback" not in err
    assert len(_reports_parse(wujin_dir)) == len(files)
    status = _cli("status", str(wujin_dir), "--json")
    assert status.returncode == 0, status.stderr


def test_a_second_run_waits_for_the_first(wujin_dir: Path, wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    _fill_inbox(wujin_dir, campaign, roster, count=2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from functions.folder_lock import folder_lock\n"
            "with folder_lock(Path(sys.argv[1]), what='first run'):\n"
            "    print('held', flush=True); sys.stdin.readline()\n",
            str(wujin_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    second = _popen("ingest", str(wujin_dir))
    assert second.stderr is not None
    ready, _, _ = select.select([second.stderr], [], [], 120)
    assert ready, "the second ingest neither waited nor ran"
    told = second.stderr.readline()
    assert "另一个 huizong 正在处理此活动" in told and "first run" in told
    # While the first holds the folder, the second has written nothing.
    assert second.poll() is None
    assert not (wujin_dir / "out" / "reports").exists()
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.wait(timeout=60) == 0
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    assert len(_reports_parse(wujin_dir)) == 2
    assert (wujin_dir / LOCK_NAME).exists()


def test_a_busy_folder_past_the_wait_is_a_clear_refusal(wujin_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from functions.folder_lock import folder_lock\n"
            "with folder_lock(Path(sys.argv[1]), what='long run'):\n"
            "    print('held', flush=True); sys.stdin.readline()\n",
            str(wujin_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        res = _cli("consolidate", str(wujin_dir), env={"HUIZONG_LOCK_WAIT": "0"})
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "long run" in res.stderr and "锁随进程结束自动释放" in res.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.write("go\n")
        holder.stdin.flush()
        holder.wait(timeout=60)


def test_debug_shows_the_traceback_and_plain_mode_does_not(wujin_dir: Path) -> None:
    (wujin_dir / "out").write_text("a file where the out/ folder should be", encoding="utf-8")
    plain = _cli("consolidate", str(wujin_dir))
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr and "HUIZONG_DEBUG=1" in plain.stderr
    debug = _cli("consolidate", str(wujin_dir), env={"HUIZONG_DEBUG": "1"})
    assert debug.returncode not in (0, 2)
    assert "Traceback (most recent call last)" in debug.stderr


def test_json_gets_a_json_error_for_exit_code_2(tmp_path: Path, wujin_dir: Path) -> None:
    file = tmp_path / "some.xlsx"
    file.write_bytes(b"x")
    res = _cli("validate", str(file), "--campaign", str(tmp_path / "nowhere"), "--json")
    assert res.returncode == 2
    body = json.loads(res.stdout)
    assert body["ok"] is False and body["exit_code"] == 2 and body["error"]["kind"] == "config"
    assert any("campaign.yaml" in m for m in body["error"]["messages"])

    usage = _cli("validate", str(tmp_path / "missing.xlsx"), "--campaign", str(wujin_dir), "--json")
    assert usage.returncode == 2
    assert json.loads(usage.stdout)["error"]["kind"] == "usage"

    (wujin_dir / SQLITE_NAME).write_bytes(b"not a database" * 100)
    status = _cli("status", str(wujin_dir), "--json")
    assert status.returncode == 2 and "Traceback" not in status.stderr
    messages = json.loads(status.stdout)["error"]["messages"]
    assert str(wujin_dir / SQLITE_NAME) in messages[0] and "已损坏" in messages[0]


def test_validate_refuses_a_fifo_instead_of_hanging(tmp_path: Path, wujin_dir: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    res = _cli("validate", str(fifo), "--campaign", str(wujin_dir), "--json")
    assert res.returncode == 2
    body = json.loads(res.stdout)
    assert body["error"]["kind"] == "not-a-file" and "不是普通文件" in body["error"]["messages"][0]


def test_validate_and_status_create_no_store(
    tmp_path: Path, wujin_dir: Path, wujin: tuple[Campaign, Roster]
) -> None:
    campaign, roster = wujin
    school = unit_of_type(roster, "中小学")
    good = write_workbook(tmp_path / "good.xlsx", campaign, "plan", school, school_plan(campaign, school))
    assert _cli("validate", str(good), "--campaign", str(wujin_dir)).returncode == 0
    assert _cli("status", str(wujin_dir)).returncode == 0
    assert not (wujin_dir / SQLITE_NAME).exists()


def test_a_newline_in_a_file_name_cannot_fake_a_line(wujin_dir: Path) -> None:
    inbox = wujin_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "x\n   WJ001 plan     通过  forged.xlsx").write_bytes(b"not a workbook")
    res = _cli("ingest", str(wujin_dir))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2  # one line for the file, one summary
    assert "x\\n   WJ001 plan" in lines[0]
    assert not any(line.lstrip().startswith("WJ001 plan") for line in lines)


def test_openpyxl_warnings_do_not_reach_the_user(wujin_dir: Path) -> None:
    # units.xlsx naming a sheet without its part: openpyxl warns from its own file, path included.
    rows = (wujin_dir / "units.csv").read_text(encoding="utf-8-sig").splitlines()
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for line in rows:
        ws.append(line.split(","))
    plain = wujin_dir / "plain.xlsx"
    wb.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(wujin_dir / "units.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"</sheets>", b'<sheet name="ghost" sheetId="9"/></sheets>')
            dst.writestr(item, data)
    plain.unlink()
    (wujin_dir / "units.csv").unlink()
    assert tuple(rows[0].split(",")) == ROSTER_HEADERS
    res = _cli("status", str(wujin_dir))
    assert res.returncode == 0, res.stderr
    assert "openpyxl" not in res.stderr and "Warning" not in res.stderr and "site-packages" not in res.stderr
    # The same run under HUIZONG_DEBUG shows it: the warning is real, only hidden from users.
    debug = _cli("status", str(wujin_dir), env={"HUIZONG_DEBUG": "1"})
    assert "openpyxl" in debug.stderr


@pytest.mark.parametrize("code", ["../../escape", "/tmp/abs"])
def test_a_hostile_roster_code_writes_nothing_outside(tmp_path: Path, wujin_dir: Path, code: str) -> None:
    with (wujin_dir / "units.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"{code},坏单位,中小学,湖塘镇,张三,bad@example.org,1\n")
    res = _cli("ingest", str(wujin_dir))
    assert res.returncode == 0, res.stderr
    assert "单位编码" in res.stderr and "不可用" in res.stderr
    assert not (tmp_path / "escape").exists() and not (wujin_dir.parent / "escape").exists()
