"""Audit actions as words: the label (Chinese domain text, English through ``domain.po``) of every
action string the engine, the process packages and the web layer write to the audit chains.

Internal names such as ``business_key_set`` or ``service_task_completed`` mean nothing to an
officer reading a case's history or to an auditor reading the system chain. Every action written
anywhere has an entry here; ``tests/web/test_case_history.py`` walks the code base's audit calls
and fails naming any action without one. An action written by older code (or a package removed
since) still renders: ``action_label`` falls back to the name with its underscores as spaces.
"""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    # a case's own chain (engine verbs)
    "instance_started": "启动案件", "instance_completed": "案件办结", "instance_cancelled": "撤销案件",
    "task_completed": "完成任务", "task_claimed": "领取任务", "task_unclaimed": "释放任务", "task_assigned": "指派任务",
    "task_due_changed": "修改期限", "business_key_set": "登记案件编号",
    "task_delegated": "委托他人办理任务", "task_resolved": "受托人交回任务",
    "task_substituted": "任务转由代理人办理", "task_substitute_refused": "代理人不能办理该任务",
    "service_task_queued": "提交后台处理", "service_task_completed": "后台处理完成",
    "timer_fired": "时限到达", "message_received": "收到消息", "message_sent": "发送消息",
    "instance_suspended": "挂起案件", "instance_resumed": "恢复案件", "variable_set": "修改流程变量",
    "instance_migrated": "迁移到流程新版本", "instance_stalled": "流程停滞（待管理员处理）",
    "instance_repaired": "管理员修复停滞的流程",
    # a case's chain (web layer)
    "task_follow_up_set": "设置跟进日期", "case_comment": "发表评论",
    # background processing failures (system chain, and the case's chain when resolved by hand)
    "incident_opened": "后台处理失败（待管理员处理）", "incident_resolved": "人工处理异常",
    "incident_retried": "重试后台处理",
    # process administration and the working-day calendar (system chain)
    "deploy": "部署流程", "draft_discarded": "放弃流程草稿", "start_timer_fired": "定时启动流程",
    "migration_started": "开始批量迁移案件", "migration_finished": "批量迁移案件完成",
    "calendar_year_entered": "录入全年工作日安排", "calendar_day_corrected": "更正工作日安排",
    # people, units, entities, API tokens (system chain)
    "user_created": "新增用户", "user_changed": "修改用户", "unit_created": "新增单位", "unit_changed": "修改单位",
    "substitution_recorded": "登记休假及代理人", "substitution_ended": "结束休假代理",
    "entity_changed": "修改监管对象信息", "api_token_created": "创建接口令牌", "api_token_revoked": "吊销接口令牌",
    # administrative penalty
    "penalty_rule_changed": "修改行政处罚规则", "penalty_rule_reset": "恢复行政处罚规则默认值",
    "penalty_dmn_changed": "修改行政处罚决策表", "penalty_dmn_reset": "恢复行政处罚决策表默认值",
    "signing_unlock_failed": "签名口令错误", "penalty_filing_extended": "负责人批准延长立案期限",
    # complaints
    "complaint_rule_changed": "修改投诉举报规则", "complaint_rule_reset": "恢复投诉举报规则默认值",
    "complaint_identity_viewed": "查看举报人身份信息", "complaint_identity_refused": "拒绝查看举报人身份信息",
    # random inspections (双随机)
    "inspection_rule_changed": "修改双随机抽查规则", "inspection_rule_reset": "恢复双随机抽查规则默认值",
    "inspection_plan_created": "新建抽查计划", "inspection_plan_changed": "修改抽查计划",
    "inspection_plan_published": "发布抽查计划", "inspection_draw_performed": "随机抽取",
    "inspection_draw_committed": "确认抽取结果", "inspection_draw_signed": "抽取记录电子签名",
    "inspection_redraw": "重新抽取", "inspection_national_list_received": "接收国家任务名单",
    "inspection_inspector_replaced": "更换检查人员", "inspection_inspector_saved": "保存检查人员",
    "inspection_inspector_leave": "登记检查人员请假", "inspection_item_saved": "保存抽查事项",
    "inspection_entity_profile_changed": "修改监管对象抽查档案", "inspection_risk_opened": "登记风险",
    "inspection_risk_closed": "解除风险", "inspection_directory_imported": "导入抽查名录",
    "inspection_schedule_created": "新建定期抽查", "inspection_schedule_paused": "暂停定期抽查",
    "inspection_schedule_resumed": "恢复定期抽查", "inspection_schedule_ran": "执行定期抽查",
    "inspection_schedule_missed": "定期抽查未按时执行", "inspection_schedule_run_requested": "申请立即执行定期抽查",
    "inspection_onsite_confirmed": "检查人员确认现场检查记录",
    "inspection_onsite_disputed": "检查人员对现场检查记录提出异议",
    "penalty_decision_disclosed": "公示行政处罚决定", "penalty_decision_not_disclosed": "决定不予公开行政处罚决定",
    "penalty_decision_withdrawn": "撤回已被撤销的行政处罚决定",
}


def action_text(action: str) -> str:
    """The action's Chinese label; an unknown action humanised (``foo_bar`` -> ``foo bar``)."""
    label = ACTIONS.get(action)
    if label is not None:
        return label
    return " ".join(action.split("_")).strip() or action
