"""Why a sync failed, in the UI language.

The session reports its failures as English sentences (`sync.session`, `sync.tls`); they are
never stored in a view. Known ones are looked up whole, the few with values in them matched by
pattern; one not known here is shown as it is, so a new failure is never hidden, only
untranslated. (The rules' refusals are codes rendered by `fieldapp.i18n.rules`.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fieldapp.i18n import Translator, get_language

_SYNC_FIXED: dict[str, str] = {
    # Why a peer's TLS certificate was refused (sync/tls.py, docs/sync.md "Checks").
    "the peer presented no certificate": "对方未出示证书",
    "the device is already revoked": "该设备已被吊销",
    "the peer's certificate is missing or too large": "对方的证书缺失或过大",
    "the peer's certificate cannot be read": "无法读取对方的证书",
    "the peer's certificate was not issued by this station": "对方的证书不是本派出所签发的",
    "the peer's certificate is outside its validity (check both devices' clocks)": (
        "对方的证书不在有效期内（请检查两台设备的时钟）"
    ),
    "the peer's certificate does not name this station": "对方的证书未写明本派出所",
    "the peer's certificate has no valid role": "对方的证书没有有效的角色",
    "the peer's certificate's subject is not device id, station and OU officer": (
        "对方证书的主体不是“设备编号、派出所、OU officer”这一固定格式"
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

#: What the operating system or Python said (an errno's text, an exception's class name),
#: which the session puts in brackets after its own sentence.
_SYSTEM_DETAILS: dict[str, str] = {
    "Connection refused": "连接被拒绝",
    "ConnectionRefusedError": "连接被拒绝",
    "No route to host": "没有通往该主机的路由",
    "Network is unreachable": "网络不可达",
    "Host is down": "对方主机未开机或不在网络上",
    "Connection timed out": "连接超时",
    "TimeoutError": "超时",
    "Connection reset by peer": "连接被对方重置",
    "ConnectionResetError": "连接被对方重置",
    "ConnectionAbortedError": "连接被中止",
    "Software caused connection abort": "连接被中止",
    "Broken pipe": "连接已断开",
    "BrokenPipeError": "连接已断开",
    "IncompleteReadError": "数据未收全连接即断开",
    "EOFError": "连接意外结束",
    "Name or service not known": "无法解析该主机名",
    "Temporary failure in name resolution": "暂时无法解析主机名",
    "gaierror": "无法解析该主机名",
    "Cannot assign requested address": "无法使用该地址",
    "Permission denied": "权限不足",
    "OSError": "系统错误",
    "SSLError": "安全连接错误",
}


def system_detail_text(detail: str) -> str:
    """An operating-system detail in Chinese; one not known here keeps a Chinese lead."""
    return _SYSTEM_DETAILS.get(detail) or f"系统信息：{detail}"


_SYNC_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (
        re.compile(r"nothing is listening at (?P<at>\S+) \(is `fieldapp serve` running there\?\)"),
        lambda m: f"{m.group('at')} 上没有同步服务（对方是否已运行 `fieldapp serve`？）",
    ),
    (
        re.compile(r"cannot reach (?P<at>\S+) \((?P<why>.*)\)"),
        lambda m: f"无法连接 {m.group('at')}（{system_detail_text(m.group('why'))}）",
    ),
    (
        re.compile(r"the secure connection failed \((?P<why>.*)\)"),
        lambda m: f"安全连接失败（{system_detail_text(m.group('why'))}）",
    ),
    (
        re.compile(r"the connection was lost during the handshake \((?P<why>.*)\)"),
        lambda m: f"建立安全连接时连接中断（{system_detail_text(m.group('why'))}）",
    ),
    (
        re.compile(r"the connection was lost \((?P<why>.*)\)"),
        lambda m: f"连接中断（{system_detail_text(m.group('why'))}）",
    ),
    (
        re.compile(r"device (?P<id>\S+) was revoked by the station(?: \((?P<why>.*)\))?"),
        lambda m: (
            f"设备 {m.group('id')} 已被派出所吊销" + (f"（{m.group('why')}）" if m.group("why") else "")
        ),
    ),
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
    return reason


def sync_error_text(
    reason: str, code: str | None = None, params: Mapping[str, Any] | None = None, language: str | None = None
) -> str:
    """Why a sync session failed, in `language` (default: the UI's): from its code and parameters
    when the catalogue has `sync.error.<code>` (`SessionReport.error_code`), else from its reason."""
    key = f"sync.error.{code}"
    translator = Translator(language or get_language())
    if code and translator.has(key):
        return translator.t(key, **(params or {}))
    return sync_reason_text(reason, language)
