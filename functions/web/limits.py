"""Rate limits for the web form: token buckets per client address and per unit, kept in memory.

A form is opened and saved a few times an hour; a script guessing tokens or hammering saves (each one runs
the full validator and writes a version) is slowed down long before it costs anything. Memory is bounded:
past `max_keys` buckets, the ones that have refilled (idle clients) are forgotten first. One process keeps
its own buckets; that is the unit of protection `huizong serve` needs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self,
        limit: int,
        per_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.limit = limit
        self.rate = limit / per_seconds  # tokens regained per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> int | None:
        """None when `key` may go on (and one token is spent), else the whole seconds to wait."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_keys:
                    self._forget_idle(now)
                bucket = self._buckets[key] = _Bucket(float(self.limit), now)
            bucket.tokens = min(float(self.limit), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.limit]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:
            # Everyone is busy: drop the oldest half rather than grow without bound.
            for k in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: self.max_keys // 2]:
                del self._buckets[k]


@dataclass
class WebLimits:
    """The web form's limits; generous for a school office behind one address, tight for a script."""

    per_address: RateLimiter
    per_unit: RateLimiter
    # Presigned uploads asked for by one unit's page (cloud): one per file, so more than saves, yet a
    # script cannot have the bucket filled with objects nobody will save.
    per_upload: RateLimiter = field(default_factory=lambda: RateLimiter(120, 600.0))

    @classmethod
    def default(cls, clock: Callable[[], float] = time.monotonic) -> WebLimits:
        return cls(
            per_address=RateLimiter(300, 300.0, clock=clock),  # link opens and saves from one address
            per_unit=RateLimiter(30, 60.0, clock=clock),  # saves of one unit's form
            per_upload=RateLimiter(120, 600.0, clock=clock),  # files uploaded by one unit's page
        )
