"""The command line's grammar in Simplified Chinese: `--help` and argparse's usage errors.

argparse takes its own words ("usage:", "options", "the following arguments are required", ...)
from gettext, so they are translated here as gettext does: by their English text (the msgid of
Python 3.11's `argparse.py`). The help texts given to `add_argument` and `add_parser` in
`fieldapp/cli/` are translated the same way, by their English text, when help is formatted
(`fieldapp.cli.parser`). English needs no table: the msgids are the English.

A help text missing here is shown in English inside the Chinese help;
tests/test_cli_help_language.py walks every command's help and fails on it.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from typing import Any

from fieldapp.i18n import add_catalogue

#: argparse's own messages (Python 3.11), each in Chinese. `%(name)s` and `%s` stay as they are.
ARGPARSE_ZH: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "subcommands": "子命令",
    "show this help message and exit": "显示本帮助并退出",
    "show program's version number and exit": "显示程序版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "须给出以下参数之一：%s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "expected one argument": "后面须跟一个值",
    "expected at most one argument": "后面最多跟一个值",
    "expected at least one argument": "后面至少须跟一个值",
    "expected %s argument": "后面须跟 %s 个值",
    "expected %s arguments": "后面须跟 %s 个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 不明确，可能是：%(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "该选项不带值，却给了 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "未知的命令 %(parser_name)r（可选：%(choices)s）"
    ),
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
}

#: What argparse calls a value's type (`type=int` is "int"), said in Chinese.
TYPE_WORDS_ZH: dict[str, str] = {"int": "整数", "float": "数字", "Path": "路径"}


class _InvalidValue(str):
    """The Chinese of argparse's "invalid %(type)s value: %(value)r": argparse fills in the
    type's Python name (`int`), this says it in words (整数)."""

    def __mod__(self, params: Any) -> str:
        kind = TYPE_WORDS_ZH.get(str(params["type"]), "有效的值")
        return str.__mod__(self, {**params, "type": kind})


ARGPARSE_ZH["invalid %(type)s value: %(value)r"] = _InvalidValue("%(value)r 不是%(type)s")

#: The help texts of `fieldapp/cli/` (by their English), in Chinese. A literal % is written %%.
HELP_ZH: dict[str, str] = {
    # fieldapp/cli/main.py
    "Dispute case records for rural police stations.": "农村派出所的矛盾纠纷案件记录。",
    "store directory (default: {store})": "数据库目录（默认：{store}）",
    "read the passphrase from FILE": "从该文件读取密码",
    "machine-readable output": "输出机器可读的结果（JSON 格式）",
    "interface language (default: the one this device remembers, from a --lang given before or F2 in the "
    "app, once the store is unlocked; else the locale's, e.g. LANG=zh_CN.UTF-8 is Chinese)": (
        "界面语言（默认：数据库解锁后用本设备记住的语言，即以前用 --lang 或在应用中按 F2 选定的；"
        "否则随系统语言环境，例如 `LANG=zh_CN.UTF-8` 为中文）"
    ),
    "lock the app after this many idle minutes (default 5; 0: never)": (
        "无操作多少分钟后锁定应用（默认 5；0 表示不自动锁定）"
    ),
    "create this device's encrypted store": "创建本设备的加密数据库",
    "the officer who carries this device": "使用本设备的民警姓名",
    "this device's role until it is enrolled at a station": "加入派出所之前本设备的角色",
    "build a demo station store and open the app": "生成演示派出所数据库并打开应用",
    "build the store, do not open the app": "只生成数据库，不打开应用",
    "check, salvage or re-key the store": "检查、修复数据库或更换其密码",
    "verify every file of the store": "校验数据库的每个文件",
    "recover the last good state of a damaged store": "将损坏的数据库恢复到最后一个完好状态",
    "change the passphrase": "更改密码",
    "read the new passphrase from FILE": "从该文件读取新密码",
    # fieldapp/cli/cases.py
    "record and read cases": "登记和查看案件",
    "record an intake": "登记新纠纷",
    "list cases": "列出案件",
    "past the deadline and not resolved": "已过期限且未化解",
    "one case with visits, history and conflicts": "查看一件案件及其走访、办理经过和冲突",
    "change a case": "修改案件",
    "why the status changes": "状态变更的原因",
    "with --status resolved": "与 --status resolved 一起使用",
    "the mediation agreement's terms": "调解协议的内容",
    "with --status referred: the department": "与 --status referred 一起使用：移交的部门",
    "with --status referred: how it was notified": "与 --status referred 一起使用：通知方式",
    "claim a case": "认领案件",
    "supervisor: approve an escalation": "所长：批准上报",
    "reopen a resolved or closed case": "重新启动已化解或已结案的案件",
    "log visits": "记录走访",
    "log a visit on a case": "为案件记录一次走访",
    "when the visit happened (HH:MM: today; local time; at most 14 days back, never in the future)"
    "; default: now": (
        "走访发生的时间（只写 HH:MM 表示今天；本机当地时间；最早 14 天前，不能是将来）；默认：现在"
    ),
    "the village or community, e.g. 东岭村 (at most 80 characters)": (
        "纠纷所在的村或社区，例如 东岭村（最多 80 个字）"
    ),
    "the kind of dispute: family, marriage, neighbor, land (field boundaries), homestead, irrigation, "
    "debt, wages, housing, injury, hazard (a safety hazard), other": (
        "纠纷类别（填英文值）：family 家庭、marriage 婚恋、neighbor 邻里、land 土地田界、homestead 宅基地、"
        "irrigation 浇水灌溉、debt 经济债务、wages 务工工资、housing 房屋、injury 人身损害、"
        "hazard 安全隐患、other 其他"
    ),
    "risk level: red (the highest; only a supervisor closes a red case), orange, yellow (the lowest)": (
        "风险等级：red 红（最高；红色案件只能由所长结案）、orange 橙、yellow 黄（最低）"
    ),
    "what happened and between whom: 4 to 4000 characters, e.g. 田界纠纷": (
        "情况摘要：发生了什么、在谁之间，4 至 4000 个字，例如 田界纠纷"
    ),
    "a party, e.g. 张某某:13800000000: the name, then after a colon the phone if known (5 to 20 digits, "
    "a + may come first); once per party; at least one unless --category hazard": (
        "当事人：姓名，知道电话的在半角冒号 : 后接电话（5 至 20 位数字，开头可有 +），"
        "例如 张某某:13800000000；每名当事人写一个 --party；除 hazard（安全隐患）外至少一人"
    ),
    "how the police learnt of it: patrol, grid_report (a grid member's report), call_110 (a 110 call), "
    "walk_in (came to the station), villagers_meeting (the villagers' meeting); default: patrol": (
        "怎样发现的（填英文值）：patrol 巡逻发现、grid_report 网格上报、call_110 110警情、walk_in 来所报案、"
        "villagers_meeting 村民说事；默认：patrol"
    ),
    "how the police learnt of it: patrol, grid_report (a grid member's report), call_110 (a 110 call), "
    "walk_in (came to the station), villagers_meeting (the villagers' meeting)": (
        "怎样发现的（填英文值）：patrol 巡逻发现、grid_report 网格上报、call_110 110警情、walk_in 来所报案、"
        "villagers_meeting 村民说事"
    ),
    "a risk flag, once per flag: petition_threat (threatens to petition), violence_risk (risk of "
    "violence), vulnerable_person, repeat_calls (repeated calls about it)": (
        "重点标记（可多次给出）：petition_threat 扬言上访、violence_risk 可能引发打架斗殴、"
        "vulnerable_person 特殊人群、repeat_calls 重复警情"
    ),
    "the deadline: a day from today (China Standard Time) to two years ahead": (
        "办理时限：今天（北京时间）至两年内的某一天"
    ),
    "only cases in this status: open, in_progress, escalated, referred, resolved, closed": (
        "只含该状态的案件：open 待处理、in_progress 处理中、escalated 已上报、referred 已移交、"
        "resolved 已化解、closed 已结案"
    ),
    "only cases of this risk level (red is the highest)": (
        "只含该风险等级的案件（red 红最高，其次 orange 橙、yellow 黄）"
    ),
    "only cases of this village (its exact name)": "只含该村的案件（村名须完全一致）",
    "the case's id, as `fieldapp case list` shows it": "案件编号，即 `fieldapp case list` 列出的编号",
    "the new status: in_progress, escalated (with --tier), referred (with --department and --notified), "
    "resolved (with --outcome, once a visit is logged), closed (a case red since it was last opened: by a "
    "supervisor only)": (
        "新的状态：in_progress 处理中、escalated 已上报（须同时给出 --tier）、referred 已移交"
        "（须同时给出 --department 和 --notified）、resolved 已化解（须同时给出 --outcome，"
        "且已记录过走访）、closed 已结案（自登记或重新启动以来曾为红色的案件只能由所长结案）"
    ),
    "the risk level now: red (the highest), orange, yellow (the lowest)": (
        "重新评估后的风险等级：red 红（最高）、orange 橙、yellow 黄（最低）"
    ),
    "who handles it: 1 the station's workstation, 2 a joint team, 3 the mediation room; with --status "
    "escalated: the tier escalated to, 2 or 3 (an officer's escalation awaits a supervisor's approval)": (
        "调处层级：1 派出所调解工作站、2 联合调解组、3 矛盾纠纷调解室；与 --status escalated "
        "一起使用时为上报到的层级（2 或 3），民警的上报须经所长批准"
    ),
    "supervisor: hand the case to this officer's device (`fieldapp device list` shows the ids)": (
        "所长：将案件交办给该民警的设备（`fieldapp device list` 可列出设备编号）"
    ),
    "supervisor: the deadline, a day from today (China Standard Time) to two years ahead": (
        "所长：办理时限，今天（北京时间）至两年内的某一天"
    ),
    "add a note to the case's history (at most 4000 characters)": (
        "在案件办理经过中添加一条备注（最多 4000 个字）"
    ),
    "correct the case's village (at most 80 characters)": "更正案件所属的村或社区（最多 80 个字）",
    "a new summary: 4 to 4000 characters, as at intake": "新的情况摘要：4 至 4000 个字，与登记时相同",
    "what flared up again: why the case is reopened": "反弹情况，即重新启动的原因",
    "home (a home visit), phone (a call), mediation (a mediation session), follow_up (after a resolution: "
    "marks the next pending follow-up done), field (at the place of the dispute)": (
        "走访方式（填英文值）：home 上门走访、phone 电话回访、mediation 调解、follow_up 跟踪回访"
        "（化解后的回访，记为下一次待回访已完成）、field 现场查看"
    ),
    "what was said or found (at most 4000 characters)": "走访情况：谈了什么、发现了什么（最多 4000 个字）",
    "where, e.g. the applicant's home, group 3 (at most 80 characters)": (
        "地点，例如 申请人家中、三组（最多 80 个字）"
    ),
    "who took part, e.g. both parties, grid member": "参与人员，例如 双方当事人、网格员",
    "the file to write, e.g. on a USB stick (an existing file is replaced)": (
        "要写入的文件，例如 U 盘上的文件（已有同名文件会被覆盖）"
    ),
    "a file `fieldapp ops export` wrote (encrypted or plaintext)": (
        "由 `fieldapp ops export` 写出的文件（加密的或明文的均可）"
    ),
    "digest of the materialized view": "合并后案件视图的摘要值（持有相同操作的设备上相同）",
    "operations to and from a file": "将操作导出到文件或从文件导入",
    "write every operation held to FILE, encrypted for the station's devices": (
        "将本机持有的全部操作写入文件，加密后只有本所设备能打开"
    ),
    "write names and phones in clear (readable by anyone with the file)": (
        "以明文写入姓名和电话（任何拿到该文件的人都能读取）"
    ),
    "verify and merge an operations file": "校验并合并操作文件",
    # fieldapp/cli/station.py
    "the station authority": "派出所管理设备",
    "make this device the station authority (supervisor)": "将本设备设为派出所管理设备（所长使用）",
    "the station's name, e.g. 城关派出所": "派出所名称，例如 城关派出所",
    "this device's station settings: the mediation organisation agreements name": (
        "本设备的派出所设置：协议书上写的调解组织"
    ),
    'the people\'s mediation committee (人民调解委员会) printed on agreements, e.g. 城关镇人民调解委员会; "" '
    "clears it (the line is then left blank to fill by hand); kept on this device only: set it on each "
    "device": (
        '协议书上印的人民调解委员会名称，例如 城关镇人民调解委员会；写 "" 即清除（该行留空，手写填写）；'
        "只保存在本设备上：每台设备须分别设置"
    ),
    "devices of the station": "本所的设备",
    "what each device's syncs brought this shift, red cases, conflicts": (
        "本班次各设备同步带来的记录、新增红色案件和冲突"
    ),
    "start of the shift: YYYY-MM-DD HH:MM, HH:MM (today) or 12h / 30m ago (default: today 00:00)": (
        "班次开始时间：`YYYY-MM-DD HH:MM`、`HH:MM`（今天）或 `12h` / `30m`（多久以前）（默认：今天 00:00）"
    ),
    "write the device table as CSV (UTF-8, BOM)": "将设备表写入 CSV 文件（`UTF-8` 编码，带 `BOM`）",
    "devices known here (every enrolled one, synced or not), with role, enrolment, last activity"
    " and revocation": (
        "本机所知的设备（所有已登记的设备，无论是否同步过）及其角色、登记时间、最近活动和吊销情况"
    ),
    "station authority: shut a lost or compromised device out": "管理设备：吊销遗失或被盗用的设备",
    "forks seen here: whose log, where, settled or held out": (
        "本机发现的分叉：哪台设备的记录、在哪一条、是否已处理"
    ),
    "supervisor: settle a fork, choosing the entry that is the log": (
        "所长：处理分叉，选定作为该设备记录的那一条"
    ),
    "the fork, as `fieldapp device forks` names it": "分叉，按 `fieldapp device forks` 所列的写法",
    "held: the entry this device holds; other: the one that arrived second": (
        "held：本机持有的那一条；other：后到达的那一条"
    ),
    "why that entry is the device's log": "选定该条的理由",
    "police areas (警务区) and their villages": "警务区及其所辖的村",
    "supervisor: place a village in a police area": "所长：将村划入警务区",
    "the police area, e.g. 第一警务区": "警务区，例如 第一警务区",
    "take the village out of any area": "将该村移出警务区",
    "villages by police area": "按警务区列出各村",
    "the device to shut out, as `fieldapp device list` shows it (not this one)": (
        "要吊销的设备编号，即 `fieldapp device list` 列出的编号（不能是本设备）"
    ),
    "why, e.g. 'lost on patrol' (shown beside the device in `fieldapp device list`)": (
        "吊销原因，例如“巡逻中遗失”（显示在 `fieldapp device list` 中该设备旁）"
    ),
    "the village, spelt as its cases spell it (at most 80 characters)": (
        "村名，应与案件中的写法一致（最多 80 个字）"
    ),
    # fieldapp/cli/persons.py
    "persons across cases: list, show, link, key persons": "跨案件的人员：列出、查看、关联、重点人员",
    "the persons of this device's cases": "本设备案件中的人员",
    "only key persons": "只列重点人员",
    "only persons with a case in this village": "只列在该村有案件的人员",
    "one person: names, plan, cases, possible matches": "查看一名人员：姓名、工作措施、案件、可能的同一人",
    "a person id (or one linked to it)": "人员编号（或与之关联的编号）",
    "confirm that two persons are one": "确认两名人员是同一人",
    "a person id": "人员编号",
    "the other person id": "另一名人员的编号",
    "say that two persons are not one": "确认两名人员不是同一人",
    "mark a key person and write the plan": "列为重点人员并写明工作措施",
    "what is done next": "下一步做什么",
    "the officer's device responsible (supervisor)": "负责民警的设备（所长）",
    "by when": "期限",
    "no longer a key person (supervisor)": "不再列为重点人员（所长）",
    # fieldapp/cli/enrol.py
    "enrol a device over the LAN with a one-time code": "用一次性配对码在局域网内登记设备",
    "supervisor: show a code and certify the device that uses it": (
        "所长：显示配对码，并为使用该码的设备签发证书"
    ),
    "role of the device(s) enrolled": "所登记设备的角色",
    "officer name to certify (default: as the device says)": "证书上的民警姓名（默认：该设备自报的姓名）",
    "enrol N devices, one new code each (default 1)": "登记 N 台设备，每台一个新配对码（默认 1）",
    "this device's address to listen and advertise on": "本设备用于监听和广播的地址",
    "TCP port (default: any free port)": "TCP 端口（默认：任一空闲端口）",
    "open the app in station mode: accept the devices' syncs while you work": (
        "以派出所模式打开应用：您工作的同时接收各设备的同步"
    ),
    "this computer's address on the station network": "本机在派出所局域网中的地址",
    "lock the screen after this many idle minutes (serving goes on; default 5; 0: never)": (
        "空闲多少分钟后锁屏（锁屏后仍继续接收同步；默认 5；0 表示不自动锁屏）"
    ),
    "stop after S seconds (default 600)": "多少秒后停止（默认 600）",
    "each code expires after S seconds": "每个配对码多少秒后失效",
    "new device: join the station with the supervisor's code (enrolled: renew its certificates)": (
        "新设备：用所长给出的配对码加入派出所（已加入的设备：更新其证书）"
    ),
    "the code on the supervisor's screen, e.g. 7-river-lantern": (
        "所长屏幕上显示的配对码，例如 `7-river-lantern`"
    ),
    "HOST:PORT of the supervisor's device (skips discovery)": "所长设备的 主机:端口（不再自动查找）",
    "this device's address to search the network on": "本设备用于在网络上查找的地址",
    "give up after S seconds (default 60)": "多少秒后放弃（默认 60）",
    # fieldapp/cli/sync.py
    "find the station's devices on the LAN and sync with each once": (
        "在局域网内查找本所设备，并与每台同步一次"
    ),
    "HOST:PORT of a device running `fieldapp serve` (repeatable)": (
        "运行 `fieldapp serve` 的设备的 主机:端口（可多次给出）"
    ),
    "this device's address on the station network": "本设备在所内网络上的地址",
    "give up on a silent peer after S seconds": "对方多少秒无应答即放弃",
    "look for devices for S seconds (default 3)": "查找设备的秒数（默认 3）",
    "stay reachable and accept syncs from the station's devices": "保持在线，接受本所设备的同步",
    "stop after S seconds (default: until stopped)": "多少秒后停止（默认：一直运行，直到手动停止）",
    # fieldapp/cli/reports.py
    "write cases and visits to a CSV, XLSX or JSON file": "将案件和走访写入 CSV、XLSX 或 JSON 文件",
    "with --format csv: the visits' file": "与 --format csv 一起使用：走访记录文件",
    "with --format csv: the parties' file (one row each)": "与 --format csv 一起使用：当事人文件（每人一行）",
    "cases assigned to or recorded by this device": "指派给该设备或由其登记的案件",
    "recorded on or after (local date)": "登记日期不早于（当地日期）",
    "recorded on or before (local date)": "登记日期不晚于（当地日期）",
    "replace existing files": "覆盖已有文件",
    "csv: one row per case (visits, parties and persons with --visits-out, --parties-out, --persons-out); "
    "xlsx: one workbook with sheets of cases, visits and parties, and persons on the supervisor's device; "
    "json: the cases as `fieldapp case show --json` prints them": (
        "文件格式：csv 每个案件一行（走访、当事人和人员另用 --visits-out、--parties-out、--persons-out "
        "写出）；xlsx 一个含案件、走访、当事人工作表的工作簿，在所长的设备上另含人员工作表；json 各案件同 "
        "`fieldapp case show --json` 的输出"
    ),
    "with --format csv, on the supervisor's device: the persons' file (one row per person of the exported "
    "cases)": "与 --format csv 一起使用，仅限所长的设备：人员文件（导出案件涉及的每名人员一行）",
    "the file to write (with --format csv: the cases' file); an existing one is replaced only with --force": (
        "要写入的文件（csv 格式时为案件文件）；已有同名文件时须加 --force 才会覆盖"
    ),
    "only cases of this village (its exact name; a name no case has writes nothing and names the close "
    "ones)": "只含该村的案件（村名须完全一致；没有案件的村名不写出任何文件，并列出相近的村名）",
    "only cases of this category: family, marriage, neighbor, land (field boundaries), homestead, "
    "irrigation, debt, wages, housing, injury, hazard (a safety hazard), other": (
        "只导出该类别的案件：family 家庭、marriage 婚恋、neighbor 邻里、land 土地田界、homestead 宅基地、"
        "irrigation 浇水灌溉、debt 经济债务、wages 务工工资、housing 房屋、injury 人身损害、"
        "hazard 安全隐患、other 其他"
    ),
    "with --format: the file to write (an existing one is replaced only with --force)": (
        "与 --format 一起使用：要写入的文件（已有同名文件时须加 --force 才会覆盖）"
    ),
    "the month's, quarter's or half-year's figures, against last year": (
        "本月、本季度或本半年的统计，与去年同期对比"
    ),
    "default: month": "默认：month",
    "a month inside the period (default: this month)": "统计期内的某个月（默认：本月）",
    "write the report's table to --out": "将报表写入 --out 指定的文件",
    "replace an existing file": "覆盖已有文件",
    # fieldapp/cli/agreement.py
    "write the people's mediation agreement (人民调解协议书) of a resolved case": (
        "生成已化解案件的人民调解协议书"
    ),
    "the HTML file to write": "要写入的 HTML 文件",
    "the case's id, as `fieldapp case list` shows it; the case must be resolved with `fieldapp case "
    "update --outcome agreement`": (
        "案件编号，即 `fieldapp case list` 列出的编号；该案须已用 `fieldapp case update --outcome "
        "agreement` 化解"
    ),
    "the people's mediation committee (人民调解委员会) to print; default: what `fieldapp station set "
    "--mediation-org` set on this device, else a blank line": (
        "要印的人民调解委员会名称；默认：本设备上 `fieldapp station set --mediation-org` 设置的名称，"
        "未设置则留一条空行"
    ),
}


class CatalogueTranslations(gettext.NullTranslations):
    """A gettext translation from a table (English text to its translation); what the table
    lacks stays English."""

    def __init__(self, language: str, table: Mapping[str, str]) -> None:
        super().__init__()
        self.language = language
        self._table = table

    def gettext(self, message: str) -> str:
        return self._table.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


#: The usage translations by language (English: the msgids themselves).
TRANSLATIONS: dict[str, CatalogueTranslations] = {
    "en": CatalogueTranslations("en", {}),
    "zh": CatalogueTranslations("zh", {**ARGPARSE_ZH, **HELP_ZH}),
}

_STRINGS: dict[str, tuple[str, str]] = {
    "cli.usage.error": (
        "{prog}: error: {message}\nRun `{prog} --help` to see what it takes.",
        "{prog}：错误：{message}\n请运行 `{prog} --help` 查看该命令的用法。",
    ),
}

add_catalogue({k: en for k, (en, _) in _STRINGS.items()}, {k: zh for k, (_, zh) in _STRINGS.items()})
