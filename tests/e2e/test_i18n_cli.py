"""What the command line prints follows the campaign's language (Chinese by default, English on request)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.services.intake.form_webhook import handle_webhook
from functions.services.intake.signature import MAX_BODY_BYTES
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

ROOT = Path(__file__).resolve().parents[2]
# Words of the Chinese output an English organiser must not see (unit names and the like are data).
CHINESE_OUTPUT = ("已生成", "已写入", "共 ", "汇总表：", "催报", "名单问题", "新版本", "预演", "日报", "通过")


def _english(folder: Path) -> Path:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["language"] = "en"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def _run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Result:
    result = CliRunner(env={"HUIZONG_STORE": "sqlite", **(env or {})}).invoke(cli, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result


def _no_chinese_template(text: str) -> None:
    assert [w for w in CHINESE_OUTPUT if w in text] == [], text


@pytest.fixture
def english_dir(wujin_dir: Path) -> Path:
    folder = _english(wujin_dir)
    with (folder / "units.csv").open("a", encoding="utf-8") as fh:
        fh.write("\nX9,某学校,幼儿园,湖塘镇,张三,x9@example.org,13812345678\n")
    app = open_app(folder)
    school = unit_of_type(app.roster, "中小学")
    write_workbook(
        folder / "inbox" / "plan.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    return folder


def test_an_english_campaigns_commands_speak_english(english_dir: Path) -> None:
    folder = str(english_dir)
    # A skipped roster row makes `templates` exit 1 (issue 10.8), with the warning in English too.
    out = _run("templates", folder, code=1)
    assert out.stdout.startswith("Wrote ") and " workbooks to " in out.stdout
    assert "Roster problem (row skipped): units row " in out.stderr
    assert "roster row(s) were skipped" in out.stderr
    _no_chinese_template(out.output)

    out = _run("ingest", folder, "--today", "2022-11-20")
    assert " valid  plan.xlsx" in out.stdout or " error(s)  plan.xlsx" in out.stdout
    assert "1 file(s), 1 new version(s), 0 skipped. Reports in " in out.stdout
    _no_chinese_template(out.output)

    out = _run("consolidate", folder, "--today", "2022-11-20")
    assert out.stdout.startswith("Master: ") and " activity rows, " in out.stdout
    out = _run("remind", folder, "--today", "2022-11-26", "--dry-run")
    assert "(dry run) would remind " in out.stdout
    _no_chinese_template(out.output)
    out = _run("run", folder, "--today", "2022-11-26", "--dry-run")
    assert "Read 1 file(s), 0 new version(s)" in out.stdout and "Reminders for " in out.stdout
    _no_chinese_template(out.stdout)
    out = _run("status", folder)
    assert out.stdout.startswith("Code") and "expected " in out.stdout
    _no_chinese_template(out.stdout)

    out = _run("ingest", folder, "--today", "24/11/2022", code=2)
    assert "expected YYYY-MM-DD, found '24/11/2022'" in out.output
    out = _run("serve", folder, code=2, env={"HUIZONG_WEBHOOK_SECRET": ""})
    assert out.stderr.startswith("No webhook secret: set the environment variable HUIZONG_WEBHOOK_SECRET")


def test_an_english_campaigns_config_error_on_the_command_line(english_dir: Path) -> None:
    path = english_dir / "campaign.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "titel: typo\n", encoding="utf-8")
    out = _run("templates", str(english_dir), code=2)
    assert "titel: unknown key (a typo?)" in out.stderr and "不认识的键" not in out.stderr


def test_a_chinese_campaign_keeps_chinese_output(wujin_dir: Path) -> None:
    out = _run("templates", str(wujin_dir))
    assert out.stdout.startswith("已生成 ") and "个工作簿，位于" in out.stdout
    out = _run("init", str(wujin_dir / "new"), "--example", "xinbei-2017")
    assert out.stdout.startswith("已写入 ") and "下一步：先编辑" in out.stdout
    assert "huizong templates" in out.stdout


def test_an_english_campaigns_webhook_refusal_is_english(wujin_dir: Path) -> None:
    app = open_app(_english(wujin_dir))
    result = handle_webhook(
        app, body=b"x" * (MAX_BODY_BYTES + 1), headers={}, secret=b"s" * 32, now=dt.datetime.now(dt.UTC)
    )
    assert result.body["code"] == "too-large" and result.body["error"].startswith("The body is over ")


def test_no_language_switch_outside_i18n() -> None:
    """Every text picks its language through schemas/i18n.t(); no module compares a language itself."""
    found = []
    for folder in ("functions", "schemas", "sheets_templates"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "schemas" / "i18n.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare):
                    operands = [node.left, *node.comparators]
                    if any(isinstance(o, ast.Constant) and o.value in ("zh", "en") for o in operands):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "use schemas.i18n.t(lang, zh, en):\n" + "\n".join(found)
