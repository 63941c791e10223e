"""Command line: `fieldapp agreement`, the printable people's mediation agreement of a case."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from fieldapp.cli.cases import AddCommon, service_for, tr
from fieldapp.core.service import CaseService, officer_names
from fieldapp.core.station import mediation_org
from fieldapp.i18n import reports as _strings  # noqa: F401  (registers the export strings)
from fieldapp.outputs.agreement import agreement_html
from fieldapp.outputs.exports import check_writable, write_new


def station_name(service: CaseService) -> str:
    """The name of the station this device is enrolled at ("" before it joins one)."""
    anchor = service.replica.anchor
    return anchor.station_name if anchor is not None else ""


def cmd_agreement(args: argparse.Namespace) -> int:
    """Write the mediation agreement of a resolved case as an HTML page to print."""
    check_writable([args.out], args.force)  # before unlocking: a refusal costs no passphrase
    lang = args.lang or "zh"  # the document is Chinese unless asked otherwise
    with service_for(args) as service:
        case = service.case(args.case_id)
        org = args.mediation_org if args.mediation_org is not None else mediation_org(service)
        data = agreement_html(case, officer_names(service), org, lang)
    write_new({str(args.out): data}, args.force)
    if args.json:
        print(json.dumps({"path": str(args.out), "case": case["id"]}, ensure_ascii=False))
    else:
        t = tr(args).t  # the user's language, not the document's
        print(t("agreement.wrote", case=case["id"], path=args.out))
        print(t("export.not_encrypted"))
    return 0


def register(sub: Any, common: AddCommon) -> None:
    """Add the agreement command to the parser."""
    p = sub.add_parser(
        "agreement", help="write the people's mediation agreement (人民调解协议书) of a resolved case"
    )
    common(p)
    p.add_argument(
        "case_id",
        metavar="CASE_ID",
        help="the case's id, as `fieldapp case list` shows it; the case must be resolved with `fieldapp "
        "case update --outcome agreement`",
    )
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument(
        "--mediation-org",
        "--station-name",
        dest="mediation_org",
        metavar="NAME",
        help="the people's mediation committee (人民调解委员会) to print; default: what "
        "`fieldapp station set --mediation-org` set on this device, else a blank line",
    )
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=cmd_agreement)
