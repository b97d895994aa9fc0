"""Campaigns changed the way an organiser changes them: blocks appended to the example's campaign.yaml."""

from __future__ import annotations

from pathlib import Path

GOOGLE_YAML = """
google:
  folder_id: "FOLDER123"
  credentials_env: "HUIZONG_GOOGLE_CREDENTIALS"
  form_deliverables: [summary]
"""
# One optional field of every kind the summary's tables lack, so each question type is covered.
EXTRA_FIELDS_YAML = """
form:
  extra_fields:
    summary_materials:
      - {key: activity_forms, label_zh: 开展形式, label_en: Formats, type: multi_choice, choices: [线下, 线上, 线上线下结合]}
      - {key: highlight, label_zh: 亮点类别, label_en: Highlight, type: choice, choices: [品牌, 创新, 其他]}
      - {key: town, label_zh: 所在镇街, label_en: Town, type: choice,
         choices: [湖塘, 牛塘, 洛阳, 遥观, 横林, 横山桥, 雪堰, 前黄]}
      - {key: report_date, label_zh: 总结日期, label_en: Report date, type: date}
      - {key: remarks, label_zh: 其他说明, label_en: Remarks, type: text, max_length: 500}
"""


def customise(folder: Path, *blocks: str, language: str | None = None) -> Path:
    """Append top-level blocks to the example's campaign.yaml (and switch its language)."""
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    if language is not None:
        text = text.replace("language: zh", f"language: {language}")
    path.write_text(text + "".join(blocks), encoding="utf-8")
    return folder
