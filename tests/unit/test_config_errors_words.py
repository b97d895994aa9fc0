"""Config errors a Chinese organiser can act on: no pydantic English, the key, and the allowed values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from functions.config.loading import ConfigError, load_campaign


def _problems(folder: Path, change: dict[str, object]) -> str:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_campaign(folder)
    return "\n".join(caught.value.problems)


def test_a_section_given_a_number_says_a_mapping_is_needed_in_chinese(wujin_dir: Path) -> None:
    text = _problems(wujin_dir, {"week": 5})
    assert "campaign.yaml: week: 需要一组设置" in text and "现为 5" in text
    assert "Input should" not in text


def test_an_unknown_unit_type_in_a_rule_lists_the_known_ones(wujin_dir: Path) -> None:
    text = _problems(wujin_dir, {"rules.required_activities.unit_types": ["职业学校"]})
    assert "rules.required_activities.unit_types" in text and "“职业学校”" in text
    assert "可用：" in text and "中小学" in text and "unknown unit type" not in text


def test_a_week_ending_before_it_starts_is_said_in_chinese_too(wujin_dir: Path) -> None:
    text = _problems(wujin_dir, {"week.start": "2022-12-20"})
    assert "week.end 早于 week.start" in text
