"""Command-line commands that record and read cases: case, visit, state-hash, ops."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fieldapp import i18n
from fieldapp.core.device import default_store_dir
from fieldapp.core.passphrase import read_passphrase
from fieldapp.core.service import CaseError, CaseService
from fieldapp.domain import model
from fieldapp.domain.documents import PublicCase
from fieldapp.domain.fields import normalise_phone, party_problem
from fieldapp.i18n import Translator, detect_language
from fieldapp.i18n.bundle import bilingual
from fieldapp.i18n.rules import refused_text, rejection_text, render
from storage.files import atomic_write

AddCommon = Callable[[argparse.ArgumentParser], None]


@contextmanager
def service_for(args: argparse.Namespace) -> Iterator[CaseService]:
    """This device's case service for a command, closed (locked) afterwards."""
    store_dir = args.store if args.store is not None else default_store_dir()
    service = CaseService.open(store_dir, read_passphrase(args.passphrase_file))
    try:
        yield service
    finally:
        service.close()


def _print_case(args: argparse.Namespace, case: PublicCase, headline: str) -> None:
    if args.json:
        print(json.dumps(case, ensure_ascii=False, default=_bytes_hex))
        return
    print(headline)
    print(f"  {case['id']}  {case['status']}  {case['risk']}  {case['village']}  {case['category']}")
    print(f"  {case['summary']}")
    for party in case["parties"]:
        print(f"  party: {party['name']} {party.get('phone', '')}")
    if case["deadline"]:
        print(f"  deadline: {case['deadline']}")
    for visit in case["visits"]:
        print(f"  visit {visit['at']} {visit['kind']}: {visit['note']}")
    for conflict in case["conflicts"]:
        if conflict["open"]:
            values = " / ".join(str(v["value"]) for v in conflict["values"])
            print(f"  CONFLICT on {conflict['field']}: {values} (review needed)")
    language = getattr(args, "lang", None) or detect_language()
    for refused in case.get("refused", []):
        print(f"  refused {refused['kind']} by {refused['author']}: {refused_text(refused, language)}")


def _bytes_hex(value: object) -> str:
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot show {type(value).__name__}")


def _party(text: str) -> dict[str, str]:
    """A party from `--party NAME[:PHONE]`, checked as the intake form checks it
    (`fieldapp.domain.fields.party_problem`); refused with the rule's message in both languages."""
    name, _, phone = text.partition(":")
    problem = party_problem(name, phone)
    if problem is not None:
        raise CaseError(f"--party {text}: " + render(problem.code, problem.params, "en"), problem)
    return {"name": name.strip(), "phone": normalise_phone(phone), "role": "party"}


def cmd_case_new(args: argparse.Namespace) -> int:
    """Record an intake."""
    parties = [_party(p) for p in args.party]  # checked before the store is opened
    with service_for(args) as service:
        deadline = model.parse_deadline(args.deadline) if args.deadline else None
        case = service.new_case(
            village=args.village,
            category=args.category,
            risk=args.risk,
            summary=args.summary,
            parties=parties,
            source=args.source,
            flags=args.flag,
            deadline=deadline,
        )
    _print_case(args, case, f"Recorded case {case['id']}.")
    return 0


def cmd_case_list(args: argparse.Namespace) -> int:
    """List cases matching filters."""
    with service_for(args) as service:
        found = service.cases(status=args.status, risk=args.risk, village=args.village, overdue=args.overdue)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, default=_bytes_hex))
        return 0
    for case in found:
        print(
            f"{case['id']}  {case['status']:<11} {case['risk']:<6} {case['deadline'] or '-':<10}  "
            f"{case['village']}  {case['summary'][:40]}"
        )
    print(f"{len(found)} case(s).")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    """Show one case with visits, history and conflicts."""
    with service_for(args) as service:
        case = service.case(args.id)
    _print_case(args, case, f"Case {case['id']}")
    return 0


def cmd_case_update(args: argparse.Namespace) -> int:
    """Change fields, status, assignment, or add a note."""
    fields: dict[str, Any] = {}
    for name in ("risk", "village", "category", "summary", "source"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.deadline is not None:
        fields["deadline"] = model.parse_deadline(args.deadline)
    if args.tier is not None and args.status != "escalated":
        fields["tier"] = args.tier
    outcome = {"kind": args.outcome, "terms": args.terms or ""} if args.outcome else None
    referral = (
        {"department": args.department or "", "notified": args.notified or ""} if args.department else None
    )
    with service_for(args) as service:
        case = service.update(
            args.id,
            fields=fields,
            status=args.status,
            reason=args.reason or "",
            tier=args.tier,
            referral=referral,
            outcome=outcome,
            assign=args.assign,
            note=args.note,
        )
    _print_case(args, case, f"Updated case {case['id']}.")
    return 0


def cmd_case_reopen(args: argparse.Namespace) -> int:
    """Reopen a case that flared up again."""
    with service_for(args) as service:
        case = service.reopen(args.id, args.reason)
    _print_case(args, case, f"Reopened case {case['id']}.")
    return 0


def cmd_case_claim(args: argparse.Namespace) -> int:
    """Claim a case."""
    with service_for(args) as service:
        case = service.claim(args.id)
    _print_case(args, case, f"Claimed case {case['id']}.")
    return 0


def cmd_case_approve(args: argparse.Namespace) -> int:
    """Approve a pending escalation (supervisor)."""
    with service_for(args) as service:
        case = service.approve_escalation(args.id)
    _print_case(args, case, f"Approved the escalation of case {case['id']}.")
    return 0


def cmd_visit_add(args: argparse.Namespace) -> int:
    """Log a visit."""
    with service_for(args) as service:
        case = service.add_visit(args.id, args.kind, args.note, args.place, args.participants)
    _print_case(args, case, f"Logged a {args.kind} visit on case {case['id']}.")
    return 0


def cmd_state_hash(args: argparse.Namespace) -> int:
    """Print the digest of the materialized view."""
    with service_for(args) as service:
        print(service.state_hash())
        i18n.set_language(args.lang or detect_language())
        notice = service.waiting_notice()
    if notice:  # the hash is of what this version folds: say that more is held
        print(notice, file=sys.stderr)
    return 0


def cmd_ops_export(args: argparse.Namespace) -> int:
    """Write every operation this device holds to a file, encrypted for the station's devices
    unless --plaintext (then with a warning on stderr)."""
    with service_for(args) as service:
        data = service.export_ops(plaintext=args.plaintext)
        count = sum(1 for _ in service.replica.entries_missing_from({}))
        station = service.replica.station
        recipients = [] if args.plaintext else sorted({r.id for r in service.bundle_recipients()})
    atomic_write(args.out, data)
    if args.plaintext:
        print(bilingual("bundle.plaintext_warning", out=args.out), file=sys.stderr)
    result = {
        "operations": count,
        "bytes": len(data),
        "out": str(args.out),
        "encrypted": not args.plaintext,
        "station": station,
        "recipients": recipients,
    }
    if args.json:
        print(json.dumps(result))
        return 0
    translator = Translator(args.lang or detect_language())
    fields = {"count": count, "size": len(data), "out": args.out}
    if args.plaintext:
        print(translator.t("bundle.exported_plain", **fields))
    else:
        devices = sum(1 for r in recipients if r != station)
        print(translator.t("bundle.exported", **fields, devices=devices, station=station))
    return 0


def cmd_ops_import(args: argparse.Namespace) -> int:
    """Verify and merge an operations file."""
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CaseError(f"Cannot read {args.file}: {exc.strerror}.") from None
    with service_for(args) as service:
        report = service.import_ops(data)
    refused = [
        {
            "code": r.code,
            "params": r.params,
            "reason": r.reason,
            "author": r.author,
            "epoch": r.epoch,
            "seq": r.seq,
        }
        for r in report.rejections
    ]
    result = {
        "applied": report.applied,
        "duplicates": report.duplicates,
        "held_back": report.held_back,
        "forks": report.forks,
        "refused": refused,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"Applied {report.applied} new operations ({report.duplicates} already held).")
        language = getattr(args, "lang", None) or detect_language()
        for r in refused:
            print(f"  refused {r['author']} #{r['seq']}: {rejection_text(r, language)}")
        if report.held_back:
            print(f"  {report.held_back} waiting for earlier operations of their device.")
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add the case, visit, state-hash and ops commands to the parser."""
    case = sub.add_parser("case", help="record and read cases").add_subparsers(
        dest="case_command", metavar="ACTION", required=True
    )
    p = case.add_parser("new", help="record an intake")
    common(p)
    p.add_argument("--village", required=True)
    p.add_argument("--category", required=True, choices=model.CATEGORIES)
    p.add_argument("--risk", required=True, choices=model.RISKS)
    p.add_argument("--summary", required=True)
    p.add_argument("--party", action="append", default=[], metavar="NAME[:PHONE]")
    p.add_argument("--source", default="patrol", choices=model.SOURCES)
    p.add_argument("--flag", action="append", default=[], choices=model.FLAGS)
    p.add_argument("--deadline", metavar="YYYY-MM-DD")
    p.set_defaults(handler=cmd_case_new)

    p = case.add_parser("list", help="list cases")
    common(p)
    p.add_argument("--status", choices=model.STATUSES)
    p.add_argument("--risk", choices=model.RISKS)
    p.add_argument("--village")
    p.add_argument("--overdue", action="store_true", help="past the deadline and not resolved")
    p.set_defaults(handler=cmd_case_list)

    p = case.add_parser("show", help="one case with visits, history and conflicts")
    common(p)
    p.add_argument("id")
    p.set_defaults(handler=cmd_case_show)

    p = case.add_parser("update", help="change a case")
    common(p)
    p.add_argument("id")
    p.add_argument("--status", choices=model.STATUSES[1:])
    p.add_argument("--reason", help="why the status changes")
    p.add_argument("--risk", choices=model.RISKS)
    p.add_argument("--tier", type=int, choices=model.TIERS)
    p.add_argument("--assign", metavar="DEVICE_ID")
    p.add_argument("--deadline", metavar="YYYY-MM-DD")
    p.add_argument("--note")
    p.add_argument("--village")
    p.add_argument("--category", choices=model.CATEGORIES)
    p.add_argument("--summary")
    p.add_argument("--source", choices=model.SOURCES)
    p.add_argument("--outcome", choices=model.OUTCOMES, help="with --status resolved")
    p.add_argument("--terms", help="the mediation agreement's terms")
    p.add_argument("--department", help="with --status referred: the department")
    p.add_argument("--notified", help="with --status referred: how it was notified")
    p.set_defaults(handler=cmd_case_update)

    for name, handler, helptext in (
        ("claim", cmd_case_claim, "claim a case"),
        ("approve", cmd_case_approve, "supervisor: approve an escalation"),
    ):
        p = case.add_parser(name, help=helptext)
        common(p)
        p.add_argument("id")
        p.set_defaults(handler=handler)
    p = case.add_parser("reopen", help="reopen a resolved or closed case")
    common(p)
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    p.set_defaults(handler=cmd_case_reopen)

    visit = sub.add_parser("visit", help="log visits").add_subparsers(
        dest="visit_command", metavar="ACTION", required=True
    )
    p = visit.add_parser("add", help="log a visit on a case")
    common(p)
    p.add_argument("id")
    p.add_argument("--kind", required=True, choices=model.VISIT_KINDS)
    p.add_argument("--note", required=True)
    p.add_argument("--place", default="")
    p.add_argument("--participants", default="")
    p.set_defaults(handler=cmd_visit_add)

    p = sub.add_parser("state-hash", help="digest of the materialized view")
    common(p)
    p.set_defaults(handler=cmd_state_hash)

    ops = sub.add_parser("ops", help="operations to and from a file").add_subparsers(
        dest="ops_command", metavar="ACTION", required=True
    )
    p = ops.add_parser(
        "export", help="write every operation held to FILE, encrypted for the station's devices"
    )
    common(p)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--plaintext",
        action="store_true",
        help="write names and phones in clear (readable by anyone with the file)",
    )
    p.set_defaults(handler=cmd_ops_export)
    p = ops.add_parser("import", help="verify and merge an operations file")
    common(p)
    p.add_argument("file", type=Path)
    p.set_defaults(handler=cmd_ops_import)
