"""The form route: the questions printed for the Apps Script, its signing code, responses ingested."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from functions.bootstrap import open_app
from functions.services.intake.form_responses import ingest_form_response, list_unidentified
from functions.services.intake.signature import verify
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


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_apps_script_signing_matches_the_shared_vector() -> None:
    vector_path = ROOT / "tests" / "data" / "signature_vector.json"
    out = subprocess.run(
        ["node", str(ROOT / "tests" / "apps_script_sign.js"), str(ROOT / "infra" / "apps_script" / "Code.gs"),
         str(vector_path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout)
    vector = json.loads(vector_path.read_text(encoding="utf-8"))
    assert result["header"] == vector["header"]
    verify(vector["secret"].encode(), vector["body"].encode(), result["header"], now=vector["timestamp"])
    # The ASCII-only JSON the script sends parses to the same value as the original.
    assert json.loads(result["ascii"]) == {"name": "武进", "n": 1} and result["ascii"].isascii()


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
