"""Child process for the crash test: saves in a loop and acknowledges each save on stdout.

Usage: store_crash_child.py STORE_DIR PASSPHRASE FIRST_N
A line "n" is printed only after the save of record n has returned (is durable).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from storage import FieldDB


def value_for(n: int) -> str:
    """The content the parent expects for record n."""
    return hashlib.sha256(str(n).encode()).hexdigest() * 3


def main() -> None:
    store_dir, passphrase, first = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    db = FieldDB.open(store_dir, passphrase)
    db.store.min_compact_bytes = 4096  # compact often, so kills land inside compactions too
    cases = db.table("cases")
    counter = db.table("counter")
    n = first
    while True:
        if n % 4 == 0:
            with db.transaction():
                cases.insert({"n": n, "v": value_for(n)})
                counter.upsert({"name": "last_tx", "n": n}, lambda d: d.get("name") == "last_tx")
        else:
            cases.insert({"n": n, "v": value_for(n)})
        sys.stdout.write(f"{n}\n")
        sys.stdout.flush()
        db.store.maybe_compact()  # what the app does when idle: kills land inside compactions too
        n += 1


if __name__ == "__main__":
    main()
