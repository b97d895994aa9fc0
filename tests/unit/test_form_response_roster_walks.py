"""A form response costs the same in a campaign of 10 or 10,000 units (issue 13 §6): identifying the
respondent and the identity rule's contact check look values up in indexes built once per roster, instead
of normalising every unit's name, contact and phone on each response (measured with bench_scale.py's
form_response_cpu_ms: 18 ms at 1,000 units, 110 ms at 10,000 before)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.bootstrap import App, open_app
from functions.services.intake.form_responses import ingest_form_response
from functions.validate import codes
from schemas.roster import Unit
from tests.helpers.campaigns import GOOGLE_YAML, customise
from tests.helpers.forms import NOW, respond


class _CountedUnits(list[Unit]):
    """The roster's units, counting the walks over them."""

    walks = 0

    def __iter__(self) -> Iterator[Unit]:
        type(self).walks += 1
        return super().__iter__()


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(customise(wujin_dir, GOOGLE_YAML))


def _centres(app: App) -> list[Unit]:
    return [u for u in app.roster.units if u.type == "镇（街道）社区教育中心"]


def test_form_responses_do_not_walk_the_roster(app: App, monkeypatch: Any) -> None:
    first, second, third = _centres(app)[:3]
    monkeypatch.setattr(_CountedUnits, "walks", 0)
    app.roster.units = _CountedUnits(app.roster.units)
    # The first response may build the indexes (one walk each); the next ones only look values up.
    # A filler and a phone that are no unit's: the contact check asks about both.
    ingest_form_response(app, respond(app, first.code, "R1", email=first.emails[0]), now=NOW)
    built = _CountedUnits.walks
    for n, unit in enumerate((second, third)):
        result = ingest_form_response(
            app,
            respond(app, unit.code, f"R{n + 2}", email=unit.emails[0], filled_by="王某", phone="13700000000"),
            now=NOW,
        )
        assert result.stored and result.unit == unit.code
    assert _CountedUnits.walks == built, "a form response walked the whole roster"


def test_the_indexes_answer_as_the_roster_walk_did(app: App) -> None:
    """The respondent found by address in any case; another unit's phone still names that unit."""
    first, other = _centres(app)[:2]
    assert app.roster.find_by_email(f"  {first.emails[0].upper()} ") == first
    assert app.roster.find_by_email("nobody@example.org") is None
    result = ingest_form_response(
        app,
        respond(app, first.code, "R9", email=first.emails[0], filled_by="王某", phone=other.phone),
        now=NOW,
    )
    [issue] = [i for i in result.report.errors if i.code == codes.UNIT_NAME_MISMATCH_CONTACT.code]
    assert other.code in issue.message and first.code in issue.message
