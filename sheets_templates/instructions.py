"""What the 填写说明 sheet says, as (label, text) lines built from the campaign.

Shared by the xlsx template and the Google Sheet so a unit reads the same instructions in both.
Personal where it can be: a school is told its 四个一 items, an institution that it must hold a free class.
"""

from __future__ import annotations

from pydantic import BaseModel

from schemas.attachments import AttachmentRule
from schemas.campaign import Campaign
from schemas.formspec import TableSpec
from schemas.i18n import Language, t
from schemas.roster import Unit
from sheets_templates.layout import IDENTITY_LABELS


class InstructionLine(BaseModel):
    label: str
    text: str
    # Identity lines carry the key from layout.IDENTITY_LABELS so writers can lock or unlock them.
    identity_key: str | None = None
    # A line about a web address: writers make the cell a hyperlink to it.
    link: str | None = None


def format_due(campaign: Campaign, deliverable_key: str) -> str:
    due = campaign.due_at(deliverable_key)
    return t(
        campaign.language,
        f"{due.year}年{due.month}月{due.day}日 {due:%H:%M}",
        due.strftime("%d %B %Y, %H:%M"),
    )


def _table_line(table: TableSpec, lang: Language) -> str:
    required = [f.label(lang) for f in table.fields if f.required]
    how = (
        t(lang, "每行填写一项，可增加行。", "One entry per row; add rows as needed.")
        if table.kind == "rows"
        else t(lang, "在“填写内容”一列填写。", "Fill in the Value column.")
    )
    help_text = table.help(lang)
    req = t(lang, "必填：", "Required: ") + t(lang, "、", ", ").join(required)
    return " ".join(x for x in (help_text, how, req if required else "") if x)


def _attachment_line(rule: AttachmentRule, rules: list[AttachmentRule], lang: Language) -> InstructionLine:
    """What one evidence-file rule asks, in the words of the checks that will hold the unit to it."""
    kinds = t(lang, "、", ", ").join(dict.fromkeys(rule.kinds()))
    if rule.min and rule.max == rule.min:
        count = t(lang, f"{rule.min}个", f"exactly {rule.min}")
    elif rule.min and rule.max:
        count = t(lang, f"{rule.min}至{rule.max}个", f"{rule.min} to {rule.max}")
    elif rule.min:
        count = t(lang, f"至少{rule.min}个", f"at least {rule.min}")
    elif rule.max:
        count = t(lang, f"可选，最多{rule.max}个", f"optional, at most {rule.max}")
    else:
        count = t(lang, "可选", "optional")
    other = next((r for r in rules if r.key == rule.required_unless), None)
    unless = (
        t(lang, f"；已发送{other.label(lang)}的可不发送", f"; not needed when {other.label(lang)} is sent")
        if other is not None
        else ""
    )
    return InstructionLine(
        label=t(lang, f"附件：{rule.label(lang)}", f"File: {rule.label(lang)}"),
        text=t(
            lang,
            f"{count}，格式 {kinds}，每个不超过 {rule.max_mb:g}MB{unless}。",
            f"{count}; types {kinds}; up to {rule.max_mb:g} MB each{unless}.",
        ),
    )


def _rules_lines(campaign: Campaign, deliverable_key: str, unit: Unit | None) -> list[InstructionLine]:
    lang = campaign.language
    rules = campaign.rules
    tables = set(campaign.deliverable(deliverable_key).tables)
    lines: list[InstructionLine] = []
    if "activities" in tables:
        # The unit's own window; a blank template (no unit) states the week and each type's window.
        week = campaign.window_for(unit.type if unit else None)
        windows = (
            ""
            if unit is not None
            else "".join(
                t(lang, f"{ut}：{w.start:%Y-%m-%d} 至 {w.end:%Y-%m-%d}。", f" {ut}: {w.start} to {w.end}.")
                for ut, w in campaign.windows.items()
            )
        )
        lines.append(
            InstructionLine(
                label=t(lang, "活动时间", "Activity dates"),
                text=t(
                    lang,
                    f"活动日期应在{'本单位的活动时间' if unit is not None and week is not campaign.week else '活动周'}"
                    f"内（{week.start:%Y-%m-%d} 至 {week.end:%Y-%m-%d}）。{windows}",
                    f"Activity dates should fall inside the week ({week.start} to {week.end}).{windows}",
                ),
            )
        )
        # One line per rule: a notice asks different things of different unit types.
        for req in rules.required_activities:
            if not req.items or not req.unit_types or (unit is not None and unit.type not in req.unit_types):
                continue
            who = "、".join(req.unit_types) if unit is None else t(lang, "本单位", "Your unit")
            what = f"（{req.description}）" if req.description else ""
            lines.append(
                InstructionLine(
                    label=t(lang, "必办活动", "Required activities"),
                    text=t(
                        lang,
                        f"{who}须安排{what}：{'、'.join(req.items)}（在“活动类别”中选择，或写入活动名称）。",
                        f"{who} must hold{what}: {', '.join(req.items)} (as the category or in the activity name).",
                    ),
                )
            )
        for free in rules.free_class:
            if not free.unit_types or (unit is not None and unit.type not in free.unit_types):
                continue
            who = "、".join(free.unit_types) if unit is None else t(lang, "本单位", "Your unit")
            lines.append(
                InstructionLine(
                    label=t(lang, "免费惠民", "Free class"),
                    text=t(
                        lang,
                        f"{who}须至少开设一项免费惠民培训（“是否免费惠民”填“是”）。{free.description}",
                        f"{who} must hold at least one free public class (mark it as free). {free.description}",
                    ).strip(),
                )
            )
    if "summary_materials" in tables and rules.photo_minimum:
        lines.append(
            InstructionLine(
                label=t(lang, "照片视频", "Photos or video"),
                text=t(
                    lang,
                    f"至少{rules.photo_minimum}张照片，或提供视频链接。",
                    f"At least {rules.photo_minimum} photos, or a video link.",
                ),
            )
        )
    return lines


def instruction_lines(
    campaign: Campaign, deliverable_key: str, unit: Unit | None, *, form_link: str | None = None
) -> list[InstructionLine]:
    lang = campaign.language
    d = campaign.deliverable(deliverable_key)
    lines = [
        InstructionLine(
            label=IDENTITY_LABELS["unit_code"][lang],
            text=unit.code if unit else "",
            identity_key="unit_code",
        ),
        InstructionLine(
            label=IDENTITY_LABELS["unit_name"][lang],
            text=unit.name if unit else "",
            identity_key="unit_name",
        ),
        InstructionLine(label=t(lang, "报送材料", "Deliverable"), text=d.title(lang)),
        # The notice's theme (e.g. 终身学习 助力共同富裕), so the unit sees the campaign it reports for.
        *(
            [InstructionLine(label=t(lang, "活动主题", "Theme"), text=campaign.theme)]
            if campaign.theme
            else []
        ),
        InstructionLine(label=t(lang, "截止时间", "Due"), text=format_due(campaign, deliverable_key)),
    ]
    what = d.what_to_send(lang)
    if what:
        lines.append(InstructionLine(label=t(lang, "需报送", "What to send"), text=what))
    # Evidence files (issue 12 §4): what the checks will count, so the unit learns it before it sends.
    lines.extend(_attachment_line(rule, d.attachments, lang) for rule in d.attachments)
    how = campaign.submission.how(lang)
    lines.append(InstructionLine(label=t(lang, "报送方式", "How to return"), text=how))
    if form_link and unit is not None:
        # The unit's personal link to the web form: another way to report, for a unit on a phone.
        lines.append(
            InstructionLine(
                label=t(lang, "在线填报", "Online form"),
                text=t(
                    lang,
                    f"也可不用本工作簿，在手机（微信）或电脑浏览器中打开本单位的专属链接直接填写：{form_link}"
                    "（此链接仅供本单位使用，请勿转发）",
                    f"Instead of this workbook you may fill in the form online, on a phone or a computer, at "
                    f"your unit's personal link: {form_link} (for your unit only; do not forward it)",
                ),
                link=form_link,
            )
        )
    lines.append(
        InstructionLine(label=t(lang, "联系方式", "Contact"), text=campaign.organiser_contact_line())
    )
    for table in campaign.tables_of(deliverable_key, unit.type if unit else None):
        lines.append(
            InstructionLine(
                label=t(lang, f"“{table.title(lang)}”", f"'{table.title(lang)}'"),
                text=_table_line(table, lang),
            )
        )
    lines.extend(_rules_lines(campaign, deliverable_key, unit))
    lines.append(
        InstructionLine(
            label=t(lang, "注意", "Please note"),
            text=t(
                lang,
                "请勿修改工作表名称和表头；橙色表头为必填项；单元格的下拉列表和提示会说明应填内容。"
                "提交后系统会自动校验，如有问题会通知您修改后重新提交。",
                "Do not rename sheets or headers; orange headers are required. Dropdowns and input hints "
                "show what to enter. Each submission is checked and you will be told what to fix.",
            ),
        )
    )
    if unit is None:
        lines.append(
            InstructionLine(
                label=t(lang, "空白模板", "Blank template"),
                text=t(
                    lang,
                    "这是空白模板：请先在上方填写本单位的单位编码和单位名称（与名单一致）。",
                    "This is the blank template: first fill in your unit code and name above.",
                ),
            )
        )
    return lines


def sheet_heading(campaign: Campaign, deliverable_key: str) -> str:
    d = campaign.deliverable(deliverable_key)
    return f"{campaign.title} · {d.title(campaign.language)}"
