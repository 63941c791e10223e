"""A rolling upgrade from the previous release, as a station does it: one device at a time.

The previous release (CHANGELOG.md, tag or commit: tests/releases.py) is built from git into
a venv of its own. With its command line a station is made and two officers' devices are
enrolled (S = the station authority's device, A, B), each records cases and they sync. Then
S runs this code on its store, places a village in a police area (`village.area`, a kind
the previous release does not know), records a case, and enrols a device E (`device.enrol`,
another such kind) that it revokes before E ever syncs; A, still on the previous release,
syncs with S, and B (previous release) syncs with A, so B gets the new kinds only through A.
Then A and B run this code on their stores and everyone syncs. All three must hold the same
operations, show the placement and the revoked, never-synced E, and report the same state
hash (issue 14, "Releases"; issue 16, "Enrolment is recorded"). A second scenario has devices
on the previous release relay the person operations of issue 17 (links, an unlink, a key person
with a plan, a concurrent link and unlink) and checks that, upgraded, all show the same persons.
The previous release is built once (kept in `.release-venvs/`) for all the scenarios.

Processes and loopback only; every store is in the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fieldapp import __version__
from harness import PASSPHRASE
from storage import FieldDB
from sync.ops import decode_trusted
from tests.cli import fieldapp as current
from tests.releases import built_release, previous_release

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

VILLAGE, AREA = "东岭村", "第一警务区"


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {
        "FIELDAPP_PASSPHRASE": PASSPHRASE
    }


class Old:
    """The previous release's command line: `python -I -m fieldapp` in its own venv (never this tree)."""

    def __init__(self, python: Path, cwd: Path) -> None:
        self.python, self.cwd = python, cwd

    def argv(self, *args: str | Path) -> list[str]:
        return [str(self.python), "-I", "-m", "fieldapp", *map(str, args)]

    def __call__(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), cwd=self.cwd, env=_environ(), capture_output=True, text=True, timeout=60
        )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args[3:]} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


@contextmanager
def serving(argv: list[str], cwd: Path) -> Iterator[str]:
    """`fieldapp serve --interface 127.0.0.1 --json` running; yields its HOST:PORT."""
    server = subprocess.Popen(
        [*argv, "--interface", "127.0.0.1", "--json"],
        cwd=cwd,
        env=_environ() | ({"PYTHONPATH": str(cwd)} if argv[0] == sys.executable else {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line, f"serve ended before listening: {server.communicate(timeout=30)[1]}"
        listening = json.loads(line)
        assert listening["event"] == "listening", listening
        yield f"127.0.0.1:{listening['port']}"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err


def enrol(argv: list[str], cwd: Path, joiners: list[tuple[Any, Path]]) -> None:
    """`enrol open ARGV --count N` running; each (command line, store) joins with the next code."""
    opener = subprocess.Popen(
        [*argv, "--interface", "127.0.0.1", "--json", "--count", str(len(joiners))],
        cwd=cwd,
        env=_environ() | ({"PYTHONPATH": str(cwd)} if argv[0] == sys.executable else {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert opener.stdout is not None
        for run, store in joiners:
            offer = json.loads(opener.stdout.readline())
            peer = f"127.0.0.1:{offer['port']}"
            ok(run("enrol", "join", "--code", offer["code"], "--peer", peer, "--store", store))
            assert "enrolled" in json.loads(opener.stdout.readline())
        assert opener.wait(timeout=30) == 0, opener.stderr.read() if opener.stderr else ""
    finally:
        if opener.poll() is None:
            opener.kill()
            opener.wait(timeout=30)


def synced(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The one peer's report of a `sync --json`, which must have gone through with nothing refused."""
    (report,) = json.loads(result.stdout)["peers"]
    assert report["error"] is None and result.returncode == 0, (report["error"], result.stderr)
    assert report["refused"] == 0 and report["refusals"] == [], report
    return report


def new_case(run: Any, store: Path, summary: str, village: str = VILLAGE) -> str:
    out = ok(
        run(
            "case", "new", "--store", store, "--village", village, "--category", "land", "--risk", "orange",
            "--summary", summary, "--party", "测试甲:13800000000", "--json",
        )
    )  # fmt: skip
    return str(json.loads(out)["id"])


def held(store: Path) -> tuple[dict[str, Any], list[str]]:
    """Read with the storage layer alone: each log's head (seq, hash), and the kinds of all entries."""
    db = FieldDB.open(store, PASSPHRASE)
    try:
        chains, ops = db.keyed("chains").raw(), db.keyed("ops").raw()
        heads = {chain: (int(doc["seq"]), bytes(doc["hash"])) for chain, doc in chains.items()}
        kinds = sorted(decode_trusted(bytes(e["b"]), bytes(e["s"])).kind for e in ops.values())
    finally:
        db.close()
    return heads, kinds


def test_previous_release_relays_a_newer_kind_and_all_converge_after_upgrading(tmp_path: Path) -> None:
    release, commit = previous_release()
    started = time.monotonic()
    old = Old(built_release(commit), tmp_path)
    built = time.monotonic()
    assert ok(old("--version")).strip() == f"fieldapp {release.name}"
    root = Path(__file__).resolve().parent.parent
    S, A, B, E = tmp_path / "S", tmp_path / "A", tmp_path / "B", tmp_path / "E"

    # All on the previous release: a station, two officers enrolled over loopback, a case each.
    ok(old("init", "--officer", "所长甲", "--role", "supervisor", "--store", S))
    ok(old("station", "create", "--name", "测试派出所", "--store", S))
    for store, officer in ((A, "辅警乙"), (B, "辅警丙")):
        ok(old("init", "--officer", officer, "--store", store))
    enrol(old.argv("enrol", "open", "--store", S), tmp_path, [(old, A), (old, B)])
    new_case(old, S, "田界纠纷一")
    new_case(old, A, "田界纠纷二")
    new_case(old, B, "宅基地纠纷", village="西坡村")
    with serving(old.argv("serve", "--store", S), tmp_path) as station:
        for store in (A, B, A):
            synced(old("sync", "--store", store, "--peer", station, "--json"))
    assert len({ok(old("state-hash", "--store", d)) for d in (S, A, B)}) == 1

    # S upgrades: this code on its store places the village in a police area and records a case.
    ok(current("store", "check", "--store", S))
    ok(current("area", "set", VILLAGE, AREA, "--store", S))
    upgraded_case = new_case(current, S, "灌溉纠纷")
    # ...and a visit written up later, with the time it happened (a payload field it does not know).
    happened = (datetime.now().astimezone() - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    logged = ("visit", "add", upgraded_case, "--kind", "home", "--note", "上门走访", "--at", happened)
    ok(current(*logged, "--store", S))
    # ... and enrols E (`device.enrol`, a kind the previous release does not know), which is lost
    # before it ever syncs and revoked at once: a revocation the previous release cannot count
    # (it does not know E), until it is upgraded.
    ok(current("init", "--officer", "辅警丁", "--store", E))
    enrol([sys.executable, "-m", "fieldapp", "enrol", "open", "--store", S], root, [(current, E)])
    listed = json.loads(ok(current("device", "list", "--store", S, "--json")))
    [lost] = [row for row in listed if row["never_synced"]]
    ok(current("device", "revoke", lost["device_id"], "--reason", "首次巡逻遗失", "--store", S))

    # A (previous release) syncs with S; B (previous release) gets it from A alone.
    with serving([sys.executable, "-m", "fieldapp", "serve", "--store", S], root) as station:
        from_s = synced(old("sync", "--store", A, "--peer", station, "--json"))
    assert from_s["received"] >= 2  # the placement and the case, at least
    with serving(old.argv("serve", "--store", A), tmp_path) as officer_a:
        from_a = synced(old("sync", "--store", B, "--peer", officer_a, "--json"))
    assert from_a["received"] == from_s["received"]
    for store in (A, B):
        assert upgraded_case in ok(old("case", "list", "--store", store, "--json"))
        ok(old("store", "check", "--store", store))
        # The previous release takes the visit without its time: shown when it was recorded.
        (visit,) = json.loads(ok(old("case", "show", upgraded_case, "--store", store, "--json")))["visits"]
        assert visit["note"] == "上门走访" and "occurred" not in visit

    # A and B upgrade; everyone syncs with S (A twice, to get what B brought).
    with serving([sys.executable, "-m", "fieldapp", "serve", "--store", S], root) as station:
        for store in (A, B, A):
            synced(current("sync", "--store", store, "--peer", station, "--json"))
    scenario = time.monotonic()

    heads = {d.name: held(d) for d in (S, A, B)}
    assert heads["S"] == heads["A"] == heads["B"], "the three devices do not hold the same operations"
    assert "village.area" in heads["B"][1], "B never received the placement through A"
    assert "device.enrol" in heads["B"][1], "B never received the enrolment through A"
    for d in (S, A, B):
        rows = {r["device_id"]: r for r in json.loads(ok(current("device", "list", "--store", d, "--json")))}
        row = rows[lost["device_id"]]
        assert (row["officer"], row["never_synced"]) == ("辅警丁", True), f"{d.name}: {row}"
        assert row["revoked"] is not None and row["revoked"]["reason"] == "首次巡逻遗失", f"{d.name}: {row}"
    areas = {d.name: json.loads(ok(current("area", "list", "--store", d, "--json"))) for d in (S, A, B)}
    for name, rows in areas.items():
        assert {"village": VILLAGE, "area": AREA} in rows, f"{name} does not show the placement: {rows}"
    hashes = {d.name: ok(current("state-hash", "--store", d)).strip() for d in (S, A, B)}
    assert len(set(hashes.values())) == 1, f"same operations, different state hashes: {hashes}"
    for d in (A, B):  # upgraded, they fold the visit's time
        (visit,) = json.loads(ok(current("case", "show", upgraded_case, "--store", d, "--json")))["visits"]
        occurred = datetime.fromisoformat(visit["occurred"]).astimezone().strftime("%Y-%m-%d %H:%M")
        assert occurred == happened
    print(
        f"rolling upgrade {release.name} -> {__version__}: build {built - started:.1f} s, "
        f"scenario {scenario - built:.1f} s"
    )


def test_previous_release_devices_and_this_code_accept_each_others_certificates(tmp_path: Path) -> None:
    """The certificates this code issues, met by the previous release's code, at enrolment and in sync.

    A is enrolled by the previous release (its certificate has the old shape, OU = role). Then S,
    the station authority, runs this code (it renews its own certificates at its first serve or
    sync) and enrols C, which runs this code, and D, which runs the previous release: C's and
    D's certificates are of the current profile. The previous release's `enrol join` takes D's
    answer, and every pair of an old-code device and a current-profile certificate syncs both
    ways (each side once listening, once connecting), with nothing refused.
    """
    release, commit = previous_release()
    old = Old(built_release(commit), tmp_path)
    root = Path(__file__).resolve().parent.parent
    S, A, C, D = tmp_path / "S", tmp_path / "A", tmp_path / "C", tmp_path / "D"
    this = [sys.executable, "-m", "fieldapp"]

    ok(old("init", "--officer", "所长甲", "--role", "supervisor", "--store", S))
    ok(old("station", "create", "--name", "测试派出所", "--store", S))
    ok(old("init", "--officer", "辅警乙", "--store", A))
    enrol(old.argv("enrol", "open", "--store", S), tmp_path, [(old, A)])
    new_case(old, A, "田界纠纷二")

    # S upgrades and enrols C (this code) and D (the previous release) with this code.
    ok(current("store", "check", "--store", S))
    ok(current("init", "--officer", "辅警丙", "--store", C))
    ok(old("init", "--officer", "辅警丁", "--store", D))
    enrol([*this, "enrol", "open", "--store", S], root, [(current, C), (old, D)])
    for run, store in ((current, S), (current, C), (old, D)):
        new_case(run, store, f"{store.name} 的记录")

    # Each pair once with each side listening: (listening, its command line, connecting, its).
    pairs = [
        (S, this, A, old),  # the upgraded authority's certificate, read by the previous release
        (A, old.argv(), S, current),
        (C, this, A, old),  # a certificate this code issued at enrolment, read by the previous release
        (A, old.argv(), C, current),
        (D, old.argv(), A, old),  # the same, held by a device still on the previous release
        (A, old.argv(), D, old),
        (S, this, D, old),
        (D, old.argv(), S, current),
    ]
    for listening, argv, connecting, run in pairs:
        with serving([*argv, "serve", "--store", listening], root if argv == this else tmp_path) as peer:
            synced(run("sync", "--store", connecting, "--peer", peer, "--json"))
    with serving([*this, "serve", "--store", S], root) as station:
        for run, store in ((old, A), (current, C), (old, D), (old, A), (current, C)):
            synced(run("sync", "--store", store, "--peer", station, "--json"))
    heads = {d.name: held(d)[0] for d in (S, A, C, D)}
    assert heads["S"] == heads["A"] == heads["C"] == heads["D"], "the devices do not hold the same operations"


# The kinds in a store's log, read by the previous release's own storage layer (its venv's python),
# so a store still on the previous release is never opened by this code.
_OLD_KINDS = """
import json, os, sys
from pathlib import Path
from storage import FieldDB
from sync.ops import decode_trusted
db = FieldDB.open(Path(sys.argv[1]), os.environ["FIELDAPP_PASSPHRASE"])
try:
    entries = db.keyed("ops").raw().values()
    print(json.dumps(sorted(decode_trusted(bytes(e["b"]), bytes(e["s"])).kind for e in entries)))
finally:
    db.close()
"""


def person_kinds(kinds: list[str]) -> dict[str, int]:
    """How many operations of each person kind a list of kinds holds."""
    return {kind: kinds.count(kind) for kind in sorted(set(kinds)) if kind.startswith("person.")}


@pytest.mark.timeout(600)
def test_previous_release_relays_person_operations_and_all_show_the_same_persons_after_upgrading(
    tmp_path: Path,
) -> None:
    """Person operations (issue 17) written by this code, through devices on the previous release.

    On the previous release: a station S and two officers' devices A and B, each officer
    recording a case in one village with the same four parties: a mobile (A writes it
    `+86 138-0000-1111`, which the previous release takes as typed; B `13800001111`) and three
    names without one. S upgrades and enrols C, a device on this code. S links the two 王五
    (`person.link`), says the two 赵六 are not one (`person.unlink` of a proposal), links the two
    钱七 while C, not having seen it, unlinks them (a concurrent link and unlink), and marks the
    mobile's person a key person with a plan, A's device and a due date (`person.key`). A,
    still on the previous release, syncs with S and with C; B (previous release) syncs with A
    alone. A and B store all five person operations, refusing none (the previous release does
    not count operations waiting for a newer version). Once upgraded, B shows, before syncing
    with anyone, the persons the others show; after everyone syncs, the four devices hold the
    same operations, show the same persons (`person list` and `person show --json`), count
    nothing waiting and report the same state hash.
    """
    release, commit = previous_release()
    started = time.monotonic()
    old = Old(built_release(commit), tmp_path)
    built = time.monotonic()
    root = Path(__file__).resolve().parent.parent
    this = [sys.executable, "-m", "fieldapp"]
    S, A, B, C = tmp_path / "S", tmp_path / "A", tmp_path / "B", tmp_path / "C"
    written = "+86 138-0000-1111"

    # All on the previous release: a station, two officers, a case each with the same parties.
    ok(old("init", "--officer", "所长甲", "--role", "supervisor", "--store", S))
    ok(old("station", "create", "--name", "测试派出所", "--store", S))
    for store, officer in ((A, "辅警乙"), (B, "辅警丙")):
        ok(old("init", "--officer", officer, "--store", store))
    enrol(old.argv("enrol", "open", "--store", S), tmp_path, [(old, A), (old, B)])
    cases = {}
    for store, mobile in ((A, written), (B, "13800001111")):
        parties = ("--party", f"测试乙:{mobile}", "--party", "王五", "--party", "赵六", "--party", "钱七")
        out = ok(
            old(
                "case", "new", "--store", store, "--village", VILLAGE, "--category", "land", "--risk",
                "orange", "--summary", f"{store.name} 的田界纠纷", *parties, "--json",
            )
        )  # fmt: skip
        cases[store.name] = str(json.loads(out)["id"])
    with serving(old.argv("serve", "--store", S), tmp_path) as station:
        for store in (A, B):
            synced(old("sync", "--store", store, "--peer", station, "--json"))

    # S upgrades and enrols C, a device on this code, which takes the cases from S.
    ok(current("store", "check", "--store", S))
    ok(current("init", "--officer", "辅警丁", "--store", C))
    enrol([*this, "enrol", "open", "--store", S], root, [(current, C)])
    with serving([*this, "serve", "--store", S], root) as station:
        synced(current("sync", "--store", C, "--peer", station, "--json"))

    # The persons of the two cases as S sees them: (first name, case) -> person id.
    ids = {}
    for person in json.loads(ok(current("person", "list", "--store", S, "--json"))):
        for case in person["cases"]:
            ids[person["names"][0], case["id"]] = person["id"]
    a_case, b_case = cases["A"], cases["B"]
    mobile = ids["测试乙", a_case]
    assert ids["测试乙", b_case] == mobile, "the mobile written two ways is not one person"
    pairs = {name: (ids[name, a_case], ids[name, b_case]) for name in ("王五", "赵六", "钱七")}
    proposed = json.loads(ok(current("person", "show", pairs["赵六"][0], "--store", S, "--json")))[
        "proposals"
    ]
    assert pairs["赵六"][1] in proposed, f"the same name in one village is not proposed: {proposed}"

    # S links 王五, unlinks 赵六, links 钱七 and marks the mobile's person; C unlinks 钱七 unseen.
    listed_devices = json.loads(ok(current("device", "list", "--store", S, "--json")))
    devices = {row["officer"]: row["device_id"] for row in listed_devices}
    due = (datetime.now().astimezone() + timedelta(days=14)).strftime("%Y-%m-%d")
    plan = "每周上门走访一次，调解田界"
    ok(current("person", "link", *pairs["王五"], "--store", S))
    ok(current("person", "unlink", *pairs["赵六"], "--store", S))
    ok(current("person", "link", *pairs["钱七"], "--store", S))
    key = ("person", "key", mobile, "--plan", plan, "--officer", devices["辅警乙"], "--due", due)
    ok(current(*key, "--store", S))
    ok(current("person", "unlink", *pairs["钱七"], "--store", C))
    made = {"person.key": 1, "person.link": 2, "person.unlink": 2}

    # A (previous release) syncs with S, then with C; B (previous release) with A alone.
    with serving([*this, "serve", "--store", S], root) as station:
        from_s = synced(old("sync", "--store", A, "--peer", station, "--json"))
    with serving([*this, "serve", "--store", C], root) as device_c:
        from_c = synced(old("sync", "--store", A, "--peer", device_c, "--json"))
    with serving(old.argv("serve", "--store", A), tmp_path) as officer_a:
        from_a = synced(old("sync", "--store", B, "--peer", officer_a, "--json"))
    for report in (from_s, from_c, from_a):
        assert report["held_back"] == 0 and report["applied"] == report["received"], report
    for store in (A, B):
        kinds = json.loads(ok(subprocess.run(
            [str(old.python), "-I", "-c", _OLD_KINDS, str(store)],
            cwd=tmp_path, env=_environ(), capture_output=True, text=True, timeout=60,
        )))  # fmt: skip
        assert person_kinds(kinds) == made, f"{store.name} on {release.name}: {person_kinds(kinds)}"
        # The previous release shows the mobile as A wrote it.
        shown = json.loads(ok(old("case", "show", a_case, "--store", store, "--json")))
        assert {"name": "测试乙", "phone": written, "role": "party"} in shown["parties"], shown["parties"]

    # A and B upgrade. B shows the persons before syncing with anyone on this code.
    ok(current("store", "check", "--store", B))
    b_alone = json.loads(ok(current("person", "list", "--store", B, "--json")))

    # Everyone syncs with S (A again at the end, to get what B brought).
    with serving([*this, "serve", "--store", S], root) as station:
        for store in (A, B, C, A):
            result = current("sync", "--store", store, "--peer", station, "--json")
            synced(result)
            assert json.loads(result.stdout)["waiting"] == 0, f"{store.name}: {result.stdout}"
    scenario = time.monotonic()

    everyone = (S, A, B, C)
    heads = {d.name: held(d) for d in everyone}
    assert heads["S"] == heads["A"] == heads["B"] == heads["C"], "the devices do not hold the same operations"
    assert person_kinds(heads["S"][1]) == made
    # Every person with its ids, mark and plan (`person list --json`: as `person show`, less the
    # proposals and disputed links, shown below for the persons they concern).
    listed = {d.name: json.loads(ok(current("person", "list", "--store", d, "--json"))) for d in everyone}
    for name, persons in listed.items():
        assert persons == b_alone, f"{name} lists other persons than B, upgraded, did before syncing"
    shown_ids = (mobile, pairs["赵六"][0], pairs["钱七"][0])
    show = ("person", "show")
    views = {
        d.name: {i: json.loads(ok(current(*show, i, "--store", d, "--json"))) for i in shown_ids}
        for d in everyone
    }
    for name in ("A", "B", "C"):
        assert views[name] == views["S"], f"{name} shows other persons than S"
    by_id = {p["id"]: p for p in b_alone}
    key_person = views["B"][mobile]
    assert (key_person["key"], key_person["plan"], key_person["officer"], key_person["due"]) == (
        True, plan, devices["辅警乙"], due,
    )  # fmt: skip
    assert key_person["phones"] == ["13800001111"]
    assert sorted(c["id"] for c in key_person["cases"]) == sorted([a_case, b_case])
    [wang] = [p for p in b_alone if set(pairs["王五"]) <= {p["id"], *p["aliases"]}]
    assert len(wang["aliases"]) == 1 and len(wang["cases"]) == 2, wang
    assert by_id[pairs["赵六"][0]]["aliases"] == by_id[pairs["赵六"][1]]["aliases"] == []
    assert pairs["赵六"][1] not in views["B"][pairs["赵六"][0]]["proposals"], "the unlink did not count"
    qian = views["B"][pairs["钱七"][0]]
    assert qian["disputed_links"] == [sorted(pairs["钱七"])], qian
    # Upgraded, B still shows the mobile as A wrote it.
    shown = json.loads(ok(current("case", "show", a_case, "--store", B, "--json")))
    assert {"name": "测试乙", "phone": written, "role": "party"} in shown["parties"], shown["parties"]
    hashed = {d.name: current("state-hash", "--store", d) for d in everyone}
    hashes = {name: ok(result).strip() for name, result in hashed.items()}
    for name, result in hashed.items():  # records waiting for a newer version would be named here
        assert result.stderr == "", f"{name}: {result.stderr}"
    assert len(set(hashes.values())) == 1, f"same operations, different state hashes: {hashes}"
    print(
        f"person operations through {release.name} -> {__version__}: build {built - started:.1f} s, "
        f"scenario {scenario - built:.1f} s, checks {time.monotonic() - scenario:.1f} s"
    )
