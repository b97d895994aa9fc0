"""Pausing Python's cyclic garbage collector around bounded bulk work (issue 13 §2, §4).

Reading 10,000 unit statuses allocates a few hundred thousand acyclic objects (decoded versions, their
reports, one status per unit) that all stay alive until the caller is done. Each allocation burst
triggers collections that walk every live object, and the walks grow with what was already built: at
10,000 units they were about a fifth of the statuses' CPU time. Nothing in such work creates
reference cycles, so pausing the collector for its duration frees nothing later than it would have.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block; restored on the way out, also on an exception.

    Nested use is safe: an inner block leaves the collector as the outer one set it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated in the block sits in the youngest generation, and the first collection
        # after gc.enable() would walk all of it at once (a quarter of a second after 10,000 statuses).
        # freeze + unfreeze moves every tracked object to the oldest generation without walking it:
        # what is garbage is still found by the next full collection, what lives on is not walked
        # twice. (huizong freezes nothing else, so unfreezing undoes no one's freeze.)
        gc.freeze()
        gc.unfreeze()
        gc.enable()
