"""Load campaign.yaml and the roster; every problem names the file, the place and what is expected."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from schemas.campaign import EMAIL_PATTERN, Campaign
from schemas.roster import ROSTER_HEADERS, Roster, RosterProblem, Unit

CAMPAIGN_FILE = "campaign.yaml"
ROSTER_FILES = ("units.csv", "units.xlsx")

_PYDANTIC_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "date_from_datetime_parsing": "需要日期，如 2022-11-24",
    "date_parsing": "需要日期，如 2022-11-24",
    "date_type": "需要日期，如 2022-11-24",
    "time_parsing": "需要时间，如 17:00",
    "int_parsing": "需要整数",
    "int_type": "需要整数",
    "float_parsing": "需要数字",
    "string_type": "需要文字",
    "list_type": "需要列表",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不对",
    "too_short": "至少需要一项",
    "bool_parsing": "需要 true 或 false",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


class ConfigError(Exception):
    """A campaign folder that cannot be used as it is; the message is for the person who wrote it."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(顶层)"


def describe_validation_error(file: str, exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        where = _loc(tuple(p for p in err["loc"] if p not in ("function-after",)))
        what = _PYDANTIC_ZH.get(err["type"], "")
        detail = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        got_txt = "" if err["type"] in ("missing",) or isinstance(got, dict | list) else f"；现为 {got!r}"
        lines.append(f"{file}: {where}: {what + '：' if what else ''}{detail}{got_txt}")
    return lines


def load_campaign(folder: Path) -> Campaign:
    path = Path(folder) / CAMPAIGN_FILE
    if not path.exists():
        raise ConfigError(
            [f"{path}: 找不到活动配置文件（可先运行 huizong init {folder} --example wujin-2022）"]
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        raise ConfigError([f"{path}: {where} YAML 格式错误：{getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: 内容应为键值对（id: ..., title: ...）"])
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(path), exc)) from None


def split_emails(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[;,；，\s]+", text or "") if e.strip()]


def _roster_rows(path: Path) -> list[tuple[int, list[str]]]:
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
            [f"{path}: 不是 UTF-8 编码。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”，或改用 units.xlsx"]
        ) from None
    return [(i, [c.strip() for c in row]) for i, row in enumerate(csv.reader(io.StringIO(text)), start=1)]


def load_roster(folder: Path, campaign: Campaign) -> tuple[Roster, list[RosterProblem]]:
    """Good rows make the roster; each bad row is a problem naming its line. Raises only when unusable."""
    folder = Path(folder)
    path = next((folder / n for n in ROSTER_FILES if (folder / n).exists()), None)
    if path is None:
        raise ConfigError([f"{folder}: 找不到单位名单 units.csv 或 units.xlsx"])
    rows = _roster_rows(path)
    if not rows:
        raise ConfigError([f"{path}: 文件是空的"])
    header = [h for h in rows[0][1]]
    while header and header[-1] == "":
        header.pop()
    if tuple(header) != ROSTER_HEADERS:
        raise ConfigError(
            [f"{path}: 第 1 行表头应为 {','.join(ROSTER_HEADERS)}；现为 {','.join(header) or '(空)'}"]
        )
    types = {t.name for t in campaign.unit_types}
    units: list[Unit] = []
    problems: list[RosterProblem] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        cells = [*cells, *[""] * (len(ROSTER_HEADERS) - len(cells))]
        if not any(cells):
            continue
        code, name, utype, area, contact, emails_txt, phone = cells[: len(ROSTER_HEADERS)]
        bad = []
        if not code:
            bad.append("单位编码为空")
        elif code in seen:
            bad.append(f"单位编码 {code} 与第 {seen[code]} 行重复")
        if not name:
            bad.append("单位名称为空")
        if utype not in types:
            bad.append(f"单位类型“{utype}”不在活动配置的单位类型中（{'、'.join(sorted(types))}）")
        emails = split_emails(emails_txt)
        for e in emails:
            if not re.match(EMAIL_PATTERN, e):
                bad.append(f"邮箱“{e}”格式不对")
        if bad:
            problems.append(RosterProblem(line=line, code=code, message="；".join(bad)))
            if code and code not in seen:
                seen[code] = line
            continue
        seen[code] = line
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


def format_roster_problems(path_hint: str, problems: list[RosterProblem]) -> list[str]:
    return [f"{path_hint} 第 {p.line} 行：{p.message}" for p in problems]
