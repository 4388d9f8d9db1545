"""The four inspection BPMN files, written from this description (``python -m
processes.inspections.bpmn_source`` rewrites them).

Why generated: each element, flow, lane and its simple left-to-right diagram are one line here,
so a change cannot leave a flow without its diagram edge; the files beside this module are what
the engine deploys (and what reviewers and the diagram viewer read). Names are Chinese, with
their English in ``domain.en.po``.
"""

# ruff: noqa: E501 - one BPMN element per line reads better than wrapped tuples
from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

FOLDER = Path(__file__).resolve().parent
HEADER = ('<?xml version=\'1.0\' encoding=\'UTF-8\'?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
          '20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/'
          'DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:spiffworkflow="http://spiffworkflow.'
          'org/bpmn/schema/1.0/core" id="defs_{pid}" targetNamespace="http://weijian.example/bpmn/inspections" '
          'exporter="weijian" exporterVersion="1">\n')

# (id, kind, name, lane, column, row, extra)
PLAN = {
    "id": "inspection_plan", "name": "双随机抽查计划审批与抽取", "lanes": ["head", "officer"],
    "nodes": [
        ("p_start", "startEvent", "提交抽查计划", "officer", 0, 0, {}),
        ("approve_plan", "userTask", "审批抽查计划", "head", 1, 0, {
            "formKey": "inspections.approve_plan", "doc": "负责人审查抽查事项、范围、比例、权重和排除条件；批准后计划向社会公开（国发〔2019〕5号）。"}),
        ("p_gw_approved", "exclusiveGateway", "是否批准", "head", 2, 0, {"default": "f_p_gw_approved__revise_plan"}),
        ("revise_plan", "userTask", "修改抽查计划", "officer", 2, 1, {
            "formKey": "inspections.revise_plan", "assignee": "plan['created_by']"}),
        ("publish_plan", "serviceTask", "发布抽查计划", "head", 3, 0, {"operator": ("inspections.publish_plan", "published", {
            "plan_id": "plan['plan_id']", "approved_by": "approval['approved_by']"})}),
        ("p_gw_scheduled", "exclusiveGateway", "是否按周期抽取", "head", 4, 0, {"default": "f_p_gw_scheduled__commit_draw"}),
        ("p_end_scheduled", "endEvent", "计划已发布，按周期抽取", "head", 5, 1, {}),
        ("commit_draw", "serviceTask", "锁定名录快照并承诺随机种子", "head", 5, 0, {"operator": (
            "inspections.commit_draw", "draw_commit", {"plan_id": "plan['plan_id']"})}),
        ("p_gw_witness", "exclusiveGateway", "随机种子来源", "head", 6, 0, {"default": "f_p_gw_witness__perform_draw"}),
        ("witness_seed", "userTask", "见证人录入公开随机数", "head", 7, 1, {
            "formKey": "inspections.witness_seed", "assignee": "plan['witness_id']", "reassignable": "false",
            "doc": "抽取前已锁定名录快照的哈希值；见证人录入此后产生的公开随机数（如彩票开奖号码）作为随机种子。"}),
        ("perform_draw", "serviceTask", "抽取检查对象和检查人员", "head", 8, 0, {"operator": (
            "inspections.perform_draw", "draw_result", {
                "draw_id": "draw_commit['draw_id']",
                "public_value": "witness['public_value'] if draw_commit['seed_source'] == 'witnessed' else ''",
                "witness": "witness['witnessed_by'] if draw_commit['seed_source'] == 'witnessed' else ''"})}),
        ("p_end", "endEvent", "抽取完成，检查任务已派发", "head", 9, 0, {}),
    ],
    "flows": [
        ("p_start", "approve_plan", "", ""), ("approve_plan", "p_gw_approved", "", ""),
        ("p_gw_approved", "publish_plan", "批准", "approval['approved']"),
        ("p_gw_approved", "revise_plan", "退回修改", ""), ("revise_plan", "approve_plan", "", ""),
        ("publish_plan", "p_gw_scheduled", "", ""),
        ("p_gw_scheduled", "p_end_scheduled", "按周期抽取", "plan['scheduled']"),
        ("p_gw_scheduled", "commit_draw", "立即抽取", ""), ("commit_draw", "p_gw_witness", "", ""),
        ("p_gw_witness", "witness_seed", "见证人录入", "draw_commit['seed_source'] == 'witnessed'"),
        ("p_gw_witness", "perform_draw", "系统生成", ""), ("witness_seed", "perform_draw", "", ""),
        ("perform_draw", "p_end", "", ""),
    ],
}

TASK = {
    "id": "inspection_task", "name": "双随机抽查检查", "lanes": ["officer", "head"],
    "nodes": [
        ("i_start", "startEvent", "抽中检查对象", "officer", 0, 0, {}),
        ("declare", "userTask", "声明无利益冲突", "officer", 1, 0, {
            "formKey": "inspections.declare", "assignee": "declarer['user_id']", "reassignable": "false",
            "due": "window_end", "multi": ("declarers", "declarations", "declarer", "declaration"),
            "doc": "抽中的检查人员与检查对象有利害关系的应当回避（国发〔2019〕5号）；声明有冲突的，系统另行随机抽取并记录。"}),
        ("check_declarations", "serviceTask", "核对利益冲突声明", "officer", 2, 0, {"operator": (
            "inspections.check_declarations", "conflicts", {
                "inspection_id": "inspection_id", "declarations": "declarations"})}),
        ("i_gw_conflict", "exclusiveGateway", "是否需要替换检查人员", "officer", 3, 0,
         {"default": "f_i_gw_conflict__onsite"}),
        ("set_declarers", "scriptTask", "替换人员声明", "officer", 3, 1, {"script": (
            "declarers = conflicts['declarers']\ninspectors = conflicts['inspectors']\n"
            "lead = conflicts['lead']\ndeclarations = []")}),
        ("i_end_unstaffed", "endEvent", "检查人员不足，报负责人", "officer", 4, 2, {}),
        ("onsite", "userTask", "现场检查", "officer", 4, 0, {
            "formKey": "inspections.onsite", "assignee": "lead", "due": "window_end",
            "doc": "两名检查人员到场，按抽查事项的检查内容逐项检查，记录证据，被检查单位负责人签字或者注明拒签。"}),
        ("confirm_onsite", "userTask", "检查人员确认现场检查记录", "officer", 5, 0, {
            "formKey": "inspections.confirm_onsite", "assignee": "[p['user_id'] for p in inspectors if p['user_id'] != lead][0]",
            "reassignable": "false", "due": "window_end",
            "doc": "执法人员不得少于两人（行政处罚法第四十二条）：另一名检查人员核对主检人员的现场检查记录（检查情况、结果、不符合项和证据），确认或者说明异议；有异议的退回主检人员修改后再次确认。确认后才由负责人审核。"}),
        ("i_gw_confirmed", "exclusiveGateway", "是否确认", "officer", 6, 0, {"default": "f_i_gw_confirmed__onsite"}),
        ("review", "userTask", "负责人审核检查结果", "head", 7, 0, {"formKey": "inspections.review"}),
        ("i_gw_review", "exclusiveGateway", "是否退回", "head", 8, 0, {"default": "f_i_gw_review__onsite"}),
        ("i_gw_outcome", "exclusiveGateway", "检查结果", "head", 9, 0, {"default": "f_i_gw_outcome__record_result"}),
        ("issue_opinion", "serviceTask", "出具卫生监督意见书", "officer", 10, 1, {"operator": (
            "inspections.issue_opinion", "opinion", {"inspection_id": "inspection_id", "record": "onsite"})}),
        ("wait_correction", "intermediateCatchEvent", "整改期限届满", "officer", 11, 1, {
            "timer": "end_of_day(onsite['correction_due'])"}),
        ("reinspect", "userTask", "复查整改情况", "officer", 12, 1, {
            "formKey": "inspections.reinspect", "assignee": "lead"}),
        ("i_gw_corrected", "exclusiveGateway", "是否整改到位", "officer", 13, 1,
         {"default": "f_i_gw_corrected__open_lead"}),
        ("open_lead", "serviceTask", "移送案源登记（行政处罚）", "officer", 14, 2, {"operator": (
            "inspections.open_penalty_lead", "penalty_lead", {"inspection_id": "inspection_id"})}),
        ("record_result", "serviceTask", "登记检查结果", "head", 15, 0, {"operator": (
            "inspections.record_result", "result", {"inspection_id": "inspection_id", "as_of": "today().isoformat()"})}),
        ("disclose", "userTask", "公示检查结果", "head", 16, 0, {
            "formKey": "inspections.disclose", "due": "result['disclosure_due']",
            "doc": "核对公示内容（检查对象、事项、日期、结果和处理情况，不含检查人员、内部意见和个人信息）后公示；期限为结果登记之日起20个工作日（国发〔2019〕5号），逾期未公示的向负责人督办。"}),
        ("i_end", "endEvent", "检查结束", "head", 17, 0, {}),
    ],
    "flows": [
        ("i_start", "declare", "", ""), ("declare", "check_declarations", "", ""),
        ("check_declarations", "i_gw_conflict", "", ""),
        ("i_gw_conflict", "set_declarers", "重新抽取检查人员", "conflicts['replaced']"),
        ("i_gw_conflict", "i_end_unstaffed", "无人可替换", "conflicts['unstaffed']"),
        ("i_gw_conflict", "onsite", "无利益冲突", ""), ("set_declarers", "declare", "", ""),
        ("onsite", "confirm_onsite", "", ""), ("confirm_onsite", "i_gw_confirmed", "", ""),
        ("i_gw_confirmed", "review", "确认", "confirmation['confirmed']"),
        ("i_gw_confirmed", "onsite", "有异议，退回主检人员", ""), ("review", "i_gw_review", "", ""),
        ("i_gw_review", "i_gw_outcome", "同意", "review['approved']"), ("i_gw_review", "onsite", "退回", ""),
        ("i_gw_outcome", "issue_opinion", "责令改正", "onsite['outcome'] == 'correction'"),
        ("i_gw_outcome", "open_lead", "涉嫌违法", "onsite['outcome'] == 'violation'"),
        ("i_gw_outcome", "record_result", "合格或者查无此户", ""),
        ("issue_opinion", "wait_correction", "", ""), ("wait_correction", "reinspect", "", ""),
        ("reinspect", "i_gw_corrected", "", ""),
        ("i_gw_corrected", "record_result", "已整改", "reinspection['corrected']"),
        ("i_gw_corrected", "open_lead", "未整改", ""), ("open_lead", "record_result", "", ""),
        ("record_result", "disclose", "", ""), ("disclose", "i_end", "", ""),
    ],
}

SIGN = {
    "id": "inspection_draw_signing", "name": "签署抽取记录", "lanes": ["officer"],
    "nodes": [
        ("s_start", "startEvent", "抽取完成", "officer", 0, 0, {}),
        ("sign_draw", "userTask", "签署抽取记录", "officer", 1, 0, {
            "formKey": "inspections.sign_draw", "assignee": "signer['user_id']", "reassignable": "false",
            "due": "sign_due", "multi": ("signers", "signatures", "signer", "signature"),
            "doc": "抽取人和见证人各自用本人的签名证书和签名口令签署抽取记录（计划、算法及参数、种子承诺和公开的种子、快照哈希、抽中的检查对象和检查人员），国办发〔2015〕58号要求抽查全过程留痕。检查任务不等待签名即已派发；逾期未签名的，提醒签名人并在计划页和督办页标注。"}),
        ("s_end", "endEvent", "抽取记录已签署", "officer", 2, 0, {}),
    ],
    "flows": [("s_start", "sign_draw", "", ""), ("sign_draw", "s_end", "", "")],
}

WITNESS = {
    "id": "inspection_draw_witness", "name": "见证人录入公开随机数（重新抽取）", "lanes": ["head"],
    "nodes": [
        ("w_start", "startEvent", "重新抽取已承诺", "head", 0, 0, {}),
        ("witness_seed", "userTask", "见证人录入公开随机数", "head", 1, 0, {
            "formKey": "inspections.witness_seed", "assignee": "witness_id", "reassignable": "false",
            "doc": "重新抽取前已锁定新的名录快照的哈希值；与首次抽取一样，由计划指定的见证人录入此后产生的公开随机数（如彩票开奖号码）作为随机种子。"}),
        ("perform_draw", "serviceTask", "抽取检查对象和检查人员", "head", 2, 0, {"operator": (
            "inspections.perform_draw", "draw_result", {
                "draw_id": "draw_id", "public_value": "witness['public_value']",
                "witness": "witness['witnessed_by']"})}),
        ("w_end", "endEvent", "抽取完成，检查任务已派发", "head", 3, 0, {}),
    ],
    "flows": [("w_start", "witness_seed", "", ""), ("witness_seed", "perform_draw", "", ""),
              ("perform_draw", "w_end", "", "")],
}

SIZES = {"startEvent": (36, 36), "endEvent": (36, 36), "intermediateCatchEvent": (36, 36),
         "exclusiveGateway": (50, 50)}
LANE_H, COL_W, X0 = 300, 170, 190


def _fid(a: str, b: str) -> str:
    return f"f_{a}__{b}"


def _node(n: tuple[Any, ...], flows: list[Any]) -> str:
    nid, kind, name, _lane, _c, _r, extra = n
    attrs = f' id="{nid}" name={quoteattr(name)}'
    if "default" in extra:
        attrs += f' default="{extra["default"]}"'
    body = []
    if extra.get("doc"):
        body.append(f"<bpmn:documentation>{escape(extra['doc'])}</bpmn:documentation>")
    props = [(k, extra[v]) for k, v in (("formKey", "formKey"), ("assignee", "assignee"), ("dueDate", "due"),
                                        ("reassignable", "reassignable")) if v in extra]
    if props:
        body.append("<bpmn:extensionElements><spiffworkflow:properties>" + "".join(
            f"<spiffworkflow:property name=\"{k}\" value={quoteattr(v)}/>" for k, v in props)
            + "</spiffworkflow:properties></bpmn:extensionElements>")
    if "operator" in extra:
        op, result, params = extra["operator"]
        body.append(f'<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="{op}" resultVariable="{result}">'
                    "<spiffworkflow:parameters>" + "".join(
                        f'<spiffworkflow:parameter id="{k}" type="any" value={quoteattr(v)}/>' for k, v in params.items())
                    + "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>")
    body += [f"<bpmn:incoming>{_fid(a, b)}</bpmn:incoming>" for a, b, *_ in flows if b == nid]
    body += [f"<bpmn:outgoing>{_fid(a, b)}</bpmn:outgoing>" for a, b, *_ in flows if a == nid]
    if "multi" in extra:
        src, out, item, out_item = extra["multi"]
        body.append(f"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>{src}</bpmn:loopDataInputRef>"
                    f"<bpmn:loopDataOutputRef>{out}</bpmn:loopDataOutputRef><bpmn:inputDataItem id=\"{item}\"/>"
                    f"<bpmn:outputDataItem id=\"{out_item}\"/></bpmn:multiInstanceLoopCharacteristics>")
    if "script" in extra:
        body.append(f"<bpmn:script>{escape(extra['script'])}</bpmn:script>")
    if "timer" in extra:
        body.append(f"<bpmn:timerEventDefinition><bpmn:timeDate>{escape(extra['timer'])}</bpmn:timeDate>"
                    "</bpmn:timerEventDefinition>")
    inner = "\n      ".join(body)
    return f"    <bpmn:{kind}{attrs}>\n      {inner}\n    </bpmn:{kind}>"


def _bounds(n: tuple[Any, ...], lanes: list[str]) -> tuple[int, int, int, int]:
    _nid, kind, _name, lane, col, row, _extra = n
    w, h = SIZES.get(kind, (120, 80))
    cx, cy = X0 + 60 + col * COL_W, 80 + lanes.index(lane) * LANE_H + 60 + row * 100
    return cx - w // 2, cy - h // 2, w, h


def render(proc: dict[str, Any]) -> str:
    pid, nodes, lanes = proc["id"], proc["nodes"], proc["lanes"]
    flows = proc["flows"]
    out = [HEADER.format(pid=pid), f'  <bpmn:collaboration id="collab_{pid}">\n    <bpmn:participant '
           f'id="participant_{pid}" name={quoteattr(proc["name"])} processRef="{pid}"/>\n  </bpmn:collaboration>',
           f'  <bpmn:process id="{pid}" name={quoteattr(proc["name"])} isExecutable="true">',
           f'    <bpmn:laneSet id="lanes_{pid}">']
    for lane in lanes:
        refs = "".join(f"<bpmn:flowNodeRef>{n[0]}</bpmn:flowNodeRef>" for n in nodes if n[3] == lane)
        out.append(f'      <bpmn:lane id="lane_{pid}_{lane}" name="{lane}">{refs}</bpmn:lane>')
    out.append("    </bpmn:laneSet>")
    out += [_node(n, flows) for n in nodes]
    for a, b, name, cond in flows:
        label = f" name={quoteattr(name)}" if name else ""
        if cond:
            out.append(f'    <bpmn:sequenceFlow id="{_fid(a, b)}"{label} sourceRef="{a}" targetRef="{b}">'
                       f"<bpmn:conditionExpression>{escape(cond)}</bpmn:conditionExpression></bpmn:sequenceFlow>")
        else:
            out.append(f'    <bpmn:sequenceFlow id="{_fid(a, b)}"{label} sourceRef="{a}" targetRef="{b}"/>')
    out.append("  </bpmn:process>")
    width = X0 + 120 + max(n[4] for n in nodes) * COL_W
    out.append(f'  <bpmndi:BPMNDiagram id="diagram_{pid}">\n    <bpmndi:BPMNPlane id="plane_{pid}" '
               f'bpmnElement="collab_{pid}">')
    out.append(f'      <bpmndi:BPMNShape id="di_participant_{pid}" bpmnElement="participant_{pid}" isHorizontal="true">'
               f'<dc:Bounds x="120" y="80" width="{width}" height="{LANE_H * len(lanes)}"/></bpmndi:BPMNShape>')
    for i, lane in enumerate(lanes):
        out.append(f'      <bpmndi:BPMNShape id="di_lane_{pid}_{lane}" bpmnElement="lane_{pid}_{lane}" '
                   f'isHorizontal="true"><dc:Bounds x="150" y="{80 + i * LANE_H}" width="{width - 30}" '
                   f'height="{LANE_H}"/></bpmndi:BPMNShape>')
    where = {n[0]: _bounds(n, lanes) for n in nodes}
    for n in nodes:
        x, y, w, h = where[n[0]]
        marker = ' isMarkerVisible="true"' if n[1] == "exclusiveGateway" else ""
        out.append(f'      <bpmndi:BPMNShape id="di_{n[0]}" bpmnElement="{n[0]}"{marker}>'
                   f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>')
    for a, b, *_ in flows:
        ax, ay, aw, ah = where[a]
        bx, by, _bw, bh = where[b]
        out.append(f'      <bpmndi:BPMNEdge id="di_{_fid(a, b)}" bpmnElement="{_fid(a, b)}">'
                   f'<di:waypoint x="{ax + aw}" y="{ay + ah // 2}"/><di:waypoint x="{bx}" y="{by + bh // 2}"/>'
                   "</bpmndi:BPMNEdge>")
    out.append("    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n")
    return "\n".join(out)


def write() -> list[Path]:
    paths = []
    for proc in (PLAN, TASK, SIGN, WITNESS):
        path = FOLDER / f"{proc['id']}.bpmn"
        path.write_text(render(proc), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
