#!/usr/bin/env python3
"""Benchmarks of fieldapp: ``python scripts/bench.py {store,kdf,merge,sync,ui,supervisor,persons,draw} ...``.

Every figure is one JSON object on its own stdout line::

    {"bench": "store", "name": ..., "value": ..., "unit": ..., "ratio_vs": {...}, "impl": ...}

Figures of fieldapp (impl "fieldapp") carry plain names and ratios against the bench's
references for the same name; reference figures are named "<impl>.<name>" in the store
bench and "<impl>_<name>" in the merge and sync benches. Progress and commentary go to stderr. All
data lives in a temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# The benches live beside this script (its directory is on sys.path when it runs).
from bench_draw import add_options as add_draw_options
from bench_draw import bench_draw
from bench_merge import bench_merge
from bench_persons import add_options as add_persons_options
from bench_persons import bench_persons
from bench_store import IMPLS, bench_kdf, bench_store, unlock_child
from bench_supervisor import bench_supervisor
from bench_sync import bench_sync
from bench_ui import add_station_options, bench_ui


def parse_sizes(text: str) -> list[int]:
    """ "1000,10000" -> [1000, 10000]."""
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, comma-separated")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per bench."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{store,kdf,merge,sync,ui,supervisor,persons,draw}"
    )
    store = sub.add_parser(
        "store",
        help="encrypted store vs sqlite3 vs naive encrypted TinyDB",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = store.add_argument
    add("--sizes", type=parse_sizes, default="1000,10000,100000", help="records per store")
    add("--saves", type=int, default=200, help="timed saves per op and size")
    add(
        "--naive-saves",
        type=int,
        default=5,
        help="naive saves at the largest size (proportionally more at smaller sizes, up to --saves)",
    )
    add("--naive-budget", type=float, default=30.0, help="seconds of naive saves per op and size")
    add("--unlock-runs", type=int, default=3, help="unlock timings to take the median of")
    add("--kdf-fast", action="store_true", help="cheap KDF (for smoke tests)")
    add("--seed", type=int, default=20240611, help="seed of the fake records")
    add("--workdir", type=Path, help="make the temporary data directory in this one")
    store.set_defaults(func=bench_store)
    kdf = sub.add_parser(
        "kdf",
        help="the Argon2id cost of an unlock alone (median of --runs), no store built",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    kdf.add_argument("--runs", type=int, default=15, help="unwraps to take the median of")
    kdf.add_argument("--kdf-fast", action="store_true", help="cheap KDF (for smoke tests)")
    kdf.set_defaults(func=bench_kdf)
    merge = sub.add_parser(
        "merge",
        help="a station verifies and applies many devices' offline work vs pycrdt",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = merge.add_argument
    add("--devices", type=int, default=30, help="devices working offline")
    add("--ops", type=int, default=1000, help="operations each device records")
    add("--records", type=int, default=100_000, help="records already in the receiving station's store")
    add("--shared", type=int, default=10, help="shared cases per device, known to all before going out")
    add("--repeats", type=int, default=3, help="timed applies (fresh store copies) to take the median of")
    add("--seed", type=int, default=20240611, help="seed of the fake work")
    add("--workdir", type=Path, help="make the temporary data directory in this one")
    merge.set_defaults(func=bench_merge)
    sync = sub.add_parser(
        "sync",
        help="LAN sync of two enrolled devices over TLS on loopback: bytes on the wire and time",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = sync.add_argument
    add("--sizes", type=parse_sizes, default="1000,10000", help="new operations on the officer's device")
    add("--repeats", type=int, default=3, help="syncs (fresh station copies) to take the median of")
    add("--shared", type=int, default=20, help="cases the station assigned to the officer before")
    add("--quick", action="store_true", help="a tiny run (40 operations, 1 repeat) for the smoke test")
    add("--seed", type=int, default=20240611, help="seed of the fake work")
    add("--workdir", type=Path, help="make the temporary data directory in this one")
    sync.set_defaults(func=bench_sync)
    ui = sub.add_parser(
        "ui",
        help="the TUI on a large store: unlock, home interactive, find screen, a keystroke in the filter",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_station_options(ui, repeats=5, quick_cases=2000)
    ui.set_defaults(func=bench_ui)
    sup = sub.add_parser(
        "supervisor",
        help="the supervisor's screen on a station's whole caseload: open, tabs, refresh, a decision",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_station_options(sup, repeats=3, quick_cases=1000)
    sup.set_defaults(func=bench_supervisor)
    persons = sub.add_parser(
        "persons",
        help="the early warning at intake: the person index on a station's caseload, one lookup",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_persons_options(persons)
    persons.set_defaults(func=bench_persons)
    draw = sub.add_parser(
        "draw",
        help="our whole-character compositor against Textual's: the supervisor's screen, Find, a keystroke",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_draw_options(draw)
    draw.set_defaults(func=bench_draw)
    child = sub.add_parser("_unlock-child")
    child.add_argument("impl", choices=IMPLS)
    child.add_argument("directory", type=Path)
    child.set_defaults(func=unlock_child)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
