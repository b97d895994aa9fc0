"""The behaviour every Store must have, as one reusable suite.

Use it by subclassing `StoreContract` in a test module that provides a `store_factory` fixture: a
callable returning a new handle on ONE shared backing store per test (a new SqliteStore on the same file,
a new S3Store on the same bucket and prefix; the memory store returns itself). The suite gets its
`store` from that factory and uses further handles to check that writes are seen, and races are won
once, across handles. tests/contract/test_store_contract.py runs it for every implementation: adding a store
means adding one param there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from functions.ports import PeerIndex, Store
from schemas.report import Issue
from schemas.submission import CellValue, TableData, version_id
from tests.helpers.store import CST, T0, add, attachment_ref, report, run_together, submission

StoreFactory = Callable[[], Store]


class StoreContract:
    """Subclass in a module that defines a `store_factory` fixture."""

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> Store:
        return store_factory()

    # -- add_version ------------------------------------------------------------------------------

    def test_first_version_is_seq_1_with_every_field(self, store: Store) -> None:
        sub = submission(source="inbox/第一中学.xlsx")
        rep = report(sub, errors=1, warnings=2)
        at = T0 + dt.timedelta(hours=1)

        version, created = store.add_version(sub, rep, received_at=at, late=True)

        assert created is True
        assert version.seq == 1
        assert version.content_hash == sub.content_hash()
        assert version.id == version_id("U001", "plan", 1, sub.content_hash())
        assert (version.unit, version.deliverable) == ("U001", "plan")
        assert (version.source_kind, version.source, version.status) == (
            "file",
            "inbox/第一中学.xlsx",
            "submitted",
        )
        assert version.tables == sub.tables
        assert version.report == rep
        assert version.received_at == at
        assert version.late is True
        assert store.latest("U001", "plan") == version

    def test_same_content_is_not_stored_again(self, store: Store) -> None:
        first, _ = add(store, submission(n=1, source="a.xlsx"))

        again = submission(n=1, source="renamed.xlsx")
        version, created = store.add_version(
            again, report(again, errors=3), received_at=T0 + dt.timedelta(days=1), late=True
        )

        assert created is False
        assert version == first
        assert store.history("U001", "plan") == [first]

    def test_changed_content_is_the_next_seq(self, store: Store) -> None:
        v1, _ = add(store, submission(n=1))
        v2, created = add(store, submission(n=2), minutes=5)

        assert created is True
        assert (v1.seq, v2.seq) == (1, 2)
        assert v2.id == version_id("U001", "plan", 2, submission(n=2).content_hash())
        assert v1.id != v2.id
        assert store.latest("U001", "plan") == v2

    def test_a_then_b_then_a_again_makes_three_versions(self, store: Store) -> None:
        a1, _ = add(store, submission(n=1))
        b, _ = add(store, submission(n=2), minutes=1)
        a2, created = add(store, submission(n=1), minutes=2)

        assert created is True
        assert [a1.seq, b.seq, a2.seq] == [1, 2, 3]
        assert a2.content_hash == a1.content_hash
        assert a2.id != a1.id  # the seq is part of the id
        assert store.latest("U001", "plan") == a2
        assert store.history("U001", "plan") == [a1, b, a2]

    def test_unchanged_is_judged_against_the_latest_of_any_status(self, store: Store) -> None:
        submitted, _ = add(store, submission(n=1))
        draft, created_draft = add(store, submission(n=2, status="draft"), minutes=1)
        same_draft, created_again = add(store, submission(n=2, status="draft"), minutes=2)
        # The latest submitted content equals this, but the latest of all is the draft: a new version.
        resubmitted, created_resubmitted = add(store, submission(n=1), minutes=3)

        assert created_draft and not created_again and created_resubmitted
        assert same_draft == draft
        assert [submitted.seq, draft.seq, resubmitted.seq] == [1, 2, 3]

    def test_status_is_part_of_the_content(self, store: Store) -> None:
        draft, _ = add(store, submission(n=1, status="draft"))
        final, created = add(store, submission(n=1, status="submitted"), minutes=1)

        assert created is True
        assert (draft.status, final.status) == ("draft", "submitted")
        assert final.seq == 2

    def test_units_and_deliverables_have_their_own_seqs(self, store: Store) -> None:
        add(store, submission("U001", "plan", n=1))
        add(store, submission("U001", "plan", n=2))
        other_deliverable, _ = add(store, submission("U001", "summary", n=1))
        other_unit, created = add(store, submission("U002", "plan", n=1))

        assert created is True
        assert other_deliverable.seq == 1
        assert other_unit.seq == 1
        assert [v.seq for v in store.history("U001", "plan")] == [1, 2]

    # -- reading ----------------------------------------------------------------------------------

    def test_nothing_stored_reads_as_none_and_empty(self, store: Store) -> None:
        assert store.latest("U404", "plan") is None
        assert store.latest("U404", "plan", status="submitted") is None
        assert store.history("U404", "plan") == []
        assert store.latest_versions() == []
        assert store.latest_versions(status="draft") == []

    def test_latest_by_status(self, store: Store) -> None:
        s1, _ = add(store, submission(n=1))
        s2, _ = add(store, submission(n=2))
        d3, _ = add(store, submission(n=3, status="draft"))

        assert store.latest("U001", "plan") == d3
        assert store.latest("U001", "plan", status="draft") == d3
        assert store.latest("U001", "plan", status="submitted") == s2
        assert s1.seq < s2.seq
        assert store.latest("U002", "plan", status="submitted") is None

    def test_latest_of_a_status_that_never_occurred_is_none(self, store: Store) -> None:
        add(store, submission(n=1))
        assert store.latest("U001", "plan", status="draft") is None

    def test_history_is_oldest_first_and_per_unit_deliverable(self, store: Store) -> None:
        expected = []
        for n in range(1, 6):
            expected.append(add(store, submission("U001", "plan", n=n), minutes=n)[0])
            add(store, submission("U002", "plan", n=n), minutes=n)
        add(store, submission("U001", "summary", n=99))

        history = store.history("U001", "plan")

        assert history == expected
        assert [v.seq for v in history] == [1, 2, 3, 4, 5]

    def test_latest_versions_is_ordered_by_unit_then_deliverable(self, store: Store) -> None:
        # Inserted out of order, including a non-ASCII unit id, which sorts after ASCII by code point.
        for unit, deliverable in [
            ("U010", "summary"),
            ("学校", "plan"),
            ("U002", "summary"),
            ("U010", "plan"),
        ]:
            add(store, submission(unit, deliverable, n=1))
            add(store, submission(unit, deliverable, n=2))
        add(store, submission("U002", "plan", n=1))

        latest = store.latest_versions()

        assert [(v.unit, v.deliverable) for v in latest] == [
            ("U002", "plan"),
            ("U002", "summary"),
            ("U010", "plan"),
            ("U010", "summary"),
            ("学校", "plan"),
        ]
        assert [v.seq for v in latest] == [1, 2, 2, 2, 2]
        assert list(store.iter_latest_versions()) == latest
        assert [v.unit for v in store.iter_latest_versions(status="draft")] == []

    def test_latest_versions_of_a_status_is_the_latest_among_that_status(self, store: Store) -> None:
        u1_submitted, _ = add(store, submission("U001", n=1))
        u1_draft, _ = add(store, submission("U001", n=2, status="draft"))
        u2_draft, _ = add(store, submission("U002", n=1, status="draft"))
        add(store, submission("U003", n=1))
        u3_submitted, _ = add(store, submission("U003", n=2))

        assert store.latest_versions() == [u1_draft, u2_draft, u3_submitted]
        assert store.latest_versions(status="submitted") == [u1_submitted, u3_submitted]
        assert store.latest_versions(status="draft") == [u1_draft, u2_draft]

    def test_latest_versions_over_many_units(self, store: Store) -> None:
        expected = {}
        for round_ in range(1, 4):
            for u in range(40):
                unit = f"U{u:03d}"
                for deliverable in ("plan", "summary"):
                    if (u + round_) % 3 or round_ == 1:
                        sub = submission(unit, deliverable, n=round_)
                        expected[(unit, deliverable)] = add(store, sub, minutes=round_)[0]

        latest = store.latest_versions()

        assert latest == [expected[k] for k in sorted(expected)]
        assert store.latest_versions(status="submitted") == latest

    def test_another_handle_sees_the_writes(self, store: Store, store_factory: StoreFactory) -> None:
        version, _ = add(store, submission(n=1))

        other = store_factory()

        assert other.latest("U001", "plan") == version
        assert other.add_version(submission(n=1), report(submission(n=1)), received_at=T0, late=False) == (
            version,
            False,
        )
        assert (
            other.add_version(submission(n=2), report(submission(n=2)), received_at=T0, late=False)[0].seq
            == 2
        )
        assert [v.seq for v in store.history("U001", "plan")] == [1, 2]

    # -- fidelity ---------------------------------------------------------------------------------

    def test_every_value_type_survives_the_round_trip(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        record: dict[str, CellValue] = {
            "name": "社区读书会",
            "held_on": dt.date(2022, 12, 3),
            "looks_like_a_date": "2022-12-03",
            "sessions": 12,
            "ratio": 0.25,
            "whole_float": 3.0,
            "audiences": ["老年人", "青少年"],
            "no_audience": [],
            "note": None,
            "empty": "",
        }
        tables: TableData = {
            "activities": [record, {"name": "讲座", "held_on": dt.date(2023, 1, 1), "sessions": 0}],
            "statistics": [{"total_sessions": 10_000_000_000, "total_participants": 1}],
            "tagged": [{"$date": "not a date", "$dict": 1}],
            "tag_lookalike": [{"$date": "2022-01-01"}],
            "no_rows": [],
        }
        sub = submission(tables=tables, source="https://docs.google.com/spreadsheets/d/abc")
        sub = sub.model_copy(update={"source_kind": "sheet"})
        rep = report(sub, errors=2, warnings=1)
        received = dt.datetime(2022, 12, 3, 23, 59, 58, 123456, tzinfo=CST)

        created, _ = store.add_version(sub, rep, received_at=received, late=False)
        readers = [store, store_factory()]
        for reader in readers:
            for back in (
                reader.latest("U001", "plan"),
                reader.latest("U001", "plan", status="submitted"),
                reader.history("U001", "plan")[0],
                reader.latest_versions()[0],
                reader.latest_versions(status="submitted")[0],
            ):
                assert back == created
                assert back is not None
                row = back.tables["activities"][0]
                assert type(row["held_on"]) is dt.date and row["held_on"] == dt.date(2022, 12, 3)
                assert type(row["looks_like_a_date"]) is str
                assert type(row["sessions"]) is int
                assert type(row["whole_float"]) is float
                assert row["audiences"] == ["老年人", "青少年"]
                assert row["note"] is None
                assert back.tables["tagged"] == [{"$date": "not a date", "$dict": 1}]
                assert back.tables["tag_lookalike"] == [{"$date": "2022-01-01"}]
                assert type(back.tables["tag_lookalike"][0]["$date"]) is str
                assert back.tables["no_rows"] == []
                assert back.source_kind == "sheet"
                assert back.received_at.utcoffset() == dt.timedelta(hours=8)
                assert back.received_at == received
                assert back.report == rep
                assert back.report.checked_at is not None
                assert back.report.checked_at.utcoffset() == dt.timedelta(hours=8)

    def test_utc_and_other_offsets_are_kept(self, store: Store) -> None:
        utc = dt.datetime(2022, 12, 1, 1, 2, 3, tzinfo=dt.UTC)
        minus = dt.datetime(2022, 12, 1, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30)))
        add_utc, _ = store.add_version(submission(n=1), report(submission(n=1)), received_at=utc, late=False)
        add_minus, _ = store.add_version(
            submission(n=2), report(submission(n=2)), received_at=minus, late=False
        )

        first, second = store.history("U001", "plan")

        assert first.received_at.utcoffset() == dt.timedelta(0)
        assert second.received_at.utcoffset() == dt.timedelta(hours=-5, minutes=-30)
        assert [first, second] == [add_utc, add_minus]

    def test_changing_what_was_returned_or_passed_in_does_not_change_the_store(self, store: Store) -> None:
        original: TableData = {"activities": [{"name": "活动 1", "audiences": ["老年人"]}]}
        sub = submission(tables={"activities": [{"name": "活动 1", "audiences": ["老年人"]}]})
        rep = report(sub)
        version, _ = store.add_version(sub, rep, received_at=T0, late=False)

        sub.tables["activities"][0]["name"] = "changed by caller"
        audiences = sub.tables["activities"][0]["audiences"]
        assert isinstance(audiences, list)
        audiences.append("青少年")
        rep.errors.append(Issue(code="late", severity="error", message="x"))
        handed_out = [
            version,
            store.add_version(submission(tables=original), report(sub), received_at=T0, late=False)[0],
            store.latest("U001", "plan"),
            store.latest("U001", "plan", status="submitted"),
            *store.history("U001", "plan"),
            *store.latest_versions(),
            *store.latest_versions(status="submitted"),
        ]
        for returned in handed_out:
            assert returned is not None
            returned.tables["activities"].append({"name": "added to a returned copy"})
            returned.report.warnings.append(Issue(code="late", severity="warning", message="x"))

        for stored in (
            store.latest("U001", "plan"),
            *store.history("U001", "plan"),
            *store.latest_versions(),
        ):
            assert stored is not None
            assert stored.tables == original
            assert stored.report.errors == [] and stored.report.warnings == []

    # -- concurrency ------------------------------------------------------------------------------

    def test_racing_writers_of_different_content_get_consecutive_seqs(self, store: Store) -> None:
        threads, per_thread = 8, 10

        def work(t: int) -> list[tuple[int, bool]]:
            results = []
            for i in range(per_thread):
                version, created = add(store, submission(n=1000 * t + i))
                results.append((version.seq, created))
            return results

        results = [r for rs in run_together(threads, work) for r in rs]

        total = threads * per_thread
        assert all(created for _, created in results)
        assert sorted(seq for seq, _ in results) == list(range(1, total + 1))
        history = store.history("U001", "plan")
        assert [v.seq for v in history] == list(range(1, total + 1))
        expected_hashes = {
            submission(n=1000 * t + i).content_hash() for t in range(threads) for i in range(per_thread)
        }
        assert {v.content_hash for v in history} == expected_hashes
        assert len({v.id for v in history}) == total

    def test_racing_writers_across_units_and_deliverables(self, store: Store) -> None:
        threads, per_thread = 8, 10
        targets = [("U001", "plan"), ("U001", "summary"), ("U002", "plan")]

        def work(t: int) -> None:
            for i in range(per_thread):
                unit, deliverable = targets[(t + i) % len(targets)]
                add(store, submission(unit, deliverable, n=1000 * t + i))

        run_together(threads, work)

        for k, (unit, deliverable) in enumerate(targets):
            sent = {
                submission(unit, deliverable, n=1000 * t + i).content_hash()
                for t in range(threads)
                for i in range(per_thread)
                if (t + i) % len(targets) == k
            }
            history = store.history(unit, deliverable)
            assert [v.seq for v in history] == list(range(1, len(sent) + 1))
            assert {v.content_hash for v in history} == sent
        assert [(v.unit, v.deliverable) for v in store.latest_versions()] == sorted(targets)

    def test_racing_writers_of_the_same_content_make_one_version(self, store: Store) -> None:
        results = run_together(8, lambda _: add(store, submission(n=7)))

        assert sum(created for _, created in results) == 1
        assert {v.id for v, _ in results} == {version_id("U001", "plan", 1, submission(n=7).content_hash())}
        assert len(store.history("U001", "plan")) == 1

    def test_racing_writers_on_separate_handles(self, store_factory: StoreFactory) -> None:
        handles = [store_factory() for _ in range(4)]

        def work(t: int) -> list[bool]:
            return [add(handles[t], submission(n=100 * t + i))[1] for i in range(5)]

        assert all(all(created) for created in run_together(len(handles), work))

        history = handles[0].history("U001", "plan")
        assert [v.seq for v in history] == list(range(1, 21))
        assert len({v.content_hash for v in history}) == 20

    # -- claims -----------------------------------------------------------------------------------

    def test_a_claim_is_won_once(self, store: Store) -> None:
        assert store.claim("remind/U001/plan/1", {"address": "a@example.org"}, at=T0) is True
        assert (
            store.claim("remind/U001/plan/1", {"address": "b@example.org"}, at=T0 + dt.timedelta(1)) is False
        )

        (claim,) = store.claims()
        assert claim.key == "remind/U001/plan/1"
        assert claim.payload == {"address": "a@example.org"}
        assert claim.claimed_at == T0
        assert claim.claimed_at.utcoffset() == dt.timedelta(hours=8)

    def test_a_claims_payload_reads_back_as_it_was_given(self, store: Store) -> None:
        # Claims are read without re-validation: dates and nested values must still come back as such.
        payload = {
            "due": dt.date(2022, 11, 20),
            "sent_at": T0,
            "to": ["a@example.org", "b@example.org"],
            "nested": {"$odd": 1, "n": 2.5, "none": None},
        }
        store.claim("remind/U001/plan/2", payload, at=T0)

        (claim,) = store.claims("remind/")
        assert claim.payload == payload
        assert type(claim.payload["due"]) is dt.date and claim.payload["sent_at"].utcoffset() is not None
        assert type(claim).model_validate(claim.model_dump()) == claim

    def test_update_claim_replaces_the_payload(self, store: Store) -> None:
        store.claim("digest/2022-11-20", {"result": "sending", "tries": 1}, at=T0)

        store.update_claim("digest/2022-11-20", {"result": "sent"})

        (claim,) = store.claims("digest/")
        assert claim.payload == {"result": "sent"}
        assert claim.claimed_at == T0

    def test_update_of_an_unknown_claim_is_a_key_error(self, store: Store) -> None:
        with pytest.raises(KeyError):
            store.update_claim("remind/none", {"result": "sent"})
        assert store.claims() == []

    def test_release_lets_a_later_run_claim_again(self, store: Store) -> None:
        store.claim("remind/U001/plan/1", {"try": 1}, at=T0)

        store.release("remind/U001/plan/1")
        assert store.claims() == []
        assert store.claim("remind/U001/plan/1", {"try": 2}, at=T0 + dt.timedelta(hours=1)) is True

        (claim,) = store.claims()
        assert claim.payload == {"try": 2}
        assert claim.claimed_at == T0 + dt.timedelta(hours=1)

    def test_releasing_an_absent_claim_is_fine(self, store: Store) -> None:
        store.claim("keep", {}, at=T0)
        store.release("never-claimed")
        assert [c.key for c in store.claims()] == ["keep"]

    def test_claims_filter_by_literal_prefix(self, store: Store) -> None:
        for key in [
            "remind/U001",
            "remind/U002",
            "remind-x/U001",
            "Remind/U003",
            "digest/1",
            "rem",
            "a%b/1",
            "axb/1",
            "a_b/1",
            "提醒/1",
            "提醒x",
            "remind/",
        ]:
            store.claim(key, {"key": key}, at=T0)

        assert [c.key for c in store.claims("remind/")] == ["remind/", "remind/U001", "remind/U002"]
        assert [c.key for c in store.claims("a%b/")] == ["a%b/1"]
        assert [c.key for c in store.claims("a_b/")] == ["a_b/1"]
        assert [c.key for c in store.claims("提醒/")] == ["提醒/1"]
        assert [c.key for c in store.claims("nothing/")] == []
        assert len(store.claims()) == len(store.claims("")) == 12
        assert all(c.payload == {"key": c.key} for c in store.claims())

    def test_claims_are_ordered_by_time_then_key(self, store: Store) -> None:
        utc = dt.UTC
        # 10:00+08:00 is 02:00 UTC: before 03:00 UTC although its wall-clock reads later.
        store.claim("k/c", {}, at=dt.datetime(2022, 11, 20, 10, 0, tzinfo=CST))
        store.claim("k/b", {}, at=dt.datetime(2022, 11, 20, 3, 0, tzinfo=utc))
        store.claim("k/a", {}, at=dt.datetime(2022, 11, 20, 3, 0, tzinfo=utc))
        store.claim("k/0", {}, at=dt.datetime(2022, 11, 21, 0, 0, tzinfo=utc))

        assert [c.key for c in store.claims("k/")] == ["k/c", "k/a", "k/b", "k/0"]

    def test_claim_payload_fidelity(self, store: Store, store_factory: StoreFactory) -> None:
        payload: dict[str, Any] = {
            "result": "sent",
            "to": ["张老师 <zhang@example.org>", "li@example.org"],
            "count": 3,
            "ratio": 0.5,
            "ok": True,
            "nothing": None,
            "nested": {"due": dt.date(2022, 12, 1), "at": dt.datetime(2022, 12, 1, 8, 0, tzinfo=CST)},
        }
        store.claim("remind/U001", payload, at=T0)

        for reader in (store, store_factory()):
            (claim,) = reader.claims("remind/")
            assert claim.payload == payload
            assert type(claim.payload["count"]) is int
            assert type(claim.payload["nested"]["due"]) is dt.date
            assert claim.payload["nested"]["at"].utcoffset() == dt.timedelta(hours=8)

    def test_claims_handed_out_or_passed_in_are_not_shared(self, store: Store) -> None:
        payload: dict[str, Any] = {"to": ["a@example.org"]}
        store.claim("remind/U001", payload, at=T0)
        payload["to"].append("changed@example.org")
        store.claims()[0].payload["to"].append("changed@example.org")
        assert store.claims()[0].payload == {"to": ["a@example.org"]}
        update: dict[str, Any] = {"result": ["sent"]}
        store.update_claim("remind/U001", update)
        update["result"].append("changed")

        assert store.claims()[0].payload == {"result": ["sent"]}

    def test_a_payload_that_is_not_json_is_refused_before_claiming(self, store: Store) -> None:
        with pytest.raises(TypeError):
            store.claim("remind/U001", {"to": {"a@example.org"}}, at=T0)
        assert store.claims() == []
        assert store.claim("remind/U001", {}, at=T0) is True

    def test_racing_claims_have_one_winner(self, store: Store) -> None:
        wins = run_together(20, lambda i: store.claim("digest/today", {"by": i}, at=T0))

        assert wins.count(True) == 1
        (claim,) = store.claims("digest/")
        assert claim.payload == {"by": wins.index(True)}

    def test_many_racing_claims_each_have_one_winner(self, store: Store) -> None:
        keys = [f"remind/U{k:03d}" for k in range(30)]
        results = run_together(20, lambda i: [store.claim(key, {"by": i}, at=T0) for key in keys])

        for k, key in enumerate(keys):
            winners = [i for i, won in enumerate(results) if won[k]]
            assert len(winners) == 1, key
            assert store.claims(key)[0].payload == {"by": winners[0]}

    def test_racing_claims_on_separate_handles_have_one_winner(self, store_factory: StoreFactory) -> None:
        handles = [store_factory() for _ in range(5)]

        def work(i: int) -> list[bool]:
            return [handles[i].claim(f"remind/{k}", {"by": i}, at=T0) for k in range(10)]

        results = run_together(len(handles), work)

        for k in range(10):
            assert [r[k] for r in results].count(True) == 1
        assert len(handles[0].claims("remind/")) == 10

    # -- meta -------------------------------------------------------------------------------------

    def test_meta_get_set_and_overwrite(self, store: Store, store_factory: StoreFactory) -> None:
        assert store.get_meta("cursor/inbox") is None

        store.set_meta("cursor/inbox", "2022-11-20T09:30:00+08:00")
        store.set_meta("registry/sheets", '{"U001": "表格"}')
        store.set_meta("empty", "")
        store.set_meta("cursor/inbox", "2022-11-21T00:00:00+08:00")

        for reader in (store, store_factory()):
            assert reader.get_meta("cursor/inbox") == "2022-11-21T00:00:00+08:00"
            assert reader.get_meta("registry/sheets") == '{"U001": "表格"}'
            assert reader.get_meta("empty") == ""
            assert reader.get_meta("missing") is None

    def test_meta_and_claims_are_separate(self, store: Store) -> None:
        store.set_meta("remind/U001", "x")
        assert store.claims() == []
        assert store.claim("remind/U001", {}, at=T0) is True
        store.release("remind/U001")
        assert store.get_meta("remind/U001") == "x"

    # -- review records (issue 15, the review loop): append-only claims, numbered per unit and deliverable --

    def test_review_records_are_appended_in_order_and_read_back_by_another_handle(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        from functions.services.review.records import ReviewRecord, all_records, append_record

        def record(action: str, comment: str) -> ReviewRecord:
            return ReviewRecord.model_validate({
                "n": 1, "action": action, "unit": "U001", "deliverable": "plan", "version_id": "v1", "seq": 1,
                "by": "王老师", "at": T0, "comment": comment,
            })  # fmt: skip

        first = append_record(store, record("return", "请补充活动地点"))
        second = append_record(store_factory(), record("reopen", ""))
        append_record(store, record("approve", "好").model_copy(update={"deliverable": "summary"}))

        assert (first.n, second.n) == (1, 2)
        for reader in (store, store_factory()):
            got = all_records(reader)
            assert [(r.n, r.action, r.comment) for r in got[("U001", "plan")]] == [
                (1, "return", "请补充活动地点"), (2, "reopen", "")
            ]  # fmt: skip
            assert got[("U001", "plan")][0].at == T0 and got[("U001", "plan")][0].by == "王老师"
            assert [r.action for r in got[("U001", "summary")]] == ["approve"]

    def test_racing_review_actions_each_get_their_own_number(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        from functions.services.review.records import ReviewRecord, all_records, append_record

        handles = [store_factory() for _ in range(4)]

        def work(i: int) -> int:
            r = ReviewRecord(n=1, action="waive", unit="U001", deliverable="plan", version_id="v1", seq=1,
                             by=f"reviewer{i}", at=T0, code="required-missing", cell=f"B{i}")  # fmt: skip
            return append_record(handles[i], r).n

        numbers = run_together(len(handles), work)

        assert sorted(numbers) == [1, 2, 3, 4]
        assert sorted(r.by for r in all_records(store)[("U001", "plan")]) == [
            f"reviewer{i}" for i in range(4)
        ]

    # -- peer statistics (issue 13 §1) --------------------------------------------------------------

    def test_submitted_versions_keep_one_peer_entry_per_unit_the_latest(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        assert store.peer_group("plan") == {}
        add(store, submission("U001", n=10))
        add(store, submission("U002", n=20))
        add(store, submission("U001", n=30), minutes=1)  # replaces U001's figures
        add(store, submission("U002", n=99, status="draft"), minutes=2)  # a draft counts for nothing
        add(store, submission("U003", "summary", n=5))
        for reader in (store, store_factory()):
            plan = reader.peer_group("plan")
            assert {u: e["per_activity"] for u, e in plan.items()} == {"U001": [30.0], "U002": [20.0]}
            assert plan["U001"]["planned"] == 1
            assert set(reader.peer_group("summary")) == {"U003"}
            assert reader.peer_group("report") == {}

    def test_an_older_peer_entry_never_replaces_a_newer_one(self, store: Store) -> None:
        store.put_peer_entry("plan", "U001", 3, {"n": 3})
        store.put_peer_entry("plan", "U001", 2, {"n": 2})  # a slow writer of an earlier version
        assert store.peer_group("plan") == {"U001": {"n": 3}}
        store.put_peer_entry("plan", "U001", 4, {"n": 4})
        assert store.peer_group("plan") == {"U001": {"n": 4}}

    def test_racing_peer_updates_on_separate_handles_lose_nothing(self, store_factory: StoreFactory) -> None:
        handles = [store_factory() for _ in range(6)]

        def work(t: int) -> None:
            for i in range(4):
                handles[t].put_peer_entry("plan", f"U{t}", i + 1, {"t": t, "i": i})

        run_together(6, work)
        assert store_factory().peer_group("plan") == {f"U{t}": {"t": t, "i": 3} for t in range(6)}

    # -- peer index: medians per unit type kept by the store (issue 13 §1; task s3peers) -------------

    def test_the_peer_index_answers_medians_by_the_roster_types_and_follows_its_edits(
        self, store: Store, store_factory: StoreFactory
    ) -> None:
        assert isinstance(store, PeerIndex)  # every store keeps one: SQLite's ordered index, S3's shards
        for i, n in enumerate([10, 20, 30, 40, 50]):
            add(store, submission(f"U{i}", n=n))
        add(store, submission("U0", n=12), minutes=1)  # replaces U0's figures
        add(store, submission("U4", n=99, status="draft"), minutes=1)  # a draft counts for nothing
        store.peer_index_sync("roster-a", {"U0": "甲", "U1": "甲", "U2": "甲", "U3": "乙", "U4": "乙"})
        # U1 is checked against U0 and U2 (its own figures are never its peer).
        assert store.peer_index_median(["plan"], "activity", "U1", "甲", 2) == (21.0, 2, "甲")
        assert store.peer_index_median(["plan"], "activity", "U3", "乙", 2) == (25.0, 4, None)  # 1 peer: all
        assert store.peer_index_median(["plan"], "activity", "U3", "乙", 5) is None
        assert store.peer_entries_of("U0", ["plan", "summary"])["plan"]["per_activity"] == [12.0]
        # The organiser moves U2 to 乙: the index follows on the next sync, seen by every handle.
        store.peer_index_sync("roster-b", {"U0": "甲", "U1": "甲", "U2": "乙", "U3": "乙", "U4": "乙"})
        other = store_factory()
        assert isinstance(other, PeerIndex)
        other.peer_index_sync("roster-b", {"U0": "甲", "U1": "甲", "U2": "乙", "U3": "乙", "U4": "乙"})
        assert other.peer_index_built_for("roster-b") and not other.peer_index_built_for("roster-a")
        assert other.peer_index_median(["plan"], "activity", "U3", "乙", 1) == (40.0, 2, "乙")
        assert other.peer_index_median(["plan"], "activity", "U9", "乙", 1) == (40.0, 3, "乙")
        assert other.peer_index_median(["plan"], "activity", "U9", "甲", 2) == (16.0, 2, "甲")
        add(other, submission("U3", n=1000), minutes=2)  # a later version moves U3's value
        assert store.peer_index_median(["plan"], "activity", "U9", "乙", 1) == (50.0, 3, "乙")

    def test_racing_submissions_on_separate_handles_keep_the_peer_index_exact(
        self, store_factory: StoreFactory
    ) -> None:
        types = {f"U{t}": "甲" if t % 2 else "乙" for t in range(6)}
        first = store_factory()
        assert isinstance(first, PeerIndex)
        add(first, submission("U0", n=1))
        first.peer_index_sync("r", types)  # built before the race: submissions then update it in place
        handles = [store_factory() for _ in range(6)]

        def work(t: int) -> None:
            # Two threads per unit for U0…U2 (their versions race for seqs and for the unit's entry),
            # one for each of U3…U5.
            unit = f"U{t % 3}" if t < 3 else f"U{t}"
            for i in range(3):
                add(handles[t], submission(unit, n=100 * t + i), minutes=i)

        run_together(6, work)
        reader = store_factory()
        assert isinstance(reader, PeerIndex)
        reader.peer_index_sync("r", types)
        latest = {
            v.unit: v.tables["activities"][0]["expected_participants"] for v in reader.latest_versions()
        }
        assert set(latest) == set(types)
        for unit_type in ("甲", "乙"):
            values = sorted(float(n) for u, n in latest.items() if types[u] == unit_type)
            assert len(values) == 3
            middle = values[1]
            # Nobody's own figures excluded (U9 is not in the roster): the median of the type's three.
            assert reader.peer_index_median(["plan"], "activity", "U9", unit_type, 3) == (
                middle,
                3,
                unit_type,
            )

    # -- summaries (issue 13 §2) --------------------------------------------------------------------

    def test_summaries_are_the_latest_versions_without_their_rows(self, store: Store) -> None:
        many: TableData = {
            "activities": [{"name": f"活动{i}", "expected_participants": i} for i in range(5)],
            "statistics": [{"total_sessions": 3, "total_participants": 90}],
            "plan_materials": [],
        }
        add(store, submission("U001", tables=many))
        add(store, submission("U002", n=7))  # one activity row: small, kept
        add(store, submission("U003", n=1, status="draft"))
        full = store.latest_versions()
        summaries = list(store.iter_latest_summaries())
        assert [(v.id, v.report, v.late, v.received_at) for v in summaries] == [
            (v.id, v.report, v.late, v.received_at) for v in full
        ]
        assert summaries[0].tables == {
            "statistics": [{"total_sessions": 3, "total_participants": 90}],
            "plan_materials": [],
        }
        assert summaries[1].tables == full[1].tables
        assert [v.unit for v in store.iter_latest_summaries("draft")] == ["U003"]

    # -- evidence files (issue 12 §4) ---------------------------------------------------------------

    def test_blobs_are_kept_by_content_and_seen_by_every_handle(self, store_factory: StoreFactory) -> None:
        store = store_factory()
        data = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
        sha = hashlib.sha256(data).hexdigest()
        assert store.get_blob(sha) is None
        store.put_blob(sha, data)
        store.put_blob(sha, data)  # the same content again changes nothing
        assert store_factory().get_blob(sha) == data
        assert store.get_blob("0" * 64) is None

    def test_a_blob_must_match_its_digest(self, store: Store) -> None:
        with pytest.raises(ValueError):
            store.put_blob(hashlib.sha256(b"one").hexdigest(), b"another")
        with pytest.raises(ValueError):
            store.put_blob("../../etc/passwd", b"x")  # a key is a digest, never a path
        assert store.get_blob(hashlib.sha256(b"one").hexdigest()) is None

    def test_attachments_are_kept_with_the_version_they_came_with(self, store_factory: StoreFactory) -> None:
        store = store_factory()
        taken = dt.datetime(2022, 12, 3, 10, 15, 0)
        refs = [
            attachment_ref("photos", b"photo one", kind="jpg", name="开幕式.jpg", taken=taken),
            attachment_ref("plan_doc", b"the plan", kind="docx", name="工作方案.docx"),
        ]
        plain, _ = add(store, submission("U001", "summary", n=1))
        with_files, created = add(store, submission("U001", "summary", n=1, attachments=refs))

        assert created is True and with_files.seq == 2  # the same tables with files is news
        other = store_factory()
        assert other.attachments(with_files.id) == refs
        assert other.attachments(plain.id) == []
        assert other.attachments("no-such-version") == []
        again, created_again = add(store, submission("U001", "summary", n=1, attachments=refs))
        assert (created_again, again.id) == (False, with_files.id)
        assert store.units_with_blob(refs[0].sha256) == {"U001"}

    def test_units_with_blob_names_every_unit_that_sent_it(self, store_factory: StoreFactory) -> None:
        store = store_factory()
        shared = attachment_ref("photos", b"the same photo", kind="jpg", name="a.jpg")
        add(store, submission("U001", "summary", n=1, attachments=[shared]))
        add(
            store,
            submission("U002", "summary", n=2, attachments=[shared.model_copy(update={"name": "b.jpg"})]),
        )
        add(store, submission("U003", "summary", n=3))
        assert store_factory().units_with_blob(shared.sha256) == {"U001", "U002"}
        assert store.units_with_blob("f" * 64) == set()
