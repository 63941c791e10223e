"""A shift of realistic work on one device: made-up villages, people and disputes.

`record_shift(service, rng, operations)` records exactly `operations` operations
through `CaseService` (intakes, visits, notes, risk changes, status changes up to a
resolution with an agreement), so a test knows how many each device made. All of
it is generated: no real places or people. Used by tests/test_sync_netns.py,
scripts/simulate_lan.py and scripts/simulate_station.py.
"""

from __future__ import annotations

import random

from fieldapp.core.service import CaseService

VILLAGES = ["柳河村", "石门村", "杏林村", "双庙村", "桃源社区", "白杨村", "龙泉村", "上湾村"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林梁宋郑谢韩唐冯"
GIVEN = "建国秀英志强丽华明德桂兰海燕春生玉梅永福淑珍红霞文军"
INTAKES = [
    ("land", "两户因承包地界桩移位发生争执，互不相让"),
    ("homestead", "翻建房屋时院墙越过宅基地界线，邻居阻止施工"),
    ("irrigation", "轮灌时间安排不均，上下游农户争抢浇水"),
    ("family", "赡养老人费用分担不均，兄弟之间多次争吵"),
    ("marriage", "婚约解除后彩礼返还金额有分歧"),
    ("debt", "农资赊欠款两年未还，双方对金额说法不一"),
    ("wages", "果园务工人员工资拖欠三个月未结"),
    ("neighbor", "邻里之间因排水沟堵塞、污水外溢产生矛盾"),
    ("housing", "楼上水管渗漏导致楼下墙面受损，协商赔偿未果"),
    ("hazard", "村道边废弃机井未封口，存在安全隐患"),
]
VISITS = [
    ("home", "上门走访当事人，了解纠纷起因，双方情绪较激动"),
    ("phone", "电话回访，当事人表示愿意接受调解"),
    ("field", "会同村干部、网格员现场查看地界"),
    ("mediation", "组织双方面对面调解，初步达成一致意见"),
    ("follow_up", "回访协议履行情况，双方均表示满意"),
]
NOTES = [
    "村委会已介入，约定周五再次协商",
    "当事人提供了土地承包合同复印件",
    "一方外出务工，需电话联系",
    "已告知双方不得采取过激行为",
    "司法所调解员同意参与下次调解",
]


def fake_name(rng: random.Random) -> str:
    """A made-up Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))


def fake_phone(rng: random.Random) -> str:
    """A made-up mobile number."""
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _intake(service: CaseService, rng: random.Random) -> str:
    category, summary = rng.choice(INTAKES)
    parties = [
        {"name": fake_name(rng), "phone": fake_phone(rng), "role": role}
        for role in ("applicant", "respondent")
    ]
    case = service.new_case(
        village=rng.choice(VILLAGES),
        category=category,
        risk=rng.choice(["red", "orange", "yellow", "yellow"]),
        summary=summary,
        parties=parties,
        source=rng.choice(["patrol", "grid_report", "call_110", "walk_in"]),
    )
    return str(case["id"])


def _follow_up(service: CaseService, rng: random.Random, case_id: str) -> None:
    """One operation on an existing case, chosen by its state."""
    case = service.case(case_id)
    roll = rng.random()
    if case["status"] == "open" and case["visits"] and roll < 0.3:
        service.update(case_id, status="in_progress", reason="已受理，持续跟进")
    elif case["status"] == "in_progress" and roll < 0.3:
        service.update(
            case_id,
            status="resolved",
            reason="调解成功",
            outcome={
                "kind": "agreement",
                "terms": f"{fake_name(rng)}于月底前赔偿损失{rng.randint(5, 50)}百元",
            },
        )
    elif roll < 0.65:
        kind, note = rng.choice(VISITS)
        service.add_visit(case_id, kind, note, participants=fake_name(rng))
    elif roll < 0.85:
        service.update(case_id, note=rng.choice(NOTES))
    else:
        risk = rng.choice([r for r in ("red", "orange", "yellow") if r != case["risk"]])
        service.update(case_id, fields={"risk": risk})


def record_shift(service: CaseService, rng: random.Random, operations: int) -> list[str]:
    """Record exactly `operations` operations of a shift's work; returns the ids of the cases opened.

    Every step is one operation and its own durable save, as in the app, so the
    device's log grows by exactly `operations`.
    """
    opened: list[str] = []
    for _ in range(operations):
        active = [c for c in opened if service.case(c)["status"] not in ("resolved", "closed")]
        if not active or rng.random() < 0.3:
            opened.append(_intake(service, rng))
        else:
            _follow_up(service, rng, rng.choice(active))
    return opened
