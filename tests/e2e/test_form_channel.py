"""The form route through the CLI in a subprocess: the questions printed for the Apps Script, responses ingested.

(The Apps Script's signing code runs under node in tests/integration/test_apps_script_node.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from functions.bootstrap import open_app
from functions.services.intake.form_responses import ingest_form_response, list_unidentified
from schemas.webhook import FormResponsePayload
from tests.helpers.forms import NOW, payload
from tests.helpers.paths import ROOT


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions.cli", *args], capture_output=True, text=True, cwd=ROOT
    )


def test_form_spec_command_prints_the_summary_questions(wujin_dir: Path) -> None:
    res = _cli("google", "form-spec", str(wujin_dir))
    assert res.returncode == 0, res.stderr
    spec = json.loads(res.stdout)
    assert spec["format"] == "huizong-form-spec/1" and spec["deliverable"] == "summary"
    by_title = {q["title"]: q for q in spec["questions"]}
    assert spec["questions"][0]["role"] == "unit_code" and spec["questions"][0]["required"]
    total = by_title["活动总场次"]
    assert total["required"] and (total["table"], total["field"]) == ("statistics", "total_sessions")
    assert total["validation"] is not None
    assert "工作总结链接" in by_title and "照片张数" in by_title
    # 联系电话 and 填报人 exist in both tables? Only in statistics here, so titles stay plain and unique.
    assert len(by_title) == len(spec["questions"])
    plan = json.loads(_cli("google", "form-spec", str(wujin_dir), "--deliverable", "plan").stdout)
    assert plan["tables_not_in_form"] == ["activities"]  # many rows: sent as a workbook or sheet
    assert {q["field"] for q in plan["questions"][1:]} == {
        "work_plan_url",
        "launch_plan_url",
        "filled_by",
        "phone",
    }
    wrong = _cli("google", "form-spec", str(wujin_dir), "--deliverable", "nope")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_unit_by_email_unknown_code_and_mismatch(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    a, b = app.roster.units[0], app.roster.units[1]
    by_email = payload(app, "", "E1")
    by_email["respondent_email"] = a.emails[0]
    r = ingest_form_response(app, FormResponsePayload.model_validate(by_email), now=NOW)
    assert r.unit == a.code and r.stored

    unknown = payload(app, "ZZ999", "E2")
    r = ingest_form_response(app, FormResponsePayload.model_validate(unknown), now=NOW)
    assert r.unidentified and not r.stored
    assert [u.response_id for u in list_unidentified(app)] == ["E2"]
    listed = _cli("google", "form-unidentified", str(wujin_dir))
    assert "E2" in listed.stdout and "ZZ999" in listed.stdout

    mismatch = payload(app, b.code, "E3")
    mismatch["respondent_email"] = a.emails[0]
    r = ingest_form_response(app, FormResponsePayload.model_validate(mismatch), now=NOW)
    assert r.report is not None and not r.valid
    assert r.report.errors and any(b.code in i.message or a.code in i.message for i in r.report.errors)
