"""campaign.yaml and roster problems in the campaign's language; in both before the language is known."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from functions.config.loading import ConfigError, format_roster_problems, load_campaign, load_roster
from functions.services.setup.examples import write_example
from schemas.i18n import t
from schemas.roster import ROSTER_HEADERS


def _set(folder: Path, **top: object) -> Path:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(top)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def _problems(folder: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_campaign(folder)
    return str(info.value)


def test_t_without_a_language_gives_both() -> None:
    assert t(None, "中文", "English") == "中文 / English"
    assert t(None, "same", "same") == "same"
    assert (t("zh", "中文", "English"), t("en", "中文", "English")) == ("中文", "English")


def test_an_english_campaign_gets_english_config_errors(wujin_dir: Path) -> None:
    reminders = yaml.safe_load((wujin_dir / "campaign.yaml").read_text(encoding="utf-8"))["reminders"]
    _set(wujin_dir, language="en", titel="typo", reminders={**reminders, "hour": 25})
    text = _problems(wujin_dir)
    assert "campaign.yaml: titel: unknown key (a typo?): Extra inputs are not permitted; found 'typo'" in text
    assert "reminders.hour: too large: " in text and "; found 25" in text
    assert "不认识的键" not in text and "数值太大" not in text and "现为" not in text


def test_a_chinese_campaign_keeps_chinese_config_errors(wujin_dir: Path) -> None:
    text = _problems(_set(wujin_dir, titel="typo"))
    assert "titel: 不认识的键（拼写错误？）；现为 'typo'" in text and "Extra inputs" not in text
    assert "unknown key" not in text


def test_an_unknown_language_gets_both(wujin_dir: Path) -> None:
    text = _problems(_set(wujin_dir, language="fr"))
    assert (
        "language: 取值不在允许范围内（可选：'zh' or 'en'）" in text
        and " / not one of the allowed values: " in text
    )


def test_before_the_language_is_known_both(wujin_dir: Path, tmp_path: Path) -> None:
    (wujin_dir / "campaign.yaml").write_text("language: en\ntitle: [unclosed\n", encoding="utf-8")
    text = _problems(wujin_dir)
    assert "第 3 行第 1 列 YAML 格式错误：" in text and " / line 3, column 1: YAML syntax error: " in text
    (wujin_dir / "campaign.yaml").write_text("- a list\n", encoding="utf-8")
    assert "内容应为键值对" in _problems(wujin_dir) and "expected keys and values" in _problems(wujin_dir)
    missing = _problems(tmp_path / "nowhere")
    assert "找不到活动配置文件" in missing and "no campaign file" in missing
    write_example(tmp_path / "x", "xinbei-2017")
    with pytest.raises(ConfigError, match=r"已存在；如要覆盖请加 --force / .* exists; add --force"):
        write_example(tmp_path / "x", "xinbei-2017")


def test_an_english_campaigns_roster_problems_are_english(wujin_dir: Path) -> None:
    campaign = load_campaign(_set(wujin_dir, language="en"))
    lines = [
        ",".join(ROSTER_HEADERS),
        "U1,甲学校,中小学,湖塘镇,张三,a@example.org,13812345678",
        "U1,乙学校,幼儿园,湖塘镇,李四,bad-email,13812345679",
    ]
    (wujin_dir / "units.csv").write_text("\n".join(lines), encoding="utf-8")
    _, problems = load_roster(wujin_dir, campaign)
    [problem] = problems
    assert problem.message.startswith(
        "unit code U1 repeats row 2; unit type '幼儿园' is not one of the campaign's"
    )
    assert problem.message.endswith("; 'bad-email' is not an email address")
    assert format_roster_problems("units", problems, "en") == [f"units row 3: {problem.message}"]
    (wujin_dir / "units.csv").write_text("code,name\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 1 should hold the headers .*; found code,name$"):
        load_roster(wujin_dir, campaign)
    (wujin_dir / "units.csv").write_bytes(",".join(ROSTER_HEADERS).encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_roster(wujin_dir, campaign)


def test_the_organisers_contact_line_follows_the_language(wujin_dir: Path) -> None:
    zh = load_campaign(wujin_dir).organiser_contact_line()
    en = load_campaign(_set(wujin_dir, language="en")).organiser_contact_line()
    assert "，" in zh and "，" not in en and en == zh.replace("，", "; ")
