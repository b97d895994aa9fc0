"""functions/gc_pause.py: the collector is paused inside the block and restored after, also on errors."""

from __future__ import annotations

import gc

import pytest

from functions.gc_pause import collector_paused


def test_paused_inside_restored_after_even_on_an_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the inner block leaves it paused for the outer one
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_caller_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_leaving_the_block_does_not_start_a_walk_of_everything_it_allocated() -> None:
    # Without the move to the oldest generation, the first allocation after the block finds the young
    # generation's count far over its threshold and collects it, walking every object the block made.
    collections: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        with collector_paused():
            kept = [[i] for i in range(50_000)]  # alive after the block, as statuses are
        after = [[i] for i in range(100)]  # well under the young generation's threshold
    finally:
        gc.callbacks.remove(record)
    assert collections == [] and len(kept) + len(after) == 50_100


def test_cycles_made_in_the_block_are_still_collected_later() -> None:
    import weakref

    with collector_paused():
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        del cycle
    assert gone() is not None  # no collection ran yet
    gc.collect()
    assert gone() is None
