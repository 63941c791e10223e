"""Translation layer: every user-facing string, in English and Simplified Chinese.

Plain dicts keyed by dotted names; `{name}` placeholders are filled by `t(key, **kwargs)`.
No Textual import here: the CLI and future domain code share these catalogues.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from string import Formatter
from typing import Any

from fieldapp.i18n import vocabulary

#: Languages the app ships, in the order the language switch cycles through them.
LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    "app.title": "fieldapp: dispute records",
    "app.quit_hint": "Press {key} to quit fieldapp.",
    "app.quit_hint_title": "Quit?",
    "binding.language": "中文",
    "binding.lock": "Lock",
    "binding.quit": "Quit",
    "unlock.title": "Unlock case records",
    "unlock.prompt": "Enter the passphrase of this device's case store.",
    "unlock.placeholder": "Passphrase",
    "unlock.button": "Unlock",
    "unlock.store": "Store: {path}",
    "unlock.demo": "Demo store, generated people only: its passphrase is {passphrase}",
    "unlock.working": "Unlocking…",
    "unlock.empty": "Type the passphrase first.",
    "unlock.rate_limited": "Too many wrong passphrases. Try again in {seconds} s.",
    "unlock.retry_in": "Try again in {seconds} s.",
    "binding.sync": "Sync",
    "binding.palette": "Commands",
    "binding.dismiss_menu": "Close the list",
    "palette.placeholder": "Type a command: intake, find, sync, lock…",
    "palette.no_matches": "No command matches; Escape closes the command list.",
    "palette.new_intake": "New intake",
    "palette.new_intake_help": "Record a new dispute (n)",
    "palette.find": "Find cases",
    "palette.find_help": "Search all cases by name, village, pinyin or text (f)",
    "palette.sync": "Sync",
    "palette.sync_help": "Sync with the station's devices on the LAN (s)",
    "palette.lock": "Lock",
    "palette.lock_help": "Close the store; the passphrase is needed again (l)",
    "palette.language": "中文界面",
    "palette.language_help": "Switch the interface to Chinese (F2)",
    "palette.theme": "Light or dark theme",
    "palette.theme_help": "Switch between the light and the dark colours",
    "palette.quit": "Quit",
    "palette.quit_help": "Lock the store and leave fieldapp (ctrl+q)",
    "binding.new_intake": "New intake",
    "binding.find": "Find",
    "home.open_by_risk": "Open cases by risk:",
    "home.sync_status": "Not yet synced: {count} of my operations · last sync: {when}",
    "home.never_synced": "never",
    "home.due_title": "Due today and overdue ({count})",
    "home.mine_title": "My cases ({count})",
    "home.column_due": "Due",
    "home.due_followup": "Follow-up visit {date}",
    "home.due_deadline": "Deadline {date} passed",
    "home.due_plan": "Key person's plan due {date}",
    "home.due_plan_overdue": "Key person's plan {date} overdue",
    "home.plan_summary": "{name}: {plan}",
    "find.placeholder": "Find: name, village, pinyin (zs = 张三), summary, phone or id",
    "find.any_status": "Any status",
    "find.any_risk": "Any risk",
    "find.count": "Showing {shown} of {total}",
    "find.count_more": "{shown} of {total} match; the first {rows} are listed, type more to narrow",
    "find.nothing": "No case matches. Clear the filter (select it and press ctrl+u).",
    "app.auto_locked": "Locked after {minutes} min without use.\nEnter the passphrase to continue.",
    "app.resumed_after_lock": (
        "The app locked itself after {minutes} min without use.\nYou are back where you were."
    ),
    "app.resume_case_gone": (
        "Case {id}, open when the app locked, is no longer on this device: back on the home screen. "
        "Press f to find it."
    ),
    "app.draft_failed": (
        "Locked, but what was typed could not be kept: {reason}. Type it again after unlocking."
    ),
    "app.not_available": "Not available on this device: {reason}",
    "binding.sync_now": "Sync now",
    "binding.remove_peer": "Remove device",
    "binding.back": "Back",
    "sync.title": "Sync with the station's devices",
    "sync.not_enrolled": (
        "This device is not enrolled at a station yet, so no station device will sync with it. "
        "To enrol it, ask the supervisor to run `fieldapp enrol open` on the station's computer, "
        "then run `fieldapp enrol join --code CODE` on this device with the code it shows. "
        "Enrolment is done on the command line only: the app cannot do it yet."
    ),
    "sync.identity": "Station {station} · this device {device_id}",
    "sync.searching": "Looking for the station's devices on {interface}…",
    "sync.no_interface": (
        "Discovery is off: type the other device's HOST:PORT in the field below and press Enter.\n"
        "(The app cannot turn discovery on: it needs this device's station-network address, given "
        "once on the command line, `fieldapp sync --interface ADDR`, and then remembered.)"
    ),
    "sync.peer_placeholder": "HOST:PORT of the station's computer or another device, then Enter",
    "sync.bad_peer": "Type HOST:PORT in the field, for example 192.168.1.20:47001, and press Enter.",
    "sync.no_peers": (
        "No device to sync with yet: type its HOST:PORT in the field above and press Enter, "
        "or wait for discovery."
    ),
    "sync.peer_placeholder_unenrolled": "Enrol this device first (see above): then HOST:PORT, Enter",
    "sync.no_peers_unenrolled": (
        "Nothing to sync with until this device is enrolled: run `fieldapp enrol join --code CODE` "
        "here while the supervisor runs `fieldapp enrol open` on the station's computer."
    ),
    "sync.waiting": "ready",
    "sync.running": "syncing…",
    "sync.done": "sent {sent}, received {received} (new {applied}), {size}",
    "sync.refused": "; {refused} refused",
    "sync.failed": "failed: {reason}",
    # A session error with a code (sync/session.py; docs/sync.md, "Error codes").
    "sync.error.protocol_major": (
        "This device speaks sync protocol {ours} (fieldapp {app}), the other runs {theirs} "
        "(fieldapp {peer_app}): update the older one; `fieldapp --version` shows each device's version."
    ),
    "sync.finished": "Sync finished: {ok} of {total} device(s) succeeded.",
    "version.waiting": (
        "{n} record(s) made by a newer version of fieldapp are kept on this device but not shown: "
        "update fieldapp (this device runs {version}; `fieldapp --version`) to see them."
    ),
    "sync.hint": (
        "ctrl+s syncs with every device listed · Tab moves to a device, Delete removes it · Escape goes back."
    ),
    "caseload.title": "Caseload",
    "caseload.officer": "Officer: {name}",
    "caseload.device": "Device: {device_id}",
    "caseload.not_enrolled": (
        "This store has no device identity, so nothing can be recorded here: stores are made "
        "with `fieldapp init`."
    ),
    "caseload.count": "Cases: {count}",
    "caseload.empty": "No cases yet. Press n to record an intake.",
    "column.risk": "Risk",
    "column.village": "Village",
    "column.category": "Category",
    "column.status": "Status",
    "column.summary": "Summary",
    "column.deadline": "Deadline",
    "column.id": "Case",
    "column.parties": "Parties",
    "find.phone_of": "tel {name}",
    "risk.red": "Red",
    "risk.orange": "Orange",
    "risk.yellow": "Yellow",
    "error.wrong_passphrase": (
        "Wrong passphrase: the store was not unlocked and nothing was changed. "
        "Check the keyboard layout and Caps Lock, then try again."
    ),
    "error.store_locked": (
        "The store is open in another fieldapp process. Close that one "
        "(the app, `fieldapp serve` or a running sync) and try again."
    ),
    "error.store_locked.held": (
        "The store is open in {what} (pid {pid}, since {since}). Close that one (ctrl+q in the "
        "app, Ctrl-C for a command) and try again; to review while devices sync, serve from the "
        "app: `fieldapp station open --interface ADDR`, or F6 on the sync screen."
    ),
    "error.store_locked.app": "the fieldapp app",
    "error.store_locked.other": "another fieldapp process",
    "error.store_not_found": (
        "There is no fieldapp store here. Create one with `fieldapp init --officer NAME`, "
        "or start fieldapp with --store pointing at an existing one."
    ),
    "error.store_corrupted": (
        "{file} is damaged; nothing was changed. Restore the store from a backup, "
        "or re-enrol the device and sync its data back from the station."
    ),
    "error.store_corrupted.salvageable": (
        "{file} is damaged; nothing was changed. Run `fieldapp store salvage` to recover "
        "the last good state (the damaged file is kept aside)."
    ),
    "error.store_rolled_back": (
        "{file} shows that saves were removed from the end of this store (a rollback); "
        "nothing was changed. Run `fieldapp store salvage` to open what is left "
        "(the cut file is kept aside, not deleted)."
    ),
    "error.store_file_missing": (
        "The store file {file} is missing. Restore the store directory from a backup."
    ),
    "error.store_file_missing.salvageable": (
        "The store file {file} is missing. Run `fieldapp store salvage` to rebuild it "
        "from the previous generation."
    ),
    "error.unsupported_version": (
        "A store file was written by a newer fieldapp. Update fieldapp on this device; "
        "the file was left untouched."
    ),
    "error.store_closed": "The store is locked. Unlock it with the passphrase first.",
    # An error without a code of its own: what the system said, as it said it.
    "error.system": "{detail}",
}

ZH: dict[str, str] = {
    "app.title": "fieldapp：矛盾纠纷记录",
    "app.quit_hint": "按 {key} 退出 fieldapp。",
    "app.quit_hint_title": "要退出吗？",
    "binding.language": "English",
    "binding.lock": "锁定",
    "binding.quit": "退出",
    "unlock.title": "解锁案件记录",
    "unlock.prompt": "请输入本设备案件库的密码。",
    "unlock.placeholder": "密码",
    "unlock.button": "解锁",
    "unlock.store": "数据目录：{path}",
    "unlock.demo": "演示数据库，人物均为虚构：密码是 {passphrase}",
    "unlock.working": "正在解锁…",
    "unlock.empty": "请先输入密码。",
    "unlock.rate_limited": "密码错误次数过多，请 {seconds} 秒后再试。",
    "unlock.retry_in": "请 {seconds} 秒后再试。",
    "binding.sync": "同步",
    "binding.palette": "命令",
    "binding.dismiss_menu": "关闭列表",
    "palette.placeholder": "输入命令：登记、查找、同步、锁定…",
    "palette.no_matches": "没有匹配的命令；按 Esc 关闭命令面板。",
    "palette.new_intake": "新登记",
    "palette.new_intake_help": "登记一起新的矛盾纠纷（n）",
    "palette.find": "查找案件",
    "palette.find_help": "按姓名、村名、拼音或内容查找全部案件（f）",
    "palette.sync": "同步",
    "palette.sync_help": "与局域网内本所设备同步（s）",
    "palette.lock": "锁定",
    "palette.lock_help": "关闭数据库，需重新输入密码（l）",
    "palette.language": "English 英文界面",
    "palette.language_help": "将界面切换为英文（F2）",
    "palette.theme": "浅色或深色主题",
    "palette.theme_help": "在浅色和深色配色之间切换",
    "palette.quit": "退出",
    "palette.quit_help": "锁定数据库并退出 fieldapp（ctrl+q）",
    "binding.new_intake": "新登记",
    "binding.find": "查找",
    "home.open_by_risk": "未办结案件（按风险）：",
    "home.sync_status": "未同步：本机 {count} 条操作 · 上次同步：{when}",
    "home.never_synced": "从未同步",
    "home.due_title": "今日到期及逾期（{count}）",
    "home.mine_title": "我的案件（{count}）",
    "home.column_due": "到期事项",
    "home.due_followup": "回访 {date}",
    "home.due_deadline": "时限 {date} 已过",
    "home.due_plan": "重点人员措施 {date} 到期",
    "home.due_plan_overdue": "重点人员措施 {date} 已逾期",
    "home.plan_summary": "{name}：{plan}",
    "find.placeholder": "查找：姓名、村名、拼音（zs = 张三）、摘要、电话或编号",
    "find.any_status": "全部状态",
    "find.any_risk": "全部风险",
    "find.count": "显示 {shown} / 共 {total} 件",
    "find.count_more": "共 {total} 件中 {shown} 件匹配，列出前 {rows} 件，请继续输入以缩小范围",
    "find.nothing": "没有匹配的案件。请清空查找条件（选中后按 ctrl+u）。",
    "app.auto_locked": "已{minutes}分钟未操作，已自动锁定。\n请输入密码继续。",
    "app.resumed_after_lock": "应用因{minutes}分钟未操作已自动锁定，\n现已回到锁定前的页面。",
    "app.resume_case_gone": "锁定时打开的案件 {id} 已不在本设备上，已回到首页。按 f 查找该案件。",
    "app.draft_failed": "已锁定，但已输入的内容未能保存：{reason}。请解锁后重新输入。",
    "app.not_available": "本设备暂不可用：{reason}",
    "binding.sync_now": "立即同步",
    "binding.remove_peer": "移除设备",
    "binding.back": "返回",
    "sync.title": "与本所设备同步",
    "sync.not_enrolled": (
        "本设备尚未加入派出所，所内设备不会与其同步。\n"
        "登记方法：请所长在派出所的电脑上运行 `fieldapp enrol open`，\n"
        "再在本设备上用其显示的配对码运行 `fieldapp enrol join --code 配对码`。\n"
        "登记目前只能在命令行完成，应用内尚不能登记。"
    ),
    "sync.identity": "派出所 {station} · 本设备 {device_id}",
    "sync.searching": "正在 {interface} 上查找本所设备…",
    "sync.no_interface": (
        "自动发现已关闭：请在下方输入框中输入对方设备的 主机:端口，按回车添加。\n"
        "（应用内无法开启自动发现：需在命令行用 `fieldapp sync --interface 地址` "
        "给出本设备在所内网络的地址，之后会记住。）"
    ),
    "sync.peer_placeholder": "派出所电脑或其他设备的 主机:端口，按回车添加",
    "sync.bad_peer": "请在输入框中输入 主机:端口，例如 192.168.1.20:47001，然后按回车。",
    "sync.no_peers": "尚无可同步的设备：请在上方输入框中输入 主机:端口 并按回车，或等待自动发现。",
    "sync.peer_placeholder_unenrolled": "请先登记本设备（见上方说明），之后可在此输入 主机:端口",
    "sync.no_peers_unenrolled": (
        "本设备登记后才能同步：请所长在派出所电脑上运行 `fieldapp enrol open`，"
        "同时在本设备上运行 `fieldapp enrol join --code 配对码`。"
    ),
    "sync.waiting": "就绪",
    "sync.running": "正在同步…",
    "sync.done": "发送 {sent} 条，接收 {received} 条（新增 {applied} 条），{size}",
    "sync.refused": "；拒收 {refused} 条",
    "sync.failed": "失败：{reason}",
    "sync.error.protocol_major": (
        "本设备的同步协议为 {ours}（fieldapp {app}），对方为 {theirs}（fieldapp {peer_app}）："
        "请更新较旧的那台设备；`fieldapp --version` 可显示每台设备的版本。"
    ),
    "sync.finished": "同步完成：{total} 台设备中 {ok} 台成功。",
    "version.waiting": (
        "本设备保存了 {n} 条由新版本 fieldapp 记录的内容，但尚无法显示："
        "请更新 fieldapp（本设备版本 {version}，可用 `fieldapp --version` 查看）后查看。"
    ),
    "sync.hint": "按 ctrl+s 与列出的全部设备同步 · 按 Tab 选中设备，按 Delete 移除 · 按 Esc 返回。",
    "caseload.title": "案件列表",
    "caseload.officer": "民警：{name}",
    "caseload.device": "设备：{device_id}",
    "caseload.not_enrolled": "此数据库没有设备身份，无法在此记录：数据库须用 `fieldapp init` 创建。",
    "caseload.count": "共 {count} 件",
    "caseload.empty": "暂无案件。按 n 登记新纠纷。",
    "column.risk": "风险",
    "column.village": "村",
    "column.category": "类别",
    "column.status": "状态",
    "column.summary": "摘要",
    "column.deadline": "办理时限",
    "column.id": "编号",
    "column.parties": "当事人",
    "find.phone_of": "电话 {name}",
    "risk.red": "红",
    "risk.orange": "橙",
    "risk.yellow": "黄",
    "error.wrong_passphrase": ("密码错误：数据未解锁，也未作任何改动。请检查输入法和大写锁定键后重试。"),
    "error.store_locked": (
        "数据库已被另一个 fieldapp 进程打开。请先关闭它（应用、`fieldapp serve` 或正在进行的同步）再重试。"
    ),
    "error.store_locked.held": (
        "数据库已在 {what} 中打开（进程号 {pid}，自 {since} 起）。请先关闭它（应用中按 ctrl+q，"
        "命令按 Ctrl-C）再重试；如需在设备同步时查看案件，请在应用中接收同步："
        "`fieldapp station open --interface 地址`，或在同步界面按 F6。"
    ),
    "error.store_locked.app": "fieldapp 应用",
    "error.store_locked.other": "另一个 fieldapp 进程",
    "error.store_not_found": (
        "此处没有 fieldapp 数据库。请用 `fieldapp init --officer 姓名` 创建，"
        "或用 --store 指向已有的数据目录。"
    ),
    "error.store_corrupted": (
        "{file} 已损坏，未作任何改动。请从备份恢复数据目录，或重新登记设备后从派出所同步回数据。"
    ),
    "error.store_corrupted.salvageable": (
        "{file} 已损坏，未作任何改动。请运行 `fieldapp store salvage` 恢复最后一个完好状态"
        "（损坏的文件会另行保留）。"
    ),
    "error.store_rolled_back": (
        "{file} 显示本数据库末尾已保存的记录被删除（数据被回滚）；未作任何改动。"
        "请运行 `fieldapp store salvage` 打开剩余的数据（被截断的文件会另行保留，不会删除）。"
    ),
    "error.store_file_missing": "数据文件 {file} 丢失。请从备份恢复数据目录。",
    "error.store_file_missing.salvageable": (
        "数据文件 {file} 丢失。请运行 `fieldapp store salvage` 从上一版本重建。"
    ),
    "error.unsupported_version": (
        "数据文件由更新版本的 fieldapp 写入。请更新本设备上的 fieldapp；该文件未被改动。"
    ),
    "error.store_closed": "数据已锁定。请先输入密码解锁。",
    "error.system": "系统错误（以下为系统原文，可报给技术人员）：{detail}",
}

EN.update(vocabulary.EN)
ZH.update(vocabulary.ZH)
CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


def add_catalogue(en: Mapping[str, str], zh: Mapping[str, str]) -> None:
    """Add a screen's strings (kept beside it, e.g. `fieldapp/i18n/intake.py`); keys must be new."""
    clash = (set(en) | set(zh)) & (set(EN) | set(ZH))
    if clash:
        raise ValueError(f"catalogue keys defined twice: {sorted(clash)[:5]}")
    EN.update(en)
    ZH.update(zh)


class Translator:
    """Looks keys up in the current language, falling back to English, then to the key."""

    def __init__(
        self, language: str = DEFAULT_LANGUAGE, catalogues: Mapping[str, dict[str, str]] = CATALOGUES
    ) -> None:
        self._catalogues = catalogues
        self.language = normalise_language(language)

    def set_language(self, language: str) -> None:
        """Switch language; unknown codes such as "zh_CN" are normalised first."""
        self.language = normalise_language(language)

    def has(self, key: str) -> bool:
        """True if `key` is in the current catalogue."""
        return key in self._catalogues[self.language]

    def t(self, key: str, /, **kwargs: Any) -> str:
        """The translation of `key`, with `{name}` placeholders filled from kwargs."""
        template = self._catalogues[self.language].get(key)
        if template is None:
            template = self._catalogues[DEFAULT_LANGUAGE].get(key, key)
        return template.format(**kwargs) if kwargs else template


def normalise_language(language: str) -> str:
    """Map a locale-ish code ("zh_CN.UTF-8", "en-GB") to a shipped language."""
    code = language.strip().lower()
    return "zh" if code.startswith("zh") else DEFAULT_LANGUAGE


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    """The language from LC_ALL, LC_MESSAGES or LANG (POSIX precedence); "en" if unset."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalise_language(value)
    return DEFAULT_LANGUAGE


_translator = Translator()


def set_language(language: str) -> None:
    """Set the process-wide language used by `t`."""
    _translator.set_language(language)


def get_language() -> str:
    """The process-wide language."""
    return _translator.language


def t(key: str, /, **kwargs: Any) -> str:
    """Translate `key` into the process-wide language."""
    return _translator.t(key, **kwargs)


def has_key(key: str) -> bool:
    """True if `key` is a catalogue key (binding descriptions use this to tell keys apart)."""
    return _translator.has(key)


#: The suffix of a text's wording for the app, where the command line's names a command and
#: the app has a key for it: `error.fork_unknown.app` beside `error.fork_unknown`.
APP_WORDING = ".app"


def app_key(key: str) -> str:
    """`key` as the app shows it: its `.app` wording (naming keys and screens) if the catalogue
    has one, else `key` itself (the same text for the app and the command line)."""
    return key + APP_WORDING if has_key(key + APP_WORDING) else key


def next_language(language: str) -> str:
    """The language after `language` in the switch cycle."""
    index = LANGUAGES.index(normalise_language(language))
    return LANGUAGES[(index + 1) % len(LANGUAGES)]


def error_message(exc: BaseException) -> str:
    """A user-facing message for a store error in the current language; str(exc) if unknown
    (in Chinese after a lead line saying it is the system's own text).

    Looks up `error.<code>` along the class hierarchy, so a subclass without its own
    entry (e.g. JournalCorrupted) uses its parent's (store_corrupted).
    """
    fields: dict[str, str] = {}
    path = getattr(exc, "path", None)
    if path is not None:
        fields["file"] = getattr(path, "name", str(path))
    salvageable = bool(getattr(exc, "salvageable", False))
    holder = getattr(exc, "holder", None)  # StoreLocked: the process holding the store
    if holder is not None:
        what = f"`fieldapp {holder.runs}`"
        if holder.runs in ("", "app"):
            what = t("error.store_locked.app" if holder.runs else "error.store_locked.other")
        fields |= {"what": what, "pid": str(holder.pid), "since": holder.since_text()}
    for cls in type(exc).__mro__:
        code = cls.__dict__.get("code")
        if not isinstance(code, str):
            continue
        key = f"error.{code}"
        if salvageable and has_key(f"{key}.salvageable"):
            key = f"{key}.salvageable"
        if holder is not None and has_key(f"{key}.held"):
            key = f"{key}.held"
        if has_key(key) and _placeholders(t(key)) <= fields.keys():
            return t(key, **fields)
    return t("error.system", detail=str(exc))


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


def missing_keys() -> set[str]:
    """Keys present in one catalogue but not in another (should be empty)."""
    all_keys = set().union(*CATALOGUES.values())
    return {key for key in all_keys if any(key not in cat for cat in CATALOGUES.values())}


def mismatched_placeholders() -> set[str]:
    """Keys whose `{name}` placeholders differ between catalogues (should be empty)."""
    shared = set.intersection(*(set(cat) for cat in CATALOGUES.values()))
    return {
        key for key in shared if len({frozenset(_placeholders(cat[key])) for cat in CATALOGUES.values()}) > 1
    }
