"""Strings of the command line (`fieldapp/cli/`), in English and Simplified Chinese.

What a command prints for a person: success lines, the lines of `case show`, `sync` and
`serve`, and the errors the command line raises itself. `--json` output carries codes and
data, not these texts (only its `message` fields are text). Registered on import.
"""

from __future__ import annotations

from fieldapp.i18n import add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    # fieldapp init, demo, store
    "cli.init.officer_required": (
        "--officer needs the officer's name, e.g. --officer '王小明'.",
        "--officer 须写民警姓名，例如 --officer '王小明'。",
    ),
    "cli.init.created": (
        "Created the store in {store}.\nDevice id: {device_id}",
        "已在 {store} 创建数据库。\n设备编号：{device_id}",
    ),
    "cli.demo.built": (
        "Demo station store: {store}\nPassphrase: {passphrase}",
        "演示派出所数据库：{store}\n密码：{passphrase}",
    ),
    "cli.lock_after": (
        "--lock-after takes minutes (0 turns auto-lock off).",
        "--lock-after 的单位是分钟（0 表示不自动锁定）。",
    ),
    "cli.store.intact": (
        "Store is intact: generation {generation}; {counts}.",
        "数据库完好：第 {generation} 代；{counts}。",
    ),
    "cli.store.table": ("{name} {count}", "{name} 表 {count} 条"),
    "cli.store.table_sep": (", ", "，"),
    "cli.store.empty": ("empty", "无数据"),
    "cli.salvage.done": ("Salvage finished; the store opens again.", "修复完成，数据库可以重新打开。"),
    "cli.salvage.damage": ("  damage: {what}", "  损坏：{what}"),
    "cli.salvage.no_damage": ("  no damage found", "  未发现损坏"),
    "cli.salvage.moved": (
        "  damaged files kept in a damaged-* folder: {files}",
        "  损坏的文件已保留在 damaged-* 文件夹中：{files}",
    ),
    "cli.passphrase.current": ("Current passphrase: ", "当前密码："),
    "cli.passphrase.new": ("New passphrase: ", "新密码："),
    "cli.passphrase.changed": ("Passphrase changed.", "密码已更改。"),
    "cli.interrupted": (
        "interrupted; nothing was left half-saved.",
        "已中断；没有保存到一半的记录。",
    ),
    # errors of the device's services (fieldapp/core/service.py, passphrase.py, net.py)
    "cli.error.no_case": (
        "No case {id} on this device. `fieldapp case list` shows the ids.",
        "本设备上没有案件 {id}。`fieldapp case list` 可列出案件编号。",
    ),
    "cli.error.nothing_to_update": (
        "Nothing to update: give a field, --status, --assign or --note.",
        "没有要更新的内容：请给出要改的字段、--status、--assign 或 --note。",
    ),
    "cli.error.no_device": (
        "No device {id} is known here; choose one of the station's officers (`fieldapp device list`).",
        "本设备不认识设备 {id}；请从本所民警的设备中选择（`fieldapp device list`）。",
    ),
    "cli.error.no_identity": (
        "This store has no device identity; create stores with `fieldapp init`.",
        "该数据库没有设备身份；请用 `fieldapp init` 创建数据库。",
    ),
    "cli.error.no_passphrase": (
        "No passphrase given. Use --passphrase-file FILE, set FIELDAPP_PASSPHRASE, "
        "or run in a terminal to be prompted.",
        "未提供密码。请用 --passphrase-file 文件，或设置 FIELDAPP_PASSPHRASE，或在终端中运行以输入密码。",
    ),
    "cli.error.read_file": ("Cannot read {file}: {why}.", "无法读取 {file}：{why}。"),
    "cli.error.interface": (
        "--interface takes this device's IP address on the station network (e.g. 192.168.1.20), "
        "not {text!r}.",
        "--interface 须为本设备在所内网络上的 IP 地址（例如 192.168.1.20），而不是 {text!r}。",
    ),
    "cli.error.peer": (
        "--peer takes HOST:PORT as shown on the other device's screen, not {text!r}.",
        "--peer 须为对方设备屏幕上显示的 主机:端口，而不是 {text!r}。",
    ),
    "cli.error.seconds": (
        "{option} must be a positive number of seconds.",
        "{option} 须为正数（秒）。",
    ),
    # case, visit, ops
    "cli.case.recorded": ("Recorded case {id}.", "已登记案件 {id}。"),
    "cli.case.updated": ("Updated case {id}.", "已更新案件 {id}。"),
    "cli.case.reopened": ("Reopened case {id}.", "已重新启动案件 {id}。"),
    "cli.case.claimed": ("Claimed case {id}.", "已认领案件 {id}。"),
    "cli.case.approved": ("Approved the escalation of case {id}.", "已批准案件 {id} 的上报。"),
    "cli.visit.logged": ("Logged a visit ({kind}) on case {id}.", "已在案件 {id} 记录走访（{kind}）。"),
    "cli.case.count": ("{count} case(s).", "共 {count} 件案件。"),
    "cli.case.party": ("--party {text}: {why}", "--party {text}：{why}"),
    "cli.case.closed": ("Closed: {reason}", "结案原因：{reason}"),
    "cli.case.visits": ("Visits: {count}", "走访：{count} 次"),
    "cli.case.history": ("History:", "办理经过："),
    "cli.case.history_line": ("  {at}  {author}: {text}", "  {at}  {author}：{text}"),
    "cli.ops.applied": (
        "Applied {applied} new operations ({duplicates} already held).",
        "已采用 {applied} 条新操作（{duplicates} 条本机已有）。",
    ),
    "cli.ops.refused": ("  refused {author} #{seq}: {why}", "  拒收 {author} #{seq}：{why}"),
    "cli.ops.held_back": (
        "  {count} waiting for earlier operations of their device.",
        "  {count} 条在等待其设备更早的操作。",
    ),
    # sync and serve
    "cli.sync.not_enrolled": (
        "This device is not enrolled at a station, so no station device will sync with it. Ask the "
        "supervisor to run `fieldapp enrol open`, then run `fieldapp enrol join --code CODE` here.",
        "本设备尚未加入派出所，所内设备不会与其同步。请所长运行 `fieldapp enrol open`，"
        "再在本设备上运行 `fieldapp enrol join --code 配对码`。",
    ),
    "cli.sync.no_interface": (
        "Give --interface ADDR (this device's address on the station network) to find the "
        "station's devices, or --peer HOST:PORT of a device running `fieldapp serve`.",
        "请用 --interface 地址（本设备在所内网络上的地址）查找本所设备，"
        "或用 --peer 主机:端口 指定运行 `fieldapp serve` 的设备。",
    ),
    "cli.sync.nobody": (
        "No device of this station answered on {interface} within {wait} s. Check that the "
        "station's computer runs `fieldapp serve --interface ADDR` here, or use --peer.",
        "{wait} 秒内 {interface} 上没有本所设备应答。请确认所里的电脑正在运行 "
        "`fieldapp serve --interface 地址`，或改用 --peer。",
    ),
    "cli.sync.summary": ("Synced with {ok} of {total} device(s):", "已与 {total} 台设备中的 {ok} 台同步："),
    "cli.sync.line": (
        "  {peer}: sent {sent}, received {received} (new {applied}{refused}), {size}, {seconds} s",
        "  {peer}：发送 {sent} 条，接收 {received} 条（新增 {applied} 条{refused}），{size}，{seconds} 秒",
    ),
    "cli.sync.line_refused": (", {count} refused ({why})", "，拒收 {count} 条（{why}）"),
    "cli.sync.failed": ("  {peer}: failed: {why}", "  {peer}：同步失败：{why}"),
    "cli.sync.failed_after": (
        "  {peer}: failed after sending {sent} and receiving {received}: {why}",
        "  {peer}：发送 {sent} 条、接收 {received} 条后同步失败：{why}",
    ),
    "cli.serve.listening": (
        "Serving device {device} on {where} port {port}{seen}. Ctrl-C stops.",
        "设备 {device} 正在 {where} 端口 {port} 上等待同步{seen}。按 Ctrl-C 停止。",
    ),
    "cli.serve.all_addresses": ("all addresses", "所有地址"),
    "cli.serve.advertised": (", advertised on {interface}", "，在 {interface} 上广播"),
    "cli.serve.refused": ("  refused {address}: {reason}", "  拒绝 {address}：{reason}"),
    "cli.serve.cannot_listen": (
        "Cannot listen on {where} port {port}: {why}. Check --interface (an address of this "
        "device) and --port.",
        "无法在 {where} 端口 {port} 上监听：{why}。请检查 --interface（须为本设备的地址）和 --port。",
    ),
    "cli.serve.stopped": ("Stopped; everything received is saved.", "已停止；收到的记录均已保存。"),
    # station, device, area
    "cli.station.created": (
        "This device is now the authority of station {name} ({station_id}).\n"
        "Enrol the officers' devices with `fieldapp enrol open`.",
        "本设备现为派出所 {name}（{station_id}）的管理设备。\n请用 `fieldapp enrol open` 登记民警的设备。",
    ),
    # refusals of the station's commands (`StationError.code`, fieldapp/core/station.py)
    "error.revoke_not_authority": (
        "Only the station authority's device can revoke devices.",
        "只有派出所管理设备可以吊销设备。",
    ),
    "error.revoke_reason": (
        "A revocation needs a reason (e.g. 'device lost on patrol').",
        "吊销须写明原因（例如“巡逻中遗失”）。",
    ),
    "error.revoke_unknown_device": (
        "No device {device!r} is known here; `fieldapp device list` shows them.",
        "本设备不认识设备 {device!r}；`fieldapp device list` 可列出已知设备。",
    ),
    "error.station_name": (
        "The station needs a name of 1 to 64 characters, e.g. --name '城关派出所'.",
        "派出所名称须为 1 至 64 个字，例如 --name '城关派出所'。",
    ),
    "cli.device.revoked_mark": ("REVOKED: {reason}", "已吊销：{reason}"),
    "cli.device.count": ("{count} device(s).", "共 {count} 台设备。"),
    "cli.device.never_synced": ("never synced", "从未同步"),
    "cli.device.enrolled_at": ("enrolled {at}", "登记于 {at}"),
    "cli.device.revoked": (
        "Device {id} is revoked. The revocation reaches other devices as they sync.",
        "设备 {id} 已被吊销。其他设备同步后也会得知。",
    ),
    "cli.area.needed": (
        "Name the police area (e.g. 第一警务区), or give --none to take the village out.",
        "请写明警务区（例如 第一警务区），或用 --none 将该村移出警务区。",
    ),
    "cli.area.placed": ("{village}: {area}.", "{village}：{area}。"),
    "cli.area.none": ("no police area", "未划入警务区"),
    "cli.area.unplaced": ("(no area)", "（未划入）"),
    # export, report
    "cli.export.from_after_to": (
        "--from {start} is after --to {end}; no case could match.",
        "--from {start} 晚于 --to {end}，没有案件能符合。",
    ),
    "cli.report.format_and_out": (
        "--format and --out go together: e.g. --format xlsx --out report.xlsx.",
        "--format 与 --out 须一起使用，例如 --format xlsx --out report.xlsx。",
    ),
    # enrol
    "cli.enrol.count": ("--count must be between 1 and {max}.", "--count 须在 1 到 {max} 之间。"),
    "cli.enrol.not_authority": (
        "Only the station authority's device can enrol devices. On the supervisor's device run "
        "`fieldapp station create --name NAME` first.",
        "只有派出所管理设备才能登记设备。请先在所长的设备上运行 `fieldapp station create --name 名称`。",
    ),
    "cli.enrol.enrolled": (
        "Enrolled {officer} ({role}), device {device}.",
        "已登记 {officer}（{role}），设备 {device}。",
    ),
    "cli.enrol.done": ("Done: {count} device(s) enrolled.", "完成：已登记 {count} 台设备。"),
    "cli.enrol.no_interface": (
        "Give --interface ADDR (this device's address on the station network) to find the "
        "supervisor's device, or --peer HOST:PORT as shown on its screen.",
        "请用 --interface 地址（本设备在所内网络上的地址）查找所长的设备，"
        "或用 --peer 主机:端口（见其屏幕）。",
    ),
    "cli.enrol.renewed": (
        "This device's certificates at {station} were renewed; its records are unchanged.",
        "本设备在 {station} 的证书已更新；记录未改动。",
    ),
    "cli.enrol.joined": (
        "This device is now enrolled at {name} ({station}) as {role} for {officer}.",
        "本设备已加入 {name}（{station}），身份：{role}，民警：{officer}。",
    ),
    "cli.enrol.read_aloud": (
        "Read this code aloud to the officer holding the new device. On that device run:",
        "请向持新设备的民警读出此配对码。在该设备上运行：",
    ),
    "cli.enrol.expires": (
        "The code works once and expires in {minutes} min (listening on {where}, port {port}).",
        "配对码只能使用一次，{minutes} 分钟后失效（正在 {where} 端口 {port} 上监听）。",
    ),
    "cli.enrol.this_address": ("<this device's address>", "<本设备地址>"),
    "cli.enrol.its_address": ("<its address>", "<该设备地址>"),
    "cli.enrol.not_enrolled": ("Not enrolled: {why}", "未能加入：{why}"),
    "cli.enrol.not_renewed": ("Not renewed: {why}", "未能更新证书：{why}"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)
