"""The Google Form commands: `huizong google form-spec` (the questions for the Apps Script) and
`google form-unidentified` (responses whose unit is unknown, for the organiser), through click's CliRunner.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from functions.bootstrap import App, open_app
from functions.cli.main import cli
from functions.config.loading import load_campaign, load_roster
from functions.services.google.form_spec import form_spec_json
from functions.services.intake.form_responses import ingest_form_response, list_unidentified
from schemas.roster import Unit
from tests.helpers.campaigns import EXTRA_FIELDS_YAML, GOOGLE_YAML, customise
from tests.helpers.forms import NOW, respond


def test_form_spec_command(wujin_dir: Path) -> None:
    folder = customise(wujin_dir, GOOGLE_YAML)
    campaign = load_campaign(folder)
    roster, _ = load_roster(folder, campaign)
    runner = CliRunner()

    printed = runner.invoke(cli, ["google", "form-spec", str(folder)])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == form_spec_json(campaign, "summary", roster)

    gs = runner.invoke(cli, ["google", "form-spec", str(folder), "--gs"])
    assert gs.exit_code == 0, gs.output
    comment, _, code = gs.stdout.partition("\n")
    assert comment.startswith("// ") and code.startswith("var HUIZONG_SPEC = ") and code.endswith(";\n")
    assert json.loads(code.removeprefix("var HUIZONG_SPEC = ").removesuffix(";\n")) == json.loads(
        printed.stdout
    )

    plan = runner.invoke(cli, ["google", "form-spec", str(folder), "--deliverable", "plan"])
    assert plan.exit_code == 0 and json.loads(plan.stdout)["tables_not_in_form"] == ["activities"]

    wrong = runner.invoke(cli, ["google", "form-spec", str(folder), "--deliverable", "nope"])
    assert wrong.exit_code == 2
    assert "没有名为 nope 的报送事项" in wrong.stderr and "Traceback" not in wrong.output


def test_form_deliverables_setting_chooses_the_default(wujin_dir: Path) -> None:
    folder = customise(wujin_dir, GOOGLE_YAML.replace("[summary]", "[plan]"))
    printed = CliRunner().invoke(cli, ["google", "form-spec", str(folder)])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["deliverable"] == "plan"


# --- form-unidentified ------------------------------------------------------------------------------


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(customise(wujin_dir, GOOGLE_YAML, EXTRA_FIELDS_YAML))


def _unit(app: App, i: int = 0) -> Unit:
    return [u for u in app.roster.units if u.type == "镇（街道）社区教育中心"][i]


def _unidentified_cli(app: App, *args: str) -> str:
    res = CliRunner().invoke(cli, ["google", "form-unidentified", str(app.folder), *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def test_an_unknown_unit_is_refused_and_listed_for_the_organiser(app: App) -> None:
    unit = _unit(app)
    result = ingest_form_response(app, respond(app, "ZZ999", "R9", email="someone@example.net"), now=NOW)
    assert result.unidentified and result.unit is None and not result.stored and not result.valid
    assert result.note == "unidentified"
    [error] = [e for e in result.report.errors if e.code == "unknown-unit"]
    assert error.message.startswith("单位编码“ZZ999”不在本次活动的单位名单中，本次提交未计入任何单位。")
    assert "wjsqjy@example.org" in error.message and error.column == "单位编码"
    assert app.store.latest_versions() == []
    report_txt = app.paths.reports / "unidentified" / "form_FORM1_R9.txt"
    assert "ZZ999" in report_txt.read_text(encoding="utf-8")

    [listed] = list_unidentified(app)
    assert (listed.response_id, listed.problem, listed.unit_code_answer, listed.respondent_email) == (
        "R9",
        "unknown",
        "ZZ999",
        "someone@example.net",
    )
    assert listed.reasons == [error.message]
    line = _unidentified_cli(app)
    assert line.startswith(
        "2022-12-09 09:30 summary 回复 R9：填写人 someone@example.net，单位编码“ZZ999”（单位无法识别）"
    )
    assert error.message in line
    assert json.loads(_unidentified_cli(app, "--json"))[0]["response_id"] == "R9"

    # The respondent edits the response with the right code: stored, and off the organiser's list.
    fixed = ingest_form_response(app, respond(app, unit.code, "R9", email="someone@example.net"), now=NOW)
    assert fixed.stored and fixed.unit == unit.code
    assert list_unidentified(app) == []
    assert _unidentified_cli(app) == "没有无法识别单位的表单回复。\n"


def test_code_and_email_of_different_units(app: App) -> None:
    a, b = _unit(app, 0), _unit(app, 1)
    result = ingest_form_response(app, respond(app, b.code, "R3", email=a.emails[0]), now=NOW)
    assert result.unidentified and not result.stored and not result.valid
    [error] = result.report.errors
    assert error.code == "unknown-unit"
    assert error.message.startswith(
        f"单位编码“{b.code}”是 {b.name}（{b.code}），但提交人邮箱 {a.emails[0]} 登记在 {a.name}（{a.code}）名下"
    )
    assert app.store.history(a.code, "summary") == [] and app.store.history(b.code, "summary") == []
    [listed] = list_unidentified(app)
    assert (listed.problem, listed.code_unit, listed.email_unit) == ("mismatch", b.code, a.code)
    assert "（编码与邮箱不符）" in _unidentified_cli(app)


def test_english_campaign_messages(wujin_dir: Path) -> None:
    app = open_app(customise(wujin_dir, GOOGLE_YAML, language="en"))
    result = ingest_form_response(app, respond(app, "ZZ999", "R9"), now=NOW)
    [error] = result.report.errors
    assert error.message.startswith("Unit code 'ZZ999' is not in the roster, so nothing was recorded.")
    assert error.column == "Unit code"
    line = _unidentified_cli(app)
    assert line.startswith("2022-12-09 09:30 summary response R9: (email not collected), code 'ZZ999'")
    assert "(unit unknown)" in line
    unit = _unit(app)
    ok = ingest_form_response(app, respond(app, unit.code, "R10"), now=NOW)
    assert ok.stored
    [approx] = [w for w in ok.report.warnings if w.code == "approximate-number"]
    assert approx.column == "Total participant visits"
