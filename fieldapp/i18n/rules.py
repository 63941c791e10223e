"""The rules' refusals in English and Chinese: the catalogue entry ``rule.<code>`` of each code.

A refusal is stored as a code with parameters (`sync.refusals`; every code is listed in
`fieldapp.domain.refusals`), so the text here can be reworded without changing any state hash.
`render` fills a code's text in the reader's language; parameters that name a field, a status
or a role are shown through the vocabulary (``rule.field.<name>``, ``status.<code>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldapp.i18n import Translator, add_catalogue, get_language
from sync.refusals import CODES as SYNC_CODES

#: The Chinese of the refusal codes of `sync`; their English is `sync.refusals.CODES`.
_SYNC_ZH: dict[str, str] = {
    "author_not_announced": "设备 {device} 在本设备上未知，且未登记自身信息",
    "author_unknown": "记录该操作的设备未知（尚未同步其登记信息）",
    "device_revoked": "设备 {device} 已被派出所吊销（{reason}）",
    "announce_not_enrolled": "设备 {device} 没有本派出所签发的证书（未在本所登记）",
    "announce_certificate_invalid": "设备 {device} 的证书无效",
    "announce_certificate_other_device": "设备 {device} 的证书属于另一台设备",
    "announce_role_not_certified": "设备 {device} 声明的角色或姓名与其证书不符",
    "announce_no_key": "设备登记信息没有有效的公钥",
    "announce_key_mismatch": "设备登记信息中的公钥与设备编号不符",
    "announce_unknown_role": "设备登记信息声明了未知的角色 {role}",
    "announce_officer_invalid": "设备登记信息中的民警姓名无效",
    "settle_not_supervisor": "只有所长可以裁定日志分叉",
    "settle_own_log": "设备不能裁定自己日志的分叉",
    "settle_incomplete": "分叉裁定信息不完整",
    "enrol_no_station": "记录设备登记需要派出所；本设备未登记到派出所",
    "enrol_not_supervisor": "只有派出所授权设备可以记录设备登记",
    "enrol_incomplete": "设备登记记录不完整",
    "enrol_certificate_invalid": "设备登记记录中的证书不是本派出所签发的",
    "enrol_certificate_mismatch": "设备登记记录中的设备、公钥、民警、角色或证书序号与其证书不符",
    "enrol_not_signed": "设备登记记录未经派出所签名",
    "revoke_no_station": "吊销需要派出所授权；本设备未登记到派出所",
    "revoke_not_supervisor": "只有派出所所长可以吊销设备",
    "revoke_device_unknown": "被吊销的设备（尚）未知",
    "revoke_already": "该设备已被吊销",
    "revoke_incomplete": "吊销信息不完整",
    "revoke_not_signed": "吊销未经派出所签名",
    "fields_not_read": "本版本不读取 {kind} 操作中的某些字段",
}

_STRINGS: dict[str, tuple[str, str]] = {
    **{f"rule.{code}": (text, _SYNC_ZH[code]) for code, text in SYNC_CODES.items()},
    # cases (fieldapp/domain/cases.py)
    "rule.case_not_found": ("the case does not exist (yet) on this device", "本设备上（尚）无此案件"),
    "rule.case_exists": ("the case already exists", "案件已存在"),
    "rule.case_id_mismatch": (
        "the case id does not belong to the operation that creates it",
        "案件编号与登记操作不符",
    ),
    # fields (fieldapp/domain/fields.py)
    "rule.no_fields": ("no fields to change", "没有要修改的内容"),
    "rule.field_not_editable": ("{field} cannot be changed this way", "{field}不能这样修改"),
    "rule.text_invalid": (
        "{field} must be text of at most {limit} characters",
        "{field}须为不超过 {limit} 字的文字",
    ),
    "rule.text_required": (
        "{field} must be text of at most {limit} characters, not empty",
        "{field}须为不超过 {limit} 字的文字，且不能为空",
    ),
    "rule.choice_invalid": ("{field} must be one of its choices", "{field}取值无效"),
    "rule.parties_invalid": ("parties must be a list of at most {limit}", "当事人最多 {limit} 位"),
    "rule.party_incomplete": (
        "each party must have a name, a phone and a role",
        "每位当事人须有姓名、电话和身份",
    ),
    "rule.phone_invalid": (
        "a party's phone is {min} to {max} digits (a + may come first)",
        "当事人电话须为 {min} 至 {max} 位数字（开头可有 +）",
    ),
    "rule.flags_invalid": ("the flags must be a list drawn from the known risk flags", "风险提示取值无效"),
    "rule.deadline_invalid": (
        "the deadline is not a date like 2026-12-31 (year-month-day)",
        "办理时限须为 2026-12-31 这样的日期",
    ),
    "rule.deadline_no_month": (
        "{date} is not a date: there is no month {month} (months run 01 to 12); write it as "
        "year-month-day, e.g. 2026-12-31",
        "{date} 不是有效日期：没有 {month} 月（月份为 01 至 12）；请按 年-月-日 填写，如 2026-12-31",
    ),
    "rule.deadline_no_day": (
        "{date} is not a date: that month has {days} days, so there is no day {day}",
        "{date} 不是有效日期：该月只有 {days} 天，没有 {day} 日",
    ),
    "rule.deadline_past": (
        "the deadline {date} is before today ({today}): give today's date or a later one",
        "办理时限 {date} 早于今天（{today}）：请填写今天或以后的日期",
    ),
    "rule.deadline_too_far": (
        "the deadline {date} is more than two years ahead: give a date up to {latest}",
        "办理时限 {date} 超过两年：请填写不晚于 {latest} 的日期",
    ),
    "rule.summary_too_short": (
        "the summary needs at least {min} characters: say what happened and between whom",
        "情况摘要至少 {min} 个字：请写明发生了什么、在谁之间",
    ),
    "rule.parties_required": (
        "a dispute needs at least one party (only a safety hazard may have none): give --party NAME[:PHONE]",
        "纠纷须至少填写一名当事人（只有安全隐患可以不填）：请用 --party 姓名[:电话] 填写",
    ),
    "rule.deadline_supervisor_only": (
        "only a supervisor may change the deadline",
        "只有所长可以更改办理时限",
    ),
    # status changes
    "rule.status_not_allowed": (
        "the case is {from} and cannot become {to}",
        "案件当前为“{from}”，不能变为“{to}”",
    ),
    "rule.tier_raise_needs_escalation": (
        "an officer raises a case's tier by escalating it, for a supervisor to approve",
        "民警提高调处层级须通过上报（状态改为已上报并选择层级），由所长批准",
    ),
    "rule.escalation_tier": (
        "an escalation names tier 2 (joint team) or 3 (mediation room)",
        "上报须指明二级（联合调解组）或三级（矛盾纠纷调解室）",
    ),
    "rule.referral_department": ("a referral names the department it goes to", "移交须写明接收部门"),
    "rule.referral_notified": ("a referral records how the department was notified", "移交须记录通报方式"),
    "rule.resolve_needs_visit": (
        "a case cannot be resolved before at least one visit or mediation is recorded",
        "至少记录一次走访或调解后，案件才能标记为已化解",
    ),
    "rule.resolution_outcome": (
        "a resolution records its outcome: agreement, withdrawn, other",
        "化解须记录结果：调解协议、撤回或其他",
    ),
    "rule.agreement_terms": ("a mediation agreement records its terms", "调解协议须写明协议内容"),
    "rule.red_close_needs_supervisor": (
        "a red case can only be closed by a supervisor",
        "红色案件只能由所长结案",
    ),
    "rule.red_since_opened_close_needs_supervisor": (
        "a case that has been red since it was last opened can only be closed by a supervisor",
        "本案自登记（或重新启动）以来曾为红色，无论现在风险等级如何，只能由所长结案",
    ),
    "rule.reopen_not_allowed": (
        "only a resolved or closed case can be reopened (this one is {status})",
        "只有已化解或已结案的案件可以重新启动（本案为“{status}”）",
    ),
    "rule.reopen_needs_reason": (
        "reopening needs a reason (what flared up again)",
        "重新启动须写明原因（哪里出现反弹）",
    ),
    # assignment, approval, review, notes
    "rule.assign_supervisor_only": ("only a supervisor may assign a case", "只有所长可以交办案件"),
    "rule.assign_invalid": (
        "an assignment names the officer's device (and optionally a valid deadline)",
        "交办须指明承办民警的设备（可附有效的办理时限）",
    ),
    "rule.assigned_to_other": ("the case is assigned to another officer", "案件已交办给其他民警"),
    "rule.approve_supervisor_only": ("only a supervisor may approve an escalation", "只有所长可以批准上报"),
    "rule.approve_nothing_pending": ("there is no escalation awaiting approval", "没有待批准的上报"),
    "rule.escalation_tier_changed": (
        "the escalation's tier changed after the approval began; review it again",
        "审批开始后上报层级又有变化，请重新审核",
    ),
    "rule.review_supervisor_only": ("only a supervisor may settle a conflict", "只有所长可以处理编辑冲突"),
    "rule.review_no_conflict": ("there is no open conflict on that field", "该项没有待处理的冲突"),
    "rule.review_field_changed": (
        "the field changed after the review began; review it again",
        "核对开始后该项又有修改，请重新核对",
    ),
    "rule.note_empty": ("a note needs text", "备注不能为空"),
    # a visit's time (fieldapp/domain/fields.py: visit_occurred, at merge time)
    "rule.visit_time_invalid": (
        "the time the visit happened is not a time this version reads (whole seconds since 1970, UTC)",
        "走访发生时间无效（须为自 1970 年起的整秒数，UTC）",
    ),
    "rule.visit_time_after_recorded": (
        "the visit is dated after the moment it was recorded: a visit is logged once it has happened",
        "走访发生时间晚于记录时间：走访须在发生后记录",
    ),
    "rule.visit_time_too_early": (
        "the visit is dated more than {days} days before it was recorded: give a time within {days} "
        "days, or log it without a time and write its date in the note",
        "走访发生时间早于记录时间 {days} 天以上：请填写 {days} 天以内的时间，"
        "或不填时间、在走访情况中写明日期",
    ),
    # a visit's time as typed (fields.visit_time_problem): the command line's --at
    "rule.visit_time_format": (
        "{time} is not a date and time: write --at as YYYY-MM-DD HH:MM (e.g. 2026-12-06 10:00), "
        "or HH:MM for today",
        "{time} 不是有效的日期时间：--at 请按 年-月-日 时:分 填写（如 2026-12-06 10:00），当天可只写 时:分",
    ),
    "rule.visit_time_future": (
        "the visit time {time} is later than now ({now}): give the time it happened with --at, "
        "or leave --at out to log it as now",
        "走访时间 {time} 晚于现在（{now}）：请用 --at 填写实际发生的时间，或不用 --at、按现在记录",
    ),
    "rule.visit_time_too_old": (
        "the visit time {time} is more than {days} days ago: --at goes back to {earliest} at most; "
        "log an older visit without --at and write its date in --note",
        "走访时间 {time} 已超过 {days} 天：--at 最早只能填到 {earliest}；更早的走访请不用 --at 记录，"
        "并在 --note 中写明日期",
    ),
    # police areas (fieldapp/domain/areas.py)
    "rule.area_supervisor_only": (
        "only a supervisor may place a village in a police area",
        "只有所长可以划分警务区",
    ),
    "rule.area_invalid": (
        "a police area is named by text of at most {limit} characters (or none)",
        "警务区名称须为不超过 {limit} 字的文字（或留空）",
    ),
    # persons (fieldapp/domain/persons.py)
    "rule.person_pair_invalid": (
        "a person is named by a person id (`fieldapp person list` shows them); "
        "a link names two different ones",
        "须用人员编号指明人员（`fieldapp person list` 可查看）；关联须指明两个不同的人员",
    ),
    "rule.person_link_conflict_open": (
        "these two persons were linked and unlinked at the same time; a supervisor settles it "
        "with `fieldapp person link` or `person unlink`",
        "这两人曾被同时关联和取消关联；须由所长用 `fieldapp person link` 或 `person unlink` 裁定",
    ),
    "rule.person_plan_invalid": (
        "a plan is text of at most {limit} characters, with an officer's device and a due date "
        "written YYYY-MM-DD (or none)",
        "工作措施须为不超过 {limit} 字的文字，责任民警为设备编号，期限按 年-月-日 填写（均可留空）",
    ),
    "rule.person_plan_required": (
        "marking a key person needs a plan (what is done next): give --plan",
        "列为重点人员须写明工作措施（下一步做什么）：请填写 --plan",
    ),
    "rule.person_unmark_supervisor_only": (
        "only a supervisor may take a person off the key persons",
        "只有所长可以取消重点人员",
    ),
    "rule.person_plan_assign_supervisor_only": (
        "only a supervisor may give a key person's plan to another officer; "
        "leave --officer out to take it yourself",
        "只有所长可以把重点人员的工作措施交给其他民警；不填 --officer 即由本人负责",
    ),
    "rule.person_plan_not_yours": (
        "a supervisor gave this person's plan to another officer; ask the supervisor to change it",
        "所长已将此人的工作措施交给其他民警负责；如需修改请联系所长",
    ),
    # The same refusals as the app shows them (`render(..., app=True)`): keys and fields, not options.
    "rule.person_pair_invalid.app": (
        "a person is named by a person id (p on a case lists its persons); a link names two different ones",
        "须用人员编号指明人员（在案件中按 p 可查看）；关联须指明两个不同的人员",
    ),
    "rule.person_link_conflict_open.app": (
        "these two persons were linked and unlinked at the same time; a supervisor decides which stands",
        "这两人曾被同时关联和取消关联；须由所长裁定",
    ),
    "rule.person_plan_required.app": (
        "marking a key person needs a plan (what is done next): write it in the plan field",
        "列为重点人员须写明工作措施（下一步做什么）：请填写工作措施",
    ),
    "rule.person_plan_assign_supervisor_only.app": (
        "only a supervisor may give a key person's plan to another officer; "
        "leave the officer empty (or choose yourself) to take it yourself",
        "只有所长可以把重点人员的工作措施交给其他民警；责任民警不选（或选本人）即由本人负责",
    ),
    # the fields a refusal names (its `field` parameter)
    "rule.field.village": ("the village", "村名"),
    "rule.field.category": ("the category", "类别"),
    "rule.field.risk": ("the risk", "风险等级"),
    "rule.field.summary": ("the summary", "摘要"),
    "rule.field.source": ("the source", "来源"),
    "rule.field.flags": ("the risk flags", "风险提示"),
    "rule.field.deadline": ("the deadline", "办理时限"),
    "rule.field.parties": ("the parties", "当事人"),
    "rule.field.tier": ("the tier", "调处层级"),
    "rule.field.status": ("the status", "状态"),
    "rule.field.party_name": ("a party's name", "当事人姓名"),
    "rule.field.party_phone": ("a party's phone", "当事人电话"),
    "rule.field.party_role": ("a party's role", "当事人身份"),
    "rule.field.reason": ("the reason", "原因"),
    "rule.field.department": ("the department", "部门"),
    "rule.field.notification": ("the notification", "通报方式"),
    "rule.field.terms": ("the agreement's terms", "协议内容"),
    "rule.field.reopen_reason": ("the reason for reopening", "重新启动原因"),
    "rule.field.assignee": ("the assignee", "承办人"),
    "rule.field.visit_kind": ("the visit kind", "走访方式"),
    "rule.field.visit_note": ("the visit note", "走访记录"),
    "rule.field.place": ("the place", "地点"),
    "rule.field.participants": ("the participants", "参与人"),
    "rule.field.note": ("the note", "备注"),
    # entries a sync or an import refused before merging (sync/verify.py `Rejection`)
    "rejection.malformed": ("an entry that cannot be read (malformed)", "无法读取的条目（格式错误）"),
    "rejection.wrong_station": (
        "an operation of another station; not applied",
        "属于其他派出所的操作，未采用",
    ),
    "rejection.fork": (
        "device {device} signed two different operations at one place in its log; "
        "its new work waits until a supervisor settles it in the review queue",
        "设备 {device} 在其日志同一位置签署了两条不同的操作；其新记录暂不生效，待所长在审核队列中裁定",
    ),
    "rejection.bad_signature": (
        "the signature does not match the content (altered in transit or forged)",
        "签名与内容不符（传输中被篡改或伪造）",
    ),
    "rejection.bad_signature.altered_copy": (
        "a different copy of an operation this device holds, not signed by its author (altered or forged)",
        "与本设备已有操作位置相同但内容不同的副本，且没有其作者的签名（被篡改或伪造）",
    ),
    "rejection.bad_signature.announcement": (
        "the device announcement is not signed by its key",
        "设备登记信息未经其密钥签名",
    ),
    "rejection.settled": (
        "a supervisor settled the fork at this place of the device's log for another entry",
        "所长已就该设备日志此处的分叉作出裁定，采用的是另一条记录",
    ),
    "rejection.unsigned": (
        "more than {entries} entries or {kib} KiB of a log without a signature of its author; "
        "the sending device must send them again",
        "日志中连续 {entries} 条以上（或 {kib} KiB 以上）没有作者签名；须由发送设备重新发送",
    ),
    "rejection.future_stamp": (
        "an operation from device {device} is stamped in the future; check the date and time on that "
        "device (or on this one). It was not applied and will be accepted once the clocks agree",
        "设备 {device} 的操作时间在未来；请检查该设备（或本设备）的日期和时间。"
        "该操作未被采用，时钟一致后会被接受",
    ),
    "rejection.broken_chain": (
        "operation {seq} does not follow the one before it in its device's log (altered or out of place)",
        "操作 {seq} 与其设备日志中的前一条不衔接（被篡改或顺序错乱）",
    ),
    # how the command line and the dialogs say that a rule refused something
    "rule.not_recorded": ("Not recorded: {reason}.", "未记录：{reason}。"),
    # a code this version does not know (a newer version's rule)
    "rule.unknown": (
        "a rule of a newer version of fieldapp ({code}); update the app to read it",
        "较新版本 fieldapp 的规则（{code}）；请更新本应用后查看",
    ),
}

#: The entry checks' refusals said alone, beside a field of a form or a dialog: as sentences.
ENTRY_CODES = (
    "deadline_no_month",
    "deadline_no_day",
    "deadline_past",
    "deadline_too_far",
    "summary_too_short",
)
_STRINGS |= {
    f"rule.{code}.sentence": (_STRINGS[f"rule.{code}"][0] + ".", _STRINGS[f"rule.{code}"][1] + "。")
    for code in ENTRY_CODES
}
# The form adds a party with a key, not with the command line's --party.
_STRINGS["rule.parties_required.sentence"] = (
    "a dispute needs at least one party (only a safety hazard may have none): add one with ctrl+n.",
    "纠纷须至少填写一名当事人（只有安全隐患可以不填）：按 ctrl+n 添加。",
)

# The visit dialog's time field, said beside it (the command line's texts name --at).
_STRINGS["rule.visit_time_format.sentence"] = (
    "{time} is not a date and time: write it as YYYY-MM-DD HH:MM (e.g. 2026-12-06 10:00), or "
    "HH:MM for today; leave it empty for now.",
    "{time} 不是有效的日期时间：请按 年-月-日 时:分 填写（如 2026-12-06 10:00），"
    "当天可只写 时:分；留空即为现在。",
)
_STRINGS["rule.visit_time_future.sentence"] = (
    "the time {time} is later than now ({now}): give the time the visit happened, or leave it empty for now.",
    "时间 {time} 晚于现在（{now}）：请填写走访实际发生的时间，或留空、按现在记录。",
)
_STRINGS["rule.visit_time_too_old.sentence"] = (
    "the time {time} is more than {days} days ago: give one from {earliest} on, or leave it empty "
    "and write the date in the note.",
    "时间 {time} 已超过 {days} 天：请填写 {earliest} 以后的时间，或留空并在走访情况中写明日期。",
)

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)

_TRANSLATORS = {"en": Translator("en"), "zh": Translator("zh")}
#: Parameters whose values are vocabulary codes, and the catalogue prefix that names them.
_STATUS_PARAMS = frozenset({"from", "to", "status"})


def render(
    code: str, params: Mapping[str, Any] | None = None, language: str | None = None, app: bool = False
) -> str:
    """A refusal's text in `language` (default: the UI's), its parameters filled in and the
    fields and statuses they name translated; an unknown code says a newer version made it.
    With `app`, its wording for the app where it has one (`rule.CODE.app`: keys, not options)."""
    tr = _TRANSLATORS["zh" if (language or get_language()) == "zh" else "en"]
    values = {k: _value(tr, k, v) for k, v in (params or {}).items()}
    key = f"rule.{code}"
    if not tr.has(key):
        return tr.t("rule.unknown", code=code)
    if app and tr.has(f"{key}.app"):
        key = f"{key}.app"
    try:
        return tr.t(key, **values)
    except (KeyError, IndexError):  # parameters from another version: the text without them
        return tr.t("rule.unknown", code=code)


def _value(tr: Translator, name: str, value: Any) -> Any:
    if name == "field" and tr.has(f"rule.field.{value}"):
        return tr.t(f"rule.field.{value}")
    if name in _STATUS_PARAMS and tr.has(f"status.{value}"):
        shown = tr.t(f"status.{value}")
        return shown.lower() if tr.language == "en" else shown  # inside a sentence
    return value


def refused_text(entry: Mapping[str, Any], language: str | None = None) -> str:
    """The text of a view's ``refused`` entry (``{"code", "params"}``, `sync.merge.refuse`)."""
    return render(str(entry.get("code", "")), entry.get("params") or {}, language)


def refusal_message(code: str, params: Mapping[str, Any] | None = None, language: str | None = None) -> str:
    """ "Not recorded: <why>." in `language` (default: the UI's), then in the other language: the
    command line's message for a refusal (a person reading either language can act on it)."""
    first = "zh" if (language or get_language()) == "zh" else "en"
    return "\n".join(
        _TRANSLATORS[lang].t("rule.not_recorded", reason=render(code, params, lang))
        for lang in (first, "en" if first == "zh" else "zh")
    )


def rejection_text(doc: Mapping[str, Any], language: str | None = None) -> str:
    """The text of a stored rejection (``{"code", "params", "reason"}``, `sync.replica`): from its
    code and parameters; one refused by a rule as that rule; one stored by an earlier version,
    without parameters, as its (English) reason."""
    params = doc.get("params")
    if not isinstance(params, Mapping):
        return str(doc.get("reason", ""))
    values = dict(params)
    rule = values.pop("rule", None)
    if rule is not None:
        return render(str(rule), values, language)
    tr = _TRANSLATORS["zh" if (language or get_language()) == "zh" else "en"]
    why = values.pop("why", None)
    for key in (f"rejection.{doc.get('code')}.{why}", f"rejection.{doc.get('code')}"):
        if tr.has(key):
            try:
                return tr.t(key, **values)
            except (KeyError, IndexError):
                break
    return str(doc.get("reason", ""))
