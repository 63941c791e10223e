"""The rules' refusal reasons in the UI language.

The reducers return their reasons in English, and those strings are part of the merged
state (every device must store the same bytes), so they are translated only when shown.
Fixed reasons are looked up whole; the few with values in them are matched by pattern and
their values (statuses, field names) translated too. A reason not known here is shown as
it is, so a new rule is never hidden, only untranslated.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fieldapp.i18n import get_language, has_key, t

_FIXED: dict[str, str] = {
    "the author's device is not known": "记录该操作的设备未知（尚未同步其登记信息）",
    "the case does not exist (yet) on this device": "本设备上（尚）无此案件",
    "the case already exists": "案件已存在",
    "the case id does not belong to the operation that creates it": "案件编号与登记操作不符",
    "no fields to change": "没有要修改的内容",
    "each party must have a name, a phone and a role": "每位当事人须有姓名、电话和身份",
    "only a supervisor may change the deadline": "只有所长可以更改办理时限",
    "an escalation names tier 2 (joint team) or 3 (mediation room)": (
        "上报须指明二级（联合调解组）或三级（矛盾纠纷调解室）"
    ),
    "a referral names the department it goes to": "移交须写明接收部门",
    "a referral records how the department was notified": "移交须记录通报方式",
    "a case cannot be resolved before at least one visit or mediation is recorded": (
        "至少记录一次走访或调解后，案件才能标记为已化解"
    ),
    "a mediation agreement records its terms": "调解协议须写明协议内容",
    "a red case can only be closed by a supervisor": "红色案件只能由所长结案",
    "a case that has been red since it was last opened can only be closed by a supervisor": (
        "本案自登记（或重新启动）以来曾为红色，无论现在风险等级如何，只能由所长结案"
    ),
    "an officer raises a case's tier by escalating it, for a supervisor to approve": (
        "民警提高调处层级须通过上报（状态改为已上报并选择层级），由所长批准"
    ),
    "the escalation's tier changed after the approval began; review it again": (
        "审批开始后上报层级又有变化，请重新审核"
    ),
    "reopening needs a reason (what flared up again)": "重新启动须写明原因（哪里出现反弹）",
    "only a supervisor may assign a case": "只有所长可以交办案件",
    "an assignment names the officer's device (and optionally a valid deadline)": (
        "交办须指明承办民警的设备（可附有效的办理时限）"
    ),
    "the case is assigned to another officer": "案件已交办给其他民警",
    "only a supervisor may approve an escalation": "只有所长可以批准上报",
    "there is no escalation awaiting approval": "没有待批准的上报",
    "only a supervisor may settle a conflict": "只有所长可以处理编辑冲突",
    "there is no open conflict on that field": "该项没有待处理的冲突",
    "the field changed after the review began; review it again": "核对开始后该项又有修改，请重新核对",
    "a note needs text": "备注不能为空",
    "only a supervisor may place a village in a police area": "只有所长可以划分警务区",
    "revocations need a station; this device is not enrolled at one": (
        "吊销需要派出所授权；本设备未登记到派出所"
    ),
    "only the station's supervisor can revoke a device": "只有派出所所长可以吊销设备",
    "the revoked device is not known (yet)": "被吊销的设备（尚）未知",
    "the device is already revoked": "该设备已被吊销",
    "the revocation is incomplete": "吊销信息不完整",
    "the revocation is not signed by the station": "吊销未经派出所签名",
    "only a supervisor can settle a fork": "只有所长可以裁定日志分叉",
    "a device cannot settle a fork of its own log": "设备不能裁定自己日志的分叉",
    "the fork settlement is incomplete": "分叉裁定信息不完整",
    "the signature does not match the content (altered in transit or forged)": (
        "签名与内容不符（传输中被篡改或伪造）"
    ),
    "a different copy of an operation this device holds, not signed by its author (altered or forged)": (
        "与本设备已有操作位置相同但内容不同的副本，且没有其作者的签名（被篡改或伪造）"
    ),
    "the device announcement is not signed by its key": "设备登记信息未经其密钥签名",
}


def _status(match: re.Match[str], name: str) -> str:
    code = match.group(name).replace(" ", "_")
    return t(f"status.{code}") if has_key(f"status.{code}") else match.group(name)


def _field(name: str) -> str:
    for key in (f"column.{name}", f"case.field.{name}"):
        if has_key(key):
            return t(key)
    return name


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"the case is (?P<old>[a-z ]+) and cannot become (?P<new>[a-z ]+)"),
        lambda m: f"案件当前为“{_status(m, 'old')}”，不能变为“{_status(m, 'new')}”",
    ),
    (
        re.compile(r"only a resolved or closed case can be reopened \(this one is (?P<old>[a-z_ ]+)\)"),
        lambda m: f"只有已化解或已结案的案件可以重新启动（本案为“{_status(m, 'old')}”）",
    ),
    (
        re.compile(r"(?P<name>.+) must be text of at most (?P<n>\d+) characters(?P<req>, not empty)?"),
        lambda m: (
            f"{_NAMES.get(m.group('name'), m.group('name'))}须为不超过 {m.group('n')} 字的文字"
            + ("，且不能为空" if m.group("req") else "")
        ),
    ),
    (
        re.compile(r"(?P<name>.+) must be one of: (?P<list>.+)"),
        lambda m: f"{_NAMES.get(m.group('name'), m.group('name'))}取值无效",
    ),
    (
        re.compile(r"a police area is named by text of at most (?P<n>\d+) characters \(or none\)"),
        lambda m: f"警务区名称须为不超过 {m.group('n')} 字的文字（或留空）",
    ),
    (
        re.compile(r"device (?P<id>\S+) was revoked by the station(?: \((?P<why>.*)\))?"),
        lambda m: (
            f"设备 {m.group('id')} 已被派出所吊销" + (f"（{m.group('why')}）" if m.group("why") else "")
        ),
    ),
    (
        re.compile(
            r"device (?P<id>\S+) signed two different operations at one place in its log; "
            r"its new work waits until a supervisor settles it(?: in the review queue)?"
        ),
        lambda m: f"设备 {m.group('id')} 在其日志同一位置签署了两条不同的操作；其新记录暂不生效，待所长裁定",
    ),
    (
        re.compile(
            r"more than (?P<n>\d+) entries or (?P<k>\d+) KiB of a log without a signature of its author; "
            r"the sending device must send them again"
        ),
        lambda m: (
            f"日志中连续 {m.group('n')} 条以上（或 {m.group('k')} KiB 以上）没有作者签名；"
            "须由发送设备重新发送"
        ),
    ),
    (re.compile(r"parties must be a list of at most (?P<n>\d+)"), lambda m: f"当事人最多 {m.group('n')} 位"),
    (re.compile(r"flags must be a list drawn from: .+"), lambda m: "风险提示取值无效"),
    (
        re.compile(r"'(?P<name>\w+)' cannot be changed this way"),
        lambda m: f"{_field(m.group('name'))}不能这样修改",
    ),
    (re.compile(r"a resolution records its outcome: .+"), lambda m: "化解须记录结果：调解协议、撤回或其他"),
    (
        re.compile(r"deadline '.*' is not a date like 2026-12-31 \(year-month-day\)"),
        lambda m: "办理时限须为 2026-12-31 这样的日期",
    ),
]

#: The subjects the text and choice checks name (cases.FIELD_CHECKS and friends).
_NAMES: dict[str, str] = {
    "the village": "村名",
    "the summary": "摘要",
    "the category": "类别",
    "the risk": "风险等级",
    "the source": "来源",
    "the tier": "调处层级",
    "the status": "状态",
    "a party's name": "当事人姓名",
    "a party's phone": "当事人电话",
    "a party's role": "当事人身份",
    "the reason": "原因",
    "the visit kind": "走访方式",
    "the visit note": "走访记录",
    "the place": "地点",
    "the participants": "参与人",
    "the assignee": "承办人",
    "the department": "部门",
    "the notification": "通报方式",
    "the agreement's terms": "协议内容",
    "the reason for reopening": "重新启动原因",
    "the note": "备注",
    "status": "状态",
}


def reason_text(reason: str, language: str | None = None) -> str:
    """A rules refusal reason in `language` (default: the UI's), English if not known here."""
    if (language or get_language()) != "zh":
        return reason
    if reason in _FIXED:
        return _FIXED[reason]
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return render(match)
    return reason


# ------------------------------------------------------------------ sync errors

_SYNC_FIXED: dict[str, str] = {
    # Why a peer's TLS certificate was refused (sync/tls.py, docs/sync.md "Checks").
    "the peer presented no certificate": "对方未出示证书",
    "the peer's certificate is missing or too large": "对方的证书缺失或过大",
    "the peer's certificate cannot be read": "无法读取对方的证书",
    "the peer's certificate was not issued by this station": "对方的证书不是本派出所签发的",
    "the peer's certificate is outside its validity (check both devices' clocks)": (
        "对方的证书不在有效期内（请检查两台设备的时钟）"
    ),
    "the peer's certificate does not name this station": "对方的证书未写明本派出所",
    "the peer's certificate has no valid role": "对方的证书没有有效的角色",
    "the peer's certificate has a subject other than device id and station": (
        "对方证书的主体不只是设备编号和派出所"
    ),
    "the peer's certificate does not hold a device key": "对方的证书不含设备密钥",
    "the peer's certificate names a device id that is not its key's": "对方证书中的设备编号与其密钥不符",
    "the peer's certificate lacks the extensions of a device certificate": (
        "对方的证书缺少设备证书应有的扩展项"
    ),
    "the peer's certificate is not a device certificate of this station": "对方的证书不是本派出所的设备证书",
    "the peer's certificate predates the current profile and is no longer accepted; renew it: "
    "`fieldapp enrol open` on the station authority's device, then `fieldapp enrol join --code "
    "CODE` on that device (its records are kept)": (
        "对方的证书是旧格式，已不再被接受。请续签：在派出所管理设备上运行 `fieldapp enrol open`，"
        "再在该设备上运行 `fieldapp enrol join --code CODE`（记录会保留）"
    ),
    "the peer is not the device that was advertised": "对方不是广播中声明的那台设备",
    "timed out sending to the peer": "向对方发送数据超时",
    "timed out waiting for the peer": "等待对方响应超时",
    "the secure handshake timed out": "建立安全连接超时",
    "the peer closed the connection": "对方关闭了连接",
    "connection closed mid-frame": "传输途中连接断开",
    "the peer belongs to another station": "对方属于其他派出所",
    "the peer's hello names another device than its certificate": "对方声明的设备与其证书不符",
    "the peer presented no certificate (only a device enrolled at this station may connect); "
    "this device refused it": "对方未出示证书（只有本派出所登记的设备才能连接），本设备已拒绝",
    "the peer refused this device's certificate (the devices are not enrolled at the same "
    "station, or this device is not enrolled)": (
        "对方拒绝了本设备的证书（两台设备不属于同一派出所，或本设备尚未登记）"
    ),
}

_SYNC_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"nothing is listening at (?P<at>\S+) \(is `fieldapp serve` running there\?\)"),
        lambda m: f"{m.group('at')} 上没有同步服务（对方是否已运行 `fieldapp serve`？）",
    ),
    (
        re.compile(r"cannot reach (?P<at>\S+) \((?P<why>.*)\)"),
        lambda m: f"无法连接 {m.group('at')}（{m.group('why')}）",
    ),
    (
        re.compile(r"the secure connection failed \((?P<why>.*)\)"),
        lambda m: f"安全连接失败（{m.group('why')}）",
    ),
    (re.compile(r"the connection was lost \((?P<why>.*)\)"), lambda m: f"连接中断（{m.group('why')}）"),
    (re.compile(r"refused: (?P<why>.*)"), lambda m: f"被拒绝：{sync_reason_text(m.group('why'), 'zh')}"),
    (
        re.compile(r"the peer ended the session: (?P<why>.*)"),
        lambda m: f"对方结束了同步：{sync_reason_text(m.group('why'), 'zh')}",
    ),
    (
        re.compile(r"the peer speaks (?P<theirs>\S+), this device (?P<ours>\S+); update fieldapp on both"),
        lambda m: (
            f"对方的同步协议为 {m.group('theirs')}，本设备为 {m.group('ours')}；"
            "请把两台设备的 fieldapp 更新到同一版本"
        ),
    ),
    (
        re.compile(r"(?P<what>the peer (sent|did not|acknowledged|said) .*)"),
        lambda m: f"对方未按同步协议通信（{m.group('what')}）",
    ),
]


def sync_reason_text(reason: str, language: str | None = None) -> str:
    """Why a sync failed, in `language` (default: the UI's); English if not known here."""
    if (language or get_language()) != "zh":
        return reason
    if reason in _SYNC_FIXED:
        return _SYNC_FIXED[reason]
    for pattern, render in _SYNC_PATTERNS:
        match = pattern.fullmatch(reason)
        if match:
            return render(match)
    return reason_text(reason, "zh")
