"""Issue 13 §1, next slice: the SQLite store's ordered peer index gives the medians peer_median gives,
and so do the memory store's peer shards (S3's layout, functions/adapters/store/peer_shards.py).

The oracle is `peer_median` over every unit's figures (what PeerStats handed the validator before the
index); the index answers the same question with a count and an OFFSET in SQLite. Random histories
(replaced versions, drafts, units outside the roster, values that are not numbers) and random rosters
whose types change between checks, for both figures, every unit, and several `min_peers`.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.adapters.store.sqlite import SqliteStore
from functions.ports import Store
from functions.services.intake.peers import PeerStats
from functions.validate.peer_median import PeerFigures
from tests.helpers.peer_histories import (
    DELIVERABLES,
    check_all,
    oracle_median,
    random_roster,
    submit_random,
)

# The histories, rosters and oracle are shared with the S3 test (tests/integration/test_peer_shards_s3.py).
_roster = random_roster
_submit = submit_random
_oracle = oracle_median
_check_all = check_all


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
@pytest.mark.parametrize("seed", range(25))
def test_index_medians_equal_peer_median_over_random_histories(tmp_path: Path, seed: int, kind: str) -> None:
    # The memory store keeps S3's layout (functions/adapters/store/peer_shards.py) with the same code.
    rng = random.Random(seed)
    units = rng.randint(4, 14)
    store: Store = SqliteStore(tmp_path / "h.sqlite3") if kind == "sqlite" else MemoryStore()
    roster = _roster(rng, units)
    compared = 0
    for step in range(rng.randint(5, 70)):
        _submit(store, rng, units, step)
        if rng.random() < 0.15:
            compared += _check_all(store, roster)
        if rng.random() < 0.05:
            roster = _roster(rng, units)  # the organiser edits the roster: types change, the index follows
    compared += _check_all(store, roster)
    if seed == 0:
        assert compared > 0  # the comparison is not vacuous


def test_a_store_without_the_index_is_indexed_from_its_entries(tmp_path: Path) -> None:
    # Versions stored before the index existed: the first median builds it from the peer entries.
    store = SqliteStore(tmp_path / "h.sqlite3")
    rng = random.Random(7)
    for step in range(40):
        _submit(store, rng, 10, step)
    assert store.get_meta("peers:index:roster") is None
    assert _check_all(store, _roster(random.Random(1), 10)) > 0
    assert store.get_meta("peers:index:roster") is not None


def test_a_nan_figure_falls_back_to_every_entry(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3")
    rng = random.Random(3)
    for step in range(20):
        _submit(store, rng, 6, step)
    roster = _roster(rng, 6)
    stats = PeerStats(store, DELIVERABLES)
    assert not isinstance(stats.context_for("U000").peers, PeerFigures)
    stats.context_for("U000").peers.median("activity", roster, roster.units[0], 1)  # type: ignore[union-attr]
    store.put_peer_entry(
        "plan", "U001", 99, {"planned": 1, "per_activity": [float("nan")], "per_session": None}
    )
    # SQLite cannot hold the NaN, so the index steps aside and the figures are read as before.
    assert isinstance(PeerStats(store, DELIVERABLES).context_for("U000").peers, PeerFigures)


def test_buckets_follow_the_order_of_values() -> None:
    from functions.adapters.store.sqlite import _bucket

    rng = random.Random(5)
    values = [rng.uniform(-1e7, 1e7) for _ in range(2000)] + [rng.uniform(-2, 1100) for _ in range(2000)]
    values += [float(n) for n in range(-5, 1030)] + [float("inf"), float("-inf"), 1e308, -1e308, 0.0]
    ordered = sorted(values)
    buckets = [_bucket(v) for v in ordered]
    assert buckets == sorted(buckets)
    assert len({_bucket(float(n)) for n in range(1024)}) == 1024  # whole numbers below 1024: one each


def test_a_read_only_store_uses_the_index_built_for_its_roster_and_never_writes(tmp_path: Path) -> None:
    # `huizong validate` opens the store read-only: the index serves when typed for this roster;
    # for another roster the figures are read as before, and nothing is written either way.
    path = tmp_path / "h.sqlite3"
    writer = SqliteStore(path)
    rng = random.Random(11)
    for step in range(60):
        _submit(writer, rng, 12, step)
    roster, other = _roster(random.Random(1), 12), _roster(random.Random(2), 12)
    _check_all(writer, roster)  # builds the index for `roster`
    mark = writer.get_meta("peers:index:roster")
    writer.close()
    before = path.read_bytes()
    reader = SqliteStore(path, read_only=True)
    oracle = PeerStats(reader, DELIVERABLES).figures
    for r in (roster, other):
        for unit in r.units:
            peers = PeerStats(reader, DELIVERABLES).context_for(unit.code).peers
            assert peers is not None and not isinstance(peers, PeerFigures)
            for which in ("activity", "session"):
                got = peers.median(which, r, unit, 3)  # type: ignore[arg-type]
                assert got == _oracle(oracle, which, r, unit, 3), (unit.code, which)
    assert reader.get_meta("peers:index:roster") == mark
    reader.close()
    assert path.read_bytes() == before
