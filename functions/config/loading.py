"""Load campaign.yaml and the roster; every problem names the file, the place and what is expected."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.campaign import EMAIL_PATTERN, Campaign, is_plain_address
from schemas.i18n import Language, Text, language_of, t
from schemas.roster import (
    AREA_HEADERS,
    ROSTER_HEADERS,
    UNIT_CODE_MAX,
    UNIT_CODE_PATTERN,
    Roster,
    RosterProblem,
    Unit,
    normalise_text,
    roster_header_ok,
)

CAMPAIGN_FILE = "campaign.yaml"
ROSTER_FILES = ("units.csv", "units.xlsx")

# What pydantic's error types mean for the person editing campaign.yaml (pydantic's own message follows).
_PYDANTIC_HINTS: dict[str, Text] = {
    "missing": Text("缺少此项", "missing"),
    "model_type": Text(
        "需要一组设置（每行“键: 值”，下一级缩进两格）", "a mapping of settings is needed (key: value)"
    ),
    "dict_type": Text("需要一组设置（每行“键: 值”）", "a mapping of settings is needed (key: value)"),
    "extra_forbidden": Text("不认识的键（拼写错误？）", "unknown key (a typo?)"),
    "date_from_datetime_parsing": Text("需要日期，如 2022-11-24", "a date is needed, e.g. 2022-11-24"),
    "date_parsing": Text("需要日期，如 2022-11-24", "a date is needed, e.g. 2022-11-24"),
    "date_type": Text("需要日期，如 2022-11-24", "a date is needed, e.g. 2022-11-24"),
    "time_parsing": Text("需要时间，如 17:00", "a time is needed, e.g. 17:00"),
    "int_parsing": Text("需要整数", "a whole number is needed"),
    "int_type": Text("需要整数", "a whole number is needed"),
    "float_parsing": Text("需要数字", "a number is needed"),
    "string_type": Text("需要文字", "text is needed"),
    "list_type": Text("需要列表", "a list is needed"),
    "literal_error": Text("取值不在允许范围内", "not one of the allowed values"),
    "string_pattern_mismatch": Text("格式不对", "wrong format"),
    "too_short": Text("至少需要一项", "at least one item is needed"),
    "bool_parsing": Text("需要 true 或 false", "true or false is needed"),
    "greater_than_equal": Text("数值太小", "too small"),
    "less_than_equal": Text("数值太大", "too large"),
}


class ConfigError(Exception):
    """A campaign folder that cannot be used as it is; the message is for the person who wrote it, in the
    campaign's language once campaign.yaml has been read far enough to know it, in both before that."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(loc: tuple[Any, ...], lang: Language | None) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or t(lang, "(顶层)", "(top level)")


def describe_validation_error(file: str, exc: ValidationError, lang: Language | None = None) -> list[str]:
    """One line per problem: file, key path, what is expected, pydantic's words and the value found."""
    lines = []
    for err in exc.errors():
        where = _loc(tuple(p for p in err["loc"] if p not in ("function-after",)), lang)
        hint = _PYDANTIC_HINTS.get(err["type"])
        detail = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = err["type"] not in ("missing",) and not isinstance(got, dict | list)
        allowed = (err.get("ctx") or {}).get("expected")
        # With a hint the Chinese line needs no English from pydantic; our own checks already speak it.
        zh = (hint.zh + (f"（可选：{allowed}）" if allowed else "")) if hint else detail
        en = f"{hint.en + ': ' if hint else ''}{detail}"
        zh += f"；现为 {got!r}" if shown else ""
        en += f"; found {got!r}" if shown else ""
        lines.append(f"{file}: {where}: {t(lang, zh, en)}")
    return lines


_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def parse_campaign_yaml(text: str) -> Any:
    """campaign.yaml's data: read by libyaml's parser (about 8x faster, on every cold start and every
    command), and by PyYAML's pure-Python parser when libyaml refuses it, so a syntax error is told in
    the pure parser's words and line numbers, as it always was. Both give the same data for the same
    text (tests/unit/test_campaign_yaml_parsers.py)."""
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass  # told below, in the words the organiser has always seen
    return yaml.safe_load(text)


def load_campaign(folder: Path) -> Campaign:
    path = Path(folder) / CAMPAIGN_FILE
    # Until campaign.yaml is parsed its language is unknown, so these problems are told in both.
    if not path.exists():
        raise ConfigError(
            [
                t(
                    None,
                    f"{path}: 找不到活动配置文件（可先运行 huizong init {folder} --example wujin-2022）",
                    f"{path}: no campaign file (run huizong init {folder} --example wujin-2022 to start)",
                )
            ]
        )
    try:
        data = parse_campaign_yaml(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", exc)
        zh_where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列 " if mark else ""
        en_where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(
            [
                f"{path}: "
                + t(None, f"{zh_where}YAML 格式错误：{problem}", f"{en_where}YAML syntax error: {problem}")
            ]
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            [
                f"{path}: "
                + t(
                    None,
                    "内容应为键值对（id: ..., title: ...）",
                    "expected keys and values (id: ..., title: ...)",
                )
            ]
        )
    # The language is known once its key is valid; without the key the campaign is Chinese (the default).
    lang = language_of(data.get("language", "zh"))
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(path), exc, lang)) from None


def split_emails(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[;,；，\s]+", text or "") if e.strip()]


def _roster_rows(path: Path, lang: Language) -> list[tuple[int, list[str]]]:
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        rows = []
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            rows.append((i, ["" if v is None else str(v).strip() for v in row]))
        wb.close()
        return rows
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(
            [
                f"{path}: "
                + t(
                    lang,
                    "不是 UTF-8 编码。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”，或改用 units.xlsx",
                    "not UTF-8. In Excel use Save As → CSV UTF-8 (comma delimited), or use units.xlsx",
                )
            ]
        ) from None
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, [c.strip() for c in row]))
    except csv.Error:
        # A bare CR (a line break typed into a cell, or a file saved with old Mac line ends) or a stray
        # quote: csv's own message names neither the line nor a way out.
        line = reader.line_num
        raise ConfigError(
            [
                f"{path}: "
                + t(
                    lang,
                    f"第 {line} 行含有单独的回车符（CR）或不配对的引号，无法读取。请删除该行单元格中的换行，"
                    "或在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重试",
                    f"line {line} holds a bare carriage return (CR) or an unmatched quote and cannot be read. "
                    "Remove the line break from that row's cells, or in Excel use Save As → CSV UTF-8 "
                    "(comma delimited), and try again",
                )
            ]
        ) from None
    return rows


def load_roster(folder: Path, campaign: Campaign) -> tuple[Roster, list[RosterProblem]]:
    """Good rows make the roster; each bad row is a problem naming its line. Raises only when unusable."""
    folder = Path(folder)
    lang = campaign.language
    path = next((folder / n for n in ROSTER_FILES if (folder / n).exists()), None)
    if path is None:
        raise ConfigError(
            [
                f"{folder}: "
                + t(
                    lang,
                    "找不到单位名单 units.csv 或 units.xlsx",
                    "no roster: neither units.csv nor units.xlsx",
                )
            ]
        )
    rows = _roster_rows(path, lang)
    if not rows:
        raise ConfigError([f"{path}: " + t(lang, "文件是空的", "the file is empty")])
    header = [h for h in rows[0][1]]
    while header and header[-1] == "":
        header.pop()
    if not roster_header_ok(tuple(header)):
        wanted, found = ",".join(ROSTER_HEADERS), ",".join(header)
        areas = t(lang, "、", ", ").join(AREA_HEADERS)
        raise ConfigError(
            [
                f"{path}: "
                + t(
                    lang,
                    f"第 1 行表头应为 {wanted}（第 4 列也可写作 {areas}）；现为 {found or '(空)'}",
                    f"row 1 should hold the headers {wanted} (the 4th may also be {areas}); "
                    f"found {found or '(empty)'}",
                )
            ]
        )
    types = {t.name for t in campaign.unit_types}
    units: list[Unit] = []
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    # Codes name files, and macOS and Windows file systems ignore case: WJ01 and wj01 would share one.
    seen_folded: dict[str, int] = {}
    for line, cells in rows[1:]:
        cells = [*cells, *[""] * (len(ROSTER_HEADERS) - len(cells))]
        if not any(cells):
            continue
        code, name, utype, area, contact, emails_txt, phone = cells[: len(ROSTER_HEADERS)]
        # Everything but the addresses becomes one line of text (see normalise_text).
        name, utype, area, contact, phone = (normalise_text(c) for c in (name, utype, area, contact, phone))
        bad = []
        if not code:
            bad.append(t(lang, "单位编码为空", "no unit code"))
        elif code in seen:
            bad.append(
                t(
                    lang,
                    f"单位编码 {code} 与第 {seen[code]} 行重复",
                    f"unit code {code} repeats row {seen[code]}",
                )
            )
        elif not re.match(UNIT_CODE_PATTERN, code):
            bad.append(
                t(
                    lang,
                    f"单位编码 {code!r} 不可用：只能由字母、数字、汉字和 - _ . 组成（不以 . 或 - 开头，"
                    f"不以 . 结尾，最多 {UNIT_CODE_MAX} 个字符），不能含有 / 、空格或换行。请改成如 WJ001 的编码",
                    f"unit code {code!r} cannot be used: only letters, digits, Chinese characters and - _ . "
                    f"(not starting with . or -, not ending with ., at most {UNIT_CODE_MAX} characters), "
                    "no /, spaces or line breaks. Change it to a code such as WJ001",
                )
            )
        elif code.casefold() in seen_folded:
            bad.append(
                t(
                    lang,
                    f"单位编码 {code} 与第 {seen_folded[code.casefold()]} 行的编码只差大小写，请改成不同的编码",
                    f"unit code {code} differs from row {seen_folded[code.casefold()]}'s only in case; "
                    "make them different",
                )
            )
        if not name:
            bad.append(t(lang, "单位名称为空", "no unit name"))
        if utype not in types:
            known = t(lang, "、", ", ").join(sorted(types))
            bad.append(
                t(
                    lang,
                    f"单位类型“{utype}”不在活动配置的单位类型中（{known}）",
                    f"unit type '{utype}' is not one of the campaign's unit types ({known})",
                )
            )
        emails = split_emails(emails_txt)
        for e in emails:
            if not re.match(EMAIL_PATTERN, e):
                bad.append(t(lang, f"邮箱“{e}”格式不对", f"'{e}' is not an email address"))
            elif not is_plain_address(e):
                # Looks like an address, but a mail header reads it as another one (issue 11 §2.9).
                bad.append(
                    t(
                        lang,
                        f"邮箱“{e}”格式不对：只写地址本身，如 name@example.org，不含 < > : ( ) 等符号",
                        f"'{e}' is not an email address: write only the address, e.g. name@example.org, "
                        "without < > : ( ) and the like",
                    )
                )
        if bad:
            problems.append(RosterProblem(line=line, code=code, message=t(lang, "；", "; ").join(bad)))
            if code and code not in seen:
                seen[code] = line
                seen_folded.setdefault(code.casefold(), line)
            continue
        seen[code] = line
        seen_folded[code.casefold()] = line
        units.append(
            Unit(
                code=code,
                name=name,
                type=utype,
                area=area,
                contact=contact,
                emails=tuple(emails),
                phone=phone,
            )
        )
    return Roster(units=units), problems


def format_roster_problems(path_hint: str, problems: list[RosterProblem], lang: Language) -> list[str]:
    return [
        t(lang, f"{path_hint} 第 {p.line} 行：{p.message}", f"{path_hint} row {p.line}: {p.message}")
        for p in problems
    ]
