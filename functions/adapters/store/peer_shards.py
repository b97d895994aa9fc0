"""Peer statistics as small objects updated by conditional writes (issue 13 §1): the S3 store's layout,
shared with the memory store so that tests run the very algorithm S3 runs.

Before, the S3 store kept one object per deliverable holding every unit's figures, read and rewritten
whole by every submission (about 1 MB at 10,000 units, and every writer of a campaign contending on one
ETag). Here (keys are tuples; the S3 store maps them to `peers/<part>/<part>…`):

    ("mark",)                                     {"state": "building"|"ready", "gen", "fingerprint"}
    ("unit", unit)                                one unit: its type, its entries per group (seq + entry)
                                                  and `applied`: the values it has put in the shards
    ("shard", gen, kind, group, type)             per (deliverable, unit type, figure): how many units
                                                  have figures, and a count per value bucket
    ("vals", gen, kind, group, type, bucket)      the values of one bucket that counts alone cannot give
                                                  (fractions, 1,024 and above, negative numbers)
    ("roster",)                                   the types the shards were last synced for (read only
                                                  when the roster changes)
    ("nan",)                                      present once a NaN figure was seen (see peer_index_exact)

A submission reads and writes its unit's object, then only the shards of its own type whose counts
change, and the value objects of the buckets its values leave or enter. A median reads the unit's own
object (its values are subtracted: a unit is never its own peer), one shard, and the value object of
the middle bucket when that bucket is not a single whole number: a few KB whatever the campaign's size,
except the shards of every type when the unit's own type has too few peers (peer_median's fallback).

Races. The unit object is the one place a unit's figures change hands: a writer computes the new
`applied`, puts the unit object with If-Match (If-None-Match for a new one), and only the winner applies
the difference (old applied → new) to the shards. Differences are counts and multisets, so they commute:
two writers of one unit (seq 3 and 4, or a submission and a re-typing) each apply exactly their own step
and the shards end with the latest; a unit moving between types is subtracted from one shard and added to
the other in the same step. Each shard or value object is itself a read-modify-write under If-Match,
retried with backoff, and remembers the last operations applied to it, so a write whose reply was lost
is not applied twice; the unit object names the operation that last wrote it, so a writer whose put
landed though its reply said otherwise still moves the values (once). A later seq is never undone: the unit object keeps each group's seq.

Building. Types come from the roster, which the store learns through peer_index_sync. The first sync
(or a store written before this layout) builds generation 1: the mark says "building" (writers then only
record their entries), every unit object is read, the shards are written whole, each unit object is
marked as applied (If-Match; a unit that changed meanwhile is re-applied), the mark says "ready", and a
last pass settles units whose entries changed during the build. A later roster edit re-types only the
units whose type changed, as ordinary steps.

A writer that dies between its unit object and its shards leaves those shards one step behind (its
unit object says what it meant); like the seq markers of versions this is a crash window, not a race.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Protocol

Key = tuple[str, ...]
# The type of a unit the roster does not know (the SQLite store's _NO_TYPE).
NO_TYPE = "\x1f"
MAX_ATTEMPTS = 200
_RECENT_OPS = 16  # ops remembered per object: enough to recognise our own write after a lost reply
# A build that has not finished after this long is taken over (a Lambda runs 15 minutes at most).
BUILD_LEASE_S = 16 * 60


class PeerShardError(RuntimeError):
    """Contention never settled, or a build never finished."""


class Objects(Protocol):
    """A key-value store with conditional writes: S3, or a dict in the memory store."""

    def get(self, key: Key) -> tuple[bytes, str] | None:
        """(body, etag), or None when absent."""
        ...

    def put(self, key: Key, body: bytes, *, if_match: str | None = None, if_none_match: bool = False) -> bool:
        """Write; False when the condition does not hold."""
        ...

    def delete(self, key: Key) -> None: ...

    def keys(self, prefix: Key) -> list[Key]:
        """Every key that starts with `prefix` (as tuples)."""
        ...

    def get_many(self, keys: list[Key]) -> list[tuple[bytes, str] | None]:
        """get() of each key, in order (S3: in parallel)."""
        ...

    def run(self, work: Callable[[Any], None], items: list[Any]) -> None:
        """work(item) for each item (S3: in parallel); exceptions propagate."""
        ...


def bucket_of(value: float) -> int:
    """A monotonic bucket id. Even ids 0…2046 hold exactly one whole number each (n → 2n), so a median
    falling there needs no value object; the odd id between holds the fractions in (n, n + 1); larger and
    negative values share logarithmic buckets about 1 % wide, so a shard has at most a few thousand
    buckets whatever the campaign's size."""
    if math.isinf(value):
        return 10**9 if value > 0 else -(10**9)
    if 0 <= value < 1024:
        whole = math.floor(value)
        return 2 * whole if value == whole else 2 * whole + 1
    if value >= 1024:
        return 2048 + math.floor(math.log2(value / 1024) * 64)
    return -1 - math.floor(math.log2(1 - value) * 64)


def _exact(bucket: int) -> float | None:
    """The single value of a bucket that holds one number, else None."""
    return bucket / 2 if 0 <= bucket < 2048 and bucket % 2 == 0 else None


def contributions(entries: dict[str, Any]) -> dict[str, dict[str, list[float]]]:
    """group -> kind -> the values a unit's entries put in the shards (NaN left out: see `has_nan`)."""
    out: dict[str, dict[str, list[float]]] = {}
    for group, held in entries.items():
        entry = held["entry"]
        found = {"activity": entry.get("per_activity") or [], "session": [entry.get("per_session")]}
        for kind, raw in found.items():
            values = sorted(float(v) for v in raw if isinstance(v, int | float) and not math.isnan(v))
            if values:
                out.setdefault(group, {})[kind] = values
    return out


def has_nan(entry: dict[str, Any]) -> bool:
    raw = [*(entry.get("per_activity") or []), entry.get("per_session")]
    return any(isinstance(v, float) and math.isnan(v) for v in raw)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode("utf-8")


def _loads(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


def _new_unit() -> dict[str, Any]:
    return {"type": None, "entries": {}, "applied": None}


class ShardedPeers:
    """The Store's peer methods (put_peer_entry, peer_group) and ports.PeerIndex over `Objects`."""

    def __init__(self, objects: Objects, *, legacy: Callable[[], Iterator[tuple[str, dict[str, Any]]]] | None = None,
                 drop_legacy: Callable[[str], None] | None = None) -> None:  # fmt: skip
        self._objects = objects
        # Stores written before this layout: (group, {unit: {"seq", "entry"}}) per old group object.
        self._legacy = legacy
        self._drop_legacy = drop_legacy
        # Once ready, a generation stays ready (only a missing mark builds again): cached per process.
        self._ready_gen: int | None = None
        self._synced: str | None = None
        # One submission asks for its unit's entries, then a median or two: the unit object read for the
        # entries serves the medians' subtraction of its own values (any write here forgets it), and the
        # listing read by groups() serves the median that follows it. Two requests fewer per submission.
        self._own: tuple[str, tuple[bytes, str] | None] | None = None
        self._listing: dict[str, list[Key]] = {}

    # -- Store: entries --------------------------------------------------------------------------

    def put_entry(self, group: str, unit: str, seq: int, entry: dict[str, Any]) -> None:
        if has_nan(entry) and self._objects.get(("nan",)) is None:
            self._objects.put(("nan",), b"1")

        def mutate(doc: dict[str, Any]) -> bool:
            held = doc["entries"].get(group)
            if held is not None and held["seq"] > seq:
                return False  # a later version of this unit is already counted
            doc["entries"][group] = {"seq": seq, "entry": entry}
            return True

        self._step(unit, mutate)

    def group(self, group: str) -> dict[str, dict[str, Any]]:
        """Every unit's entry of one group: one read per unit (only the fallbacks use it)."""
        found: dict[str, tuple[int, dict[str, Any]]] = {}
        if self._legacy is not None:
            for name, doc in self._legacy():
                if name == group:
                    found.update({u: (h["seq"], h["entry"]) for u, h in doc.items()})
        keys = self._objects.keys(("unit",))
        for key, got in zip(keys, self._objects.get_many(keys), strict=True):
            if got is None:
                continue
            held = _loads(got[0])["entries"].get(group)
            if held is not None and (key[1] not in found or found[key[1]][0] <= held["seq"]):
                found[key[1]] = (held["seq"], held["entry"])
        return {unit: entry for unit, (_, entry) in found.items()}

    def entries_of(self, unit: str, groups: list[str]) -> dict[str, dict[str, Any]]:
        got = self._objects.get(("unit", unit))
        self._own = (unit, got)
        entries = _loads(got[0])["entries"] if got is not None else {}
        return {g: entries[g]["entry"] for g in groups if g in entries}

    # -- one step of one unit ------------------------------------------------------------------------

    def _mark(self) -> dict[str, Any] | None:
        if self._ready_gen is not None:
            return {"state": "ready", "gen": self._ready_gen}
        got = self._objects.get(("mark",))
        if got is None:
            return None
        mark: dict[str, Any] = _loads(got[0])
        if mark["state"] == "ready":
            self._ready_gen = int(mark["gen"])
        return mark

    def _step(self, unit: str, mutate: Callable[[dict[str, Any]], bool] | None) -> None:
        """Change one unit's object (mutate) and, when the shards are ready, move its values with it."""
        op = uuid.uuid4().hex[:16]  # 64 random bits name an operation among the few racing it
        self._own = None
        delay = 0.01
        # What our last put would move, kept until we know whether it landed: a put whose reply was lost
        # (the SDK's resend then meets its own write and gets 412) shows as the object carrying our op.
        sent: tuple[int, dict[str, Any] | None, dict[str, Any]] | None = None
        for _ in range(MAX_ATTEMPTS):
            mark = self._mark()
            got = self._objects.get(("unit", unit))
            doc = _loads(got[0]) if got is not None else _new_unit()
            if sent is not None and doc.get("op") == op:
                self._apply(*sent, op)
                return
            before = json.dumps(doc, sort_keys=True, allow_nan=True)
            if mutate is not None and not mutate(doc):
                return
            old = doc["applied"]
            ready = mark is not None and mark["state"] == "ready"
            if ready:
                gen = int(mark["gen"])  # type: ignore[index]
                utype = doc["type"] if doc["type"] is not None else NO_TYPE
                doc["applied"] = {"gen": gen, "type": utype, "values": contributions(doc["entries"])}
            if got is not None and json.dumps(doc, sort_keys=True, allow_nan=True) == before:
                return  # nothing changes (a repeated delivery, a unit already settled)
            doc["op"] = op
            if ready:
                base = old if old is not None and old["gen"] == doc["applied"]["gen"] else None
                sent = (doc["applied"]["gen"], base, doc["applied"])
            condition = {"if_match": got[1]} if got is not None else {"if_none_match": True}
            if not self._objects.put(("unit", unit), _dumps(doc), **condition):  # type: ignore[arg-type]
                time.sleep(delay * random.random())
                delay = min(delay * 2, 0.5)
                continue
            if sent is not None:
                self._apply(*sent, op)
            elif mutate is not None:
                # Written while a build runs: if it has finished since, this unit may have been read
                # before our write, so settle it ourselves (the build's last pass settles the others).
                self._ready_gen = None
                after = self._mark()
                if after is not None and after["state"] == "ready":
                    self._step(unit, None)
            return
        raise PeerShardError(f"同业统计：单位 {unit} 的更新持续冲突")

    def _apply(self, gen: int, old: dict[str, Any] | None, new: dict[str, Any], op: str) -> None:
        """Add new's values to the shards and subtract old's (both placed in generation `gen`)."""
        shard_delta: dict[Key, tuple[int, Counter[int]]] = {}
        vals_delta: dict[Key, Counter[float]] = {}

        def account(applied: dict[str, Any], sign: int) -> None:
            for group, kinds in applied["values"].items():
                for kind, values in kinds.items():
                    key: Key = ("shard", str(gen), kind, group, applied["type"])
                    units, buckets = shard_delta.get(key, (0, Counter()))
                    for v in values:
                        b = bucket_of(v)
                        buckets[b] += sign
                        if _exact(b) is None:
                            vals_delta.setdefault((*key[1:], str(b)), Counter())[v] += sign
                    shard_delta[key] = (units + sign, buckets)

        if old is not None:
            account(old, -1)
        account(new, +1)
        for key, delta in vals_delta.items():
            changes = {v: n for v, n in delta.items() if n}
            if changes:
                self._update(("vals", *key), lambda doc, c=changes: _merge_vals(doc, c), op)  # type: ignore[misc]
        for key, (units, buckets) in shard_delta.items():
            changes_b = {b: n for b, n in buckets.items() if n}
            if units or changes_b:
                self._update(key, lambda doc, u=units, c=changes_b: _merge_shard(doc, u, c), op)  # type: ignore[misc]

    def _update(self, key: Key, change: Callable[[dict[str, Any]], None], op: str) -> None:
        """Read-modify-write of one shard or value object under If-Match, applied exactly once."""
        delay = 0.01
        for _ in range(MAX_ATTEMPTS):
            got = self._objects.get(key)
            doc: dict[str, Any] = _loads(got[0]) if got is not None else {}
            ops: list[str] = doc.get("ops", [])
            if op in ops:
                return  # our own write, whose reply was lost: already applied
            change(doc)
            doc["ops"] = [*ops, op][-_RECENT_OPS:]
            condition = {"if_match": got[1]} if got is not None else {"if_none_match": True}
            if self._objects.put(key, _dumps(doc), **condition):  # type: ignore[arg-type]
                return
            time.sleep(delay * random.random())
            delay = min(delay * 2, 0.5)
        raise PeerShardError(f"同业统计：{'/'.join(key)} 的更新持续冲突")

    # -- ports.PeerIndex ---------------------------------------------------------------------------

    def sync(self, fingerprint: str, types: dict[str, str]) -> None:
        """Build the shards (first time), or re-type the units whose type changed (roster edited)."""
        if self._synced == fingerprint:
            return
        self._own = None  # a build or a re-typing rewrites unit objects
        waited = 0.0
        while True:
            got = self._objects.get(("mark",))
            mark = _loads(got[0]) if got is not None else None
            if mark is not None and mark["state"] == "ready":
                self._ready_gen = int(mark["gen"])
                if mark.get("fingerprint") != fingerprint:
                    self._retype(got, mark, fingerprint, types)  # type: ignore[arg-type]
                self._synced = fingerprint
                return
            if mark is None or time.time() - float(mark.get("at", 0)) > BUILD_LEASE_S:
                claimed = {"state": "building", "gen": (mark["gen"] if mark else 0) + 1,
                           "fingerprint": fingerprint, "at": time.time()}  # fmt: skip
                condition = {"if_match": got[1]} if got is not None else {"if_none_match": True}
                if self._objects.put(("mark",), _dumps(claimed), **condition):  # type: ignore[arg-type]
                    self._build(int(claimed["gen"]), fingerprint, types)
                    self._synced = fingerprint
                    return
                continue
            # Another process is building: wait for it (a build reads each unit once).
            if waited > BUILD_LEASE_S:
                raise PeerShardError("同业统计：索引构建长时间未完成")
            time.sleep(0.2)
            waited += 0.2

    def built_for(self, fingerprint: str) -> bool:
        got = self._objects.get(("mark",))
        mark = _loads(got[0]) if got is not None else None
        return mark is not None and mark["state"] == "ready" and mark.get("fingerprint") == fingerprint

    def exact(self) -> bool:
        return self._objects.get(("nan",)) is None

    def _build(self, gen: int, fingerprint: str, types: dict[str, str]) -> None:
        # Entries of a store written before this layout become unit objects first (seq-guarded steps:
        # the mark says "building", so they touch no shard).
        if self._legacy is not None:
            migrated = []
            for group, doc in self._legacy():
                for unit, held in doc.items():
                    self.put_entry(group, unit, int(held["seq"]), held["entry"])
                migrated.append(group)
            if self._drop_legacy is not None:
                for group in migrated:
                    self._drop_legacy(group)
        keys = self._objects.keys(("unit",))
        found = dict(zip([k[1] for k in keys], self._objects.get_many(keys), strict=True))
        for unit in types:
            found.setdefault(unit, None)
        counted: dict[str, dict[str, Any]] = {}
        shards: dict[Key, tuple[int, Counter[int]]] = {}
        vals: dict[Key, Counter[float]] = {}
        for unit, got in found.items():
            doc = _loads(got[0]) if got is not None else _new_unit()
            applied = {"gen": gen, "type": types.get(unit, NO_TYPE), "values": contributions(doc["entries"])}
            counted[unit] = applied
            for group, kinds in applied["values"].items():
                for kind, values in kinds.items():
                    key: Key = ("shard", str(gen), kind, group, applied["type"])
                    units, buckets = shards.get(key, (0, Counter()))
                    for v in values:
                        b = bucket_of(v)
                        buckets[b] += 1
                        if _exact(b) is None:
                            vals.setdefault(("vals", *key[1:], str(b)), Counter())[v] += 1
                    shards[key] = (units + 1, buckets)
        for key, counts in vals.items():
            self._objects.put(key, _dumps(_merge_vals({}, dict(counts))))
        for key, (units, buckets) in shards.items():
            self._objects.put(key, _dumps(_merge_shard({}, units, dict(buckets))))
        # Each unit object now says what the shards hold of it; one changed meanwhile is moved from
        # what was counted to what it holds (writers leave the shards alone while the mark says building).
        self._objects.run(
            lambda item: self._mark_built(item[0], item[1], counted[item[0]], types.get(item[0], NO_TYPE)),
            list(found.items()),
        )
        self._objects.put(("roster",), _dumps({"types": types}))
        self._objects.put(("mark",), _dumps({"state": "ready", "gen": gen, "fingerprint": fingerprint}))
        self._ready_gen = gen
        # Writers that wrote during the build and saw it still running when they checked: settle them.
        keys = self._objects.keys(("unit",))
        for key, got in zip(keys, self._objects.get_many(keys), strict=True):
            if got is not None and _unsettled(_loads(got[0]), gen):
                self._step(key[1], None)

    def _mark_built(
        self, unit: str, got: tuple[bytes, str] | None, counted: dict[str, Any], utype: str
    ) -> None:
        op = uuid.uuid4().hex[:16]  # 64 random bits name an operation among the few racing it
        for _ in range(MAX_ATTEMPTS):
            doc = _loads(got[0]) if got is not None else _new_unit()
            doc["type"] = utype
            doc["applied"] = {"gen": counted["gen"], "type": utype, "values": contributions(doc["entries"])}
            condition = {"if_match": got[1]} if got is not None else {"if_none_match": True}
            if self._objects.put(("unit", unit), _dumps(doc), **condition):  # type: ignore[arg-type]
                if doc["applied"] != counted:
                    self._apply(counted["gen"], counted, doc["applied"], op)
                return
            got = self._objects.get(("unit", unit))
        raise PeerShardError(f"同业统计：单位 {unit} 的更新持续冲突")

    def _retype(
        self, got: tuple[bytes, str], mark: dict[str, Any], fingerprint: str, types: dict[str, str]
    ) -> None:
        """The roster changed: move the units whose type changed (ordinary steps), then record it."""
        held = self._objects.get(("roster",))
        old: dict[str, str] = _loads(held[0])["types"] if held is not None else {}
        changed = {u for u in set(old) | set(types) if old.get(u) != types.get(u)}
        for unit in sorted(changed):
            utype = types.get(unit, NO_TYPE)

            def mutate(doc: dict[str, Any], t: str = utype) -> bool:
                doc["type"] = t
                return True

            self._step(unit, mutate)
        self._objects.put(("roster",), _dumps({"types": types}))
        # If-Match on the mark read: two syncs of different rosters do not both claim to be the last.
        self._objects.put(("mark",), _dumps({**mark, "fingerprint": fingerprint}), if_match=got[1])

    def groups(self, kind: str) -> list[str]:
        """Groups holding shards of `kind` (a listing: no shard is read)."""
        gen = self._mark_gen()
        if gen is None:
            return []
        self._listing[kind] = self._objects.keys(("shard", str(gen), kind))
        return sorted({k[3] for k in self._listing[kind]})

    def _mark_gen(self) -> int | None:
        mark = self._mark()
        return int(mark["gen"]) if mark is not None and mark["state"] == "ready" else None

    def median(
        self, groups: list[str], kind: str, unit: str, unit_type: str | None, min_peers: int
    ) -> tuple[float, int, str | None] | None:
        """(median, peers, type): functions/validate/peer_median.py's answer, from a few small objects."""
        gen = self._mark_gen()
        if gen is None:
            raise PeerShardError("同业统计：索引尚未建立")
        listing = self._listing.pop(kind, None)
        if listing is None:
            listing = self._objects.keys(("shard", str(gen), kind))
        listed = [k for k in listing if k[3] in groups]
        if len({k[3] for k in listed}) > 1:
            return self._median_slow(groups, kind, unit, unit_type, min_peers)
        got = (
            self._own[1]
            if self._own is not None and self._own[0] == unit
            else self._objects.get(("unit", unit))
        )
        applied = _loads(got[0])["applied"] if got is not None else None
        own: list[float] = []
        own_type: str | None = None
        if applied is not None and applied["gen"] == gen:
            own_type = applied["type"]
            own = [v for g in groups for v in applied["values"].get(g, {}).get(kind, [])]
        by_type = {k[4]: k for k in listed}
        loaded: dict[Key, dict[str, Any]] = {}

        def shard(key: Key) -> dict[str, Any]:
            if key not in loaded:
                found = self._objects.get(key)
                loaded[key] = _loads(found[0]) if found is not None else {"units": 0, "buckets": []}
            return loaded[key]

        def units_of(types: list[str]) -> int:
            total = sum(int(shard(by_type[t])["units"]) for t in types if t in by_type)
            return total - (1 if own and own_type in types else 0)

        # peer_median's choice: the unit's own type when it has enough other units, else every type.
        chosen: str | None = None
        if unit_type is not None:
            peers = units_of([unit_type])
            if peers >= min_peers:
                chosen = unit_type
        if chosen is None:
            peers = units_of(sorted(by_type))
            if peers < min_peers:
                return None
        types = [t for t in ([chosen] if chosen is not None else sorted(by_type)) if t in by_type]
        counts: Counter[int] = Counter()
        for t in types:
            for b, n in shard(by_type[t])["buckets"]:
                counts[b] += n
        mine = [v for v in own if own_type in types]
        for v in mine:
            counts[bucket_of(v)] -= 1
        ordered = sorted((b, n) for b, n in counts.items() if n > 0)
        total = sum(n for _, n in ordered)
        if total == 0:
            return None

        def nth(rank: int) -> float:
            for b, n in ordered:
                if rank < n:
                    value = _exact(b)
                    if value is not None:
                        return value
                    pool: Counter[float] = Counter()
                    for t in types:
                        found = self._objects.get(("vals", str(gen), kind, by_type[t][3], t, str(b)))
                        if found is not None:
                            for v, c in _loads(found[0])["values"]:
                                pool[float(v)] += c
                    for v in mine:
                        if bucket_of(v) == b:
                            pool[v] -= 1
                    flat = [v for v, c in sorted(pool.items()) for _ in range(max(c, 0))]
                    # A writer between the shard and this read may leave them a step apart: clamp.
                    return flat[min(rank, len(flat) - 1)] if flat else math.nan
                rank -= n
            raise AssertionError("rank beyond the counted values")

        if total % 2:
            median = nth(total // 2)
        else:
            median = (nth(total // 2 - 1) + nth(total // 2)) / 2
        return median, peers, chosen

    def _median_slow(
        self, groups: list[str], kind: str, unit: str, unit_type: str | None, min_peers: int
    ) -> tuple[float, int, str | None] | None:
        """Figures of one kind in several deliverables: a unit may count in more than one, so every
        unit object is read and pooled as PeerStats pools them (rare: one plan deliverable is usual)."""
        keys = self._objects.keys(("unit",))
        figures: dict[str, tuple[str, list[float]]] = {}
        for key, got in zip(keys, self._objects.get_many(keys), strict=True):
            if got is None or key[1] == unit:
                continue
            applied = _loads(got[0])["applied"]
            if applied is None:
                continue
            values = [v for g in sorted(groups) for v in applied["values"].get(g, {}).get(kind, [])]
            if kind == "session" and values:
                values = values[-1:]  # the last deliverable's, as PeerStats._combine keeps it
            if values:
                figures[key[1]] = (applied["type"], values)
        same = [u for u, (t, _) in figures.items() if unit_type is not None and t == unit_type]
        if len(same) >= min_peers:
            chosen_units, chosen = same, unit_type
        elif len(figures) >= min_peers:
            chosen_units, chosen = list(figures), None
        else:
            return None
        pooled = sorted(v for u in chosen_units for v in figures[u][1])
        if not pooled:
            return None
        mid = len(pooled) // 2
        median = pooled[mid] if len(pooled) % 2 else (pooled[mid - 1] + pooled[mid]) / 2
        return median, len(chosen_units), chosen


def _unsettled(doc: dict[str, Any], gen: int) -> bool:
    applied = doc.get("applied")
    utype = doc["type"] if doc["type"] is not None else NO_TYPE
    return applied is None or applied != {"gen": gen, "type": utype, "values": contributions(doc["entries"])}


def _merge_shard(doc: dict[str, Any], units: int, buckets: dict[int, int]) -> dict[str, Any]:
    counts = Counter({int(b): int(n) for b, n in doc.get("buckets", [])})
    counts.update(buckets)
    doc["units"] = int(doc.get("units", 0)) + units
    # Counts may dip below zero for a moment when two steps of one unit land out of order; kept so the
    # other step brings them back (zero counts are dropped: the shard's size follows its buckets only).
    doc["buckets"] = sorted([b, n] for b, n in counts.items() if n != 0)
    return doc


def _merge_vals(doc: dict[str, Any], values: dict[float, int]) -> dict[str, Any]:
    counts: Counter[float] = Counter({float(v): int(n) for v, n in doc.get("values", [])})
    counts.update(values)
    doc["values"] = sorted([v, n] for v, n in counts.items() if n != 0)
    return doc


class PeerShardMethods:
    """The Store's peer methods and ports.PeerIndex, for a store holding a ShardedPeers as `_peers`
    (the S3 and memory stores: one set of methods instead of one per store)."""

    _peers: ShardedPeers

    def put_peer_entry(self, group: str, unit: str, seq: int, entry: dict[str, Any]) -> None:
        self._peers.put_entry(group, unit, seq, entry)

    def peer_group(self, group: str) -> dict[str, dict[str, Any]]:
        return self._peers.group(group)

    def peer_index_sync(self, fingerprint: str, types: dict[str, str]) -> None:
        self._peers.sync(fingerprint, types)

    def peer_index_built_for(self, fingerprint: str) -> bool:
        return self._peers.built_for(fingerprint)

    def peer_index_exact(self) -> bool:
        return self._peers.exact()

    def peer_index_groups(self, kind: str) -> list[str]:
        return self._peers.groups(kind)

    def peer_index_median(
        self, groups: list[str], kind: str, unit: str, unit_type: str | None, min_peers: int
    ) -> tuple[float, int, str | None] | None:
        return self._peers.median(groups, kind, unit, unit_type, min_peers)

    def peer_entries_of(self, unit: str, groups: list[str]) -> dict[str, dict[str, Any]]:
        return self._peers.entries_of(unit, groups)
