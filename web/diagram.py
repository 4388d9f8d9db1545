"""The BPMN XML the case page's viewer shows, with a generated layout when the file has none.

bpmn-js draws only what the BPMN diagram interchange (BPMNDI) describes. Files written by a
modeler carry it; hand-written ones (tests, generated processes) do not, so for those we lay
the process out here: nodes in columns by their longest path from the start, one row band per
lane, sequence flows as orthogonal lines. The file is parsed with the engine's hardened parser.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from lxml import etree

from engine.models import ProcessDefinition
from engine.xmlsafe import parse_xml
from processes.directory.models import ROLES

from .i18n import domain_text

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
NOT_NODES = {"sequenceFlow", "laneSet", "documentation", "extensionElements", "dataObject", "dataObjectReference",
             "dataStoreReference", "textAnnotation", "association", "ioSpecification", "property"}
COLUMN_WIDTH, ROW_HEIGHT, MARGIN_X, MARGIN_Y, LANE_LABEL = 160, 110, 60, 30, 30


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _size(kind: str) -> tuple[int, int]:
    if kind.endswith("Event"):
        return 36, 36
    if kind.endswith("Gateway"):
        return 50, 50
    return 100, 80


def process_xml(definition: ProcessDefinition) -> bytes:
    """The BPMN file of ``definition``'s main process, with BPMNDI added if it has none."""
    for filename, text in sorted(definition.sources.items()):
        if not filename.endswith(".bpmn"):
            continue
        root = parse_xml(text.encode("utf-8"), filename)
        process = root.find(f"{{{BPMN}}}process[@id='{definition.process_key}']")
        if process is None:
            continue
        if root.find(f".//{{{BPMNDI}}}BPMNShape") is None:
            _add_layout(root, process)
        for lane in process.iter(f"{{{BPMN}}}lane"):  # lanes name roles: show them as people know them
            lane.set("name", ROLES.get(lane.get("name", ""), lane.get("name", "")))
        for el in root.iter():  # labels in the user's language (web.i18n: Chinese unless English chosen)
            if isinstance(el.tag, str) and el.get("name"):
                el.set("name", domain_text(el.get("name")))
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    raise LookupError(f"no BPMN file of {definition.process_key} in its deployment")


def _columns(nodes: dict[str, etree._Element], flows: list[tuple[str, str, str]]) -> dict[str, int]:
    """Longest-path layering over the flow graph with back edges (loops) ignored."""
    outgoing: dict[str, list[str]] = defaultdict(list)
    for _fid, src, dst in flows:
        if src in nodes and dst in nodes:
            outgoing[src].append(dst)
    order = list(nodes)
    starts = [n for n in order if _local(nodes[n]) == "startEvent"] or order[:1]
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def visit(root: str) -> None:  # iterative DFS: marks edges into the current path as back edges
        stack = [(root, iter(outgoing[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(outgoing[child])))

    for start in starts + order:
        if start not in state:
            visit(start)
    indegree = dict.fromkeys(order, 0)
    for src, dsts in outgoing.items():
        for dst in dsts:
            if (src, dst) not in back:
                indegree[dst] += 1
    column = dict.fromkeys(order, 0)
    queue = deque(n for n in order if indegree[n] == 0)
    while queue:
        node = queue.popleft()
        for dst in outgoing[node]:
            if (node, dst) in back:
                continue
            column[dst] = max(column[dst], column[node] + 1)
            indegree[dst] -= 1
            if indegree[dst] == 0:
                queue.append(dst)
    return column


def _add_layout(root: etree._Element, process: etree._Element) -> None:
    pid = process.get("id") or "process"
    nodes = {el.get("id", ""): el for el in process if isinstance(el.tag, str) and el.get("id")
             and _local(el) not in NOT_NODES}
    flows = [(f.get("id", ""), f.get("sourceRef", ""), f.get("targetRef", ""))
             for f in process.findall(f"{{{BPMN}}}sequenceFlow")]
    lanes = process.findall(f"{{{BPMN}}}laneSet/{{{BPMN}}}lane")
    lane_of = {ref.text.strip(): i for i, lane in enumerate(lanes)
               for ref in lane.findall(f"{{{BPMN}}}flowNodeRef") if ref.text}
    column = _columns(nodes, flows)
    cells: dict[tuple[int, int], list[str]] = defaultdict(list)
    for node_id in nodes:
        cells[(lane_of.get(node_id, 0), column[node_id])].append(node_id)
    band_rows = [max([len(v) for (lane, _c), v in cells.items() if lane == i] or [1])
                 for i in range(max(len(lanes), 1))]
    band_top = [sum(band_rows[:i]) * ROW_HEIGHT for i in range(len(band_rows))]
    boxes: dict[str, Box] = {}
    for (lane, col), ids in cells.items():
        for row, node_id in enumerate(ids):
            w, h = _size(_local(nodes[node_id]))
            cx = MARGIN_X + LANE_LABEL + col * COLUMN_WIDTH + 50
            cy = MARGIN_Y + band_top[lane] + row * ROW_HEIGHT + ROW_HEIGHT / 2
            boxes[node_id] = Box(cx - w / 2, cy - h / 2, w, h)
    width = LANE_LABEL + (max(column.values(), default=0) + 1) * COLUMN_WIDTH + 40
    height = sum(band_rows) * ROW_HEIGHT
    definitions = root
    ns_di = {"bpmndi": BPMNDI, "dc": DC, "di": DI}
    plane_ref = pid
    if lanes:
        collab = etree.Element(f"{{{BPMN}}}collaboration", id=f"wj_collab_{pid}")
        etree.SubElement(collab, f"{{{BPMN}}}participant", id=f"wj_pool_{pid}", name=process.get("name") or pid,
                         processRef=pid)
        definitions.insert(list(definitions).index(process), collab)
        plane_ref = collab.get("id", "")
    diagram = etree.SubElement(definitions, f"{{{BPMNDI}}}BPMNDiagram", nsmap=ns_di, id=f"wj_diagram_{pid}")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id=f"wj_plane_{pid}", bpmnElement=plane_ref)
    if lanes:
        _shape(plane, f"wj_pool_{pid}", Box(MARGIN_X, MARGIN_Y, width, height), horizontal=True)
        for index, lane_el in enumerate(lanes):
            _shape(plane, lane_el.get("id", ""), Box(MARGIN_X + LANE_LABEL, MARGIN_Y + band_top[index],
                                                      width - LANE_LABEL, band_rows[index] * ROW_HEIGHT),
                   horizontal=True)
    for node_id, box in boxes.items():
        _shape(plane, node_id, box, expanded=False if _local(nodes[node_id]) == "subProcess" else None)
    for fid, src, dst in flows:
        if src in boxes and dst in boxes:
            _edge(plane, fid, boxes[src], boxes[dst])


def _shape(plane: etree._Element, element_id: str, box: Box, horizontal: bool = False,
           expanded: bool | None = None) -> None:
    shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{element_id}_di", bpmnElement=element_id)
    if horizontal:
        shape.set("isHorizontal", "true")
    if expanded is not None:
        shape.set("isExpanded", "true" if expanded else "false")
    etree.SubElement(shape, f"{{{DC}}}Bounds", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}",
                     height=f"{box.h:g}")


def _edge(plane: etree._Element, flow_id: str, src: Box, dst: Box) -> None:
    edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id)
    sy, dy = src.y + src.h / 2, dst.y + dst.h / 2
    if dst.x > src.x:  # forward: leave right, enter left, bend in the middle of the gap
        sx, dx = src.x + src.w, dst.x
        mid = (sx + dx) / 2
        points = [(sx, sy), (mid, sy), (mid, dy), (dx, dy)] if sy != dy else [(sx, sy), (dx, dy)]
    else:  # loop back: leave bottom, run below, enter bottom
        low = max(src.y + src.h, dst.y + dst.h) + 20
        points = [(src.x + src.w / 2, src.y + src.h), (src.x + src.w / 2, low), (dst.x + dst.w / 2, low),
                  (dst.x + dst.w / 2, dst.y + dst.h)]
    for x, y in points:
        etree.SubElement(edge, f"{{{DI}}}waypoint", x=f"{x:g}", y=f"{y:g}")
