"""The console's pure parts (issue 15): people in campaign.yaml, one-time links and sessions on a
MemoryStore, the scope and list filters, the field-by-field diff and the SVG chart geometry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.services.console.accounts import (
    LINK_TTL,
    SignInRefused,
    csrf_ok,
    csrf_token,
    new_link,
    people_problems,
    read_session,
    redeem,
    session_cookie,
    session_person,
    sign_out,
)
from functions.services.console.diff import version_diff
from functions.services.console.overview import UnitFilter, filter_statuses, overview, scoped
from functions.services.status.unit_states import unit_statuses
from functions.web.admin.charts import COUNT_WIDTH, LABEL_WIDTH, WIDTH, bar_chart, layout
from schemas.campaign import Campaign, Person
from schemas.roster import Roster
from tests.helpers.campaigns import customise
from tests.helpers.store import report, submission

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 25, 10, 0, tzinfo=TZ)
SECRET = b"s" * 32
PEOPLE = """
people:
  - {name: 王老师, email: Wang@Example.org, role: organiser}
  - {name: 李协调, email: li@example.org, role: coordinator, areas: [湖塘镇]}
"""


@pytest.fixture
def campaign(wujin_dir: Path) -> tuple[Campaign, Roster]:
    customise(wujin_dir, PEOPLE)
    c = load_campaign(wujin_dir)
    return c, load_roster(wujin_dir, c)[0]


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("people:\n  - {name: 李, email: li@example.org, role: coordinator}\n", "没有填写 areas"),
        (
            "people:\n  - {name: 王, email: w@example.org, role: organiser, areas: [湖塘镇]}\n",
            "不应填写 areas",
        ),
        ("people:\n  - {name: 王, email: not-an-address, role: organiser}\n", "不是有效的邮箱地址"),
        ("people:\n  - {name: 王, email: w@example.org, role: boss}\n", "people"),
        (
            "people:\n  - {name: 王, email: w@example.org, role: organiser}\n"
            "  - {name: 汪, email: W@example.org, role: organiser}\n",
            "重复",
        ),
    ],
)
def test_people_are_checked_with_clear_config_errors(wujin_dir: Path, block: str, words: str) -> None:
    customise(wujin_dir, block)
    with pytest.raises(ConfigError) as err:
        load_campaign(wujin_dir)
    assert words in str(err.value) and "campaign.yaml" in str(err.value)


def test_a_coordinators_area_must_be_on_the_roster(campaign: tuple[Campaign, Roster]) -> None:
    c, roster = campaign
    assert people_problems(c, roster) == []
    bad = c.model_copy(
        update={"people": [Person(name="张", email="z@example.org", role="coordinator", areas=["湖糖镇"])]}
    )
    (problem,) = people_problems(bad, roster)
    assert "湖糖镇" in problem and "湖塘镇" in problem and "所属镇街" in problem


def test_a_link_signs_in_once_until_it_expires(campaign: tuple[Campaign, Roster]) -> None:
    c, _ = campaign
    store = MemoryStore()
    assert new_link(store, c, "stranger@example.org", now=NOW) is None
    assert store.claims("console-link/") == []
    req = new_link(store, c, " WANG@example.org ", now=NOW)
    assert req is not None and req.person.name == "王老师"
    # Only the token's digest is stored: a copy of the store does not sign anyone in.
    assert all(req.token not in str(cl.model_dump()) for cl in store.claims())
    assert (
        redeem(store, c, req.token, now=NOW + LINK_TTL - dt.timedelta(seconds=1)).email == "wang@example.org"
    )
    with pytest.raises(SignInRefused) as again:
        redeem(store, c, req.token, now=NOW)
    assert again.value.reason == "used"

    late = new_link(store, c, "wang@example.org", now=NOW)
    assert late is not None
    with pytest.raises(SignInRefused) as expired:
        redeem(store, c, late.token, now=NOW + LINK_TTL)
    assert expired.value.reason == "expired"
    with pytest.raises(SignInRefused) as forged:
        redeem(store, c, late.token[:-1] + ("A" if late.token[-1] != "A" else "B"), now=NOW)
    assert forged.value.reason == "unknown"


def test_a_session_is_signed_bound_to_the_campaign_and_ends_at_sign_out(
    campaign: tuple[Campaign, Roster],
) -> None:
    c, _ = campaign
    store = MemoryStore()
    person = c.people[1]
    cookie = session_cookie(SECRET, c, person, now=NOW)
    found = session_person(store, SECRET, c, cookie, now=NOW)
    assert found is not None and found[0] == person
    claims = found[1]
    payload, mac = cookie.split(".")
    assert read_session(SECRET, c, payload + "." + mac[:-2] + "AA", now=NOW) is None
    assert read_session(b"t" * 32, c, cookie, now=NOW) is None
    assert read_session(SECRET, c.model_copy(update={"id": "other"}), cookie, now=NOW) is None
    assert read_session(SECRET, c, cookie, now=NOW + dt.timedelta(hours=12)) is None
    assert csrf_ok(SECRET, claims.n, csrf_token(SECRET, claims.n))
    assert not csrf_ok(SECRET, claims.n, csrf_token(SECRET, "another-session-id"))
    # Removed from people: the cookie no longer signs in.
    assert (
        session_person(store, SECRET, c.model_copy(update={"people": c.people[:1]}), cookie, now=NOW) is None
    )
    sign_out(store, claims, now=NOW)
    assert session_person(store, SECRET, c, cookie, now=NOW) is None


def test_scope_and_filters(campaign: tuple[Campaign, Roster]) -> None:
    c, roster = campaign
    store = MemoryStore()
    for unit, errors in (("WJ009", 1), ("WJ010", 0)):
        sub = submission(unit, "plan")
        store.add_version(sub, report(sub, errors=errors), received_at=NOW, late=unit == "WJ010")
    statuses = unit_statuses(c, roster, store)
    mine = scoped(statuses, c.people[1])
    assert {s.unit.area for s in mine} == {"湖塘镇"}
    assert len(scoped(statuses, c.people[0])) == len(statuses)
    plan = next(o for o in overview(c, mine) if o.key == "plan")
    assert set(plan.by_area) == {"湖塘镇"} and plan.total.errors == 1 and plan.total.submitted == 1
    assert plan.total.expected == plan.total.valid + plan.total.errors + plan.total.missing

    def codes(f: UnitFilter) -> set[str]:
        return {s.unit.code for s in filter_statuses(statuses, f)}

    assert codes(UnitFilter(deliverable="plan", has_errors=True)) == {"WJ009"}
    assert codes(UnitFilter(deliverable="plan", late=True)) == {"WJ010"}
    assert codes(UnitFilter(deliverable="plan", state="valid")) == {"WJ010"}
    assert codes(UnitFilter(q="牛塘镇社区")) == {"WJ010"}
    assert codes(UnitFilter(q="wj009")) == {"WJ009"}
    assert "WJ009" not in codes(UnitFilter(area="牛塘镇"))


def test_the_diff_names_table_row_and_field(campaign: tuple[Campaign, Roster]) -> None:
    c, _ = campaign
    store = MemoryStore()
    rows1 = {"activities": [{"name": "读书会", "expected_participants": 30}]}
    rows2 = {"activities": [{"name": "读书会", "expected_participants": 45.0}, {"name": "书法课"}]}
    v1, _ = store.add_version(
        submission("WJ009", tables=rows1), report(submission("WJ009")), received_at=NOW, late=False
    )
    v2, _ = store.add_version(
        submission("WJ009", tables=rows2), report(submission("WJ009")), received_at=NOW, late=False
    )
    changes = version_diff(c, v1, v2)
    assert [(ch.row, ch.before, ch.after, ch.change) for ch in changes] == [
        (1, "30", "45", "changed"),
        (2, "", "书法课", "added"),
    ]
    table = c.form_spec.table("activities")
    assert changes[0].table == table.title("zh")
    assert changes[0].field == next(f.label("zh") for f in table.fields if f.key == "expected_participants")
    assert version_diff(c, v2, v2) == []


def test_chart_bars_share_one_scale_and_escape_labels() -> None:
    rows = [
        ("湖塘镇", [("valid", 6), ("errors", 2), ("missing", 2)]),
        ("<b>", [("valid", 1), ("errors", 0), ("missing", 4)]),
    ]
    placed, height = layout(rows)
    full = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    first, second = placed
    assert [s.x for s in first.segments] == pytest.approx(
        [LABEL_WIDTH, LABEL_WIDTH + full * 0.6, LABEL_WIDTH + full * 0.8]
    )
    assert sum(s.width for s in first.segments) == pytest.approx(full)
    assert sum(s.width for s in second.segments) == pytest.approx(full / 2)
    assert second.y > first.y and height > second.y
    svg = bar_chart("图", rows, legend={"valid": "校验通过"}, suffix={"湖塘镇": "8/10"})
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg and "8/10" in svg
    assert svg.count("<rect") == 5  # the empty segment is not drawn
    assert layout([])[0] == []
