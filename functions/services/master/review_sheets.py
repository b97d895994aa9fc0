"""What the organiser's review (issue 15) adds to the master: 报送情况's 审核状态 and 审核意见 columns,
总览's counts per review state, and the 审核记录 sheet listing every action.

Shown only when review is on (`review: optional | required`, or any action recorded), so a campaign
without review keeps its six tabs exactly as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from functions.ports import Store
from functions.services.review.records import PREFIX, REVIEW_STATES, action_label, all_records, review_label
from functions.services.status.unit_states import UnitStatus
from functions.sheet_model import Cell, Column, MasterSheet, Style
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.roster import Roster

LOG_KEY = "review_log"
_STYLE = {"pending": Style.STATE_DRAFT, "approved": Style.STATE_VALID, "returned": Style.STATE_ERRORS}


def review_on(campaign: Campaign, store: Store) -> bool:
    return campaign.review != "none" or bool(store.claims(PREFIX))


def status_header(lang: Language) -> list[str]:
    return [t(lang, "审核状态", "review"), t(lang, "审核意见", "reviewer's comment")]


def status_cells(lang: Language, s: UnitStatus | None) -> list[Any]:
    if s is None:
        return [None, None]
    label = review_label(lang, s.review)
    cell = Cell(label, _STYLE[s.review]) if s.review else None
    comment = s.review_comment
    if s.waived:
        waived = t(lang, f"已豁免{len(s.waived)}个问题", f"{len(s.waived)} issue(s) waived")
        comment = f"{comment}；{waived}" if comment else waived
    return [cell, comment or None]


def overview_rows(campaign: Campaign, statuses: list[UnitStatus]) -> list[list[Any]]:
    """总览: per deliverable, how many versions await review, are approved, are returned."""
    lang = campaign.language
    head = [t(lang, "审核情况", "Review"), *(review_label(lang, s) for s in REVIEW_STATES)]
    rows: list[list[Any]] = [[], [Cell(h, Style.HEADER) for h in head]]
    for d in campaign.deliverables:
        c = Counter(s.review for s in statuses if s.deliverable.key == d.key)
        rows.append([d.title(lang), *(c[s] for s in REVIEW_STATES)])
    return rows


def review_log_sheet(campaign: Campaign, roster: Roster, store: Store) -> MasterSheet:
    """审核记录: every action, oldest first: who, when, what, which version, why."""
    lang = campaign.language
    header = [t(lang, "时间", "Time"), t(lang, "单位编码", "Unit code"), t(lang, "单位名称", "Unit"),
              t(lang, "材料", "Deliverable"), t(lang, "版本", "Version"), t(lang, "操作", "Action"),
              t(lang, "审核人", "By"), t(lang, "问题代码", "Code"), t(lang, "单元格", "Cell"),
              t(lang, "意见或理由", "Comment or reason")]  # fmt: skip
    columns = [Column(width=w) for w in (18, 10, 28, 22, 8, 10, 14, 22, 18, 60)]
    titles = {d.key: d.title(lang) for d in campaign.deliverables}

    def rows() -> Iterator[list[Any]]:
        records = [r for group in all_records(store).values() for r in group]
        for r in sorted(records, key=lambda r: (r.at, r.unit, r.deliverable, r.n)):
            unit = roster.get(r.unit)
            at = r.at.astimezone(campaign.tz).replace(tzinfo=None) if r.at.tzinfo else r.at
            yield [Cell(at, Style.DATETIME), r.unit, unit.name if unit else "", titles.get(r.deliverable, r.deliverable),
                   r.seq, action_label(lang, r.action), r.by, r.code or None, r.cell or None, r.comment or None]  # fmt: skip

    return MasterSheet(LOG_KEY, t(lang, "审核记录", "Review log"), header, columns, rows())
