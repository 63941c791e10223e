"""Display names of the case vocabulary (fieldapp.domain.model) in English and Chinese.

Kept apart from the screen texts in fieldapp.i18n, which merges these in.
"""

from __future__ import annotations

_TERMS: dict[str, tuple[str, str]] = {
    "category.family": ("Family", "家庭"),
    "category.marriage": ("Marriage", "婚恋"),
    "category.neighbor": ("Neighbours", "邻里"),
    "category.land": ("Land boundary", "土地田界"),
    "category.homestead": ("Homestead", "宅基地"),
    "category.irrigation": ("Irrigation", "浇水灌溉"),
    "category.debt": ("Debt", "经济债务"),
    "category.wages": ("Wages", "务工工资"),
    "category.housing": ("Housing", "房屋"),
    "category.injury": ("Injury", "人身损害"),
    "category.hazard": ("Safety hazard", "安全隐患"),
    "category.other": ("Other", "其他"),
    "status.open": ("Open", "待处理"),
    "status.in_progress": ("In progress", "处理中"),
    "status.escalated": ("Escalated", "已上报"),
    "status.referred": ("Referred", "已移交"),
    "status.resolved": ("Resolved", "已化解"),
    "status.closed": ("Closed", "已结案"),
    "source.patrol": ("Patrol", "巡逻发现"),
    "source.grid_report": ("Grid report", "网格上报"),
    "source.call_110": ("110 call", "110警情"),
    "source.walk_in": ("Walk-in", "来所报案"),
    "source.villagers_meeting": ("Villagers' meeting", "村民说事"),
    "flag.petition_threat": ("Threatens petition", "扬言上访"),
    "flag.violence_risk": ("Risk of violence", "可能引发打架斗殴"),
    "flag.vulnerable_person": ("Vulnerable person", "特殊人群"),
    "flag.repeat_calls": ("Repeat calls", "重复警情"),
    "visit.home": ("Home visit", "上门走访"),
    "visit.phone": ("Phone call", "电话回访"),
    "visit.mediation": ("Mediation", "调解"),
    "visit.follow_up": ("Follow-up", "跟踪回访"),
    "visit.field": ("Field visit", "现场查看"),
}

EN: dict[str, str] = {key: en for key, (en, _) in _TERMS.items()}
ZH: dict[str, str] = {key: zh for key, (_, zh) in _TERMS.items()}
