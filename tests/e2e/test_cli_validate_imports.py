"""`huizong validate` imports only what validation needs (issue 13 §5).

In a fresh interpreter, the real command runs on a real workbook and then the modules it loaded are
listed: the cloud, Google, web and mail-template libraries must stay out, since each costs start-up time
on every `validate` and none of them is used there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from functions.config.loading import load_campaign, load_roster
from tests.helpers.paths import ROOT
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

# Top-level packages that only other commands (serve, google, deploy, mail) need.
NOT_FOR_VALIDATE = (
    "boto3",
    "botocore",
    "gspread",
    "googleapiclient",
    "jinja2",
    "starlette",
    "uvicorn",
    "segno",
)

_PROBE = """
import json, runpy, sys
sys.argv = ["huizong", "validate", sys.argv[1], "--campaign", sys.argv[2], "--json"]
code = 0
try:
    runpy.run_module("functions.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print("\\n@@" + json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_validate_loads_none_of_the_libraries_of_other_commands(wujin_dir: Path, tmp_path: Path) -> None:
    campaign = load_campaign(wujin_dir)
    roster, _ = load_roster(wujin_dir, campaign)
    unit = unit_of_type(roster, "中小学")
    path = write_workbook(tmp_path / "plan.xlsx", campaign, "plan", unit, school_plan(campaign, unit))

    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), str(wujin_dir)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        cwd=ROOT,
    )
    out, _, tail = done.stdout.rpartition("\n@@")
    probe = json.loads(tail)
    # It really validated: a report was printed and the exit code is the validator's, not a crash.
    assert probe["code"] in (0, 1), done.stderr
    assert json.loads(out)["unit"] == unit.code
    loaded = set(probe["modules"])
    assert "openpyxl" in loaded  # the probe sees what the command imported
    assert loaded.isdisjoint(NOT_FOR_VALIDATE), sorted(loaded.intersection(NOT_FOR_VALIDATE))
