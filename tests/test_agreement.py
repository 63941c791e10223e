"""The people's mediation agreement (人民调解协议书): its content, its refusals, its command.

Real encrypted stores of a small station (harness/replicas.py); made-up names and
phones from scripts/bench_common.py, never real people's data.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections.abc import Iterator
from datetime import timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fieldapp.core.service import CaseService, officer_names
from fieldapp.outputs.agreement import (
    AgreementError,
    agreement_html,
    agreement_stands,
    agreement_text,
    check_agreement,
)
from fieldapp.outputs.exports import local_time
from harness.replicas import exchange, station_devices
from scripts.bench_common import fake_name, fake_phone
from tests.cli import fieldapp

ROOT = Path(__file__).resolve().parent.parent
BEIJING = timezone(timedelta(hours=8))
STATION = "测试派出所"
#: The people's mediation committee a station sets (`fieldapp station set --mediation-org`).
ORG = "测试镇人民调解委员会"
#: Terms with markup and an ampersand: they must reach the page as text, not as HTML.
TERMS = '一、乙方于2026年3月31日前付给甲方3,000元 & 赔礼道歉；\n二、<script>alert("x")</script>界桩恢复原位。'
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr"}


def fake_parties(seed: int, count: int = 2) -> list[dict[str, str]]:
    """`count` parties with distinct made-up names and phones."""
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < count:
        name = fake_name(rng)
        if name not in names:
            names.append(name)
    roles = ["applicant", "respondent", "party"]
    return [{"name": n, "phone": fake_phone(rng), "role": roles[i % 3]} for i, n in enumerate(names)]


def new_case(service: CaseService, parties: list[dict[str, str]]) -> dict[str, Any]:
    return service.new_case(
        village="测试村甲",
        category="land",
        risk="orange",
        summary="两户因承包地田界发生争执",
        parties=parties,
    )


class Station:
    """An authority (supervisor) and one officer; the officer's case resolved by agreement."""

    def __init__(self, services: list[CaseService], parties: list[dict[str, str]]) -> None:
        self.authority, self.officer = services
        self.parties = parties
        case = new_case(self.officer, parties)
        self.officer.add_visit(case["id"], "home", "上门了解情况")
        self.officer.add_visit(case["id"], "mediation", "第一次调解", place="测试村甲村委会")
        exchange(self.officer, self.authority)
        self.authority.add_visit(case["id"], "mediation", "所长主持第二次调解")
        exchange(self.officer, self.authority)
        self.case = self.officer.update(
            case["id"],
            status="resolved",
            reason="双方达成协议",
            outcome={"kind": "agreement", "terms": TERMS},
        )


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    with station_devices(tmp_path, 1, name=STATION) as services:
        yield Station(services, fake_parties(7))


class Structure(HTMLParser):
    """Checks that every element is closed in order and collects tags and attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] not in ("style", "title"):
            self.text.append(data)


def parse(page: bytes) -> Structure:
    parser = Structure()
    parser.feed(page.decode("utf-8"))
    parser.close()
    assert parser.problems == [], parser.problems
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def test_the_page_names_parties_terms_mediators_and_escapes_what_people_typed(station: Station) -> None:
    case = station.case
    names = officer_names(station.officer)
    page = agreement_html(case, names, ORG, tz=BEIJING)
    text = page.decode("utf-8")

    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    assert '<html lang="zh-CN">' in text and "<h1>人民调解协议书</h1>" in text
    assert case["id"] in text and f"调解组织：{ORG}" in text
    for party in station.parties:
        assert html.escape(party["name"]) in text and party["phone"] in text
    assert "申请人" in text and "被申请人" in text
    assert "性别" in text and "年龄" in text and "住址" in text and "履行方式、时限" in text
    # The terms, escaped, with their line break kept (the page shows it with pre-wrap).
    assert html.escape(TERMS) in text
    assert "&amp; 赔礼道歉" in text and "&lt;script&gt;" in text
    assert "<script" not in text and 'alert("x")' not in text
    # Both officers who recorded a mediation visit sign as mediators, by name.
    assert station.officer.officer in text and station.authority.officer in text
    mediations = [v for v in case["visits"] if v["kind"] == "mediation"]
    assert len(mediations) == 2
    for visit in mediations:
        moment = local_time(visit["at"], BEIJING)
        assert moment is not None
        assert f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}" in text
    assert "测试村甲村委会" in text and "上门了解情况" not in text  # only mediation sessions
    assert "本协议一式" in text and "人民调解委员会各持一份" in text
    assert "之日起生效" in text and f"{ORG}（印章）" in text and "日期" in text

    parsed = parse(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "img" not in parsed.tags
    assert TERMS in "".join(parsed.text)  # the reader sees exactly what was typed


def test_the_page_is_self_contained_and_prints_on_a4(station: Station) -> None:
    for lang in ("zh", "en"):
        page = agreement_html(station.case, officer_names(station.officer), "", lang=lang).decode()
        lowered = page.lower()
        for external in ("http:", "https:", "src=", "href=", "url(", "@import", "<script", "<link"):
            assert external not in lowered, (lang, external)
        assert "@page { size: A4; margin: 15mm 18mm; }" in page
        assert '"SimSun", "Songti SC", "Noto Serif CJK SC"' in page
        attrs = {name for name, _ in parse(page.encode()).attrs}
        assert not attrs & {"src", "href", "onload", "onclick", "onerror"}


def test_the_english_variant_has_the_same_shape(station: Station) -> None:
    names = officer_names(station.officer)
    page = agreement_html(station.case, names, "", lang="en").decode()
    assert '<html lang="en">' in page and "<h1>People&#x27;s Mediation Agreement</h1>" in page
    for heading in (
        "Parties",
        "Main facts of the dispute",
        "Through mediation, the parties have voluntarily agreed as follows",
        "Manner and time limit of performance",
        "Mediation record",
        "People&#x27;s mediation committee (seal)",
        "Applicant",
        "Land boundary",
    ):
        assert heading in page
    assert html.escape(TERMS) in page and station.case["id"] in page
    # No station name given: a line to fill by hand.
    assert 'Mediated at: <span class="blank wide">&nbsp;</span>' in page


def test_the_strings_exist_in_both_languages() -> None:
    from fieldapp import i18n

    keys = {k for k in i18n.EN if k.startswith("agreement.")}
    assert keys and keys <= set(i18n.ZH)
    assert not keys & (i18n.missing_keys() | i18n.mismatched_placeholders())


def test_the_text_preview_says_the_same(station: Station) -> None:
    preview = agreement_text(station.case, officer_names(station.officer), STATION, tz=BEIJING)
    assert preview.splitlines()[0] == "人民调解协议书"
    assert station.case["id"] in preview and STATION in preview
    assert all(p["name"] in preview for p in station.parties)
    assert "    一、乙方于2026年3月31日前付给甲方3,000元 & 赔礼道歉；\n    二、<script>" in preview
    assert station.authority.officer in preview


def test_an_unresolved_case_or_another_outcome_is_refused(station: Station) -> None:
    officer = station.officer
    names = officer_names(officer)
    open_case = new_case(officer, fake_parties(8))
    with pytest.raises(AgreementError) as refused:
        agreement_html(open_case, names, STATION)
    message = str(refused.value)
    assert f"Case {open_case['id']} is open" in message
    assert (
        f"`fieldapp case update {open_case['id']} --status resolved --outcome agreement --terms TEXT`"
        in message
    )
    assert "“待处理”" in refused.value.message("zh")

    officer.add_visit(open_case["id"], "phone", "电话联系双方")
    in_progress = officer.update(open_case["id"], status="in_progress", reason="开始调解")
    with pytest.raises(AgreementError, match="is in progress"):
        agreement_text(in_progress, names, STATION)

    withdrawn = officer.update(
        open_case["id"], status="resolved", reason="申请人撤回", outcome={"kind": "withdrawn", "terms": ""}
    )
    with pytest.raises(AgreementError) as refused:
        agreement_html(withdrawn, names, STATION)
    message = str(refused.value)
    assert "outcome “withdrawn”, not a mediation agreement" in message
    assert f"`fieldapp case reopen {open_case['id']} --reason TEXT`" in message
    assert "当事人撤回" in refused.value.message("zh")
    assert isinstance(refused.value, ValueError) and refused.value.code == "agreement_error"

    # Closed after a referral: no outcome at all.
    with pytest.raises(AgreementError, match="none recorded"):
        check_agreement({**withdrawn, "status": "closed", "outcome": None})
    # Resolved by agreement and later closed: still printable.
    check_agreement({**station.case, "status": "closed"})


def test_an_agreement_ended_by_a_reopening_is_not_printed(station: Station) -> None:
    officer, names = station.officer, officer_names(station.officer)
    case_id = station.case["id"]
    assert agreement_stands(station.case)

    reopened = officer.reopen(case_id, "一方反悔，纠纷再起")
    assert not agreement_stands(reopened)
    with pytest.raises(AgreementError):
        agreement_html(reopened, names, ORG)

    # Agreed again: the new agreement prints.
    again = officer.update(
        case_id,
        status="resolved",
        reason="再次调解成功",
        outcome={"kind": "agreement", "terms": "新协议条款"},
    )
    assert agreement_stands(again) and "新协议条款" in agreement_html(again, names, ORG).decode()

    # Reopened, then referred and closed without a new agreement: the old one must not print,
    # whether a reopening keeps the old outcome on the case (as it did) or ends it.
    officer.reopen(case_id, "又起争执")
    officer.update(
        case_id,
        status="referred",
        reason="移交司法所",
        referral={"department": "司法所", "notified": "电话通知"},
    )
    closed = officer.update(case_id, status="closed", reason="司法所已受理")
    assert closed["status"] == "closed" and not agreement_stands(closed)
    with pytest.raises(AgreementError) as refused:
        agreement_html(closed, names, ORG)
    assert case_id in refused.value.message("zh") and case_id in str(refused.value)
    chinese = re.sub(r"`[^`]*`", "", refused.value.message("zh")).replace(case_id, "")
    assert "重新启动" in chinese and not re.search(r"[A-Za-z]{4,}", chinese)


def test_a_case_mediated_by_a_tier_2_team_says_so_in_the_record(station: Station) -> None:
    officer, boss = station.officer, station.authority
    case = new_case(officer, fake_parties(11))
    officer.add_visit(case["id"], "home", "上门了解情况")
    escalated = officer.update(case["id"], status="escalated", tier=2, reason="需联合调解组调解")
    exchange(officer, boss)
    boss.approve_escalation(case["id"])
    exchange(officer, boss)
    resolved = officer.update(
        case["id"],
        status="resolved",
        reason="联合调解组调解成功",
        outcome={"kind": "agreement", "terms": "甲乙各让一步"},
    )
    page = agreement_html(resolved, officer_names(officer), ORG, tz=BEIJING).decode()
    record = page.split("调解情况")[1].split("经调解，自愿达成如下协议")[0]
    assert "未记录调解" not in record
    escalation = next(e for e in escalated["history"] if e["what"].get("status") == "escalated")
    day = local_time(escalation["at"], BEIJING)
    assert day is not None
    assert f"{day.year}年{day.month}月{day.day}日上报，由二级（联合调解组）调解。" in record
    preview = agreement_text(resolved, officer_names(officer), ORG, tz=BEIJING)
    assert "二级（联合调解组）" in preview and "未记录调解" not in preview
    english = agreement_html(resolved, officer_names(officer), ORG, lang="en", tz=BEIJING).decode()
    assert "to tier 2 (joint team) for mediation." in english


def test_the_signatures_are_kept_with_the_end_of_the_terms(station: Station) -> None:
    """The print rules (the page count itself: tests/test_agreement_print.py, with Chromium)."""
    lines = [f"{n}、乙方于每月底前付给甲方500元。" for n in range(1, 41)]
    long = {**station.case, "outcome": {"kind": "agreement", "terms": "\n".join(lines)}}
    names = officer_names(station.officer)
    for case, last in ((station.case, TERMS.split("\n")), (long, lines[-2:])):
        page = agreement_html(case, names, ORG).decode()
        parse(page.encode())
        css = re.search(r"<style>(.*)</style>", page, re.S)
        assert css is not None
        assert re.search(r"\.end \{[^}]*break-inside: avoid;[^}]*page-break-inside: avoid;", css.group(1))
        assert re.search(r"@page \{ size: A4; margin: 15mm 18mm; \}", css.group(1))
        before, _, block = page.partition('<div class="end">')
        assert block, "no block kept together"
        # In the unbreakable block: the terms' last lines, performance, closing, every signature.
        assert html.escape("\n".join(last)) in block
        for words in (
            "履行方式、时限",
            "本协议一式",
            "当事人（签名或盖章）",
            "人民调解员（签名）",
            f"{ORG}（印章）",
        ):
            assert words in block and words not in before
        assert block.rstrip().endswith("</div>\n</div>\n</body>\n</html>")
    assert html.escape(lines[0]) in before  # a long agreement's first terms may break before it


# ---------------------------------------------------------------- the command


@pytest.mark.timeout(300)
def test_the_command_writes_the_page_once_and_its_advice_works(tmp_path: Path) -> None:
    with station_devices(tmp_path / "station", 1, name=STATION) as services:
        resolved = Station(services, fake_parties(9)).case
        pending = new_case(services[1], fake_parties(10))
        still_open = new_case(services[1], fake_parties(11))
    store = tmp_path / "station" / "officer0"
    out = tmp_path / "协议书.html"

    done = fieldapp("agreement", resolved["id"], "--store", store, "--out", out)
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "not encrypted" in done.stdout
    page = out.read_bytes()
    assert resolved["id"].encode() in page
    # No mediation organisation set: a line to fill by hand, never the police station's name.
    assert STATION.encode() not in page and '调解组织：<span class="blank wide">'.encode() in page
    assert html.escape(TERMS).encode() in page
    parse(page)

    again = fieldapp("agreement", resolved["id"], "--store", store, "--out", out, "--mediation-org", "别的所")
    assert again.returncode == 1 and again.stdout == ""
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert out.read_bytes() == page

    forced = fieldapp(
        "agreement", resolved["id"], "--store", store, "--out", out, "--force",
        "--lang", "en", "--station-name", "别的所", "--json",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout) == {"path": str(out), "case": resolved["id"]}
    english = out.read_text(encoding="utf-8")
    assert "People&#x27;s Mediation Agreement" in english and "别的所" in english and STATION not in english

    # An open case is refused, nothing is written, and the commands it suggests do work.
    target = tmp_path / "pending.html"
    refused = fieldapp("agreement", pending["id"], "--store", store, "--out", target)
    assert refused.returncode == 1 and not target.exists()
    assert f"Case {pending['id']} is open" in refused.stderr
    suggested = re.findall(r"`fieldapp ([^`]+)`", refused.stderr)
    assert [s.split()[:2] for s in suggested] == [["visit", "add"], ["case", "update"]]
    for command in suggested:
        words = ["测试调解内容" if w == "TEXT" else w for w in command.split()]
        ran = fieldapp(*words, "--store", store)
        assert ran.returncode == 0, (command, ran.stderr)
    written = fieldapp("agreement", pending["id"], "--store", store, "--out", target, "--json")
    assert written.returncode == 0, written.stderr
    assert "测试调解内容" in target.read_text(encoding="utf-8")

    # Asked for in Chinese (a choice the device then remembers), the command says what it wrote
    # and that the file is not encrypted in Chinese, and a refusal names the status in Chinese.
    chinese = fieldapp("agreement", resolved["id"], "--store", store, "--out", out, "--force", "--lang", "zh")
    assert chinese.returncode == 0, chinese.stderr
    assert f"已将案件 {resolved['id']} 的人民调解协议书写入 {out}" in chinese.stdout
    assert "文件未加密" in chinese.stdout and "Wrote" not in chinese.stdout
    refused_zh = fieldapp("agreement", still_open["id"], "--store", store, "--out", tmp_path / "x.html")
    assert refused_zh.returncode == 1 and "目前为“待处理”" in refused_zh.stderr, refused_zh.stderr


@pytest.mark.timeout(300)
def test_a_reopened_case_has_no_agreement_to_print_until_a_new_one_is_recorded(tmp_path: Path) -> None:
    """Issue 15, item 2: the reopening ended the agreement; the command refuses it, in both
    languages, and the command it suggests records a new one, which then prints."""
    with station_devices(tmp_path / "station", 1, name=STATION) as services:
        case_id = Station(services, fake_parties(11)).case["id"]
    store = tmp_path / "station" / "officer0"
    out = tmp_path / "协议书.html"
    reopened = fieldapp("case", "reopen", case_id, "--reason", "界桩又被移动", "--store", store)
    assert reopened.returncode == 0, reopened.stderr

    refused = fieldapp("agreement", case_id, "--store", store, "--out", out)
    assert refused.returncode == 1 and not out.exists()
    assert f"Case {case_id} was reopened" in refused.stderr and "no longer holds" in refused.stderr
    shown = json.loads(fieldapp("case", "show", case_id, "--store", store, "--json").stdout)
    with pytest.raises(AgreementError) as caught:
        check_agreement(shown)
    assert "重新启动前记录的协议已失效" in caught.value.message("zh") and "按 u" in caught.value.message("zh")

    suggested = re.findall(r"`fieldapp ([^`]+)`", refused.stderr)
    assert [s.split()[:2] for s in suggested] == [["case", "update"]]
    words = ["新的协议内容" if w == "TEXT" else w for w in suggested[0].split()]
    ran = fieldapp(*words, "--store", store)
    assert ran.returncode == 0, ran.stderr
    written = fieldapp("agreement", case_id, "--store", store, "--out", out)
    assert written.returncode == 0, written.stderr
    page = out.read_text(encoding="utf-8")
    assert "新的协议内容" in page and html.escape(TERMS) not in page


def test_the_mediation_organisation_is_a_station_setting(tmp_path: Path) -> None:
    with station_devices(tmp_path / "station", 1, name=STATION) as services:
        resolved = Station(services, fake_parties(12)).case
        exchange(services[1], services[0])
    authority, officer = tmp_path / "station" / "authority", tmp_path / "station" / "officer0"

    for store in (authority, officer):
        done = fieldapp("station", "set", "--mediation-org", f" {ORG} ", "--store", store, "--lang", "zh")
        assert done.returncode == 0, done.stderr
        assert f"“{ORG}”" in done.stdout and "每台设备" in done.stdout
    for store in (authority, officer):
        out = tmp_path / f"{store.name}.html"
        assert fieldapp("agreement", resolved["id"], "--store", store, "--out", out).returncode == 0
        page = out.read_text(encoding="utf-8")
        assert f"调解组织：{ORG}" in page and f"{ORG}（印章）" in page and STATION not in page

    long = fieldapp("station", "set", "--mediation-org", "长" * 65, "--store", officer, "--lang", "zh")
    assert long.returncode == 1 and "64" in long.stderr and "调解组织名称" in long.stderr
    cleared = fieldapp("station", "set", "--mediation-org", "", "--store", officer, "--json")
    assert cleared.returncode == 0 and json.loads(cleared.stdout) == {"mediation_org": ""}
    out = tmp_path / "cleared.html"
    assert fieldapp("agreement", resolved["id"], "--store", officer, "--out", out).returncode == 0
    assert ORG not in out.read_text(encoding="utf-8")
