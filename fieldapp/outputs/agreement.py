"""The people's mediation agreement (人民调解协议书) of a resolved case, ready to print.

Pure functions over a case as `CaseService.case()` presents it: `agreement_html` gives
a self-contained HTML page (inline CSS for A4, no scripts, nothing fetched), and
`agreement_text` the same content as plain text for a preview. What the app does not
record (sex, age, address, how and by when the terms are carried out, the number of
copies, the signatures and the date of signing) is left as blank lines to fill by hand.

Only a case resolved (or later closed) with the outcome "agreement" has one; any other
case is refused with `AgreementError`, whose message says how to record the agreement.
Every piece of text that people typed is escaped with `html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from fieldapp.domain import model
from fieldapp.domain.documents import HistoryEntry, Outcome, PublicCase
from fieldapp.i18n import Translator, normalise_language
from fieldapp.i18n import agreement as _strings  # noqa: F401  (registers the agreement strings)
from fieldapp.i18n import case as _case_strings  # noqa: F401  (registers outcome names)
from fieldapp.outputs.exports import local_time

Names = Callable[[str], str]
#: The statuses a case has once it has an outcome.
DONE = ("resolved", "closed")


class AgreementError(ValueError):
    """No agreement can be made for this case; the message says what to do.

    `key` and `params` let a screen show the message in its own language:
    `exc.message(lang)`; `str(exc)` is the English message (what the CLI prints).
    """

    code = "agreement_error"

    def __init__(self, key: str, **params: str) -> None:
        self.key = key
        self.params = params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        """The message in `lang` ("zh" or "en")."""
        tr = Translator(lang)
        params = dict(self.params)
        status = params.get("status", "")
        params["status"] = tr.t(f"status.{status}").lower() if tr.has(f"status.{status}") else status
        outcome = params.get("outcome")
        if outcome is not None:
            key = f"case.outcome.{outcome}" if outcome else "agreement.outcome.none"
            params["outcome"] = tr.t(key) if tr.has(key) else outcome
        return tr.t(self.key, **params)


def check_agreement(case: PublicCase) -> None:
    """Raise AgreementError unless the case was resolved with a mediation agreement."""
    status = str(case.get("status", ""))
    outcome: Outcome | dict[str, str] = case.get("outcome") or {}
    if case.get("reopened") and outcome.get("kind") != "agreement":
        # The reopening ended the earlier outcome: an agreement signed before it no longer holds.
        raise AgreementError("agreement.error.reopened", id=str(case["id"]), status=status)
    if status not in DONE:
        raise AgreementError("agreement.error.not_done", id=str(case["id"]), status=status)
    if outcome.get("kind") != "agreement":
        raise AgreementError(
            "agreement.error.not_agreement",
            id=str(case["id"]),
            status=status,
            outcome=outcome.get("kind") or "",
        )
    if reopened_after_agreement(case):
        reopened = case.get("reopened")
        moment = local_time(reopened.get("at") if reopened else None, None)
        at = f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""
        raise AgreementError("agreement.error.reopened_after", id=str(case["id"]), at=at)


def agreement_stands(case: PublicCase | None) -> bool:
    """True if the case has a mediation agreement to print now (what `g` is offered on)."""
    if case is None:
        return False
    try:
        check_agreement(case)
    except AgreementError:
        return False
    return True


def _history(case: PublicCase) -> list[HistoryEntry]:
    """The case's timeline when it has one (a `ShownCase`), else none."""
    entries = case.get("history")  # not a key of PublicCase: read as `object`
    return entries if isinstance(entries, list) else []


def reopened_after_agreement(case: PublicCase) -> bool:
    """True if the case's latest reopening came after the resolution that recorded its agreement.

    Read from the case's own fields (`reopened`) and timeline (`history`, when the case has one),
    so it holds whether a reopening keeps the old outcome or ends it. Without a timeline, a
    reopened case whose status is resolved or closed is taken to have been resolved again after.
    """
    if not case.get("reopened"):
        return False
    entries = _history(case)
    reopens = [int(e.get("hlc", 0)) for e in entries if e.get("kind") == "case.reopen"]
    agreed = [
        int(e.get("hlc", 0))
        for e in entries
        if e.get("kind") == "case.status"
        and (e.get("what") or {}).get("status") == "resolved"
        and ((e.get("what") or {}).get("outcome") or {}).get("kind") == "agreement"
    ]
    if not reopens:
        return False
    return not agreed or max(reopens) > max(agreed)


def free_path(path: Path) -> Path:
    """Where to write an agreement without replacing one: `path` if nothing is there, else
    the first of NAME-2.EXT, NAME-3.EXT, ... that is free."""
    if not path.exists():
        return path
    n = 2
    while (candidate := path.with_name(f"{path.stem}-{n}{path.suffix}")).exists():
        n += 1
    return candidate


@dataclass(frozen=True)
class _Party:
    name: str
    role: str
    phone: str


@dataclass(frozen=True)
class _Content:
    """What the agreement says, in its language, not yet escaped."""

    lang: str
    case_id: str
    #: The people's mediation committee named on the agreement ("" : a line to fill by hand).
    org: str
    parties: list[_Party]
    category: str
    village: str
    summary: str
    terms: str
    sessions: list[str]
    #: The mediation by a tier-2 team or tier-3 room the case was escalated to, one line each.
    teams: list[str]
    mediators: list[str]


def _when(moment: datetime, lang: str) -> str:
    if lang == "zh":
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"
    return f"{moment:%Y-%m-%d %H:%M}"


def _lines(text: str) -> str:
    """Text with its line breaks kept, as `\\n` only, without trailing blank lines."""
    return "\n".join(
        line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ).strip("\n")


def _teams(case: PublicCase, tr: Translator, lang: str, tz: tzinfo | None) -> list[str]:
    """Where the case was escalated for mediation (tier 2 or 3), from its timeline, oldest first.

    A case without a timeline but with a tier names that tier alone.
    """
    lines: list[str] = []
    for entry in _history(case):
        what = entry.get("what") or {}
        if entry.get("kind") != "case.status" or what.get("status") != "escalated":
            continue
        tier = what.get("tier")
        if tier not in (2, 3):
            continue
        moment = local_time(entry.get("at"), tz)
        day = _when(moment, lang).split(" ")[0] if moment is not None else ""
        lines.append(tr.t("agreement.record.team", tier=tr.t(f"case.tier.{tier}"), date=day).strip())
    if not lines and case.get("tier") in (2, 3):
        lines.append(tr.t("agreement.record.team_only", tier=tr.t(f"case.tier.{case.get('tier')}")))
    return lines


def _content(case: PublicCase, names: Names, org: str, lang: str, tz: tzinfo | None) -> _Content:
    check_agreement(case)
    tr = Translator(lang)

    def term(key: str, value: str) -> str:
        return tr.t(key) if tr.has(key) else value

    parties = [
        _Party(
            name=str(p.get("name", "")).strip(),
            role=term(f"agreement.role.{p.get('role') or 'party'}", str(p.get("role", ""))),
            phone=str(p.get("phone", "")).strip(),
        )
        for p in case.get("parties", [])
    ]
    mediations = sorted(
        (v for v in case.get("visits", []) if v.get("kind") == "mediation"),
        key=model.visit_order,
    )
    sessions = []
    authors: list[str] = []
    for visit in mediations:
        moment = local_time(model.visit_moment(visit), tz)  # when it happened
        when = _when(moment, lang) if moment is not None else ""
        place = str(visit.get("place", "")).strip()
        if place:
            when += f"（{place}）" if lang == "zh" else f" ({place})"
        sessions.append(when)
        if visit.get("author") and visit["author"] not in authors:
            authors.append(visit["author"])
    return _Content(
        lang=lang,
        case_id=str(case["id"]),
        org=org.strip(),
        parties=parties,
        category=term(f"category.{case.get('category')}", str(case.get("category", ""))),
        village=str(case.get("village", "")).strip(),
        summary=_lines(str(case.get("summary", ""))),
        terms=_lines(str(outcome.get("terms", "") if (outcome := case.get("outcome")) else "")),
        sessions=sessions,
        teams=_teams(case, tr, lang, tz),
        mediators=[names(author) for author in authors],
    )


# ---------------------------------------------------------------- HTML

#: How many of the terms' last lines print on the page of the signatures, at least.
TERMS_KEPT_WITH_SIGNATURES = 2

# Sized so that the usual agreement (two parties, a few lines of terms, a few sessions) fits one
# A4 page in Chromium (`tests/test_agreement_print.py`). The terms' last lines, the performance,
# the closing and the signatures form one block (`.end`) that never breaks across pages, so a
# long agreement moves that block to the next page with the end of its terms instead of leaving
# the signatures and seal alone there.
_CSS = """
@page { size: A4; margin: 15mm 18mm; }
* { box-sizing: border-box; }
body {
  font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", "Noto Serif SC",
    "STSong", "Times New Roman", serif;
  font-size: 11pt; line-height: 1.5; color: #000; background: #fff; margin: 0;
}
@media screen { body { max-width: 174mm; margin: 12mm auto; padding: 0 6mm; } }
h1 { text-align: center; font-size: 18pt; margin: 0 0 0.3em; }
:lang(zh) h1 { letter-spacing: 0.3em; }
h2 { font-size: 11pt; font-weight: bold; margin: 0.6em 0 0.15em; }
h2 { break-after: avoid; page-break-after: avoid; }
.meta { display: flex; justify-content: space-between; gap: 2em; margin-bottom: 0.2em; }
.meta .number { margin-left: auto; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.party { margin: 0 0 0.3em; break-inside: avoid; page-break-inside: avoid; }
table.party caption { text-align: left; font-weight: bold; }
td { padding: 0.05em 0.3em; vertical-align: bottom; overflow-wrap: anywhere; }
td.label { width: 5.5em; white-space: nowrap; padding-left: 0; }
:lang(en) td.label { width: 6.5em; }
:lang(en) table.facts td.label { width: 8.5em; }
td.value { border-bottom: 1px solid #000; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.1em 0 0.1em 2em; }
.terms { orphans: 2; widows: 2; }
.fill { border-bottom: 1px solid #000; height: 1.6em; margin-left: 2em; }
.blank { display: inline-block; min-width: 3em; border-bottom: 1px solid #000; }
.blank.wide { min-width: 10em; }
ol { margin: 0.1em 0 0.1em 2em; padding-left: 1.5em; }
.closing p { text-indent: 2em; margin: 0.2em 0; }
.end { break-inside: avoid; page-break-inside: avoid; }
.signatures { margin-top: 0.8em; break-inside: avoid; page-break-inside: avoid; }
.signatures p { margin: 0.4em 0 0.1em; }
.signatures .signer { display: inline-block; min-width: 36%; margin: 0.8em 1.5em 0.1em 2em; }
.signatures .seal { margin-top: 3em; display: flex; justify-content: space-between; gap: 2em; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _blank(wide: bool = False) -> str:
    return f'<span class="blank{" wide" if wide else ""}">&nbsp;</span>'


def _cell(text: str, span: int = 1) -> str:
    """A value cell: the text, or an empty line to fill by hand."""
    colspan = f' colspan="{span}"' if span > 1 else ""
    return f'<td class="value"{colspan}>{_e(text) if text else "&nbsp;"}</td>'


def _date_blank(tr: Translator) -> str:
    return _e(tr.t("agreement.date_blank", y="{y}", m="{m}", d="{d}")).format(
        y=_blank(), m=_blank(), d=_blank()
    )


def agreement_html(
    case: PublicCase, names: Names, org: str, lang: str = "zh", tz: tzinfo | None = None
) -> bytes:
    """The agreement as one self-contained UTF-8 HTML page, A4, ready to print and sign.

    `case` as `CaseService.case()` presents it; `names` gives an officer's name from a
    device id (the mediators are the officers who recorded the mediation visits);
    `org` is the people's mediation committee (人民调解委员会) the station set
    (`fieldapp station set --mediation-org NAME`), "" for a line to fill by hand;
    times in local time (or `tz`).
    Raises AgreementError if the case has no mediation agreement to print.
    """
    lang = normalise_language(lang)
    c = _content(case, names, org, lang, tz)
    tr = Translator(lang)
    colon = _e(tr.t("agreement.colon"))

    def label(key: str) -> str:
        return f'<td class="label">{_e(tr.t(key))}{colon}</td>'

    out: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(tr.t('agreement.title'))} {_e(c.case_id)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(tr.t('agreement.title'))}</h1>",
        '<div class="meta">',
        f'<span class="org">{_e(tr.t("agreement.station"))}{colon}'
        f"{_e(c.org) if c.org else _blank(wide=True)}</span>",
        f'<span class="number">{_e(tr.t("agreement.number"))}{colon}{_e(c.case_id)}</span>',
        "</div>",
        f"<h2>{_e(tr.t('agreement.parties'))}</h2>",
    ]
    if not c.parties:
        out.append(f'<p class="text">{_e(tr.t("agreement.no_parties"))}</p>')
    for number, party in enumerate(c.parties or [_Party("", "", "")], start=1):
        out += [
            '<table class="party">',
            f"<caption>{_e(tr.t('agreement.party_no', n=number))}</caption>",
            "<tr>"
            + label("agreement.name")
            + _cell(party.name)
            + label("agreement.role")
            + _cell(party.role)
            + label("agreement.phone")
            + _cell(party.phone)
            + "</tr>",
            "<tr>"
            + label("agreement.sex")
            + _cell("")
            + label("agreement.age")
            + _cell("")
            + label("agreement.address")
            + _cell("")
            + "</tr>",
            "</table>",
        ]
    out += [
        f"<h2>{_e(tr.t('agreement.facts'))}{colon}</h2>",
        '<table class="facts"><tr>'
        + label("agreement.category")
        + _cell(c.category)
        + label("agreement.village")
        + _cell(c.village)
        + "</tr></table>",
        f'<div class="text summary">{_e(c.summary)}</div>',
        f"<h2>{_e(tr.t('agreement.record'))}{colon}</h2>",
    ]
    if c.teams:
        out.append(f'<div class="text teams">{_e(chr(10).join(c.teams))}</div>')
    if c.sessions:
        out.append(f'<p class="text">{_e(tr.t("agreement.record.sessions"))}{colon}</p>')
        out.append('<ol class="sessions">' + "".join(f"<li>{_e(s)}</li>" for s in c.sessions) + "</ol>")
    if not c.teams and not c.sessions:
        out.append(f'<p class="text">{_e(tr.t("agreement.record.none"))}</p>')
    # The terms: all but their last lines before the block that never breaks, the rest in it.
    terms = c.terms.split("\n") if c.terms else [""]
    head, tail = terms[:-TERMS_KEPT_WITH_SIGNATURES], terms[-TERMS_KEPT_WITH_SIGNATURES:]
    terms_title = f"<h2>{_e(tr.t('agreement.terms'))}{colon}</h2>"
    if head:
        out += [terms_title, f'<div class="text terms">{_e(chr(10).join(head))}</div>']
    out.append('<div class="end">')
    if not head:
        out.append(terms_title)
    copies = _e(tr.t("agreement.closing.copies", blank="{blank}")).format(blank=_blank())
    out += [
        f'<div class="text terms">{_e(chr(10).join(tail))}</div>',
        f"<h2>{_e(tr.t('agreement.performance'))}{colon}</h2>",
        '<div class="fill"></div>',
        '<div class="fill"></div>',
        '<div class="closing">',
        f"<p>{copies}</p>",
        f"<p>{_e(tr.t('agreement.closing.effect'))}</p>",
        "</div>",
        '<div class="signatures">',
        f"<p>{_e(tr.t('agreement.sign.parties'))}{colon}</p>",
    ]
    for party in c.parties or [_Party("", "", "")]:
        out.append(f'<span class="signer">{_e(party.name)} {_blank(wide=True)}</span>')
    out.append(f"<p>{_e(tr.t('agreement.sign.mediators'))}{colon}</p>")
    for mediator in c.mediators or [""]:
        out.append(f'<span class="signer">{_e(mediator)} {_blank(wide=True)}</span>')
    committee = (
        tr.t("agreement.sign.committee_named", org=c.org) if c.org else tr.t("agreement.sign.committee")
    )
    out += [
        '<div class="seal">',
        f"<span>{_e(committee)}</span>",
        f"<span>{_e(tr.t('agreement.sign.date'))}{colon}{_date_blank(tr)}</span>",
        "</div>",
        "</div>",
        "</div>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(out).encode("utf-8")


# ---------------------------------------------------------------- plain text

_BLANK = "______"
_WIDE = "__________________"


def agreement_text(
    case: PublicCase, names: Names, org: str, lang: str = "zh", tz: tzinfo | None = None
) -> str:
    """The same agreement as plain text (a preview); blanks are underscores."""
    lang = normalise_language(lang)
    c = _content(case, names, org, lang, tz)
    tr = Translator(lang)
    colon = tr.t("agreement.colon")
    sep = "　" if lang == "zh" else "   "

    def field(key: str, value: str, blank: str = _BLANK) -> str:
        return f"{tr.t(key)}{colon}{value or blank}"

    def indent(text: str) -> list[str]:
        return ["    " + line for line in text.split("\n")] if text else ["    " + _WIDE]

    out = [
        tr.t("agreement.title"),
        field("agreement.number", c.case_id),
        field("agreement.station", c.org, _WIDE),
        "",
        tr.t("agreement.parties"),
    ]
    if not c.parties:
        out.append("    " + tr.t("agreement.no_parties"))
    for number, party in enumerate(c.parties or [_Party("", "", "")], start=1):
        out.append(
            f"  {tr.t('agreement.party_no', n=number)}{colon}"
            + sep.join(
                [
                    field("agreement.name", party.name),
                    field("agreement.role", party.role),
                    field("agreement.phone", party.phone),
                ]
            )
        )
        out.append(
            "    "
            + sep.join(
                [
                    field("agreement.sex", ""),
                    field("agreement.age", ""),
                    field("agreement.address", "", _WIDE),
                ]
            )
        )
    out += [
        "",
        tr.t("agreement.facts") + colon.rstrip(),
        "    " + sep.join([field("agreement.category", c.category), field("agreement.village", c.village)]),
        *indent(c.summary),
        "",
        tr.t("agreement.record") + colon.rstrip(),
        *["    " + line for line in c.teams],
    ]
    if c.sessions:
        out.append("    " + tr.t("agreement.record.sessions") + colon.rstrip())
        out += [f"    {n}. {s}" for n, s in enumerate(c.sessions, start=1)]
    if not c.teams and not c.sessions:
        out.append("    " + tr.t("agreement.record.none"))
    out += [
        "",
        tr.t("agreement.terms") + colon.rstrip(),
        *indent(c.terms),
        "",
        tr.t("agreement.performance") + colon.rstrip(),
        *(["    " + _WIDE * 2] * 2),
        "",
        tr.t("agreement.closing.copies", blank=_BLANK),
        tr.t("agreement.closing.effect"),
        "",
        tr.t("agreement.sign.parties") + colon.rstrip(),
        *[f"    {p.name} {_WIDE}" for p in c.parties or [_Party("", "", "")]],
        tr.t("agreement.sign.mediators") + colon.rstrip(),
        *[f"    {m} {_WIDE}" for m in c.mediators or [""]],
        tr.t("agreement.sign.committee_named", org=c.org) if c.org else tr.t("agreement.sign.committee"),
        f"{tr.t('agreement.sign.date')}{colon}{tr.t('agreement.date_blank', y=_BLANK, m='____', d='____')}",
    ]
    return "\n".join(out) + "\n"
