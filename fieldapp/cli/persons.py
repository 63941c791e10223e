"""Command-line commands about persons across cases: `fieldapp person list|show|link|unlink|key`
(docs/persons.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.cells import cell_len

from fieldapp import i18n
from fieldapp.cli.cases import AddCommon, language, pad, service_for, tr
from fieldapp.core.service import CaseError, officer_names
from fieldapp.domain.fields import deadline_problem
from fieldapp.domain.person_index import Person
from fieldapp.i18n import Translator
from fieldapp.i18n import persons as _strings  # noqa: F401  (registers the persons' strings)
from fieldapp.i18n.rules import render
from fieldapp.tui.case_timeline import NameOf, vocab

#: The list's columns: (catalogue key, what a row shows).
_COLUMNS = ("id", "key", "cases", "open", "village", "name")


def _row(person: Person, t: Translator) -> list[str]:
    return [
        person.id,
        t.t("person.key_yes") if person.key else "",
        str(len(person.cases)),
        str(person.open_cases),
        t.t("person.sep").join(person.villages),
        t.t("person.sep").join(person.names),
    ]


def table(rows: list[list[str]], header: list[str]) -> list[str]:
    """Rows under a header, each column as wide as its widest cell in screen cells (a Chinese
    character takes two), two spaces apart; the last column is not padded."""
    widths = [max(cell_len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join([*(pad(cell, w) for cell, w in zip(r[:-1], widths, strict=False)), r[-1]]).rstrip()
        for r in [header, *rows]
    ]


def cmd_person_list(args: argparse.Namespace) -> int:
    """List the persons of this device's cases."""
    with service_for(args) as service:
        found = service.person_index().persons()
    if args.key:
        found = [p for p in found if p.key]
    if args.village is not None:
        found = [p for p in found if args.village.strip() in p.villages]
    if args.json:
        print(json.dumps([p.as_dict() for p in found], ensure_ascii=False))
        return 0
    t = tr(args)
    header = [t.t(f"person.col.{c}") for c in _COLUMNS]
    for line in table([_row(p, t) for p in found], header):
        print(line)
    print(t.t("person.count", count=len(found)))
    return 0


def cmd_person_show(args: argparse.Namespace) -> int:
    """One person: ids, names, mark and plan, cases, and possible matches."""
    with service_for(args) as service:
        index = service.person_index()
        person = index.get(args.id)
        if person is None:
            typed = args.id.strip().lower()
            raise CaseError(
                f"No person {typed!r} on this device.", key="person.error.unknown", params={"id": typed}
            )
        proposals = index.proposals(person.id)
        disputed = index.disputed_links(person.id)
        if args.json:
            extra = {"proposals": [p.id for p in proposals], "disputed_links": [list(d) for d in disputed]}
            print(json.dumps(person.as_dict() | extra, ensure_ascii=False))
            return 0
        _print_person(args, person, proposals, officer_names(service))  # names read from the open store
        for a, b in disputed:
            print(f"  {tr(args).t('person.disputed', a=a, b=b)}")
    return 0


def _print_person(args: argparse.Namespace, person: Person, proposals: list[Person], name_of: NameOf) -> None:
    i18n.set_language(language(args))  # the vocabulary (status, risk, category) in the command's language
    t = tr(args)
    sep, none = t.t("person.sep"), t.t("person.none")
    print(t.t("person.title", id=person.id))
    lines = []
    if person.aliases:
        lines.append(t.t("person.aliases", ids=sep.join(person.aliases)))
    lines.append(t.t("person.names", names=sep.join(person.names)))
    lines.append(t.t("person.phones", phones=sep.join(person.phones) or none))
    lines.append(t.t("person.villages", villages=sep.join(person.villages)))
    if person.key:
        lines.append(t.t("person.key", plan=person.plan or none))
        if person.officer is None and person.plan_by:  # the writer's own plan (home lists it there)
            lines.append(
                t.t("person.plan_by_writer", officer=name_of(person.plan_by), due=person.due or none)
            )
        else:
            officer = name_of(person.officer) if person.officer else none
            lines.append(t.t("person.plan_by", officer=officer, due=person.due or none))
    else:
        lines.append(t.t("person.not_key"))
    if person.conflicts:
        lines.append(t.t("person.conflicts", count=len(person.conflicts)))
    for line in lines:
        print(f"  {line}")
    print(f"  {t.t('person.cases', count=len(person.cases), open=person.open_cases)}")
    rows = [
        [
            c.id,
            vocab("status", c.status),
            vocab("risk", c.risk),
            vocab("category", c.category),
            c.village,
            name_of(c.officer) if c.officer else none,
        ]
        for c in person.cases
    ]
    for line in table(rows, [""] * 6)[1:] if rows else []:
        print(f"    {line}")
    if proposals:
        print(f"  {t.t('person.proposals')}")
        for line in table([_row(p, t) for p in proposals], [""] * len(_COLUMNS))[1:]:
            print(f"    {line}")


def _link(args: argparse.Namespace, linked: bool) -> int:
    with service_for(args) as service:
        shown = service.link_persons(args.a, args.b, linked=linked)
    a, b = args.a.strip().lower(), args.b.strip().lower()
    data = {"a": a, "b": b, "linked": linked, "person": shown}
    t = tr(args)
    text = t.t("person.linked", a=a, b=b, id=shown) if linked else t.t("person.unlinked", a=a, b=b)
    print(json.dumps(data, ensure_ascii=False) if args.json else text)
    return 0


def cmd_person_link(args: argparse.Namespace) -> int:
    """Confirm that two persons are one."""
    return _link(args, True)


def cmd_person_unlink(args: argparse.Namespace) -> int:
    """Say that two persons are not one (undoes a link; a proposal is no longer made)."""
    return _link(args, False)


def _due(text: str) -> str:
    """`--due YYYY-MM-DD`, checked as a typed deadline is (`fields.deadline_problem`)."""
    problem = deadline_problem(text)
    if problem is not None:
        raise CaseError(f"--due {text}: " + render(problem.code, problem.params, "en"), problem)
    return text.strip()


def cmd_person_key(args: argparse.Namespace) -> int:
    """Mark a key person with a plan, or (supervisor, --off) take them off."""
    due = _due(args.due) if args.due else None
    with service_for(args) as service:
        shown = service.mark_key_person(args.id, args.plan, args.officer, due, key=not args.off)
    t = tr(args)
    data: dict[str, Any] = {"person": shown, "key": not args.off}
    print(
        json.dumps(data) if args.json else t.t("person.unmarked" if args.off else "person.marked", id=shown)
    )
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add the person commands to the parser."""
    group = sub.add_parser("person", help="persons across cases: list, show, link, key persons")
    person = group.add_subparsers(dest="person_command", metavar="ACTION", required=True)
    p = person.add_parser("list", help="the persons of this device's cases")
    common(p)
    p.add_argument("--key", action="store_true", help="only key persons")
    p.add_argument("--village", help="only persons with a case in this village")
    p.set_defaults(handler=cmd_person_list)

    p = person.add_parser("show", help="one person: names, plan, cases, possible matches")
    common(p)
    p.add_argument("id", metavar="PERSON_ID", help="a person id (or one linked to it)")
    p.set_defaults(handler=cmd_person_show)

    p = person.add_parser("link", help="confirm that two persons are one")
    common(p)
    p.add_argument("a", metavar="PERSON_ID", help="a person id")
    p.add_argument("b", metavar="PERSON_ID", help="the other person id")
    p.set_defaults(handler=cmd_person_link)

    p = person.add_parser("unlink", help="say that two persons are not one")
    common(p)
    p.add_argument("a", metavar="PERSON_ID", help="a person id")
    p.add_argument("b", metavar="PERSON_ID", help="the other person id")
    p.set_defaults(handler=cmd_person_unlink)

    p = person.add_parser("key", help="mark a key person and write the plan")
    common(p)
    p.add_argument("id", metavar="PERSON_ID", help="a person id")
    p.add_argument("--plan", help="what is done next")
    p.add_argument("--officer", metavar="DEVICE", help="the officer's device responsible (supervisor)")
    p.add_argument("--due", metavar="YYYY-MM-DD", help="by when")
    p.add_argument("--off", action="store_true", help="no longer a key person (supervisor)")
    p.set_defaults(handler=cmd_person_key)
