"""`huizong validate`, `huizong status` and `huizong --help` import only what they need (issue 13 §5).

In a fresh interpreter, the real command runs (validate on a real workbook, status on a campaign with a
stored version) and then the modules it loaded are listed: the cloud, Google, web, mail-server and
mail-template libraries must stay out, since each costs start-up time on every run and none of them is
used there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from functions.config.loading import load_campaign, load_roster
from tests.helpers.paths import ROOT
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

# Top-level packages that only other commands (serve, google, deploy, mail) need.
NOT_FOR_VALIDATE = (
    "boto3",
    "botocore",
    "urllib3",
    "gspread",
    "google",  # google-auth (google.auth, google.oauth2)
    "googleapiclient",
    "requests",
    "jinja2",
    "starlette",
    "uvicorn",
    "mangum",
    "aiosmtpd",
    "segno",
)
# Reading a workbook is validate's: status and --help read none.
NOT_FOR_STATUS = (*NOT_FOR_VALIDATE, "openpyxl")

_PROBE = """
import json, runpy, sys
sys.argv = ["huizong", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("functions.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _probe_command(*args: str) -> tuple[str, dict[str, Any]]:
    """What `huizong *args` printed, and its exit code and top-level modules, from a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        cwd=ROOT,
    )
    out, _, tail = done.stdout.rpartition("\n@@")
    assert tail, done.stderr
    return out, json.loads(tail)


def test_validate_loads_none_of_the_libraries_of_other_commands(wujin_dir: Path, tmp_path: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    unit = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", unit, school_plan(campaign, unit))

    out, probe = _probe_command("validate", str(path), "--campaign", str(wujin_dir), "--json")
    # It really validated: a report was printed and the exit code is the validator's, not a crash.
    assert probe["code"] in (0, 1), out
    assert json.loads(out)["unit"] == unit.code
    loaded = set(probe["modules"])
    assert "openpyxl" in loaded  # the probe sees what the command imported
    assert loaded.isdisjoint(NOT_FOR_VALIDATE), sorted(loaded.intersection(NOT_FOR_VALIDATE))


def test_status_and_help_load_neither_those_libraries_nor_openpyxl(wujin_dir: Path, tmp_path: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    unit = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", unit, school_plan(campaign, unit))
    # A stored version, so status has a unit to report on rather than an empty store.
    (wujin_dir / "inbox" / path.name).write_bytes(path.read_bytes())
    ingested, probe = _probe_command("ingest", str(wujin_dir))
    assert probe["code"] == 0 and unit.code in ingested

    out, probe = _probe_command("status", str(wujin_dir))
    assert probe["code"] == 0 and unit.code in out  # it ran and listed the roster
    loaded = set(probe["modules"])
    assert "sqlite3" in loaded  # and opened the store
    assert loaded.isdisjoint(NOT_FOR_STATUS), sorted(loaded.intersection(NOT_FOR_STATUS))

    out, probe = _probe_command("--help")
    assert probe["code"] == 0 and "validate" in out
    loaded = set(probe["modules"])
    assert "click" in loaded
    assert loaded.isdisjoint(NOT_FOR_STATUS), sorted(loaded.intersection(NOT_FOR_STATUS))
