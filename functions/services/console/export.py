"""The console's unit list as a CSV file (issue 15): what a coordinator takes to the phone to chase units.

The rows are the list the person sees with the same filters (the caller passes the statuses already cut
to their areas), one row per unit and deliverable. Names, contacts and comments come from the roster and
from reviewers, so every text cell is kept from being read as a formula by a spreadsheet program.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable

from functions.services.review.records import review_label
from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign
from schemas.i18n import Language, t

# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def units_csv(
    campaign: Campaign,
    statuses: Iterable[UnitStatus],
    lang: Language,
    *,
    state_label: Callable[[str], str],
) -> bytes:
    """UTF-8 with a BOM (Excel then opens the Chinese text as UTF-8), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            t(lang, "单位编码", "Unit code"),
            t(lang, "单位名称", "Unit"),
            campaign.area_label(lang),
            t(lang, "单位类型", "Unit type"),
            t(lang, "联系人", "Contact"),
            t(lang, "电话", "Phone"),
            t(lang, "邮箱", "Email"),
            t(lang, "材料", "Deliverable"),
            t(lang, "校验状态", "Check"),
            t(lang, "审核状态", "Review"),
            t(lang, "审核意见", "Review comment"),
            t(lang, "逾期", "Late"),
            t(lang, "错误数", "Errors"),
            t(lang, "收到时间", "Received"),
        ]
    )
    for s in statuses:
        v = s.version
        received = v.received_at.astimezone(campaign.tz).strftime("%Y-%m-%d %H:%M") if v else ""
        writer.writerow(
            [
                _cell(s.unit.code),
                _cell(s.unit.name),
                _cell(s.unit.area or ""),
                _cell(s.unit.type or ""),
                _cell(s.unit.contact or ""),
                _cell(s.unit.phone or ""),
                _cell(", ".join(s.unit.emails)),
                _cell(s.deliverable.title(lang)),
                state_label(s.state),
                review_label(lang, s.review) if s.review else "",
                _cell(s.review_comment),
                t(lang, "是", "yes") if s.late else "",
                str(len(v.report.errors)) if v else "",
                received,
            ]
        )
    return out.getvalue().encode("utf-8-sig")
