"""The form page's view: field types → inputs, issues placed on their field, summary anchors."""

from __future__ import annotations

from functions.services.web.form_fields import PlacedIssues, place_issues
from functions.validate import codes
from functions.validate.messages import make_issue
from functions.web.page import anchor, table_views
from schemas.campaign import Campaign
from schemas.report import ValidationReport
from schemas.roster import Roster


def test_field_types_become_the_right_inputs(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    [activities, _materials] = table_views(campaign, "plan", {}, PlacedIssues())
    row = {box.name.rsplit(".", 1)[1]: box for box in activities.rows[0].inputs}
    assert "seq" not in row  # the serial number is the card's place, not typed
    assert row["category"].kind == "select" and "讲座" in row["category"].choices
    assert row["audience"].kind == "checkboxes"
    assert (row["start_date"].input_type, row["start_date"].min, row["start_date"].max) == (
        "date",
        "2022-11-30",
        "2022-12-10",
    )
    # whole numbers: a text box with the numeric keyboard, so "很多" reaches the validator as typed
    assert (row["expected_participants"].input_type, row["expected_participants"].inputmode) == (
        "text",
        "numeric",
    )
    assert row["phone"].input_type == "tel"
    assert row["notes"].kind == "textarea" and row["notes"].maxlength == 500
    assert row["name"].required and not row["notes"].required
    # one empty card to type in, and the template the script copies
    assert len(activities.rows) == 1 and activities.next_index == 1
    assert activities.blank is not None and activities.blank.inputs[0].name.startswith("activities.__N__.")


def test_values_and_issues_land_on_their_field(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    issue = make_issue(
        codes.BAD_NUMBER, "zh", sheet="活动周情况统计表", row=None, column="参与总人次", value="很多"
    )
    report = ValidationReport(file="web", valid=False, errors=[issue])
    values = {"statistics": [{"total_participants": "很多"}]}
    [stats, _] = table_views(campaign, "summary", values, place_issues(campaign, "summary", report))
    box = next(b for b in stats.inputs if b.name == "statistics.total_participants")
    assert box.value == "很多" and box.issues == [issue]
    assert all(not b.issues for b in stats.inputs if b is not box)
    assert anchor(campaign, "summary", issue) == box.id == "f-statistics-total_participants"


def test_row_issues_anchor_on_the_rendered_row(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    issue = make_issue(
        codes.BAD_NUMBER, "zh", sheet="主要活动安排表", row=2, column="预计参与人数", value="x"
    )
    values = {"activities": [{"name": "a"}, {"name": "b"}]}
    [activities, _] = table_views(
        campaign,
        "plan",
        values,
        place_issues(campaign, "plan", ValidationReport(file="", valid=False, errors=[issue])),
    )
    box = next(b for b in activities.rows[1].inputs if b.name.endswith(".expected_participants"))
    assert box.issues == [issue] and anchor(campaign, "plan", issue) == box.id
    table_level = make_issue(codes.EMPTY_TABLE, "zh", sheet="主要活动安排表")
    assert anchor(campaign, "plan", table_level) == "t-activities"
