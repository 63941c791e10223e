"""Strings of the supervisor's key persons (the Persons tab, the dashboard's figure) and of the
review queue's person link conflicts, in English and Simplified Chinese."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "sup.tab.persons": ("Persons (6)", "重点人员 (6)"),
    "binding.tab_persons": ("Persons", "重点人员"),
    # The Persons tab
    "keyp.col.name": ("Name", "姓名"),
    "keyp.col.villages": ("Villages", "村"),
    "keyp.col.why": ("Why", "原因"),
    "keyp.col.recent": ("12 mo.", "近12月"),
    "keyp.col.open": ("Open", "在办"),
    "keyp.col.risk": ("Risk", "风险"),
    "keyp.col.visit": ("Last visit", "最近走访"),
    "keyp.col.officer": ("Officer", "责任民警"),
    "keyp.col.due": ("Plan due", "措施期限"),
    "keyp.why.flagged": ("key", "重点"),
    "keyp.why.repeat": ("repeat", "重复"),
    "keyp.overdue": ("overdue", "超期"),
    "keyp.none": ("—", "—"),
    "keyp.loading": ("Gathering the key persons…", "正在汇总重点人员……"),
    "keyp.summary": (
        "{count} key person(s): {flagged} flagged ({overdue} with the plan overdue), {repeat} more "
        "with two or more disputes in the last 12 months.",
        "重点人员 {count} 人：已列为重点 {flagged} 人（其中措施超期 {overdue} 人），"
        "另有近12个月内两起以上纠纷 {repeat} 人。",
    ),
    "keyp.empty": (
        "No key persons: nobody is flagged, and nobody has two or more disputes in the last 12 months.",
        "暂无重点人员：无人被列为重点，也无人在近12个月内有两起以上纠纷。",
    ),
    "keyp.hint": (
        "Enter opens the person's file · flagged with an overdue plan first, then by "
        "open risk and disputes · Ctrl+R refreshes",
        "回车打开该人员的档案 · 措施超期的重点人员在前，其后按在办风险和纠纷数排序 · Ctrl+R 刷新",
    ),
    # The dashboard's figure (Needs attention); Enter on it shows the Persons tab
    "dash.key_persons": ("Key persons {count} (flagged {flagged})", "重点人员 {count}（已列重点 {flagged}）"),
    "dash.key_persons_loading": ("Key persons …", "重点人员 ……"),
    # The review queue: a concurrent link and unlink of two person ids
    "review.kind.link_conflict": ("Person link", "人员关联"),
    "review.link_conflict": (
        "{a} / {b}: linked on one device, unlinked on another",
        "{a} / {b}：一台设备关联、另一台取消关联",
    ),
    "linkc.title": ("Same person? {a} and {b}", "是否同一人：{a} 与 {b}"),
    "linkc.body": (
        "Two devices decided without seeing each other: one said these are the same person, the "
        "other that they are not. Shown now: {shown}. Choose what stands and save (ctrl+s); both "
        "decisions stay on record.",
        "两台设备在互不知情的情况下作出了不同判断：一台认为是同一人，另一台认为不是。当前显示：{shown}。"
        "选择应采用的判断后按 ctrl+s 保存；两个判断都会保留在记录中。",
    ),
    "linkc.shown.true": ("one person", "同一人"),
    "linkc.shown.false": ("two persons", "两个人"),
    "linkc.person": (
        "{id}: {names} · {mobile} · {villages} · {cases} case(s)",
        "{id}：{names} · {mobile} · {villages} · {cases} 起案件",
    ),
    "linkc.person_unknown": ("{id}: no case on this device names it yet", "{id}：本设备上尚无案件含此人员"),
    "linkc.wrote.true": ("{who} linked them ({when})", "{who} 关联为同一人（{when}）"),
    "linkc.wrote.false": ("{who} unlinked them ({when})", "{who} 取消关联（{when}）"),
    "linkc.choose": ("What stands", "应采用的判断"),
    "linkc.link": ("Link: the same person", "关联：是同一人"),
    "linkc.unlink": ("Unlink: two different persons", "取消关联：不是同一人"),
    "linkc.confirm": ("Settle", "裁定"),
    "linkc.choose_required": (
        "Nothing settled yet: choose link or unlink (↑/↓ to it, then Enter or Space), then press "
        "ctrl+s. Esc closes without settling.",
        "尚未处理：请选择关联或取消关联（用 ↑/↓ 移到该项，按回车或空格选中），再按 ctrl+s。"
        "按 Esc 关闭，不作处理。",
    ),
    "linkc.done.true": ("{a} and {b}: recorded as one person.", "{a} 与 {b}：已记录为同一人。"),
    "linkc.done.false": ("{a} and {b}: recorded as two persons.", "{a} 与 {b}：已记录为两个人。"),
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
