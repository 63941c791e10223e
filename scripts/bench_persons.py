#!/usr/bin/env python3
"""The early warning at intake on a station's caseload: ``python scripts/bench.py persons``.

Builds the store the ui bench builds (``--cases 17000``: a station's ~100k records, an officer's
device), opens it, and measures

- ``person_index_build_s``: building the person index afresh from the views (`PersonIndex` of the
  three views: what every user of it did before the index was kept, and what the store's kept
  index costs once after unlock, in a thread; median of ``--repeats`` builds);
- ``person_index_update_ms_k10``, ``person_index_update_ms_k100``: bringing the kept index current
  (`CaseService.person_index`: the change feed's ids, their documents copied, `PersonIndex.updated`)
  after K cases changed (a risk edit each, recorded here, as a landed session or local writes
  fold them); median of ``--repeats``, with the ratio to the fresh build;
- ``key_persons_kept_s``: the supervisor's key persons as its screen now lists them at a refresh
  after 10 cases changed: the kept index brought current, then listed (median of ``--repeats``);
- ``key_persons_s``: the supervisor's key persons (the Persons tab and the dashboard's figure):
  building the index afresh and listing them (`fieldapp.outputs.key_persons`), as the supervisor's
  screen did in a thread at each reading of the caseload before the index was kept;
- ``related_cases_ms``: one early-warning lookup as the intake form asks it while a party is typed
  (`PersonIndex.related_cases` for two parties: a known mobile, and a name without one in the
  case's village; median over ``--lookups`` lookups of parties drawn from the store, half of them
  unknown). Target: <= 50 ms (../shared/DESIGN.md, "Targets");
- ``warning_check_ms``: what the intake form does on the UI thread once the officer stops typing
  (`IntakeScreen._look_for_related`, without Textual's redraw): the same lookup, then the panel's
  lines (`fieldapp.tui.early_warning`: persons grouped, the summary and each case with its
  officer's name), for the same parties;
- ``index_copy_slice_ms``: the longest the UI thread is held while the form opens: copying one
  slice of the cases before the index is built in a thread
  (`fieldapp.tui.person_index_worker`; the largest of the slices).

Reference: ``dict_lookup_ms``, a plain dict from mobile number to the case ids holding it, asked the
same parties' mobiles (the least any lookup can cost). The figures are JSON lines on stdout
(`bench_common.emit`); commentary on stderr. All data lives in a temporary directory.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from bench_common import PASSPHRASE, emit, note, scratch_dir, sig
from bench_ui import add_station_options, build_store, size_label

from fieldapp.core.service import CaseService, officer_names
from fieldapp.domain.fields import station_today
from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import LINKS_TABLE, PERSONS_TABLE, identity_phone
from fieldapp.outputs.key_persons import key_persons
from fieldapp.tui.early_warning import case_lines, group_matches, summary_line
from fieldapp.tui.person_index_worker import COPY_SLICE

TARGET_MS = 50.0


def parties_to_ask(
    service: CaseService, rng: random.Random, lookups: int
) -> list[tuple[list[dict[str, str]], str]]:
    """`lookups` intakes being typed: (two parties, the case's village); half known, half new."""
    cases = [c for c in service.cases_view().values() if c["exists"] and c["parties"]]
    asked = []
    for n in range(lookups):
        case = rng.choice(cases)
        known = dict(rng.choice(case["parties"]))
        if n % 2:  # someone the station has not met: a new mobile, a new name
            known = {"name": known["name"] + "新", "phone": f"199{rng.randrange(10**8):08d}"}
        named = {"name": str(rng.choice(case["parties"])["name"]), "phone": ""}
        asked.append(([known, named], str(case["village"])))
    return asked


def bench_persons(args: argparse.Namespace) -> None:
    """The `persons` bench (see the module docstring)."""
    if args.quick:
        args.cases, args.repeats = min(args.cases, 1000), 1
        args.lookups = min(args.lookups, 200)
    label = size_label(args.cases)
    rng = random.Random(args.seed)
    figures: dict[tuple[str, str], float] = {}
    with scratch_dir(args.workdir) as root:
        note(f"data in {root}; building a store of {args.cases} cases")
        store, what = build_store(args, root, rng)
        service = CaseService.open(store, PASSPHRASE)
        try:
            service.cases_view()  # unlocked and folded: what the app holds when the form opens
            views = [service.replica.view(table) for table in ("cases", LINKS_TABLE, PERSONS_TABLE)]
            builds = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                index = PersonIndex(*views)
                builds.append(time.perf_counter() - t0)
            listings, listed = [], 0
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                listed = len(key_persons(PersonIndex(*views), service.cases_view(), station_today()))
                listings.append(time.perf_counter() - t0)
            updates = kept_updates(service, rng, args.repeats)
            kept_listings = []
            for _ in range(args.repeats):
                change_cases(service, rng, 10)
                t0 = time.perf_counter()
                kept = service.person_index()
                key_persons(kept, kept.documents, station_today())
                kept_listings.append(time.perf_counter() - t0)
            asked = parties_to_ask(service, rng, args.lookups)
            by_mobile: dict[str, list[str]] = {}
            for case_id, case in service.cases_view().items():
                for party in case["parties"]:
                    mobile = identity_phone(party.get("phone"))
                    if mobile:
                        by_mobile.setdefault(mobile, []).append(case_id)
            plain, ours, found = [], [], 0
            for parties, village in asked:
                mobile = parties[0]["phone"].replace("-", "")
                t0 = time.perf_counter()
                by_mobile.get(mobile)
                plain.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                related = index.related_cases(parties, village)
                ours.append(time.perf_counter() - t0)
                found += bool(related)
            persons = len(index)
            name_of = officer_names(service)
            checks = []
            for parties, village in asked:  # the form's path after its debounce
                t0 = time.perf_counter()
                matches = group_matches(service.related_cases(parties, village, index=index), index)
                if matches:
                    summary_line(matches, expanded=True)
                    case_lines(matches, name_of)
                checks.append(time.perf_counter() - t0)
            items = list(service.cases_view().items())
            slices = []
            for start in range(0, len(items), COPY_SLICE):
                t0 = time.perf_counter()
                {case_id: dict(doc) for case_id, doc in items[start : start + COPY_SLICE]}
                slices.append(time.perf_counter() - t0)
        finally:
            service.close()
    common: dict[str, Any] = {"cases": args.cases, "persons": persons, "store": what}
    lookup = statistics.median(ours) * 1000
    emit(figures, "dict_lookup", f"related_cases_ms_{label}", statistics.median(plain) * 1000, "ms",
         bench="persons", what="dict.get of the mobile, no index", lookups=len(plain))  # fmt: skip
    emit(figures, "fieldapp", f"related_cases_ms_{label}", lookup, "ms", bench="persons", target=TARGET_MS,
         met=lookup <= TARGET_MS, p95_ms=sig(sorted(ours)[int(0.95 * (len(ours) - 1))] * 1000),
         lookups=len(ours), with_related=found, **common)  # fmt: skip
    check = statistics.median(checks) * 1000
    emit(figures, "fieldapp", f"warning_check_ms_{label}", check, "ms", bench="persons", target=TARGET_MS,
         met=check <= TARGET_MS, p95_ms=sig(sorted(checks)[int(0.95 * (len(checks) - 1))] * 1000),
         lookups=len(checks), **common)  # fmt: skip
    emit(figures, "fieldapp", f"index_copy_slice_ms_{label}", max(slices) * 1000, "ms", bench="persons",
         slice=COPY_SLICE, slices=len(slices), **common)  # fmt: skip
    build = statistics.median(builds)
    name = f"person_index_build_s_{label}"
    emit(figures, "fieldapp", name, build, "s", bench="persons", repeats=len(builds), **common)
    emit(figures, "fieldapp", f"key_persons_s_{label}", statistics.median(listings), "s", bench="persons",
         repeats=len(listings), key_persons=listed, **common)  # fmt: skip
    emit(figures, "fieldapp", f"key_persons_kept_s_{label}", statistics.median(kept_listings), "s",
         bench="persons", repeats=len(kept_listings), changed_cases=10, **common)  # fmt: skip
    for k, times in updates.items():
        update = statistics.median(times) * 1000
        emit(figures, "fieldapp", f"person_index_update_ms_k{k}_{label}", update, "ms", bench="persons",
             repeats=len(times), changed_cases=k, build_over_update=sig(build * 1000 / update),
             **common)  # fmt: skip


def change_cases(service: CaseService, rng: random.Random, k: int) -> None:
    """K cases changed (a risk edit each), folded as a landed session's or local writes are."""
    ids = [c for c, doc in service.cases_view().items() if doc["exists"]]
    for case_id in rng.sample(ids, k):
        risk = service.cases_view()[case_id]["risk"]
        service.update(case_id, fields={"risk": "red" if risk != "red" else "yellow"})
    service.cases_view()  # folded


def kept_updates(service: CaseService, rng: random.Random, repeats: int) -> dict[int, list[float]]:
    """K -> seconds to bring the kept index current after K cases changed, `repeats` times each."""
    service.person_index()  # kept from here (the first time: a whole build)
    found: dict[int, list[float]] = {}
    for k in (10, 100):
        for _ in range(repeats):
            change_cases(service, rng, k)
            t0 = time.perf_counter()
            service.person_index()
            found.setdefault(k, []).append(time.perf_counter() - t0)
    return found


def add_options(parser: argparse.ArgumentParser) -> None:
    """The bench's options: the ui bench's station options, and how many lookups."""
    add_station_options(parser, repeats=3, quick_cases=1000)
    parser.add_argument("--lookups", type=int, default=2000, help="early-warning lookups to time")
