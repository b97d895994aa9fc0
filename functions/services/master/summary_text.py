"""The figures organisers paste into the district's 工作总结, computed from the statistics tables."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.submission import Version


@dataclass(frozen=True)
class Totals:
    units: int  # units whose statistics are counted
    sums: dict[str, int | float]  # statistics field key -> total


def statistics_totals(campaign: Campaign, versions: list[Version]) -> Totals:
    spec = campaign.form_spec.table("statistics")
    keys = [f.key for f in spec.fields if f.summable]
    sums: dict[str, int | float] = dict.fromkeys(keys, 0)
    units = 0
    for v in versions:
        rows = v.tables.get("statistics")
        if not rows or v.status != "submitted":
            continue
        units += 1
        for k in keys:
            x = rows[0].get(k)
            if isinstance(x, int | float):
                sums[k] += x
    return Totals(units=units, sums=sums)


def _n(x: int | float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def summary_paragraph(campaign: Campaign, totals: Totals) -> str:
    """Like the seeds' summaries: 全区N个单位共开展各类活动X场，参与Y人次，其中讲座A场、培训B场……"""
    # The two languages differ in grammar and in what they list, so each has its own builder; both are
    # cheap, and t() picks one.
    return t(campaign.language, _paragraph_zh(totals), _paragraph_en(totals))


def _paragraph_en(totals: Totals) -> str:
    g = totals.sums.get
    parts = [
        f"During the week, {totals.units} units held {_n(g('total_sessions', 0))} activities "
        f"with {_n(g('total_participants', 0))} participant visits",
    ]
    detail = [
        f"{_n(g(k, 0))} {label}"
        for k, label in (
            ("lecture_sessions", "lectures"),
            ("training_sessions", "trainings"),
            ("exhibition_sessions", "exhibitions"),
            ("reading_sessions", "reading events"),
        )
        if g(k)
    ]
    if detail:
        parts.append("including " + ", ".join(detail))
    if g("online_sessions"):
        parts.append(
            f"{_n(g('online_sessions', 0))} online sessions reached {_n(g('online_participants', 0))}"
        )
    return "; ".join(parts) + "."


def _paragraph_zh(totals: Totals) -> str:
    g = totals.sums.get
    text = (
        f"活动周期间，全区{totals.units}个单位共开展各类活动{_n(g('total_sessions', 0))}场，"
        f"参与{_n(g('total_participants', 0))}人次"
    )
    detail = [
        f"{label}{_n(g(k, 0))}场"
        for k, label in (
            ("lecture_sessions", "讲座"),
            ("training_sessions", "培训"),
            ("exhibition_sessions", "展览展示"),
            ("reading_sessions", "读书活动"),
        )
        if g(k)
    ]
    if detail:
        text += "，其中" + "、".join(detail)
    extra = []
    if g("online_sessions"):
        extra.append(
            f"开展线上活动{_n(g('online_sessions', 0))}场、线上参与{_n(g('online_participants', 0))}人次"
        )
    if g("elderly_digital_trainees"):
        extra.append(f"开展智慧助老培训{_n(g('elderly_digital_trainees', 0))}人次")
    if g("free_classes"):
        extra.append(
            f"举办免费惠民培训班{_n(g('free_classes', 0))}期、培训{_n(g('free_class_trainees', 0))}人次"
        )
    publicity = [
        f"{label}{_n(g(k, 0))}{unit}"
        for k, label, unit in (
            ("leaflets", "发放宣传资料", "份"),
            ("banners", "悬挂宣传标语", "条"),
            ("boards", "展出展板", "块"),
            ("media_reports", "媒体报道", "篇"),
        )
        if g(k)
    ]
    if publicity:
        extra.append("、".join(publicity))
    if g("volunteers"):
        extra.append(f"参与志愿者{_n(g('volunteers', 0))}人")
    if g("learning_stars") or g("brand_projects"):
        extra.append(
            f"推荐百姓学习之星{_n(g('learning_stars', 0))}人、终身学习品牌项目{_n(g('brand_projects', 0))}个"
        )
    if extra:
        text += "；" + "；".join(extra)
    return text + "。"
