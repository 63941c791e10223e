"""Strings of station mode (the app accepting the devices' syncs, `fieldapp station open`), English
and Chinese. Registered with `fieldapp.i18n.add_catalogue` on import.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "binding.serve": ("Station mode", "驻所接收"),
    "palette.serve": ("Station mode: accept the devices' syncs here", "驻所接收：在本机接收各设备的同步"),
    "palette.serve_help": (
        "Serve the station's devices while you work; F6 on this screen does the same",
        "工作时为所内设备提供同步；在本界面按 F6 效果相同",
    ),
    "palette.serve_stop": ("Station mode: stop accepting syncs", "驻所接收：停止接收同步"),
    "palette.serve_stop_help": (
        "Stop serving the station's devices; F6 on this screen does the same",
        "停止为所内设备提供同步；在本界面按 F6 效果相同",
    ),
    "serve.not_local": (
        "{address} is not an address of this computer: give its address on the station network "
        "(`ip addr` lists them).",
        "{address} 不是本机的地址：请填写本机在所内网络上的地址（`ip addr` 可列出）。",
    ),
    "serve.bad_port": (
        "The port is a number from 1 to 65535 (empty or 0: any free port), not {text!r}.",
        "端口须为 1 到 65535 之间的数字（留空或 0：任一空闲端口），而不是 {text!r}。",
    ),
    "serve.off": (
        "Station mode is off: F6 accepts the devices' syncs here.",
        "驻所接收未开启：按 F6 在本机接收各设备的同步。",
    ),
    # One line at 80 columns (F6 in the footer stops it).
    "serve.on": (
        "Serving syncs on {where} port {port}{advertised} · {running} in progress, "
        "{done} done{failed}{refused}",
        "正在接收同步：{where} 端口 {port}{advertised} · 进行中 {running} 个，已完成 {done} 个"
        "{failed}{refused}",
    ),
    "serve.all_addresses": ("all addresses", "所有地址"),
    "serve.advertised": (", advertised", "，已广播"),
    "serve.failed": (" ({count} failed)", "（{count} 个失败）"),
    "serve.refused": (" · {count} refused, last: {reason}", " · 拒绝 {count} 次，最近一次：{reason}"),
    "serve.locked": (
        "This computer is still accepting the devices' syncs on {where} port {port} ({done} done). "
        "To stop: unlock, then F6 on the sync or supervisor screen (or ctrl+q quits fieldapp).",
        "本机仍在 {where} 端口 {port} 接收各设备的同步（已完成 {done} 个）。"
        "如需停止：解锁后在同步或所长工作台界面按 F6（或按 ctrl+q 退出 fieldapp）。",
    ),
    "serve.started": (
        "Accepting the devices' syncs on {where} port {port}. F6 on this screen stops.",
        "正在 {where} 端口 {port} 接收各设备的同步。在本界面按 F6 停止。",
    ),
    "serve.stopped": (
        "Stopped accepting syncs; everything received is saved.",
        "已停止接收同步；收到的记录均已保存。",
    ),
    "serve.cannot_start": ("Station mode not started: {why}", "驻所接收未能开启：{why}"),
    "serve.ask_title": ("Accept syncs on this computer", "在本机接收同步"),
    "serve.ask_prompt": (
        "This computer's address on the station network (the devices find it there; asked once, "
        "then remembered), and a port (empty: any free port).",
        "本机在所内网络上的地址（各设备在此找到本机；只问一次，之后记住），以及端口（留空：任一空闲端口）。",
    ),
    "serve.interface_placeholder": ("Address, e.g. 192.168.1.20", "地址，例如 192.168.1.20"),
    "serve.port_placeholder": ("Port (empty: any)", "端口（留空：任意）"),
    "serve.start": ("Start", "开始"),
    "serve.cancel": ("Cancel", "取消"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
