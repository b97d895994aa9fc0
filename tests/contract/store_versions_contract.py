"""Store contract for reading many named versions at once (issue 13 §4: the master's activities sheet
reads every unit's rows with one read, streamed, instead of one query per unit). Mixed into the Store
contract run by tests/contract/test_store_contract.py, so every store implementation runs it."""

from __future__ import annotations

from functions.ports import Store
from tests.helpers.store import add, submission


class VersionsByKeyContract:
    """Needs the `store` fixture of StoreContract."""

    def test_iter_versions_gives_the_named_versions_whole_in_the_order_asked(self, store: Store) -> None:
        rows = {"activities": [{"name": f"活动{i}", "expected_participants": i} for i in range(30)]}
        for unit in ("U002", "学校", "U010"):
            for n in (1, 2, 3):
                add(store, submission(unit, "plan", n=n, tables=rows if n == 2 else None), minutes=n)
        add(store, submission("U002", "summary"))
        # Not the store's own order (units sorted): the caller's, with an older seq.
        keys = [("学校", "plan", 2), ("U002", "summary", 1), ("U010", "plan", 3), ("U002", "plan", 2)]

        got = list(store.iter_versions(keys))

        assert [(v.unit, v.deliverable, v.seq) for v in got] == keys
        assert got[0] == store.history("学校", "plan")[1]  # every table, not a summary
        assert got[0].tables["activities"] == rows["activities"]
        assert got[3] == store.history("U002", "plan")[1]

    def test_iter_versions_skips_keys_not_stored(self, store: Store) -> None:
        add(store, submission("U001", "plan"))
        keys = [("U001", "plan", 2), ("U009", "plan", 1), ("U001", "summary", 1), ("U001", "plan", 1)]

        assert [(v.unit, v.seq) for v in store.iter_versions(keys)] == [("U001", 1)]
        assert list(store.iter_versions([])) == []
