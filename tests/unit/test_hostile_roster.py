"""Hostile rosters (issue 11 §2.8, §2.9, §2.13): unit codes that would name files outside out/reports or
share one, addresses a mail header reads as someone else's, line breaks in names, a bare CR in units.csv.
Also the report files those codes name, written and read back, and a receipt that cannot be composed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from functions.bootstrap import open_app
from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.services.intake.ingest import report_base, write_report_files
from functions.services.intake.receipt import receipt_key, send_receipt
from schemas.campaign import is_plain_address
from schemas.roster import ROSTER_HEADERS, Roster, Unit, normalise_text
from tests.helpers.store import add, report, submission

HEADER = ",".join(ROSTER_HEADERS)
GOOD = "WJ001,区委宣传部,区社区教育委员会成员单位,区直,谢涛娜,wj001@example.org,0519-85178724"


def _roster(folder: Path, *rows: str, newline: str = "\n") -> tuple[Roster, list[str]]:
    (folder / "units.csv").write_bytes(newline.join([HEADER, *rows]).encode("utf-8"))
    campaign = load_campaign(folder)
    roster, problems = load_roster(folder, campaign)
    return roster, [f"{p.line}: {p.message}" for p in problems]


def _row(code: str, name: str = "某单位", email: str = "x@example.org") -> str:
    return f'"{code}","{name}",区社区教育委员会成员单位,区直,张三,"{email}",0519-1'


def _english(folder: Path) -> Path:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["language"] = "en"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize("code", ["../../x", "/etc/passwd", "a/b", "a\\b", ".hidden", "WJ.", "-rf", "a b"])
def test_unsafe_unit_codes_are_refused_naming_the_row(wujin_dir: Path, code: str) -> None:
    roster, problems = _roster(wujin_dir, GOOD, _row(code))
    assert roster.get(code) is None
    assert [p.split(":")[0] for p in problems] == ["3"]
    assert "不可用" in problems[0] and "WJ001" in problems[0]  # what is wrong and an example of right


def test_unsafe_code_message_is_in_an_english_campaigns_language(wujin_dir: Path) -> None:
    _, problems = _roster(_english(wujin_dir), GOOD, _row("../x"))
    assert problems == [problems[0]] and problems[0].startswith("3: unit code '../x' cannot be used")


def test_a_code_too_long_for_a_file_name_is_refused(wujin_dir: Path) -> None:
    roster, problems = _roster(wujin_dir, _row("A" * 40), _row("B" * 41))
    assert roster.get("A" * 40) is not None
    assert [p.split(":")[0] for p in problems] == ["3"]


def test_codes_differing_only_in_case_are_refused(wujin_dir: Path) -> None:
    roster, problems = _roster(wujin_dir, _row("WJ01"), _row("wj01"))
    assert roster.get("WJ01") is not None and roster.get("wj01") is None
    assert problems == ["3: 单位编码 wj01 与第 2 行的编码只差大小写，请改成不同的编码"]


def test_dotted_codes_get_report_files_of_their_own(wujin_dir: Path) -> None:
    # with_suffix cut names at the first dot: WJ.24 and WJ.25 shared WJ.json.
    roster, problems = _roster(wujin_dir, _row("WJ.24"), _row("WJ.25"))
    assert problems == []
    app = open_app(wujin_dir)
    app = dataclasses.replace(app, roster=roster)
    written = []
    for code in ("WJ.24", "WJ.25"):
        sub = submission(unit=code, deliverable="plan", source=f"inbox/{code}.xlsx")
        written.append(write_report_files(app, report(sub, errors=1), fallback_name=f"{code}.xlsx"))
    assert [p.name for p in written] == ["WJ.24-plan.txt", "WJ.25-plan.txt"]
    units = [
        json.loads(p.with_name(p.name[: -len(".txt")] + ".json").read_text("utf-8"))["unit"] for p in written
    ]
    assert units == ["WJ.24", "WJ.25"]
    # Nothing left behind: unique temp files are renamed or removed.
    assert sorted(p.name for p in app.paths.reports.iterdir()) == [
        "WJ.24-plan.json",
        "WJ.24-plan.txt",
        "WJ.25-plan.json",
        "WJ.25-plan.txt",
    ]


@pytest.mark.parametrize("code", ["../../x", "/abs/x", "a/b", "..", "."])
def test_report_names_never_leave_the_reports_folder(tmp_path: Path, code: str) -> None:
    # The second line of defence, for a code that reached the store before the roster checked it.
    reports = tmp_path / "out" / "reports"
    base = report_base(reports, code, "plan")
    assert base.parent == reports
    assert "/" not in base.name and not base.name.startswith(".")


def test_two_hostile_codes_do_not_share_a_report_name(tmp_path: Path) -> None:
    a, b = report_base(tmp_path, "a/b", "plan"), report_base(tmp_path, "a:b", "plan")
    assert a != b


def test_unidentified_files_with_dot_names_stay_inside(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    sub = submission(unit="NOPE", deliverable="plan")
    path = write_report_files(app, report(sub), fallback_name="..")
    assert path.parent == app.paths.reports / "unidentified"
    assert path.read_text(encoding="utf-8")


@pytest.mark.parametrize("address", ["a<b@example.org", "a:b@example.org", "a(b@example.org"])
def test_addresses_a_header_reads_as_another_are_refused(wujin_dir: Path, address: str) -> None:
    assert not is_plain_address(address)
    roster, problems = _roster(wujin_dir, _row("WJ9", email=address))
    assert roster.get("WJ9") is None
    assert len(problems) == 1 and problems[0].startswith("2: 邮箱") and "name@example.org" in problems[0]


def test_a_trailing_line_break_is_not_a_plain_address() -> None:
    # `$` in the pattern matches before a final newline; parsing does not keep it.
    assert not is_plain_address("a@example.org\n")


def test_ordinary_addresses_pass(wujin_dir: Path) -> None:
    for address in ("wj001@example.org", "first.last+tag@sub.example.org.cn"):
        assert is_plain_address(address)
    roster, problems = _roster(wujin_dir, _row("WJ9", email="a@example.org; b.c@example.org"))
    assert problems == [] and roster.get("WJ9") is not None
    assert roster.get("WJ9").emails == ("a@example.org", "b.c@example.org")  # type: ignore[union-attr]


def test_organiser_addresses_are_checked_the_same_way(wujin_dir: Path) -> None:
    path = wujin_dir / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["organiser"]["emails"] = ["a<b@example.org"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_campaign(wujin_dir)
    assert "a<b@example.org" in str(info.value)


def test_line_breaks_in_names_become_spaces(wujin_dir: Path) -> None:
    roster, problems = _roster(wujin_dir, _row("WJ9", name="湖塘\r\n中心\u200b 小学\t"))
    assert problems == []
    unit = roster.get("WJ9")
    assert unit is not None and unit.name == "湖塘 中心 小学"
    assert roster.find_by_name("湖塘  中心\n小学") is unit


def test_normalise_text_keeps_ordinary_text() -> None:
    assert normalise_text("  区委 宣传部 ") == "区委 宣传部"
    assert normalise_text("a\x00b\x1bc\u2028d") == "a b c d"


def test_a_bare_cr_in_units_csv_names_its_line(wujin_dir: Path) -> None:
    (wujin_dir / "units.csv").write_bytes(
        f"{HEADER}\n{GOOD}\nWJ002,区\r文明办,x,y,z,a@example.org,1\n".encode()
    )
    with pytest.raises(ConfigError) as info:
        load_roster(wujin_dir, load_campaign(wujin_dir))
    text = str(info.value)
    assert "units.csv" in text and "第 3 行" in text and "CSV UTF-8" in text


def test_a_bare_cr_message_in_english(wujin_dir: Path) -> None:
    _english(wujin_dir)
    (wujin_dir / "units.csv").write_bytes(f"{HEADER}\nWJ002,a\rb,x,y,z,a@example.org,1\n".encode())
    with pytest.raises(ConfigError) as info:
        load_roster(wujin_dir, load_campaign(wujin_dir))
    assert "line 2 holds a bare carriage return" in str(info.value)


def test_a_receipt_that_cannot_be_composed_is_recorded_not_lost(wujin_dir: Path) -> None:
    # A unit that reached the roster without normalising (an older roster, a hand-built App): its name
    # breaks the mail header after the claim. The claim must say so instead of staying at "sending".
    app = open_app(wujin_dir)
    version, _ = add(app.store, submission(unit="WJ001", deliverable="plan"))
    unit = Unit(code="WJ001", name="区委\r\nBcc: x@evil.example", type="t", emails=("wj001@example.org",))
    app = dataclasses.replace(app, roster=Roster(units=[unit]))
    now = dt.datetime(2022, 11, 21, 9, tzinfo=dt.UTC)
    outcome = send_receipt(app, version, link="", now=now)
    assert outcome == "failed"
    [claim] = app.store.claims(receipt_key(version))
    assert str(claim.payload["result"]).startswith("failed: ")
    # Nothing half-sent: the outbox holds no message.
    assert not app.paths.outbox.exists() or not any(app.paths.outbox.iterdir())
    # And a second poll does not try again (the claim is held, with its reason).
    assert send_receipt(app, version, link="", now=now) == "already"


def test_reports_written_at_once_by_many_writers_all_land(wujin_dir: Path) -> None:
    # Issue 11 §2.6: one fixed temp name (`.<name>.tmp`) made one of two writers fail with
    # FileNotFoundError when the other renamed it first. Each write now has its own temp file.
    from tests.helpers.store import run_together

    app = open_app(wujin_dir)
    subs = [submission(unit="WJ001", deliverable="plan", n=i) for i in range(8)]

    def write(i: int) -> Path:
        path = Path("")
        for _ in range(20):
            path = write_report_files(app, report(subs[i], errors=i), fallback_name="x.xlsx")
        return path

    paths = run_together(8, write)
    assert {p.name for p in paths} == {"WJ001-plan.txt"}
    final = json.loads((app.paths.reports / "WJ001-plan.json").read_text(encoding="utf-8"))
    assert final["unit"] == "WJ001" and 0 <= len(final["errors"]) < 8
    assert sorted(p.name for p in app.paths.reports.iterdir()) == ["WJ001-plan.json", "WJ001-plan.txt"]


def test_a_newline_in_a_file_name_cannot_fake_a_report_line() -> None:
    from functions.services.messages.report_text import render_report

    sub = submission(unit="WJ001", source="inbox/a\n单位：WJ999 伪造\n.xlsx")
    rep = report(sub).model_copy(update={"file": sub.source})
    lines = render_report(rep, "zh").splitlines()
    assert lines[0] == "文件：inbox/a 单位：WJ999 伪造 .xlsx"
    assert [line for line in lines if line.startswith("单位：")] == ["单位：WJ001"]
