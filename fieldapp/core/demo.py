"""A ready demo station for newcomers and screenshots: generated people only.

Three officers' devices record six weeks of work offline (intakes, visits,
mediations, escalations, a resolution with an agreement, a concurrent edit that
becomes a conflict, and the persons of issue 17: a repeat party whose mobile is
written three ways on three devices, key persons with plans due on the supervisor's
home, a possible match, a link and an unlink made apart), and everything is merged
into the supervisor's store that the demo opens, exactly as operations would arrive
by sync.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fieldapp.core.service import CaseError, CaseService, init_device
from fieldapp.core.station import adopt_enrolment, create_station, issue_certificate
from fieldapp.domain.persons import person_id_for
from storage import KdfParams
from sync.hlc import HybridClock

#: Printed by `fieldapp demo`; a demo store holds no real data.
DEMO_PASSPHRASE = "demo-station"
DEMO_OFFICER = "林所长（演示）"
DEMO_STATION = "东岭派出所（演示）"
#: A file in a demo store's folder, written only by `build_demo_store`: the unlock screen,
#: which cannot read the encrypted `local` table before the store is open, shows the demo
#: passphrase when it is there. It holds no secret (the passphrase is the constant above).
DEMO_MARKER = "demo-store"
_HELPER_KDF = KdfParams(memory_kib=8 * 1024, iterations=1, lanes=1)  # throwaway stores only
_DAY_MS = 86_400_000

VILLAGES = ["东岭村", "西河村", "南坡村", "北塘村", "青石社区"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林"
GIVEN = "建国秀英志强丽华明德桂兰海燕春生玉梅永福淑珍"
INTAKES = [
    ("land", "两户因田界石移位发生争执，双方互不相让"),
    ("homestead", "翻建房屋时宅基地墙界越线约半米，邻居阻工"),
    ("irrigation", "轮灌时间安排不均，上下游农户争抢浇水"),
    ("family", "赡养老人费用分担不均，兄弟之间多次争吵"),
    ("marriage", "婚约解除后彩礼返还金额有分歧"),
    ("debt", "农资赊欠款三年未还，双方对金额说法不一"),
    ("wages", "工地务工人员工资拖欠两个月"),
    ("neighbor", "邻里之间因排水沟堵塞产生矛盾"),
    ("housing", "楼上水管渗漏导致楼下墙面受损"),
    ("hazard", "村道边废弃机井未封口，存在安全隐患"),
]
VISIT_NOTES = [
    "上门走访当事人，了解纠纷起因，双方情绪较激动",
    "电话回访，当事人表示愿意接受调解",
    "会同村干部、网格员现场查看地界",
    "组织双方面对面调解，初步达成一致意见",
    "走访邻居了解情况，记录证言",
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


class _Wall:
    """A clock the demo moves through the weeks."""

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now


def _officer_shift(svc: CaseService, rng: random.Random, today: date) -> None:
    """A few weeks of one officer's work."""
    for _ in range(rng.randint(2, 4)):
        category, summary = rng.choice(INTAKES)
        deadline = (today + timedelta(days=rng.randint(-10, 20))).isoformat()
        parties = [{"name": _name(rng), "phone": _phone(rng), "role": "party"} for _ in range(2)]
        case = svc.new_case(
            village=rng.choice(VILLAGES),
            category=category,
            risk=rng.choice(["red", "orange", "yellow", "yellow"]),
            summary=summary,
            parties=parties,
            source=rng.choice(["patrol", "grid_report", "call_110", "walk_in"]),
            flags=rng.sample(["petition_threat", "violence_risk", "repeat_calls"], rng.randint(0, 1)),
            deadline=deadline,
        )
        for _ in range(rng.randint(0, 3)):
            svc.add_visit(
                case["id"], rng.choice(["home", "phone", "mediation", "field"]), rng.choice(VISIT_NOTES)
            )
        try:
            if rng.random() < 0.3:
                svc.update(case["id"], status="in_progress", reason="已受理，持续跟进")
            elif rng.random() < 0.2:
                svc.update(case["id"], status="escalated", tier=2, reason="涉及多户，需联合调处")
        except CaseError:
            pass


def _build_station(work: Path, store_dir: Path) -> None:
    today = date.today()
    wall = _Wall(int(time.time() * 1000) - 42 * _DAY_MS)
    rng = random.Random(20261123)
    init_device(store_dir, DEMO_PASSPHRASE, DEMO_OFFICER, role="supervisor", clock=HybridClock(wall=wall))
    officers = []
    for index, name in enumerate(["王警官（演示）", "赵辅警（演示）", "陈辅警（演示）"]):
        init_device(
            work / f"officer{index}", DEMO_PASSPHRASE, name, _HELPER_KDF, clock=HybridClock(wall=wall)
        )
        officers.append(CaseService.open(work / f"officer{index}", DEMO_PASSPHRASE, HybridClock(wall=wall)))
    station = CaseService.open(store_dir, DEMO_PASSPHRASE, HybridClock(wall=wall))
    try:
        # A real station: the supervisor's device is its authority and certifies each officer,
        # so roles, revocation and LAN sync work in the demo as at a station.
        create_station(station, DEMO_STATION)
        for village, area in zip(
            VILLAGES, ["第一警务区", "第一警务区", "第二警务区", "第二警务区", "第三警务区"], strict=True
        ):
            station.place_village(village, area)
        for svc in officers:
            cert, anchor = issue_certificate(station, svc.identity.public_key, svc.officer, "officer")
            adopt_enrolment(svc, cert, anchor)
        for week in range(6):
            for svc in officers:
                wall.now += rng.randint(1, 3) * _DAY_MS // 2
                _officer_shift(svc, rng, today) if week % 2 == 0 else None
            for svc in officers:  # shift end: everyone meets at the station
                station.import_ops(svc.export_ops())
                svc.import_ops(station.export_ops())
        _showcase(station, officers, wall)
        _persons_showcase(station, officers, wall, today)
        for svc in officers:
            station.import_ops(svc.export_ops())
    finally:
        for svc in [*officers, station]:
            svc.close()


def _showcase(station: CaseService, officers: list[CaseService], wall: _Wall) -> None:
    """The situations a newcomer should see: agreement, conflict, assignment, escalation."""
    first, second, _ = officers
    resolved = first.new_case(
        village="东岭村",
        category="land",
        risk="orange",
        summary="两户因田界石移位发生争执，经多次调解达成协议",
        parties=[
            {"name": "张某某", "phone": "13800001111", "role": "applicant"},
            {"name": "李某某", "phone": "13900002222", "role": "respondent"},
        ],
    )
    for note in VISIT_NOTES[:4]:
        wall.now += _DAY_MS
        first.add_visit(resolved["id"], "mediation" if "调解" in note else "home", note)
    first.update(
        resolved["id"],
        status="resolved",
        reason="调解成功",
        outcome={"kind": "agreement", "terms": "李某某于本月底前将界石恢复原位，并支付张某某误工费三千元"},
    )
    contested = first.new_case(
        village="西河村",
        category="irrigation",
        risk="yellow",
        summary="轮灌时间安排不均，上下游农户争抢浇水",
        parties=[{"name": "周某某", "phone": "13700003333", "role": "party"}],
    )
    for svc in officers:
        station.import_ops(svc.export_ops())
        svc.import_ops(station.export_ops())
    wall.now += _DAY_MS
    first.update(contested["id"], fields={"risk": "orange"})  # made apart, without seeing each other:
    second.update(contested["id"], fields={"risk": "red"})  # a conflict for the supervisor to review
    station.update(contested["id"], assign=second.identity.device_id)
    wall.now += _DAY_MS
    escalated = second.new_case(
        village="南坡村",
        category="homestead",
        risk="orange",
        summary="翻建房屋时宅基地墙界越线约半米，邻居阻工，多次调解未果",
        parties=[
            {"name": "吴某某", "phone": "13600004444", "role": "applicant"},
            {"name": "郑某某", "phone": "13500005555", "role": "respondent"},
        ],
    )
    second.add_visit(escalated["id"], "mediation", "组织双方调解，分歧较大，未达成一致")
    second.update(escalated["id"], status="escalated", tier=3, reason="需司法所参与调解")
    red = first.new_case(
        village="北塘村",
        category="family",
        risk="red",
        summary="兄弟之间因赡养老人费用分担不均发生推搡，扬言动手",
        parties=[{"name": "孙某某", "phone": "13300006666", "role": "party"}],
        flags=["violence_risk"],
    )
    first.add_visit(red["id"], "mediation", "会同村干部组织家庭调解，双方达成赡养协议")
    first.update(
        red["id"],
        status="resolved",
        reason="调解成功",
        outcome={"kind": "agreement", "terms": "兄弟二人每月各承担赡养费八百元，轮流照料老人"},
    )


#: The persons of the demo (docs/persons.md), with generated names and numbers. 张某某 of the
#: agreement in 东岭村 (`_showcase`) comes back on the two other officers' devices, the mobile
#: written `138-0000-1111` and `+86 13800001111`: type 13800001111 in a new intake (F3).
REPEAT_MOBILE = "13800001111"
#: 马永福, who threatens to petition: a key person with two mobiles (an officer linked the old
#: number to the new one) and the supervisor's own plan, overdue.
KEY_MOBILE, KEY_OLD_MOBILE = "15900007777", "13700008888"
#: 周德明: the same name in 北塘村, with and without a mobile; one officer linked the two while
#: another said they are not one person (a father and son): a link conflict for the supervisor.
DISPUTED_MOBILE = "13600009999"


def _persons_showcase(station: CaseService, officers: list[CaseService], wall: _Wall, today: date) -> None:
    """Issue 17 for a newcomer: one person across villages and devices, key persons and plans,
    a possible match, and a concurrent link and unlink (the supervisor's review queue)."""
    first, second, third = officers
    wall.now += _DAY_MS
    second.new_case(
        village="西河村",
        category="debt",
        risk="orange",
        summary="农资赊欠款三年未还，双方对金额说法不一，一方扬言要去镇上上访",
        parties=[
            {"name": "张某某", "phone": "138-0000-1111", "role": "applicant"},
            {"name": "黄玉梅", "phone": "18800002468", "role": "respondent"},
        ],
        source="walk_in",
        flags=["petition_threat"],
    )
    wall.now += _DAY_MS // 2
    repeat = third.new_case(
        village="东岭村",
        category="neighbor",
        risk="yellow",
        summary="邻里之间因排水沟堵塞产生矛盾，此前双方曾因田界调解过",
        parties=[
            {"name": "张某某", "phone": "+86 13800001111", "role": "party"},
            {"name": "刘春生", "phone": "13500001357", "role": "party"},
        ],
        source="call_110",
    )
    third.add_visit(repeat["id"], "home", VISIT_NOTES[0])
    old = first.new_case(
        village="南坡村",
        category="family",
        risk="orange",
        summary="赡养老人费用分担不均，兄弟之间多次争吵",
        parties=[{"name": "马永福", "phone": KEY_OLD_MOBILE, "role": "applicant"}],
    )
    first.add_visit(old["id"], "phone", VISIT_NOTES[1])
    wall.now += _DAY_MS
    petition = third.new_case(
        village="南坡村",
        category="homestead",
        risk="red",
        summary="宅基地确权有异议，当事人多次扬言到县里上访",
        parties=[
            {"name": "马永福", "phone": KEY_MOBILE, "role": "applicant"},
            {"name": "马建国", "phone": "15000002244", "role": "respondent"},
        ],
        source="grid_report",
        flags=["petition_threat"],
    )
    third.add_visit(petition["id"], "mediation", VISIT_NOTES[3])
    # Possible matches: names without a mobile, the same (or the same pinyin) in one village.
    first.new_case(
        village="青石社区",
        category="housing",
        risk="yellow",
        summary="楼上水管渗漏导致楼下墙面受损",
        parties=[
            {"name": "赵桂兰", "phone": "", "role": "applicant"},
            {"name": "吴海燕", "phone": "13900004680", "role": "respondent"},
        ],
    )
    third.new_case(
        village="青石社区",
        category="neighbor",
        risk="yellow",
        summary="邻居在楼道堆放杂物，多次协商未果",
        parties=[{"name": "赵贵兰", "phone": "", "role": "party"}],
    )
    second.new_case(
        village="北塘村",
        category="irrigation",
        risk="yellow",
        summary="轮灌时间安排不均，上下游农户争抢浇水",
        parties=[{"name": "周德明", "phone": DISPUTED_MOBILE, "role": "party"}],
    )
    first.new_case(
        village="北塘村",
        category="land",
        risk="yellow",
        summary="两户因田界石移位发生争执，双方互不相让",
        parties=[{"name": "周德明", "phone": "", "role": "respondent"}],
    )
    for svc in officers:  # shift end: everyone's cases reach everyone
        station.import_ops(svc.export_ops())
    for svc in officers:
        svc.import_ops(station.export_ops())
    wall.now += _DAY_MS
    index = first.person_index()
    first.link_persons(person_id_for("mobile:" + KEY_MOBILE), person_id_for("mobile:" + KEY_OLD_MOBILE))
    disputed = person_id_for("mobile:" + DISPUTED_MOBILE)
    [nameless] = [p.id for p in index.proposals(disputed) if not p.phones]
    first.link_persons(disputed, nameless)  # apart, without seeing each other's:
    second.link_persons(disputed, nameless, linked=False)
    for svc in officers:
        station.import_ops(svc.export_ops())
    wall.now += _DAY_MS
    station.mark_key_person(
        person_id_for("mobile:" + KEY_MOBILE),
        "每周上门走访一次，稳控情绪，会同司法所答复确权异议，防止越级上访",
        due=(today - timedelta(days=3)).isoformat(),
    )
    station.mark_key_person(
        person_id_for("mobile:" + REPEAT_MOBILE),
        "一年内三起纠纷：约双方到所面对面调解，排查是否有其他矛盾",
        due=today.isoformat(),
    )


def is_demo_store(store_dir: Path) -> bool:
    """True for a store `build_demo_store` made (its marker file is there)."""
    return (Path(store_dir) / DEMO_MARKER).is_file()


def build_demo_store(store_dir: Path | None = None) -> tuple[Path, str]:
    """Create a demo station store (in a new temporary folder unless given); return it and its passphrase."""
    if store_dir is None:
        store_dir = Path(tempfile.mkdtemp(prefix="fieldapp-demo-")) / "store"
    work = Path(tempfile.mkdtemp(prefix="fieldapp-demo-devices-"))
    try:
        _build_station(work, store_dir)
        (store_dir / DEMO_MARKER).write_text("fieldapp demo store: generated people only\n", encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return store_dir, DEMO_PASSPHRASE
