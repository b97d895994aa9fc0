"""What people really type into Excel/WPS/Google Sheets cells, read back as values or refused."""

from __future__ import annotations

import datetime as dt

import pytest

from functions.validate.values import (
    Parsed,
    RawValue,
    ValueProblem,
    check_phone,
    check_url,
    is_blank,
    parse_date,
    parse_number,
    split_choices,
    to_text,
)

D = dt.date
YEAR = 2022


# ---- blank and text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "blank"),
    [
        (None, True),
        ("", True),
        ("   ", True),
        ("\u3000\u3000", True),  # full-width spaces
        (" \u00a0\t\n", True),
        ("\ufeff", True),
        ("0", False),
        (0, False),
        (0.0, False),
        (False, False),
        (" 无 ", False),
        (D(2022, 12, 3), False),
    ],
)
def test_is_blank(raw: RawValue, blank: bool) -> None:
    assert is_blank(raw) is blank


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (None, ""),
        ("  读书会  ", "读书会"),
        ("\u3000读书会\u3000", "读书会"),
        ("２０２２", "2022"),
        ("ＡＢＣ－１２３", "ABC-123"),
        ("１２０．５", "120.5"),
        ("读书会，讲座：（线上）", "读书会，讲座：（线上）"),  # Chinese punctuation keeps its meaning
        ("第一行\r\n第二行", "第一行\n第二行"),
        (120, "120"),
        (120.0, "120"),
        (12.5, "12.5"),
        (-3.0, "-3"),
        (True, "TRUE"),
        (D(2022, 12, 3), "2022-12-03"),
        (dt.datetime(2022, 12, 3), "2022-12-03"),
        (dt.datetime(2022, 12, 3, 14, 30), "2022-12-03 14:30"),
        (dt.time(9, 0), "09:00"),
    ],
)
def test_to_text(raw: RawValue, text: str) -> None:
    assert to_text(raw) == text


# ---- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "integer", "value", "approximate"),
    [
        (120, True, 120, False),
        (120.0, True, 120, False),
        (12.5, False, 12.5, False),
        (-5, True, -5, False),
        ("120", True, 120, False),
        (" １２０ ", True, 120, False),
        ("２０２２", True, 2022, False),
        ("0", True, 0, False),
        ("-5", True, -5, False),
        ("－5", True, -5, False),  # full-width minus
        ("12.5", False, 12.5, False),
        ("120.0", True, 120, False),
        ("1,200", True, 1200, False),
        ("1，200", True, 1200, False),
        ("1,234,567", True, 1234567, False),
        ("3000余人", True, 3000, True),
        ("2万余份", True, 20000, True),
        ("11万人次", True, 110000, False),
        ("近两万", True, 20000, True),
        ("460余场", True, 460, True),
        ("80多场", True, 80, True),
        ("3500多人次", True, 3500, True),
        ("1.2万", True, 12000, True),  # rounded to 万: issue 10 item 6
        ("1.2w", True, 12000, True),
        ("1.25万", True, 12500, True),
        ("两万", True, 20000, False),
        ("三千", True, 3000, False),
        ("一百二十", True, 120, False),
        ("一百二", True, 120, False),
        ("一百零五", True, 105, False),
        ("十二", True, 12, False),
        ("十万", True, 100000, False),
        ("三千五", True, 3500, False),
        ("1万5千", True, 15000, False),
        ("1万5000", True, 15000, False),
        ("十余万", True, 100000, True),
        ("20多万人", True, 200000, True),
        ("万余人", True, 10000, True),
        ("十多场", True, 10, True),
        ("约300", True, 300, True),
        ("大约300人", True, 300, True),
        ("300左右", True, 300, True),
        ("300人左右", True, 300, True),
        ("300上下", True, 300, True),
        ("300人以上", True, 300, True),
        ("超过500人", True, 500, True),
        ("300+", True, 300, True),
        ("10w+", True, 100000, True),
        ("共3000人", True, 3000, False),
        ("累计11万人次", True, 110000, False),
        ("3000人。", True, 3000, False),
        ("300 人", True, 300, False),
        ("12名", True, 12, False),
        ("6场次", True, 6, False),
        ("5次", True, 5, False),
        ("200条", True, 200, False),
        ("8块", True, 8, False),
        ("15篇", True, 15, False),
        ("3个", True, 3, False),
        ("2期", True, 2, False),
        ("40张", True, 40, False),
        ("7家", True, 7, False),
        ("9所", True, 9, False),
        ("4处", True, 4, False),
        ("无", True, 0, False),  # people write 无 for none
    ],
)
def test_parse_number_accepts(raw: RawValue, integer: bool, value: int | float, approximate: bool) -> None:
    parsed = parse_number(raw, integer=integer)
    assert parsed == Parsed(value, approximate)
    assert type(parsed.value) is type(value)


@pytest.mark.parametrize(
    ("raw", "integer", "detail"),
    [
        (True, True, None),  # a logical cell is not a count
        (False, False, None),
        (12.5, True, "not a whole number"),
        ("12.5", True, "not a whole number"),
        (float("nan"), False, "not finite"),
        (D(2022, 12, 3), True, None),
        ("若干", True, None),
        ("很多", True, None),
        ("多次", True, None),
        ("不详", True, None),
        ("无数", True, None),
        ("大量", True, None),
        ("-", True, "placeholder"),
        ("—", True, "placeholder"),
        ("/", True, "placeholder"),
        ("200-300", True, "range"),
        ("200~300", True, "range"),
        ("200～300人", True, "range"),
        ("200至300", True, "range"),
        ("200人-300人", True, "range"),
        ("1 200", True, "digits separated by spaces"),
        ("1,2000", True, None),
        ("二三百", True, None),
        ("50%", False, "percentage"),
        ("120（线上80）", True, None),
        ("", True, "empty"),
    ],
)
def test_parse_number_refuses(raw: RawValue, integer: bool, detail: str | None) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_number(raw, integer=integer)
    assert caught.value.code == "bad-number"
    if detail is not None:
        assert caught.value.detail == detail


# ---- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number_format", "value"),
    [
        (D(2022, 12, 3), None, D(2022, 12, 3)),
        (dt.datetime(2022, 12, 3, 9, 30), None, D(2022, 12, 3)),
        (44898, None, D(2022, 12, 3)),  # Excel serial
        (44898.375, None, D(2022, 12, 3)),  # serial with a time of day
        (44898, "yyyy-mm-dd", D(2022, 12, 3)),
        (1, "yyyy/m/d", D(1900, 1, 1)),  # Excel's first day, fine when the cell says it is a date
        (59, "yyyy/m/d", D(1900, 2, 28)),
        (61, "yyyy/m/d", D(1900, 3, 1)),
        (20221203, None, D(2022, 12, 3)),  # typed into a number cell
        ("44898", None, D(2022, 12, 3)),
        ("2022-12-03", None, D(2022, 12, 3)),
        ("2022/12/3", None, D(2022, 12, 3)),
        ("2022.12.3", None, D(2022, 12, 3)),
        ("2022年12月3日", None, D(2022, 12, 3)),
        ("2022年12月3号", None, D(2022, 12, 3)),
        ("2022 年 12 月 3 日", None, D(2022, 12, 3)),
        ("12月3日", None, D(2022, 12, 3)),
        ("12月3号", None, D(2022, 12, 3)),
        ("12/3", None, D(2022, 12, 3)),
        ("12-3", None, D(2022, 12, 3)),
        ("20221203", None, D(2022, 12, 3)),
        ("2022-12-03 00:00:00", None, D(2022, 12, 3)),
        ("2022-12-03T14:30:00", None, D(2022, 12, 3)),
        ("２０２２年１２月３日", None, D(2022, 12, 3)),
        ("２０２２－１２－０３", None, D(2022, 12, 3)),
        ("  2022-12-03  ", None, D(2022, 12, 3)),
        ("12月3日（周六）", None, D(2022, 12, 3)),
        ("12月3日(星期六)", None, D(2022, 12, 3)),
        ("2022年12月3日星期六", None, D(2022, 12, 3)),
        ("12月3日上午9:00", None, D(2022, 12, 3)),
        ("12月3日 上午9：00-11：30", None, D(2022, 12, 3)),
        ("12月3日下午2点半", None, D(2022, 12, 3)),
        ("2022-12-03 14:30", None, D(2022, 12, 3)),
        ("12月3日（周六）14:00", None, D(2022, 12, 3)),
    ],
)
def test_parse_date_accepts(raw: RawValue, number_format: str | None, value: D) -> None:
    assert parse_date(raw, default_year=YEAR, number_format=number_format) == Parsed(value)


def test_parse_date_uses_default_year_for_month_and_day() -> None:
    # 2022 has no 29 February (refused below); in a leap campaign year it is a real day.
    assert parse_date("2月29日", default_year=2024) == Parsed(D(2024, 2, 29))
    assert parse_date("12/3", default_year=2017) == Parsed(D(2017, 12, 3))


@pytest.mark.parametrize(
    "raw",
    [
        "2022-02-30",
        "2022年2月29日",
        "2月29日",  # not in 2022
        "13月1日",
        "2022-13-01",
        "待定",
        "另行通知",
        "2022年12月",  # no day
        "12/3/2022",  # month/day/year order is ambiguous
        "22-12-03",
        "12月3日-12月5日",  # a range, not one date
        "12月3日至5日",
        "12.3-12.5",
        "2022-12-03 另行通知",
        "",
        True,
        dt.time(9, 0),
        60,  # Excel's fictitious 1900-02-29
        0,
        -5,
        3_000_000,  # beyond 9999-12-31
        1203,  # 1903 without a date format: a count, not a date
        20221332,  # eight digits but no such day
        float("inf"),
    ],
)
def test_parse_date_refuses(raw: RawValue) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_date(raw, default_year=YEAR)
    assert caught.value.code == "bad-date"


# ---- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        (13812345678, "13812345678"),  # stored as a number
        (13812345678.0, "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("86-13812345678", "13812345678"),
        ("(+86)13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("19912345678", "19912345678"),
        ("0519-86311234", "0519-86311234"),
        ("0519 86311234", "0519-86311234"),
        ("0519－86311234", "0519-86311234"),
        ("0519—86311234", "0519-86311234"),
        ("051986311234", "0519-86311234"),
        ("(0519)86311234", "0519-86311234"),
        ("（0519）86311234", "0519-86311234"),
        ("0519-8631123", "0519-8631123"),  # seven-digit local number
        ("010-62345678", "010-62345678"),
        ("01062345678", "010-62345678"),
        ("025-86311234", "025-86311234"),
        ("0519-86311234-123", "0519-86311234-123"),
        ("0519-86311234转123", "0519-86311234-123"),
        ("+86 519 86311234", "0519-86311234"),
        ("13812345678/0519-86311234", "13812345678、0519-86311234"),
        ("13812345678、13912345678", "13812345678、13912345678"),
        ("13812345678，0519-86311234", "13812345678、0519-86311234"),
        ("13812345678;13912345678", "13812345678、13912345678"),
        ("13812345678 13912345678", "13812345678、13912345678"),
        ("手机：13812345678", "13812345678"),
    ],
)
def test_check_phone_accepts(raw: RawValue, normalised: str) -> None:
    assert check_phone(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "86311234",  # no area code
        "8631123",
        "519-86311234",  # area code without its 0
        "12345678901",  # 11 digits, not a mobile
        "23812345678",
        51986311234,  # a landline stored as a number lost its 0
        "1381234567",  # one digit short
        "138123456789",
        "0519-06311234",  # local numbers never start with 0
        "13812345678/86311234",  # every number must be valid
        "13812345678、abc",
        "123",
        "张老师",
        "",
        True,
        D(2022, 12, 3),
    ],
)
def test_check_phone_refuses(raw: RawValue) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_phone(raw)
    assert caught.value.code == "bad-phone"


# ---- links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("https://example.org/plan.docx", "https://example.org/plan.docx"),
        ("  http://www.wjedu.gov.cn/a?b=1#c  ", "http://www.wjedu.gov.cn/a?b=1#c"),
        ("HTTPS://Pan.Baidu.com/s/1AbC", "https://pan.baidu.com/s/1AbC"),
        ("http://localhost:8080/x", "http://localhost:8080/x"),
        ("http://192.168.1.10/files", "http://192.168.1.10/files"),
        ("www.wjedu.gov.cn/news/1.html", "http://www.wjedu.gov.cn/news/1.html"),
        ("pan.baidu.com/s/1AbC", "http://pan.baidu.com/s/1AbC"),
        ("https：//v.example.org/1", "https://v.example.org/1"),  # full-width colon
        ("https://v.example.org/1。", "https://v.example.org/1"),
        ("https://pan.baidu.com/s/1AbC 提取码：x7k2", "https://pan.baidu.com/s/1AbC 提取码：x7k2"),
        (
            "链接：https://pan.baidu.com/s/1AbC 提取码：x7k2 复制这段内容后打开百度网盘手机App",
            "链接：https://pan.baidu.com/s/1AbC 提取码：x7k2 复制这段内容后打开百度网盘手机App",
        ),
        ("https://pan.baidu.com/s/1AbC提取码：x7k2", "https://pan.baidu.com/s/1AbC提取码：x7k2"),
        ("www.example.com/s/1 密码：abcd", "http://www.example.com/s/1 密码：abcd"),
    ],
)
def test_check_url_accepts(raw: RawValue, normalised: str) -> None:
    assert check_url(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "见附件",
        "已发邮箱",
        "已发邮箱 zhang@qq.com",
        "工作方案.docx",
        "plan.docx",
        "http://",
        "https://",
        "http:// 提取码：x7k2",
        "http://nohost/path",
        "http://exa mple.com",
        "www.",
        "ftp://example.org/file",
        "",
        12,
        None,
    ],
)
def test_check_url_refuses(raw: RawValue) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_url(raw)
    assert caught.value.code == "bad-url"


# ---- choices -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "choices"),
    [
        ("线上、线下", ["线上", "线下"]),
        ("线上,线下", ["线上", "线下"]),
        ("线上，线下", ["线上", "线下"]),
        ("线上;线下；混合", ["线上", "线下", "混合"]),
        ("线上/线下", ["线上", "线下"]),
        ("线上／线下", ["线上", "线下"]),
        ("线上  线下\n混合", ["线上", "线下", "混合"]),
        (" 线下 、 线上 、", ["线下", "线上"]),  # order kept, empties dropped
        ("线上、线上、线下", ["线上", "线下"]),
        ("", []),
        (None, []),
        (12, ["12"]),
    ],
)
def test_split_choices(raw: RawValue, choices: list[str]) -> None:
    assert split_choices(raw) == choices


def test_value_problem_carries_code_and_detail() -> None:
    problem = ValueProblem("bad-number", "range")
    assert (problem.code, problem.detail, str(problem)) == ("bad-number", "range", "bad-number: range")
    assert ValueProblem("bad-url").detail == ""
