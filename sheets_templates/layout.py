"""Where things sit in a unit workbook. The template writer and the workbook reader both use this,
so a layout change is made once."""

from __future__ import annotations

from schemas.i18n import Language

TEMPLATE_VERSION = "1"

INSTRUCTIONS_SHEET: dict[Language, str] = {"zh": "填写说明", "en": "Instructions"}
# A hidden sheet holding the workbook's identity; a renamed file still says whose it is.
META_SHEET = "_huizong"
META_KEYS: tuple[str, ...] = (
    "campaign_id",
    "unit_code",
    "unit_name",
    "deliverable",
    "template_version",
    "language",
)
# Workbook-level defined names mirroring the meta sheet (another way to find identity).
DEFINED_NAMES: dict[str, str] = {
    "campaign_id": "HZ_CAMPAIGN",
    "unit_code": "HZ_UNIT_CODE",
    "deliverable": "HZ_DELIVERABLE",
    "template_version": "HZ_TEMPLATE_VERSION",
}

# On the instructions sheet: label in column A, value in column B. The reader finds them by label.
IDENTITY_LABELS: dict[str, dict[Language, str]] = {
    "unit_code": {"zh": "单位编码", "en": "Unit code"},
    "unit_name": {"zh": "单位名称", "en": "Unit name"},
}
IDENTITY_VALUE_COLUMN = "B"

# A table of rows: header labels in row 1, data from row 2; validations prepared for this many rows.
ROWS_HEADER_ROW = 1
ROWS_FIRST_DATA_ROW = 2
ROWS_PREPARED = 200

# A one-record table: header row 1, then one field per row: label in A, value in B, help in C.
RECORD_HEADER: dict[Language, tuple[str, str, str]] = {
    "zh": ("填报项目", "填写内容", "填写说明"),
    "en": ("Item", "Value", "Help"),
}
RECORD_HEADER_ROW = 1
RECORD_FIRST_FIELD_ROW = 2
RECORD_LABEL_COLUMN = "A"
RECORD_VALUE_COLUMN = "B"
RECORD_HELP_COLUMN = "C"


def normalise_label(text: object) -> str:
    """Header text as compared: no spaces, no required-marker asterisks, no line breaks."""
    if text is None:
        return ""
    s = str(text)
    for ch in (" ", "\u3000", "\n", "\r", "\t", "*", "＊"):
        s = s.replace(ch, "")
    return s.strip()
