"""Strings of the supervisor's shift board (the Shift tab), in English and Simplified Chinese."""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "sup.tab.shift": ("Shift (5)", "本班次 (5)"),
    "binding.tab_shift": ("Shift", "本班次"),
    "board.since": ("Since", "起始"),
    "board.since_placeholder": ("e.g. 20:00 or 12h", "例如 20:00 或 12h"),
    "board.since_shown": (
        "This shift: since {since}. Type a time and Enter to change it.",
        "本班次：自 {since} 起。输入时间并按 Enter 可更改。",
    ),
    "board.col.officer": ("Officer", "民警"),
    "board.col.role": ("Role", "角色"),
    "board.col.last": ("Last sync", "上次同步"),
    "board.col.shift": ("Shift", "本班"),
    "board.col.intakes": ("New", "新登记"),
    "board.col.visits": ("Visits", "走访"),
    "board.col.updates": ("Upd.", "更新"),
    "board.col.conflicts": ("Confl.", "冲突"),
    "board.col.refused_ops": ("Refused", "被拒"),
    "board.col.behind": ("Behind", "落后"),
    "board.col.errors": ("Errors", "错误"),
    "board.yes": ("yes", "是"),
    "board.no": ("no", "否"),
    "board.revoked": ("revoked", "已吊销"),
    "board.unknown": ("?", "？"),
    "board.transfer": (
        "{who}: {done} of {total} operations",
        "{who}：{done}/{total} 条操作",
    ),
    "board.errors": ("Refused connections and cut transfers: {lines}", "被拒绝的连接和中断的传输：{lines}"),
    "board.no_errors": (
        "No refused connection or cut transfer this shift.",
        "本班次没有被拒绝的连接或中断的传输。",
    ),
    "board.hint": (
        "Behind: operations this computer holds that the device lacked when it last synced here; "
        "it gets them at its next sync with this computer or any device. Ctrl+R: read again.",
        "落后：本机有而该设备上次在本机同步时没有的操作，下次与本机或任何设备同步即可获得。"
        "Ctrl+R：重新读取。",
    ),
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
