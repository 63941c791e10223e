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
        "Possibly the same person (same name in the same village; `fieldapp person link` to confirm):",
        "可能是同一人（同村同名；确认请用 `fieldapp person link`）：",
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
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
