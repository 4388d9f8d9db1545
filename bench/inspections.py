"""Double-random draw benchmark: ``python -m bench.inspections --json``.

100,000 entities (6 categories, weights 1..6) and 2,000 inspectors (2 specialties each, 3
conflicts each, 3,000 recent pairs, 5,000 entities with previous inspectors), the default 5 %
ratio (about 5,000 drawn entities, 10,000 inspector picks). Prints one JSON object:

* ``draw.ms``: canonical JSON and SHA-256 of the snapshot (both parts), then the whole draw
  (weighted sampling and inspector matching) from an in-memory snapshot; median of ``--runs``;
* ``verify.ms``: what ``verify_draw`` does with the stored bytes: decompress, hash, decode, draw
  again, compare with the stored result;
* ``draw_db.ms`` (unless ``--no-db``): ``commit_draw`` + ``perform_draw`` on a SQLite file holding
  the same pools (the snapshot read from the tables, compressed and stored), no inspections started.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
import zlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engine.tuning import settle_heap
from processes.inspections import sampling
from processes.inspections.rules import load_rules

CATEGORIES = ["medical", "public_place", "drinking_water", "school", "occupational", "radiation"]


def pools(entities: int, inspectors: int, seed: int = 1) -> sampling.Snapshot:
    rnd = random.Random(seed)
    codes = [f"91{n:016d}" for n in range(entities)]
    ents = [{"category": CATEGORIES[n % 6], "credit_code": c, "weight": rnd.choice([1, 1, 1, 2, 3, 6])}
            for n, c in enumerate(codes)]
    users = [f"u{n:05d}" for n in range(inspectors)]
    insp = [{"conflicts": sorted(rnd.sample(codes, 3)), "specialist_for": sorted(rnd.sample(CATEGORIES, 2)),
             "user_id": u} for u in users]
    pairs = sorted({tuple(sorted(rnd.sample(users, 2))) for _ in range(3000)})
    previous = {c: sorted(rnd.sample(users, 2)) for c in sorted(rnd.sample(codes, 5000))}
    return sampling.Snapshot(ents, insp, {"pairs": [list(p) for p in pairs], "previous": previous})


def params() -> dict[str, Any]:
    return {**load_rules().as_params(), "categories": {c: {} for c in CATEGORIES}, "algorithm": sampling.ALGORITHM}


def time_draw(snapshot: sampling.Snapshot, seed: str) -> tuple[float, dict[str, Any], bytes]:
    started = time.perf_counter()
    snapshot.hashes()
    result = sampling.run(snapshot, seed, params())
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, result, zlib.compress(snapshot.encode(), 6)


def time_verify(stored: bytes, seed: str, result: dict[str, Any]) -> float:
    started = time.perf_counter()
    raw = zlib.decompress(stored)
    sampling.hashes_of_stored(raw)
    again = sampling.run(sampling.Snapshot.decode(raw), seed, params())
    assert not list(sampling.differences(result, again))
    return (time.perf_counter() - started) * 1000


def time_db(snapshot: sampling.Snapshot) -> float:
    """The same pools in tables, then commit_draw + perform_draw through the services."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from engine import Actor
    from engine.dbconnect import make_engine
    from migrations.runner import upgrade
    from processes.directory.models import Entity, Unit, User
    from processes.inspections import draw as draws
    from processes.inspections.models import EntityProfile, Inspector, Plan

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            session.add(Unit(id="U1", name="bench", short_name="b", level="county", region_code="310113", path="/U1/"))
            session.flush()
            session.execute(insert(Entity), [{"credit_code": e["credit_code"], "name": e["credit_code"],
                                              "category": e["category"], "unit_id": "U1", "licence_numbers": [],
                                              "created_at": datetime.now(UTC)} for e in snapshot.entities])
            session.execute(insert(EntityProfile), [{"credit_code": e["credit_code"], "status": "active",
                                                     "risk_level": "high" if e["weight"] >= 3 else "normal",
                                                     "credit_grade": "C" if e["weight"] % 2 == 0 else None,
                                                     "complaint_count": 0, "updated_at": datetime.now(UTC)}
                                                    for e in snapshot.entities])
            session.execute(insert(User), [{"id": i["user_id"], "display_name": i["user_id"], "password_hash": "x",
                                            "unit_id": "U1", "roles": ["officer"], "active": True, "failed_logins": 0,
                                            "password_changed_at": datetime.now(UTC), "created_at": datetime.now(UTC)}
                                           for i in snapshot.inspectors])
            session.execute(insert(Inspector), [{"user_id": i["user_id"], "unit_id": "U1", "certificate_no": "c",
                                                 "certificate_valid_from": date(2020, 1, 1),
                                                 "certificate_valid_until": date(2030, 1, 1),
                                                 "specialties": i["specialist_for"], "relatives_at": i["conflicts"],
                                                 "former_employers": [], "active": True,
                                                 "updated_at": datetime.now(UTC)} for i in snapshot.inspectors])
            plan = Plan(id=str(uuid.uuid4()), code="BENCH", title="bench", kind="annual", unit_id="U1",
                        params={**load_rules().as_params(), "categories": {c: {} for c in CATEGORIES},
                                "scope_units": ["U1"]}, item_ids=[], window_start=date(2026, 1, 5),
                        window_end=date(2026, 3, 31), seed_source="generated", status="published",
                        created_by="bench")
            session.add(plan)
            session.commit()
            actor = Actor.of("bench", ["head"], ["U1"])
            started = time.perf_counter()
            draw = draws.commit_draw(session, actor, plan, now=datetime(2026, 1, 5, 1, tzinfo=UTC))
            draws.perform_draw(session, actor, draw, now=datetime(2026, 1, 5, 1, tzinfo=UTC))
            session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            session.rollback()
        engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-db", action="store_true", help="skip draw_db.ms (builds a 100k-row SQLite file)")
    args = parser.parse_args()
    settle_heap()
    snapshot = pools(args.entities, args.inspectors)
    draws, verifies = [], []
    result: dict[str, Any] = {}
    for run in range(args.runs):
        elapsed, result, stored = time_draw(snapshot, f"bench-seed-{run}")
        draws.append(elapsed)
        verifies.append(time_verify(stored, f"bench-seed-{run}", result))
    out: dict[str, Any] = {
        "entities": args.entities, "inspectors": args.inspectors, "drawn": len(result["entities"]),
        "unmatched": len(result["unmatched"]), "draw.ms": round(statistics.median(draws), 1),
        "draw.ms_max": round(max(draws), 1), "verify.ms": round(statistics.median(verifies), 1),
        "target.draw_ms": 1000}
    if not args.no_db:
        out["draw_db.ms"] = round(time_db(snapshot), 1)
    print(json.dumps(out) if args.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
