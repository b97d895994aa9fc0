"""Rate limits of the web form: a token bucket per key, refilled over time, bounded in memory."""

from __future__ import annotations

from functions.web.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_may_go_limit_times_then_waits_until_a_token_is_back() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [None, None, None]
    assert limiter.check("a") == 20  # one token per 20 s
    assert limiter.check("b") is None  # other keys are not affected
    clock.now += 20
    assert limiter.check("a") is None
    assert limiter.check("a") == 20


def test_memory_stays_bounded_and_idle_keys_go_first() -> None:
    clock = Clock()
    limiter = RateLimiter(2, 10.0, clock=clock, max_keys=4)
    limiter.check("busy")
    limiter.check("busy")
    for i in range(3):
        limiter.check(f"idle{i}")
    clock.now += 100  # the idle ones refill; "busy" too, but it is asked again below first
    limiter.check("new1")
    assert len(limiter._buckets) <= 4
    for i in range(20):
        limiter.check(f"flood{i}")
    assert len(limiter._buckets) <= 4
