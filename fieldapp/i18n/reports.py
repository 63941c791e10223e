"""Strings of exports and period reports, in English and Simplified Chinese (merged on import).

Vocabulary names (categories, statuses, risks, sources, flags, visit kinds) come from
`fieldapp.i18n.vocabulary` and `fieldapp.i18n`; outcomes from `fieldapp.i18n.case`.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    # Export columns: cases
    "export.col.id": ("Case id", "案件编号"),
    "export.col.village": ("Village", "村（社区）"),
    "export.col.category": ("Category", "纠纷类别"),
    "export.col.risk": ("Risk", "风险等级"),
    "export.col.status": ("Status", "办理状态"),
    "export.col.summary": ("Summary", "简要情况"),
    "export.col.parties": ("Parties", "当事人"),
    "export.col.source": ("Source", "线索来源"),
    "export.col.flags": ("Flags", "风险提示"),
    "export.col.deadline": ("Deadline", "办理时限"),
    "export.col.assignee": ("Officer in charge", "承办民警"),
    "export.col.created_by": ("Recorded by", "登记人"),
    "export.col.created_at": ("Recorded at", "登记时间"),
    "export.col.updated_at": ("Last change", "最后更新"),
    "export.col.visits": ("Visits", "走访次数"),
    "export.col.outcome": ("Outcome", "化解结果"),
    "export.col.terms": ("Agreement terms", "协议内容"),
    # Export columns: visits
    "export.col.visit_at": ("Visited at", "走访时间"),
    "export.col.visit_recorded_at": ("Recorded at", "录入时间"),
    "export.col.visit_kind": ("Kind", "方式"),
    "export.col.visit_author": ("Officer", "走访民警"),
    "export.col.visit_place": ("Place", "地点"),
    "export.col.visit_participants": ("Participants", "参加人员"),
    "export.col.visit_note": ("Note", "情况记录"),
    # Export columns: parties
    "export.col.party_name": ("Name", "姓名"),
    "export.col.party_phone": ("Phone", "联系电话"),
    "export.col.party_role": ("Role", "身份"),
    # Export columns: persons (fieldapp/outputs/persons_export.py)
    "export.col.person_id": ("Person id", "人员编号"),
    "export.col.person_names": ("Names", "姓名"),
    "export.col.person_aliases": ("Other ids", "其他编号"),
    "export.col.person_phones": ("Mobile", "手机号码"),
    "export.col.person_villages": ("Villages", "村（社区）"),
    "export.col.person_key": ("Key person", "重点人员"),
    "export.col.person_plan": ("Plan", "工作措施"),
    "export.col.person_officer": ("Officer responsible", "责任民警"),
    "export.col.person_due": ("Due", "期限"),
    "export.col.person_cases": ("Cases", "纠纷数"),
    "export.col.person_open": ("Open cases", "未办结"),
    "export.col.person_case_ids": ("Case ids", "案件编号"),
    "export.person_key_yes": ("yes", "是"),
    "export.list_sep": (", ", "、"),
    #: Between the parties' names in the cases' "parties" cell: names may hold commas and "、".
    "export.party_sep": ("; ", "；"),
    # The workbooks' sheet names (a sheet name holds at most 31 characters).
    "export.sheet.cases": ("cases", "案件"),
    "export.sheet.visits": ("visits", "走访"),
    "export.sheet.parties": ("parties", "当事人"),
    "export.sheet.persons": ("persons", "人员"),
    "report.sheet": ("report", "报表"),
    # Export: what was written, and a village no case has
    "export.wrote.cases": ("{count} case(s) to {path}", "{count}件案件写入 {path}"),
    "export.wrote.visits": ("{count} visit(s) to {path}", "{count}次走访写入 {path}"),
    "export.wrote.parties": ("{count} party(ies) to {path}", "{count}名当事人写入 {path}"),
    "export.wrote.persons": ("{count} person(s) to {path}", "{count}名人员写入 {path}"),
    "export.wrote.csv": ("Wrote {files}.", "已将{files}。"),
    "export.wrote.sep": ("; ", "；"),
    "export.wrote.xlsx": (
        "Wrote {cases} case(s), {visits} visit(s) and {parties} party(ies) to {path} "
        "(sheets cases, visits, parties).",
        "已将{cases}件案件、{visits}次走访、{parties}名当事人写入 {path}（工作表：案件、走访、当事人）。",
    ),
    "export.wrote.xlsx_persons": (
        "Wrote {cases} case(s), {visits} visit(s), {parties} party(ies) and {persons} person(s) to "
        "{path} (sheets cases, visits, parties, persons).",
        "已将{cases}件案件、{visits}次走访、{parties}名当事人、{persons}名人员写入 {path}"
        "（工作表：案件、走访、当事人、人员）。",
    ),
    # Persons leave a device only from a supervisor's (docs/persons.md, "Privacy")
    "export.persons_left_out": (
        "No persons sheet: persons (key persons and their plans) are exported only on the "
        "supervisor's device. To include them, sync this device (`fieldapp sync`) and run "
        "`fieldapp export` on the supervisor's device.",
        "未含人员工作表：人员信息（含重点人员及工作措施）只能在所长的设备上导出。如需要，请先同步"
        "本设备（`fieldapp sync`），再在所长的设备上运行 `fieldapp export`。",
    ),
    "export.persons_supervisor_only": (
        "Persons are exported only on the supervisor's device, and this is an officer's; nothing "
        "was written. Leave out --persons-out to export the cases here, or sync this device "
        "(`fieldapp sync`) and run `fieldapp export` on the supervisor's device.",
        "人员信息只能在所长的设备上导出，本设备是民警的设备；未写入任何文件。如只导出案件，请去掉 "
        "--persons-out；或先同步本设备（`fieldapp sync`），再在所长的设备上运行 `fieldapp export`。",
    ),
    "export.persons_out_csv_only": (
        "--persons-out is for --format csv only: an xlsx workbook from the supervisor's device has "
        "a persons sheet; for JSON use `fieldapp person list --json`.",
        "--persons-out 只用于 --format csv：所长设备导出的 xlsx 工作簿已含人员工作表；JSON 格式"
        "请用 `fieldapp person list --json`。",
    ),
    "export.wrote.json": (
        "Wrote {cases} case(s), with their {visits} visit(s), to {path}.",
        "已将{cases}件案件（含{visits}次走访）写入 {path}。",
    ),
    "export.not_encrypted": (
        "The file is not encrypted and names private people: keep it on the station's computer.",
        "文件未加密，含当事人个人信息：请只保存在派出所的电脑上。",
    ),
    "agreement.wrote": (
        "Wrote the mediation agreement of case {case} to {path}: open it in a browser, print it, "
        "fill in the blank lines by hand and have it signed.",
        "已将案件 {case} 的人民调解协议书写入 {path}：请用浏览器打开并打印，手工填写空白处后签字。",
    ),
    "export.unknown_village": (
        "No case has the village {village}; nothing was written.",
        "没有村（社区）为{village}的案件，未写入任何文件。",
    ),
    "export.village_close": (
        "Did you mean: {names}? Run the export again with --village and one of these names.",
        "是否要找：{names}？请用 --village 加其中一个名称重新导出。",
    ),
    "export.village_known": (
        "Villages with cases: {names}. Run the export again with --village and one of these names.",
        "有案件的村（社区）：{names}。请用 --village 加其中一个名称重新导出。",
    ),
    "export.village_none": (
        "This store has no cases yet; run the export without --village once cases are recorded.",
        "本设备尚无案件；登记案件后再导出（不加 --village）。",
    ),
    "export.names_sep": (", ", "、"),
    "export.quoted": ('"{name}"', "“{name}”"),
    "report.wrote": ("Wrote the {period} report to {path}.", "已将{period}统计表写入 {path}。"),
    # Report: periods
    "report.title": ("Dispute work report: {period}", "矛盾纠纷排查化解工作统计：{period}"),
    "report.timezone": ("Local time {offset}", "本地时间 {offset}"),
    "report.month": ("{year}-{month:02d}", "{year}年{month}月"),
    "report.quarter": ("Q{quarter} {year}", "{year}年第{quarter}季度"),
    "report.half.1": ("H1 {year} (Jan–Jun)", "{year}年上半年"),
    "report.half.2": ("H2 {year} (Jul–Dec)", "{year}年下半年"),
    "report.col.section": ("Section", "分组"),
    "report.col.item": ("Item", "项目"),
    "report.col.current": ("This period ({period})", "本期（{period}）"),
    "report.col.previous": ("Same period last year ({period})", "去年同期（{period}）"),
    "report.col.change": ("Change", "增减"),
    "report.col.change_pct": ("Change %", "增减幅度"),
    # Report: figures
    "report.section.overall": ("Overall", "总体情况"),
    "report.section.found.category": ("Found, by category", "发现纠纷：按类别"),
    "report.section.found.risk": ("Found, by risk", "发现纠纷：按风险等级"),
    "report.section.found.village": ("Found, by village", "发现纠纷：按村（社区）"),
    "report.section.found.officer": ("Found, by officer", "发现纠纷：按民警"),
    "report.section.resolved.category": ("Resolved, by category", "化解纠纷：按类别"),
    "report.section.resolved.risk": ("Resolved, by risk", "化解纠纷：按风险等级"),
    "report.section.resolved.village": ("Resolved, by village", "化解纠纷：按村（社区）"),
    "report.section.resolved.officer": ("Resolved, by officer", "化解纠纷：按民警"),
    "report.fig.found": ("Disputes found", "排查发现纠纷"),
    "report.fig.resolved": ("Resolved in the period", "本期化解纠纷"),
    "report.fig.found_resolved": ("Found and resolved by period end", "当期发现并化解"),
    "report.fig.resolution_rate": ("Resolution rate", "化解率"),
    "report.fig.hazards_found": ("Safety hazards found", "排查安全隐患"),
    "report.fig.hazards_fixed": ("Safety hazards fixed", "整改安全隐患"),
    "report.fig.overdue_at_end": ("Overdue at period end", "期末超期未办结"),
    "report.fig.followups_due": ("Follow-ups due", "应回访"),
    "report.fig.followups_done": ("Follow-ups done", "已回访"),
    "report.fig.repeat_calls": ("Repeat 110 calls (new cases)", "重复警情（新发现）"),
    "report.fig.reopened": ("Reopened (flared up)", "反弹重启"),
    #: The officers' repeat-call flags and the reopenings (JSON `repeat_incidents`, as before).
    "report.fig.repeat_incidents": ("Repeat calls or reopened", "重复警情或反弹"),
    #: Defined on persons (fieldapp/outputs/reports.py, `repeats`).
    "report.fig.repeat_disputes": ("Repeat disputes", "重复纠纷"),
    "report.fig.repeat_persons": ("Persons in repeat disputes", "重复纠纷当事人"),
    "report.pp": ("{value:+.1f} pp", "{value:+.1f}个百分点"),
    #: The same in a spreadsheet's number format (the unit in quotes; positive;negative;zero).
    "report.pp_format": (
        '+0.0" pp";-0.0" pp";0.0" pp"',
        '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"',
    ),
    "report.none": ("none", "无"),
    "report.note": (
        "Resolution rate = cases found in the period that were resolved or closed by its end ÷ "
        "cases found in the period. Times are local ({offset}); category, risk, village, "
        "deadline and officer are as they stand now.",
        "化解率 = 本期发现且在期末前已化解或结案的纠纷数 ÷ 本期发现纠纷数。时间按本地时间"
        "（{offset}）计；类别、风险、村、办理时限和民警按当前记录统计。",
    ),
    "report.note_repeat": (
        "Repeat disputes = cases found in the period in which a party had another case recorded "
        "in the 365 days before it (local dates); a party is the same person by the same mobile "
        "number or by an officer's link (`fieldapp person link`), never by a name alone. Persons "
        "in repeat disputes counts those parties, each once. Repeat calls or reopened = cases "
        "flagged as repeat 110 calls plus cases reopened in the period.",
        "重复纠纷 = 本期发现的纠纷中，有当事人在此前365天内（按本地日期）另有纠纷登记的件数；"
        "同一当事人以同一手机号或民警确认的关联（`fieldapp person link`）认定，仅同名不算。"
        "重复纠纷当事人按人计，每人计一次。重复警情或反弹 = 标记为重复警情的本期新发现纠纷"
        "加本期反弹重启的纠纷。",
    ),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
