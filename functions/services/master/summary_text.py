"""The paragraph organisers paste into the district's 工作总结, in the style of the real ones.

The seeds' summaries (../shared/seeds/) write large figures in 万 ("11万人次", "2万余份"), list what was
done with its unit of count, and say how many units took part. Each figure here is the total of
functions/services/master/totals.py, so the paragraph and the 统计 sheet's 合计 row always agree.
"""

from __future__ import annotations

from collections.abc import Callable

from functions.services.master.totals import Totals, counted_label, statistics_totals
from schemas.campaign import Campaign
from schemas.i18n import Language, t

__all__ = ["Totals", "statistics_totals", "summary_paragraph", "wan"]


def wan(x: int | float) -> str:
    """A figure as Chinese reports write it: below 10000 as is; above, in 万 to two decimals, cut (never
    rounded up, a signed figure must not overstate) and followed by 余 when something was cut.

    207800 -> 20.78万, 12050 -> 1.2万余, 110000 -> 11万, 3000 -> 3000.
    """
    if x < 10000:
        return str(int(x)) if float(x).is_integer() else f"{x:.1f}"
    hundredths = int(x // 100)
    text = f"{hundredths / 100:.2f}".rstrip("0").rstrip(".") + "万"
    return text + ("余" if hundredths * 100 != x else "")


def _en(x: int | float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.1f}"


def _percent(x: float) -> str:
    return f"{x * 100:.1f}".removesuffix(".0") + "%"


# key -> (zh phrase, en phrase); {n} is the figure. Order is the paragraph's; a summable field not
# listed (a campaign's own) still appears, by its label, so no non-zero total is left unsaid.
_SESSIONS = ("lecture_sessions", "training_sessions", "exhibition_sessions", "reading_sessions")
_PHRASES: dict[str, tuple[str, str]] = {
    "lecture_sessions": ("讲座{n}场", "{n} lectures"),
    "training_sessions": ("培训{n}场", "{n} trainings"),
    "exhibition_sessions": ("展览展示{n}场", "{n} exhibitions"),
    "reading_sessions": ("读书活动{n}场", "{n} reading events"),
    "online_sessions": ("开展线上活动{n}场", "{n} online sessions"),
    "online_participants": ("线上参与{n}人次", "{n} online participant visits"),
    "elderly_digital_trainees": ("开展智慧助老培训{n}人次", "{n} elders trained in digital skills"),
    "free_classes": ("举办免费惠民培训班{n}期", "{n} free public classes"),
    "free_class_trainees": ("免费培训{n}人次", "{n} free class trainees"),
    "leaflets": ("发放宣传资料{n}份", "{n} leaflets handed out"),
    "banners": ("悬挂宣传标语{n}条", "{n} banners"),
    "boards": ("展出展板{n}块", "{n} display boards"),
    "media_reports": ("媒体报道{n}篇", "{n} media reports"),
    "volunteers": ("参与志愿者{n}人", "{n} volunteers"),
    "learning_stars": ("推荐百姓学习之星{n}人", "{n} learning stars nominated"),
    "brand_projects": ("推荐终身学习品牌项目{n}个", "{n} brand projects nominated"),
    "open_venues": ("开放学习场所{n}处", "{n} learning venues opened"),
}
# Phrases that read as one clause, joined by 、 (the rest are joined by ；).
_GROUPS: list[tuple[str, ...]] = [
    ("online_sessions", "online_participants"),
    ("elderly_digital_trainees",),
    ("free_classes", "free_class_trainees"),
    ("leaflets", "banners", "boards", "media_reports"),
    ("volunteers",),
    ("learning_stars", "brand_projects"),
    ("open_venues",),
]


def summary_paragraph(campaign: Campaign, totals: Totals) -> str:
    """（全区/全市…）应报单位M个，已报送K个（覆盖率x%）……已通过校验的N个单位合计开展各类活动X场、参与Y人次，其中……"""
    lang = campaign.language

    def fmt(x: int | float) -> str:
        return t(lang, wan(x), _en(x))

    g = totals.sums.get
    spec = campaign.form_spec.table("statistics")
    labels = {f.key: f.label(lang) for f in spec.fields if f.summable}

    def phrase(key: str) -> str:
        zh, en = _PHRASES.get(key, (f"{labels[key]}{{n}}", f"{labels[key]}: {{n}}"))
        return t(lang, zh, en).format(n=fmt(g(key, 0)))

    said = {"total_sessions", "total_participants", *_SESSIONS}
    clauses: list[str] = []
    for group in _GROUPS:
        said.update(group)
        parts = [phrase(k) for k in group if k in labels and g(k)]
        if parts:
            clauses.append(t(lang, "、", ", ").join(parts))
    clauses += [phrase(k) for k in labels if k not in said and g(k)]
    detail = [phrase(k) for k in _SESSIONS if k in labels and g(k)]
    return t(
        lang,
        _zh(campaign, totals, fmt, detail, clauses),
        _english(campaign, totals, fmt, detail, clauses),
    )


def _by_type(lang: Language, campaign: Campaign, totals: Totals) -> str:
    names = {u.name: u.name_en or u.name for u in campaign.unit_types}
    return t(lang, "、", ", ").join(
        t(lang, f"{name}{n}个", f"{n} {names.get(name, name)}") for name, n in totals.by_type.items()
    )


def _left_out(lang: Language, totals: Totals) -> str:
    if not totals.left_out:
        return ""
    counts = {s: sum(1 for x in totals.left_out if x.state == s) for s in ("errors", "draft", "missing")}
    words = {"errors": ("有错误", "with errors"), "draft": ("已填写未提交", "drafts"),
             "missing": ("未报送", "missing")}  # fmt: skip
    parts = [t(lang, f"{words[s][0]}{n}个", f"{n} {words[s][1]}") for s, n in counts.items() if n]
    n = len(totals.left_out)
    return t(
        lang,
        f"未计入合计的单位{n}个（{'、'.join(parts)}），名单及原因见“统计”表。",
        f" {n} units are not counted ({', '.join(parts)}); see the Statistics sheet for who and why.",
    )


def _zh(
    campaign: Campaign,
    totals: Totals,
    fmt: Callable[[int | float], str],
    detail: list[str],
    clauses: list[str],
) -> str:
    g = totals.sums.get
    sent = len(totals.rows)
    # 全区, 全市, 全县…: the notice's own word for the area it covers (campaign.scope_zh).
    text = f"活动周期间，{campaign.scope_zh}应报送统计的单位{totals.expected}个，已报送{sent}个（覆盖率{_percent(sent / totals.expected if totals.expected else 0)}）"
    if totals.by_type:
        text += f"，计入合计的单位按类型为{_by_type('zh', campaign, totals)}"
    text += "。"
    if not totals.units:
        return text + "尚无可计入合计的单位。" + _left_out("zh", totals)
    text += (
        f"{counted_label(campaign, totals)}开展各类活动{fmt(g('total_sessions', 0))}场，"
        f"参与{fmt(g('total_participants', 0))}人次"
    )
    if detail:
        text += "，其中" + "、".join(detail)
    if clauses:
        text += "；" + "；".join(clauses)
    return text + "。" + _left_out("zh", totals)


def _english(
    campaign: Campaign,
    totals: Totals,
    fmt: Callable[[int | float], str],
    detail: list[str],
    clauses: list[str],
) -> str:
    g = totals.sums.get
    sent = len(totals.rows)
    text = (
        f"Of the {totals.expected} units in {campaign.scope_en} expected to send statistics, {sent} did "
        f"(coverage {_percent(sent / totals.expected if totals.expected else 0)})"
    )
    if totals.by_type:
        text += f"; counted: {_by_type('en', campaign, totals)}"
    text += "."
    if not totals.units:
        return text + " No unit can be counted yet." + _left_out("en", totals)
    label = counted_label(campaign, totals)
    text += (
        f" During the week ({label}), units held {fmt(g('total_sessions', 0))} activities with "
        f"{fmt(g('total_participants', 0))} participant visits"
    )
    if detail:
        text += ", including " + ", ".join(detail)
    if clauses:
        text += "; " + "; ".join(clauses)
    return text + "." + _left_out("en", totals)
