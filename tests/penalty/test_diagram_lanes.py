"""The penalty diagrams draw each step inside the lane of the role that performs it.

The lane a node is listed in (``flowNodeRef``) decides who gets the task (the lane name is the
role); the drawing is what staff read on the case page and in the modeler. A task drawn in the
legal reviewer's band but assigned to the officers misleads both. The ordinary procedure still has
older shapes drawn outside their lane (``DRAWN_OUTSIDE``, debt from earlier work): the list may only
shrink, and the 催告/enforcement chain must be inside the officer lane.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree

FOLDER = Path(__file__).resolve().parents[2] / "processes" / "penalty"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"

DISCUSSION = ("merge_discussion", "collective_discussion", "set_participants", "confirm_discussion",
              "ended_confirm_discussion", "gw_discussion_confirmed")
ENFORCEMENT_CHAIN = ("record_execution", "execution_periods_over", "doc_urge_notice", "serve_urge_notice",
                     "merge_urge", "urge_payment", "urge_period_over", "urge_state", "gw_urge_paid",
                     "apply_enforcement", "gw_enforcement_paid")
DRAWN_OUTSIDE = {
    "penalty_ordinary.bpmn": {
        "split_preservation", "end_preservation_notice", "signal_no_penalty", "hearing_rescheduled",
        "hearing_terminated", "gw_replacement_ok", "keep_statement", "gw_statements", "propose_no_penalty",
        "draft_no_penalty", "doc_no_penalty", "serve_no_penalty", "gw_correction", "check_correction",
        "gw_ending_kind", "draft_transfer", "doc_transfer_letter", "record_transfer_receipt",
        "doc_ending_report", "ended_draft_no_penalty",
        "end_filing_notice",
        "end_rejected", "watch_wait", "extension_requested",
        "recusal_applied", "decision_made", "gw_extension", "apply_extension", "sync_extension",
        "decide_recusal", "gw_recusal", "ending_requested", "approve_ending", "gw_ending_approved",
        "signal_case_ending"},
}

Box = tuple[float, float, float, float]
OMGDI = "http://www.omg.org/spec/DD/20100524/DI"


def _boxes(root: etree._Element) -> dict[str, Box]:
    out: dict[str, Box] = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        b = shape.find(f"{{{DC}}}Bounds")
        assert b is not None
        x, y = float(b.get("x", "0")), float(b.get("y", "0"))
        out[shape.get("bpmnElement", "")] = (x, y, x + float(b.get("width", "0")), y + float(b.get("height", "0")))
    return out


def _placement(path: Path) -> tuple[dict[str, str], set[str]]:
    """Node -> lane name, and the nodes whose shape is not inside their lane's band."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    boxes = _boxes(root)
    lane_of: dict[str, str] = {}
    outside: set[str] = set()
    for lane in root.iter(f"{{{BPMN}}}lane"):
        lx0, ly0, lx1, ly1 = boxes[lane.get("id", "")]
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            node = (ref.text or "").strip()
            lane_of[node] = lane.get("name", "")
            x0, y0, x1, y1 = boxes[node]
            if not (lx0 <= x0 and x1 <= lx1 and ly0 <= y0 and y1 <= ly1):
                outside.add(node)
    return lane_of, outside


@pytest.mark.parametrize("name", sorted(p.name for p in FOLDER.glob("*.bpmn")))
def test_no_new_shape_outside_its_lane(name: str) -> None:
    _lanes, outside = _placement(FOLDER / name)
    known = DRAWN_OUTSIDE.get(name, set())
    assert outside <= known, f"drawn outside their lane: {sorted(outside - known)}"
    assert not known - outside, f"now inside their lane, drop from DRAWN_OUTSIDE: {sorted(known - outside)}"


@pytest.mark.parametrize("name", ["penalty_ordinary.bpmn", "penalty_summary.bpmn"])
def test_enforcement_chain_is_drawn_in_the_officer_lane(name: str) -> None:
    lane_of, outside = _placement(FOLDER / name)
    chain = [n for n in ENFORCEMENT_CHAIN if n in lane_of]
    assert {"serve_urge_notice", "urge_payment", "urge_period_over", "apply_enforcement",
            "gw_enforcement_paid"} <= set(chain)
    assert {n: lane_of[n] for n in chain} == dict.fromkeys(chain, "officer")
    assert not outside & set(chain), sorted(outside & set(chain))


@pytest.mark.parametrize("name", sorted(p.name for p in FOLDER.glob("*.bpmn")))
def test_boundary_events_are_in_their_hosts_lane(name: str) -> None:
    root = etree.parse(str(FOLDER / name), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    lane_of, _outside = _placement(FOLDER / name)
    wrong = {b.get("id"): (lane_of.get(b.get("id", "")), lane_of.get(b.get("attachedToRef", "")))
             for b in root.iter(f"{{{BPMN}}}boundaryEvent")
             if lane_of.get(b.get("id", "")) != lane_of.get(b.get("attachedToRef", ""))}
    assert not wrong, wrong


def test_collective_discussion_and_confirmations_are_drawn_in_the_head_lane() -> None:
    lane_of, outside = _placement(FOLDER / "penalty_ordinary.bpmn")
    assert {n: lane_of[n] for n in DISCUSSION} == dict.fromkeys(DISCUSSION, "head")
    assert not outside & set(DISCUSSION), sorted(outside & set(DISCUSSION))


def _inside(box: Box, outer: Box) -> bool:
    return outer[0] <= box[0] and box[2] <= outer[2] and outer[1] <= box[1] and box[3] <= outer[3]


@pytest.mark.parametrize("name", sorted(p.name for p in FOLDER.glob("*.bpmn")))
def test_flows_between_shapes_in_the_pool_stay_in_the_pool(name: str) -> None:
    """A flow whose two ends are drawn in the pool is drawn in it too: a bend point far outside
    (the case-ending end event once sat below the pool, fed by 18 diagonals across the whole
    process) makes the fitted diagram on the case page a tall frame of empty space and crossing lines."""
    root = etree.parse(str(FOLDER / name), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    boxes = _boxes(root)
    pools = [boxes[p.get("id", "")] for p in root.iter(f"{{{BPMN}}}participant") if p.get("id", "") in boxes]
    ends = {f.get("id"): (f.get("sourceRef", ""), f.get("targetRef", "")) for f in root.iter(f"{{{BPMN}}}sequenceFlow")}
    wrong = {}
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        source, target = ends.get(edge.get("bpmnElement", ""), ("", ""))
        pool = next((p for p in pools if _inside(boxes.get(source, p), p) and _inside(boxes.get(target, p), p)), None)
        if pool is None or source not in boxes or target not in boxes:
            continue
        points = [(float(w.get("x", "0")), float(w.get("y", "0"))) for w in edge.iter(f"{{{OMGDI}}}waypoint")]
        outside = [pt for pt in points if not _inside((*pt, *pt), pool)]
        if outside:
            wrong[edge.get("bpmnElement")] = outside
    assert not wrong, wrong


def test_every_way_to_the_case_ending_end_is_drawn_square_in_the_officer_lane() -> None:
    root = etree.parse(str(FOLDER / "penalty_ordinary.bpmn"),
                       etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    lane_of, outside = _placement(FOLDER / "penalty_ordinary.bpmn")
    assert lane_of["end_by_ending"] == "officer" and "end_by_ending" not in outside
    into = {f.get("id") for f in root.iter(f"{{{BPMN}}}sequenceFlow") if f.get("targetRef") == "end_by_ending"}
    assert len(into) >= 15
    slanted = {}
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        if edge.get("bpmnElement") in into:
            points = [(float(w.get("x", "0")), float(w.get("y", "0"))) for w in edge.iter(f"{{{OMGDI}}}waypoint")]
            if any(a[0] != b[0] and a[1] != b[1] for a, b in pairwise(points)):
                slanted[edge.get("bpmnElement")] = points
    assert not slanted, slanted
