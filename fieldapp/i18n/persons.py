"""Strings of persons across cases (`fieldapp person ...`, docs/persons.md), in English and
Simplified Chinese."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    # errors of the service (fieldapp/core/service.py); they name the id typed, never a name or phone
    "person.error.unknown": (
        "No person {id} on this device. `fieldapp person list` shows the ids.",
        "本设备上没有人员 {id}。`fieldapp person list` 可列出人员编号。",
    ),
    "person.error.same_id": (
        "Give two different persons to link or unlink (both ids were {id}).",
        "关联或取消关联须给出两个不同的人员（两个编号都是 {id}）。",
    ),
    "person.error.already_one": (
        "{a} and {b} are already one person ({id}); `fieldapp person show {id}` shows it.",
        "{a} 与 {b} 已是同一人员（{id}）；`fieldapp person show {id}` 可查看。",
    ),
    "person.error.linked_through": (
        "{a} and {b} are one person through other links: unlink these pairs instead: {pairs}.",
        "{a} 与 {b} 是经其他关联合并的同一人员：请改为取消以下关联：{pairs}。",
    ),
    "person.error.no_plan": (
        "A key person needs a plan: give --plan TEXT (what is done next).",
        "列为重点人员须写明工作措施：请填写 --plan（下一步做什么）。",
    ),
    # `fieldapp person list`
    "person.col.id": ("Person", "人员编号"),
    "person.col.name": ("Name", "姓名"),
    "person.col.village": ("Village", "村"),
    "person.col.cases": ("Cases", "案件"),
    "person.col.open": ("Open", "未结"),
    "person.col.key": ("Key", "重点"),
    "person.key_yes": ("key", "重点"),
    "person.count": ("{count} person(s).", "共 {count} 人。"),
    # `fieldapp person show`
    "person.title": ("Person {id}", "人员 {id}"),
    "person.aliases": ("Also known here as: {ids}", "其他编号：{ids}"),
    "person.names": ("Names: {names}", "姓名：{names}"),
    "person.phones": ("Mobile: {phones}", "手机：{phones}"),
    "person.villages": ("Villages: {villages}", "村：{villages}"),
    "person.key": ("Key person: {plan}", "重点人员：{plan}"),
    "person.not_key": ("Not a key person.", "非重点人员。"),
    "person.plan_by": ("Responsible: {officer}; due {due}", "责任民警：{officer}；期限 {due}"),
    "person.plan_by_writer": (
        "Responsible: {officer}, who wrote it (no officer named); due {due}",
        "责任民警：{officer}（制定人，未另指定）；期限 {due}",
    ),
    "person.none": ("none", "无"),
    "person.conflicts": (
        "{count} concurrent change(s) to the mark or plan await a supervisor.",
        "重点标记或工作措施有 {count} 处同时修改，待所长裁定。",
    ),
    "person.disputed": (
        "{a} and {b} were linked and unlinked at the same time: a supervisor settles it with "
        "`fieldapp person link {a} {b}` or `fieldapp person unlink {a} {b}`.",
        "{a} 与 {b} 曾被同时关联和取消关联：须由所长用 `fieldapp person link {a} {b}` 或 "
        "`fieldapp person unlink {a} {b}` 裁定。",
    ),
    "person.cases": ("Cases ({count}, {open} open):", "案件（{count} 起，{open} 起未结）："),
    "person.proposals": (
        "Possibly the same person (same name or pinyin in the same village; "
        "`fieldapp person link` to confirm):",
        "可能是同一人（同村同名或同音；确认请用 `fieldapp person link`）：",
    ),
    "person.sep": (", ", "、"),
    # `fieldapp case new`: the early warning
    "person.related": (
        "Early warning: the parties have {count} open or recent case(s): {ids} (`fieldapp case show ID`).",
        "预警：当事人已有 {count} 起未结或近期案件：{ids}（`fieldapp case show 编号` 可查看）。",
    ),
    # recorded
    "person.linked": ("Linked {a} and {b}: now person {id}.", "已关联 {a} 与 {b}：现为人员 {id}。"),
    "person.unlinked": ("Unlinked {a} and {b}.", "已取消关联 {a} 与 {b}。"),
    "person.marked": (
        "Person {id} is a key person; plan recorded.",
        "人员 {id} 已列为重点人员，工作措施已记录。",
    ),
    "person.unmarked": ("Person {id} is no longer a key person.", "人员 {id} 已不再是重点人员。"),
    # The service's errors as the app shows them (`fieldapp.i18n.app_key`): keys, not commands.
    "person.error.unknown.app": (
        "No person {id} on this device: the link or case that made it may have changed. "
        "Esc goes back; p on a case lists its persons.",
        "本设备上没有人员 {id}：形成该人员的关联或案件可能已变更。按 Esc 返回；在案件中按 p 可列出其当事人。",
    ),
    "person.error.already_one.app": (
        "{a} and {b} are already one person ({id}).",
        "{a} 与 {b} 已是同一人员（{id}）。",
    ),
    "person.error.same_id.app": (
        "Choose two different persons to link or unlink (both ids were {id}).",
        "关联或取消关联须选择两个不同的人员（两个编号都是 {id}）。",
    ),
    "person.error.linked_through.app": (
        "{a} and {b} are one person through other links: unlink these pairs instead: {pairs}.",
        "{a} 与 {b} 是经其他关联合并的同一人员：请改为取消以下关联：{pairs}。",
    ),
    "person.error.no_plan.app": (
        "A key person needs a plan: write what is done next.",
        "列为重点人员须写明工作措施：请填写下一步做什么。",
    ),
    "person.disputed.app": (
        "{a} and {b} were linked and unlinked at the same time: a supervisor decides which stands.",
        "{a} 与 {b} 曾被同时关联和取消关联：须由所长裁定。",
    ),
    # The person screen (fieldapp/tui/screens/person.py)
    "binding.person_key": ("Key person / plan", "重点人员/措施"),
    "binding.person_link": ("Link a match", "关联同一人"),
    "binding.person_unlink": ("Unlink", "取消关联"),
    "binding.case_persons": ("Persons", "人员档案"),
    "person.screen.title": ("Person {id}", "人员档案 {id}"),
    "person.screen.missing": (
        "No person {id} on this device: the link or case that made it may have changed. Esc goes back.",
        "本设备上没有人员 {id}：形成该人员的关联或案件可能已变更。按 Esc 返回。",
    ),
    "person.screen.loading": (
        "Reading {id}'s cases on this device... (Esc goes back)",
        "正在读取本设备上 {id} 的案件……（按 Esc 返回）",
    ),
    "person.screen.key": ("KEY PERSON", "重点人员"),
    "person.screen.risk": ("Highest open risk: {risk}", "未结案件最高风险：{risk}"),
    "person.screen.responsible": ("Officer responsible: {officer}", "责任民警：{officer}"),
    "person.screen.plan": ("Plan: {plan}", "工作措施：{plan}"),
    "person.screen.no_plan": (
        "Not a key person. k marks them one and writes the plan (what is done next, by whom, by when).",
        "非重点人员。按 k 列为重点人员并写明工作措施（做什么、谁负责、何时完成）。",
    ),
    "person.screen.proposals": (
        "Possibly the same person (same name or pinyin in the same village): {names}. l links one.",
        "可能是同一人（同村同名或同音）：{names}。按 l 确认关联。",
    ),
    "person.screen.timeline": (
        "Cases and visits, newest first ({count} case(s), {open} open). Enter opens the case.",
        "案件与走访，最新在前（{count} 起案件，{open} 起未结）。按 Enter 打开案件。",
    ),
    "person.col.when": ("When", "时间"),
    "person.col.case": ("Case", "案件"),
    "person.col.who": ("Who", "记录人"),
    "person.col.what": ("What happened", "经过"),
    "person.screen.no_match": (
        "No possible match for {id}: nobody else has this name in their villages.",
        "{id} 没有可能的同一人：所在村没有同名的其他人员。",
    ),
    "person.screen.no_alias": (
        "{id} has no other id linked to it: nothing to unlink.",
        "{id} 没有关联的其他编号，无需取消关联。",
    ),
    # The plan dialog (k)
    "person.plan.title": ("Key person and plan — {id}", "重点人员与工作措施——{id}"),
    "person.plan.mark": ("Key person", "是否重点人员"),
    "person.plan.mark_yes": ("Key person (重点人员)", "重点人员"),
    "person.plan.mark_no": ("No longer a key person (supervisor)", "取消重点人员（所长）"),
    "person.plan.plan": ("Plan: what is done next", "工作措施：下一步做什么"),
    "person.plan.officer": ("Officer responsible (empty: yourself)", "责任民警（不选即本人）"),
    "person.plan.officer_none": (
        "Officer responsible (empty: you, who write the plan)",
        "责任民警（不选即为制定人本人）",
    ),
    # The officer select's text while nothing is chosen (the label above says the rest)
    "person.plan.officer_blank": ("you, who write the plan", "制定人本人"),
    "person.plan.due": ("By when (optional, YYYY-MM-DD)", "完成期限（可选，年-月-日）"),
    "person.plan.due_bad": ("Write the date like 2026-12-31.", "请按 2026-12-31 的格式填写日期。"),
    "person.plan.rules": (
        "Decided again when devices merge: an officer plans for themselves; only a supervisor "
        "gives the plan to another officer or takes a person off the key list.",
        "设备合并时将再次核验：民警只能为本人制定措施；只有所长可以把措施交给其他民警或取消重点人员。",
    ),
    # The link and unlink dialogs (l, x)
    "person.link.title": ("Link a possible match — {id}", "关联可能的同一人——{id}"),
    "person.link.choose": ("Which is the same person as {id}?", "哪一位与 {id} 是同一人？"),
    "person.link.option": (
        "{id}  {names} · {mobile} · {villages} · {count} case(s)",
        "{id}  {names} · {mobile} · {villages} · {count} 起案件",
    ),
    "person.no_mobile": ("no mobile", "无手机号"),
    "person.link.confirm": ("Link", "确认关联"),
    "person.link.note": (
        "Link only when sure: every device then shows them as one person. x undoes it.",
        "确认是同一人再关联：关联后所有设备都将其视为同一人。按 x 可取消。",
    ),
    "person.link.required": ("Choose the person to link.", "请选择要关联的人员。"),
    "person.unlink.title": ("Unlink an id — {id}", "取消关联编号——{id}"),
    "person.unlink.choose": ("Which id is not {id}?", "哪个编号与 {id} 不是同一人？"),
    "person.unlink.confirm": ("Unlink", "取消关联"),
    "person.unlink.required": ("Choose the id to unlink.", "请选择要取消关联的编号。"),
    "person.unlink.note": (
        "Both ids then stand alone on every device, and are no longer proposed as a match "
        "(`fieldapp person link ID ID` joins them again).",
        "取消后两个编号在所有设备上各自独立，也不再提示为可能的同一人"
        "（`fieldapp person link 编号 编号` 可重新关联）。",
    ),
    # The case screen's persons (p)
    "person.parties.title": ("Persons of case {id}", "案件 {id} 的当事人档案"),
    "person.parties.choose": (
        "↑↓ choose a party, Enter opens their file.",
        "↑↓ 选择当事人，按 Enter 打开其人员档案。",
    ),
    "person.parties.none": (
        "Case {id} has no named party: m (Edit) adds one.",
        "案件 {id} 没有当事人：按 m（修改信息）可添加。",
    ),
    "person.parties.open": ("Open", "打开"),
    "person.parties.line": ("Parties (p): {parties}", "当事人（p）：{parties}"),
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
