"""Read one cell the way a person meant it: numbers, dates, phones, links and choices.

Units fill forms in Excel, WPS or Google Sheets and type what they would write in a report:
"3000余人", "近两万", "1.2万", "12月3日（周六）上午9:00", "+86 138 1234 5678",
"https://pan.baidu.com/s/1AbC 提取码：x7k2". These functions accept what is unambiguous, flag
what is only approximate, and raise ValueProblem for the rest. They are pure: no I/O, no messages
for people (the validator turns a ValueProblem code into a localised message).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from functions.sheet_model import SPREADSHEET_EPOCH
from functions.validate.codes import BAD_DATE, BAD_NUMBER, BAD_PHONE, BAD_URL
from functions.validate.lazy_re import LazyPattern
from schemas import raw as _raw

RawValue = _raw.RawValue


class ValueProblem(Exception):
    """code: BAD_NUMBER, BAD_DATE, BAD_PHONE or BAD_URL's code; detail: short English reason for logs."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Parsed:
    value: int | float | dt.date | str
    approximate: bool = False  # True for 3000余, 3000多, 约300, 300左右, 近两万, 300+ ...


# ---- text ----------------------------------------------------------------------------------

# Full-width forms that carry Chinese punctuation meaning stay as typed: turning "，" into ","
# would change how a unit's sentence reads in the master workbook.
_KEEP_FULL_WIDTH = set("！（），：；？")
_TO_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULL_WIDTH}
_TO_HALF_WIDTH.update({0x3000: " ", 0x00A0: " ", 0x200B: None, 0x200C: None, 0x200D: None, 0xFEFF: None})


def _clean(text: str) -> str:
    return text.translate(_TO_HALF_WIDTH).replace("\r\n", "\n").replace("\r", "\n").strip()


def is_blank(raw: RawValue) -> bool:
    """None, or text made only of spaces (including full-width and no-break spaces)."""
    if raw is None:
        return True
    return isinstance(raw, str) and _clean(raw) == ""


def _format_number(x: float) -> str:
    if math.isfinite(x) and x.is_integer():
        return str(int(x))
    return repr(x)


def _format_time(t: dt.time) -> str:
    return t.strftime("%H:%M:%S" if t.second or t.microsecond else "%H:%M")


def to_text(raw: RawValue) -> str:
    """The cell as a person would read it, trimmed, with full-width digits and letters made half-width."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"  # what Excel and WPS display for a logical cell
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return _format_number(raw)
    if isinstance(raw, dt.datetime):
        if raw.time() == dt.time(0, 0):
            return raw.date().isoformat()
        return f"{raw.date().isoformat()} {_format_time(raw.time())}"
    if isinstance(raw, dt.date):
        return raw.isoformat()
    if isinstance(raw, dt.time):
        return _format_time(raw)
    return _clean(str(raw))


# ---- numbers -------------------------------------------------------------------------------

# Units people write after a count. Longest first so that 人次 is removed before 人 or 次.
_UNITS = sorted(
    [
        "人次", "场次", "课时", "小时", "人", "名", "位", "场", "次", "份", "条", "块", "篇", "个",
        "期", "张", "家", "所", "处", "项", "节", "门", "部", "本", "册", "件", "幅", "户", "支",
        "队", "批", "堂", "天", "元",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
# Words after a number that make it a rough figure ("3000余", "300人左右", "300+").
_APPROX_SUFFIXES = sorted(
    ["余", "多", "来", "许", "左右", "上下", "以上", "之多", "+"], key=len, reverse=True
)
# Words before a number that make it a rough figure or a lower bound ("约300", "近两万", "超过500").
_APPROX_PREFIXES = sorted(
    [
        "约", "大约", "大概", "约计", "约有", "近", "将近", "接近", "超过", "超", "逾", "多于",
        "不少于", "不低于", "至少", "最少", "不到", "不足", "少于", "≈", "~", ">", "≥", "<", "≤",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
# Words before a number that leave it exact ("共3000人", "累计11万人次").
_EXACT_PREFIXES = sorted(
    ["共", "共计", "总共", "总计", "合计", "累计", "计", "达", "有"], key=len, reverse=True
)

# "无" is what people write for none, so it counts as 0. A lone dash or slash is ambiguous
# (none? not applicable? not known yet?) and is refused so the unit says which.
_NONE_WORDS = {"无", "没有", "零", "〇"}
_PLACEHOLDER = LazyPattern(r"^[-—–/\\_.。·]+$")

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "亿": 10**8}
_ARABIC = LazyPattern(r"\d{1,3}(?:,\d{3})+(?![\d,])(?:\.\d+)?|\d+(?:\.\d+)?")
# "十余万", "20多万": the marker sits before the multiplier.
_APPROX_INSIDE = LazyPattern(r"(?<=[\d十百千拾佰仟])[余多来](?=[万千百亿])")
_RANGE = LazyPattern(r".[-~—–至到]")


def _strip_affixes(s: str) -> tuple[str, bool]:
    approximate = False
    changed = True
    while changed and s:
        changed = False
        for p in _APPROX_PREFIXES:
            if s.startswith(p):
                s, approximate, changed = s[len(p) :], True, True
                break
        else:
            for p in _EXACT_PREFIXES:
                if s.startswith(p):
                    s, changed = s[len(p) :], True
                    break
    changed = True
    while changed and s:
        changed = False
        if s[-1] in "。.":
            s, changed = s[:-1], True
            continue
        for u in _UNITS:
            if s.endswith(u):
                s, changed = s[: -len(u)], True
                break
        else:
            for a in _APPROX_SUFFIXES:
                if s.endswith(a):
                    s, approximate, changed = s[: -len(a)], True, True
                    break
    return s, approximate


def _tokens(s: str) -> list[tuple[str, Decimal, int]]:
    """('num', value, length) for numerals, ('unit', multiplier, 0) and ('zero', 0, 0)."""
    out: list[tuple[str, Decimal, int]] = []
    i = 0
    while i < len(s):
        m = _ARABIC.match(s, i)
        if m:
            text = m.group().replace(",", "")
            out.append(("num", Decimal(text), len(text)))
            i = m.end()
            continue
        ch = s[i]
        if ch in _CN_UNITS:
            out.append(("unit", Decimal(_CN_UNITS[ch]), 0))
        elif ch in ("零", "〇"):
            out.append(("zero", Decimal(0), 0))
        elif ch in _CN_DIGITS:
            out.append(("num", Decimal(_CN_DIGITS[ch]), 1))
        else:
            raise ValueProblem(BAD_NUMBER.code, f"not a number: {ch!r}")
        i += 1
    return out


def _digits_only(tokens: list[tuple[str, Decimal, int]]) -> Decimal | None:
    """二〇二二 -> 2022: Chinese digits written one by one, with no 十/百/千."""
    if len(tokens) < 2 or any(kind == "unit" for kind, _, _ in tokens):
        return None
    if any(kind == "num" and length != 1 for kind, _, length in tokens):
        return None
    return Decimal("".join(str(int(v)) for _, v, _ in tokens))


def _combine(tokens: list[tuple[str, Decimal, int]]) -> Decimal:
    """Mixed Arabic/Chinese numerals with 十百千万亿: 1.2万, 两万, 一百二十, 1万5000, 三千五."""
    positional = _digits_only(tokens)
    if positional is not None:
        return positional
    done = Decimal(0)  # finished 亿 groups
    wan = Decimal(0)  # finished 万 group
    section = Decimal(0)  # below 万
    num: Decimal | None = None
    num_len = 0
    last_small: Decimal | None = None  # the last 十/百/千 in this section, to keep them descending
    last_unit: Decimal | None = None
    zero_gap = False
    seen_any = False
    for kind, value, length in tokens:
        if kind == "zero":
            if num is not None:
                raise ValueProblem(BAD_NUMBER.code, "misplaced zero")
            zero_gap = True
            continue
        if kind == "num":
            if num is not None:
                raise ValueProblem(BAD_NUMBER.code, "two numbers side by side")
            num, num_len = value, length
            continue
        implicit_one = not seen_any and num is None
        seen_any = True
        if value < 10_000:
            if last_small is not None and value >= last_small:
                raise ValueProblem(BAD_NUMBER.code, "units out of order")
            if num is None and not implicit_one and value != 10:
                raise ValueProblem(BAD_NUMBER.code, "unit without a number")
            section += (Decimal(1) if num is None else num) * value
            last_small = value
        else:
            group = section + (num or 0)
            if group == 0:
                if not implicit_one:
                    raise ValueProblem(BAD_NUMBER.code, "unit without a number")
                group = Decimal(1)  # 万余人
            if value == 10_000:
                if wan:
                    raise ValueProblem(BAD_NUMBER.code, "two 万")
                wan = group * value
            else:
                done += (wan + group) * value
                wan = Decimal(0)
            section = Decimal(0)
            last_small = None
        num, num_len, last_unit, zero_gap = None, 0, value, False
    if num is not None:
        seen_any = True
        # 三千五 is 3500 and 1万5 is 15000; 一百零五 (zero_gap) and 1万5000 are plain additions.
        if last_unit is not None and last_unit >= 100 and not zero_gap and num_len == 1 and num > 0:
            num *= last_unit / 10
        section += num
    if not seen_any:
        raise ValueProblem(BAD_NUMBER.code, "no number")
    return done + wan + section


def _rounded_multiple(tokens: list[tuple[str, Decimal, int]]) -> bool:
    """1.2万, 3.5千, 0.8亿: a decimal written in front of 万/千/亿 is a figure rounded to that unit, so the
    exact count is unknown (12000 is only where 1.15万 to 1.25万 meet)."""
    return any(
        kind == "num" and value != value.to_integral_value() and nxt[0] == "unit"
        for (kind, value, _), nxt in itertools.pairwise(tokens)
    )


def _normalise_number_text(raw: str) -> str:
    s = _clean(raw).replace("，", ",").replace("−", "-")
    if re.search(r"\d\s+\d", s):
        raise ValueProblem(BAD_NUMBER.code, "digits separated by spaces")
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"(?<=\d)[wW]", "万", s)  # 1.2w, 10w+
    return re.sub(r"(?<=\d)[kK]", "千", s)


def parse_number(raw: RawValue, *, integer: bool) -> Parsed:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueProblem(BAD_NUMBER.code, f"not a number: {type(raw).__name__}")
    if isinstance(raw, int):
        return Parsed(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueProblem(BAD_NUMBER.code, "not finite")
        if integer:
            if not raw.is_integer():
                raise ValueProblem(BAD_NUMBER.code, "not a whole number")
            return Parsed(int(raw))
        return Parsed(raw)

    s = _normalise_number_text(raw)
    if not s:
        raise ValueProblem(BAD_NUMBER.code, "empty")
    if s in _NONE_WORDS:
        return Parsed(0)
    if _PLACEHOLDER.match(s):
        raise ValueProblem(BAD_NUMBER.code, "placeholder")
    if "%" in s:
        raise ValueProblem(BAD_NUMBER.code, "percentage")
    negative = s[0] == "-"
    if negative:
        s = s[1:]
    core, approximate = _strip_affixes(s)
    core, inside = _APPROX_INSIDE.subn("", core)
    approximate = approximate or inside > 0
    if _RANGE.search(core):
        raise ValueProblem(BAD_NUMBER.code, "range")
    if not core:
        raise ValueProblem(BAD_NUMBER.code, "no number")
    try:
        tokens = _tokens(core)
        value = _combine(tokens)
    except InvalidOperation as exc:  # pragma: no cover - the regexes only hand Decimal valid text
        raise ValueProblem(BAD_NUMBER.code, "unreadable") from exc
    approximate = approximate or _rounded_multiple(tokens)
    if negative:
        value = -value
    if value == value.to_integral_value():
        return Parsed(int(value), approximate)
    if integer:
        raise ValueProblem(BAD_NUMBER.code, "not a whole number")
    return Parsed(float(value), approximate)


# ---- dates ---------------------------------------------------------------------------------

_MAX_SERIAL = 2_958_465  # 9999-12-31
# Without a date number format, a serial far from the campaign year is more likely a count or a code.
_PLAUSIBLE_YEARS = 20
_YEARS = range(1900, 2201)

_FULL_CN = LazyPattern(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_FULL_SEP = LazyPattern(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)")
_COMPACT = LazyPattern(r"(\d{4})(\d{2})(\d{2})(?!\d)")
_MD_CN = LazyPattern(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_MD_SEP = LazyPattern(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})(?!\d)")
_SERIAL_TEXT = LazyPattern(r"\d{5}(?:\.\d+)?")

_WEEKDAY = r"(?:[(（]\s*(?:星期|周|礼拜)[一二三四五六日天七]\s*[)）]|(?:星期|周|礼拜)[一二三四五六日天七])"
_PART_OF_DAY = r"(?:凌晨|早上|早晨|上午|中午|午后|下午|傍晚|晚上|夜间|全天|早|晚)"
_CLOCK = r"\d{1,2}\s*(?::|：|点|时)\s*(?:\d{1,2}|半)?\s*分?(?:\s*[:：]\s*\d{1,2}(?:\.\d+)?)?"
_TIME = (
    rf"(?:{_PART_OF_DAY}\s*)?(?:{_CLOCK}(?:\s*(?:-|~|～|—|–|至|到)\s*(?:{_PART_OF_DAY}\s*)?{_CLOCK})?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
# What may follow the date and still leave one clear date: a weekday and/or a time of day.
_DATE_TAIL = LazyPattern(rf"\s*[,，]?\s*[Tt]?\s*(?:{_WEEKDAY})?\s*{_TIME}\s*(?:{_WEEKDAY})?\s*[。.]?\s*")


def _looks_like_date_format(number_format: str | None) -> bool:
    if not number_format:
        return False
    fmt = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", number_format).lower()
    return any(c in fmt for c in "yd年日") or ("m" in fmt and any(c in fmt for c in "/-."))


def _make_date(year: int, month: int, day: int) -> dt.date:
    if year not in _YEARS:
        raise ValueProblem(BAD_DATE.code, f"implausible year {year}")
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(BAD_DATE.code, f"no such day {year}-{month}-{day}") from exc


def _from_serial(serial: float, *, default_year: int, date_format: bool) -> dt.date:
    whole = math.floor(serial)
    if whole < 1 or whole > _MAX_SERIAL or whole == 60:
        raise ValueProblem(BAD_DATE.code, f"not a date serial: {serial}")
    day = SPREADSHEET_EPOCH + dt.timedelta(days=whole if whole > 60 else whole + 1)
    if not date_format and abs(day.year - default_year) > _PLAUSIBLE_YEARS:
        raise ValueProblem(BAD_DATE.code, f"implausible date serial {serial} ({day.isoformat()})")
    return day


def parse_date(raw: RawValue, *, default_year: int, number_format: str | None = None) -> Parsed:
    if isinstance(raw, dt.datetime):
        return Parsed(raw.date())
    if isinstance(raw, dt.date):
        return Parsed(raw)
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueProblem(BAD_DATE.code, f"not a date: {type(raw).__name__}")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueProblem(BAD_DATE.code, "not finite")
        if float(raw).is_integer() and 10_000_000 <= raw <= 99_999_999:  # 20221203 typed into a number cell
            n = int(raw)
            return Parsed(_make_date(n // 10_000, n // 100 % 100, n % 100))
        return Parsed(
            _from_serial(raw, default_year=default_year, date_format=_looks_like_date_format(number_format))
        )

    s = _clean(raw).replace("．", ".").replace("—", "-").replace("–", "-")
    if _SERIAL_TEXT.fullmatch(s):
        return Parsed(_from_serial(float(s), default_year=default_year, date_format=False))
    for pattern, has_year in (
        (_FULL_CN, True),
        (_FULL_SEP, True),
        (_COMPACT, True),
        (_MD_CN, False),
        (_MD_SEP, False),
    ):
        m = pattern.match(s)
        if not m:
            continue
        if not _DATE_TAIL.fullmatch(s, m.end()):
            raise ValueProblem(BAD_DATE.code, f"unexpected text after the date: {s[m.end() :]!r}")
        nums = [int(g) for g in m.groups() if g and g.isdigit()]
        if has_year:
            return Parsed(_make_date(nums[0], nums[1], nums[2]))
        return Parsed(_make_date(default_year, nums[0], nums[1]))
    raise ValueProblem(BAD_DATE.code, "not a date")


# ---- phones --------------------------------------------------------------------------------

_MOBILE = LazyPattern(r"(?:\(?(?:\+|00)?86\)?)?(1[3-9]\d{9})")
# Three-digit area codes are 010 and 02X; every other one has four digits (03XX..09XX). Local
# numbers never start with 0 or 1, which is what tells "0519 86311234" from a mobile or a code.
# After +86 the trunk 0 is usually dropped ("+86 519 86311234"); without +86 it is required.
_AREA = r"10|2\d|[3-9]\d{2}"
_LANDLINE = LazyPattern(
    rf"(?:\(?(?:\+|00)?86\)?[\s-]*\(?\s*0?(?P<intl>{_AREA})\s*\)?"
    rf"|\(\s*0(?P<paren>{_AREA})\s*\)|0(?P<plain>{_AREA}))"
    r"\s*-?\s*(?P<local>[2-9]\d{2,3}[\s-]?\d{4})"
    r"(?:\s*(?:-|转|分机|ext\.?|x|#)\s*(?P<ext>\d{1,6}))?",
    re.IGNORECASE,
)
_PHONE_SEPARATORS = LazyPattern(r"[/、,，;；\n]|或")
_PHONE_LABEL = LazyPattern(
    r"^(?:手机|电话|座机|固话|办公电话|联系电话|手机号|电话号码|tel|mobile|phone)\s*[:：]?\s*", re.I
)


def _one_phone(text: str) -> str | None:
    s = _PHONE_LABEL.sub("", text.strip())
    s = s.replace("（", "(").replace("）", ")").replace("—", "-").replace("–", "-")
    mobile = _MOBILE.fullmatch(re.sub(r"[\s-]", "", s))
    if mobile:
        return mobile.group(1)
    land = _LANDLINE.fullmatch(s)
    if land:
        area = "0" + (land["intl"] or land["paren"] or land["plain"])
        local = re.sub(r"[\s-]", "", land["local"])
        return f"{area}-{local}" + (f"-{land['ext']}" if land["ext"] else "")
    return None


def check_phone(raw: RawValue) -> str:
    """A mobile or a landline with area code (several allowed); returns them normalised, joined by 、."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueProblem(BAD_PHONE.code, f"not a phone: {type(raw).__name__}")
    text = to_text(raw)
    found: list[str] = []
    for part in _PHONE_SEPARATORS.split(text):
        if not part.strip():
            continue
        one = _one_phone(part)
        words = part.split()
        # Two numbers separated only by a space ("13812345678 13912345678") are still two numbers.
        pieces = [one] if one else [_one_phone(w) for w in words] if len(words) > 1 else [None]
        for piece in pieces:
            if piece is None:
                raise ValueProblem(
                    BAD_PHONE.code, f"not a mobile or landline with area code: {part.strip()!r}"
                )
            if piece not in found:
                found.append(piece)
    if not found:
        raise ValueProblem(BAD_PHONE.code, "empty")
    return "、".join(found)


# ---- links ---------------------------------------------------------------------------------

# Characters that end a URL inside Chinese text: spaces, CJK, Chinese punctuation and quotes.
_URL_CHARS = r"[^\s，。；、：“”‘’\"'<>（）()【】《》\u3000-\u303f\u4e00-\u9fff]"
_TLDS = r"(?:com|cn|net|org|edu|gov|io|cc|top|info|me|xyz|site|vip|club|ltd|link|tv|co)"
_URL_IN_TEXT = LazyPattern(
    rf"(?:https?://|www\.){_URL_CHARS}*"
    rf"|(?<![\w@./-])(?:[a-z0-9-]+\.)+{_TLDS}(?::\d+)?(?:/{_URL_CHARS}*)?(?![\w.])",
    re.IGNORECASE,
)
_SCHEME_FIX = LazyPattern(r"(?<![a-z])(https?)\s*[:：]\s*[/／]\s*[/／]", re.IGNORECASE)
_HOST_LABEL = LazyPattern(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.IGNORECASE)
_IPV4 = LazyPattern(r"\d{1,3}(?:\.\d{1,3}){3}")
_URL_PARTS = LazyPattern(r"(https?)://([^/?#]*)(.*)", re.IGNORECASE | re.DOTALL)
# Sentence punctuation right after a link belongs to the sentence, not to the link.
_URL_TRAILING = ".,;:!?)]}'\""


def _valid_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    if _IPV4.fullmatch(host):
        return all(int(p) <= 255 for p in host.split("."))
    labels = host.split(".")
    return (
        len(labels) >= 2
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
        and len(labels[-1]) >= 2
    )


def _normalise_url(found: str) -> str:
    url = found.rstrip(_URL_TRAILING)
    if not re.match(r"(?i)https?://", url):
        url = "http://" + url
    m = _URL_PARTS.fullmatch(url)
    assert m is not None  # the scheme was just ensured
    scheme, authority, tail = m.groups()
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.partition(":")
    if not _valid_host(host) or (colon and not port.isdigit()):
        raise ValueProblem(BAD_URL.code, f"no valid host in {found!r}")
    return f"{scheme.lower()}://{userinfo}{at}{host.lower()}{colon}{port}{tail}"


def check_url(raw: RawValue) -> str:
    """An http(s) link; text around it (a cloud-drive extraction code) is kept because readers need it."""
    if not isinstance(raw, str):
        raise ValueProblem(BAD_URL.code, f"not a link: {type(raw).__name__}")
    # A full stop after the link ends the sentence; it is not part of what the reader opens.
    text = _SCHEME_FIX.sub(lambda m: m.group(1) + "://", to_text(raw)).rstrip("。，；、！？ ")
    matches = list(_URL_IN_TEXT.finditer(text))
    if not matches:
        raise ValueProblem(BAD_URL.code, "no link")
    normalised = [_normalise_url(m.group()) for m in matches]
    if len(matches) == 1 and matches[0].group().rstrip(_URL_TRAILING) == text:
        return normalised[0]
    out: list[str] = []
    last = 0
    for m, url in zip(matches, normalised, strict=True):
        kept = m.group()[len(m.group().rstrip(_URL_TRAILING)) :]
        out.extend([text[last : m.start()], url, kept])
        last = m.end()
    out.append(text[last:])
    return "".join(out)


# ---- choices -------------------------------------------------------------------------------

_CHOICE_SEPARATORS = LazyPattern(r"[、,，;；/\s]+")


def split_choices(raw: RawValue) -> list[str]:
    """Several choices in one cell, in the order given, each once."""
    out: list[str] = []
    for part in _CHOICE_SEPARATORS.split(to_text(raw)):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out
