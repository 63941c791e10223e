"""Command-line commands that record and read cases: case, visit, state-hash, ops."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.cells import cell_len

from fieldapp import i18n
from fieldapp.core.device import default_store_dir
from fieldapp.core.passphrase import read_passphrase
from fieldapp.core.service import CaseError, CaseService, officer_names
from fieldapp.core.settings import device_language, remember_language
from fieldapp.domain import model
from fieldapp.domain.documents import ShownCase
from fieldapp.domain.fields import (
    VISIT_BACKDATE_DAYS,
    deadline_problem,
    normalise_phone,
    parties_problem,
    party_problem,
    station_today,
    summary_problem,
    visit_time,
    visit_time_problem,
)
from fieldapp.i18n import Translator, detect_language
from fieldapp.i18n import cli as _strings  # noqa: F401  (registers the command line's strings)
from fieldapp.i18n.bundle import bilingual
from fieldapp.i18n.rules import rejection_text, render
from fieldapp.tui.case_timeline import NameOf, local_time, outcome_text, timeline, value_text, vocab
from storage.files import atomic_write

AddCommon = Callable[[argparse.ArgumentParser], None]

# Help texts more than one command gives (each is translated by its English: fieldapp/i18n/usage.py).
#: A case named on the command line: exactly as `case list` prints it.
CASE_ID_HELP = "the case's id, as `fieldapp case list` shows it"
#: The categories, for a case's own `--category`.
CATEGORY_HELP = (
    "the kind of dispute: family, marriage, neighbor, land (field boundaries), homestead, irrigation, "
    "debt, wages, housing, injury, hazard (a safety hazard), other"
)
#: Filters of `case list` and `export`.
STATUS_FILTER_HELP = "only cases in this status: open, in_progress, escalated, referred, resolved, closed"
RISK_FILTER_HELP = "only cases of this risk level (red is the highest)"
SOURCES_HELP = (
    "how the police learnt of it: patrol, grid_report (a grid member's report), call_110 (a 110 call), "
    "walk_in (came to the station), villagers_meeting (the villagers' meeting)"
)


class CommandLineError(ValueError):
    """Wrong input to a command, said in the command's language (exit code 1)."""

    code = "command_error"


def language(args: argparse.Namespace) -> str:
    """The language a command speaks: --lang, else (once `service_for` has opened the store) the
    device's remembered choice, else the locale's (`fieldapp.core.settings`)."""
    return i18n.normalise_language(getattr(args, "lang", None) or detect_language())


def tr(args: argparse.Namespace) -> Translator:
    """A translator into the command's language (`language`)."""
    return Translator(language(args))


@contextmanager
def service_for(args: argparse.Namespace) -> Iterator[CaseService]:
    """This device's case service for a command, closed (locked) afterwards.

    Once the store is open the command speaks the device's language (`args.lang` is set to
    it); a `--lang` given is remembered when the command has done its work, so that a refused
    command writes nothing.
    """
    store_dir = args.store if args.store is not None else default_store_dir()
    given = getattr(args, "lang", None)
    service = CaseService.open(store_dir, read_passphrase(args.passphrase_file))
    try:
        args.lang = device_language(service.replica.local, given)
        yield service
        if given is not None:
            remember_language(service.replica.local, given)
    finally:
        service.close()


def _print_case(args: argparse.Namespace, case: ShownCase, headline: str, name_of: NameOf) -> None:
    """The case as `case show` prints it (`--json`: the document): its facts, then its history
    (visits, notes, status changes with their reasons, conflicts and refusals), in the command's
    language. The case screen's wording (`fieldapp.tui.case_timeline`, no Textual there)."""
    if args.json:
        print(json.dumps(case, ensure_ascii=False, default=_bytes_hex))
        return
    i18n.set_language(language(args))
    t = i18n.t
    print(headline)
    print(
        "  "
        + "  ".join(
            [case["id"], vocab("status", case["status"]), vocab("risk", case["risk"]), case["village"]]
            + [vocab("category", case["category"])]
        )
    )
    lines = [t("case.summary", summary=case["summary"])]
    status = t("case.status", status=vocab("status", case["status"]))
    if case["tier"] is not None:
        status += "   " + t("case.tier", tier=value_text("tier", case["tier"]))
    lines.append(status)
    lines.append(t("case.parties", parties=value_text("parties", case["parties"])))
    lines.append(t("case.assignee", name=name_of(case["assignee"]) if case["assignee"] else t("case.nobody")))
    deadline = t("case.deadline", date=case["deadline"] or t("case.none"))
    if model.is_overdue(case, station_today()):
        deadline += f"  {t('case.overdue')}"
    lines.append(deadline)
    referral = case.get("referral")
    if referral:
        lines.append(t("case.referral", **referral))
    if case.get("outcome"):
        lines.append(t("case.outcome", outcome=outcome_text(case["outcome"])))
    reason = closure_reason(case)
    if reason:
        lines.append(t("cli.case.closed", reason=reason))
    if case.get("followups"):
        dates = [
            t("case.followup_done" if f["done"] else "case.followup_due", due=f["due"])
            for f in case["followups"]
        ]
        lines.append(t("case.followups", dates=", ".join(dates)))
    reopened = case.get("reopened")
    if reopened and case["status"] != "resolved":
        by, at = name_of(reopened["by"]), local_time(reopened["at"])
        lines.append(t("case.reopened", name=by, at=at, reason=reopened["reason"]))
    lines.append(t("cli.case.visits", count=len(case["visits"])))
    for line in lines:
        print(f"  {line}")
    print(f"  {t('cli.case.history')}")
    entries = timeline(case, name_of)
    if not entries:
        print(f"    {t('case.timeline_empty')}")
    for entry in entries:
        print("  " + t("cli.case.history_line", at=entry.at, author=entry.author, text=entry.text))


def closure_reason(case: ShownCase) -> str:
    """Why a closed case was closed: the reason of the status change that closed it ("" if none)."""
    if case["status"] != "closed":
        return ""
    for item in reversed(case.get("history", [])):
        what = item.get("what", {})
        if item["kind"] == "case.status" and what.get("status") == "closed":
            return str(what.get("reason") or "")
    return ""


def pad(text: str, width: int) -> str:
    """`text` padded to `width` screen cells (a Chinese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


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


def _deadline(text: str) -> str:
    """`--deadline YYYY-MM-DD` as a person may type it now (`fields.deadline_problem`: a day that
    exists, not before the station's today, at most two years ahead); refused in both languages."""
    problem = deadline_problem(text)
    if problem is not None:
        raise CaseError(f"--deadline {text}: " + render(problem.code, problem.params, "en"), problem)
    return text.strip()


def cmd_case_new(args: argparse.Namespace) -> int:
    """Record an intake."""
    parties = [_party(p) for p in args.party]  # checked before the store is opened
    # As the intake form checks them (`fields.summary_problem`, `fields.parties_problem`).
    problem = summary_problem(args.summary) or parties_problem(args.category, parties)
    if problem is not None:
        raise CaseError(render(problem.code, problem.params, "en"), problem)
    deadline = _deadline(args.deadline) if args.deadline else None
    with service_for(args) as service:
        # The early warning: what the parties already have open or recent (docs/persons.md).
        related = service.related_cases(parties, args.village)
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
        if args.json:
            print(json.dumps(case | {"related_cases": related}, ensure_ascii=False, default=_bytes_hex))
            return 0
        _print_case(args, case, tr(args).t("cli.case.recorded", id=case["id"]), officer_names(service))
    if related:
        ids = tr(args).t("person.sep").join(c["id"] for c in related)
        print(tr(args).t("person.related", count=len(related), ids=ids))
    return 0


def cmd_case_list(args: argparse.Namespace) -> int:
    """List cases matching filters."""
    with service_for(args) as service:
        found = service.cases(status=args.status, risk=args.risk, village=args.village, overdue=args.overdue)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, default=_bytes_hex))
        return 0
    i18n.set_language(language(args))
    for case in found:
        status, risk = vocab("status", case["status"]), vocab("risk", case["risk"])
        print(
            f"{case['id']}  {pad(status, 11)} {pad(risk, 6)} {case['deadline'] or '-':<10}  "
            f"{case['village']}  {case['summary'][:40]}"
        )
    print(tr(args).t("cli.case.count", count=len(found)))
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    """Show one case with visits, history and conflicts."""
    with service_for(args) as service:
        case = service.case(args.id)
        _print_case(args, case, tr(args).t("case.title", id=case["id"]), officer_names(service))
    return 0


def cmd_case_update(args: argparse.Namespace) -> int:
    """Change fields, status, assignment, or add a note."""
    fields: dict[str, Any] = {}
    for name in ("risk", "village", "category", "source"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.summary is not None:  # as at intake (`fields.summary_problem`): at least 4 characters
        problem = summary_problem(args.summary)
        if problem is not None:
            raise CaseError(f"--summary: {render(problem.code, problem.params, 'en')}", problem)
        fields["summary"] = args.summary.strip()
    if args.deadline is not None:
        fields["deadline"] = _deadline(args.deadline)
    if args.tier is not None and args.status != "escalated":
        fields["tier"] = args.tier
    outcome = {"kind": args.outcome, "terms": args.terms or ""} if args.outcome else None
    referral = (
        {"department": args.department or "", "notified": args.notified or ""} if args.department else None
    )
    with service_for(args) as service:
        if args.assign is not None:
            service.require_device(args.assign)
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
        _print_case(args, case, tr(args).t("cli.case.updated", id=case["id"]), officer_names(service))
    return 0


def cmd_case_reopen(args: argparse.Namespace) -> int:
    """Reopen a case that flared up again."""
    with service_for(args) as service:
        case = service.reopen(args.id, args.reason)
        _print_case(args, case, tr(args).t("cli.case.reopened", id=case["id"]), officer_names(service))
    return 0


def cmd_case_claim(args: argparse.Namespace) -> int:
    """Claim a case."""
    with service_for(args) as service:
        case = service.claim(args.id)
        _print_case(args, case, tr(args).t("cli.case.claimed", id=case["id"]), officer_names(service))
    return 0


def cmd_case_approve(args: argparse.Namespace) -> int:
    """Approve a pending escalation (supervisor)."""
    with service_for(args) as service:
        case = service.approve_escalation(args.id)
        _print_case(args, case, tr(args).t("cli.case.approved", id=case["id"]), officer_names(service))
    return 0


def _visit_time(text: str) -> int | None:
    """`--at "YYYY-MM-DD HH:MM"` (or `HH:MM`, today) in this device's time zone, as the app shows
    times: checked as the visit dialog checks it (`fields.visit_time_problem`: not in the future,
    at most `fields.VISIT_BACKDATE_DAYS` back; empty: now); refused in both languages."""
    now = datetime.now().astimezone()  # one moment for the check and the value
    problem = visit_time_problem(text, now)
    if problem is not None:
        raise CaseError(f"--at {text}: " + render(problem.code, problem.params, "en"), problem)
    return visit_time(text, now)


def cmd_visit_add(args: argparse.Namespace) -> int:
    """Log a visit."""
    occurred = _visit_time(args.at) if args.at is not None else None  # checked before the store is opened
    with service_for(args) as service:
        case = service.add_visit(args.id, args.kind, args.note, args.place, args.participants, occurred)
        i18n.set_language(language(args))
        headline = tr(args).t("cli.visit.logged", kind=vocab("visit", args.kind), id=case["id"])
        _print_case(args, case, headline, officer_names(service))
    return 0


def cmd_state_hash(args: argparse.Namespace) -> int:
    """Print the digest of the materialized view."""
    with service_for(args) as service:
        print(service.state_hash())
        i18n.set_language(language(args))
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
    translator = tr(args)
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
        raise CaseError(
            f"Cannot read {args.file}: {exc.strerror}.",
            key="cli.error.read_file",
            params={"file": str(args.file), "why": str(exc.strerror)},
        ) from None
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
        t = tr(args).t
        print(t("cli.ops.applied", applied=report.applied, duplicates=report.duplicates))
        for r in refused:
            print(
                t("cli.ops.refused", author=r["author"], seq=r["seq"], why=rejection_text(r, language(args)))
            )
        if report.held_back:
            print(t("cli.ops.held_back", count=report.held_back))
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add the case, visit, state-hash and ops commands to the parser."""
    case = sub.add_parser("case", help="record and read cases").add_subparsers(
        dest="case_command", metavar="ACTION", required=True
    )
    p = case.add_parser("new", help="record an intake")
    common(p)
    p.add_argument(
        "--village", required=True, help="the village or community, e.g. 东岭村 (at most 80 characters)"
    )
    p.add_argument(
        "--category", required=True, choices=model.CATEGORIES, metavar="CATEGORY", help=CATEGORY_HELP
    )
    p.add_argument(
        "--risk",
        required=True,
        choices=model.RISKS,
        help="risk level: red (the highest; only a supervisor closes a red case), orange, "
        "yellow (the lowest)",
    )
    p.add_argument(
        "--summary",
        required=True,
        metavar="TEXT",
        help="what happened and between whom: 4 to 4000 characters, e.g. 田界纠纷",
    )
    p.add_argument(
        "--party",
        action="append",
        default=[],
        metavar="NAME[:PHONE]",
        help="a party, e.g. 张某某:13800000000: the name, then after a colon the phone if known (5 to 20 "
        "digits, a + may come first); once per party; at least one unless --category hazard",
    )
    p.add_argument(
        "--source",
        default="patrol",
        choices=model.SOURCES,
        metavar="SOURCE",
        help=SOURCES_HELP + "; default: patrol",
    )
    p.add_argument(
        "--flag",
        action="append",
        default=[],
        choices=model.FLAGS,
        metavar="FLAG",
        help="a risk flag, once per flag: petition_threat (threatens to petition), violence_risk (risk of "
        "violence), vulnerable_person, repeat_calls (repeated calls about it)",
    )
    p.add_argument(
        "--deadline",
        metavar="YYYY-MM-DD",
        help="the deadline: a day from today (China Standard Time) to two years ahead",
    )
    p.set_defaults(handler=cmd_case_new)

    p = case.add_parser("list", help="list cases")
    common(p)
    p.add_argument("--status", choices=model.STATUSES, metavar="STATUS", help=STATUS_FILTER_HELP)
    p.add_argument("--risk", choices=model.RISKS, help=RISK_FILTER_HELP)
    p.add_argument("--village", help="only cases of this village (its exact name)")
    p.add_argument("--overdue", action="store_true", help="past the deadline and not resolved")
    p.set_defaults(handler=cmd_case_list)

    p = case.add_parser("show", help="one case with visits, history and conflicts")
    common(p)
    p.add_argument("id", metavar="CASE_ID", help=CASE_ID_HELP)
    p.set_defaults(handler=cmd_case_show)

    p = case.add_parser("update", help="change a case")
    common(p)
    p.add_argument("id", metavar="CASE_ID", help=CASE_ID_HELP)
    p.add_argument(
        "--status",
        choices=model.STATUSES[1:],
        metavar="STATUS",
        help="the new status: in_progress, escalated (with --tier), referred (with --department and "
        "--notified), resolved (with --outcome, once a visit is logged), closed (a case red since it was "
        "last opened: by a supervisor only)",
    )
    p.add_argument("--reason", help="why the status changes")
    p.add_argument(
        "--risk",
        choices=model.RISKS,
        help="the risk level now: red (the highest), orange, yellow (the lowest)",
    )
    p.add_argument(
        "--tier",
        type=int,
        choices=model.TIERS,
        help="who handles it: 1 the station's workstation, 2 a joint team, 3 the mediation room; with "
        "--status escalated: the tier escalated to, 2 or 3 (an officer's escalation awaits a supervisor's "
        "approval)",
    )
    p.add_argument(
        "--assign",
        metavar="DEVICE_ID",
        help="supervisor: hand the case to this officer's device (`fieldapp device list` shows the ids)",
    )
    p.add_argument(
        "--deadline",
        metavar="YYYY-MM-DD",
        help="supervisor: the deadline, a day from today (China Standard Time) to two years ahead",
    )
    p.add_argument(
        "--note", metavar="TEXT", help="add a note to the case's history (at most 4000 characters)"
    )
    p.add_argument("--village", help="correct the case's village (at most 80 characters)")
    p.add_argument("--category", choices=model.CATEGORIES, metavar="CATEGORY", help=CATEGORY_HELP)
    p.add_argument("--summary", metavar="TEXT", help="a new summary: 4 to 4000 characters, as at intake")
    p.add_argument("--source", choices=model.SOURCES, metavar="SOURCE", help=SOURCES_HELP)
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
        p.add_argument("id", metavar="CASE_ID", help=CASE_ID_HELP)
        p.set_defaults(handler=handler)
    p = case.add_parser("reopen", help="reopen a resolved or closed case")
    common(p)
    p.add_argument("id", metavar="CASE_ID", help=CASE_ID_HELP)
    p.add_argument(
        "--reason", required=True, metavar="TEXT", help="what flared up again: why the case is reopened"
    )
    p.set_defaults(handler=cmd_case_reopen)

    visit = sub.add_parser("visit", help="log visits").add_subparsers(
        dest="visit_command", metavar="ACTION", required=True
    )
    p = visit.add_parser("add", help="log a visit on a case")
    common(p)
    p.add_argument("id", metavar="CASE_ID", help=CASE_ID_HELP)
    p.add_argument(
        "--kind",
        required=True,
        choices=model.VISIT_KINDS,
        help="home (a home visit), phone (a call), mediation (a mediation session), follow_up (after a "
        "resolution: marks the next pending follow-up done), field (at the place of the dispute)",
    )
    p.add_argument(
        "--note", required=True, metavar="TEXT", help="what was said or found (at most 4000 characters)"
    )
    p.add_argument(
        "--place", default="", help="where, e.g. the applicant's home, group 3 (at most 80 characters)"
    )
    p.add_argument("--participants", default="", help="who took part, e.g. both parties, grid member")
    p.add_argument(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when the visit happened (HH:MM: today; local time; at most "
        f"{VISIT_BACKDATE_DAYS} days back, never in the future); default: now",
    )
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
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="the file to write, e.g. on a USB stick (an existing file is replaced)",
    )
    p.add_argument(
        "--plaintext",
        action="store_true",
        help="write names and phones in clear (readable by anyone with the file)",
    )
    p.set_defaults(handler=cmd_ops_export)
    p = ops.add_parser("import", help="verify and merge an operations file")
    common(p)
    p.add_argument(
        "file", type=Path, metavar="FILE", help="a file `fieldapp ops export` wrote (encrypted or plaintext)"
    )
    p.set_defaults(handler=cmd_ops_import)
