"""Where things sit in a unit's Google Sheet, beyond what it shares with the xlsx (layout.py).

The tabs, headers and record layout are the xlsx ones (sheets_templates/layout.py), so one reader
understands both. The Google sheet adds, on the instructions tab, a 提交 checkbox and a status area the
system fills after each check. The provisioner writes them and the poller reads and updates them.
"""

from __future__ import annotations

from schemas.i18n import Language

# On the instructions tab, columns D (label) and E (value), rows 3..6, beside the identity lines.
SUBMIT_LABEL: dict[Language, str] = {"zh": "填写完成后勾选提交 →", "en": "Tick to submit →"}
SUBMIT_LABEL_CELL = "D3"
SUBMIT_CELL = "E3"  # a checkbox (BOOLEAN data validation): TRUE means the unit submits this content
STATUS_LABEL: dict[Language, str] = {"zh": "校验结果", "en": "Check result"}
STATUS_LABEL_CELL = "D4"
STATUS_CELL = "E4"  # 已通过 / 有N个问题 / 未提交 …
CHECKED_AT_LABEL: dict[Language, str] = {"zh": "检查时间", "en": "Checked at"}
CHECKED_AT_LABEL_CELL = "D5"
CHECKED_AT_CELL = "E5"
ISSUES_LABEL: dict[Language, str] = {"zh": "主要问题", "en": "Main problems"}
ISSUES_LABEL_CELL = "D6"
ISSUES_CELL = "E6"  # the first few problems, one per line; each problem cell also gets a note
# What the poller reads from the instructions tab in its one batchGet.
INSTRUCTIONS_READ_RANGE = "A1:E40"
# Rows read from a rows table (header + prepared rows); a unit that adds rows beyond is still read
# because the range is open-ended in columns only up to the last field.
ROWS_READ_LIMIT = 2000
# Columns a rows tab has beyond its fields, and the poller reads, so a column a unit added is reported
# rather than lost. Google refuses (400 "exceeds grid limits") any read past a tab's grid, so the tab is
# created this much wider than its fields (sheets_templates/google_unit_sheet.py).
EXTRA_COLUMNS = 3

# Status texts written to STATUS_CELL.
STATUS_TEXT: dict[str, dict[Language, str]] = {
    "valid": {"zh": "已通过", "en": "Passed"},
    "errors": {"zh": "有{n}个问题", "en": "{n} problem(s)"},
    "draft": {"zh": "已填写未提交", "en": "Filled in, not submitted"},
    "empty": {"zh": "未提交", "en": "Not submitted"},
}


def a1_tab(title: str) -> str:
    """A tab's name as an A1 range prefix: always quoted, inner quotes doubled (Chinese names need it)."""
    return "'" + title.replace("'", "''") + "'"
