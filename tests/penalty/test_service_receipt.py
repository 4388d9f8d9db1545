"""The 送达回证 records what each method of service needs (民事诉讼法 Arts. 89, 91, 95)."""

from __future__ import annotations

from datetime import date

from processes.penalty.documents import render_html
from processes.penalty.models import PenaltyCase

PERIODS = {"public_notice_days": 30}


def _receipt(data: dict[str, object]) -> str:
    case = PenaltyCase(id="c1", entity_name="西安市某诊所", unit_name="莲湖区卫生健康局", officers=[])
    return render_html(case, "service_receipt", data, PERIODS, number=None, today=date(2025, 10, 9))


def test_left_service_shows_refusal_place_and_witnesses() -> None:
    html = _receipt({"method": "left", "served_on": "2025-09-30", "refusal_reason": "当事人拒绝签收",
                     "left_at": "北大街12号", "witnesses": "李华（北街社区居委会）",
                     "recording": [{"title": "留置过程录像", "file_name": "a.mp4", "sha256": "0" * 64}]})
    assert "留置送达" in html and "当事人拒绝签收" in html and "北大街12号" in html
    assert "李华（北街社区居委会）" in html and "留置过程录像" in html


def test_entrusted_and_public_notice_records() -> None:
    assert "莲湖区卫生健康局代送" in _receipt({"method": "entrusted", "served_on": "2025-10-09",
                                              "entrusted_agency": "莲湖区卫生健康局代送", "receiver": "陈明"})
    html = _receipt({"method": "public_notice", "served_on": "2025-09-30", "notice_ground": "whereabouts_unknown",
                     "attempts": "两次上门未遇"})
    assert "受送达人下落不明" in html and "两次上门未遇" in html


def test_electronic_shows_consented_address() -> None:
    html = _receipt({"method": "electronic", "served_on": "2025-09-30", "consent_ref": "卫电送〔2025〕17号",
                     "consent_address": "chenming@example.cn"})
    assert "卫电送〔2025〕17号" in html and "chenming@example.cn" in html
