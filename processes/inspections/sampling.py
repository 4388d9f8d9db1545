"""The draw itself, as a pure function of (snapshot, seed, parameters): anyone can re-run it.

Why this shape: a draw by lot is only trustworthy if a third party, given the published snapshot,
the revealed seed and this description, gets the same list. So nothing here reads the database,
the clock or floating-point maths (a platform's ``log`` may differ in the last bit); every choice
is integer arithmetic on the output of a seeded generator from a maintained library.

Algorithm ``weijian-draw/1``:

1. **Canonical JSON.** ``canonical(x)`` is UTF-8 JSON with object keys sorted, no whitespace, no
   escaping of non-ASCII, integers and strings only (``orjson.dumps(x, OPT_SORT_KEYS)``; the
   same bytes as ``json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``).
2. **Snapshot.** Two documents: ``{"entities": [...]}`` (each ``{"category", "credit_code",
   "weight"}``, sorted by credit code) and ``{"history": {"pairs": [[a, b], ...], "previous":
   {credit_code: [user_id, ...]}}, "inspectors": [...]}`` (each ``{"conflicts": [credit_code...],
   "specialist_for": [category...], "user_id"}``, sorted by user id). ``entities_hash`` and
   ``matching_hash`` are their SHA-256 (hex); ``snapshot_hash = SHA-256(entities_hash + ":" +
   matching_hash)``. The entity part alone (no personal data) is enough to recompute which
   entities were drawn.
3. **Streams.** ``stream(seed, name)`` is numpy's ``PCG64(SeedSequence(int(SHA-256("weijian-draw/1|"
   + name + "|" + seed), big-endian)))``; only ``random_raw()`` (the raw 64-bit outputs, whose
   sequence PCG64 fixes) is used. ``below(n)``: take raw outputs x until x < 2**64 - (2**64 mod
   n), return x mod n (unbiased).
4. **Entities** (stream ``entities:<category>``, categories in sorted order): the category's
   entities in snapshot order; size n = the plan's count, or ceil(ratio x N) and at least
   ``min_per_category``, at most N. Successive weighted sampling without replacement: n times,
   r = below(sum of remaining weights); pick the entity whose cumulative-weight interval (over
   the remaining entities in snapshot order) contains r; remove it. (The same distribution as
   Efraimidis-Spirakis keys u**(1/w), computed exactly; a Fenwick tree keeps it O(log N).)
   A national task's fixed list is taken as given, in the order listed.
5. **Inspectors** (stream ``match``), per drawn entity in draw order: excluded are the
   inspectors with a conflict (relatives, former employer) and the entity's previous inspectors.
   First ``min_specialists`` picks among specialists for the category, then the rest among all;
   never a pair in ``history.pairs``; a pair already made in this draw only if nothing else is
   left. Each pick: among the allowed, those with the smallest load so far in this draw (balance),
   sorted by user id, index below(count). Fewer than ``min_inspectors`` allowed: the entity is
   ``unmatched`` with the reason, nothing is forced.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

import numpy as np
import orjson

ALGORITHM = "weijian-draw/1"
_TWO64 = 1 << 64


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


class Stream:
    """Raw 64-bit outputs of PCG64 for one named purpose, pulled in blocks (same sequence)."""

    def __init__(self, seed: str, name: str) -> None:
        material = hashlib.sha256(f"{ALGORITHM}|{name}|{seed}".encode()).digest()
        self._bits = np.random.PCG64(np.random.SeedSequence(int.from_bytes(material, "big")))
        self._block: list[int] = []
        self._at = 0

    def raw(self) -> int:
        if self._at >= len(self._block):
            self._block = [int(x) for x in self._bits.random_raw(256)]
            self._at = 0
        self._at += 1
        return self._block[self._at - 1]

    def below(self, bound: int) -> int:
        if bound <= 0:
            raise ValueError("below() needs a positive bound")
        limit = _TWO64 - (_TWO64 % bound)
        while True:
            x = self.raw()
            if x < limit:
                return x % bound


@dataclass(frozen=True)
class Snapshot:
    entities: list[dict[str, Any]]
    inspectors: list[dict[str, Any]]
    history: dict[str, Any]

    def parts(self) -> tuple[bytes, bytes]:
        return canonical({"entities": self.entities}), canonical({"history": self.history,
                                                                  "inspectors": self.inspectors})

    def hashes(self) -> tuple[str, str, str]:
        entities, matching = self.parts()
        e, m = sha256_hex(entities), sha256_hex(matching)
        return e, m, sha256_hex(f"{e}:{m}")

    def encode(self) -> bytes:
        """What is stored (before compression): the two canonical documents, one per line."""
        entities, matching = self.parts()
        return entities + b"\n" + matching

    @classmethod
    def decode(cls, data: bytes) -> Snapshot:
        entities, _sep, matching = data.partition(b"\n")
        e, m = orjson.loads(entities), orjson.loads(matching)
        return cls(e["entities"], m["inspectors"], m["history"])


def hashes_of_stored(data: bytes) -> tuple[str, str, str]:
    """The hashes of the stored bytes as they are (a tampered snapshot changes them)."""
    entities, _sep, matching = data.partition(b"\n")
    e, m = sha256_hex(entities), sha256_hex(matching)
    return e, m, sha256_hex(f"{e}:{m}")


class _Fenwick:
    """Prefix sums of integer weights with removal and "which index holds cumulative r"."""

    def __init__(self, weights: Sequence[int]) -> None:
        self.n = len(weights)
        tree = [0, *weights]
        for i in range(1, self.n + 1):
            j = i + (i & -i)
            if j <= self.n:
                tree[j] += tree[i]
        self.tree = tree
        self.total = sum(weights)
        self.step = 1 << max(self.n.bit_length() - 1, 0)

    def remove(self, index: int, weight: int) -> None:
        i = index + 1
        while i <= self.n:
            self.tree[i] -= weight
            i += i & -i
        self.total -= weight

    def find(self, r: int) -> int:
        """The smallest index whose prefix sum exceeds r (0 <= r < total)."""
        pos, step, tree = 0, self.step, self.tree
        while step:
            nxt = pos + step
            if nxt <= self.n and tree[nxt] <= r:
                pos = nxt
                r -= tree[nxt]
            step >>= 1
        return pos


def sample_size(params: Mapping[str, Any], category: str, available: int) -> int:
    chosen = (params.get("categories") or {}).get(category) or {}
    if chosen.get("count") is not None:
        wanted = int(chosen["count"])
    else:
        ratio = Decimal(str(chosen.get("ratio") or params["default_ratio"]))
        wanted = max(int((ratio * available).to_integral_value(ROUND_CEILING)), int(params.get("min_per_category", 0)))
    return max(0, min(wanted, available))


def draw_entities(snapshot: Snapshot, seed: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Step 4: the drawn entities in draw order, each ``{"category", "credit_code"}``."""
    if params.get("fixed_entities") is not None:
        by_code = {e["credit_code"]: e for e in snapshot.entities}
        return [{"category": by_code[c]["category"], "credit_code": c} for c in params["fixed_entities"]]
    by_category: dict[str, list[dict[str, Any]]] = {}
    for entity in snapshot.entities:
        by_category.setdefault(entity["category"], []).append(entity)
    drawn: list[dict[str, Any]] = []
    for category in sorted(by_category):
        members = by_category[category]
        n = sample_size(params, category, len(members))
        if not n:
            continue
        weights = [int(e["weight"]) for e in members]
        tree, stream = _Fenwick(weights), Stream(seed, f"entities:{category}")
        for _ in range(n):
            index = tree.find(stream.below(tree.total))
            tree.remove(index, weights[index])
            weights[index] = 0
            drawn.append({"category": category, "credit_code": members[index]["credit_code"]})
    return drawn


@dataclass
class _Pool:
    ids: list[str]
    index: dict[str, int]
    loads: np.ndarray
    specialist: dict[str, np.ndarray]
    conflicts: dict[str, list[int]]
    history_partners: dict[int, set[int]]

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Pool:
        ids = [i["user_id"] for i in snapshot.inspectors]
        index = {u: n for n, u in enumerate(ids)}
        specialist: dict[str, np.ndarray] = {}
        conflicts: dict[str, list[int]] = {}
        for n, inspector in enumerate(snapshot.inspectors):
            for category in inspector["specialist_for"]:
                specialist.setdefault(category, np.zeros(len(ids), dtype=bool))[n] = True
            for code in inspector["conflicts"]:
                conflicts.setdefault(code, []).append(n)
        partners: dict[int, set[int]] = {}
        for a, b in snapshot.history.get("pairs", []):
            if a in index and b in index:
                partners.setdefault(index[a], set()).add(index[b])
                partners.setdefault(index[b], set()).add(index[a])
        return cls(ids, index, np.zeros(len(ids), dtype=np.int64), specialist, conflicts, partners)


def _pick(pool: _Pool, allowed: np.ndarray, stream: Stream) -> int | None:
    if not allowed.any():
        return None
    loads = np.where(allowed, pool.loads, np.iinfo(np.int64).max)
    candidates = np.flatnonzero(loads == loads.min())
    return int(candidates[stream.below(len(candidates))])


def match_one(pool: _Pool, entity: Mapping[str, Any], previous: Sequence[str], params: Mapping[str, Any],
              stream: Stream, made: dict[int, set[int]], exclude: Sequence[str] = ()) -> tuple[list[int], str | None]:
    """Step 5 for one entity: inspector indexes, or the reason nobody (enough) could be drawn."""
    index = pool.index
    base = np.ones(len(pool.ids), dtype=bool)
    base[pool.conflicts.get(entity["credit_code"], [])] = False
    base[[index[u] for u in [*previous, *exclude] if u in index]] = False
    chosen: list[int] = []
    need, specialists = int(params["min_inspectors"]), int(params["min_specialists"])
    no_specialist = np.zeros(len(pool.ids), dtype=bool)
    for slot in range(need):
        allowed = base & pool.specialist.get(entity["category"], no_specialist) if slot < specialists else base.copy()
        allowed[chosen] = False
        for c in chosen:
            allowed[list(pool.history_partners.get(c, ()))] = False
        fresh = allowed.copy()
        for c in chosen:
            fresh[list(made.get(c, ()))] = False
        pick = _pick(pool, fresh if fresh.any() else allowed, stream)
        if pick is None:
            return chosen, "no_specialist" if slot < specialists else "too_few_inspectors"
        chosen.append(pick)
    return chosen, None


def match_inspectors(snapshot: Snapshot, seed: str, params: Mapping[str, Any],
                     drawn: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    pool, stream = _Pool.of(snapshot), Stream(seed, "match")
    previous = snapshot.history.get("previous", {})
    made: dict[int, set[int]] = {}
    assignments: dict[str, list[str]] = {}
    unmatched: list[dict[str, str]] = []
    for entity in drawn:
        chosen, problem = match_one(pool, entity, previous.get(entity["credit_code"], []), params, stream, made)
        if problem:
            unmatched.append({"credit_code": entity["credit_code"], "reason": problem})
            continue
        for a in chosen:
            pool.loads[a] += 1
            made.setdefault(a, set()).update(b for b in chosen if b != a)
        assignments[entity["credit_code"]] = [pool.ids[i] for i in chosen]
    return assignments, unmatched


def run(snapshot: Snapshot, seed: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The whole draw: ``{"entities", "assignments", "unmatched"}`` (JSON, hashed as canonical)."""
    drawn = draw_entities(snapshot, seed, params)
    assignments, unmatched = match_inspectors(snapshot, seed, params, drawn)
    return {"algorithm": ALGORITHM, "entities": drawn, "assignments": assignments, "unmatched": unmatched}


def replacement(snapshot: Snapshot, seed: str, params: Mapping[str, Any], entity: Mapping[str, Any],
                keep: Sequence[str], exclude: Sequence[str], loads: Mapping[str, int]) -> str | None:
    """One replacement inspector for ``entity`` after a declared conflict (recorded, recomputable):
    stream ``replace:<seed of the replacement>``, the kept inspectors fixed, ``exclude`` (the one
    who declared and everyone replaced before) left out, least loaded first."""
    pool = _Pool.of(snapshot)
    for n, user in enumerate(pool.ids):
        pool.loads[n] = loads.get(user, 0)
    index = pool.index
    stream = Stream(seed, "replace")
    base = np.ones(len(pool.ids), dtype=bool)
    base[pool.conflicts.get(entity["credit_code"], [])] = False
    previous = snapshot.history.get("previous", {}).get(entity["credit_code"], [])
    base[[index[u] for u in [*previous, *exclude, *keep] if u in index]] = False
    for user in keep:
        if user in index:
            base[list(pool.history_partners.get(index[user], ()))] = False
    kept_specialists = sum(1 for u in keep if u in index and entity["category"] in
                           snapshot.inspectors[index[u]]["specialist_for"])
    if kept_specialists < int(params["min_specialists"]):
        base &= pool.specialist.get(entity["category"], np.zeros(len(pool.ids), dtype=bool))
    pick = _pick(pool, base, stream)
    return None if pick is None else pool.ids[pick]


def differences(stored: Mapping[str, Any], recomputed: Mapping[str, Any]) -> Iterator[str]:
    """Where two results part: each differing position, stored against recomputed."""
    a, b = list(stored.get("entities") or []), list(recomputed.get("entities") or [])
    for n in range(max(len(a), len(b))):
        x, y = (a[n] if n < len(a) else None), (b[n] if n < len(b) else None)
        if x != y:
            yield f"entities[{n}]: stored {x}, recomputed {y}"
    sa, sb = dict(stored.get("assignments") or {}), dict(recomputed.get("assignments") or {})
    for code in sorted(set(sa) | set(sb)):
        if sa.get(code) != sb.get(code):
            yield f"assignments[{code}]: stored {sa.get(code)}, recomputed {sb.get(code)}"
    if list(stored.get("unmatched") or []) != list(recomputed.get("unmatched") or []):
        yield f"unmatched: stored {stored.get('unmatched')}, recomputed {recomputed.get('unmatched')}"
