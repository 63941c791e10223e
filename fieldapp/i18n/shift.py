"""Strings of the shift report (`fieldapp shift-report`), in English and Simplified Chinese."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "shift.error.since": (
        "--since {value} is not a time: write YYYY-MM-DD HH:MM, HH:MM (today) or a duration such as "
        "12h or 30m, e.g. `fieldapp shift-report --since 20:00`.",
        "--since {value} 不是有效的时间：请写成 YYYY-MM-DD HH:MM、HH:MM（今天）或时长如 12h、30m，"
        "例如 `fieldapp shift-report --since 20:00`。",
    ),
    "shift.error.since_future": (
        "--since {value} is in the future: give a time before now, e.g. `--since 12h`.",
        "--since {value} 是将来的时间：请给出现在之前的时间，例如 `--since 12h`。",
    ),
    "shift.wrote": (
        "Wrote the shift report's {rows} row(s) to {path}.",
        "已将交班报告的{rows}行写入 {path}。",
    ),
    "shift.title": ("Shift report since {since} (now {until})", "交班报告：自 {since} 起（现在 {until}）"),
    "shift.merged": (
        "{merged} of {total} devices merged this shift",
        "本班次已合并{merged}/{total}台设备",
    ),
    "shift.missing": ("; missing: {names}", "；未同步：{names}"),
    "shift.missing_one": ("{officer} (last synced {ago})", "{officer}（上次同步：{ago}）"),
    "shift.names_sep": (", ", "、"),
    "shift.ago.never": ("never", "从未"),
    "shift.ago.minutes": ("{n} min ago", "{n}分钟前"),
    "shift.ago.hours": ("{n} h ago", "{n}小时前"),
    "shift.ago.days": ("{n} days ago", "{n}天前"),
    "shift.yes": ("yes", "是"),
    "shift.no": ("no", "否"),
    "shift.revoked": ("{role} (revoked)", "{role}（已吊销）"),
    "shift.unknown_devices": ("(unknown devices)", "（未知设备）"),
    "shift.col.officer": ("Officer", "民警"),
    "shift.col.device": ("Device", "设备"),
    "shift.col.role": ("Role", "角色"),
    "shift.col.last_sync": ("Last sync", "上次同步"),
    "shift.col.synced": ("This shift", "本班次"),
    "shift.col.sessions": ("Sessions", "同步次数"),
    "shift.col.carried": ("Carried", "传送操作"),
    "shift.col.intakes": ("Intakes", "新登记"),
    "shift.col.visits": ("Visits", "走访"),
    "shift.col.updates": ("Updates", "更新"),
    "shift.col.resolutions": ("Resolved", "化解"),
    "shift.col.other": ("Other", "其他"),
    "shift.col.conflicts": ("Conflicts", "冲突"),
    "shift.col.new_red": ("New red", "新红色"),
    "shift.col.refusals": ("Refused", "被拒"),
    "shift.col.errors": ("Errors", "出错"),
    "shift.col.overdue": ("Overdue", "超期"),
    "shift.col.refused_ops": ("Ops refused", "被拒操作"),
    "shift.col.behind": ("Behind", "落后"),
    "shift.unknown": ("unknown", "未知"),
    "shift.section.refused": ("Refused connections ({count})", "被拒绝的连接（{count}）"),
    "shift.section.errors": ("Sessions cut short ({count})", "中断的同步（{count}）"),
    "shift.section.new_red": ("New red cases ({count})", "新增红色案件（{count}）"),
    "shift.section.new_conflicts": ("New conflicts ({count})", "新增冲突（{count}）"),
    "shift.section.overdue": ("Overdue now, per officer ({count})", "当前超期，按民警（{count}）"),
    "shift.none": ("none", "无"),
    "shift.event": ("{at}  {who}  {why}", "{at}  {who}  {why}"),
    "shift.event_applied": (
        "{at}  {who}  {why} ({applied} operations merged before it)",
        "{at}  {who}  {why}（中断前已合并{applied}条操作）",
    ),
    "shift.red_row": ("{case}  {village}  made red by {by}", "{case}  {village}  由{by}标为红色"),
    "shift.conflict_row": ("{case}  {field}  between {authors}", "{case}  {field}  涉及：{authors}"),
    "shift.overdue_row": ("{officer}: {count} ({cases})", "{officer}：{count}件（{cases}）"),
    "shift.imports": ("Operation files imported: {count}", "导入的操作文件：{count}"),
    "shift.refused.certificate": (
        "its certificate does not hold (not issued by this station, or off the profile)",
        "其证书无效（不是本派出所签发的，或格式不符）",
    ),
    "shift.refused.foreign_certificate": (
        "a device of another station, or of none",
        "其他派出所的设备，或未登记的设备",
    ),
    "shift.refused.tls": ("the secure connection failed", "安全连接失败"),
    "shift.refused.handshake_timeout": ("the secure handshake timed out", "建立安全连接超时"),
    "shift.refused.handshake_lost": ("the connection dropped during the handshake", "建立安全连接时连接断开"),
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
