"""Issue 13 §1: the S3 layout of peer statistics (functions/adapters/store/peer_shards.py), run by the
memory store over a dict with ETags, the same code S3 runs.

Incremental = from scratch: after any interleaving of writers (several versions of one unit out of
order, units moving between types, a build racing submissions) the shards equal the shards recomputed
from the unit objects, and each unit object says exactly what it put there. And one submission reads
only its own type's objects, none of which grows with the campaign.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from functions.adapters.store.memory import MemoryStore, _PeerObjects
from functions.adapters.store.peer_shards import Key, ShardedPeers, bucket_of
from functions.services.intake.peers import PeerStats
from schemas.roster import Roster, Unit
from tests.helpers.peer_histories import DELIVERABLES, TYPES, random_tables, shards_disagree
from tests.helpers.store import add, run_together, submission


def _entry(rng: random.Random, deliverable: str) -> dict[str, Any]:
    from functions.validate.peer_median import peer_entry

    return peer_entry(random_tables(rng, deliverable))


def _types(rng: random.Random, units: int) -> dict[str, str]:
    return {f"U{i}": rng.choice(TYPES) for i in range(units) if rng.random() < 0.9}


def test_bucket_ids_follow_the_order_of_values_and_whole_numbers_have_their_own() -> None:
    rng = random.Random(5)
    values = [rng.uniform(-1e7, 1e7) for _ in range(2000)] + [rng.uniform(-2, 1100) for _ in range(2000)]
    values += [n / 4 for n in range(-20, 4200)] + [float("inf"), float("-inf"), 1e308, -1e308, 0.0]
    ordered = sorted(values)
    buckets = [bucket_of(v) for v in ordered]
    assert buckets == sorted(buckets)
    # Exactly one whole number per even bucket below 2048: a median there needs no value object.
    assert [bucket_of(float(n)) for n in range(1024)] == list(range(0, 2048, 2))
    assert bucket_of(3.5) == 7 and bucket_of(1023.5) == 2047 and bucket_of(1024.0) == 2048


@pytest.mark.parametrize("seed", range(12))
def test_racing_writers_and_roster_edits_leave_the_shards_as_computed_from_scratch(seed: int) -> None:
    rng = random.Random(seed)
    store = MemoryStore()
    units = rng.randint(3, 9)
    store.peer_index_sync("r0", _types(rng, units))
    # Each thread writes increasing seqs of a few units, so one unit's seqs race between threads and
    # arrive out of order; one thread edits the roster (types change, units come and go) meanwhile.
    plans = [
        [(f"U{rng.randrange(units + 1)}", rng.choice(DELIVERABLES), rng.randint(1, 6)) for _ in range(12)]
        for _ in range(4)
    ]
    entries = {(u, g, s): _entry(rng, g) for plan in plans for u, g, s in plan}
    rosters = [_types(rng, units) for _ in range(3)]

    def work(t: int) -> None:
        if t == len(plans):
            for i, types in enumerate(rosters):
                store.peer_index_sync(f"r{i + 1}", types)
            return
        for unit, group, seq in plans[t]:
            store.put_peer_entry(group, unit, seq, entries[(unit, group, seq)])

    run_together(len(plans) + 1, work)
    assert shards_disagree(store._peer_objects) == []
    # The latest seq of each (unit, group) wins whatever the order of arrival.
    for (unit, group), seq in _latest_seqs(entries).items():
        assert store.peer_entries_of(unit, [group]) == {group: entries[(unit, group, seq)]}


def _latest_seqs(entries: dict[tuple[str, str, int], Any]) -> dict[tuple[str, str], int]:
    latest: dict[tuple[str, str], int] = {}
    for unit, group, seq in entries:
        latest[(unit, group)] = max(seq, latest.get((unit, group), 0))
    return latest


@pytest.mark.parametrize("seed", range(8))
def test_a_build_racing_submissions_counts_every_unit_once(seed: int) -> None:
    rng = random.Random(100 + seed)
    store = MemoryStore()
    for i in range(6):  # entries written before any build: the first sync builds from them
        store.put_peer_entry("plan", f"U{i}", 1, _entry(rng, "plan"))
    types = _types(rng, 8)
    later = {(f"U{rng.randrange(8)}", seq): _entry(rng, "summary") for seq in range(2, 14)}

    def work(t: int) -> None:
        if t == 0:
            store.peer_index_sync("r", types)
        else:
            for (unit, seq), entry in list(later.items())[t - 1 :: 3]:
                store.put_peer_entry("summary", unit, seq, entry)

    run_together(4, work)
    assert shards_disagree(store._peer_objects) == []


def test_a_unit_moving_between_types_leaves_one_shard_and_enters_the_other() -> None:
    store = MemoryStore()
    for i, n in enumerate([10, 20, 30, 40]):
        add(store, submission(f"U{i}", n=n))
    store.peer_index_sync("a", {"U0": "甲", "U1": "甲", "U2": "乙", "U3": "乙"})
    assert store.peer_index_median(["plan"], "activity", "U9", "甲", 2) == (15.0, 2, "甲")
    store.peer_index_sync("b", {"U0": "甲", "U1": "乙", "U2": "乙", "U3": "乙"})  # U1 moves to 乙
    assert store.peer_index_median(["plan"], "activity", "U9", "乙", 2) == (30.0, 3, "乙")
    assert store.peer_index_median(["plan"], "activity", "U9", "甲", 2) == (25.0, 4, None)  # 1 < 2: all
    assert shards_disagree(store._peer_objects) == []


def test_one_submission_reads_only_its_own_type_and_nothing_that_grows_with_the_campaign() -> None:
    from functions.validate.peer_median import peer_entry

    sizes = {}
    for per_type in (300, 3000):
        rng = random.Random(1)
        store = MemoryStore()
        roster = Roster(
            units=[Unit(code=f"{t}{i}", name=f"{t}{i}", type=t) for t in TYPES for i in range(per_type)]
        )
        for unit in roster.units:
            # Whole numbers of participants (the usual figure) and a per-session figure with a fraction.
            # Entries written directly (what add_version writes) keep ten thousand units quick to build.
            tables = {"activities": [{"expected_participants": rng.randint(5, 300)} for _ in range(4)],
                      "statistics": [{"total_sessions": 4, "total_participants": rng.randint(20, 400)}]}  # fmt: skip
            store.put_peer_entry("plan", unit.code, 1, peer_entry(tables))
        me = roster.units[0]
        PeerStats(store, ["plan"]).context_for(me.code).peers.median("activity", roster, me, 3)  # type: ignore[union-attr]  # builds
        store._peer_objects.reads = []  # from here on: one submission, validated then stored
        peers = PeerStats(store, ["plan"]).context_for(me.code).peers
        for which in ("activity", "session"):
            assert peers.median(which, roster, me, 3) is not None  # type: ignore[union-attr]
        add(store, submission(me.code, "plan", tables={"activities": [{"expected_participants": 77}],
                                                        "statistics": [{"total_sessions": 3, "total_participants": 100}]}))  # fmt: skip
        reads = store._peer_objects.reads
        peer_objects = [key for key, _ in reads if key[0] in ("shard", "vals")]
        assert peer_objects and all(key[4] == me.type for key in peer_objects), peer_objects
        assert not [key for key, _ in reads if key[0] == "unit" and key[1] != me.code]
        sizes[per_type] = (max(size for _, size in reads), sum(size for _, size in reads))
    # Ten times the units: the largest object read and the bytes read stay about the same (the counts
    # per bucket are bounded by the buckets, not the units; a value object holds distinct values with
    # their counts), where one object per deliverable grew tenfold.
    (small_max, small_sum), (large_max, large_sum) = sizes[300], sizes[3000]
    assert large_max < 1.5 * small_max and large_sum < 1.5 * small_sum, sizes


class _LostReplies(_PeerObjects):
    """Every third conditional put is stored but answered as refused: the reply was lost, and the SDK's
    resend met the write itself (412), as can happen against S3."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0
        self._count = 0

    def put(self, key: Key, body: bytes, *, if_match: str | None = None, if_none_match: bool = False) -> bool:
        stored = super().put(key, body, if_match=if_match, if_none_match=if_none_match)
        if stored and (if_match is not None or if_none_match):
            self._count += 1
            if self._count % 3 == 0:
                self.lost += 1
                return False
        return stored


@pytest.mark.parametrize("seed", range(6))
def test_a_write_whose_reply_was_lost_is_applied_once(seed: int) -> None:
    rng = random.Random(200 + seed)
    store = MemoryStore()
    lossy = _LostReplies()
    store._peer_objects = lossy
    store._peers = ShardedPeers(lossy)
    store.peer_index_sync("r0", _types(rng, 6))
    for step in range(40):
        group = rng.choice(DELIVERABLES)
        store.put_peer_entry(group, f"U{rng.randrange(7)}", step, _entry(rng, group))
        if rng.random() < 0.1:
            store.peer_index_sync(f"r{step}", _types(rng, 6))
    assert lossy.lost > 5  # unit objects, shards and value objects all had replies lost
    assert shards_disagree(lossy) == []
