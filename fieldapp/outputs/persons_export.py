"""The persons of an export (issue 17; docs/exports.md, "Persons"): one row per person who is a
party to an exported case, from the device's person index (`fieldapp.domain.person_index`).

Persons leave a device only from a supervisor's (docs/persons.md, "Privacy"): `exported_persons`
gives None on any other device, and the export then has no persons sheet (and says so) or refuses a
persons file. Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from fieldapp.core.service import CaseService
from fieldapp.domain.documents import PublicCase
from fieldapp.domain.person_index import Person, PersonIndex
from fieldapp.i18n import Translator
from fieldapp.i18n import reports as _strings  # noqa: F401  (registers the export strings)
from fieldapp.outputs.exports import Cell, Names, Table

PERSON_COLUMNS = (
    "person_id",
    "person_names",
    "person_aliases",
    "person_phones",
    "person_villages",
    "person_key",
    "person_plan",
    "person_officer",
    "person_due",
    "person_cases",
    "person_open",
    "person_case_ids",
)


def persons_of_cases(index: PersonIndex, case_ids: Iterable[str]) -> list[Person]:
    """The persons who are a party to any of these cases (by the index's identity: a mobile or a
    link; never a name alone): key persons first, then those with most cases, then by id."""
    of_case = index.case_persons()
    ids = {pid for case_id in case_ids for pid in of_case.get(case_id, ())}
    found = [person for pid in ids if (person := index.get(pid)) is not None]
    return sorted(found, key=lambda p: (not p.key, -len(p.cases), p.id))


def exported_persons(service: CaseService, cases: Sequence[PublicCase]) -> list[Person] | None:
    """The persons of `cases` for an export, or None on a device that is not a supervisor's
    (persons leave a device only from the supervisor's)."""
    if not service.is_supervisor:
        return None
    return persons_of_cases(service.person_index(), (c["id"] for c in cases))


def _day(text: str | None) -> date | str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text  # as recorded (the merge checks the form; an older version's may differ)


def person_table(persons: Sequence[Person], lang: str, names: Names) -> Table:
    """Header and one row per person: id, names, other ids, mobiles, villages, key person, plan,
    officer responsible, due date, cases, open cases, case ids (newest first).

    Names and villages are separated by `export.party_sep` ("；" or "; ": a name may hold a comma);
    the counts and case ids are of all the person's cases on this device, not only those exported.
    """
    tr = Translator(lang)
    sep, party_sep = tr.t("export.list_sep"), tr.t("export.party_sep")
    rows: list[list[Cell]] = [
        [
            person.id,
            party_sep.join(person.names),
            sep.join(person.aliases),
            sep.join(person.phones),
            party_sep.join(person.villages),
            tr.t("export.person_key_yes") if person.key else "",
            person.plan or "",
            names(person.officer) if person.officer else "",
            _day(person.due),
            len(person.cases),
            person.open_cases,
            sep.join(c.id for c in person.cases),
        ]
        for person in persons
    ]
    return [tr.t(f"export.col.{c}") for c in PERSON_COLUMNS], rows
