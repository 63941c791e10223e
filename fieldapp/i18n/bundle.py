"""Strings of `fieldapp ops export` and `ops import` files, in English and Simplified Chinese.

Refusals and the plain-text warning are shown in both languages (`bilingual`): whoever
carries the USB stick may read either.
"""

from __future__ import annotations

from typing import Any

from fieldapp.i18n import Translator, add_catalogue

_STRINGS: dict[str, tuple[str, str]] = {
    "bundle.not_enrolled": (
        "This device is not enrolled at a station, so there are no station devices to encrypt "
        "the export for. Enrol it first (`fieldapp enrol join`); or, if the file will stay in "
        "safe hands, write it in plain text with `fieldapp ops export --plaintext` (anyone who "
        "gets that file can read it).",
        "本设备尚未加入派出所，无法为本所设备加密导出文件。请先入所（`fieldapp enrol join`）；"
        "如确需明文文件并能妥善保管，可用 `fieldapp ops export --plaintext` 导出"
        "（任何拿到该文件的人都能读取）。",
    ),
    "bundle.plaintext_warning": (
        "Warning: {out} holds names, phone numbers and case summaries in plain text; anyone who "
        "gets the file can read them. Delete it once it is imported. Without --plaintext the "
        "export is encrypted for this station's devices.",
        "警告：{out} 以明文保存姓名、电话和案情摘要，任何拿到该文件的人都能读取。导入后请立即删除。"
        "不加 --plaintext 时，导出文件只有本所设备能读取。",
    ),
    "bundle.other_station": (
        "This file was encrypted for the devices of station {file_station}; this device belongs "
        "to station {own_station} and cannot read it. Nothing was imported. Import it on a device "
        "of station {file_station}.",
        "该文件是为派出所 {file_station} 的设备加密的，本设备属于 {own_station}，无法读取，"
        "未导入任何内容。请在 {file_station} 的设备上导入。",
    ),
    "bundle.not_at_station": (
        "This file was encrypted for the devices of station {file_station}; this device is not "
        "enrolled at any station and cannot read it. Nothing was imported. Enrol this device at "
        "that station (`fieldapp enrol join`) and receive the records by sync (`fieldapp sync`).",
        "该文件是为派出所 {file_station} 的设备加密的，本设备尚未加入任何派出所，无法读取，"
        "未导入任何内容。请先让本设备加入该所（`fieldapp enrol join`），"
        "再通过同步（`fieldapp sync`）获取记录。",
    ),
    "bundle.not_recipient": (
        "This file was encrypted for {count} devices of station {file_station}, and this device "
        "({device}) is not among them: it was enrolled after the export, or revoked before it, or "
        "the exporting device had not yet learnt of it. Nothing was imported. Sync with the "
        "station (`fieldapp sync`), or ask for a new export from a device that has synced with "
        "this one.",
        "该文件是为派出所 {file_station} 的 {count} 台设备加密的，本设备（{device}）不在其中："
        "可能是导出后才入所、导出前已被吊销，或导出设备当时尚未获知本设备。未导入任何内容。"
        "请与所里同步（`fieldapp sync`），或请已与本设备同步过的设备重新导出。",
    ),
    "bundle.damaged": (
        "The export is damaged or was changed after it was written (its encryption check "
        "failed); nothing was imported. Copy the file again from its source, or ask for a new "
        "export.",
        "导出文件已损坏或在写出后被改动（加密校验未通过），未导入任何内容。请从来源重新复制该文件，或请对方重新导出。",
    ),
    "bundle.not_export": (
        "The file is not a fieldapp operations export; nothing was imported. Choose a file "
        "written by `fieldapp ops export`.",
        "该文件不是 fieldapp 的操作导出文件，未导入任何内容。请选择由 `fieldapp ops export` 写出的文件。",
    ),
    "bundle.entries_damaged": (
        "The export's entries are damaged; nothing was imported. Ask for a new export.",
        "导出文件中的操作记录已损坏，未导入任何内容。请对方重新导出。",
    ),
    "bundle.version": (
        "The export uses format version {version}, which this fieldapp cannot read; nothing was "
        "imported. Update fieldapp on this device.",
        "导出文件使用第 {version} 版格式，当前版本的 fieldapp 无法读取，未导入任何内容。"
        "请升级本设备上的 fieldapp。",
    ),
    "bundle.too_large": (
        "The file is larger than any operations export can be; nothing was imported. Check that "
        "it is the right file.",
        "该文件超出操作导出文件的最大可能大小，未导入任何内容。请确认文件是否选对。",
    ),
    "bundle.recipients": (
        "No device could be named to read the export ({count} recipients); nothing was written. "
        "Check `fieldapp device list`.",
        "无法确定可读取导出文件的设备（{count} 个接收方），未写出文件。"
        "请用 `fieldapp device list` 检查设备。",
    ),
    "bundle.exported": (
        "Wrote {count} operations ({size} bytes) to {out}, encrypted: readable by {devices} "
        "devices of station {station} and by its station authority.",
        "已将 {count} 条操作（{size} 字节）写入 {out}，已加密："
        "仅派出所 {station} 的 {devices} 台设备及本所发证设备可读取。",
    ),
    "bundle.exported_plain": (
        "Wrote {count} operations ({size} bytes) to {out} in plain text.",
        "已将 {count} 条操作（{size} 字节）以明文写入 {out}。",
    ),
}

EN: dict[str, str] = {key: en for key, (en, _) in _STRINGS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _STRINGS.items()}

add_catalogue(EN, ZH)

_ZH, _EN = Translator("zh"), Translator("en")


def bilingual(key: str, /, **params: Any) -> str:
    """The message in Chinese, then in English, one per line."""
    return f"{_ZH.t(key, **params)}\n{_EN.t(key, **params)}"
