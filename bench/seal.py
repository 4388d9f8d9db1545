"""Benchmark: the extra cost of sealing one outward penalty document (PAdES-B-B with pyHanko).

``python -m bench.seal --json`` prints one JSON object (medians over ``--documents`` runs):

* ``render_ms``: rendering a 行政处罚决定书 to PDF without the seal (WeasyPrint), as before;
* ``sealed_total_ms``: the same document through ``processes.penalty.seal.sealed_pdf``: unlock
  the unit's seal key, render with the seal image and locate it, sign;
* ``seal_ms``: ``sealed_total_ms - render_ms``, the extra cost per document, of which
  ``unlock_ms`` (opening the PKCS#12: 600,000 PBKDF2 rounds, slow on purpose) and ``sign_ms``
  (pyHanko incremental update and CMS signature) are measured on their own;
* ``verify_ms``: ``signing.verify_pdf`` (integrity, coverage, chain to the root, CRL), uncached.

Runs on a temporary SQLite database built by the migrations, with a throwaway CA.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import signing
from migrations.runner import upgrade
from processes.penalty.documents import html_to_pdf, render_html
from processes.penalty.models import PenaltyCase
from processes.penalty.seal import sealed_pdf

CA_PASSPHRASE = "bench-root-passphrase"  # noqa: S105 - a throwaway CA in a temporary database
SEAL_PASSPHRASE = "bench-seal-passphrase"  # noqa: S105 - idem
UNIT = ("610302", "渭滨区卫生监督所")
FACTS = "经查，当事人使用未取得护士执业证书的人员从事护理工作。" * 8
DECISION = {"decision": {"decided_on": "2026-12-01", "facts": FACTS,
                         "legal_basis": "《护士条例》第二十八条", "payee": "渭滨区财政局",
                         "reconsideration_body": "宝鸡市卫生健康委员会", "court": "渭滨区人民法院"},
            "penalty": {"text": "警告，并处罚款人民币伍仟元整", "fine": 500_000}}


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return (time.perf_counter() - start) * 1000, value


def run(documents: int) -> dict[str, float | int]:
    os.environ[signing.SEAL_PASSPHRASE_ENV] = SEAL_PASSPHRASE
    case = PenaltyCase(id="bench", unit_id=UNIT[0], unit_name=UNIT[1], case_number="渭卫医罚〔2026〕1号",
                       officers=[], procedure="ordinary")
    plain = render_html(case, "decision", DECISION, {}, number=case.case_number, today=date(2026, 12, 1))
    sealed = render_html(case, "decision", DECISION, {}, number=case.case_number, today=date(2026, 12, 1),
                         sealed=True)
    timings: dict[str, list[float]] = {k: [] for k in ("render", "sealed_total", "unlock", "sign", "verify")}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = create_engine(url)
        try:
            with Session(engine) as session:
                signing.init_ca(session, ca_passphrase=CA_PASSPHRASE)
                signing.issue_seal_certificate(session, *UNIT, ca_passphrase=CA_PASSPHRASE)
                session.commit()
                root, crl = signing.ca_certificate(session), signing.latest_crl_der(session)
                html_to_pdf(plain)  # warm WeasyPrint's imports and font cache
                for _ in range(documents):
                    ms, pdf = _ms(lambda: html_to_pdf(plain))
                    timings["render"].append(ms)
                    ms, signed = _ms(lambda: sealed_pdf(session, UNIT[0], sealed))
                    timings["sealed_total"].append(ms)
                    ms, seal = _ms(lambda: signing.unit_seal(session, UNIT[0]))
                    timings["unlock"].append(ms)
                    ms, _out = _ms(lambda: signing.sign_pdf(pdf, seal))  # noqa: B023 - called at once
                    timings["sign"].append(ms)
                    ms, report = _ms(lambda: signing.verify_pdf(signed, root, crl_der=crl))  # noqa: B023
                    timings["verify"].append(ms)
                    if report.status is not signing.SealStatus.VALID:
                        raise RuntimeError(f"benchmark document did not verify: {report.detail}")
        finally:
            engine.dispose()
    med = {k: statistics.median(v) for k, v in timings.items()}
    return {
        "render_ms": round(med["render"], 1),
        "sealed_total_ms": round(med["sealed_total"], 1),
        "seal_ms": round(med["sealed_total"] - med["render"], 1),
        "unlock_ms": round(med["unlock"], 1),
        "sign_ms": round(med["sign"], 1),
        "verify_ms": round(med["verify"], 1),
        "documents": documents,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--documents", type=int, default=10)
    args = parser.parse_args()
    result = run(args.documents)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:20s} {value}")


if __name__ == "__main__":
    main()
