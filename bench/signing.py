"""Benchmark: sign and verify deliberation records with three members.

``python -m bench.signing --json`` prints one JSON object:

* ``sign_per_s``: signatures per second through ``sign_record`` with an unlocked key (build the
  XAdES document, verify it in full as the server does on receipt, store it);
* ``verify_per_s`` / ``verify3_median_ms`` / ``verify3_p95_ms``: ``verify_record`` on a record
  with three signatures (read, re-check the record and every signature against the root and CRL);
* ``unlock_median_ms``: opening one PKCS#12 with its passphrase (600,000 PBKDF2 rounds: slow on
  purpose, paid once per signing, not part of ``sign_per_s``).

Target: ``verify3_median_ms`` < 15. Runs on a temporary SQLite database built by the migrations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from migrations.runner import upgrade
from signing import (
    DeliberationData,
    Evidence,
    Member,
    ServerKeySigner,
    create_record,
    init_ca,
    issue_certificate,
    latest_certificate,
    sign_record,
    verify_record,
)

CA_PASSPHRASE = "bench-root-passphrase"  # noqa: S105 - a throwaway CA in a temporary database
MEMBERS = (("m1", "王志强", "主持人"), ("m2", "李娜", "承办人"), ("m3", "赵敏", "法制审核员"))
TARGET_VERIFY3_MS = 15.0


def _data(n: int) -> DeliberationData:
    return DeliberationData(
        case_ref=f"bench-{n}",
        case_number=f"宝卫医罚〔2026〕{n}号",
        entity_name="宝山区康宁诊所",
        entity_credit_code="92310113MA1K3Y8L2T",
        facts_found="经查，当事人使用未取得执业医师资格的人员从事诊疗活动。" * 20,
        evidence=tuple(Evidence(f"证据{i}", f"evidence-{i}.pdf", f"{i:02x}" * 32) for i in range(1, 9)),
        legal_basis="《医疗机构管理条例》第二十七条、第四十八条",
        proposed_penalty="警告，并处罚款人民币伍仟元整",
        members=tuple(Member(uid, name, role, "同意承办人意见。" * 5) for uid, name, role in MEMBERS),
        conclusion="合议一致同意：给予警告，并处罚款人民币伍仟元整。",
        deliberation_date=date(2026, 11, 20),
    )


def run(records: int, verifications: int) -> dict[str, float | int | bool]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                init_ca(session, ca_passphrase=CA_PASSPHRASE)
                for uid, name, _role in MEMBERS:
                    issue_certificate(session, uid, name, f"{uid} passphrase", ca_passphrase=CA_PASSPHRASE)
                session.commit()

                unlock_ms = []
                signers = {}
                for uid, _name, _role in MEMBERS:
                    pkcs12 = latest_certificate(session, uid).pkcs12
                    started = time.perf_counter()
                    signers[uid] = ServerKeySigner(pkcs12, f"{uid} passphrase")
                    unlock_ms.append((time.perf_counter() - started) * 1000)

                record_ids = [create_record(session, _data(n)).id for n in range(records)]
                session.commit()
                started = time.perf_counter()
                for record_id in record_ids:
                    for uid, _name, _role in MEMBERS:
                        if not sign_record(session, record_id, uid, signers[uid]).valid:
                            raise RuntimeError("benchmark signature was not VALID")
                sign_seconds = time.perf_counter() - started
                session.commit()

            with Session(engine) as session:
                verify_record(session, record_ids[0])  # warm caches (schemas, statements)
                timings = []
                for i in range(verifications):
                    started = time.perf_counter()
                    verification = verify_record(session, record_ids[i % len(record_ids)])
                    timings.append((time.perf_counter() - started) * 1000)
                    if not verification.complete:
                        raise RuntimeError("benchmark record did not verify")
        finally:
            engine.dispose()

    median = statistics.median(timings)
    return {
        "sign_per_s": round(records * len(MEMBERS) / sign_seconds, 1),
        "verify_per_s": round(1000 / statistics.fmean(timings), 1),
        "verify3_median_ms": round(median, 2),
        "verify3_p95_ms": round(statistics.quantiles(timings, n=20)[-1], 2),
        "unlock_median_ms": round(statistics.median(unlock_ms), 1),
        "signatures": records * len(MEMBERS),
        "verifications": verifications,
        "target_verify3_ms": TARGET_VERIFY3_MS,
        "meets_target": median < TARGET_VERIFY3_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--records", type=int, default=20)
    parser.add_argument("--verifications", type=int, default=200)
    args = parser.parse_args()
    result = run(args.records, args.verifications)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20s} {value}")


if __name__ == "__main__":
    main()
