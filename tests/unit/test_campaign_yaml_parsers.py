"""campaign.yaml is read by libyaml's parser and, only when that refuses it, by PyYAML's pure-Python one
(functions/config/loading.parse_campaign_yaml): both must give the same data for every campaign the
project writes or ships, and a syntax error must still be told with the pure parser's words and place."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from functions.config.loading import ConfigError, load_campaign, parse_campaign_yaml
from tests.helpers.paths import ROOT

SHIPPED = sorted((ROOT / "functions" / "examples").glob("*/campaign.yaml")) + sorted(
    (ROOT / "tests" / "data").glob("*/campaign.yaml")
)

# What organisers write that the two parsers could read differently: dates and times, anchors and
# merges, block and folded text, quoted and unquoted CJK, full-width punctuation, tabs inside quotes,
# a BOM-less comment line, octal-looking codes, booleans in both spellings, empty values, flow lists.
EDGES = """
# 活动配置
name: "2022年武进区全民终身学习活动周"
week: {start: 2022-11-21, end: 2022-11-27}
due_at: 2022-11-24 17:00:00+08:00
codes: [007, 0x1F, 1_000, 3.0e2, .5, -0]
flags: [yes, no, on, off, true, False, ~, null]
anchor: &base {hour: 9, offsets: [-3, -1, 1]}
merged: {<<: *base, hour: 10}
block: |
  第一行：请于11月24日前报送。
    缩进的第二行\t（含制表符）
folded: >-
  a long
  folded line
quoted: "tab\\there, 全角，标点；“引号”"
single: '它''s'
empty:
list:
  - 讲座
  - 展览: {count: 3}
"""


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.parent.name)
def test_every_shipped_campaign_reads_the_same_with_either_parser(path: Path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert parse_campaign_yaml(text) == yaml.safe_load(text)


def test_the_cases_organisers_write_read_the_same_with_either_parser() -> None:
    assert getattr(yaml, "__with_libyaml__", False), "PyYAML's wheel bundles libyaml"
    fast = yaml.load(EDGES, Loader=yaml.CSafeLoader)
    assert fast == yaml.safe_load(EDGES) and fast["merged"] == {"hour": 10, "offsets": [-3, -1, 1]}
    assert parse_campaign_yaml(EDGES) == fast


def test_a_syntax_error_is_told_by_the_pure_parser_with_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "campaign.yaml").write_text('name: "未闭合\nweek: {start: 2022-11-21\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_campaign(folder)
    (message,) = raised.value.problems
    try:
        yaml.safe_load((folder / "campaign.yaml").read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        pure = exc
    mark = pure.problem_mark  # type: ignore[attr-defined]
    assert f"第 {mark.line + 1} 行第 {mark.column + 1} 列" in message
    assert str(pure.problem) in message  # type: ignore[attr-defined]
