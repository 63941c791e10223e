"""Strings of the case detail screen and its dialogs, in English and Simplified Chinese.

Registered with `fieldapp.i18n.add_catalogue` on import; vocabulary names (categories,
statuses, visit kinds, flags, sources) come from `fieldapp.i18n.vocabulary`, not from here.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    # Footer and buttons
    "binding.case_visit": ("Log visit", "记录走访"),
    "binding.case_update": ("Update", "更新进展"),
    "binding.case_edit": ("Edit", "修改信息"),
    "binding.case_claim": ("Claim", "认领"),
    "binding.case_reopen": ("Reopen", "重新启动"),
    "binding.case_save": ("Save", "保存"),
    "binding.case_cancel": ("Cancel", "取消"),
    "case.button.visit": ("Log visit (v)", "记录走访 (v)"),
    "case.button.update": ("Update (u)", "更新进展 (u)"),
    "case.button.claim": ("Claim (c)", "认领 (c)"),
    "case.button.reopen": ("Reopen (r)", "重新启动 (r)"),
    "case.button.back": ("Back (Esc)", "返回 (Esc)"),
    # Header
    "case.title": ("Case {id}", "案件 {id}"),
    "case.missing": (
        "Case {id} is not on this device. Go back and choose a case from the list.",
        "本设备上没有案件 {id}。请返回，从列表中选择案件。",
    ),
    "case.status": ("Status: {status}", "状态：{status}"),
    "case.tier": ("Tier: {tier}", "调处层级：{tier}"),
    "case.escalation_pending": ("awaiting a supervisor's approval", "待所长批准"),
    "case.assignee": ("Officer in charge: {name}", "承办民警：{name}"),
    "case.claimed_by": ("Claimed by: {name}", "认领人：{name}"),
    "case.nobody": ("nobody yet", "暂无"),
    "case.deadline": ("Deadline: {date}", "办理时限：{date}"),
    "case.overdue": ("OVERDUE", "已超期"),
    "case.none": ("none", "无"),
    "case.source": ("Source: {source}", "来源：{source}"),
    "case.flags": ("Flags: {flags}", "风险提示：{flags}"),
    "case.parties": ("Parties: {parties}", "当事人：{parties}"),
    "case.referral": (
        "Referred to {department}; notified: {notified}",
        "已移交{department}；通报情况：{notified}",
    ),
    "case.outcome": ("Outcome: {outcome}", "化解结果：{outcome}"),
    "case.followups": ("Follow-ups: {dates}", "回访安排：{dates}"),
    "case.followup_done": ("{due} done", "{due} 已回访"),
    "case.followup_due": ("{due} due", "{due} 待回访"),
    "case.followup_cancelled": ("{due} cancelled by the reopening", "{due} 因重新启动已取消"),
    "case.reopened": ("Reopened by {name} on {at}: {reason}", "{name} 于 {at} 重新启动：{reason}"),
    "case.reopened_outcome": (
        "Outcome ended by the reopening: {outcome}",
        "重新启动前的化解结果（已失效）：{outcome}",
    ),
    "case.summary": ("Summary: {summary}", "摘要：{summary}"),
    "case.alert.overdue": (
        "Overdue: the deadline {date} has passed and the case is not resolved.",
        "已超期：办理时限 {date} 已过，案件尚未化解。",
    ),
    "case.alert.conflicts": (
        "{count} conflicting edit(s) to review ({fields}): both values are in the timeline.",
        "有 {count} 处编辑冲突待核对（{fields}）：两个值都列在时间线中。",
    ),
    "case.timeline": ("Timeline", "办理经过"),
    "case.timeline_empty": ("Nothing recorded yet.", "尚无记录。"),
    # Party roles, tiers, outcomes, field names
    "case.role.party": ("party", "当事人"),
    "case.role.applicant": ("applicant", "申请人"),
    "case.role.respondent": ("respondent", "被申请人"),
    "case.role.relative": ("relative", "亲属"),
    "case.role.witness": ("witness", "证人"),
    "case.tier.1": ("tier 1 (station workstation)", "一级（派出所调解工作站）"),
    "case.tier.2": ("tier 2 (joint team)", "二级（联合调解组）"),
    "case.tier.3": ("tier 3 (mediation room)", "三级（矛盾纠纷调解室）"),
    "case.outcome.agreement": ("mediation agreement", "人民调解协议"),
    "case.outcome.withdrawn": ("withdrawn", "当事人撤回"),
    "case.outcome.other": ("other outcome", "其他方式化解"),
    "case.field.source": ("Source", "来源"),
    "case.field.flags": ("Flags", "风险提示"),
    "case.field.parties": ("Parties", "当事人"),
    "case.field.tier": ("Tier", "调处层级"),
    "case.field.assignee": ("Officer in charge", "承办民警"),
    # Operation kinds (in "not counted" entries)
    "case.op.case.create": ("intake", "登记"),
    "case.op.case.set": ("edit", "修改"),
    "case.op.case.status": ("status change", "状态变更"),
    "case.op.case.reopen": ("reopening", "重新启动"),
    "case.op.case.assign": ("assignment", "交办"),
    "case.op.case.claim": ("claim", "认领"),
    "case.op.case.approve": ("approval", "批准"),
    "case.op.case.review": ("conflict review", "冲突核定"),
    "case.op.visit.add": ("visit", "走访"),
    "case.op.note.add": ("note", "备注"),
    # Timeline entries
    "case.tl.create": ("Intake recorded", "登记纠纷"),
    "case.tl.set": ("Changed: {fields}", "修改：{fields}"),
    "case.tl.status": ("Status {old} → {new}", "状态 {old} → {new}"),
    "case.tl.escalated": ("Escalated to {tier} (status {old} → {new})", "上报至{tier}（状态 {old} → {new}）"),
    "case.tl.referred": (
        "Referred to {department}, notified: {notified} (status {old} → {new})",
        "移交{department}，通报情况：{notified}（状态 {old} → {new}）",
    ),
    "case.tl.resolved": ("Resolved: {outcome}", "已化解：{outcome}"),
    "case.tl.resolved_terms": (
        "Resolved: {outcome} — terms: {terms}",
        "已化解：{outcome}——协议内容：{terms}",
    ),
    "case.tl.reason": (" — reason: {reason}", "——原因：{reason}"),
    "case.tl.reopen": ("Reopened ({old} → {new}): {reason}", "重新启动（{old} → {new}）：{reason}"),
    "case.tl.assign": ("Assigned to {name}", "交办给 {name}"),
    "case.tl.claim": ("Claimed by {name}", "由 {name} 认领"),
    "case.tl.approve": ("Escalation approved", "批准上报"),
    "case.tl.assign_deadline": ("Assigned to {name}, deadline {date}", "交办给 {name}，办理时限 {date}"),
    "case.tl.review": ("Conflict on {field} reviewed: the shown value stays", "核定{field}冲突：保留当前值"),
    "case.tl.visit": ("Visit ({kind}): {note}", "走访（{kind}）：{note}"),
    "case.tl.place": (" · place: {place}", " · 地点：{place}"),
    "case.tl.participants": (" · present: {participants}", " · 参与人：{participants}"),
    "case.tl.recorded": (" · recorded {at}", " · {at} 录入"),
    "case.tl.note": ("Note: {text}", "备注：{text}"),
    "case.tl.other": ("Recorded {kind}", "记录 {kind}"),
    "case.tl.conflict": (
        "Conflict on {field}: {first} ({first_by}, {first_at}) vs {second} ({second_by}, {second_at})",
        "{field}编辑冲突：{first}（{first_by}，{first_at}）与 {second}（{second_by}，{second_at}）",
    ),
    "case.tl.conflict_open": (" — needs review; {shown} is shown", "——待核对；当前显示 {shown}"),
    "case.tl.conflict_settled": (" — settled", "——已处理"),
    "case.tl.refused": ("Not counted ({kind}): {reason}", "未生效（{kind}）：{reason}"),
    # Dialogs, shared
    "case.dialog.save": ("Save", "保存"),
    "case.dialog.cancel": ("Cancel", "取消"),
    "case.dialog.draft_restored": (
        "Draft restored: what was typed here before the app locked. Cancel (Esc) discards it.",
        "已恢复草稿：锁定前在此输入的内容。按取消（Esc）可丢弃。",
    ),
    "case.dialog.hint": (
        "Tab: next field · ctrl+s: save · Esc: cancel",
        "Tab 切换输入项 · ctrl+s 保存 · Esc 取消",
    ),
    "case.refused": ("Refused: {reason} Nothing was recorded.", "被拒绝：{reason} 未记录任何内容。"),
    "case.too_long": ("At most {limit} characters.", "最多 {limit} 个字。"),
    # Log a visit
    "case.visit.title": ("Log a visit — case {id}", "记录走访——案件 {id}"),
    "case.visit.kind": ("Kind of visit", "走访方式"),
    "case.visit.note": ("What was said or found (required)", "走访情况（必填）"),
    "case.visit.place": ("Place (optional)", "地点（可不填）"),
    "case.visit.place_placeholder": ("e.g. the applicant's home, group 3", "例如：申请人家中、三组"),
    "case.visit.participants": ("Who took part (optional)", "参与人员（可不填）"),
    "case.visit.participants_placeholder": (
        "e.g. both parties, grid member, village cadre",
        "例如：双方当事人、网格员、村干部",
    ),
    "case.visit.note_required": (
        "Write what was said or found; the note cannot be empty.",
        "请填写走访情况，不能为空。",
    ),
    "case.visit.occurred": (
        "When it happened (optional; empty: now)",
        "发生时间（可不填；留空即为现在）",
    ),
    "case.visit.occurred_placeholder": (
        "YYYY-MM-DD HH:MM, or HH:MM for today",
        "年-月-日 时:分，当天可只写 时:分",
    ),
    "case.visit.done": ("Visit logged on case {id}.", "已记录案件 {id} 的走访。"),
    # Update the resolution
    "case.update.title": ("Update case {id} (now: {status})", "更新案件 {id} 的进展（当前：{status}）"),
    "case.update.status": ("New status", "新状态"),
    "case.update.no_status": ("No status change", "不改变状态"),
    "case.update.no_targets": (
        "A {status} case does not change status here; reopen it if it flared up again.",
        "{status}的案件不能在此改变状态；如纠纷反弹，请重新启动。",
    ),
    "case.update.tier": ("Tier it goes to", "上报层级"),
    "case.update.department": ("Department it goes to", "移交部门"),
    "case.update.department_placeholder": (
        "e.g. township comprehensive-governance centre",
        "例如：乡综治中心",
    ),
    "case.update.notified": ("How the department was notified", "通报方式"),
    "case.update.notified_placeholder": (
        "e.g. reminder letter sent, phoned the director",
        "例如：已发提示函并电话通报",
    ),
    "case.update.outcome": ("Outcome", "化解结果"),
    "case.update.terms": ("Terms of the mediation agreement", "调解协议内容"),
    "case.update.reason": ("Reason for the change (optional)", "变更原因（可不填）"),
    "case.update.note": ("Note (optional)", "备注（可不填）"),
    "case.update.nothing": ("Choose a new status or write a note.", "请选择新状态或填写备注。"),
    "case.update.tier_required": ("Choose the tier it goes to: {tiers}.", "请选择上报层级：{tiers}。"),
    "case.update.raise_tier": ("Escalated to a higher tier", "上报至更高层级"),
    "case.update.department_required": ("Name the department.", "请填写移交部门。"),
    "case.update.notified_required": ("Say how the department was notified.", "请填写通报方式。"),
    "case.update.outcome_required": ("Choose the outcome.", "请选择化解结果。"),
    "case.update.terms_required": (
        "Write the agreement's terms (who does what, e.g. who pays whom how much).",
        "请填写协议内容（例如谁向谁支付多少钱）。",
    ),
    "case.update.done": ("Case {id} updated.", "案件 {id} 已更新。"),
    # Edit the case's facts
    "case.edit.title": ("Edit case {id}", "修改案件 {id}"),
    "case.edit.village": ("Village or community", "村（社区）"),
    "case.edit.risk": ("Risk", "风险等级"),
    "case.edit.summary": ("Summary", "情况摘要"),
    "case.edit.parties": (
        "Parties (ctrl+n adds one; ctrl+r removes the one with the cursor)",
        "当事人（ctrl+n 添加；ctrl+r 删除光标所在的一名）",
    ),
    "case.edit.add_party": ("Add party (ctrl+n)", "添加当事人 (ctrl+n)"),
    "case.edit.fix_parties": (
        "Correct the party marked above (what is wrong is under it).",
        "请更正上方标出的当事人（问题写在该行下面）。",
    ),
    "case.edit.nothing": (
        "Nothing was changed: change a field, or press Esc to close.",
        "没有任何修改：请修改某一项，或按 Esc 关闭。",
    ),
    "case.edit.done": ("Case {id} updated.", "案件 {id} 已更新。"),
    # Claim
    "case.claim.title": ("Claim case {id}", "认领案件 {id}"),
    "case.claim.body": (
        "You, {name}, become the officer in charge of this case and answer for it until it is resolved.",
        "认领后，由你（{name}）承办此案并负责到化解为止。",
    ),
    "case.claim.already": ("You have already claimed this case.", "你已认领此案。"),
    "case.claim.confirm": ("Claim", "认领"),
    "case.claim.done": ("You claimed case {id}.", "已认领案件 {id}。"),
    # Reopen
    "case.reopen.title": ("Reopen case {id} (now: {status})", "重新启动案件 {id}（当前：{status}）"),
    "case.reopen.reason": ("What flared up again (required)", "反弹情况（必填）"),
    "case.reopen.reason_required": (
        "Say what flared up again; the reason cannot be empty.",
        "请说明反弹情况，原因不能为空。",
    ),
    "case.reopen.confirm": ("Reopen", "重新启动"),
    "case.reopen.done": ("Case {id} reopened.", "案件 {id} 已重新启动。"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
