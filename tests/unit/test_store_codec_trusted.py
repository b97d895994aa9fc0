"""Issue 13 §4: the stores' trusted readers give back exactly what the validating readers give.

The trusted readers skip pydantic and decode the date tags in json.loads' object hook; the validating
readers (`loads`, `loads_report`, `version_from_json`) are the oracle. Random nested values include the
cases a one-pass hook could get wrong: real dicts whose one key starts with "$" (the {"$dict": ...}
wrapper), such dicts holding a date, strings that spell a tag, and datetimes with offsets.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from functions.adapters.store import codec
from schemas.report import Issue, ValidationReport
from schemas.submission import ParsedSubmission

CST = dt.timezone(dt.timedelta(hours=8))


def _leaf(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            rng.randint(-5, 10**6),
            rng.random() * 1000,
            "活动名称",
            '{"$dict": {"$date": "2022-11-20"}}',  # a string that spells the tags: not a tag
            "$date",
            dt.date(2022, 11, rng.randint(1, 30)),
            dt.datetime(2022, 11, 20, rng.randint(0, 23), 5, tzinfo=CST),
            dt.datetime(2022, 11, 20, 1, 2, 3, 456, tzinfo=dt.UTC),
            dt.datetime(2022, 11, 20, 1, 2),  # naive
        ]
    )


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return _leaf(rng)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.85:
        # One "$"-key: the encoder wraps it in {"$dict": ...}; its value may itself be a date.
        return {rng.choice(["$date", "$datetime", "$dict", "$x"]): _value(rng, depth + 1)}
    return {f"k{i}": _value(rng, depth + 1) for i in range(rng.randint(0, 4))}


def _typed(value: Any) -> Any:
    """The value with every leaf's type beside it, so 1 == 1.0 == True and date == datetime never hide."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value, getattr(value, "tzinfo", None) and value.utcoffset())


@pytest.mark.parametrize("seed", range(40))
def test_loads_trusted_equals_loads_and_the_original(seed: int) -> None:
    rng = random.Random(seed)
    tables = {
        f"t{i}": [{f"f{j}": _value(rng) for j in range(rng.randint(0, 5))} for _ in range(rng.randint(0, 4))]
        for i in range(rng.randint(1, 3))
    }
    text = codec.dumps(tables)
    assert _typed(codec.loads_trusted(text)) == _typed(codec.loads(text)) == _typed(tables)


def test_a_wrapped_dict_holding_a_date_string_stays_a_string() -> None:
    # The case the object hook alone would get wrong: {"$date": "2022-11-20"} is a unit's dict, not a date.
    tables = {"t": [{"f": {"$date": "2022-11-20"}, "g": {"$datetime": "not a date"}}]}
    text = codec.dumps(tables)
    assert '"$dict"' in text
    assert codec.loads_trusted(text) == tables


def _report(rng: random.Random) -> ValidationReport:
    def issue(severity: str) -> Issue:
        return Issue(code="missing-value", severity=severity, sheet="活动安排", cell=f"B{rng.randint(5, 60)}",
                     row=rng.choice([None, 7]), value=rng.choice([None, "9999", "很多"]),
                     message="“活动名称”为必填项，请填写。")  # fmt: skip

    errors = [issue("error") for _ in range(rng.randint(0, 3))]
    return ValidationReport(
        file="inbox/a.xlsx", unit=rng.choice([None, "U001"]), unit_name=rng.choice([None, "湖塘实验小学"]),
        deliverable="plan", valid=not errors, errors=errors, warnings=[issue("warning") for _ in range(2)],
        checked_at=rng.choice([None, dt.datetime(2022, 11, 23, 10, tzinfo=CST), dt.datetime(2022, 11, 23, tzinfo=dt.UTC)]),
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(20))
def test_trusted_reports_and_versions_equal_validated_ones(seed: int) -> None:
    rng = random.Random(seed)
    report = _report(rng)
    text = codec.dumps_report(report)
    trusted = codec.loads_report_trusted(text)
    assert trusted == codec.loads_report(text) == report
    assert trusted.model_dump_json() == text
    assert all(isinstance(i, Issue) for i in trusted.errors + trusted.warnings)

    tables = {
        "activities": [
            {
                "name": "讲座",
                "start_date": dt.date(2022, 11, 20),
                "n": rng.choice([None, 3, 2.5, "很多", ["社区居民", "老年人"]]),
            }
        ]
    }
    sub = ParsedSubmission(
        unit="U001", deliverable="plan", source="inbox/a.xlsx", source_kind="file", tables=tables
    )
    version = codec.build_version(sub, report, seq=rng.randint(1, 9), content_hash="h" * 64,
                                  received_at=dt.datetime(2022, 11, 20, 9, tzinfo=CST), late=rng.random() < 0.5)  # fmt: skip
    text = codec.version_to_json(version)
    trusted_version = codec.version_from_json_trusted(text)
    assert trusted_version == codec.version_from_json(text) == version
    assert _typed(trusted_version.tables) == _typed(version.tables)
    # The computed properties the statuses use work on the constructed model.
    assert (trusted_version.state, trusted_version.error_count) == (version.state, version.error_count)


def test_trusted_versions_copy_and_assign_like_validated_ones() -> None:
    rng = random.Random(99)
    sub = ParsedSubmission(unit="U001", deliverable="plan", source="a.xlsx", source_kind="file", tables={})
    made = codec.build_version(sub, _report(rng), seq=1, content_hash="h", received_at=dt.datetime(2022, 11, 20), late=False)  # fmt: skip
    text = codec.version_to_json(made)
    first, second = codec.version_from_json_trusted(text), codec.version_from_json_trusted(text)
    copied = first.model_copy(update={"tables": {"x": []}})
    first.late = True  # assignment on one constructed version leaves the others as they were
    assert (copied.tables, first.tables, second.tables) == ({"x": []}, {}, {})
    assert (first.late, second.late, copied.late) == (True, False, False)
    assert first.model_dump(exclude_unset=True).keys() == made.model_dump(exclude_unset=True).keys()
