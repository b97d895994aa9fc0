"""The web form's posted fields → RawSubmission → the validator, and its issues back to their fields."""

from __future__ import annotations

import pytest

from functions.services.web.form_fields import (
    MAX_ROWS,
    FormTooLarge,
    form_values,
    place_issues,
    raw_submission,
    values_of_version,
)
from functions.validate.validator import validate_submission
from schemas.campaign import Campaign
from schemas.roster import Roster

ROW = {
    "name": "智慧助老手机课堂",
    "category": "培训",
    "start_date": "2022-12-03",
    "venue": "社区中心",
    "mode": "线下",
    "expected_participants": "50",
    "free": "是",
    "lead": "张老师",
    "phone": "13912345678",
}


def _rows(*overrides: dict[str, str], start: int = 0, step: int = 1) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for n, over in enumerate(overrides):
        i = start + n * step
        for k, v in {**ROW, **over}.items():
            fields[f"activities.{i}.{k}"] = [v]
        fields[f"activities.{i}.audience"] = ["社区居民", "老年人"]
    return fields


def test_rows_are_grouped_in_posted_order_and_empty_rows_left_out(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    fields = _rows({"name": "第一"}, {"name": "第二"}, start=3, step=4)
    fields |= {f"activities.5.{k}": [""] for k in ROW}  # an empty card between them
    fields["activities.5.audience"] = []
    values = form_values(campaign, "plan", fields)
    assert [r["name"] for r in values["activities"]] == ["第一", "第二"]
    assert values["activities"][0]["audience"] == ["社区居民", "老年人"]


def test_unknown_names_and_other_tables_are_ignored(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    values = form_values(
        campaign,
        "plan",
        {
            "unit_code": ["WJ002"],
            "statistics.total_sessions": ["5"],  # a table of another deliverable
            "activities.0.nope": ["x"],
            "plan_materials.filled_by": ["李老师"],
            "../../etc": ["x"],
        },
    )
    assert values == {"activities": [], "plan_materials": [{"filled_by": "李老师"}]}


def test_control_characters_are_dropped_and_values_capped(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    values = form_values(campaign, "plan", {"plan_materials.filled_by": ["李\x00老\x1b师" + "x" * 5000]})
    text = values["plan_materials"][0]["filled_by"]
    assert isinstance(text, str) and text.startswith("李老师") and len(text) == 2000


def test_too_many_rows_are_refused(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    fields = {f"activities.{i}.name": ["x"] for i in range(MAX_ROWS + 1)}
    with pytest.raises(FormTooLarge):
        form_values(campaign, "plan", fields)


def test_raw_submission_carries_the_unit_from_the_session_and_validates_like_a_workbook(
    wujin: tuple[Campaign, Roster],
) -> None:
    campaign, roster = wujin
    unit = roster.get("WJ015")
    assert unit is not None
    values = form_values(campaign, "plan", _rows({}, {"expected_participants": "很多"}))
    raw = raw_submission(campaign, unit, "plan", values, status="draft")
    assert (raw.unit_code, raw.deliverable, raw.source_kind, raw.status) == ("WJ015", "plan", "web", "draft")
    assert raw.source == "web:WJ015/plan"
    assert [r.row for r in raw.tables["activities"].records] == [1, 2]
    # the serial column is the row's place; several choices are joined as a unit would type them
    assert raw.tables["activities"].records[1].cells["seq"].value == "2"
    assert raw.tables["activities"].records[0].cells["audience"].value == "社区居民、老年人"
    # the one-record table is there with every field, so a required field left empty is reported
    assert set(raw.tables["plan_materials"].records[0].cells) == {
        f.key for f in campaign.form_spec.table("plan_materials").fields
    }
    parsed, report = validate_submission(raw, campaign, roster)
    assert parsed is not None and parsed.source_kind == "web" and parsed.status == "draft"
    bad = [i for i in report.errors if i.code == "bad-number"]
    assert (
        len(bad) == 1
        and bad[0].row == 2
        and bad[0].message == "“预计参与人数”应填数字，现为“很多”。请只填阿拉伯数字，如 120。"
    )
    assert {i.code for i in report.errors} >= {"missing-value"}  # plan_materials left empty

    placed = place_issues(campaign, "plan", report)
    assert placed.at("activities", 2, "expected_participants") == bad
    assert placed.at("activities", 1, "expected_participants") == []
    missing = placed.at("plan_materials", None, "work_plan_url")
    assert [i.code for i in missing] == ["missing-value"]
    # every issue lands somewhere the page shows
    shown = sum(len(v) for v in placed.fields.values()) + sum(len(v) for v in placed.rows.values())
    shown += sum(len(v) for v in placed.tables.values()) + len(placed.other)
    assert shown == len(report.issues)


def test_a_stored_version_is_shown_as_typed_text(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    unit = roster.get("WJ015")
    assert unit is not None
    raw = raw_submission(campaign, unit, "plan", form_values(campaign, "plan", _rows({})), status="submitted")
    parsed, _ = validate_submission(raw, campaign, roster)
    assert parsed is not None
    shown = values_of_version(campaign, "plan", parsed.tables)
    row = shown["activities"][0]
    assert row["start_date"] == "2022-12-03" and row["expected_participants"] == "50"
    assert row["audience"] == ["社区居民", "老年人"] and row["end_date"] == ""
