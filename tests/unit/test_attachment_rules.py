"""Attachment rules in campaign.yaml (issue 12 §4): the issue's example loads, old files load, and a bad
rule is told in the campaign's language with where it is and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.config.loading import ConfigError, load_campaign
from functions.services.setup.examples import write_example
from tests.helpers.evidence import with_issue_rules


def _set_rules(folder: Path, rules: str, *, language: str = "zh") -> None:
    with_issue_rules(folder)
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8").replace("language: zh", f"language: {language}")
    start = text.index(
        "      - {key: plan_doc, label_zh: 工作方案, label_en: Work plan, types: [docx, pdf, wps]"
    )
    end = text.index("\n", text.index("      - {key: video")) + 1
    path.write_text(text[:start] + rules + text[end:], encoding="utf-8")


def test_the_issues_example_loads(wujin_dir: Path) -> None:
    campaign = load_campaign(with_issue_rules(wujin_dir))
    rules = {r.key: r for r in campaign.deliverable("summary").attachments}
    assert list(rules) == ["plan_doc", "photos", "video"]
    assert (rules["plan_doc"].min, rules["plan_doc"].max, rules["plan_doc"].max_mb) == (1, 1, 20)
    assert rules["photos"].kinds() == ["jpg", "jpg", "png", "heic"]  # jpeg is jpg
    assert rules["video"].required_unless == "photos" and rules["video"].max_bytes == 500 * 1024 * 1024


def test_a_campaign_without_attachments_still_loads(tmp_path: Path) -> None:
    folder = tmp_path / "xinbei"
    write_example(folder, "xinbei-2017")
    campaign = load_campaign(folder)
    assert all(d.attachments == [] for d in campaign.deliverables)


@pytest.mark.parametrize(
    ("rules", "language", "expected"),
    [
        (
            "      - {key: photos, types: [jpg, bitmap]}\n",
            "zh",
            ["deliverables.summary.attachments[0].types", "不认识的文件类型“bitmap”", "可用：jpg、png"],
        ),
        (
            "      - {key: photos, types: [jpg, bitmap]}\n",
            "en",
            ["deliverables.summary.attachments[0].types", "unknown file type 'bitmap'", "allowed: jpg, png"],
        ),
        (
            "      - {key: photos, types: [jpg], min: 6, max: 5}\n",
            "zh",
            ["deliverables.summary.attachments[0]", "min（6）大于 max（5）"],
        ),
        (
            "      - {key: video, types: [mp4], required_unless: pictures}\n"
            "      - {key: photos, types: [jpg]}\n",
            "zh",
            ["attachments[0].required_unless", "“pictures”不是本材料的另一条附件规则", "可用：photos"],
        ),
        (
            "      - {key: photos, types: [jpg]}\n      - {key: photos, types: [png]}\n",
            "en",
            ["attachments[1].key", "duplicate attachment rule 'photos'"],
        ),
    ],
)
def test_bad_rules_say_what_where_and_what_is_allowed(
    wujin_dir: Path, rules: str, language: str, expected: list[str]
) -> None:
    _set_rules(wujin_dir, rules, language=language)
    with pytest.raises(ConfigError) as info:
        load_campaign(wujin_dir)
    text = str(info.value)
    assert "campaign.yaml" in text
    for part in expected:
        assert part in text
    if language == "en":
        assert "不认识" not in text and "重复" not in text


def test_a_limit_beyond_the_ceiling_is_refused_with_its_path(wujin_dir: Path) -> None:
    _set_rules(wujin_dir, "      - {key: video, types: [mp4], max_mb: 5000}\n")
    with pytest.raises(ConfigError) as info:
        load_campaign(wujin_dir)
    assert "deliverables[1].attachments[0].max_mb" in str(info.value)
