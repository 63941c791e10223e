"""Strings of the people's mediation agreement (人民调解协议书), in English and Simplified Chinese.

Registered with `fieldapp.i18n.add_catalogue` on import. Category names come from
`fieldapp.i18n.vocabulary`, status names too; the wording of the Chinese document follows
the customary shape of a 人民调解协议书.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "agreement.title": ("People's Mediation Agreement", "人民调解协议书"),
    "agreement.number": ("No.", "编号"),
    "agreement.station": ("Mediated at", "调解组织"),
    "agreement.colon": (": ", "："),
    # Parties
    "agreement.parties": ("Parties", "当事人"),
    "agreement.party_no": ("Party {n}", "当事人{n}"),
    "agreement.name": ("Name", "姓名"),
    "agreement.role": ("Role", "身份"),
    "agreement.phone": ("Phone", "联系电话"),
    "agreement.sex": ("Sex", "性别"),
    "agreement.age": ("Age", "年龄"),
    "agreement.address": ("Address", "住址"),
    "agreement.no_parties": (
        "No party is recorded for this case; write the parties in by hand.",
        "本案未登记当事人，请手工填写。",
    ),
    "agreement.role.party": ("Party", "当事人"),
    "agreement.role.applicant": ("Applicant", "申请人"),
    "agreement.role.respondent": ("Respondent", "被申请人"),
    "agreement.role.relative": ("Relative", "亲属"),
    "agreement.role.witness": ("Witness", "证人"),
    # Body
    "agreement.facts": ("Main facts of the dispute and matters in dispute", "纠纷主要事实、争议事项"),
    "agreement.category": ("Kind of dispute", "纠纷类别"),
    "agreement.village": ("Village", "发生地"),
    "agreement.terms": (
        "Through mediation, the parties have voluntarily agreed as follows",
        "经调解，自愿达成如下协议",
    ),
    "agreement.performance": ("Manner and time limit of performance", "履行方式、时限"),
    "agreement.record": ("Mediation record", "调解情况"),
    "agreement.record.sessions": ("Mediation sessions", "调解时间"),
    "agreement.record.none": ("No mediation session is recorded.", "未记录调解。"),
    "agreement.record.team": ("Escalated on {date} to {tier} for mediation.", "{date}上报，由{tier}调解。"),
    "agreement.record.team_only": ("Mediated by {tier}.", "由{tier}调解。"),
    "agreement.closing.copies": (
        "This agreement is made in {blank} copies; each party and the people's mediation committee keep one.",
        "本协议一式{blank}份，当事人、人民调解委员会各持一份。",
    ),
    "agreement.closing.effect": (
        "This agreement takes effect on the day it has been signed (or sealed) by every party "
        "and signed by the people's mediator(s), and the seal of the people's mediation "
        "committee has been affixed.",
        "本协议自各方当事人签名（盖章）、人民调解员签名并加盖人民调解委员会印章之日起生效。",
    ),
    # Signatures
    "agreement.sign.parties": ("Parties (signature or seal)", "当事人（签名或盖章）"),
    "agreement.sign.mediators": ("People's mediator(s) (signature)", "人民调解员（签名）"),
    "agreement.sign.committee": ("People's mediation committee (seal)", "人民调解委员会（印章）"),
    "agreement.sign.committee_named": ("{org} (seal)", "{org}（印章）"),
    "agreement.sign.date": ("Date", "日期"),
    "agreement.date_blank": ("{y}-{m}-{d}", "{y}年{m}月{d}日"),
    # Refusals (the CLI prints the English one; the UI may show either)
    "agreement.error.not_done": (
        "Case {id} is {status}: there is no agreement to print yet. Record its resolution "
        "with a mediation agreement first (after at least one visit, e.g. "
        "`fieldapp visit add {id} --kind mediation --note TEXT`): "
        "`fieldapp case update {id} --status resolved --outcome agreement --terms TEXT`.",
        "案件 {id} 目前为“{status}”，尚无可打印的调解协议。请先记录以调解协议化解的结果"
        "（至少已记录一次走访或调解，例如 `fieldapp visit add {id} --kind mediation --note 内容`）："
        "`fieldapp case update {id} --status resolved --outcome agreement --terms 协议内容`。",
    ),
    "agreement.error.not_agreement": (
        "Case {id} is {status} with the outcome “{outcome}”, not a mediation agreement, so there "
        "is no agreement to print. If the parties did sign one, reopen the case "
        "(`fieldapp case reopen {id} --reason TEXT`) and record the resolution with "
        "`fieldapp case update {id} --status resolved --outcome agreement --terms TEXT`.",
        "案件 {id} 为“{status}”，化解结果是“{outcome}”，不是人民调解协议，无协议可打印。"
        "如当事人确已达成协议，请重新启动案件（`fieldapp case reopen {id} --reason 原因`），"
        "再以 `fieldapp case update {id} --status resolved --outcome agreement --terms 协议内容` "
        "记录化解结果。",
    ),
    "agreement.error.reopened": (
        "Case {id} was reopened and is {status}: the agreement recorded before the reopening no "
        "longer holds, and no new one has been recorded, so there is nothing to print. When the "
        "parties sign a new agreement, record it on the case screen with u (Update: status "
        "resolved, outcome agreement, its terms) or with "
        "`fieldapp case update {id} --status resolved --outcome agreement --terms TEXT`.",
        "案件 {id} 已重新启动，目前为“{status}”：重新启动前记录的协议已失效，且尚未记录新的协议，"
        "无协议可打印。当事人签订新协议后，请在案件页按 u（更新进展：状态选“已化解”，"
        "化解结果选“人民调解协议”并填写协议内容）"
        "或用 `fieldapp case update {id} --status resolved --outcome agreement --terms 协议内容` 记录。",
    ),
    "agreement.outcome.none": ("none recorded", "未记录"),
    # The case screen's `g` where there is nothing to print
    "agreement.tui.none": (
        "Case {id} has no mediation agreement to print. g prints one once the case is resolved "
        "with the outcome “mediation agreement”: press u, choose Resolved and that outcome, and "
        "write the terms.",
        "案件 {id} 没有可打印的调解协议书。案件以“调解协议”化解后才可按 g 打印："
        "请按 u，选择“已化解”及该化解结果，并填写协议内容。",
    ),
    "agreement.tui.reopened": (
        "Case {id} was reopened after its mediation agreement, so that agreement no longer stands "
        "and g does not print it. Once the parties agree again, press u to record the new "
        "agreement, then g.",
        "案件 {id} 在达成调解协议后已重新启动，原协议不再有效，按 g 不会打印。"
        "当事人重新达成协议后，请按 u 记录新协议，再按 g。",
    ),
    "error.mediation_org_too_long": (
        "The mediation organisation's name is longer than {limit} characters; give a shorter one, "
        "e.g. `fieldapp station set --mediation-org 城关镇人民调解委员会`.",
        "调解组织名称超过 {limit} 个字符，请改短，例如 "
        "`fieldapp station set --mediation-org 城关镇人民调解委员会`。",
    ),
    "station.set.done": (
        "Agreements printed on this device now name {org} as the mediation organisation. "
        "Set it on every device of the station the same way: it does not travel with sync.",
        "本设备打印的调解协议书现以“{org}”为调解组织。请在本所每台设备上同样设置：此项不随同步传递。",
    ),
    "station.set.cleared": (
        "No mediation organisation is set on this device: agreements leave the line blank to "
        "write by hand. Set one with `fieldapp station set --mediation-org NAME`.",
        "本设备未设置调解组织：协议书上该栏留空，可手工填写。设置方法："
        "`fieldapp station set --mediation-org 名称`。",
    ),
    "agreement.error.reopened_after": (
        "Case {id} was reopened ({at}) after its mediation agreement was recorded, so that "
        "agreement no longer stands and is not printed. Once the parties agree again, record it "
        "(`fieldapp case update {id} --status resolved --outcome agreement --terms TEXT`; in the "
        "app: open the case and press u) and print that one.",
        "案件 {id} 在记录调解协议后已重新启动（{at}），原协议不再有效，不予打印。"
        "当事人重新达成协议后，请先记录（`fieldapp case update {id} --status resolved --outcome "
        "agreement --terms 协议内容`；在应用中：打开案件后按 u），再打印新协议。",
    ),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
