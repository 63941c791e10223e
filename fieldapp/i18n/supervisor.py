"""Strings of the supervisor's screens (dashboard, review, devices, reports), English and Chinese.

Registered with `fieldapp.i18n.add_catalogue` on import.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    # Navigation
    "binding.supervise": ("Supervise", "所长工作台"),
    "binding.refresh": ("Refresh", "刷新"),
    "binding.tab_dashboard": ("Dashboard", "总览"),
    "binding.tab_review": ("Review", "待审核"),
    "binding.tab_devices": ("Devices", "设备"),
    "binding.tab_reports": ("Reports", "报表导出"),
    "binding.open_case": ("Open case", "打开案件"),
    "binding.revoke": ("Revoke", "吊销"),
    "binding.case_assign": ("Assign", "交办"),
    "binding.case_deadline": ("Deadline", "办理时限"),
    "binding.case_approve": ("Approve", "批准上报"),
    "binding.case_agreement": ("Agreement", "调解协议书"),
    "palette.supervise": ("Supervise", "所长工作台"),
    "palette.supervise_help": (
        "Dashboard, review queue, devices, reports and exports (supervisors)",
        "总览、待审核事项、设备、报表与导出（所长）",
    ),
    "sup.only_supervisor": (
        "Only a supervisor's device can do this; this device is enrolled as an officer's.",
        "只有所长的设备可以进行此操作；本设备登记为民警设备。",
    ),
    "sup.title": ("Supervisor · {station}", "所长工作台 · {station}"),
    "sup.tab.dashboard": ("Dashboard (1)", "总览 (1)"),
    "sup.tab.review": ("Review {count} (2)", "待审核 {count} (2)"),
    "sup.tab.devices": ("Devices (3)", "设备 (3)"),
    "sup.tab.reports": ("Reports (4)", "报表与导出 (4)"),
    # Dashboard
    "dash.column.figure": ("Figure", "指标"),
    "dash.column.count": ("Cases", "件数"),
    "dash.loading": ("Gathering the figures of {count} cases…", "正在汇总 {count} 件案件的数据……"),
    "dash.hint": (
        "Enter on a figure lists its cases · p on a village places it in a police area",
        "在指标上按回车列出对应案件 · 在村名上按 p 划分警务区",
    ),
    "dash.section.open": ("Open cases", "在办案件"),
    "dash.open_risk": ("Open · {risk}", "在办 · {risk}"),
    "dash.open_status": ("Open · {status}", "在办 · {status}"),
    "dash.section.attention": ("Needs attention", "需关注"),
    "dash.overdue": ("Overdue (past deadline)", "超期未办结"),
    "dash.followups_due": ("Follow-ups due", "应回访"),
    "dash.unassigned": ("Not assigned, not claimed", "未交办、未认领"),
    "dash.unclaimed": ("Assigned, not yet claimed", "已交办、未认领"),
    "dash.period.found": ("Disputes found", "排查发现"),
    "dash.period.resolved": ("Resolved in the period", "期内化解"),
    "dash.period.found_resolved": ("Found and resolved", "发现并化解"),
    "dash.period.rate": ("Resolution rate {rate}", "化解率 {rate}"),
    "dash.period.hazards_found": ("Hazards found", "发现安全隐患"),
    "dash.period.hazards_fixed": ("Hazards fixed", "整改安全隐患"),
    "dash.period.repeat_incidents": ("Repeat incidents", "重复警情/反弹"),
    "dash.section.area": ("Open cases by police area", "各警务区在办案件"),
    "dash.no_area": ("(no police area)", "（未划分警务区）"),
    "dash.section.village": ("Open cases by village", "各村在办案件"),
    "dash.section.officer": ("Open cases by officer", "各民警在办案件"),
    "dash.section.months": ("Resolution rate by month (found)", "每月化解率（登记件数）"),
    "dash.month_rate": ("{month}: {rate}", "{month}：{rate}"),
    "dash.month_found": ("Found in {month}", "{month} 登记"),
    "dash.section.weeks": ("Intake by week", "每周登记"),
    "dash.week": ("Week of {date}", "{date} 当周"),
    "dash.nobody": ("(nobody)", "（无）"),
    "dash.chart.intake": ("Weekly intake by category", "每周登记（按类别）"),
    "dash.chart.rate": ("Resolution rate by month (%)", "每月化解率（%）"),
    "dash.other_categories": ("other categories", "其他类别"),
    "dash.no_rate": ("–", "–"),
    "list.title": ("{title}: {count} case(s)", "{title}：{count} 件"),
    "list.column_id": ("Case", "案件编号"),
    "list.hint": ("Enter opens a case · Esc goes back", "回车打开案件 · Esc 返回"),
    "binding.place_village": ("Police area", "警务区"),
    "area.title": ("Police area of {village}", "{village} 所属警务区"),
    "area.area": ("Police area (empty: none)", "警务区（留空为不划分）"),
    "area.known": ("Areas so far: {names}", "已有警务区：{names}"),
    "area.none_yet": ("No police area yet: type the first one's name.", "尚无警务区，请输入名称。"),
    "area.done": ("{village}: {area}.", "{village}：{area}。"),
    "area.choose_village": (
        "Move to a village's row (under open cases by village) first.",
        "请先选中“各村在办案件”下的村名。",
    ),
    # Review queue
    "review.counts": (
        "To decide: {fork} fork(s), {conflict} conflict(s), {link_conflict} person link(s), "
        "{escalation} escalation(s), {red_closure} red case(s) to close."
        "   Records: {refused} refused, {fork_settled} settled fork(s), {rejected} rejected entries.",
        "待决定：日志分叉 {fork} 项，冲突 {conflict} 项，人员关联 {link_conflict} 项，"
        "上报待批 {escalation} 项，"
        "红色案件待结案 {red_closure} 项。"
        "   记录：未生效操作 {refused} 项，已裁定分叉 {fork_settled} 项，拒收条目 {rejected} 项。",
    ),
    "review.hint": (
        "Enter decides the item (or opens its case) · o opens the case",
        "回车处理该事项（或打开案件）· o 打开案件",
    ),
    "review.column.kind": ("Item", "事项"),
    "review.column.case": ("Case", "案件"),
    "review.column.what": ("Details", "详情"),
    "review.column.who": ("By", "人员"),
    "review.column.when": ("When", "时间"),
    "review.kind.conflict": ("Conflict", "编辑冲突"),
    "review.kind.escalation": ("Escalation", "上报待批"),
    "review.kind.red_closure": ("Red: close?", "红色待结案"),
    "review.kind.refused": ("Refused", "未生效"),
    "review.kind.fork": ("Fork", "日志分叉"),
    "review.kind.fork_settled": ("Fork settled", "分叉已裁定"),
    "review.kind.rejected": ("Rejected", "拒收"),
    "review.conflict": ("{field}: {first} / {second}", "{field}：{first} / {second}"),
    "review.escalation": ("to {tier}", "上报至{tier}"),
    "review.red_closure": ("resolved, awaiting a supervisor's closure", "已化解，待所长审核结案"),
    "review.refused": ("{kind}: {reason}", "{kind}：{reason}"),
    "review.fork": (
        "entry {seq} signed twice; its work from there held out until settled · Enter: settle",
        "第 {seq} 条有两个签名版本，此后记录暂不显示 · 回车裁定",
    ),
    "review.fork_hint": (
        "{officer}'s device signed two different entries at entry {seq} of its log; its work from "
        "there is held out of the view until settled. Enter: compare the two and keep one.",
        "{officer}的设备在日志第{seq}条签署了两个不同版本，自此起的记录暂不显示，待裁定。"
        "按回车对照两个版本并保留其一。",
    ),
    "review.fork_settled.kept": (
        "fork at entry {seq} settled for the entry held here: the device's work shows",
        "第 {seq} 条的分叉已裁定保留本机所存版本：该设备的记录已恢复显示",
    ),
    "review.fork_settled.other": (
        "fork at entry {seq} settled for the other entry: this device's branch is being set aside",
        "第 {seq} 条的分叉已裁定保留另一版本：本机所存的分支正被搁置",
    ),
    "review.fork_settled.awaiting": (
        "fork at entry {seq} settled for the other entry: this device's branch is set aside (kept "
        "on record); the kept entry and the work after it come with the next sync",
        "第 {seq} 条的分叉已裁定保留另一版本：本机所存的分支已搁置（留档）；"
        "所保留的版本及其后记录将在下次同步时收到",
    ),
    "review.rejected": ("{reason}", "{reason}"),
    "review.more": (
        "Showing the {shown} most urgent of {total} items; those decided make room for the next.",
        "显示最紧急的 {shown} 项（共 {total} 项）；处理后依次显示其余事项。",
    ),
    "review.empty": ("Nothing to review.", "暂无待审核事项。"),
    "review.no_case": ("This item concerns a device, not a case.", "该事项涉及设备，而非案件。"),
    # Review dialogs
    "conflict.title": ("Settle the conflict on {field} · case {id}", "处理冲突：{field} · 案件 {id}"),
    "conflict.body": (
        "Two devices changed {field} without seeing each other's change. {shown} is shown now. "
        "Choose the value that stands and save (ctrl+s); both stay on record.",
        "两台设备在互不知情的情况下修改了{field}。当前显示：{shown}。选择应采用的值后按 ctrl+s 保存；"
        "两个值都会保留在记录中。",
    ),
    "conflict.value": ("{value}  — {who}, {when}", "{value}  ——{who}，{when}"),
    "conflict.shown": ("shown now", "当前显示"),
    "conflict.write": ("Or write the value", "或填写新值"),
    "conflict.choose": ("Value that stands", "应采用的值"),
    "conflict.choose_required": (
        "Nothing settled yet: choose the value that stands (↑/↓ to it, then Enter or Space), "
        "then press ctrl+s. Esc closes without settling.",
        "尚未处理：请选择应采用的值（用 ↑/↓ 移到该值，按回车或空格选中），再按 ctrl+s。"
        "按 Esc 关闭，不作处理。",
    ),
    "conflict.choose_or_write": (
        "Nothing settled yet: choose the value that stands (↑/↓ to it, then Enter or Space) or "
        "write the value below, then press ctrl+s. Esc closes without settling.",
        "尚未处理：请选择应采用的值（用 ↑/↓ 移到该值，按回车或空格选中）或在下方填写新值，再按 ctrl+s。"
        "按 Esc 关闭，不作处理。",
    ),
    "conflict.done": ("Conflict on case {id} settled.", "案件 {id} 的冲突已处理。"),
    "approve.title": ("Approve the escalation · case {id}", "批准上报 · 案件 {id}"),
    "approve.body": (
        "{officer} escalated this case to {tier}. "
        "Approve it so the joint team or mediation room takes it up.",
        "{officer} 将本案上报至{tier}。批准后由联调组或调解室接手。",
    ),
    "approve.confirm": ("Approve", "批准"),
    "approve.done": ("Escalation of case {id} approved.", "案件 {id} 的上报已批准。"),
    "close.title": ("Close the red case {id}", "红色案件结案 · {id}"),
    "close.body": (
        "The case was resolved ({outcome}). A red case is closed only by a supervisor.",
        "本案已化解（{outcome}）。红色案件须由所长审核结案。",
    ),
    "close.reason": ("Reason for closing", "结案意见"),
    "close.reason_required": ("Write why the case can be closed.", "请填写结案意见。"),
    "close.confirm": ("Close the case", "结案"),
    "close.done": ("Case {id} closed.", "案件 {id} 已结案。"),
    "assign.title": ("Assign case {id}", "交办案件 {id}"),
    "assign.officer": ("Officer", "承办民警"),
    "assign.officer_required": ("Choose the officer who takes the case.", "请选择承办民警。"),
    "assign.deadline": ("Deadline (optional, YYYY-MM-DD)", "办理时限（可选，年-月-日）"),
    "assign.deadline_bad": (
        "Write the deadline as a date like 2026-12-31.",
        "请按 2026-12-31 的格式填写日期。",
    ),
    "assign.claimed": ("Claimed by {name}.", "已由 {name} 认领。"),
    "assign.not_claimed": ("Not claimed yet.", "尚未认领。"),
    "assign.confirm": ("Assign", "交办"),
    "assign.done": ("Case {id} assigned.", "案件 {id} 已交办。"),
    "deadline.title": ("Deadline of case {id}", "案件 {id} 的办理时限"),
    "deadline.date": ("Deadline (YYYY-MM-DD)", "办理时限（年-月-日）"),
    "deadline.required": (
        "Write the deadline as a date like 2026-12-31.",
        "请按 2026-12-31 的格式填写日期。",
    ),
    "deadline.done": ("Deadline of case {id} set.", "案件 {id} 的办理时限已设定。"),
    # Fork dialog (review queue) and `fieldapp device forks|settle`
    "fork.title": ("Settle the fork of {officer}'s device", "裁定 {officer} 设备的日志分叉"),
    "fork.body": (
        "{officer}'s device signed two different entries at entry {seq} of its log (a copied store, "
        "or its key in other hands). Its work from there is held out until you keep the one it "
        "really wrote. Both stay on record.",
        # No blanks: Rich wraps a line at a blank, which leaves a stub line in Chinese text.
        "{officer}的设备在日志第{seq}条签署了两个不同版本（数据被复制后两处写入，或密钥落入他人之手）。"
        "在您保留其真实记录的版本之前，自此起的记录暂不显示。两个版本都保留在记录中。",
    ),
    "fork.side.held": ("Held on this device", "本机所存版本"),
    "fork.side.other": ("Arrived {seen}", "后收到（{seen}）"),
    "fork.row.kind": ("Record", "操作"),
    "fork.row.entity": ("Concerns", "对象"),
    "fork.row.at": ("Stamped", "记录时间"),
    "fork.keep": ("Which entry is the device's log?", "哪个版本是该设备的真实记录？"),
    "fork.keep.held": ("Keep the entry held on this device", "保留本机所存版本"),
    "fork.keep.other": ("Keep the entry that arrived second", "保留后收到的版本"),
    "fork.keep_required": (
        "Choose the entry the device really wrote (ask its officer which copy they used).",
        "请选择该设备真实记录的版本（可询问使用该设备的民警用的是哪一份）。",
    ),
    "fork.reason": (
        "Reason (e.g. store restored from a backup; the copy is wiped)",
        "理由（如：设备从备份恢复，副本已销毁）",
    ),
    "fork.reason_required": ("Write why this entry is the device's log.", "请填写裁定理由。"),
    "fork.confirm": ("Settle", "裁定"),
    "fork.done": (
        "Fork of {officer}'s device settled. Devices that hold the kept entry show its work again "
        "once they receive the decision by sync.",
        "{officer}设备的日志分叉已裁定。持有所保留版本的设备同步收到裁定后，将恢复显示其记录。",
    ),
    "fork.standing.open": (
        "open: its work from this entry on is held out of the view until a supervisor settles the fork",
        "待裁定：该设备自此条起的记录暂不显示，直至所长裁定",
    ),
    "fork.standing.kept": (
        "settled for the entry held here: its work shows",
        "已裁定保留本机所存版本：其记录正常显示",
    ),
    "fork.standing.other": (
        "settled for the other entry: this device's branch is being set aside",
        "已裁定保留另一版本：本机所存的分支正被搁置",
    ),
    "fork.standing.awaiting": (
        "settled for the other entry: this device's branch is set aside (kept on record); the kept "
        "entry and the work after it come with the next sync (`fieldapp sync`)",
        "已裁定保留另一版本：本机所存的分支已搁置（留档）；"
        "所保留的版本及其后记录将在下次同步（`fieldapp sync`）时收到",
    ),
    "fork.cli.fork": (
        "Fork {fork}: {officer} (device {device}), log {epoch}, entry {seq}, seen {seen}",
        "分叉 {fork}：{officer}（设备 {device}），日志 {epoch} 第 {seq} 条，发现于 {seen}",
    ),
    "fork.cli.held_out": (
        "  the device's work is held out of the view here",
        "  该设备的部分记录在本机暂不显示",
    ),
    "fork.cli.shown": ("  the device's work shows here", "  该设备的记录在本机正常显示"),
    "fork.cli.entry.held": (
        "  held here: {kind} {entity} at {at}  {fields}",
        "  本机所存：{kind} {entity}，{at}  {fields}",
    ),
    "fork.cli.entry.other": (
        "  other:     {kind} {entity} at {at}  {fields}",
        "  另一版本：{kind} {entity}，{at}  {fields}",
    ),
    "fork.cli.none": (
        "No forks: every device's log here is a single line.",
        "没有日志分叉：本机所存各设备的日志均无分叉。",
    ),
    "fork.cli.count": ("{count} fork(s), {open} to settle.", "共 {count} 项分叉，{open} 项待裁定。"),
    "fork.cli.todo": (
        "To settle one, on a supervisor's device: fieldapp device settle FORK --keep held|other "
        "--reason TEXT (keep the entry the device really wrote; wipe the other copy of its store).",
        "在所长设备上裁定：fieldapp device settle 分叉编号 --keep held|other --reason 理由"
        "（保留该设备真实记录的版本，并销毁其数据的另一份副本）。",
    ),
    "fork.cli.settled": (
        "Fork {fork} settled: the {side} entry is the log of {officer}'s device. The decision "
        "reaches other devices as they sync.",
        "分叉 {fork} 已裁定：以{side}为 {officer} 设备的日志。裁定随同步传到其他设备。",
    ),
    "fork.cli.side.held": ("held", "本机所存版本"),
    "fork.cli.side.other": ("other", "另一版本"),
    "error.fork_not_supervisor": (
        "Only a supervisor's device can settle a fork, and this device is not one. Settle it on the "
        "supervisor's device (Review tab, or `fieldapp device settle`).",
        "只有所长的设备可以裁定日志分叉，本设备不是。"
        "请在所长设备上裁定（待审核页，或 `fieldapp device settle`）。",
    ),
    "error.fork_unknown": (
        "No fork {fork} is recorded here; `fieldapp device forks` lists the forks this device knows.",
        "本机没有编号为 {fork} 的分叉记录；`fieldapp device forks` 列出本机所知的分叉。",
    ),
    # The same two refusals as the app shows them (`fieldapp.i18n.app_key`): keys, not commands.
    "error.fork_not_supervisor.app": (
        "Only a supervisor's device can settle a fork, and this device is not one. Settle it on the "
        "supervisor's device: d (Supervise), then the Review tab (2).",
        "只有所长的设备可以裁定日志分叉，本设备不是。"
        "请在所长设备上裁定：按 d（所长工作台），再进入待审核页（2）。",
    ),
    "error.fork_unknown.app": (
        "No fork {fork} is recorded here; the Review tab (2) lists the forks this device knows.",
        "本机没有编号为 {fork} 的分叉记录；待审核页（2）列出本机所知的分叉。",
    ),
    "error.revoke_unknown_device.app": (
        "No device {device!r} is known here; the Devices tab (3) lists the devices this one knows.",
        "本设备不认识设备 {device!r}；设备页（3）列出本机所知的设备。",
    ),
    "error.fork_own_log": (
        "This fork is of this device's own log: another supervisor's device must settle it.",
        "这是本设备自身日志的分叉，须由另一台所长设备裁定。",
    ),
    "error.fork_keep": (
        "Say which entry is the device's log: --keep held (the one this device holds) or --keep other.",
        "请指明哪个版本是该设备的日志：--keep held（本机所存版本）或 --keep other（另一版本）。",
    ),
    "error.fork_reason": (
        "A settlement needs a reason, e.g. --reason 'restored from a backup; the copy is wiped'. "
        "Nothing was recorded.",
        "裁定须填写理由，例如 --reason '设备从备份恢复，副本已销毁'。未记录任何内容。",
    ),
    "error.fork_refused": ("Not settled: {reason}.", "未裁定：{reason}。"),
    "error.revoke_own_device": (
        "The station authority cannot revoke its own device; nothing was recorded.",
        "派出所管理设备不能吊销本机；未记录任何内容。",
    ),
    "case.op.village.area": ("police area", "警务区划分"),
    "case.op.device.announce": ("device announcement", "设备登记"),
    "case.op.device.revoke": ("device revocation", "吊销设备"),
    "case.op.device.settle": ("fork settlement", "分叉裁定"),
    "case.op.device.enrol": ("device enrolment", "设备登记记录"),
    # Devices
    "devices.column.officer": ("Officer", "使用人"),
    "devices.column.role": ("Role", "角色"),
    "devices.column.device": ("Device", "设备"),
    "devices.column.seen": ("Last record", "最近记录"),
    "devices.column.synced": ("Last sync here", "最近同步"),
    "devices.column.state": ("State", "状态"),
    "devices.role.supervisor": ("supervisor", "所长"),
    "devices.role.officer": ("officer", "民警"),
    "devices.active": ("active", "正常"),
    "devices.this": ("this device", "本机"),
    "devices.revoked": ("revoked: {reason}", "已吊销：{reason}"),
    "devices.never": ("never", "从未"),
    "devices.never_synced": ("never synced", "从未同步"),
    "devices.hint": (
        "x revokes the selected device (a lost or retired device): "
        "its later records stop counting everywhere.",
        "按 x 吊销所选设备（丢失或停用）：其之后的记录在所有设备上不再生效。",
    ),
    "devices.not_authority": (
        "Only the station authority's device can revoke devices.",
        "只有派出所授权设备可以吊销设备。",
    ),
    "revoke.title": ("Revoke the device of {officer}", "吊销 {officer} 的设备"),
    "revoke.body": (
        "Device {device}. Records it made before now stay; anything it records later is refused "
        "by every device once they sync. This cannot be undone.",
        "设备 {device}。此前的记录保留；之后记录的内容在同步后会被所有设备拒收。此操作不可撤销。",
    ),
    "revoke.reason": ("Reason (e.g. lost on patrol)", "原因（如：巡逻中遗失）"),
    "revoke.reason_required": ("Write why the device is revoked.", "请填写吊销原因。"),
    "revoke.confirm": ("Revoke", "吊销"),
    "revoke.done": ("Device of {officer} revoked.", "{officer} 的设备已吊销。"),
    "revoke.own_device": (
        "This is the station authority's own device: it cannot be revoked. Choose another "
        "device's row (up/down) and press x.",
        "这是派出所管理设备本机，不能吊销。请用上下键选择其他设备所在行，再按 x。",
    ),
    # Reports and exports
    "exp.title": ("Export cases and visits", "导出案件与走访记录"),
    "exp.status": ("Status", "状态"),
    "exp.risk": ("Risk", "风险"),
    "exp.village": ("Village (blank: all)", "村（留空为全部）"),
    "exp.folder": ("Folder", "保存到文件夹"),
    "exp.any": ("any", "全部"),
    "exp.button": ("Export", "导出"),
    "exp.done": (
        "Wrote {cases} case(s) and {visits} visit(s) to {path}. The file is not encrypted and names "
        "private people: keep it on the station's computer.",
        "已将 {cases} 件案件、{visits} 条走访写入 {path}。文件未加密且含当事人信息，请只保存在所内电脑上。",
    ),
    "exp.no_folder": (
        "The folder {folder} does not exist; nothing was written.",
        "文件夹 {folder} 不存在，未写入任何文件。",
    ),
    "exp.failed": ("Nothing was written: {reason}", "未写入：{reason}"),
    "rep.title": ("Period report", "期间报表"),
    "rep.period.month": ("Month", "月度"),
    "rep.period.quarter": ("Quarter", "季度"),
    "rep.period.half": ("Half year", "半年"),
    "rep.of": ("Month inside it (YYYY-MM)", "所含月份（年-月）"),
    "rep.of_bad": (
        "No report: “{typed}” is not a month. Type it in the month box (the cursor is there) as "
        "YYYY-MM, for example 2026-03, then press {show} or {write}.",
        "未生成报表：“{typed}”不是月份。请在月份框（光标所在处）按“年-月”填写，例如 2026-03，"
        "再按“{show}”或“{write}”。",
    ),
    "rep.of_missing": (
        "No report: the month is empty. Type it in the month box (the cursor is there) as YYYY-MM, "
        "for example 2026-03, then press {show} or {write}.",
        "未生成报表：未填写月份。请在月份框（光标所在处）按“年-月”填写，例如 2026-03，"
        "再按“{show}”或“{write}”。",
    ),
    "rep.show": ("Show", "预览"),
    "rep.button": ("Write file", "写入文件"),
    "rep.done": ("Wrote the {period} report to {path}.", "已将 {period} 报表写入 {path}。"),
    # A line each for the file's name and its folder: a toast breaks lines only at blanks, so a
    # path run into the sentence was cut mid-name.
    "agreement.done": (
        "Wrote the mediation agreement\n{name}\nin the folder {folder}\n"
        "Open it in a browser to print. It is not encrypted.",
        "调解协议书已写入\n{name}\n所在文件夹：\n{folder}\n可用浏览器打开打印。文件未加密。",
    ),
    "agreement.failed": ("No agreement written: {reason}", "未生成协议书：{reason}"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
