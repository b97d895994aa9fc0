"""Issue 11 §1.1: Google refuses a read past a tab's grid, so a unit sheet is created wide enough for every
field and the extra columns the poll reads, and the poll reads inside the grid a tab really has (a sheet
built before, a form that grew, a unit who deleted a column)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from functions.bootstrap import App
from functions.ports import GoogleRefused
from functions.services.google import grid
from functions.services.google.poll import run_poll
from sheets_templates import google_layout as gl
from sheets_templates.google_unit_sheet import DEFAULT_COLUMNS
from tests.fakes.google import FakeGoogle
from tests.helpers.campaigns import customise
from tests.helpers.google_poll import NOW, fill, provisioned, session_for, sheet_of

EXTRA = 10  # ten form.extra_fields on activities: 24 fields, more than a default grid's 26 - 3


def _wide_form(folder: Path) -> None:
    fields = "".join(
        f"      - {{key: extra_{i}, label_zh: 附加{i}, label_en: Extra {i}, type: text}}\n"
        for i in range(EXTRA)
    )
    customise(folder, "\nform:\n  extra_fields:\n    activities:\n" + fields)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)


@pytest.fixture
def app(wujin_dir: Path, google: FakeGoogle) -> App:
    _wide_form(wujin_dir)
    return provisioned(wujin_dir, google)


def _activities(app: App) -> tuple[str, int]:
    table = app.campaign.tables_of("plan")[0]
    assert table.key == "activities"
    return table.title(app.campaign.language), len(table.fields)


def _last_columns(google: FakeGoogle) -> list[str]:
    (query,) = google.queries("sheets.values.batchGet")
    return [r.rsplit(":", 1)[1] for r in query["ranges"]]


def test_the_fake_refuses_a_read_past_the_grid_as_google_does(google: FakeGoogle, app: App) -> None:
    title, _fields = _activities(app)
    sid = sheet_of(app, app.roster.units[0])
    cols = google.tab(sid, title).cols
    session = session_for(app)
    # Up to the last column of the grid answers; one more refuses the whole batch with Google's words.
    assert session.values_batch_get(sid, [f"'{title}'!A1:{_letter(cols)}"])["valueRanges"]
    with pytest.raises(GoogleRefused) as refused:
        session.values_batch_get(sid, ["'填写说明'!A1:E40", f"'{title}'!A1:{_letter(cols + 1)}"])
    assert refused.value.status == 400 and "exceeds grid limits" in refused.value.message
    assert grid.exceeds_grid(refused.value)


def test_a_wide_form_gets_wide_tabs_and_is_ingested(google: FakeGoogle, app: App) -> None:
    title, n = _activities(app)
    assert n == 14 + EXTRA and n + gl.EXTRA_COLUMNS > DEFAULT_COLUMNS
    unit = app.roster.units[0]
    sid = sheet_of(app, unit)
    assert google.tab(sid, title).cols == n + gl.EXTRA_COLUMNS
    fill(google, app, unit)
    result = run_poll(app, session_for(app), now=NOW)
    (check,) = result.checks
    assert check.stored and app.store.latest(unit.code, "plan") is not None
    # The widths were recorded when the sheet was built: no spreadsheets.get to learn them.
    assert "sheets.get" not in google.counts()
    assert _last_columns(google)[1] == _letter(n + gl.EXTRA_COLUMNS)


def test_a_sheet_built_before_keeps_its_grid_and_is_read_within_it(google: FakeGoogle, app: App) -> None:
    title, n = _activities(app)
    unit = app.roster.units[0]
    sid = sheet_of(app, unit)
    # As the template made it before: max(26, fields) columns, and no widths recorded.
    tab_id = google.tab(sid, title).sheet_id
    google.apply(sid, [_columns(tab_id, max(DEFAULT_COLUMNS, n))])
    app.store.set_meta(grid.GRID_META + sid, "")
    fill(google, app, unit)
    google.reset_counts()
    result = run_poll(app, session_for(app), now=NOW)
    (check,) = result.checks
    assert check.stored and check.errors == 0, check
    # One spreadsheets.get measures the tabs, once; the read stops at the tab's last column.
    assert google.counts()["sheets.get"] == 1
    assert _last_columns(google)[1] == _letter(DEFAULT_COLUMNS)
    assert grid.tab_columns(app.store, session_for(app), sid)[title] == DEFAULT_COLUMNS


def test_a_tab_that_lost_columns_is_measured_again(google: FakeGoogle, app: App) -> None:
    title, n = _activities(app)
    unit = app.roster.units[0]
    sid = sheet_of(app, unit)
    # The unit deletes two empty columns after the last field (the recorded width is now wrong), then
    # fills its plan.
    google.apply(sid, [_columns(google.tab(sid, title).sheet_id, n + 1)])
    fill(google, app, unit)
    google.reset_counts()
    result = run_poll(app, session_for(app), now=NOW)
    (check,) = result.checks
    assert check.stored
    assert google.counts()["sheets.values.batchGet"] == 2 and google.counts()["sheets.get"] == 1
    assert grid.tab_columns(app.store, session_for(app), sid)[title] == n + 1


def _columns(sheet_id: int, count: int) -> dict[str, object]:
    return {
        "updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {"columnCount": count}},
            "fields": "gridProperties.columnCount",
        }
    }


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)
