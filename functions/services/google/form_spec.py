"""Google Form questions derived from the form spec: what `huizong google form-spec DIR` prints.

Only one-record tables (统计表, 材料) become questions: a form answers each question once, so a
table of many rows (活动安排) cannot be a form. The titles printed here are the titles the Apps Script
gives the questions and the titles the form intake maps back to fields, so they are computed in one
place (form_questions) and nowhere else.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from functions.config.loading import ConfigError, load_campaign, load_roster
from schemas.campaign import Campaign
from schemas.form_questions import FormQuestion, FormSpecExport, QuestionType, QuestionValidation
from schemas.formspec import FieldSpec, TableSpec
from schemas.i18n import Language, t
from schemas.roster import Roster

TITLE_JOINER = " · "
# A choice question with more options than this is a dropdown; fewer are radio buttons people can scan.
MAX_RADIO_CHOICES = 6
# Longer free text gets a paragraph box.
PARAGRAPH_FROM_LENGTH = 100
# A phone answer must hold at least seven digits, spaces or hyphens allowed between them. This only
# stops names and "无" at the form; the server's phone reader decides (mobile or landline with area code).
PHONE_HINT_PATTERN = r"^[\s\S]*(?:[0-9０-９][\s\-－]?){7,}[\s\S]*$"
# A link, possibly inside the text a cloud drive copies ("链接: https://pan.baidu.com/s/1AbC 提取码: x7k2"),
# which Forms' strict URL rule would refuse.
URL_HINT_PATTERN = r"^[\s\S]*(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)\S+[\s\S]*$"
# Without a roster: one word of up to 40 characters, no spaces or Chinese punctuation.
GENERIC_CODE_PATTERN = r"^\s*[^\s，。；、,;]{1,40}\s*$"


def unit_code_title(lang: Language) -> str:
    return t(lang, "单位编码", "Unit code")


def _shape(code: str) -> str:
    """WJ001 -> [A-Za-z]{2}[0-9]{3}: the form of a code, not the code itself."""
    parts: list[tuple[str, int]] = []
    for ch in code:
        cls = (
            "[A-Za-z]"
            if ch.isascii() and ch.isalpha()
            else "[0-9]"
            if ch.isascii() and ch.isdigit()
            else None
        )
        token = cls or re.escape(ch)
        if parts and parts[-1][0] == token:
            parts[-1] = (token, parts[-1][1] + 1)
        else:
            parts.append((token, 1))
    return "".join(tok if n == 1 else f"{tok}{{{n}}}" for tok, n in parts)


def unit_code_pattern(roster: Roster | None) -> str:
    if roster is None or not roster.units:
        return GENERIC_CODE_PATTERN
    shapes = sorted({_shape(u.code) for u in roster.units})
    if len(shapes) > 20:  # a roster with no common code shape: a long pattern would only confuse
        return GENERIC_CODE_PATTERN
    return rf"^\s*(?:{'|'.join(shapes)})\s*$"


def _identity_question(lang: Language, roster: Roster | None) -> FormQuestion:
    # No example code in the help: a unit that copied a real example would report as another unit.
    return FormQuestion(
        title=unit_code_title(lang),
        help_text=t(
            lang,
            "组织方下发的本单位编码（见通知或单位名单）。系统按编码识别报送单位，请勿填写单位名称。",
            "Your unit's code as given by the organiser (see the notice). It identifies your unit.",
        ),
        type="TEXT",
        required=True,
        role="unit_code",
        validation=QuestionValidation(
            kind="regex",
            pattern=unit_code_pattern(roster),
            help_text=t(lang, "请填写组织方下发的单位编码", "Enter the unit code the organiser gave you"),
        ),
    )


def _bounds(f: FieldSpec) -> str:
    def fmt(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else str(x)

    if f.min is not None and f.max is not None:
        return f"{fmt(f.min)}–{fmt(f.max)}"
    if f.min is not None:
        return f"≥ {fmt(f.min)}"
    if f.max is not None:
        return f"≤ {fmt(f.max)}"
    return ""


def _type_and_validation(
    f: FieldSpec, lang: Language, example_phone: str = "13912345678"
) -> tuple[QuestionType, QuestionValidation | None]:
    if f.type in ("integer", "number"):
        whole = f.type == "integer"
        bounds = _bounds(f)
        if whole:
            msg = t(lang, f"请填写整数（{bounds}）", f"A whole number ({bounds})") if bounds else ""
            msg = msg or t(lang, "请填写整数", "A whole number")
        else:
            msg = t(lang, f"请填写数字（{bounds}）", f"A number ({bounds})") if bounds else ""
            msg = msg or t(lang, "请填写数字", "A number")
        return "TEXT", QuestionValidation(
            kind="whole_number" if whole else "number", min=f.min, max=f.max, help_text=msg
        )
    if f.type == "date":
        return "DATE", None
    if f.type == "choice":
        return ("MULTIPLE_CHOICE" if len(f.choices) <= MAX_RADIO_CHOICES else "LIST"), None
    if f.type == "multi_choice":
        return "CHECKBOX", None
    if f.type == "phone":
        return "TEXT", QuestionValidation(
            kind="regex",
            pattern=PHONE_HINT_PATTERN,
            help_text=t(
                lang,
                f"请填写手机号或带区号的座机号码，如 {example_phone}",
                "A mobile or a landline with area code",
            ),
        )
    if f.type == "url":
        return "TEXT", QuestionValidation(
            kind="url",
            pattern=URL_HINT_PATTERN,
            help_text=t(
                lang, "请填写以 http:// 或 https:// 开头的链接（可附提取码）", "A link (http:// or https://)"
            ),
        )
    kind: QuestionType = (
        "PARAGRAPH_TEXT" if f.max_length is not None and f.max_length > PARAGRAPH_FROM_LENGTH else "TEXT"
    )
    if f.max_length is not None:
        return kind, QuestionValidation(
            kind="max_length",
            max_length=f.max_length,
            help_text=t(lang, f"不超过 {f.max_length} 个字", f"At most {f.max_length} characters"),
        )
    return kind, None


def record_tables(campaign: Campaign, deliverable_key: str) -> list[TableSpec]:
    return [table for table in campaign.tables_of(deliverable_key) if table.kind == "record"]


def form_questions(
    campaign: Campaign, deliverable_key: str, roster: Roster | None = None
) -> list[FormQuestion]:
    """The unit-code question, then every field of the deliverable's one-record tables, in spec order.

    A label shared by two tables (or equal to the unit-code title) is prefixed with its table's title,
    so every title is unique and an answer maps back to exactly one field. The roster, when given,
    only sharpens the unit-code hint; the titles never depend on it.
    """
    lang = campaign.language
    tables = record_tables(campaign, deliverable_key)
    identity = _identity_question(lang, roster)
    counts = Counter(f.label(lang) for table in tables for f in table.fields)
    counts[identity.title] += 1
    questions = [identity]
    for table in tables:
        for f in table.fields:
            label = f.label(lang)
            title = f"{table.title(lang)}{TITLE_JOINER}{label}" if counts[label] > 1 else label
            qtype, validation = _type_and_validation(f, lang, campaign.example_phone())
            questions.append(
                FormQuestion(
                    title=title,
                    help_text=f.help(lang),
                    type=qtype,
                    choices=list(f.choices) if qtype in ("MULTIPLE_CHOICE", "CHECKBOX", "LIST") else [],
                    required=f.required,
                    validation=validation,
                    table=table.key,
                    field=f.key,
                )
            )
    return questions


def _description(campaign: Campaign, deliverable_key: str, not_in_form: list[TableSpec]) -> str:
    lang = campaign.language
    d = campaign.deliverable(deliverable_key)
    due = campaign.due_at(deliverable_key)
    lines = [
        t(
            lang,
            f"{d.title(lang)}。请于 {due.year}年{due.month}月{due.day}日 {due:%H:%M} 前提交。",
            f"{d.title(lang)}. Due {due:%Y-%m-%d %H:%M} ({campaign.timezone}).",
        )
    ]
    what = d.what_to_send(lang)
    if what:
        lines.append(what)
    for table in record_tables(campaign, deliverable_key):
        help_text = table.help(lang)
        if help_text:
            lines.append(t(lang, f"{table.title(lang)}：{help_text}", f"{table.title(lang)}: {help_text}"))
    if not_in_form:
        names = t(lang, "、", ", ").join(table.title(lang) for table in not_in_form)
        lines.append(
            t(
                lang,
                f"{names}不在本表单中，请按通知另行报送。",
                f"{names}: not in this form; send it as instructed.",
            )
        )
    lines.append(
        t(
            lang,
            "提交后系统自动校验；如有问题，请按提示修改后重新提交。疑问请联系："
            + campaign.organiser_contact_line(),
            "Answers are checked on submission; fix any problem reported and submit again. Contact: "
            + campaign.organiser_contact_line(),
        )
    )
    return "\n".join(lines)


def form_spec(campaign: Campaign, deliverable_key: str, roster: Roster | None = None) -> FormSpecExport:
    lang = campaign.language
    try:
        d = campaign.deliverable(deliverable_key)
    except KeyError:
        keys = t(lang, "、", ", ").join(x.key for x in campaign.deliverables)
        raise ConfigError(
            [
                t(
                    lang,
                    f"没有名为 {deliverable_key} 的报送事项；可选：{keys}",
                    f"No deliverable named {deliverable_key}; choose one of: {keys}",
                )
            ]
        ) from None
    tables = campaign.tables_of(deliverable_key)
    if not any(table.kind == "record" for table in tables):
        raise ConfigError(
            [
                t(
                    lang,
                    f"报送事项 {deliverable_key} 只有多行表格，不能用表单报送（请用工作簿或共享表格）",
                    f"Deliverable {deliverable_key} has only many-row tables: a form cannot carry it "
                    "(use the workbook or a shared sheet)",
                )
            ]
        )
    not_in_form = [table for table in tables if table.kind != "record"]
    return FormSpecExport(
        campaign_id=campaign.id,
        deliverable=d.key,
        language=lang,
        title=f"{campaign.title}-{d.title(lang)}",
        description=_description(campaign, deliverable_key, not_in_form),
        due=campaign.due_at(deliverable_key),
        questions=form_questions(campaign, deliverable_key, roster),
        tables_not_in_form=[table.key for table in not_in_form],
    )


def form_spec_json(campaign: Campaign, deliverable: str, roster: Roster | None = None) -> dict[str, object]:
    return form_spec(campaign, deliverable, roster).model_dump(mode="json")


def default_form_deliverable(campaign: Campaign) -> str:
    """The deliverable meant for a form: the one google.form_deliverables names, else the only one a
    form can carry whole (one-record tables only). Anything else needs --deliverable."""
    if campaign.google is not None and len(campaign.google.form_deliverables) == 1:
        return campaign.google.form_deliverables[0]
    whole = [
        d.key for d in campaign.deliverables if all(tb.kind == "record" for tb in campaign.tables_of(d.key))
    ]
    if len(whole) == 1:
        return whole[0]
    lang = campaign.language
    keys = t(lang, "、", ", ").join(d.key for d in campaign.deliverables)
    raise ConfigError(
        [
            t(
                lang,
                f"请用 --deliverable 指定报送事项（可选：{keys}）",
                f"Name one with --deliverable ({keys})",
            )
        ]
    )


def form_spec_text(campaign: Campaign, spec: FormSpecExport, *, as_gs: bool = False) -> str:
    """The JSON text; with as_gs, the spec.gs file the Apps Script's setup() reads (HUIZONG_SPEC)."""
    text = json.dumps(spec.model_dump(mode="json"), ensure_ascii=False, indent=2)
    if not as_gs:
        return text + "\n"
    note = t(
        campaign.language,
        "// 由 huizong google form-spec --gs 生成；活动配置改动后请重新生成并再次运行 setup()。",
        "// Written by huizong google form-spec --gs; regenerate and run setup() again after config changes.",
    )
    return f"{note}\nvar HUIZONG_SPEC = {text};\n"


def form_spec_command_output(folder: Path, deliverable: str | None, *, as_gs: bool = False) -> str:
    """What `huizong google form-spec DIR [--deliverable KEY] [--gs]` prints."""
    campaign = load_campaign(folder)
    # Roster problems are reported by the commands that use units; here the roster only sharpens the
    # unit-code pattern, and the well-formed rows are enough for that.
    roster, _problems = load_roster(folder, campaign)
    key = deliverable or default_form_deliverable(campaign)
    return form_spec_text(campaign, form_spec(campaign, key, roster), as_gs=as_gs)
